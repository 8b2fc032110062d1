/* Reading and filling the message cache table (schema version 2, see
 * index-schema.c). */
#include "index-cache.h"
#include "index-db-private.h"

int index_cache_get(struct index_db *db, int64_t mailbox_id, uint32_t uid, pool_t pool,
		    struct index_cache_fields *fields_r)
{
	memset(fields_r, 0, sizeof(*fields_r));
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_CACHE_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	int ret = index_db_step_row(db, stmt, "read message cache");
	if (ret > 0) {
		const char *env = index_column_text(stmt, 0);
		const char *body = index_column_text(stmt, 1);
		const char *bs = index_column_text(stmt, 2);
		fields_r->envelope = env == NULL ? NULL : p_strdup(pool, env);
		fields_r->body = body == NULL ? NULL : p_strdup(pool, body);
		fields_r->bodystructure = bs == NULL ? NULL : p_strdup(pool, bs);
		const void *hdr = sqlite3_column_blob(stmt, 3);
		if (hdr != NULL) {
			fields_r->header_size = (size_t)sqlite3_column_bytes(stmt, 3);
			fields_r->header = p_memdup(pool, hdr, fields_r->header_size);
		}
	}
	sqlite3_reset(stmt);
	return ret;
}

int index_cache_iter_range(struct index_db *db, int64_t mailbox_id, uint32_t uid1,
			   uint32_t uid2, index_cache_callback_t *cb, void *context)
{
	bool private;
	sqlite3_stmt *stmt = index_db_stmt_own(db, INDEX_STMT_CACHE_RANGE, &private);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid1);
	sqlite3_bind_int64(stmt, 3, uid2);
	int rc, cb_ret = 0;
	while (cb_ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_cache_fields f = {
			.envelope = index_column_text(stmt, 1),
			.body = index_column_text(stmt, 2),
			.bodystructure = index_column_text(stmt, 3),
			.header = sqlite3_column_blob(stmt, 4),
		};
		f.header_size = f.header == NULL ? 0 : (size_t)sqlite3_column_bytes(stmt, 4);
		cb_ret = cb((uint32_t)sqlite3_column_int64(stmt, 0), &f, context);
	}
	int ret = cb_ret < 0 ? -1 : rc == SQLITE_DONE ? 0 : index_db_fail(db, "read message cache");
	if (private)
		sqlite3_finalize(stmt);
	else
		sqlite3_reset(stmt);
	return ret;
}

static void index_cache_bind_text(sqlite3_stmt *stmt, int idx, const char *value)
{
	if (value == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, value, -1, SQLITE_STATIC);
}

int index_cache_put(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		    const struct index_cache_fields *fields)
{
	i_assert(index_db_in_write(db));
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_CACHE_PUT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	index_cache_bind_text(stmt, 3, fields->envelope);
	index_cache_bind_text(stmt, 4, fields->body);
	index_cache_bind_text(stmt, 5, fields->bodystructure);
	if (fields->header == NULL)
		sqlite3_bind_null(stmt, 6);
	else
		sqlite3_bind_blob(stmt, 6, fields->header, (int)fields->header_size, SQLITE_STATIC);
	int ret = index_db_exec_stmt(db, stmt, "write message cache");
	return ret < 0 ? -1 : 0;
}

int index_cache_copy(struct index_db *db, int64_t src_mailbox_id, uint32_t src_uid,
		     int64_t dest_mailbox_id, uint32_t dest_uid)
{
	i_assert(index_db_in_write(db));
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_CACHE_COPY);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, src_mailbox_id);
	sqlite3_bind_int64(stmt, 2, src_uid);
	sqlite3_bind_int64(stmt, 3, dest_mailbox_id);
	sqlite3_bind_int64(stmt, 4, dest_uid);
	return index_db_exec_stmt(db, stmt, "copy message cache") < 0 ? -1 : 0;
}
