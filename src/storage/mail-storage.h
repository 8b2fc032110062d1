/* The storage API: a user's mailboxes and messages, independent of how and
 * where they are stored. IMAP, POP3, LMTP and ternctl use only this header.
 *
 * Everything *about* messages (UIDs, flags, keywords, modseqs, dates,
 * sizes, cached structure) lives in the user's index (src/index, SQLite);
 * message *content* lives where the driver keeps it (Maildir files today;
 * struct mail_storage_vfuncs in mail-storage-private.h). A change is
 * durable before the function that makes it returns success.
 *
 * Mailbox names are UTF-8 with '/' as the hierarchy separator; "INBOX" is
 * case-insensitive. UIDs are stable and UIDVALIDITY changes only when a
 * mailbox is recreated (RFC 9051 §2.3.1.1). */
#ifndef TERN_MAIL_STORAGE_H
#define TERN_MAIL_STORAGE_H

#include "array.h"
#include "buffer.h"
#include "istream.h"

#include <time.h>

#define MAILBOX_HIERARCHY_SEP '/'
#define MAILBOX_NAME_MAX_LENGTH 512
#define MAILBOX_MAX_LEVELS 32

/* Error codes; protocol code maps them to response codes in one place. */
enum mail_error {
	MAIL_ERROR_NONE = 0,
	MAIL_ERROR_TEMP,      /* internal error; the text has an id that is in the log */
	MAIL_ERROR_NOTFOUND,  /* [NONEXISTENT] / [TRYCREATE] */
	MAIL_ERROR_EXISTS,    /* [ALREADYEXISTS] */
	MAIL_ERROR_PARAMS,    /* invalid name or arguments */
	MAIL_ERROR_PERM,      /* not allowed */
	MAIL_ERROR_INUSE,     /* [INUSE] */
	MAIL_ERROR_OVERQUOTA, /* [OVERQUOTA] */
	MAIL_ERROR_LIMIT,     /* [LIMIT] */
	MAIL_ERROR_CANNOT,    /* [CANNOT]: not possible (e.g. delete INBOX) */
	MAIL_ERROR_EXPUNGED,  /* message was expunged meanwhile */
	MAIL_ERROR_CORRUPT,   /* storage found broken (and repaired if it could) */
};

/* System flags (RFC 9051 §2.3.2) as bits. \Recent is per session and not
   stored. */
enum mail_flags {
	MAIL_ANSWERED = 0x01,
	MAIL_FLAGGED = 0x02,
	MAIL_DELETED = 0x04,
	MAIL_SEEN = 0x08,
	MAIL_DRAFT = 0x10,
	MAIL_FLAGS_MASK = 0x1f,
};

enum mailbox_special_use {
	MAILBOX_SPECIAL_NONE = 0,
	MAILBOX_SPECIAL_ALL = 0x01,
	MAILBOX_SPECIAL_ARCHIVE = 0x02,
	MAILBOX_SPECIAL_DRAFTS = 0x04,
	MAILBOX_SPECIAL_FLAGGED = 0x08,
	MAILBOX_SPECIAL_JUNK = 0x10,
	MAILBOX_SPECIAL_SENT = 0x20,
	MAILBOX_SPECIAL_TRASH = 0x40,
	MAILBOX_SPECIAL_IMPORTANT = 0x80,
};

/* The user's index database in the mail home */
#define MAIL_INDEX_FILENAME "tern-index.db"

struct mail_user_settings {
	const char *username;
	const char *home;   /* the user's mail home; created if missing */
	const char *driver; /* "maildir" */
	/* folders created (with their special use) for a new user */
	bool create_special_folders;
	/* saves leave the full-text index to the first search that needs
	   it (mail.index_text_at_save = no): cheaper saves, slower first
	   text search */
	bool text_index_on_demand;
	/* saves leave the message cache to whoever indexes them later
	   (mail_user_search_index_uids() with fill_cache, as LMTP's deferred
	   indexing does) or to the first FETCH */
	bool cache_on_demand;
};

struct mail_user;
struct mailbox;

int mail_user_init(const struct mail_user_settings *set, struct mail_user **user_r,
		   const char **error_r);
void mail_user_deinit(struct mail_user **user);
const char *mail_user_get_name(const struct mail_user *user);
/* The last error of any call on this user (or its mailboxes): code and a
   user-safe text. Internal details were logged. */
