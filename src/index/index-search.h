/* The search part of the index (schema version 4, index-schema.c): per
 * message its searchable text in the full-text index (FTS5 with the
 * trigram tokenizer, so a search is an exact substring match of the
 * canonical-form text) and its SORT/THREAD keys. The text arrives already
 * in canonical form (src/search); this layer only stores and finds it. */
#ifndef TERN_INDEX_SEARCH_H
#define TERN_INDEX_SEARCH_H

#include "array.h"
#include "index-db.h"

#include <stdint.h>

/* Needles shorter than this many characters cannot use the trigram index
   and are found by scanning the stored text. */
#define INDEX_SEARCH_MIN_INDEXED_CHARS 3

enum index_search_column {
	INDEX_SEARCH_HEADER,
	INDEX_SEARCH_BODY,
	INDEX_SEARCH_FROM,
	INDEX_SEARCH_TO,
	INDEX_SEARCH_CC,
	INDEX_SEARCH_BCC,
	INDEX_SEARCH_SUBJECT,
	INDEX_SEARCH_COLUMN_COUNT
};

struct index_search_keys {
	uint32_t uid;
	bool has_sent_date;
	int64_t sent_date;
	int sent_tz;
	const char *from_addr, *to_addr, *cc_addr;
	const char *from_display, *to_display;
	const char *subject;
	bool subject_reply;
	const char *message_id, *in_reply_to, *references;
};

struct index_search_doc {
	/* canonical-form text of each column (NULL = "") */
	const char *text[INDEX_SEARCH_COLUMN_COUNT];
	size_t text_len[INDEX_SEARCH_COLUMN_COUNT];
	bool truncated;
	struct index_search_keys keys;
};

/* Stores the message's document, replacing an older one; nothing if the
   message no longer exists. Needs a write transaction. Returns 0 or -1. */
int index_search_put(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		     const struct index_search_doc *doc);

/* Every message up to this UID has a document (0 if none is known). */
int index_search_get_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t *uid_r);
/* Needs a write transaction. */
int index_search_set_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid);
/* After uid's document was stored: moves the watermark to uid if it was
   at uid - 1, so that a mailbox filled by APPEND/LMTP never needs a
   catch-up scan. Needs a write transaction. */
int index_search_advance_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid);
/* Appends the UIDs above after_uid that have no document, ascending, and
   sets *max_uid_r to the mailbox's highest UID (0 if empty). */
int index_search_list_missing(struct index_db *db, int64_t mailbox_id, uint32_t after_uid,
			      array_uint32_t *uids_r, uint32_t *max_uid_r);

/* Appends, ascending, the UIDs whose column contains needle (canonical
   form, not empty). Returns 0 or -1. */
int index_search_match(struct index_db *db, int64_t mailbox_id,
		       enum index_search_column column, const char *needle,
		       array_uint32_t *uids_r);

/* Calls callback with the column text of each message whose column
   contains prefilter (NULL or "": every message), ascending by UID. A
   callback returning -1 stops with -1. */
typedef int index_search_text_callback_t(uint32_t uid, const char *text, size_t len,
					 void *context);
int index_search_iter_text(struct index_db *db, int64_t mailbox_id,
			   enum index_search_column column, const char *prefilter,
			   index_search_text_callback_t *callback, void *context);

/* Calls callback with the keys of every message that has a document,
   ascending by UID. The strings are valid during the call only. */
typedef int index_search_keys_callback_t(const struct index_search_keys *keys, void *context);
/* Which keys index_search_iter_keys() reads; the others are left NULL
   (or 0). Reading only what a SORT needs makes it a narrow scan. */
enum index_search_key_fields {
	INDEX_SEARCH_KEYS_DATE = 0x01,    /* has_sent_date, sent_date, sent_tz */
	INDEX_SEARCH_KEYS_ADDR = 0x02,    /* from_addr, to_addr, cc_addr */
	INDEX_SEARCH_KEYS_DISPLAY = 0x04, /* from_display, to_display */
	INDEX_SEARCH_KEYS_SUBJECT = 0x08, /* subject, subject_reply */
	INDEX_SEARCH_KEYS_THREAD = 0x10,  /* message_id, in_reply_to, references */
	INDEX_SEARCH_KEYS_ALL = 0x1f,
};
int index_search_iter_keys(struct index_db *db, int64_t mailbox_id, unsigned int fields,
			   index_search_keys_callback_t *callback, void *context);

/* Gives the destination message of a COPY (move = false: a duplicate of
   the document) or MOVE (the document itself moves) the source's search
   data; nothing if the source has none. Needs a write transaction. */
int index_search_copy(struct index_db *db, int64_t src_mailbox_id, uint32_t src_uid,
		      int64_t dest_mailbox_id, uint32_t dest_uid, bool move);

/* Forgets the documents of every message of the mailbox (queued for gc),
   so that they are rebuilt. Needs a write transaction. */
int index_search_reset(struct index_db *db, int64_t mailbox_id);

/* Deletes up to max full-text rows of deleted messages. Needs a write
   transaction. *more_r tells whether some are left. */
int index_search_gc(struct index_db *db, unsigned int max, bool *more_r);
/* True if deleted messages' rows wait for index_search_gc(). */
int index_search_gc_pending(struct index_db *db, bool *pending_r);

#endif
