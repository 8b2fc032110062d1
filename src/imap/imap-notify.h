/* A session's NOTIFY state (RFC 5465): which events of which mailboxes the
 * client asked for, the watcher that learns of changes from any process
 * without polling, and the unsolicited responses it produces: STATUS and
 * LIST for other mailboxes and the mailbox list (queued, bounded, sent
 * whenever no response is being written), EXISTS/EXPUNGE/FETCH for the
 * selected mailbox. imap-cmd-notify.c parses the command into a spec. */
#ifndef TERN_IMAP_NOTIFY_H
#define TERN_IMAP_NOTIFY_H

#include "imap-client.h"
#include "imap-fetch.h"

/* RFC 5465 §5 event types, as bits. */
enum imap_notify_event {
	IMAP_NOTIFY_MESSAGE_NEW = 0x01,
	IMAP_NOTIFY_MESSAGE_EXPUNGE = 0x02,
	IMAP_NOTIFY_FLAG_CHANGE = 0x04,
	IMAP_NOTIFY_ANNOTATION_CHANGE = 0x08,
	IMAP_NOTIFY_MAILBOX_NAME = 0x10,
	IMAP_NOTIFY_SUBSCRIPTION_CHANGE = 0x20,
	IMAP_NOTIFY_MAILBOX_METADATA_CHANGE = 0x40,
	IMAP_NOTIFY_SERVER_METADATA_CHANGE = 0x80,
	IMAP_NOTIFY_EVENT_UNKNOWN = 0x100, /* an event-ext this server doesn't know */
};
#define IMAP_NOTIFY_MESSAGE_EVENTS (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
	IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)
#define IMAP_NOTIFY_LIST_EVENTS (IMAP_NOTIFY_MAILBOX_NAME | IMAP_NOTIFY_SUBSCRIPTION_CHANGE)
#define IMAP_NOTIFY_METADATA_EVENTS (IMAP_NOTIFY_MAILBOX_METADATA_CHANGE | \
	IMAP_NOTIFY_SERVER_METADATA_CHANGE)
/* AnnotationChange needs message annotations (RFC 5257), which Tern
   doesn't have; the metadata events come with METADATA (RFC 5465 §5.6,
   §5.7: required when METADATA is advertised) */
#define IMAP_NOTIFY_SUPPORTED_EVENTS (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
	IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_LIST_EVENTS)
/* The events this session may ask for: the above, and the metadata
   events while METADATA is on and advertised. */
unsigned int imap_notify_supported_events(const struct imap_client *client);

/* RFC 5465 §6 mailbox specifiers, except selected/selected-delayed, which
   are kept apart in the spec. */
enum imap_notify_filter {
	IMAP_NOTIFY_FILTER_INBOXES,
	IMAP_NOTIFY_FILTER_PERSONAL,
	IMAP_NOTIFY_FILTER_SUBSCRIBED,
	IMAP_NOTIFY_FILTER_SUBTREE,
	IMAP_NOTIFY_FILTER_MAILBOXES,
};

struct imap_notify_group {
	enum imap_notify_filter filter;
	/* SUBTREE and MAILBOXES: storage names (UTF-8, canonical INBOX) */
	const char *const *names;
	unsigned int name_count;
	unsigned int events; /* enum imap_notify_event; 0 for NONE */
};

/* What a NOTIFY SET asks for; everything is allocated from pool. */
struct imap_notify_spec {
	pool_t pool;
	ARRAY(struct imap_notify_group) groups; /* in command order */
	/* a selected / selected-delayed group was given (only one may be) */
	bool selected_set, selected_delayed;
	unsigned int selected_events;
	/* MessageNew's fetch attributes for the selected mailbox */
	bool have_new_items;
	fetch_items_t new_items;
	/* the STATUS indicator: STATUS of each watched mailbox right away */
	bool send_status;
};

/* Limits of what one NOTIFY SET may ask for; beyond them the command gets
   NO [NOTIFICATIONOVERFLOW] (RFC 5465 §3.1). */
#define IMAP_NOTIFY_MAX_GROUPS 64
#define IMAP_NOTIFY_MAX_NAMES 100
/* Events waiting to be sent (while a command runs or the client doesn't
   read): STATUS is one per mailbox, LIST one per change. Past it, the
   client gets OK [NOTIFICATIONOVERFLOW] and NOTIFY is off (§5.8). */
#define IMAP_NOTIFY_MAX_PENDING 1000
/* Mailbox directories watched for deliveries by other programs (Tern's
   own deliveries and changes are always seen, through the user's
   notification file). */
#define IMAP_NOTIFY_MAX_DIR_WATCHES 32

/* The first group (in command order) that covers the mailbox, for an
   event of kind (one bit): returns that group's events, or 0 if a group
   with NONE covers it first or none wants the event (RFC 5465 §6). subs
   are the subscribed names (sorted), for the "subscribed" filter. */
unsigned int imap_notify_spec_match(const struct imap_notify_spec *spec, const char *name,
				    unsigned int kind, const char *const *subs,
				    unsigned int sub_count);

/* Makes spec (and its pool, which it takes over) the session's NOTIFY,
   replacing any earlier one, and starts watching: the events are counted
   from now. Returns 0, or -1 if the storage can't watch (the caller
   answers NO; the old NOTIFY and spec are gone either way). */
int imap_notify_set(struct imap_client *client, struct imap_notify_spec *spec);
/* The STATUS indicator (RFC 5465 §3.1): sends STATUS of every mailbox
   whose message events are watched, except the selected one. */
void imap_notify_send_status(struct imap_client *client);
/* NOTIFY NONE, and after an overflow: the session behaves as it did
   before its first NOTIFY. */
void imap_notify_none(struct imap_client *client);

/* --- hooks for the session (imap-client.c, imap-cmd-idle.c) --- */

/* Sends what waits: the rest of a notification FETCH, the follow-up of
   the command that just ended, queued STATUS/LIST. Called between
   commands; returns false while output is still pending (the session
   reads no command until it is sent). */
bool imap_notify_output(struct imap_client *client);
/* A command is done (before its memory goes). */
void imap_notify_command_done(struct imap_client *client, const struct imap_cmd *cmd);
/* The selected mailbox is about to be closed. */
void imap_notify_unselect(struct imap_client *client);
/* IDLE: while it runs, NOTIFY's events are sent as they happen, and
   expunges too with selected-delayed (RFC 5465 §4, §6.1). begin returns
   true if NOTIFY is active and takes care of the selected mailbox. */
bool imap_notify_idle_begin(struct imap_client *client);
void imap_notify_idle_end(struct imap_client *client);
/* A notification FETCH is half written: nothing else may be written. */
bool imap_notify_is_busy(const struct imap_client *client);
void imap_notify_deinit(struct imap_client *client);

#endif
