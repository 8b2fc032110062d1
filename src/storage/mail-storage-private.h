/* Internals shared by the storage core and its drivers: the user, the
 * mailbox view, the save context and the driver vtable. The core owns the
 * index transactions; a driver only moves message files, and is called
 * inside the core's write transactions when its file changes must be
 * atomic with the index rows. */
#ifndef TERN_MAIL_STORAGE_PRIVATE_H
#define TERN_MAIL_STORAGE_PRIVATE_H

#include "mail-storage.h"
#include "index-db.h"
#include "index-mailbox.h"
#include "index-message.h"
#include "log.h"

/* Budgets for deferred work (mirroring flags into file names). */

/* Growth limits per user (MAIL_ERROR_LIMIT beyond them). */
#define MAIL_USER_MAILBOXES_MAX 10000
#define MAIL_USER_SUBSCRIPTIONS_MAX 10000

enum mail_disk_sync_flags {
	MAIL_DISK_SYNC_NEW = 0x01, /* pick up new deliveries (maildir new/) */
	MAIL_DISK_SYNC_CUR = 0x02, /* find changes by other programs */
};

/* Where an interrupted pass of flag mirroring goes on. */
struct mail_mirror_state {
	bool active;
	uint64_t pos_modseq, target_modseq;
	uint32_t pos_uid;
};

struct mail_save {
	struct mail_user *user;
	pool_t pool;
	/* the message's searchable text, built as it is written, and the
	   document made of it before the commit */
	struct search_text_builder *search;
	struct index_search_doc *search_doc;
	/* binary content being spooled for conversion (mail-save-binary.c) */
	struct mail_save_binary *binary;
	/* the registered cache renderer (as it was at mail_save_begin()),
	   its state, and what it rendered */
	const struct mail_cache_builder_vfuncs *cache_builder_v;
	void *cache_builder;
	struct mail_cache_fields *cache_fields;
	int64_t mailbox_id;
	const char *dir;
	struct index_message msg;
	const char **keywords;
	unsigned int keyword_count;
	bool failed;
};

struct mail_storage_vfuncs {
	const char *name;

	/* index_created: the index is new (first login or rebuilt); the
	   driver may add rows for mailboxes it finds on disk. */
	int (*user_init)(struct mail_user *user, bool index_created);
	void (*user_deinit)(struct mail_user *user);

	/* The location for a new mailbox name (temporary memory). */
	const char *(*mailbox_dir_name)(struct mail_user *user, const char *name);
	bool (*mailbox_dir_exists)(struct mail_user *user, const char *dir);
	/* Returns 1 if created, 0 if it existed already, -1. */
	int (*mailbox_dir_create)(struct mail_user *user, const char *dir);
	/* Removes the mailbox's messages and location. */
	int (*mailbox_dir_delete)(struct mail_user *user, const char *dir);
	int (*mailbox_dir_rename)(struct mail_user *user, const char *old_dir,
				  const char *new_dir);
	/* Token that changes whenever files of the mailbox are added, removed
	   or renamed (maildir: cur/ mtime in ns); 0 = unknown/not trusted. */
	int64_t (*disk_stamp)(struct mail_user *user, const char *dir);
	/* Brings the index up to date with the disk. Opens its own write
	   transactions. */
	int (*sync_disk)(struct mail_user *user, int64_t mailbox_id,
			 enum mail_disk_sync_flags flags);
	/* Mirrors flags into file names until deadline (ms, monotonic).
	   Returns 1 if work remains, 0 when done, -1. */
	int (*mirror_flags)(struct mail_user *user, int64_t mailbox_id,
			    struct mail_mirror_state *state, uint64_t deadline_ms);
	/* The directories to watch for deliveries and for other changes
	   made by other programs (temporary memory). */
	void (*notify_paths)(struct mail_user *user, const char *dir,
			     const char **new_dir_r, const char **cur_dir_r);

	/* Opens message content: 1 with *fd_r, 0 if the file is gone, -1. */
	int (*message_open)(struct mail_user *user, const char *dir,
			    const struct index_message *msg, int *fd_r);

	struct mail_save *(*save_alloc)(struct mail_user *user);
	int (*save_begin)(struct mail_save *save);
	int (*save_write)(struct mail_save *save, const void *data, size_t size);
	/* Flushes and syncs the content; fills msg.psize and msg.size. */
	int (*save_prepare)(struct mail_save *save);
	/* Under the write lock: moves the content into dir (the mailbox's
	   current location) and fills msg.filename and msg.fileinfo; the
	   core makes it durable with sync_dir(). */
	int (*save_commit_file)(struct mail_save *save, const char *dir);
	/* The index commit failed after save_commit_file(): remove it. */
	void (*save_revert_file)(struct mail_save *save);
	/* Frees the driver's part (removes the temporary file if any). */
	void (*save_free)(struct mail_save *save);