enum mail_error mail_user_get_error(struct mail_user *user, const char **text_r);
/* Frees what the user's storage caches between calls (the index
   connection, its prepared statements and page cache: a few hundred KiB);
   the next call that needs them reopens them (well under a millisecond).
   For sessions going idle (IDLE, long pauses); views stay valid. */
void mail_user_release_memory(struct mail_user *user);
/* False once the user's storage was deleted (or deleted and made again)
   since mail_user_init(): a user kept open across deliveries is then
   closed and opened anew. */
bool mail_user_storage_is_current(struct mail_user *user);

/* --- mailbox list and management --- */

enum mailbox_list_attr {
	MAILBOX_ATTR_NOSELECT = 0x01,      /* exists only as a parent */
	MAILBOX_ATTR_NONEXISTENT = 0x02,   /* only subscribed */
	MAILBOX_ATTR_HASCHILDREN = 0x04,
	MAILBOX_ATTR_HASNOCHILDREN = 0x08,
	MAILBOX_ATTR_SUBSCRIBED = 0x10,
	MAILBOX_ATTR_NOINFERIORS = 0x20,
};

struct mailbox_list_entry {
	const char *name;
	enum mailbox_list_attr attrs;
	enum mailbox_special_use special_use;
};

/* All mailboxes (and subscribed names that don't exist), sorted by name,
   INBOX first. Returns 0 or -1. */
int mail_user_list_mailboxes(struct mail_user *user, pool_t pool,
			     const struct mailbox_list_entry **entries_r,
			     unsigned int *count_r);
/* Names are validated here: empty, too long, too deep, "..", control
   characters, a leading or doubled separator, LIST wildcards →
   MAIL_ERROR_PARAMS (a single trailing separator is dropped). Missing
   parents are created as \Noselect-free real mailboxes (RFC 9051 §6.3.4).
   More than 10,000 mailboxes → MAIL_ERROR_LIMIT. */
int mailbox_create(struct mail_user *user, const char *name,
		   enum mailbox_special_use special_use);
/* INBOX can't be deleted. Children are kept (the mailbox becomes
   \Noselect if it has children, RFC 9051 §6.3.5). */
int mailbox_delete(struct mail_user *user, const char *name);
/* Renames the mailbox and its children. Renaming INBOX moves its messages
   to the new mailbox and leaves INBOX empty (RFC 9051 §6.3.6). */
int mailbox_rename(struct mail_user *user, const char *old_name, const char *new_name);
int mailbox_set_subscribed(struct mail_user *user, const char *name, bool subscribed);
/* Canonical name: "inbox" → "INBOX", else unchanged. */
const char *mailbox_name_canonical(const char *name);

enum mailbox_status_items {
	STATUS_MESSAGES = 0x01,
	STATUS_UIDNEXT = 0x02,
	STATUS_UIDVALIDITY = 0x04,
	STATUS_UNSEEN = 0x08,
	STATUS_DELETED = 0x10,
	STATUS_SIZE = 0x20,
	STATUS_HIGHESTMODSEQ = 0x40,
	STATUS_RECENT = 0x80,
	STATUS_FIRST_UNSEEN_SEQ = 0x100,
};

struct mailbox_status {
	/* the index's id of the mailbox (with uidvalidity it names this
	   mailbox for its whole life: OBJECTID's MAILBOXID) */
	int64_t mailbox_id;
	uint32_t messages, uidnext, uidvalidity, unseen, deleted, recent;
	uint32_t first_unseen_seq; /* 0 = none */
	uint64_t size, highestmodseq;
	enum mailbox_special_use special_use;
	array_str_t keywords; /* all keywords defined in the mailbox */
};

int mailbox_get_status(struct mail_user *user, const char *name,
		       enum mailbox_status_items items, pool_t pool,
		       struct mailbox_status *status_r);
/* The user's usage over all mailboxes (quota): bytes (RFC822.SIZE) and
   messages, one sum over the index's exact per-mailbox counts. Unlike
   mailbox_get_status() it does not look at the disk first: what other
   programs put into a mailbox counts from its next sync. Returns 0 or -1. */
int mail_user_get_usage(struct mail_user *user, uint64_t *bytes_r, uint64_t *messages_r);

