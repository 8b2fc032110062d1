/* Progress responses for long commands (RFC 9585). */
#include "imap-progress.h"

#include <time.h>

/* The event loop's clock stands still while a command loops inside one
   wakeup, so this reads the clock itself. */
static uint64_t progress_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void imap_progress_begin(struct imap_progress *p, struct imap_cmd *cmd)
{
	memset(p, 0, sizeof(*p));
	p->client = cmd->client;
	p->interval_ms = cmd->client->set->imap.progress_interval_ms;
	/* RFC 9585 §3: tag = 1*<any ASTRING-CHAR except "+">, which allows
	   ']' but no '"' or '\' */
	p->tag = strchr(cmd->tag, ']') != NULL ? "NIL" :
		p_strdup_printf(cmd->pool, "\"%s\"", cmd->tag);
	p->next_ms = progress_now_ms() + p->interval_ms;
}

void imap_progress_update(struct imap_progress *p, uint64_t done, uint64_t total)
{
	if (p->interval_ms == 0 || p->client == NULL || p->client->conn->closed)
		return;
	uint64_t now = progress_now_ms();
	if (now < p->next_ms)
		return;
	p->next_ms = now + p->interval_ms;
	/* progress-total is an nz-number, and done never passes it */
	if (total == 0)
		imap_client_send_untagged(p->client, "OK [INPROGRESS (%s %llu NIL)] Still working.",
					  p->tag, (unsigned long long)done);
	else
		imap_client_send_untagged(p->client, "OK [INPROGRESS (%s %llu %llu)] Still working.",
					  p->tag, (unsigned long long)I_MIN(done, total),
					  (unsigned long long)total);
}

static void progress_storage_callback(uint64_t done, uint64_t total, void *context)
{
	imap_progress_update(context, done, total);
}

void imap_progress_watch(struct imap_progress *p, struct mailbox *box)
{
	p->box = box;
	mailbox_set_progress_callback(box, progress_storage_callback, p);
}

void imap_progress_end(struct imap_progress *p)
{
	if (p->box != NULL)
		mailbox_set_progress_callback(p->box, NULL, NULL);
	p->box = NULL;
	p->client = NULL;
}
