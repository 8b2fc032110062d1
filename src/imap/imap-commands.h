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

enum imap_command_state {
	IMAP_STATE_AUTH,     /* authenticated or selected */
	IMAP_STATE_SELECTED, /* needs a selected mailbox */
};

struct imap_command {
	const char *name;
	imap_command_func_t *func;
	enum imap_command_state state;
	enum imap_parser_flags parse_flags;
	/* frees a command's resources if the session ends while it runs */
	void (*abort)(struct imap_cmd *cmd);
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
/* imap-cmd-mailbox.c */
bool imap_cmd_create(struct imap_cmd *cmd);
bool imap_cmd_delete(struct imap_cmd *cmd);
bool imap_cmd_rename(struct imap_cmd *cmd);
bool imap_cmd_subscribe(struct imap_cmd *cmd);
bool imap_cmd_unsubscribe(struct imap_cmd *cmd);
bool imap_cmd_namespace(struct imap_cmd *cmd);
bool imap_cmd_status(struct imap_cmd *cmd);
/* imap-cmd-list.c */
bool imap_cmd_list(struct imap_cmd *cmd);
bool imap_cmd_lsub(struct imap_cmd *cmd);
/* imap-cmd-select.c */
bool imap_cmd_select(struct imap_cmd *cmd);
bool imap_cmd_examine(struct imap_cmd *cmd);
bool imap_cmd_close(struct imap_cmd *cmd);
bool imap_cmd_unselect(struct imap_cmd *cmd);
bool imap_cmd_expunge(struct imap_cmd *cmd);
bool imap_cmd_check(struct imap_cmd *cmd);
/* imap-cmd-append.c: APPEND with CATENATE (RFC 4469), REPLACE (RFC 8508) */
bool imap_cmd_append(struct imap_cmd *cmd);
bool imap_cmd_replace(struct imap_cmd *cmd);
void imap_cmd_append_abort(struct imap_cmd *cmd);
/* imap-cmd-urlauth.c: URLAUTH (RFC 4467), URLFETCH BINARY (RFC 5524) */
bool imap_cmd_genurlauth(struct imap_cmd *cmd);
bool imap_cmd_resetkey(struct imap_cmd *cmd);
bool imap_cmd_urlfetch(struct imap_cmd *cmd);
void imap_cmd_urlfetch_abort(struct imap_cmd *cmd);
/* imap-cmd-notify.c: NOTIFY (RFC 5465) */
bool imap_cmd_notify(struct imap_cmd *cmd);
/* imap-cmd-idle.c */
bool imap_cmd_idle(struct imap_cmd *cmd);
void imap_cmd_idle_abort(struct imap_cmd *cmd);
/* imap-cmd-store.c, imap-cmd-copy.c */
bool imap_cmd_store(struct imap_cmd *cmd);
bool imap_cmd_copy(struct imap_cmd *cmd);
bool imap_cmd_move(struct imap_cmd *cmd);
/* imap-cmd-fetch.c, imap-cmd-search.c */
bool imap_cmd_fetch(struct imap_cmd *cmd);
void imap_cmd_fetch_abort(struct imap_cmd *cmd);
bool imap_cmd_search(struct imap_cmd *cmd);
bool imap_cmd_cancelupdate(struct imap_cmd *cmd);
bool imap_cmd_sort(struct imap_cmd *cmd);
bool imap_cmd_thread(struct imap_cmd *cmd);
/* STATUS item helpers shared with LIST-STATUS. APPENDLIMIT (RFC 7889) is
   the IMAP layer's item, a bit above the mailbox's ones; mask it off
   (IMAP_STATUS_MAILBOX_ITEMS) before asking the storage. */
#define IMAP_STATUS_APPENDLIMIT ((enum mailbox_status_items)0x10000)
#define IMAP_STATUS_MAILBOXID ((enum mailbox_status_items)0x20000) /* RFC 8474 §4 */
#define IMAP_STATUS_MAILBOX_ITEMS(items) ((enum mailbox_status_items)((items) & \
	~(IMAP_STATUS_APPENDLIMIT | IMAP_STATUS_MAILBOXID)))
int imap_status_items_parse(const struct imap_arg *arg, enum mailbox_status_items *items_r);
/* append_limit: the APPENDLIMIT value (the largest APPEND accepted). */
void imap_status_write(string_t *dest, enum mailbox_status_items items,
		       const struct mailbox_status *status, uint64_t append_limit);
/* Sends "* STATUS name (items)". */
void imap_status_send(struct imap_client *client, const char *name,
		      enum mailbox_status_items items, const struct mailbox_status *status);
/* imap-cmd-compress.c: COMPRESS=DEFLATE (RFC 4978) */
bool imap_cmd_compress(struct imap_cmd *cmd);
/* imap-cmd-metadata.c: METADATA, METADATA-SERVER (RFC 5464) */
bool imap_cmd_getmetadata(struct imap_cmd *cmd);
bool imap_cmd_setmetadata(struct imap_cmd *cmd);
/* imap-cmd-any.c: UNAUTHENTICATE (RFC 8437) */
bool imap_cmd_unauthenticate(struct imap_cmd *cmd);
/* pre-login commands that are errors afterwards */
bool imap_cmd_already_authenticated(struct imap_cmd *cmd);

#endif