/* --- an open mailbox: one session's view --- */

enum mailbox_open_flags {
	MAILBOX_OPEN_READONLY = 0x01, /* EXAMINE */
	/* claim \Recent for the messages new since the last claim (RFC 3501) */
	MAILBOX_OPEN_TRACK_RECENT = 0x02,
};

struct mailbox *mailbox_open(struct mail_user *user, const char *name,
			     enum mailbox_open_flags flags);
void mailbox_close(struct mailbox **box);
const char *mailbox_get_name(const struct mailbox *box);
bool mailbox_is_readonly(const struct mailbox *box);
/* Status as of the view's last sync. */
const struct mailbox_status *mailbox_get_view_status(struct mailbox *box);

/* The view maps sequence numbers (1..count) to UIDs; it changes only in
   mailbox_sync(), so responses stay consistent (RFC 9051 §7.5.1). */
uint32_t mailbox_view_count(struct mailbox *box);
uint32_t mailbox_view_uid(struct mailbox *box, uint32_t seq);
/* Returns the sequence number of uid, 0 if not in the view. */
uint32_t mailbox_view_seq(struct mailbox *box, uint32_t uid);
/* Sequence number range [*seq1_r, *seq2_r] of UIDs in [uid1, uid2];
   false if none. */
bool mailbox_view_uid_range(struct mailbox *box, uint32_t uid1, uint32_t uid2,
			    uint32_t *seq1_r, uint32_t *seq2_r);
bool mailbox_view_is_recent(struct mailbox *box, uint32_t seq);
/* True if the view still holds messages that are expunged, waiting for a
   sync that may report expunges (IMAP_SYNC_NO_EXPUNGES held them back). */
bool mailbox_view_has_pending_expunges(const struct mailbox *box);

enum mailbox_sync_flags {
	/* RFC 9051 §7.5.1: during FETCH, STORE and SEARCH (non-UID) no
	   EXPUNGE may be sent; expunges are kept for later */
	MAILBOX_SYNC_NO_EXPUNGES = 0x01,
	/* look at the disk for external changes (new files, deleted files,
	   flags renamed by other programs) */
	MAILBOX_SYNC_FULL = 0x02,
};

struct mailbox_sync_result {
	/* sequence numbers to report as EXPUNGE, in the order to send them
	   (each as seen after the previous ones) */
	array_uint32_t expunged_seqs;
	/* the same expunges as UIDs (for VANISHED) */
	array_uint32_t expunged_uids;
	bool exists_changed; /* report EXISTS (and RECENT) */
	/* messages (by sequence number after this sync) whose flags,
	   keywords or modseq changed by someone else since the last sync */
	array_uint32_t changed_seqs;
	bool keywords_changed; /* report a new FLAGS line */
	bool mailbox_deleted;  /* the mailbox is gone: BYE or NO */
};

/* Brings the view up to date with the index (and the disk when asked, or
   when the notify fd reported changes in the mailbox's directories).
   Result arrays are allocated from pool (always initialised).
   Returns 0 or -1. */
int mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags, pool_t pool,
		 struct mailbox_sync_result *result_r);
/* An fd that becomes readable when the mailbox may have changed (by any
   process), for IDLE and NOTIFY; call mailbox_notify_clear() after waking,
   then mailbox_sync(). The process's event loop (ioloop_init()) delivers
   the changes: one inotify instance serves all views of the process. */
int mailbox_notify_fd(struct mailbox *box);
void mailbox_notify_clear(struct mailbox *box);

/* --- watching all of a user's mailboxes (NOTIFY, RFC 5465) --- */

/* A mailbox's index row as NOTIFY compares it between wake-ups. */
struct mailbox_state {
	int64_t id;
	const char *name;
	bool selectable;
	uint32_t uidvalidity, uidnext, messages, unseen;
	uint64_t highestmodseq;
	enum mailbox_special_use special_use;
};
struct mail_user_state {
	/* raised by every commit that creates, deletes or renames a mailbox
	   or (un)subscribes a name */
	uint64_t list_version;
	/* raised by every commit that changes a METADATA entry */
	uint64_t attribute_version;
	const struct mailbox_state *mailboxes; /* sorted by name (byte order) */
	unsigned int mailbox_count;
	const char *const *subscriptions;      /* sorted */
	unsigned int subscription_count;
};
/* Reads the state in one consistent snapshot of the index, without looking
   at the disk: one query per table, whatever the number of mailboxes.
   Memory from pool. Returns 0 or -1. */