	/* Under the write lock: makes msg's content also appear in dest_dir
	   with flags; fills *filename_r and *fileinfo_r (from pool). Returns
	   1, 0 if the source is gone, -1. */
	int (*copy_file)(struct mail_user *user, const char *src_dir,
			 const struct index_message *msg, const char *dest_dir,
			 uint32_t flags, pool_t pool, const char **filename_r,
			 const char **fileinfo_r);
	/* Removes a message's content (gone already is fine). */
	int (*expunge_file)(struct mail_user *user, const char *dir,
			    const struct index_message *msg);
	/* Makes additions and removals in dir durable. */
	int (*sync_dir)(struct mail_user *user, const char *dir);
};

struct mail_user {
	pool_t pool;
	/* mail_user_settings.text_index_on_demand, cache_on_demand */
	bool text_index_on_demand;
	bool cache_on_demand;
	const struct mail_storage_vfuncs *v;
	void *driver_context;
	char *username, *home, *notify_path;
	struct index_db *db;
	struct log_ctx log;
	int notify_fd;
	/* NOTIFY: the user's watcher and its own changes (mailbox-notify.c,
	   mail-user-changes.c); NULL until used */
	struct mail_user_watch *watch;
	struct mail_own_changes *own;

	enum mail_error error;
	char *error_text;
};

struct uid_range {
	uint32_t first, last;
};

struct mailbox {
	struct mail_user *user;
	pool_t pool;
	char *name, *dir;
	int64_t id;
	enum mailbox_open_flags flags;
	uint32_t uidvalidity, uidnext;
	uint64_t modseq; /* the view matches the index up to here */

	array_uint32_t uids;             /* the view: sequence -> UID */
	array_uint32_t pending_expunges; /* sorted; still in the view */
	ARRAY(uint64_t) own_modseqs;     /* this view's flag changes */
	ARRAY(struct uid_range) recent;

	pool_t status_pool;
	struct mailbox_status status;

	uint32_t first_unseen_uid;
	struct mail_mirror_state mirror;
	bool mirror_pending;
	/* full-text rows of expunged messages may wait (mail_user_search_gc) */
	bool search_gc_pending;
	bool disk_dirty;
	bool deleted;

	/* eventfd woken by the process's inotify reader (mailbox-notify.c);
	   watches of the notification file, new/ and cur/ */
	int notify_fd;
	int notify_wds[3];
	bool notify_signaled;

	/* mailbox_set_progress_callback() */
	mailbox_progress_callback_t *progress_cb;
	void *progress_context;
};

static inline void mailbox_progress(struct mailbox *box, uint64_t done, uint64_t total)
{
	if (box->progress_cb != NULL)
		box->progress_cb(done, total, box->progress_context);
}

/* mail-user.c: errors. Each returns -1 for convenient tail calls. */
void mail_user_clear_error(struct mail_user *user);
int mail_user_set_error(struct mail_user *user, enum mail_error error, const char *text);
/* Internal failure: logs detail with a fresh id, tells the user the id. */
int mail_user_set_internal_error(struct mail_user *user, const char *event,
				 const char *detail);
/* errno-based failure of a file operation. */
int mail_user_set_syscall_error(struct mail_user *user, const char *func,
				const char *path, int err);
/* Failure of an index call (uses the index's error). */
int mail_user_set_index_error(struct mail_user *user, const char *what);
/* A short random id/guid in hex (temporary memory). */
const char *mail_random_hex(unsigned int bytes);
/* Wakes every session watching this user's mailboxes. */
void mail_user_notify_changed(struct mail_user *user);
/* Monotonic clock in milliseconds. */
uint64_t mail_now_ms(void);

/* Write transactions with errors set on the user. */
int mail_user_begin_write(struct mail_user *user);
int mail_user_commit(struct mail_user *user);
void mail_user_rollback(struct mail_user *user);

/* Brackets a driver's own change of a mailbox's files inside a write
   transaction, so that it does not look like an external change to the
   next disk sync (the stamp moves only if nothing else changed it). End
   it right after the changes, before any fsync, to keep the window in
   which another program's change could pass unnoticed short. */
int64_t mail_own_change_begin(struct mail_user *user, const char *dir);
void mail_own_change_end(struct mail_user *user, const char *dir, int64_t before,
			 struct index_change *ch);

/* mail-save.c: writes content to the driver and the text/cache builders
   (mail_save_write() without the binary spool). */
int mail_save_write_content(struct mail_save *save, const void *data, size_t size);
/* mail-save-binary.c: a save of binary content (struct
   mail_save_params.convert_binary) spools it; finish writes the message
   with every "binary" leaf part re-encoded as base64 through
   mail_save_write_content(). */
struct mail_save_binary *mail_save_binary_create(struct mail_user *user);
void mail_save_binary_destroy(struct mail_save_binary **binary);
int mail_save_binary_write(struct mail_save *save, const void *data, size_t size);
int mail_save_binary_finish(struct mail_save *save);

