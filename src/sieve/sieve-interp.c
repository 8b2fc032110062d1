/* Sieve interpreter: walks the validated tree, evaluating tests (RFC 5228
 * §5) and collecting actions (§4) with the implicit keep (§2.10.2),
 * duplicate suppression (§2.10.3) and the action limits of §2.10.5. */
#include "sieve-interp.h"
#include "sieve-commands.h"
#include "mime-address.h"
#include "mime-encoded-word.h"

#include <strings.h>

#define SIEVE_DEFAULT_MAX_ACTIONS 32
#define SIEVE_DEFAULT_MAX_REDIRECTS 4
#define SIEVE_DEFAULT_MAX_ADDRESSES 256

struct sieve_interp {
	const struct sieve_message *msg;
	pool_t pool, tmp_pool;
	struct sieve_exec_limits limits;
	struct sieve_result *result;
	unsigned int action_count, redirect_count;
	bool implicit_keep, stopped;
	const char *error;
};

typedef int sieve_exec_fn(struct sieve_interp *interp, const struct sieve_ast_node *node);

static int interp_fail(struct sieve_interp *interp, const struct sieve_ast_node *node,
		       const char *error)
{
	interp->error = p_strdup_printf(interp->pool, "line %u: %s", node->line, error);
	return -1;
}

/* --- actions --- */

static bool action_is_keep(const struct sieve_action *action)
{
	/* fileinto "INBOX" stores where keep does (RFC 5228 §2.10.3) */
	return action->type == SIEVE_ACTION_KEEP ||
		(action->type == SIEVE_ACTION_FILEINTO && strcasecmp(action->target, "INBOX") == 0);
}

static bool action_is_duplicate(const struct sieve_action *a, const struct sieve_action *b)
{
	if (action_is_keep(a) && action_is_keep(b))
		return true;
	if (a->type != b->type || a->type == SIEVE_ACTION_KEEP)
		return false;
	if (a->type == SIEVE_ACTION_REDIRECT)
		return strcasecmp(a->target, b->target) == 0;
	return a->type == SIEVE_ACTION_FILEINTO && strcmp(a->target, b->target) == 0;
}

static bool action_is_reject(enum sieve_action_type type)
{
	return type == SIEVE_ACTION_REJECT || type == SIEVE_ACTION_EREJECT;
}

/* RFC 5429 §2.1: a reject cannot go with actions that deliver. */
static const char *action_conflict(const struct sieve_action *a, const struct sieve_action *b)
{
	if (action_is_reject(a->type) && action_is_reject(b->type))
		return "reject given more than once";
	if (action_is_reject(a->type) != action_is_reject(b->type))
		return "reject cannot be combined with keep, fileinto or redirect";
	return NULL;
}

static int interp_add_action(struct sieve_interp *interp, const struct sieve_ast_node *node,
			     enum sieve_action_type type, const char *target, bool copy)
{
	struct sieve_action new_action = {
		.type = type, .copy = copy, .line = node->line,
		.target = target == NULL ? NULL : p_strdup(interp->pool, target),
	};
	const char *conflict;

	if (type != SIEVE_ACTION_FILEINTO && type != SIEVE_ACTION_REDIRECT)
		new_action.copy = false;
	if (!new_action.copy)
		interp->implicit_keep = false;
	for (unsigned int i = 0; i < interp->result->actions.count; i++) {
		struct sieve_action *old = &interp->result->actions.v[i];

		if ((conflict = action_conflict(old, &new_action)) != NULL)
			return interp_fail(interp, node, conflict);
		if (action_is_duplicate(old, &new_action)) {
			/* the stronger form wins: without :copy it cancelled
			   the implicit keep already */
			old->copy = old->copy && new_action.copy;
			return 0;
		}
	}
	if (++interp->action_count > interp->limits.max_actions) {
		return interp_fail(interp, node, t_strdup_printf(
			"too many actions (limit %u)", interp->limits.max_actions));
	}
	if (type == SIEVE_ACTION_REDIRECT &&
	    ++interp->redirect_count > interp->limits.max_redirects) {
		return interp_fail(interp, node, t_strdup_printf(
			"too many redirects (limit %u)", interp->limits.max_redirects));
	}
	array_push(&interp->result->actions, new_action);
	return 0;
}

