/* ID command arguments (RFC 2971 §3.1-§3.3). */
#include "imap-id.h"
#include "imap-arg.h"
#include "log.h"

int imap_id_parse(const struct imap_arg *args, string_t *log_fields, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	if (args[0].type == IMAP_ARG_NIL) {
		count = 0;
	} else if (!imap_arg_get_list(&args[0], &list, &count)) {
		*error_r = "ID expects a list or NIL.";
		return -1;
	}
	if (args[1].type != IMAP_ARG_EOL) {
		*error_r = "Too many arguments.";
		return -1;
	}
	if (count % 2 != 0 || count / 2 > IMAP_ID_MAX_PAIRS) {
		*error_r = "Invalid ID parameters.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i += 2) {
		const char *key, *value;
		if (!imap_arg_get_string(&list[i], &key) ||
		    !imap_arg_get_nstring(&list[i + 1], &value) || strlen(key) > 30) {
			*error_r = "Invalid ID parameters.";
			return -1;
		}
		str_printfa(log_fields, " id_%s=%s", log_value(key),
			    log_value(value == NULL ? "" : t_strndup(value, I_MIN(strlen(value), 256))));
	}
	return 0;
}

const char *imap_id_reply(void)
{
	return "* ID (\"name\" \"Tern\" \"version\" \"" TERN_VERSION "\")";
}
