/* The post-login command table: every IMAP command Tern runs after login,
 * with its handler and the states it is valid in. Handlers live in
 * imap-cmd-<family>.c. */
#ifndef TERN_IMAP_COMMANDS_H
#define TERN_IMAP_COMMANDS_H

#include "imap-client.h"

/* Runs (or continues) a command. Returns true when the command has sent its
   tagged reply, false when it must be called again later (it is waiting for
   output to drain or for more input). */
typedef bool imap_command_func_t(struct imap_cmd *cmd);

struct imap_command {
	const char *name;
	imap_command_func_t *func;
	enum imap_parser_flags parse_flags;
	const char *rfc;
};

/* Returns the command or NULL. name is upper-case ("UID FETCH"). */
const struct imap_command *imap_command_find(const char *name);

/* imap-cmd-any.c: valid in every state (RFC 9051 §6.1) */
bool imap_cmd_capability(struct imap_cmd *cmd);
bool imap_cmd_noop(struct imap_cmd *cmd);
bool imap_cmd_logout(struct imap_cmd *cmd);
bool imap_cmd_id(struct imap_cmd *cmd);
bool imap_cmd_enable(struct imap_cmd *cmd);
/* pre-login commands that are errors afterwards */
bool imap_cmd_already_authenticated(struct imap_cmd *cmd);

#endif
