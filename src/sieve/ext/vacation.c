/* The vacation and vacation-seconds extensions (RFC 5230, RFC 6131): the
 * vacation command produces a SIEVE_ACTION_VACATION with the reply's
 * parameters; the engine applies the rules of RFC 5230 §4.5-§4.6 that
 * need only the message (no reply to automatic or list mail, to the
 * null sender, to the user's own addresses, or when the user is not an
 * explicit recipient) by marking the action suppressed. Sending and the
 * duplicate-response database are the caller's. */
#include "sieve-run.h"
#include "mime-address.h"

#include <strings.h>

#define DAY (24 * 3600)
/* RFC 5230 §4.1: 7 days by default, at least one day */
#define VACATION_DEFAULT_PERIOD (7 * DAY)
#define VACATION_MAX_PERIOD (90 * DAY)

static int validate_vacation(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *from = sieve_node_tag_value(node, "from");

	if (sieve_node_has_tag(node, "days") && sieve_node_has_tag(node, "seconds")) {
		*error_r = "vacation takes only one of :days and :seconds";
		return -1;
	}
	if (from != NULL && !sieve_validator_string_is_dynamic(validator, from->strings[0])) {
		struct mime_address_list list = { NULL, NULL, 0 };

		mime_address_parse(t_pool(), from->strings[0], strlen(from->strings[0]),
				   2, 0, &list);
		if (list.count != 1 || list.head->invalid || list.head->domain == NULL) {
			*error_r = t_strdup_printf("vacation: invalid :from address \"%s\"",
						   from->strings[0]);
			return -1;
		}
	}
	return 0;
}

static uint64_t vacation_period(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *days = sieve_node_tag_value(node, "days");
	const struct sieve_ast_arg *seconds = sieve_node_tag_value(node, "seconds");
	const struct sieve_env *env = run->env;
	uint64_t min = env->vacation_min_period, max = env->vacation_max_period;
	uint64_t period = VACATION_DEFAULT_PERIOD;

	if (max == 0)
		max = VACATION_MAX_PERIOD;
	if (days != NULL) {
		period = days->number > max / DAY ? max : days->number * DAY;
		/* RFC 5230 §4.1: :days 0 is one day (RFC 6131 §2 allows 0
		   only through :seconds) */
		if (period == 0)
			period = DAY;
	} else if (seconds != NULL) {
		period = seconds->number;
	}
	if (period < min)
		period = min;
	return period > max ? max : period;
}

/* Is address one of the user's? Returns the address as the user knows it
   (for the reply's From), or NULL. */
static const char *address_user(struct sieve_run *run, const struct sieve_ast_node *node,
				const char *address)
{
	const struct sieve_ast_arg *addresses = sieve_node_tag_value(node, "addresses");
	const char *recipient, *error;

	if (run->msg->v->get_envelope(run->msg->context, SIEVE_ENVELOPE_TO,
				      &recipient, &error) > 0 &&
	    strcasecmp(recipient, address) == 0)
		return recipient;
	if (run->env->vacation_use_original_recipient &&
	    run->msg->v->get_envelope(run->msg->context, SIEVE_ENVELOPE_ORIG_TO,
				      &recipient, &error) > 0 &&
	    strcasecmp(recipient, address) == 0)
		return recipient;
	for (const char *const *a = run->env->user_addresses; a != NULL && *a != NULL; a++) {
		if (strcasecmp(*a, address) == 0)
			return *a;
	}
	if (addresses != NULL) {
		const char *const *list;
		unsigned int count = sieve_run_strings(run, addresses, &list);

		for (unsigned int i = 0; i < count; i++) {
			if (strcasecmp(list[i], address) == 0)
				return list[i];
		}
	}
	return NULL;
}

static bool address_is_user(struct sieve_run *run, const struct sieve_ast_node *node,
			    const char *address)
{
	return address_user(run, node, address) != NULL;
}

/* RFC 5230 §4.5: the user must be an explicit recipient in these. 1 with
   the user's address found, 0 not found, -1 error. */
