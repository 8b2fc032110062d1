/* An LMTP session (RFC 2033): the greeting, the command loop with
 * pipelining (RFC 2920), the mail transaction's state, DATA and BDAT input
 * (RFC 3030) and delivery with one reply per recipient (RFC 2033 §4.2).
 * There is no login: any client that can reach the listener may deliver,
 * so LMTP listeners belong on loopback or a Unix socket. */
#ifndef TERN_LMTP_CLIENT_H
#define TERN_LMTP_CLIENT_H

#include "array.h"
#include "config.h"
#include "connection.h"
#include "lmtp-proto.h"
#include "mail-deliver.h"

/* Input buffered at a time: a command line, or a slice of message data. */
#define LMTP_INPUT_BUFFER_SIZE (64 * 1024)
/* Consecutive failed commands before the session is closed */
#define LMTP_MAX_BAD_COMMANDS 20

/* The session's settings: the config's lmtp block, with what it leaves
   to the system filled in. */
struct lmtp_client_settings {
	uint64_t max_message_size;
	unsigned int max_recipients;
	bool delivered_to;      /* add Delivered-To: per recipient */
	bool detail_to_mailbox; /* +detail selects an existing mailbox */
	const char *detail_delimiter; /* "": no detail addressing */
	const char *hostname;   /* in the greeting and Received: */
	const char *spool_dir;  /* for messages over the memory limit */
	uint64_t spool_memory_limit;
	unsigned int idle_timeout_ms, output_timeout_ms;
	size_t output_buffer_limit;
};

struct lmtp_storage;

/* An accepted RCPT TO. */
struct lmtp_recipient {
	const char *address; /* as given, without <> */
	const char *detail;  /* NULL if none */
	/* the userdb's user: name, home, uid/gid, quota rule */
	struct deliver_user user;
};

enum lmtp_input_mode {
	LMTP_INPUT_COMMANDS,
	LMTP_INPUT_DATA,
	LMTP_INPUT_BDAT,
};

/* The message of one transaction: in memory up to a limit, then in an
   unlinked temporary file (lmtp-data.c). */
struct lmtp_spool {
	buffer_t *mem;
	int fd;
	uint64_t size;
	bool failed; /* a write error: every recipient gets 451 */
};

struct lmtp_client {
	struct connection *conn;
	const struct tern_settings *set;
	struct lmtp_client_settings lset;
	struct line_reader *reader;
	unsigned int bad_count;
	char lhlo_name[LMTP_PROTO_MAX_DOMAIN_LENGTH + 1]; /* "" before LHLO */

	/* the transaction, from MAIL to the end of the message or RSET */
	pool_t trans_pool;
	bool mail_given;
	const char *sender;
	struct lmtp_mail_params mail_params;
	ARRAY(struct lmtp_recipient) rcpts;

	/* message input */
	enum lmtp_input_mode mode;
	struct lmtp_data_decoder dec;
	struct lmtp_spool spool;
	buffer_t *decode_buf;
	bool data_started;    /* DATA or a first BDAT was accepted */
	bool too_big;         /* over max_message_size: data is dropped */
	bool bdat_failed;     /* a BDAT chunk failed: the rest is refused */
	bool bdat_last;
	uint64_t bdat_remaining;
	/* a refused BDAT: its chunk is read and dropped, then this is sent */
	const char *bdat_reply;
	uint64_t msg_size; /* decoded message octets so far */

	/* the recipients' storage kept open, and how many of the session's
	   deliveries wait for text indexing (lmtp-storage.c) */
	ARRAY(struct lmtp_storage *) storages;
	unsigned int unindexed_count;
	struct timeout *to_storage;
	/* the indexer's socket was full: no hand-over before this
	   (CLOCK_MONOTONIC ms) */
	uint64_t hand_over_after_ms;

	/* for the log line at the end */
	unsigned int messages, deliveries;

	bool quit;
	bool shutting_down;
};

/* Takes ownership of fd, an accepted LMTP connection, and sends the
   greeting. set must outlive the connection. */
void lmtp_client_create(const struct tern_settings *set, int fd,
			const struct net_endpoint *remote, const struct net_endpoint *local);
