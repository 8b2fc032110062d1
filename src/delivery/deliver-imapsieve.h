/* Sieve scripts run on IMAP events (RFC 6785): a message appended, copied
 * or moved into a mailbox, or one whose flags a client changed. The IMAP
 * server reports the event; this runs the administrator's scripts for the
 * mailbox (imapsieve_mailbox blocks) around the user's own (the METADATA
 * entry /shared/imapsieve/script of the mailbox, else of the server,
 * RFC 6785 §2.3.1) and carries out their actions on the stored message:
 * keep leaves it (with imap4flags' flags), fileinto stores a copy,
 * redirect and notify go out through the submission path, and a cancelled
 * keep marks the message \Deleted (RFC 6785 §3). See docs/imapsieve.md. */
#ifndef TERN_DELIVER_IMAPSIEVE_H
#define TERN_DELIVER_IMAPSIEVE_H

#include "config.h"
#include "log.h"

struct mail_user;

enum deliver_imapsieve_cause {
	DELIVER_IMAPSIEVE_APPEND,
	DELIVER_IMAPSIEVE_COPY, /* MOVE too */
	DELIVER_IMAPSIEVE_FLAG,
};

/* The IMAP session the events come from. */
struct deliver_imapsieve_session {
	const struct tern_settings *set;
	const struct log_ctx *log;
	/* the session's storage user; the scripts' changes go through it */
	struct mail_user *user;
	const char *username, *home;
	/* imap.email, the redirects' envelope sender (RFC 6785 §3.4); NULL:
	   the user name when it has an '@', else user@<lmtp.hostname> */
	const char *email;
};

struct deliver_imapsieve_event {
	enum deliver_imapsieve_cause cause;
	/* where the messages are now (imap.mailbox) */
	const char *mailbox;
	/* COPY: the mailbox they came from, else NULL */
	const char *src_mailbox;
	/* the messages, by UID in mailbox */
	const uint32_t *uids;
	unsigned int count;
	/* FLAG: per message, the names of the flags that changed, space
	   separated (imap.changedflags); NULL otherwise */
	const char *const *changed_flags;
};

/* Returns 1 when some script would run for cause in mailbox (copied from
   src_mailbox), 0 when none would, so the caller can skip preparing an
   event (reading flags before a STORE). Cheap: a METADATA read. */
int deliver_imapsieve_wanted(const struct deliver_imapsieve_session *session,
			     enum deliver_imapsieve_cause cause, const char *mailbox,
			     const char *src_mailbox);
/* Runs the scripts once per message of the event (RFC 6785 §2.2). Never
   fails the IMAP command: script errors keep the message untouched and
   are logged (event=imapsieve_failed) and written to the user's
   <script>.log. The scripts' own changes are no IMAP events (§6). */
void deliver_imapsieve_run(const struct deliver_imapsieve_session *session,
			   const struct deliver_imapsieve_event *event);

/* The IMAPSIEVE= capability (RFC 6785 §2.1), or NULL when imapsieve.url
   is empty. Temporary memory. */
const char *deliver_imapsieve_capability(const struct tern_settings *set);

#endif
