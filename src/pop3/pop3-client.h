/* A post-login POP3 session (RFC 1939 §5 TRANSACTION and §6 UPDATE
 * states): created from the login hand-off record, it opens and locks the
 * maildrop (INBOX), reads commands (pipelined ones too, RFC 2449 §6.6) and
 * writes replies and messages with back-pressure. */
#ifndef TERN_POP3_CLIENT_H
#define TERN_POP3_CLIENT_H

#include "config.h"
#include "connection.h"
#include "ipc-handoff.h"
#include "mail-storage.h"
#include "pop3-encoder.h"
#include "pop3-line-reader.h"

/* Consecutive bad commands before the session is closed */
#define POP3_CLIENT_MAX_BAD_COMMANDS 20

/* One message of the maildrop as the session saw it at login: message
   numbers never change during a session (RFC 1939 §5). */
struct pop3_message {
	uint32_t seq; /* in the mailbox view, which is never synced */
	uint32_t uid;
	uint64_t size; /* RFC822.SIZE: octets of the CRLF form */
	const char *guid; /* only when the UIDL format uses %g */
	bool deleted;
	bool retrieved; /* sent whole by RETR */
};

struct pop3_client;
/* A multi-line reply being produced: returns true when it is complete,
   false when it paused because the output buffer is full (it is called
   again once the client has read). */
typedef bool pop3_continue_func_t(struct pop3_client *client);

struct pop3_client {
	struct connection *conn;
	const struct tern_settings *set;
	const char *user;
	struct mail_user *mail_user;
	struct mailbox *box;
	int lock_fd;
	struct line_reader *reader;
	unsigned int bad_count;

	struct pop3_message *msgs;
	uint32_t count, deleted_count;
	uint64_t total_size, deleted_size;
	uint32_t uidvalidity;

	/* the running multi-line reply (LIST, UIDL, RETR, TOP), if any */
	pop3_continue_func_t *cmd_continue;
	uint32_t list_next;      /* LIST/UIDL: next message index */
	struct istream *msg_input; /* RETR/TOP: the message file */
	struct pop3_message *msg;
	struct pop3_encoder enc;
	buffer_t *msg_buf;
	bool msg_whole; /* RETR, not TOP */

	/* for the log line at the end */
	unsigned int retr_count, top_count;
	uint64_t retr_bytes;

	bool quit;
	bool shutting_down;
};

/* Takes over conn from the login side and answers the authentication
   command (+OK, or -ERR [IN-USE] / [LOGIN-DELAY] / [SYS/TEMP] and a
   close). */
void pop3_client_create(const struct tern_settings *set, struct connection *conn,
			const struct login_handoff *handoff);

void pop3_client_send_line(struct pop3_client *client, const char *line);
/* "-ERR <text>" counted towards the bad-command limit */
void pop3_client_send_bad(struct pop3_client *client, const char *text);
/* Ends the session without an UPDATE state (RFC 1939 §6: nothing that was
   marked deleted is removed). text, if not NULL, is sent as "-ERR text". */
void pop3_client_disconnect(struct pop3_client *client, const char *text,
			    const char *reason);

/* Runs the command on line (pop3-commands.c). */
void pop3_client_command(struct pop3_client *client, const char *line);

/* RETR and TOP (pop3-retr.c): starts streaming message msg (an index into
   client->msgs), whole or with body_lines lines of its body. */
void pop3_retr_start(struct pop3_client *client, struct pop3_message *msg,
		     uint64_t body_lines);
/* Stops a message stream still running (disconnect). */
void pop3_retr_abort(struct pop3_client *client);

/* The maildrop (pop3-maildrop.c). */
/* Locks the maildrop and enforces login_delay. Returns 1 (lock held
   in client->lock_fd, or no locking), 0 refused (*reply_r is the -ERR
   text), -1 error (*reply_r too; details logged). */
int pop3_maildrop_lock(struct pop3_client *client, const char *home, const char **reply_r);
void pop3_maildrop_unlock(struct pop3_client *client);
/* Opens INBOX and reads the message list. Returns 0 or -1 (logged). */
int pop3_maildrop_open(struct pop3_client *client);
/* The UPDATE state (RFC 1939 §6): removes (or flags) the messages marked
   deleted and sets \Seen on retrieved ones. Returns 0 or -1 (logged). */
int pop3_maildrop_update(struct pop3_client *client);
/* The UIDL of msg, in temporary memory. */
const char *pop3_maildrop_uidl(struct pop3_client *client, const struct pop3_message *msg);

#endif