static int user_is_recipient(struct sieve_run *run, const struct sieve_ast_node *node,
			     const char **address_r)
{
	static const char *const headers[] = {
		"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc",
	};

	for (unsigned int i = 0; i < N_ELEMENTS(headers); i++) {
		const char *const *values;

		if (sieve_run_get_headers(run, node, headers[i], &values) < 0)
			return -1;
		for (; *values != NULL; values++) {
			struct mime_address_list list = { NULL, NULL, 0 };

			mime_address_parse(run->tmp_pool, *values, strlen(*values),
					   run->limits.max_addresses, 0, &list);
			for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
				if (a->domain == NULL || a->invalid)
					continue;
				*address_r = address_user(run, node, t_strconcat(a->mailbox, "@",
										 a->domain, NULL));
				if (*address_r != NULL)
					return 1;
			}
		}
	}
	return 0;
}

/* Microsoft's X-Auto-Response-Suppress: a list of response kinds the
   sender does not want; "All" or "OOF" (out of office) rule out a
   vacation reply. */
static bool auto_response_suppressed(const char *value)
{
	while (*value != '\0') {
		size_t len;

		value += strspn(value, ", \t");
		len = strcspn(value, ", \t");
		if ((len == 3 && strncasecmp(value, "all", 3) == 0) ||
		    (len == 3 && strncasecmp(value, "oof", 3) == 0))
			return true;
		value += len;
	}
	return false;
}

static int header_first(struct sieve_run *run, const struct sieve_ast_node *node,
			const char *name, const char **value_r)
{
	const char *const *values;

	if (sieve_run_get_headers(run, node, name, &values) < 0)
		return -1;
	*value_r = values[0] == NULL ? NULL : sieve_header_value_prepare(run->pool, values[0]);
	return 0;
}

/* RFC 5230 §4.6 (and RFC 3834 §2): mail that must not be answered */
static int automatic_reason(struct sieve_run *run, const struct sieve_ast_node *node,
			    const char *sender, const char **reason_r)
{
	static const char *const list_headers[] = {
		"list-id", "list-help", "list-subscribe", "list-unsubscribe",
		"list-post", "list-owner", "list-archive",
	};
	static const char *const system_senders[] = {
		"mailer-daemon", "listserv", "majordomo", "owner-*", "*-request",
		"*-owner", "postmaster", "noreply", "no-reply",
	};
	const char *value, *at = strchr(sender, '@');
	const char *local = at == NULL ? sender : t_strndup(sender, (size_t)(at - sender));

	if (header_first(run, node, "auto-submitted", &value) < 0)
		return -1;
	if (value != NULL && strcasecmp(value, "no") != 0)
		return (*reason_r = "auto-submitted message", 1);
	if (header_first(run, node, "precedence", &value) < 0)
		return -1;
	if (value != NULL && (strcasecmp(value, "bulk") == 0 || strcasecmp(value, "list") == 0 ||
			      strcasecmp(value, "junk") == 0))
		return (*reason_r = "bulk or list message (Precedence)", 1);
	if (header_first(run, node, "x-auto-response-suppress", &value) < 0)
		return -1;
	if (value != NULL && auto_response_suppressed(value))
		return (*reason_r = "the sender asked for no automatic replies "
			"(X-Auto-Response-Suppress)", 1);
	for (unsigned int i = 0; i < N_ELEMENTS(list_headers); i++) {
		if (header_first(run, node, list_headers[i], &value) < 0)
			return -1;
		if (value != NULL)
			return (*reason_r = "mailing list message", 1);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(system_senders); i++) {
		if (sieve_match(SIEVE_COMPARATOR_ASCII_CASEMAP, SIEVE_MATCH_MATCHES,
				local, system_senders[i]))
			return (*reason_r = "sender is a system or list address", 1);
	}
	return 0;
}

static int vacation_check(struct sieve_run *run, const struct sieve_ast_node *node,
			  struct sieve_vacation *vac)
{
	const char *sender, *error, *reason = NULL;
	int ret = run->msg->v->get_envelope(run->msg->context, SIEVE_ENVELOPE_FROM,
					    &sender, &error);

