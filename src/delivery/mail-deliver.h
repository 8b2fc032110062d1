/* Delivery of one received message to one user, shared by the LMTP server
 * and tern-lda: the quota check, the Sieve scripts (administrator scripts
 * around the user's active one), and carrying out their actions - storing
 * (keep, fileinto), forwarding (redirect), refusing (reject, ereject) and
 * auto-replies (vacation) - through the storage API and the submission
 * path. See docs/lmtp.md ("Delivery") for the rules this follows. */
#ifndef TERN_MAIL_DELIVER_H
#define TERN_MAIL_DELIVER_H

#include "config.h"
#include "log.h"

/* The received message as the protocol spooled it, read by offset. */
struct deliver_source {
	/* Reads up to size bytes at offset. Returns the count (0 at the
	   end), or -1 with errno set. */
	ssize_t (*pread)(void *context, void *buf, size_t size, uint64_t offset);
	void *context;
	uint64_t size;
};

/* One message shared by every recipient of a transaction: its header is
   parsed once, when something first needs it (deliver-message.c). */
struct deliver_message;

/* Creates the message over source, which must outlive it. */
struct deliver_message *deliver_message_create(const struct deliver_source *source);
void deliver_message_destroy(struct deliver_message **msg);

/* The user a message is delivered to, as the userdb gave it. */
struct deliver_user {
	const char *name;
	const char *home;       /* mail home (config_mail_home()) */
	uid_t uid;              /* (uid_t)-1: deliver as this process */
	gid_t gid;
	/* the userdb's quota rules ("*:storage=1G ..."), NULL: none given */
	const char *quota_rule;
};

struct mail_deliver_input {
	const struct tern_settings *set;
	const struct log_ctx *log;
	/* the LMTP session id or tern-lda's, for Received: and logs */
	const char *session_id;
	/* "" for the null sender (RFC 5321 §4.5.5) */
	const char *sender;
	/* the recipient as the MTA gave it (RCPT TO, tern-lda -a) */
	const char *rcpt;
	const struct deliver_user *user;
	/* mailbox for keep: the +detail (used only when it exists) or
	   tern-lda -m; NULL: INBOX */
	const char *mailbox;
	/* trace fields put on top of every stored and redirected copy
	   (Delivered-To:, Received:), each ending in CRLF; may be "".
	   "Return-Path: <sender>" is added to stored copies here. */
	const char *trace_headers;
	/* tern-lda: the message already starts with a Return-Path field */
	bool has_return_path;
	/* the protocol can refuse this recipient itself (LMTP: a 5xx reply),
	   so ereject needs no rejection message (RFC 5429 §2.1) */
	bool can_reject;
	/* reject too is returned to the caller instead of a rejection
	   message (tern-lda -e) */
	bool reject_to_caller;
	struct deliver_message *msg;
	/* the recipient's storage, opened by the caller with
	   mail_deliver_storage_open() and kept across deliveries (LMTP);
	   NULL: opened and closed here */
	struct mail_user *storage;
};

#define MAIL_DELIVER_MAX_STORED 4

struct mail_user;

enum mail_deliver_status {
	/* done: stored, forwarded or discarded as the scripts said */
	MAIL_DELIVER_OK,
	/* nothing was stored; retrying later repeats nothing already done */
	MAIL_DELIVER_TEMPFAIL,
	/* the user's quota is full (permanent unless quota.full_tempfail) */
	MAIL_DELIVER_OVERQUOTA,
	/* refused for good: ereject (or reject with can_reject), reason set */
	MAIL_DELIVER_REJECTED,
};

struct mail_deliver_result {
	enum mail_deliver_status status;
	bool permanent;      /* OVERQUOTA: 5xx rather than 4xx */
	const char *reason;  /* REJECTED: the script's text; else a hint */
	/* the last copy stored (for the 250 reply); mailbox NULL if none */
	const char *mailbox;
	uint32_t uid;
	/* every mailbox a copy was stored in, the first
	   MAIL_DELIVER_MAX_STORED of them (for deferred text indexing) */
	const char *stored[MAIL_DELIVER_MAX_STORED];
	uint32_t stored_uids[MAIL_DELIVER_MAX_STORED];
	unsigned int stored_count;
};

/* Delivers in->msg to in->user. The caller has switched to the user's
   uid already (deliver_user_become()). Returns 0 with *result_r
   (strings from pool); never fails otherwise. */
void mail_deliver(const struct mail_deliver_input *in, pool_t pool,
		  struct mail_deliver_result *result_r);

/* The RCPT-time quota check (RFC 2033 has no SIZE per recipient: size is
   MAIL FROM's SIZE= or 0). Returns 1 when the user may receive size more
   bytes and one more message, 0 when over quota, -1 on an error (logged;
   callers accept the recipient, the DATA-time check repeats it). Needs
   the user's uid like mail_deliver(). */
int mail_deliver_quota_check(const struct tern_settings *set, const struct log_ctx *log,
			     const struct deliver_user *user, uint64_t size);

/* Opens user's storage for mail_deliver_input.storage (as the user's uid,
   like mail_deliver()). defer_text_index: saves leave the message text
   out of the full-text index, for the caller to index it later in
   batches (mail_user_search_update_mailbox()); searches index whatever is
   still missing on demand. Returns 0, or -1 (logged). */
int mail_deliver_storage_open(const struct tern_settings *set, const struct log_ctx *log,
			      const struct deliver_user *user, bool defer_text_index,
			      struct mail_user **storage_r);

/* Frees the process's caches (compiled scripts). */
void mail_deliver_deinit(void);

#endif
