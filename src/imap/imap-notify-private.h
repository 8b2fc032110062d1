/* Internals shared by imap-notify.c (the session side: watching, queue,
 * selected mailbox) and imap-notify-diff.c (what changed between two
 * snapshots of a user's mailboxes, as RFC 5465 events). */
#ifndef TERN_IMAP_NOTIFY_PRIVATE_H
#define TERN_IMAP_NOTIFY_PRIVATE_H

#include "imap-notify.h"
#include "mailbox-attribute.h"

/* An event waiting to be sent. */
struct imap_notify_pending {
	/* STATUS of this mailbox (values as of the flush), or NULL */
	const char *status_name;
	enum mailbox_status_items status_items;
	/* else a whole untagged response without "* " */
	const char *line;
};

struct imap_notify {
	struct imap_client *client;
	struct imap_notify_spec *spec;

	/* the user's watcher: wakes on any change of any mailbox */
	struct io *user_io;
	struct timeout *check_to;
	uint64_t last_check_ms;
	/* a change came while a command ran: check after it */
	bool check_pending;
	/* the state as of the last check: events are its differences */
	pool_t snap_pool;
	struct mail_user_state snap;
	/* the METADATA entries as of the last check (only when metadata
	   events are asked for) */
	pool_t attr_pool;
	const struct mail_attribute_digest *attrs;
	unsigned int attr_count;

	/* events waiting to be sent, and their memory */
	pool_t queue_pool;
	ARRAY(struct imap_notify_pending) queue;
	/* too many waited: say so, then behave as after NOTIFY NONE */
	bool overflowed;

	/* the selected mailbox (RFC 5465 §6.1) */
	struct mailbox *box;
	struct io *box_io;
	bool box_dirty;          /* it changed while a command ran */
	/* MessageNew is handled below this UID, changes up to this modseq */
	uint32_t known_uidnext;
	uint64_t known_modseq;
	/* the index's counts as of the last report, to tell flag-only
	   changes apart when FlagChange wasn't asked for */
	uint32_t seen_uidnext, seen_messages;
	bool in_idle;
	/* a command ended (imap_notify_output() follows it up) */
	bool cmd_done;

	/* a MessageNew FETCH being written (back-pressure) */
	pool_t fetch_pool;
	struct imap_fetch *fetch;
};

/* imap-notify.c: queues an event (STATUS requests of one mailbox are
   merged). Past IMAP_NOTIFY_MAX_PENDING the session overflows. */
void imap_notify_queue_status(struct imap_notify *n, const char *name,
			      enum mailbox_status_items items);
void imap_notify_queue_line(struct imap_notify *n, const char *line);
/* The mailbox id of the selected mailbox, 0 if none. */
int64_t imap_notify_selected_id(const struct imap_notify *n);

/* imap-notify-diff.c: reads the METADATA entries into n->attrs (when the
   spec asks for metadata events). Returns 0 or -1. */
int imap_notify_read_attributes(struct imap_notify *n);
/* imap-notify-diff.c: queues the events between two states. */
void imap_notify_diff(struct imap_notify *n, const struct mail_user_state *old_state,
		      const struct mail_user_state *new_state);
/* The STATUS items sent for a change of a watched mailbox. */
enum mailbox_status_items imap_notify_status_items(const struct imap_notify *n,
						   unsigned int wanted);
/* Re-chooses the directories watched for other programs' deliveries. */
void imap_notify_watch_dirs(struct imap_notify *n, const struct mail_user_state *state);

#endif
