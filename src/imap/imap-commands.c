/* The post-login command table, sorted by name for bsearch. */
#include "imap-commands.h"

#define SELECTED .state = IMAP_STATE_SELECTED
/* APPEND's literals stream (also CATENATE's TEXT literals, RFC 4469) */
#define APPEND_PARSE_FLAGS (IMAP_PARSE_FLAG_LITERAL_SIZE | IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST)

static const struct imap_command imap_commands[] = {
	{ .name = "APPEND", .func = imap_cmd_append, .parse_flags = APPEND_PARSE_FLAGS,
	  .abort = imap_cmd_append_abort, .rfc = "RFC 9051 §6.3.12" },
	{ .name = "AUTHENTICATE", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.2" },
	{ .name = "CANCELUPDATE", .func = imap_cmd_cancelupdate, SELECTED, .rfc = "RFC 5267 §4.3.5" },
	{ .name = "CAPABILITY", .func = imap_cmd_capability, .rfc = "RFC 9051 §6.1.1" },
	{ .name = "CHECK", .func = imap_cmd_check, SELECTED, .rfc = "RFC 3501 §6.4.1" },
	{ .name = "CLOSE", .func = imap_cmd_close, SELECTED, .rfc = "RFC 9051 §6.4.1" },
	{ .name = "COMPRESS", .func = imap_cmd_compress, .rfc = "RFC 4978 §3" },
	{ .name = "COPY", .func = imap_cmd_copy, SELECTED, .rfc = "RFC 9051 §6.4.7" },
	{ .name = "CREATE", .func = imap_cmd_create, .rfc = "RFC 9051 §6.3.4" },
	{ .name = "DELETE", .func = imap_cmd_delete, .rfc = "RFC 9051 §6.3.5" },
	{ .name = "ENABLE", .func = imap_cmd_enable, .rfc = "RFC 5161" },
	{ .name = "EXAMINE", .func = imap_cmd_examine, .rfc = "RFC 9051 §6.3.3" },
	{ .name = "EXPUNGE", .func = imap_cmd_expunge, SELECTED, .rfc = "RFC 9051 §6.4.3" },
	{ .name = "FETCH", .func = imap_cmd_fetch, SELECTED, .abort = imap_cmd_fetch_abort,
	  .rfc = "RFC 9051 §6.4.5" },
	{ .name = "GENURLAUTH", .func = imap_cmd_genurlauth, .rfc = "RFC 4467 §6.1" },
	{ .name = "GETMETADATA", .func = imap_cmd_getmetadata, .rfc = "RFC 5464 §4.2" },
	{ .name = "ID", .func = imap_cmd_id, .rfc = "RFC 2971" },
	{ .name = "IDLE", .func = imap_cmd_idle, .abort = imap_cmd_idle_abort, .rfc = "RFC 9051 §6.3.13" },
	{ .name = "LIST", .func = imap_cmd_list, .rfc = "RFC 9051 §6.3.9" },
	{ .name = "LOGIN", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.3" },
	{ .name = "LOGOUT", .func = imap_cmd_logout, .rfc = "RFC 9051 §6.1.3" },
	{ .name = "LSUB", .func = imap_cmd_lsub, .rfc = "RFC 3501 §6.3.9" },
	{ .name = "MOVE", .func = imap_cmd_move, SELECTED, .rfc = "RFC 9051 §6.4.8" },
	{ .name = "NAMESPACE", .func = imap_cmd_namespace, .rfc = "RFC 9051 §6.3.10" },
	{ .name = "NOOP", .func = imap_cmd_noop, .rfc = "RFC 9051 §6.1.2" },
	{ .name = "NOTIFY", .func = imap_cmd_notify, .rfc = "RFC 5465 §3.1" },
	{ .name = "RENAME", .func = imap_cmd_rename, .rfc = "RFC 9051 §6.3.6" },
	/* REPLACE checks the selected state itself, to read away a literal */
	{ .name = "REPLACE", .func = imap_cmd_replace, .parse_flags = APPEND_PARSE_FLAGS,
	  .abort = imap_cmd_append_abort, .rfc = "RFC 8508 §3.2" },
	{ .name = "RESETKEY", .func = imap_cmd_resetkey, .rfc = "RFC 4467 §6.2" },
	{ .name = "SEARCH", .func = imap_cmd_search, SELECTED, .rfc = "RFC 9051 §6.4.4" },
	{ .name = "SELECT", .func = imap_cmd_select, .rfc = "RFC 9051 §6.3.2" },
	{ .name = "SETMETADATA", .func = imap_cmd_setmetadata, .rfc = "RFC 5464 §4.3" },
	{ .name = "SORT", .func = imap_cmd_sort, SELECTED, .rfc = "RFC 5256 §3" },
	{ .name = "STARTTLS", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.1" },
	{ .name = "STATUS", .func = imap_cmd_status, .rfc = "RFC 9051 §6.3.11" },
	{ .name = "STORE", .func = imap_cmd_store, SELECTED, .rfc = "RFC 9051 §6.4.6" },
	{ .name = "SUBSCRIBE", .func = imap_cmd_subscribe, .rfc = "RFC 9051 §6.3.7" },
	{ .name = "THREAD", .func = imap_cmd_thread, SELECTED, .rfc = "RFC 5256 §3" },
	{ .name = "UID COPY", .func = imap_cmd_copy, SELECTED, .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID EXPUNGE", .func = imap_cmd_expunge, SELECTED, .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID FETCH", .func = imap_cmd_fetch, SELECTED, .abort = imap_cmd_fetch_abort,
	  .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID MOVE", .func = imap_cmd_move, SELECTED, .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID REPLACE", .func = imap_cmd_replace, .parse_flags = APPEND_PARSE_FLAGS,
	  .abort = imap_cmd_append_abort, .rfc = "RFC 8508 §3.3" },
	{ .name = "UID SEARCH", .func = imap_cmd_search, SELECTED, .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID SORT", .func = imap_cmd_sort, SELECTED, .rfc = "RFC 5256 §3" },
	{ .name = "UID STORE", .func = imap_cmd_store, SELECTED, .rfc = "RFC 9051 §6.4.9" },
	{ .name = "UID THREAD", .func = imap_cmd_thread, SELECTED, .rfc = "RFC 5256 §3" },
	{ .name = "UNAUTHENTICATE", .func = imap_cmd_unauthenticate, .rfc = "RFC 8437" },
	{ .name = "UNSELECT", .func = imap_cmd_unselect, SELECTED, .rfc = "RFC 9051 §6.4.2" },
	{ .name = "UNSUBSCRIBE", .func = imap_cmd_unsubscribe, .rfc = "RFC 9051 §6.3.8" },
	{ .name = "URLFETCH", .func = imap_cmd_urlfetch, .abort = imap_cmd_urlfetch_abort,
	  .rfc = "RFC 4467 §6.3, RFC 5524" },
};

static int command_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct imap_command *)elem)->name);
}

const struct imap_command *imap_command_find(const char *name)
{
	return bsearch(name, imap_commands, N_ELEMENTS(imap_commands),
		       sizeof(imap_commands[0]), command_cmp);
}
