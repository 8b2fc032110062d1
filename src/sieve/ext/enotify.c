/* The enotify extension (RFC 5435) with the mailto method (RFC 5436):
 * notify produces a SIEVE_ACTION_NOTIFY for the caller to send;
 * valid_notify_method and notify_method_capability (§4-§5). Only mailto
 * URIs are supported; their syntax is checked here (RFC 6068). */
#include "sieve-run.h"
#include "mime-address.h"

#include <strings.h>

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes str[0..len) into a new string; NULL if malformed. */
static const char *uri_decode(const char *str, size_t len)
{
	string_t *dest = t_str_new(len + 1);

	for (size_t i = 0; i < len; i++) {
		if (str[i] != '%') {
			str_append_c(dest, str[i]);
			continue;
		}
		if (i + 2 >= len)
			return NULL;
		int hi = hexval(str[i + 1]), lo = hexval(str[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return NULL;
		str_append_c(dest, (char)(hi * 16 + lo));
		i += 2;
	}
	return str_c(dest);
}

static bool address_valid(const char *addr)
{
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_address_parse(t_pool(), addr, strlen(addr), 2, 0, &list);
	return list.count == 1 && !list.head->invalid && list.head->domain != NULL &&
		list.head->mailbox[0] != '\0' && list.head->domain[0] != '\0';
}

/* RFC 6068 §2: mailto:[addr *("," addr)]["?" hfield *("&" hfield)] with at
   least one recipient somewhere ("to" header field counts) */
static bool mailto_valid(const char *uri, const char **error_r)
{
	const char *p = uri + 7, *q = strchr(p, '?');
	size_t to_len = q == NULL ? strlen(p) : (size_t)(q - p);
	unsigned int recipients = 0;

	while (to_len > 0) {
		const char *comma = memchr(p, ',', to_len);
		size_t len = comma == NULL ? to_len : (size_t)(comma - p);
		const char *addr = uri_decode(p, len);

		if (addr == NULL || !address_valid(addr))
			return (*error_r = "invalid mailto recipient", false);
		recipients++;
		p += len;
		to_len -= len;
		if (comma != NULL) {
			p++;
			to_len--;
		}
	}
	for (const char *h = q; h != NULL && *h != '\0'; ) {
		const char *eq = strchr(h + 1, '='), *amp = strchr(h + 1, '&');

		if (eq == NULL || (amp != NULL && amp < eq))
			return (*error_r = "invalid mailto header field", false);
		if (eq == h + 1)
			return (*error_r = "empty mailto header field name", false);
		if ((size_t)(eq - h - 1) == 2 && strncasecmp(h + 1, "to", 2) == 0)
			recipients++;
		h = amp;
	}
	if (recipients == 0)
		return (*error_r = "mailto URI without recipient", false);
	return true;
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

	/* only the scheme at compile time; a malformed URI is a runtime
	   error (RFC 5435 §3.1 lets either happen) */
	if (!sieve_validator_string_is_dynamic(validator, method) &&
	    !notify_method_valid(method, error_r) && strncasecmp(method, "mailto:", 7) != 0)
		return -1;
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

	notify->method = p_strdup(run->pool, sieve_run_string(run, node->positional[0]));
	if (!notify_method_valid(notify->method, &error))
		return sieve_run_error(run, node, "notify: %s", error);
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
