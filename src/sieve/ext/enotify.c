/* The enotify extension (RFC 5435) with the mailto method (RFC 5436):
 * notify produces a SIEVE_ACTION_NOTIFY for the caller to send;
 * valid_notify_method and notify_method_capability (§4-§5). Only mailto
 * URIs are supported; ext/mailto.c checks their syntax (RFC 6068). */
#include "sieve-run.h"
#include "mime-address.h"

#include <ctype.h>
#include <strings.h>

static bool address_valid(const char *addr)
{
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_address_parse(t_pool(), addr, strlen(addr), 2, 0, &list);
	return list.count == 1 && !list.head->invalid && list.head->domain != NULL &&
		list.head->mailbox[0] != '\0' && list.head->domain[0] != '\0';
}

static bool mailto_valid(const char *uri, const char **error_r)
{
	struct sieve_mailto *mailto;

	if (sieve_mailto_parse(t_pool(), uri, &mailto, error_r) < 0) {
		*error_r = t_strdup_printf("invalid mailto URI '%s': %s", uri, *error_r);
		return false;
	}
	return true;
}

/* RFC 5435 §3.4: option = optionname "=" optionvalue, the name
   ALPHA/DIGIT then ALPHA/DIGIT/"."/"-", the value without CR and LF */
static bool notify_option_valid(const char *option)
{
	const char *p = option;

	if (!isalnum((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
		p++;
	return *p == '=' && strpbrk(p, "\r\n") == NULL;
}

static bool notify_method_valid(const char *uri, const char **error_r)
{
	const char *colon = strchr(uri, ':');

	if (colon == NULL || colon == uri)
		return (*error_r = "notification method is not a URI", false);
	if (strncasecmp(uri, "mailto:", 7) != 0) {
		*error_r = t_strdup_printf("unsupported notification method \"%s\"",
					   t_strndup(uri, (size_t)(colon - uri)));
		return false;
	}
	return mailto_valid(uri, error_r);
}

static int validate_notify(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	const char *method = node->positional[0]->strings[0];
	const struct sieve_ast_arg *importance = sieve_node_tag_value(node, "importance");
	const struct sieve_ast_arg *from = sieve_node_tag_value(node, "from");

	const struct sieve_ast_arg *options = sieve_node_tag_value(node, "options");

	/* RFC 5435 §3.1: a method known at compile time is checked then */
	if (!sieve_validator_string_is_dynamic(validator, method) &&
	    !notify_method_valid(method, error_r))
		return -1;
	for (unsigned int i = 0; options != NULL && i < options->string_count; i++) {
		if (!sieve_validator_string_is_dynamic(validator, options->strings[i]) &&
		    !notify_option_valid(options->strings[i])) {
			*error_r = t_strdup_printf("notify: invalid :options value '%s'",
						   options->strings[i]);
			return -1;
		}
	}
	if (importance != NULL &&
	    !sieve_validator_string_is_dynamic(validator, importance->strings[0]) &&
	    (strlen(importance->strings[0]) != 1 ||
	     strchr("123", importance->strings[0][0]) == NULL)) {
		*error_r = ":importance must be \"1\", \"2\" or \"3\"";
		return -1;
	}
	if (from != NULL && !sieve_validator_string_is_dynamic(validator, from->strings[0]) &&
	    !address_valid(from->strings[0])) {
		*error_r = t_strdup_printf("notify: invalid :from address \"%s\"",
					   from->strings[0]);
		return -1;
	}
	return 0;
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

static int exec_notify(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *from = sieve_node_tag_value(node, "from");
	const struct sieve_ast_arg *importance = sieve_node_tag_value(node, "importance");
	const struct sieve_ast_arg *options = sieve_node_tag_value(node, "options");
	const struct sieve_ast_arg *message = sieve_node_tag_value(node, "message");
	struct sieve_notify *notify = p_new(run->pool, struct sieve_notify, 1);
	struct sieve_action action = { .type = SIEVE_ACTION_NOTIFY, .notify = notify };
	static const char *const no_options[] = { NULL };
	const char *error;

	struct sieve_mailto *mailto;
	const char *value;

	notify->method = p_strdup(run->pool, sieve_run_string(run, node->positional[0]));
	if (!notify_method_valid(notify->method, &error) ||
	    sieve_mailto_parse(run->pool, notify->method, &mailto, &error) < 0)
		return sieve_run_error(run, node, "notify: %s", error);
	notify->mailto = mailto;
	/* RFC 5436 §2.7: no notifications about automatic messages */
	if (header_first(run, node, "auto-submitted", &value) < 0)
		return -1;
	if (value != NULL && strcasecmp(value, "no") != 0)
		notify->suppress_reason = "auto-submitted message";
	notify->from = from == NULL ? NULL : p_strdup(run->pool, sieve_run_string(run, from));
	notify->importance = importance == NULL ? "2" :
		p_strdup(run->pool, sieve_run_string(run, importance));
	if (strlen(notify->importance) != 1 || strchr("123", notify->importance[0]) == NULL)
		notify->importance = "2";
	notify->message = message == NULL ? NULL :
		p_strdup(run->pool, sieve_run_string(run, message));
	notify->options = no_options;
	if (options != NULL)
		(void)sieve_run_strings(run, options, (const char *const **)&notify->options);
	for (unsigned int i = 0; notify->options[i] != NULL; i++) {
		if (!notify_option_valid(notify->options[i]))
			return sieve_run_error(run, node, "notify: invalid :options value '%s'",
					       notify->options[i]);
	}
	return sieve_run_add_action(run, node, &action);
}

static int test_valid_notify_method(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *const *uris, *error;
	unsigned int count = sieve_run_strings(run, node->positional[0], &uris);

	for (unsigned int i = 0; i < count; i++) {
		if (!notify_method_valid(uris[i], &error))
			return 0;
	}
	return 1;
}

/* RFC 5435 §5: "online" is the one capability; RFC 5436 §3: for mailto
   it is "maybe" */
static int test_notify_method_capability(struct sieve_run *run,
					 const struct sieve_ast_node *node)
{
	const char *uri = sieve_run_string(run, node->positional[0]);
	const char *cap = sieve_run_string(run, node->positional[1]), *error;
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[2]);

	if (!notify_method_valid(uri, &error) || strcasecmp(cap, "online") != 0)
		return 0;
	if (sieve_run_match_value(match, "maybe") < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static const struct sieve_tag_def notify_tags[] = {
	{ .name = "from", .value = SIEVE_ARG_STRING },
	{ .name = "importance", .value = SIEVE_ARG_STRING },
	{ .name = "options", .value = SIEVE_ARG_STRING_LIST },
	{ .name = "message", .value = SIEVE_ARG_STRING },
	{ .name = NULL },
};

static const struct sieve_command_def enotify_commands[] = {
	{ .identifier = "notify", .positional = { SIEVE_ARG_STRING }, .tags = notify_tags,
	  .validate = validate_notify, .execute = exec_notify },
	{ .identifier = "valid_notify_method", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SIEVE_ARG_STRING_LIST }, .execute = test_valid_notify_method },
	{ .identifier = "notify_method_capability",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING, SIEVE_ARG_STRING_LIST },
	  .execute = test_notify_method_capability },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_enotify = {
	.name = "enotify", .commands = enotify_commands,
};
