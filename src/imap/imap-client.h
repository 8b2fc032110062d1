/* A post-login IMAP session (RFC 9051 §3.2 authenticated state onwards):
 * created from the login hand-off record, it reads commands, runs them
 * through the command table and writes responses with back-pressure. */
#ifndef TERN_IMAP_CLIENT_H
#define TERN_IMAP_CLIENT_H

#include "config.h"
#include "connection.h"
#include "imap-command-reader.h"
#include "ipc-handoff.h"
#include "mail-storage.h"

/* Consecutive bad commands before the session is closed */
#define IMAP_CLIENT_MAX_BAD_COMMANDS 20

struct imap_command;

/* One running command; its pool is freed when the tagged reply is sent. */
struct imap_cmd {
	struct imap_client *client;
	pool_t pool;
	const struct imap_command *def;
	const char *tag;
	const char *name;
	const struct imap_arg *args;
	void *context; /* for commands that take more than one call */
};

struct imap_client {
	struct connection *conn;
	const struct tern_settings *set;
	char *user;
	char *home;
	struct mail_user *mail_user;
	struct imap_command_reader *reader;
	struct imap_cmd *cmd; /* running command, NULL between commands */
	unsigned int bad_count;

	/* selected state (RFC 9051 §3.3) */
	struct mailbox *box;
	/* the keywords last announced in FLAGS for the selected mailbox */
	unsigned int announced_keyword_count;
	/* SEARCHRES (RFC 5182): UIDs of the last SEARCH RETURN (SAVE),
	   ascending, for "$"; forgotten when the mailbox is closed */
	array_uint32_t search_saved;
	/* RFC 5267 §4.3 UPDATE contexts (imap-search-update.h) */
	struct imap_search_update *search_updates;
	/* runs the mailbox's deferred work while the session waits */
	struct timeout *deferred_to;
	/* NOTIFY (RFC 5465, imap-notify.h), NULL when not used */
	struct imap_notify *notify;

	bool enabled_imap4rev2; /* also: mailbox names are UTF-8 */
	/* RFC 9755 (UTF8=ACCEPT) enabled: mailbox names are UTF-8, SEARCH
	   takes no CHARSET */
	bool utf8_accept;
	/* RFC 7162 §3.1: a CONDSTORE-enabling command was seen; every FETCH
	   the session is sent unasked carries UID and MODSEQ from now on */
	bool condstore;
	/* RFC 7162 §3.2.3: ENABLE QRESYNC (implies condstore): VANISHED
	   instead of EXPUNGE, and the QRESYNC select parameter */
	bool qresync;
	/* RFC 9586: ENABLE UIDONLY: no sequence numbers in commands or
	   responses (imap-uidonly.h) */
	bool uidonly;
	bool logout;
	/* UNAUTHENTICATE answered: back to pre-login after this command */
	bool unauthenticate;
	bool starttls_offered; /* the listener offers STARTTLS */
	/* where the session came from, for UNAUTHENTICATE: the login
	   process that relays its TLS (tls), or 0 */
	unsigned int login_pid;
	bool tls;
	bool shutting_down;
};

/* Called with a connection whose session ended with UNAUTHENTICATE
   (RFC 8437); it must give conn a new owner (the pre-login engine). */
/* The connection after UNAUTHENTICATE's OK; tls and login_pid say where
   the session came from (struct login_handoff). */
typedef void imap_client_unauthenticated_t(struct connection *conn, bool starttls,
					   bool tls, unsigned int login_pid);
void imap_client_set_unauthenticated_callback(imap_client_unauthenticated_t *callback);

/* Mailbox names travel as UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled)
   rather than modified UTF-7. */
static inline bool imap_client_utf8_names(const struct imap_client *client)
{
	return client->enabled_imap4rev2 || client->utf8_accept;
}

/* Replaces the SEARCHRES saved result (uids ascending; NULL, 0 empties it). */
void imap_client_search_save(struct imap_client *client, const uint32_t *uids,
			     unsigned int count);

/* Turns CONDSTORE on (RFC 7162 §3.1) for an enabling command other than
   SELECT/EXAMINE: with a mailbox selected, the first time it also sends
   its HIGHESTMODSEQ. */
void imap_client_enable_condstore(struct imap_client *client);

/* Takes over conn from the login side and answers the login command. */
void imap_client_create(const struct tern_settings *set, struct connection *conn,
			const struct login_handoff *handoff);

/* Response writing. tagged() ends the command. */
void imap_client_send_line(struct imap_client *client, const char *line);
void imap_client_send_untagged(struct imap_client *client, const char *fmt, ...) ATTR_PRINTF(2, 3);
void imap_cmd_send_tagged(struct imap_cmd *cmd, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* "BAD <text>" for arguments that don't fit the command's syntax */
void imap_cmd_bad(struct imap_cmd *cmd, const char *text);
const char *imap_client_capability(struct imap_client *client);
/* Sends the untagged updates of the selected mailbox (EXPUNGE, EXISTS,
   RECENT, FETCH FLAGS, FLAGS) since the last sync. IMAP_SYNC_NO_EXPUNGES:
   keep expunges for later (RFC 9051 §7.5.1, during FETCH/STORE/SEARCH). */
enum imap_sync_flags {
	IMAP_SYNC_NO_EXPUNGES = 0x01,
	/* also look at the disk for changes by other programs (NOOP, CHECK,
	   IDLE wake-ups) */
	IMAP_SYNC_FULL = 0x02,
};
void imap_client_sync(struct imap_client *client, enum imap_sync_flags flags);
/* Sends FETCH (FLAGS UID [MODSEQ]) of the messages at sorted seqs. */
void imap_client_send_flag_fetches(struct imap_client *client, const uint32_t *seqs,
				   unsigned int count);
/* Ends cmd with a tagged reply after sending pending untagged updates. */
void imap_cmd_finish(struct imap_cmd *cmd, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Ends cmd with a reply text from a parser: "BAD ..." as imap_cmd_bad(),
   anything else ("NO [BADCHARSET] ...") with imap_cmd_finish(). */
void imap_cmd_fail(struct imap_cmd *cmd, const char *reply);
/* Ends cmd with "NO [CODE] text" from the storage's last error. */
void imap_cmd_storage_error(struct imap_cmd *cmd);
/* Closes the selected mailbox, if any. */
void imap_client_unselect(struct imap_client *client);
/* Says BYE and closes. */
void imap_client_disconnect(struct imap_client *client, const char *bye_text, const char *reason);

#endif
