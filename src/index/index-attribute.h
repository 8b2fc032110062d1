/* Mailbox and server attributes in the index: the rows behind RFC 5464
 * METADATA entries (and Sieve's mboxmetadata/servermetadata later). A row
 * is (mailbox id or INDEX_ATTRIBUTE_SERVER, private or shared, key, binary
 * value). Keys are stored as given: validating and case-folding them is
 * the storage layer's job (mailbox-attribute.h). Rows follow a mailbox
 * through renames (they are keyed by its id) and go with it (triggers,
 * index-schema.c). */
#ifndef TERN_INDEX_ATTRIBUTE_H
#define TERN_INDEX_ATTRIBUTE_H

#include "array.h"
#include "index-db.h"

/* The mailbox id of the server's entries (mailbox ids start at 1). */
#define INDEX_ATTRIBUTE_SERVER 0

enum index_attribute_type {
	INDEX_ATTRIBUTE_PRIVATE = 0,
	INDEX_ATTRIBUTE_SHARED = 1,
};

struct index_attribute {
	const char *key;
	const unsigned char *value; /* never NULL, even when size is 0 */
	size_t size;
};
typedef ARRAY(struct index_attribute) array_index_attribute_t;

/* Reads one value. Returns 1 with *value_r and *size_r (from pool, with a NUL
   after the last byte for convenience), 0 if there is no such row, -1. */
int index_attribute_get(struct index_db *db, int64_t mailbox_id,
			enum index_attribute_type type, const char *key, pool_t pool,
			const unsigned char **value_r, size_t *size_r);
/* Appends the rows whose key is prefix or below it ("prefix/" and more), all
   rows of the type for prefix "", sorted by key (byte order), to list
   (initialised by the caller). Memory from pool. Returns 0 or -1. */
int index_attribute_list(struct index_db *db, int64_t mailbox_id,
			 enum index_attribute_type type, const char *prefix, pool_t pool,
			 array_index_attribute_t *list);
/* Every row of the user, as (mailbox id, type, key, a hash of the
   value), sorted by mailbox id, type and key: what NOTIFY compares to
   tell which entries changed (RFC 5465 §5.6, §5.7). */
struct index_attribute_digest {
	int64_t mailbox_id;
	enum index_attribute_type type;
	const char *key;
	uint64_t value_hash;
};
typedef ARRAY(struct index_attribute_digest) array_index_attribute_digest_t;
int index_attribute_digest(struct index_db *db, pool_t pool,
			   array_index_attribute_digest_t *list);
/* Rows of one mailbox (or the server), both types. Returns 0 or -1. */
int index_attribute_count(struct index_db *db, int64_t mailbox_id, unsigned int *count_r);
/* Rows of the whole user and their size (key plus value bytes). Returns
   0 or -1. */
int index_attribute_usage(struct index_db *db, unsigned int *count_r, uint64_t *size_r);

/* The functions below need a write transaction; they return 0 or -1. */

/* Sets a value, replacing any (value may be NULL when size is 0). */
int index_attribute_set(struct index_db *db, int64_t mailbox_id,
			enum index_attribute_type type, const char *key,
			const void *value, size_t size);
/* Removes a row; no row is fine. */
int index_attribute_unset(struct index_db *db, int64_t mailbox_id,
			  enum index_attribute_type type, const char *key);
/* Gives every row of mailbox from_id to mailbox to_id (which should have
   none; rows it has with the same key are replaced). */
int index_attribute_move(struct index_db *db, int64_t from_id, int64_t to_id);

#endif