int mail_user_get_state(struct mail_user *user, pool_t pool, struct mail_user_state *state_r);
/* An fd that becomes readable when any mailbox, the mailbox list or the
   subscriptions of the user may have changed (by any process using this
   API), and when other programs deliver into a mailbox watched with
   mail_user_notify_watch_mailbox(). It shares the process's inotify
   instance with the views; nothing polls. After waking call
   mail_user_notify_clear(), then mail_user_get_state(). */
int mail_user_notify_fd(struct mail_user *user);
/* Clears the fd, and brings the index up to date with the disk for the
   watched mailboxes whose directories changed, so that what other
   programs did shows in the next state read. */
void mail_user_notify_clear(struct mail_user *user);
/* Watches the mailbox's delivery directory (maildir new/) for messages
   other programs add. Returns 0, or -1 (NOTFOUND for a \Noselect or
   missing mailbox). */
int mail_user_notify_watch_mailbox(struct mail_user *user, const char *name);
void mail_user_notify_unwatch_mailboxes(struct mail_user *user);
/* Stops watching and closes the fd (mail_user_deinit() does it too). */
void mail_user_notify_deinit(struct mail_user *user);

/* RFC 5465 §5: a session is not told about changes it made itself. While
   tracking is on, the user remembers the modseqs and list versions that
   its own commits took (the last MAIL_USER_OWN_CHANGES_MAX of them;
   older ones count as someone else's, which costs a notification at
   worst). Commits by the disk sync (other programs' changes) are never
   own. */
#define MAIL_USER_OWN_CHANGES_MAX 128
void mail_user_track_own_changes(struct mail_user *user, bool track);
/* True if every change of the mailbox with a modseq in (from, to] was
   committed through this user, and there was at least one. */
bool mail_user_changes_are_own(struct mail_user *user, int64_t mailbox_id,
			       uint64_t from_modseq, uint64_t to_modseq);
/* The same for list versions in (from, to]. */
/* The same for METADATA entry changes (attribute versions). */
bool mail_user_attribute_changes_are_own(struct mail_user *user, uint64_t from_version,
					 uint64_t to_version);
bool mail_user_list_changes_are_own(struct mail_user *user, uint64_t from_version,
				    uint64_t to_version);
/* Mirroring flags into Maildir file names is deferred after STORE: no
   command waits for it. A session with idle time runs up to max_msecs of
   it at a time (the IMAP session does from a timer between commands);
   whatever is left stays recorded in the index for any later session.
   Returns 1 if work remains, 0 if none, -1 on error. */
bool mailbox_has_deferred(const struct mailbox *box);
int mailbox_run_deferred(struct mailbox *box, unsigned int max_msecs);

/* --- messages --- */

struct mail_record {
	uint32_t uid;
	uint32_t flags;          /* enum mail_flags */
	const char *const *keywords; /* NULL-terminated */
	uint64_t modseq;
	time_t internal_date;
	int internal_date_tz;    /* minutes east of UTC */
	time_t save_date;
	uint64_t size;           /* RFC822.SIZE: size with CRLF line ends */
	const char *guid;        /* EMAILID (RFC 8474) */
};

/* The message cache: what FETCH renders from a message's structure
   (ENVELOPE, BODY, BODYSTRUCTURE), kept in the index so repeated fetches
   don't read the file. Fields are NULL when not cached. */
struct mail_cache_fields {
	const char *envelope;
	const char *body;
	const char *bodystructure;
	/* the root header block as stored (original line ends, with the
	   empty line that ends it when there is one), for header sections;
	   kept only up to MAIL_CACHE_MAX_HEADER bytes */
	const unsigned char *header;
	size_t header_size;
	/* FETCH PREVIEW (RFC 8970): "" when the message has no text */
	const char *preview;
};
#define MAIL_CACHE_MAX_HEADER (64 * 1024)
/* longest preview stored (200 characters of up to 4 bytes each fit) */
#define MAIL_CACHE_MAX_PREVIEW 1024
/* Returns 1 (some fields may be NULL), 0 if nothing is cached, -1. The
   header block is decompressed only with want_header (else NULL). */