/* mail-cache.c: the message cache filled at save (struct
   mail_cache_builder_vfuncs). begin/feed/finish follow mail_save_begin(),
   _write() and the step before the write lock; finish leaves the rendered
   fields in save->cache_fields (or NULL) and frees the renderer, as free
   does for a save that ends otherwise. */
void mail_cache_builder_begin(struct mail_save *save);
void mail_cache_builder_feed(struct mail_save *save, const void *data, size_t size);
void mail_cache_builder_finish(struct mail_save *save);
void mail_cache_builder_free(struct mail_save *save);
/* The same renderer outside a save, for a message read from its file
   (mail_user_search_index_uids() with fill_cache). begin returns NULL when
   the process has none; finish returns true with *fields_r filled (from
   pool) and frees the renderer, as free does. */
struct mail_cache_render;
struct mail_cache_render *mail_cache_render_begin(pool_t pool);
void mail_cache_render_feed(struct mail_cache_render *r, const void *data, size_t size);
bool mail_cache_render_finish(struct mail_cache_render **r, pool_t pool,
			      struct mail_cache_fields *fields_r);
void mail_cache_render_free(struct mail_cache_render **r);
/* Stores a message's cache fields inside the current write transaction.
   Returns 0 or -1 (index error). */
int mail_cache_put_locked(struct mail_user *user, int64_t mailbox_id, uint32_t uid,
			  const struct mail_cache_fields *fields);

/* mailbox-list.c */
bool mailbox_name_is_valid(const char *name);
/* Creates a mailbox row and its location (in a write transaction),
   creating missing parents. Returns 0 or -1 (error set). */
int mailbox_create_locked(struct mail_user *user, const char *name,
			  enum mailbox_special_use special_use);
/* Moves a mailbox's location to the one its name asks for, after a
   rename (in a write transaction). */
int mailbox_fix_dir_locked(struct mail_user *user, const struct index_mailbox *mb);

/* mailbox-attribute.c: gives the metadata entries of mailbox from to
   mailbox to (INBOX's RENAME moves them with the messages). In a write
   transaction; returns 0 or -1 (error set). */
int mailbox_attributes_move_locked(struct mail_user *user, const char *from, const char *to);

/* mail-search.c: the index document of a message's searchable text. */
struct search_text;
struct index_search_doc;
void mail_search_doc_from_text(pool_t pool, const struct search_text *text,
			       struct index_search_doc *doc_r);

/* mail-flags.c: keyword handling shared by save, copy and flags. */
/* Validates keywords; returns 0 or -1 with MAIL_ERROR_PARAMS set. */
int mail_keywords_validate(struct mail_user *user, const char *const *keywords);
/* Joins keywords into the stored form (NULL if none). */
const char *mail_keywords_join(pool_t pool, const char *const *keywords, unsigned int count);
/* Splits the stored form into a NULL-terminated array. */
const char *const *mail_keywords_split(pool_t pool, const char *stored);

/* mailbox-notify.c: stops watching for the view. */
void mailbox_notify_deinit(struct mailbox *box);

/* mail-user-changes.c: own changes (mail_user_track_own_changes()). A
   write transaction notes the modseq it takes in a mailbox (or the list
   version it takes: mailbox_id 0) before its commit; the commit keeps
   them, a rollback drops them. */
void mail_user_own_change(struct mail_user *user, int64_t mailbox_id, uint64_t modseq);
/* The same for a change context, right before index_change_finish(). */
void mail_user_own_index_change(struct mail_user *user, const struct index_change *ch);
void mail_user_own_changes_committed(struct mail_user *user, bool committed);
/* Raises the list version in the current write transaction (mailbox-list.c,
   for every CREATE, DELETE, RENAME and (UN)SUBSCRIBE). Returns 0 or -1
   with the error set. */
int mail_user_list_changed_locked(struct mail_user *user);
/* Raises the attribute version in the open write transaction (METADATA
   changed; NOTIFY compares it) and notes it as the user's own. */
int mail_user_attributes_changed_locked(struct mail_user *user);
void mail_user_own_changes_free(struct mail_user *user);

/* mailbox-view.c */
/* Brings the index up to date with the disk for mb (a location that
   vanished is looked for after a rename, or recreated empty). */
int mailbox_sync_disk(struct mail_user *user, struct index_mailbox *mb,
		      enum mail_disk_sync_flags flags);
/* Reads the first unseen UID and the keywords (inside a read
   transaction). Returns 0 or -1 (index error, not set on the user). */
int mailbox_view_read_extras(struct mailbox *box);
/* Claims (or, read-only, just notes) \Recent UIDs up to mb->uidnext. */
int mailbox_view_update_recent(struct mailbox *box, const struct index_mailbox *mb);
void mailbox_view_update_status(struct mailbox *box, const struct index_mailbox *mb);
int mailbox_run_deferred_until(struct mailbox *box, uint64_t deadline_ms);

extern const struct mail_storage_vfuncs maildir_storage_vfuncs;

#endif
