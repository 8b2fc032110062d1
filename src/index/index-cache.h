/* The message cache of the index: per message, what FETCH renders from
 * the parsed structure (ENVELOPE, BODY, BODYSTRUCTURE), so that repeated
 * fetches of them read one row instead of the message file; and the
 * message's header block, for header sections. */
#ifndef TERN_INDEX_CACHE_H
#define TERN_INDEX_CACHE_H

#include "index-db.h"
#include "pool.h"

/* Each field is NULL when not cached. */
struct index_cache_fields {
	const char *envelope;
	const char *body;
	const char *bodystructure;
	/* the root header block, as the storage layer encoded it */
	const void *header;
	size_t header_size;
};

/* Returns 1 with the row's fields (from pool), 0 if the message has no
   row, -1 on error. */
int index_cache_get(struct index_db *db, int64_t mailbox_id, uint32_t uid, pool_t pool,
		    struct index_cache_fields *fields_r);
/* Calls cb for each cache row of UIDs uid1..uid2, ascending (one range
   read: FETCH of many cached messages). Fields are valid during the call.
   cb returns 0 to go on, -1 to stop. Returns 0, or -1 on error or stop. */
typedef int index_cache_callback_t(uint32_t uid, const struct index_cache_fields *fields,
				   void *context);
int index_cache_iter_range(struct index_db *db, int64_t mailbox_id, uint32_t uid1,
			   uint32_t uid2, index_cache_callback_t *cb, void *context);
/* Stores the non-NULL fields for an existing message (silently nothing
   for one that was expunged). Needs a write transaction. Returns 0 or -1. */
int index_cache_put(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		    const struct index_cache_fields *fields);
/* Gives the (existing) message dest_uid of dest_mailbox_id the cache row
   of src_uid in src_mailbox_id, if it has one (COPY, MOVE: same content,
   same answers). Needs a write transaction. Returns 0 or -1. */
int index_cache_copy(struct index_db *db, int64_t src_mailbox_id, uint32_t src_uid,
		     int64_t dest_mailbox_id, uint32_t dest_uid);

#endif