static bool node_has_copy(const struct sieve_ast_node *node)
{
	return node->tags[0] != NULL;
}

static int exec_keep(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return interp_add_action(interp, node, SIEVE_ACTION_KEEP, NULL, false);
}

static int exec_discard(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	interp->implicit_keep = false;
	return 0;
}

static int exec_stop(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	interp->stopped = true;
	return 0;
}

static int exec_redirect(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return interp_add_action(interp, node, SIEVE_ACTION_REDIRECT,
				 node->positional[0]->strings[0], node_has_copy(node));
}

static int exec_fileinto(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return interp_add_action(interp, node, SIEVE_ACTION_FILEINTO,
				 node->positional[0]->strings[0], node_has_copy(node));
}

static int exec_reject(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return interp_add_action(interp, node,
		node->def->id == SIEVE_CMD_REJECT ? SIEVE_ACTION_REJECT : SIEVE_ACTION_EREJECT,
		node->positional[0]->strings[0], false);
}

/* --- tests --- */

static int interp_test(struct sieve_interp *interp, const struct sieve_ast_node *node);

static bool match_keys(const struct sieve_ast_node *node, const char *value)
{
	const struct sieve_ast_arg *keys = node->positional[node->positional_count - 1];

	for (unsigned int i = 0; i < keys->string_count; i++) {
		if (sieve_match(node->comparator, node->match_type, value, keys->strings[i]))
			return true;
	}
	return false;
}

static int interp_get_headers(struct sieve_interp *interp, const struct sieve_ast_node *node,
			      const char *name, const char *const **values_r)
{
	const char *error;

	if (interp->msg->v->get_headers(interp->msg->context, name, values_r, &error) < 0)
		return interp_fail(interp, node, t_strdup_printf(
			"failed to read header %s: %s", name, error));
	return 0;
}

/* RFC 5228 §5.7: header values are compared unfolded and with RFC 2047
   encoded words decoded; surrounding whitespace is not part of them. */
static const char *header_value_prepare(pool_t pool, const char *value)
{
	size_t len;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (!mime_encoded_word_has_words(value, len))
		return p_strndup(pool, value, len);
	string_t *dest = str_new(pool, len + 16);
	mime_encoded_word_decode(value, len, dest);
	return str_c(dest);
}

static int test_header(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *names = node->positional[0];
	const char *const *values;

	for (unsigned int i = 0; i < names->string_count; i++) {
		if (interp_get_headers(interp, node, names->strings[i], &values) < 0)
			return -1;
		for (; *values != NULL; values++) {
			if (match_keys(node, header_value_prepare(interp->tmp_pool, *values)))
				return 1;
		}
	}
	return 0;
}

static int test_exists(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *names = node->positional[0];
	const char *const *values;

	for (unsigned int i = 0; i < names->string_count; i++) {
		if (interp_get_headers(interp, node, names->strings[i], &values) < 0)
			return -1;
		if (values[0] == NULL)
			return 0;
	}
	return 1;
}

/* RFC 5228 §2.7.4; NULL when the part does not exist. */
static const char *address_part(pool_t pool, enum sieve_address_part part,
				const char *localpart, const char *domain)
{
	switch (part) {
	case SIEVE_ADDRESS_ALL:
		return domain[0] == '\0' ? localpart : p_strconcat(pool, localpart, "@", domain, NULL);
	case SIEVE_ADDRESS_LOCALPART:
		return localpart;
	case SIEVE_ADDRESS_DOMAIN:
		return domain;
	}
	i_unreached();
}

static bool address_header_matches(struct sieve_interp *interp,
				   const struct sieve_ast_node *node, const char *value)
{
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_address_parse(interp->tmp_pool, value, strlen(value),
			   interp->limits.max_addresses, 0, &list);
	for (const struct mime_address *addr = list.head; addr != NULL; addr = addr->next) {
		const char *part;

		if (addr->domain == NULL)
			continue; /* group marker */
		if (addr->invalid || addr->mailbox[0] == '\0') {
			/* an unparsable address has no local part or
			   domain; :all still sees the raw text */
			if (node->address_part != SIEVE_ADDRESS_ALL)
				continue;
			part = header_value_prepare(interp->tmp_pool, value);
		} else {
			part = address_part(interp->tmp_pool, node->address_part,
					    addr->mailbox, addr->domain);
		}
		if (match_keys(node, part))
			return true;
	}
	return false;
}

