/* The RFC 5228 base language as the extension without a name: require,
 * if/elsif/else, stop, keep, discard, redirect (§3, §4) and the tests
 * address, header, exists, size, allof, anyof, not, true, false (§5). */
#include "sieve-run.h"
#include "mime-address.h"

#include <strings.h>

static const char *const address_headers[] = {
	/* RFC 5228 §5.1 requires these ... */
	"from", "to", "cc", "bcc", "sender", "resent-from", "resent-to",
	/* ... and allows other headers holding addresses */
	"reply-to", "resent-cc", "resent-bcc", "resent-sender", "resent-reply-to",
	"return-path", "delivered-to", "errors-to", "envelope-to", "x-original-to",
	"disposition-notification-to", "original-recipient", "mail-followup-to",
	"mail-reply-to", "x-envelope-to", "x-delivered-to", "approved-by",
	NULL
};

/* RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII). A ':' is
   let through as other implementations do: no field has one in its name,
   so the test is simply false. */
int sieve_validate_header_names(const struct sieve_ast_arg *arg, const char **error_r)
{
	for (unsigned int i = 0; i < arg->string_count; i++) {
		const unsigned char *p = (const unsigned char *)arg->strings[i];

		if (*p == '\0')
			goto invalid;
		if (strstr(arg->strings[i], "${") != NULL)
			continue; /* a variable: checked when run */
		for (; *p != '\0'; p++) {
			if (*p <= 32 || *p >= 127)
				goto invalid;
		}
		continue;
	invalid:
		*error_r = t_strdup_printf("invalid header name \"%s\"", arg->strings[i]);
		return -1;
	}
	return 0;
}

static int validate_header(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	if (sieve_mime_validate_node(validator, node, error_r) < 0 ||
	    sieve_index_validate(node, error_r) < 0)
		return -1;
	return sieve_validate_header_names(node->positional[0], error_r);
}

/* RFC 5228 §5.1: the address test only works on headers with addresses. */
static int validate_address(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	if (sieve_mime_validate_node(validator, node, error_r) < 0 ||
	    sieve_index_validate(node, error_r) < 0 ||
	    sieve_validate_header_names(arg, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < arg->string_count; i++) {
		unsigned int j;

		if (sieve_validator_string_is_dynamic(validator, arg->strings[i]))
			continue;
		for (j = 0; address_headers[j] != NULL; j++) {
			if (strcasecmp(address_headers[j], arg->strings[i]) == 0)
				break;
		}
		if (address_headers[j] == NULL) {
			*error_r = t_strdup_printf("header '%s' holds no addresses: not "
						   "allowed in the address test",
						   arg->strings[i]);
			return -1;
		}
	}
	return 0;
}

/* RFC 5322 addresses are ASCII; an 8-bit address (RFC 6532) needs
   SMTPUTF8 all the way to the target, which a redirect cannot promise. */
static bool redirect_address_is_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return false;
	}
	return true;
}

/* RFC 5228 §4.2: the address must be a valid RFC 5322 address; a
   name-addr ("Name" <a@b>) is accepted and reduced to its addr-spec.
   Returns the normalised address, or NULL if invalid. */
static const char *redirect_address_normalise(pool_t pool, const char *address)
{
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_address_parse(pool, address, strlen(address), 2, 0, &list);
	if (list.count != 1 || list.head->invalid || list.head->domain == NULL ||
	    list.head->mailbox[0] == '\0' || list.head->domain[0] == '\0' ||
	    list.head->route != NULL ||
	    !redirect_address_is_ascii(list.head->mailbox) ||
	    !redirect_address_is_ascii(list.head->domain))
		return NULL;
	return p_strconcat(pool, sieve_address_local_quote(pool, list.head->mailbox), "@",
			   list.head->domain, NULL);
}

static int validate_redirect(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r)
{
	const char *address = node->positional[0]->strings[0];

	if (sieve_validator_string_is_dynamic(validator, address))
		return 0;
	if (redirect_address_normalise(t_pool(), address) == NULL) {
		*error_r = t_strdup_printf("invalid redirect address \"%s\"", address);
		return -1;
	}
	return 0;
}

/* RFC 5228 §5.9: exactly one of :over and :under. */
static int validate_size(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r)
{
	if (sieve_node_has_tag(node, "over") == sieve_node_has_tag(node, "under")) {
		*error_r = "size needs exactly one of :over and :under";
		return -1;
	}
	return 0;
}

/* --- commands --- */

static int exec_stop(struct sieve_run *run, const struct sieve_ast_node *node)
{
	sieve_run_stop(run);
	return 0;
}

static int exec_keep(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_action action = {
		.type = SIEVE_ACTION_KEEP,
		.flags = sieve_imap4flags_for_action(run, node),
	};

	return sieve_run_add_action(run, node, &action);
}

static int exec_discard(struct sieve_run *run, const struct sieve_ast_node *node)
{
	sieve_run_cancel_implicit_keep(run);
	return 0;
}

static int exec_redirect(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *address = sieve_run_string(run, node->positional[0]);
	struct sieve_action action = {
		.type = SIEVE_ACTION_REDIRECT,
		.target = redirect_address_normalise(run->pool, address),
		.copy = sieve_node_has_tag(node, "copy"),
	};

	if (action.target == NULL)
		return sieve_run_error(run, node, "invalid redirect address \"%s\"", address);
	return sieve_run_add_action(run, node, &action);
}

/* --- tests --- */

