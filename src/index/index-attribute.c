/* Mailbox and server attribute rows of the index (RFC 5464 METADATA
 * entries): lookups, prefix listings, usage counts and changes. */
#include "index-attribute.h"
#include "index-db-private.h"

/* Copies a blob column into pool with a NUL after it; SQLite returns NULL
   for an empty blob, which callers should not have to care about. */
static const unsigned char *index_attribute_column_value(sqlite3_stmt *stmt, int idx,
							 pool_t pool, size_t *size_r)
{
	const void *data = sqlite3_column_blob(stmt, idx);
	size_t size = (size_t)sqlite3_column_bytes(stmt, idx);
	unsigned char *value = p_malloc(pool, size + 1);
	if (size > 0)
		memcpy(value, data, size);
	value[size] = '\0';
	*size_r = size;
	return value;
}

static void index_attribute_bind_key(sqlite3_stmt *stmt, int64_t mailbox_id,
				     enum index_attribute_type type, const char *key)
{
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int(stmt, 2, (int)type);
	sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
}

int index_attribute_get(struct index_db *db, int64_t mailbox_id,
			enum index_attribute_type type, const char *key, pool_t pool,
			const unsigned char **value_r, size_t *size_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_GET);
	if (stmt == NULL)
		return -1;
	index_attribute_bind_key(stmt, mailbox_id, type, key);
	int ret = index_db_step_row(db, stmt, "read attribute");
	if (ret > 0) {
		*value_r = index_attribute_column_value(stmt, 0, pool, size_r);
		sqlite3_reset(stmt);
	}
	return ret;
}

int index_attribute_list(struct index_db *db, int64_t mailbox_id,
			 enum index_attribute_type type, const char *prefix, pool_t pool,
			 array_index_attribute_t *list)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_LIST);
	if (stmt == NULL)
		return -1;
	index_attribute_bind_key(stmt, mailbox_id, type, prefix);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_attribute *attr = array_append_space(list);
		attr->key = p_strdup(pool, index_column_text(stmt, 0));
		attr->value = index_attribute_column_value(stmt, 1, pool, &attr->size);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return index_db_fail(db, "list attributes");
	return 0;
}

int index_attribute_count(struct index_db *db, int64_t mailbox_id, unsigned int *count_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_COUNT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	if (index_db_step_row(db, stmt, "count attributes") <= 0)
		return -1;
	*count_r = (unsigned int)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

int index_attribute_usage(struct index_db *db, unsigned int *count_r, uint64_t *size_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_USAGE);
	if (stmt == NULL)
		return -1;
	if (index_db_step_row(db, stmt, "sum attributes") <= 0)
		return -1;
	*count_r = (unsigned int)sqlite3_column_int64(stmt, 0);
	*size_r = (uint64_t)sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

int index_attribute_set(struct index_db *db, int64_t mailbox_id,
			enum index_attribute_type type, const char *key,
			const void *value, size_t size)
{
	i_assert(db->in_write);
	if (size > INT32_MAX)
		return index_db_fail_text(db, "set attribute: value too large");
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_SET);
	if (stmt == NULL)
		return -1;
	index_attribute_bind_key(stmt, mailbox_id, type, key);
	/* a NULL pointer would bind SQL NULL, not an empty blob */
	sqlite3_bind_blob(stmt, 4, value == NULL ? "" : value, (int)size, SQLITE_STATIC);
	return index_db_exec_stmt(db, stmt, "set attribute");
}

int index_attribute_unset(struct index_db *db, int64_t mailbox_id,
			  enum index_attribute_type type, const char *key)
{
	i_assert(db->in_write);
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_UNSET);
	if (stmt == NULL)
		return -1;
	index_attribute_bind_key(stmt, mailbox_id, type, key);
	return index_db_exec_stmt(db, stmt, "unset attribute");
}

int index_attribute_move(struct index_db *db, int64_t from_id, int64_t to_id)
{
	i_assert(db->in_write);
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_MOVE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, from_id);
	sqlite3_bind_int64(stmt, 2, to_id);
	return index_db_exec_stmt(db, stmt, "move attributes");
}

/* FNV-1a over the value and its size: a change detector, not a checksum
   anyone relies on for content. */
static uint64_t attribute_value_hash(const unsigned char *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ size;
	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int index_attribute_digest(struct index_db *db, pool_t pool,
			   array_index_attribute_digest_t *list)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_ATTR_DIGEST);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		size_t size = (size_t)sqlite3_column_int64(stmt, 3);
		const unsigned char *value = sqlite3_column_blob(stmt, 4);
		struct index_attribute_digest d = {
			.mailbox_id = sqlite3_column_int64(stmt, 0),
			.type = sqlite3_column_int(stmt, 1) == INDEX_ATTRIBUTE_SHARED ?
				INDEX_ATTRIBUTE_SHARED : INDEX_ATTRIBUTE_PRIVATE,
			.key = p_strdup(pool, (const char *)sqlite3_column_text(stmt, 2)),
			.value_hash = attribute_value_hash(value, value == NULL ? 0 : size),
		};
		array_push(list, d);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : index_db_fail(db, "read attributes");
}