static int test_address(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *names = node->positional[0];
	const char *const *values;

	for (unsigned int i = 0; i < names->string_count; i++) {
		if (interp_get_headers(interp, node, names->strings[i], &values) < 0)
			return -1;
		for (; *values != NULL; values++) {
			if (address_header_matches(interp, node, *values))
				return 1;
		}
	}
	return 0;
}

static int test_envelope(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *parts = node->positional[0];

	for (unsigned int i = 0; i < parts->string_count; i++) {
		enum sieve_envelope_part part = strcasecmp(parts->strings[i], "from") == 0 ?
			SIEVE_ENVELOPE_FROM : SIEVE_ENVELOPE_TO;
		const char *value, *error, *at, *local, *domain;
		int ret = interp->msg->v->get_envelope(interp->msg->context, part,
						       &value, &error);

		if (ret < 0)
			return interp_fail(interp, node, t_strdup_printf(
				"failed to read the envelope: %s", error));
		if (ret == 0)
			continue;
		/* RFC 5228 §5.4: the null reverse-path is "" for every
		   address part */
		at = strrchr(value, '@');
		local = at == NULL ? value : p_strndup(interp->tmp_pool, value,
						       (size_t)(at - value));
		domain = at == NULL ? "" : at + 1;
		if (match_keys(node, value[0] == '\0' ? "" :
			       address_part(interp->tmp_pool, node->address_part, local, domain)))
			return 1;
	}
	return 0;
}

static int test_size(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	uint64_t size, limit = node->positional[0]->number;
	const char *error;

	if (interp->msg->v->get_size(interp->msg->context, &size, &error) < 0)
		return interp_fail(interp, node, t_strdup_printf(
			"failed to read the message size: %s", error));
	/* tags[0] is :over, tags[1] :under (RFC 5228 §5.9: strict) */
	return node->tags[0] != NULL ? size > limit : size < limit;
}

static int test_allof(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	bool all = node->def->id == SIEVE_TEST_ALLOF;

	for (unsigned int i = 0; i < node->tests.count; i++) {
		int ret = interp_test(interp, node->tests.v[i]);

		if (ret < 0)
			return -1;
		if ((ret > 0) != all)
			return all ? 0 : 1;
	}
	return all ? 1 : 0;
}

static int test_not(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	int ret = interp_test(interp, node->tests.v[0]);

	return ret < 0 ? -1 : !ret;
}

static int test_true(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return node->def->id == SIEVE_TEST_TRUE ? 1 : 0;
}

static sieve_exec_fn *const handlers[SIEVE_COMMAND_COUNT] = {
	[SIEVE_CMD_STOP] = exec_stop,
	[SIEVE_CMD_KEEP] = exec_keep,
	[SIEVE_CMD_DISCARD] = exec_discard,
	[SIEVE_CMD_REDIRECT] = exec_redirect,
	[SIEVE_CMD_FILEINTO] = exec_fileinto,
	[SIEVE_CMD_REJECT] = exec_reject,
	[SIEVE_CMD_EREJECT] = exec_reject,
	[SIEVE_TEST_ADDRESS] = test_address,
	[SIEVE_TEST_ENVELOPE] = test_envelope,
	[SIEVE_TEST_HEADER] = test_header,
	[SIEVE_TEST_EXISTS] = test_exists,
	[SIEVE_TEST_SIZE] = test_size,
	[SIEVE_TEST_ALLOF] = test_allof,
	[SIEVE_TEST_ANYOF] = test_allof,
	[SIEVE_TEST_NOT] = test_not,
	[SIEVE_TEST_TRUE] = test_true,
	[SIEVE_TEST_FALSE] = test_true,
};

/* Returns 1 true, 0 false, -1 error. */
static int interp_test(struct sieve_interp *interp, const struct sieve_ast_node *node)
{
	return handlers[node->def->id](interp, node);
}