int mailbox_cache_get(struct mailbox *box, uint32_t uid, bool want_header, pool_t pool,
		      struct mail_cache_fields *fields_r);
/* The same for count messages (uids ascending) with a range read per
   run of nearby UIDs: fields_r[i] for uids[i], all NULL when not cached.
   Returns 0 or -1. */
int mailbox_cache_get_batch(struct mailbox *box, const uint32_t *uids, unsigned int count,
			    bool want_header, pool_t pool, struct mail_cache_fields *fields_r);
/* Stores fields of count messages in one transaction, if the index can be
   written without waiting for another writer (a cache fill is never worth
   a wait; it is retried on a later use). Returns 1 stored, 0 skipped, -1. */
int mailbox_cache_put(struct mailbox *box, const uint32_t *uids,
		      const struct mail_cache_fields *fields, unsigned int count);

/* Renders the message cache's fields from a message's content while it
   is saved (APPEND, LMTP), so that the first FETCH finds them cached
   instead of reading the file. The storage knows nothing of IMAP: the
   protocol layer provides the renderer (src/imap/imap-save-cache.c) and
   the process registers it once (mail_storage_set_cache_builder()). */
struct mail_cache_builder_vfuncs {
	/* A renderer for one message; its memory comes from pool or is
	   freed by deinit. */
	void *(*init)(pool_t pool, void *context);
	void (*feed)(void *builder, const void *data, size_t size);
	/* Fills fields_r (strings from pool) after the last feed. Returns 1,
	   or 0 when there is nothing worth caching. */
	int (*finish)(void *builder, pool_t pool, struct mail_cache_fields *fields_r);
	void (*deinit)(void *builder);
};
/* Sets the renderer used by every later save of this process (NULL: none,
   the cache is filled on first use). context is passed to init(). */
void mail_storage_set_cache_builder(const struct mail_cache_builder_vfuncs *v,
				    void *context);

/* Reads the record of the message at seq in the view. Returns 1, 0 if it
   was expunged meanwhile (content may still be readable), -1 on error. The
   record's memory is from pool. */
int mailbox_get_record(struct mailbox *box, uint32_t seq, pool_t pool,
		       struct mail_record *rec_r);
/* Iterates records of a sorted list of sequence numbers efficiently (one
   index query per run of nearby numbers). Messages expunged meanwhile are
   skipped. The callback returns 0 to go on, -1 to stop; the function
   returns 0, or -1 on error or when the callback stopped it. */
typedef int mail_record_callback_t(const struct mail_record *rec, uint32_t seq,
				   void *context);
int mailbox_foreach_record(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			   mail_record_callback_t *cb, void *context);
/* The same for callers that need only uid, flags, keywords and modseq of
   the record (FETCH FLAGS, flag updates): the other fields are zero. */
int mailbox_foreach_record_flags(struct mailbox *box, const uint32_t *seqs, unsigned int count,
				 mail_record_callback_t *cb, void *context);
/* The sequence numbers (ascending) of the view's messages whose modseq is
   above modseq (CONDSTORE's CHANGEDSINCE, RFC 7162 §3.1.4.1), found
   through the index's modseq order rather than by reading every record.
   Returns 0 or -1. */
int mailbox_view_changed_since(struct mailbox *box, uint64_t modseq, pool_t pool,
			       array_uint32_t *seqs_r);
/* The UIDs (ascending) of the mailbox's messages expunged after modseq
   (QRESYNC's VANISHED (EARLIER), RFC 7162 §3.2.5.1, §3.2.6): the index
   keeps every expunge with its modseq. UIDs may still be in the view
   when the view hasn't reported them yet. Returns 0 or -1. */
int mailbox_expunged_since(struct mailbox *box, uint64_t modseq, pool_t pool,
			   array_uint32_t *uids_r);
/* Starts reading the files of the messages at seqs (ascending) into the
   page cache in the background (posix_fadvise WILLNEED), so a FETCH that
   parses many messages from a cold disk keeps many reads in flight
   instead of waiting for one file after another. Advisory: errors are
   ignored. */
void mailbox_prefetch_content(struct mailbox *box, const uint32_t *seqs, unsigned int count);
/* Opens the message content (as stored, in its original line endings).
   Returns 1 with *input_r and *size_r, 0 if expunged, -1 on error. The
   stream owns its transport (see i_stream_create_file() in istream.h);
   the caller destroys it with i_stream_destroy(). */