/* Frees the process-wide state (the userdb); call at process exit. */
void lmtp_clients_deinit(void);

/* The settings of the session, from set's lmtp block. */
void lmtp_settings_init(const struct tern_settings *set, struct lmtp_client_settings *lset_r);

/* lmtp-client.c */
/* Sends one reply line (CRLF is added). */
void lmtp_client_send_line(struct lmtp_client *client, const char *line);
/* The same for the reply to a command that was malformed or out of
   sequence: counted towards LMTP_MAX_BAD_COMMANDS. */
void lmtp_client_send_bad(struct lmtp_client *client, const char *line);
/* Sends buffered replies now, so a reply the client may act on is not
   held behind slower work (each recipient's 250 after its delivery). */
void lmtp_client_flush(struct lmtp_client *client);
/* Ends the transaction: forgets sender, recipients and message. */
void lmtp_client_reset_transaction(struct lmtp_client *client);

/* lmtp-commands.c: runs the command on line. */
void lmtp_client_command(struct lmtp_client *client, const char *line);

/* lmtp-data.c */
/* Starts reading message data in the given mode. */
void lmtp_data_begin(struct lmtp_client *client, enum lmtp_input_mode mode);
/* Consumes buffered message input. Returns 1 when the message (DATA) or
   the chunk (BDAT) is complete, 0 when more input is needed. */
int lmtp_data_input(struct lmtp_client *client);
/* Handles a complete DATA message or BDAT chunk: replies, and delivers
   once the message is complete. */
void lmtp_data_finish(struct lmtp_client *client);
void lmtp_spool_init(struct lmtp_spool *spool);
/* Appends message data. Returns 0, or -1 on a write error (logged). */
int lmtp_spool_write(struct lmtp_client *client, const void *data, size_t size);
/* Reads up to size bytes at offset. Returns the count (0 at the end), or
   -1 on a read error. */
ssize_t lmtp_spool_pread(struct lmtp_spool *spool, void *buf, size_t size, uint64_t offset);
void lmtp_spool_free(struct lmtp_spool *spool);

/* lmtp-deliver.c */
/* Looks up the recipient in the userdb. Returns 1 with *rcpt_r filled
   from pool, 0 for an unknown user, -1 on a temporary failure (logged). */
int lmtp_deliver_lookup(struct lmtp_client *client, const struct lmtp_address *addr,
			pool_t pool, struct lmtp_recipient *rcpt_r);
/* The RCPT-time quota check (docs/lmtp.md): NULL when the recipient may
   receive the message (of MAIL's SIZE=, if given), else the reply. */
const char *lmtp_deliver_quota_refusal(struct lmtp_client *client,
				       const struct lmtp_recipient *rcpt);
/* Saves the spooled message for every recipient and sends each one's
   reply (RFC 2033 §4.2), in the order of RCPT. */
void lmtp_deliver_all(struct lmtp_client *client);

/* lmtp-storage.c */
/* Makes room for user's storage among the kept ones (closing the least
   recently used); call as root, before switching to the user. */
void lmtp_storage_prepare(struct lmtp_client *client, const struct deliver_user *user);
/* The user's kept storage, opened or reopened (deleted meanwhile) as
   needed; runs as the user, after lmtp_storage_prepare(). NULL: it could
   not be opened (logged). */
struct mail_user *lmtp_storage_open(struct lmtp_client *client, const struct deliver_user *user);
/* After a delivery to user (as root): notes the mailboxes whose new
   message waits for text indexing. */
void lmtp_storage_delivered(struct lmtp_client *client, const struct deliver_user *user,
			    const struct mail_deliver_result *result);
/* No command input is waiting: indexes a time slice of what is ready. */
void lmtp_storage_input_drained(struct lmtp_client *client);
/* (Re)starts the idle timer after input: without more input, the waiting
   text is indexed and the storages closed. */
void lmtp_storage_schedule(struct lmtp_client *client);
/* Closes every kept storage, first indexing what waits if index. */
void lmtp_storage_close_all(struct lmtp_client *client, bool index);

#endif