	if (ret < 0)
		return sieve_run_error(run, node, "failed to read the envelope: %s", error);
	if (ret == 0 || sender[0] == '\0') {
		vac->suppress_reason = "no sender to reply to (null Return-Path)";
		return 0;
	}
	vac->recipient = p_strdup(run->pool, sender);
	if (address_is_user(run, node, sender)) {
		vac->suppress_reason = "the sender is the user";
		return 0;
	}
	if ((ret = automatic_reason(run, node, sender, &reason)) != 0) {
		vac->suppress_reason = reason;
		return ret < 0 ? -1 : 0;
	}
	if ((ret = user_is_recipient(run, node, &vac->reply_from)) < 0)
		return -1;
	if (ret == 0 && !run->env->vacation_dont_check_recipient) {
		vac->suppress_reason = "the user is not an explicit recipient";
		return 0;
	}
	if (vac->reply_from != NULL)
		vac->reply_from = p_strdup(run->pool, vac->reply_from);
	return 0;
}

/* RFC 5230 §4.2: without :handle, replies differing in these are
   different vacations */
static const char *vacation_default_handle(const struct sieve_vacation *vac)
{
	const char *text = t_strconcat(vac->reason, "\n", vac->subject == NULL ? "" : vac->subject,
				       "\n", vac->from == NULL ? "" : vac->from,
				       vac->mime ? "\nmime" : "", NULL);
	uint64_t hash = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		hash = (hash ^ *p) * 1099511628211ULL;
	return t_strdup_printf("tern-vacation-%016llx", (unsigned long long)hash);
}

static const char *tag_string(struct sieve_run *run, const struct sieve_ast_node *node,
			      const char *name)
{
	const struct sieve_ast_arg *arg = sieve_node_tag_value(node, name);

	return arg == NULL ? NULL : p_strdup(run->pool, sieve_run_string(run, arg));
}

static int exec_vacation(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_vacation *vac = p_new(run->pool, struct sieve_vacation, 1);
	struct sieve_action action = { .type = SIEVE_ACTION_VACATION, .vacation = vac };

	vac->reason = p_strdup(run->pool, sieve_run_string(run, node->positional[0]));
	vac->subject = tag_string(run, node, "subject");
	vac->from = tag_string(run, node, "from");
	vac->mime = sieve_node_has_tag(node, "mime");
	vac->handle = tag_string(run, node, "handle");
	if (vac->handle == NULL)
		vac->handle = p_strdup(run->pool, vacation_default_handle(vac));
	vac->period_secs = vacation_period(run, node);
	if (header_first(run, node, "message-id", &vac->original_message_id) < 0 ||
	    header_first(run, node, "subject", &vac->original_subject) < 0 ||
	    vacation_check(run, node, vac) < 0)
		return -1;
	return sieve_run_add_action(run, node, &action);
}

#define S SIEVE_ARG_STRING

static const struct sieve_tag_def vacation_tags[] = {
	{ .name = "days", .value = SIEVE_ARG_NUMBER },
	{ .name = "seconds", .value = SIEVE_ARG_NUMBER, .extension = "vacation-seconds" },
	{ .name = "subject", .value = S },
	{ .name = "from", .value = S },
	{ .name = "addresses", .value = SIEVE_ARG_STRING_LIST },
	{ .name = "mime" },
	{ .name = "handle", .value = S },
	{ .name = NULL },
};

static const struct sieve_command_def vacation_commands[] = {
	{ .identifier = "vacation", .positional = { S }, .tags = vacation_tags,
	  .validate = validate_vacation, .execute = exec_vacation },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_vacation = {
	.name = "vacation", .commands = vacation_commands,
};

static const char *const vacation_seconds_implies[] = { "vacation", NULL };

const struct sieve_extension_def sieve_ext_vacation_seconds = {
	.name = "vacation-seconds", .implies = vacation_seconds_implies,
};