static int test_header(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	const char *const *names, *const *values;
	unsigned int count = sieve_run_strings(run, node->positional[0], &names);
	int ret = 0;

	for (unsigned int i = 0; i < count && ret == 0; i++) {
		if (sieve_run_get_headers(run, node, names[i], &values) < 0)
			return -1;
		for (; *values != NULL && ret == 0; values++) {
			const char *value = sieve_header_value_prepare(run->tmp_pool, *values);

			if (sieve_node_has_tag(node, "mime"))
				ret = sieve_mime_match_header(run, node, match, names[i], value);
			else
				ret = sieve_run_match_value(match, value);
		}
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static int test_address(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	const char *const *names, *const *values;
	unsigned int count = sieve_run_strings(run, node->positional[0], &names);
	int ret = 0;

	for (unsigned int i = 0; i < count && ret == 0; i++) {
		if (sieve_run_get_headers(run, node, names[i], &values) < 0)
			return -1;
		for (; *values != NULL && ret == 0; values++)
			ret = sieve_match_address_header(run, node, match, *values);
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static int test_exists(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *const *names, *const *values;
	unsigned int count = sieve_run_strings(run, node->positional[0], &names);

	for (unsigned int i = 0; i < count; i++) {
		if (sieve_run_get_headers(run, node, names[i], &values) < 0)
			return -1;
		if (values[0] == NULL)
			return 0;
	}
	return 1;
}

static int test_size(struct sieve_run *run, const struct sieve_ast_node *node)
{
	uint64_t size, limit = node->positional[0]->number;
	const char *error;

	if (run->msg->v->get_size(run->msg->context, &size, &error) < 0)
		return sieve_run_error(run, node, "failed to read the message size: %s", error);
	/* editheader's changes count (RFC 5293 §7: later tests see them) */
	if (run->size_delta < 0 && (uint64_t)-run->size_delta > size)
		size = 0;
	else
		size = (uint64_t)((int64_t)size + run->size_delta);
	/* RFC 5228 §5.9: strict comparisons */
	return sieve_node_has_tag(node, "over") ? size > limit : size < limit;
}

static int test_allof(struct sieve_run *run, const struct sieve_ast_node *node)
{
	bool all = strcasecmp(node->def->identifier, "allof") == 0;

	for (unsigned int i = 0; i < node->tests.count; i++) {
		int ret = sieve_run_test(run, node->tests.v[i]);

		if (ret < 0)
			return -1;
		if ((ret > 0) != all)
			return all ? 0 : 1;
	}
	return all ? 1 : 0;
}

static int test_not(struct sieve_run *run, const struct sieve_ast_node *node)
{
	int ret = sieve_run_test(run, node->tests.v[0]);

	return ret < 0 ? -1 : !ret;
}

static int test_true(struct sieve_run *run, const struct sieve_ast_node *node)
{
	return 1;
}

static const struct sieve_tag_def size_tags[] = {
	{ .name = "over" },
	{ .name = "under" },
	{ .name = NULL },
};

#define MATCH_FLAGS (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | \
		     SIEVE_CMD_FLAG_MATCH_TYPE)
#define SL SIEVE_ARG_STRING_LIST

/* require, if, elsif and else first: the validator and the interpreter
   recognise them by address (sieve-commands.h) */
const struct sieve_command_def sieve_base_commands[] = {
	{ .identifier = "require", .positional = { SL },
	  .validate = sieve_validate_require },
	{ .identifier = "if", .flags = SIEVE_CMD_FLAG_BLOCK, .tests = SIEVE_TESTS_ONE },
	{ .identifier = "elsif", .flags = SIEVE_CMD_FLAG_BLOCK, .tests = SIEVE_TESTS_ONE,
	  .validate = sieve_validate_elsif },
	{ .identifier = "else", .flags = SIEVE_CMD_FLAG_BLOCK,
	  .validate = sieve_validate_elsif },
	{ .identifier = "stop", .execute = exec_stop },
	{ .identifier = "keep", .execute = exec_keep },
	{ .identifier = "discard", .execute = exec_discard },
	{ .identifier = "redirect", .positional = { SIEVE_ARG_STRING },
	  .validate = validate_redirect, .execute = exec_redirect },
	{ .identifier = "address", .flags = MATCH_FLAGS | SIEVE_CMD_FLAG_ADDRESS_PART,
	  .positional = { SL, SL }, .positional_names = { "header list", "key list" },
	  .validate = validate_address, .execute = test_address },
	{ .identifier = "header", .flags = MATCH_FLAGS, .positional = { SL, SL },
	  .positional_names = { "header names", "key list" },
	  .validate = validate_header, .execute = test_header },
	{ .identifier = "exists", .flags = SIEVE_CMD_FLAG_TEST, .positional = { SL },
	  .positional_names = { "header names" },
	  .validate = validate_header, .execute = test_exists },
	{ .identifier = "size", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SIEVE_ARG_NUMBER }, .tags = size_tags,
	  .validate = validate_size, .execute = test_size },
	{ .identifier = "allof", .flags = SIEVE_CMD_FLAG_TEST, .tests = SIEVE_TESTS_LIST,
	  .execute = test_allof },
	{ .identifier = "anyof", .flags = SIEVE_CMD_FLAG_TEST, .tests = SIEVE_TESTS_LIST,
	  .execute = test_allof },
	{ .identifier = "not", .flags = SIEVE_CMD_FLAG_TEST, .tests = SIEVE_TESTS_ONE,
	  .execute = test_not },
	{ .identifier = "true", .flags = SIEVE_CMD_FLAG_TEST, .execute = test_true },
	{ .identifier = "false", .flags = SIEVE_CMD_FLAG_TEST },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_base = {
	.name = NULL, .commands = sieve_base_commands,
};