int mailbox_open_message(struct mailbox *box, uint32_t uid, struct istream **input_r,
			 uint64_t *physical_size_r);

/* SEARCH's text keys (RFC 9051 §6.4.4), matched case-insensitively by
   i;unicode-casemap on decoded text (search-text.h defines exactly what
   text), through the user's full-text index. */
enum mail_search_text_key {
	MAIL_SEARCH_BODY,
	MAIL_SEARCH_TEXT,
	MAIL_SEARCH_HEADER,
	MAIL_SEARCH_FROM,
	MAIL_SEARCH_TO,
	MAIL_SEARCH_CC,
	MAIL_SEARCH_BCC,
	MAIL_SEARCH_SUBJECT,
};
/* Indexes the mailbox's messages that have no search data yet (those
   that did not arrive through mail_save or mailbox_copy). Returns 0 or -1. */
int mailbox_search_update(struct mailbox *box);
/* Indexes the named mailbox's messages uids (ascending, at most a few
   hundred) in one write transaction, without opening the mailbox (no disk
   sync, no view), moving the watermark along them where it was just below:
   for indexing deliveries' text later in batches (LMTP). Messages gone
   meanwhile are skipped. With fill_cache the message cache is rendered
   from the same read and stored too (for saves made with
   cache_on_demand). Returns 0 (also when the mailbox is gone) or -1. */
int mail_user_search_index_uids(struct mail_user *user, const char *name,
				const uint32_t *uids, unsigned int count, bool fill_cache);
/* Rebuilds the mailbox's search data from the message files (ternctl
   index rebuild). Returns 0 or -1. */
int mailbox_search_rebuild(struct mailbox *box);
/* Deletes up to max full-text rows of expunged messages of the user; 1 if
   more are left, 0 if none, -1 on error. Skipped (0) when another process
   holds the write lock. */
int mail_user_search_gc(struct mail_user *user, unsigned int max);
/* Appends, ascending, the UIDs of indexed messages whose text matches:
   needle is UTF-8, header_name the field for MAIL_SEARCH_HEADER. Call
   mailbox_search_update() first. Returns 0 or -1. */
int mailbox_search_text(struct mailbox *box, enum mail_search_text_key key,
			const char *header_name, const char *needle, array_uint32_t *uids_r);
/* The same test for one message by reading and parsing it (no index).
   Returns 1 if it matches, 0 if not or expunged, -1 on error. */
int mailbox_search_text_scan(struct mailbox *box, uint32_t uid, enum mail_search_text_key key,
			     const char *header_name, const char *needle);
/* Calls callback with the SORT/THREAD keys (search-keys.h) of each indexed
   message, ascending by UID; strings valid during the call only. fields
   (enum search_key_fields) says which keys to read; the others are "" or
   NULL. */
struct search_keys;
typedef int mail_search_keys_callback_t(uint32_t uid, const struct search_keys *keys,
					void *context);
int mailbox_search_foreach_keys(struct mailbox *box, unsigned int fields,
				mail_search_keys_callback_t *callback, void *context);

enum mail_flags_modify {
	MAIL_FLAGS_ADD,
	MAIL_FLAGS_REMOVE,
	MAIL_FLAGS_REPLACE,
};

struct mail_flags_change {
	enum mail_flags_modify modify;
	uint32_t flags;
	const char *const *keywords; /* NULL-terminated, may be NULL */
	uint64_t unchanged_since;    /* CONDSTORE: 0 = unconditional */
};

/* For the message at seq that another session expunged while this view
   still shows it: its flags and keywords as they were at the expunge,
   with change applied (NULL: none), so a STORE can answer with the flags
   the message would have (RFC 2180 §4.2). Only uid, flags, keywords and
   modseq (the expunge's) are set. Returns 1, 0 when unknown, -1 on error. */
int mailbox_get_expunged_record(struct mailbox *box, uint32_t seq,
				const struct mail_flags_change *change, pool_t pool,
				struct mail_record *rec_r);

/* Changes flags of the messages (sequence numbers) in one transaction with
   one new modseq. Messages whose modseq is above unchanged_since go to
   *failed_uids_r (may be NULL; initialised from pool otherwise). The
   view's next sync doesn't report these changes as FETCH: the caller
   reports them itself. Returns 0 / -1. */
