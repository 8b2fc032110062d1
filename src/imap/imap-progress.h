/* INPROGRESS (RFC 9585): a command that runs long tells the client it is
 * still working with "* OK [INPROGRESS ("tag" done total)] ...", at most
 * once per imap.progress_interval. Loops call imap_progress_update() as
 * they go (cheap: it reads the clock and returns); storage work that
 * loops inside one call (filling the text index, COPY, EXPUNGE) reports
 * through the mailbox's progress callback. */
#ifndef TERN_IMAP_PROGRESS_H
#define TERN_IMAP_PROGRESS_H

#include "imap-client.h"

struct imap_progress {
	struct imap_client *client;
	struct mailbox *box; /* whose callback is ours, or NULL */
	/* the progress-tag: the quoted tag, or NIL when the tag holds a
	   ']' that would end the response code (RFC 9585 §3) */
	const char *tag;
	unsigned int interval_ms;
	uint64_t next_ms;
};

/* Starts timing cmd: the first response comes one interval from now. */
void imap_progress_begin(struct imap_progress *progress, struct imap_cmd *cmd);
/* done of total units (total 0: unknown, sent as NIL). Sends a response
   when the interval has passed since the last one. */
void imap_progress_update(struct imap_progress *progress, uint64_t done, uint64_t total);
/* Reports the storage's progress on box until imap_progress_end(). */
void imap_progress_watch(struct imap_progress *progress, struct mailbox *box);
void imap_progress_end(struct imap_progress *progress);

#endif
