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
	}
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
	int ret = index_db_exec_stmt(db, stmt, "write message cache");
	return ret < 0 ? -1 : 0;
}
