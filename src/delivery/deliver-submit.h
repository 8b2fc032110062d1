/* Sending a message from delivery (redirects, vacation replies, rejection
 * messages): over SMTP (RFC 5321) to a configured host, usually the local
 * MTA, or through a sendmail binary. Blocking, with a timeout per step: a
 * delivery waits for its submissions. */
#ifndef TERN_DELIVER_SUBMIT_H
#define TERN_DELIVER_SUBMIT_H

#include "config.h"

struct deliver_message;

struct deliver_submit_request {
	const char *sender;   /* envelope sender, "" for the null path */
	const char *rcpt;     /* one recipient */
	const char *helo;     /* our name in EHLO */
	/* sent first: header fields (or a whole composed message), CRLF
	   line ends */
	const char *prefix;
	/* then this message from body_offset on, or NULL */
	struct deliver_message *body;
	uint64_t body_offset;
	/* sent after the body (a MIME closing boundary), or NULL */
	const char *suffix;
};

/* Sends the message. Returns 1 when the server or sendmail accepted it, 0
   when it was refused for good (5xx, sendmail's EX_NOUSER/EX_DATAERR...),
   -1 on a temporary failure (4xx, connection or timeout, sendmail's
   EX_TEMPFAIL). *error_r tells what happened. */
int deliver_submit(const struct submission_settings *set,
		   const struct deliver_submit_request *req, const char **error_r);

#endif