int mailbox_update_flags(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			 const struct mail_flags_change *change, pool_t pool,
			 array_uint32_t *failed_uids_r);
/* Long work inside one call (filling the text index, the files of a COPY
   or MOVE, an EXPUNGE) calls cb now and then with the units done of
   total, so a protocol can tell its client it is still working (IMAP
   INPROGRESS, RFC 9585). cb NULL: none. */
typedef void mailbox_progress_callback_t(uint64_t done, uint64_t total, void *context);
void mailbox_set_progress_callback(struct mailbox *box, mailbox_progress_callback_t *cb,
				   void *context);
/* Expunges the messages with \Deleted (among uids, if uids != NULL).
   The view is not changed until the next sync. */
int mailbox_expunge(struct mailbox *box, const uint32_t *uids, unsigned int uid_count);

struct mail_copy_result {
	uint32_t uidvalidity;
	array_uint32_t src_uids, dest_uids;
};
/* Copies (or moves) messages to dest, all or nothing: MAIL_ERROR_NOTFOUND
   if dest doesn't exist ([TRYCREATE]), MAIL_ERROR_EXPUNGED if a message
   was expunged meanwhile. A move's expunges reach the view through its
   next sync. */
int mailbox_copy(struct mailbox *box, const uint32_t *seqs, unsigned int count,
		 const char *dest_name, bool move, pool_t pool,
		 struct mail_copy_result *result_r);

/* --- saving (APPEND, LMTP) --- */

struct mail_save;
struct mail_save_params {
	uint32_t flags;
	const char *const *keywords;
	time_t internal_date; /* (time_t)-1 = now */
	int internal_date_tz;
	/* the content is binary (RFC 3516 literal8): parts declared
	   Content-Transfer-Encoding: binary are stored base64-encoded */
	bool convert_binary;
};
/* Starts saving a message into mailbox name; content is streamed in with
   mail_save_write() (never held whole in memory). */
struct mail_save *mail_save_begin(struct mail_user *user, const char *name,
				  const struct mail_save_params *params);
int mail_save_write(struct mail_save *save, const void *data, size_t size);
/* Makes the message durable (file fsynced, directory fsynced, index
   committed) and returns its UID. Frees save. */
int mail_save_finish(struct mail_save **save, uint32_t *uidvalidity_r, uint32_t *uid_r);
void mail_save_abort(struct mail_save **save);
/* Commits several saves into the same mailbox in one index transaction
   (MULTIAPPEND, RFC 3502): all appear or none do. uids_r gets count UIDs.
   Frees the saves (sets saves[i] to NULL) whatever the result. A crash
   during the commit may leave some of the files, which the next sync then
   indexes, as for a single save. */
int mail_save_finish_multi(struct mail_save **saves, unsigned int count,
			   uint32_t *uidvalidity_r, uint32_t *uids_r);
/* REPLACE (RFC 8508 §3.4): commits save like mail_save_finish() and, in
   the same index transaction, expunges the message old_uid of box, which
   may be another mailbox than the save's. The old message's content is
   removed only after the new one is durable. MAIL_ERROR_EXPUNGED when it
   is gone already (then nothing is saved), MAIL_ERROR_PERM for a
   read-only box. The view reports the expunge at its next sync. Frees
   save. */
int mail_save_finish_replace(struct mail_save **save, struct mailbox *box, uint32_t old_uid,
			     uint32_t *uidvalidity_r, uint32_t *uid_r);

/* --- per-user secrets (mail-user-secret.c) --- */

/* Random keys of a user kept by name (printable ASCII without spaces, at
   most 128 bytes) in the mail home, such as URLAUTH's mailbox access keys
   (RFC 4467 §7). */
#define MAIL_USER_SECRET_SIZE 32
/* Returns 1 with the key, 0 if there is none and !create, -1 on error.
   With create, a missing key is made and stored durably before it is
   returned. */
int mail_user_secret_get(struct mail_user *user, const char *name, bool create,
			 unsigned char secret_r[MAIL_USER_SECRET_SIZE]);
/* Forgets every key whose name starts with prefix. Returns 0 or -1. */
int mail_user_secret_reset(struct mail_user *user, const char *prefix);

#endif
