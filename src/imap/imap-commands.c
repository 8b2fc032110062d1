/* The post-login command table, sorted by name for bsearch. */
#include "imap-commands.h"

static const struct imap_command imap_commands[] = {
	{ .name = "AUTHENTICATE", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.2" },
	{ .name = "CAPABILITY", .func = imap_cmd_capability, .rfc = "RFC 9051 §6.1.1" },
	{ .name = "ENABLE", .func = imap_cmd_enable, .rfc = "RFC 5161" },
	{ .name = "ID", .func = imap_cmd_id, .rfc = "RFC 2971" },
	{ .name = "LOGIN", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.3" },
	{ .name = "LOGOUT", .func = imap_cmd_logout, .rfc = "RFC 9051 §6.1.3" },
	{ .name = "NOOP", .func = imap_cmd_noop, .rfc = "RFC 9051 §6.1.2" },
	{ .name = "STARTTLS", .func = imap_cmd_already_authenticated, .rfc = "RFC 9051 §6.2.1" },
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