/* --- control (RFC 5228 §3) --- */

static int interp_block(struct sieve_interp *interp, const struct sieve_ast_node *block)
{
	/* an if/elsif chain already took a branch */
	bool chain_done = false;

	for (unsigned int i = 0; i < block->block.count && !interp->stopped; i++) {
		const struct sieve_ast_node *cmd = block->block.v[i];
		enum sieve_command_id id = cmd->def->id;
		int ret;

		if (id == SIEVE_CMD_REQUIRE)
			continue;
		if (id != SIEVE_CMD_IF && id != SIEVE_CMD_ELSIF && id != SIEVE_CMD_ELSE) {
			if (handlers[id](interp, cmd) < 0)
				return -1;
			continue;
		}
		if (id == SIEVE_CMD_IF)
			chain_done = false;
		if (chain_done)
			continue;
		ret = id == SIEVE_CMD_ELSE ? 1 : interp_test(interp, cmd->tests.v[0]);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			chain_done = true;
			if (interp_block(interp, cmd) < 0)
				return -1;
		}
	}
	return 0;
}

static void result_add_implicit_keep(struct sieve_result *result)
{
	struct sieve_action keep = { .type = SIEVE_ACTION_KEEP, .implicit = true };

	for (unsigned int i = 0; i < result->actions.count; i++) {
		if (action_is_keep(&result->actions.v[i]))
			return;
	}
	array_push(&result->actions, keep);
}

int sieve_execute(const struct sieve_ast *ast, const struct sieve_message *msg,
		  const struct sieve_exec_limits *limits, pool_t pool,
		  struct sieve_result **result_r, const char **error_r)
{
	struct sieve_interp interp = {
		.msg = msg, .pool = pool, .implicit_keep = true,
	};
	int ret;

	if (limits != NULL)
		interp.limits = *limits;
	if (interp.limits.max_actions == 0)
		interp.limits.max_actions = SIEVE_DEFAULT_MAX_ACTIONS;
	if (interp.limits.max_redirects == 0)
		interp.limits.max_redirects = SIEVE_DEFAULT_MAX_REDIRECTS;
	if (interp.limits.max_addresses == 0)
		interp.limits.max_addresses = SIEVE_DEFAULT_MAX_ADDRESSES;
	interp.result = p_new(pool, struct sieve_result, 1);
	array_init(&interp.result->actions, pool, 4);
	interp.tmp_pool = pool_create("sieve execute", 4096);

	ret = interp_block(&interp, ast->root);
	pool_destroy(&interp.tmp_pool);
	if (ret < 0) {
		/* RFC 5228 §2.10.6: on a runtime error, keep the message */
		array_clear(&interp.result->actions);
		result_add_implicit_keep(interp.result);
		*error_r = interp.error;
	} else if (interp.implicit_keep) {
		result_add_implicit_keep(interp.result);
	} else if (interp.result->actions.count == 0) {
		struct sieve_action discard = { .type = SIEVE_ACTION_DISCARD };
		array_push(&interp.result->actions, discard);
	}
	*result_r = interp.result;
	return ret;
}

void sieve_result_write(string_t *dest, const struct sieve_result *result)
{
	static const char *const names[] = {
		[SIEVE_ACTION_KEEP] = "keep",
		[SIEVE_ACTION_FILEINTO] = "fileinto",
		[SIEVE_ACTION_REDIRECT] = "redirect",
		[SIEVE_ACTION_REJECT] = "reject",
		[SIEVE_ACTION_EREJECT] = "ereject",
		[SIEVE_ACTION_DISCARD] = "discard",
	};

	for (unsigned int i = 0; i < result->actions.count; i++) {
		const struct sieve_action *action = &result->actions.v[i];

		if (i > 0)
			str_append_c(dest, '\n');
		str_append(dest, names[action->type]);
		if (action->implicit)
			str_append(dest, ":implicit");
		if (action->copy)
			str_append(dest, ":copy");
		if (action->target != NULL) {
			str_append_c(dest, ' ');
			sieve_ast_write_string(dest, action->target);
		}
	}
}
