/* Message rows of the index: reading them (single, ordered UID ranges,
 * changes since a modseq, the UID set of a mailbox) and changing them
 * through a change context that keeps the mailbox row (UIDNEXT,
 * HIGHESTMODSEQ, cached counts), the UID map and the expunge log exact in
 * the same transaction. */
#ifndef TERN_INDEX_MESSAGE_H
#define TERN_INDEX_MESSAGE_H

#include "array.h"
#include "index-mailbox.h"

/* System flag bits as stored (the same values as enum mail_flags). */
#define INDEX_FLAG_DELETED 0x04
#define INDEX_FLAG_SEEN 0x08
#define INDEX_FLAGS_MASK 0x1f

struct index_message {
	uint32_t uid;
	uint32_t flags;
	uint64_t modseq;
	const char *keywords; /* space-separated, NULL if none */
	const char *filename; /* the driver's name for the content */
	const char *fileinfo; /* driver's extra location data, may be NULL */
	int64_t internal_date;
	int32_t internal_tz;
	int64_t save_date;
	uint64_t size;  /* RFC822.SIZE */
	uint64_t psize; /* stored size */
	const char *guid;
};

typedef ARRAY(struct index_message) array_index_message_t;

struct index_uid_modseq {
	uint32_t uid;
	uint64_t modseq;
};
typedef ARRAY(struct index_uid_modseq) array_index_uid_modseq_t;

/* --- reading --- */

/* Returns 1 with *msg_r (strings from pool), 0 if no such row, -1. */
int index_message_get(struct index_db *db, int64_t mailbox_id, uint32_t uid, pool_t pool,
		      struct index_message *msg_r);
int index_message_find_file(struct index_db *db, int64_t mailbox_id, const char *filename,
			    pool_t pool, struct index_message *msg_r);
/* The mailbox's UIDs, ascending, appended to uids. Returns 0 or -1. */
int index_uidmap_load(struct index_db *db, int64_t mailbox_id, array_uint32_t *uids);
/* Rows with modseq > modseq (uid and modseq only), in no particular order. */
int index_changes_since(struct index_db *db, int64_t mailbox_id, uint64_t modseq,
			array_index_uid_modseq_t *changes);
/* The flags and keywords (space-separated, NULL: none; in pool) uid had
   when it was last expunged, and that expunge's modseq. Returns 1, 0 when
   the index doesn't know (never expunged, or logged before version 7),
   -1 on error. */
int index_expunged_get(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		       pool_t pool, uint32_t *flags_r, const char **keywords_r,
		       uint64_t *modseq_r);
/* UIDs expunged after modseq, in no particular order. */
int index_expunged_since(struct index_db *db, int64_t mailbox_id, uint64_t modseq,
			 array_uint32_t *uids);
/* The lowest UID without \Seen: returns 1, 0 if none, -1. */
int index_first_unseen_uid(struct index_db *db, int64_t mailbox_id, uint32_t *uid_r);
/* Number of messages with UID >= uid. Returns 0 or -1. */
int index_count_from_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid,
			 uint32_t *count_r);

enum index_iter_order {
	INDEX_ITER_UID_RANGE,  /* uid in [uid1, uid2], ascending */
	/* the same, with only uid, flags, modseq and keywords filled in (the
	   strings are NULL, the numbers 0): for FETCH FLAGS, several times
	   faster than whole rows */
	INDEX_ITER_UID_RANGE_FLAGS,
	INDEX_ITER_DELETED,    /* rows with \Deleted, ascending uid */
	INDEX_ITER_CHANGED,    /* (modseq, uid) above (modseq, uid1), by modseq */
};
struct index_iter;
/* Iterates rows; other index calls may be made while iterating (even
   another iteration). For INDEX_ITER_CHANGED, uid1 is the UID after which
   to start within modseq, and at most uid2 rows are returned. */
struct index_iter *index_iter_init(struct index_db *db, int64_t mailbox_id,
				   enum index_iter_order order, uint64_t modseq,
				   uint32_t uid1, uint32_t uid2);
/* Returns 1 with *msg_r (strings valid until the next call), 0 at the
   end, -1 on error. */
int index_iter_next(struct index_iter *iter, struct index_message *msg_r);
/* Returns 0, or -1 if the iteration failed. */
int index_iter_deinit(struct index_iter **iter);

/* --- changing (inside a write transaction) --- */

struct index_change;

/* Starts changing a mailbox: reads its row. All changes made through the
   context share one new modseq (HIGHESTMODSEQ + 1), which is written only
   if something changed. Returns 1, 0 if the mailbox doesn't exist or is
   not selectable, -1. */
int index_change_begin(struct index_db *db, int64_t mailbox_id, struct index_change **ch_r);
/* The mailbox row as read at begin (before this context's changes). */
const struct index_mailbox *index_change_get_mailbox(const struct index_change *ch);
/* The modseq the context's changes get (if it makes any). */
uint64_t index_change_get_modseq(const struct index_change *ch);
/* Whether anything visible to clients changed (and so the modseq used). */
bool index_change_has_changes(const struct index_change *ch);
/* Adds a message with the next UID; fills msg->uid and msg->modseq.
   msg->keywords must already be defined (index_keywords_define()). */
int index_change_append(struct index_change *ch, struct index_message *msg);
/* Removes a message (uid, flags and size are used) and logs the expunge. */
int index_change_expunge(struct index_change *ch, const struct index_message *old);
/* Sets flags and keywords of one message (old: its current row) and,
   if fileinfo != NULL, its file info (which then must show the flags). */
int index_change_set_flags(struct index_change *ch, const struct index_message *old,
			   uint32_t flags, const char *keywords, const char *fileinfo);
/* Changes system flags of every message in [uid1, uid2] whose modseq is
   <= unchanged_since (0 = no limit): new = (flags & ~clear) | set; with
   clear_keywords, keywords are removed too. Rows above unchanged_since are
   appended to failed_uids (if not NULL). *changed_r counts changed rows. */
int index_change_update_range(struct index_change *ch, uint32_t uid1, uint32_t uid2,
			      uint32_t set, uint32_t clear, bool clear_keywords,
			      uint64_t unchanged_since, array_uint32_t *failed_uids,
			      unsigned int *changed_r);
/* Updates only the file info (flag mirroring); not a change clients see. */
int index_change_set_fileinfo(struct index_change *ch, uint32_t uid, const char *fileinfo);
/* Records the driver's disk stamp with the change. */
void index_change_set_disk_stamp(struct index_change *ch, int64_t stamp);
int64_t index_change_get_disk_stamp(const struct index_change *ch);
/* The change leaves file names with stale flags (set_flags() and
   update_range() mark this themselves). */
void index_change_mark_mirror_dirty(struct index_change *ch);
/* Writes the mailbox row and the UID map; frees the context. Returns 0/-1
   (on -1 the caller rolls the transaction back). */
int index_change_finish(struct index_change **ch);
/* Frees the context without writing (the caller rolls back). */
void index_change_abort(struct index_change **ch);

#endif
