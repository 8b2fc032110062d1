/* The index connection: opening with the pragmas that make it durable and
 * shareable between processes, the prepared statement cache, transactions
 * and error recording. */
#include "index-db-private.h"

#include <sys/stat.h>
#include <time.h>

/* The new flags of a range update: ?5 = bits to set, ?6 = bits to clear
   first (REPLACE clears all and sets the new ones). */
#define NEWFLAGS "((flags & ~?6) | ?5)"
#define RANGE_WHERE                                                           \
	" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 AND modseq <= ?4"   \
	" AND (" NEWFLAGS " != flags OR (?7 AND keywords IS NOT NULL))"

/* The partial indexes (unseen, deleted) are named explicitly: without
   ANALYZE statistics the planner would walk the primary key instead,
   which is O(messages) when everything is seen. */
static const char *const index_stmt_sql[INDEX_STMT_COUNT] = {
	[INDEX_STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[INDEX_STMT_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
	[INDEX_STMT_MB_BY_NAME] = "SELECT " INDEX_MB_COLUMNS " FROM mailboxes WHERE name = ?1",
	[INDEX_STMT_MB_BY_ID] = "SELECT " INDEX_MB_COLUMNS " FROM mailboxes WHERE id = ?1",
	[INDEX_STMT_MB_LIST] = "SELECT " INDEX_MB_COLUMNS " FROM mailboxes ORDER BY name",
	[INDEX_STMT_MB_INSERT] =
		"INSERT INTO mailboxes (name, dir, selectable, special_use, uidvalidity)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[INDEX_STMT_MB_SET_NAME] = "UPDATE mailboxes SET name = ?2 WHERE id = ?1",
	[INDEX_STMT_MB_SET_DIR] = "UPDATE mailboxes SET dir = ?2 WHERE id = ?1",
	[INDEX_STMT_MB_SET_SPECIAL_USE] = "UPDATE mailboxes SET special_use = ?2 WHERE id = ?1",
	[INDEX_STMT_MB_RESET] =
		"UPDATE mailboxes SET selectable = ?2, dir = ?3, uidvalidity = ?4,"
		" uidnext = 1, highestmodseq = 1, first_recent_uid = 1, messages = 0,"
		" unseen = 0, deleted = 0, vsize = 0, disk_stamp = 0, mirror_modseq = 1"
		" WHERE id = ?1",
	[INDEX_STMT_MB_DELETE] = "DELETE FROM mailboxes WHERE id = ?1",
	[INDEX_STMT_MB_UPDATE_CHANGE] =
		"UPDATE mailboxes SET uidnext = ?2, highestmodseq = ?3,"
		" messages = messages + ?4, unseen = unseen + ?5,"
		" deleted = deleted + ?6, vsize = vsize + ?7, disk_stamp = ?8,"
		" mirror_modseq = max(mirror_modseq, ?9) WHERE id = ?1",
	[INDEX_STMT_MB_SET_RECENT] = "UPDATE mailboxes SET first_recent_uid = ?2 WHERE id = ?1",
	[INDEX_STMT_MB_SET_MIRROR] =
		"UPDATE mailboxes SET mirror_modseq = ?2 WHERE id = ?1 AND mirror_modseq < ?2",
	[INDEX_STMT_MB_SET_STAMP] = "UPDATE mailboxes SET disk_stamp = ?2 WHERE id = ?1",
	[INDEX_STMT_MB_SET_COUNTS] =
		"UPDATE mailboxes SET messages = ?2, unseen = ?3, deleted = ?4, vsize = ?5,"
		" uidnext = max(uidnext, ?6), highestmodseq = max(highestmodseq, ?7)"
		" WHERE id = ?1",
	[INDEX_STMT_MSG_INSERT] =
		"INSERT INTO messages (mailbox_id, " INDEX_MSG_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[INDEX_STMT_MSG_GET] =
		"SELECT " INDEX_MSG_COLUMNS " FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_MSG_BY_FILE] =
		"SELECT " INDEX_MSG_COLUMNS " FROM messages WHERE mailbox_id = ?1 AND filename = ?2",
	[INDEX_STMT_MSG_RANGE] =
		"SELECT " INDEX_MSG_COLUMNS " FROM messages"
		" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
	/* the columns FETCH FLAGS needs, in INDEX_MSG_COLUMNS' order */
	[INDEX_STMT_MSG_RANGE_FLAGS] =
		"SELECT uid, flags, modseq, keywords FROM messages"
		" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
	[INDEX_STMT_MSG_CHANGED] =
		"SELECT " INDEX_MSG_COLUMNS " FROM messages"
		/* a row value seeks in messages_modseq: a position inside a
		   run of one modseq (a STORE on 100,000 messages) costs
		   nothing, where "modseq >= ? AND (... OR uid > ?)" rescans
		   the run from its start */
		" WHERE mailbox_id = ?1 AND (modseq, uid) > (?2, ?3)"
		" ORDER BY modseq, uid LIMIT ?4",
	[INDEX_STMT_MSG_CHANGED_UIDS] =
		"SELECT uid, modseq FROM messages WHERE mailbox_id = ?1 AND modseq > ?2",
	[INDEX_STMT_MSG_DELETED] =
		"SELECT " INDEX_MSG_COLUMNS " FROM messages INDEXED BY messages_deleted"
		" WHERE mailbox_id = ?1 AND flags & 4 != 0 ORDER BY uid",
	[INDEX_STMT_MSG_FIRST_UNSEEN] =
		"SELECT uid FROM messages INDEXED BY messages_unseen"
		" WHERE mailbox_id = ?1 AND flags & 8 = 0 ORDER BY uid LIMIT 1",
	[INDEX_STMT_MSG_COUNT_FROM] =
		"SELECT count(*) FROM messages WHERE mailbox_id = ?1 AND uid >= ?2",
	[INDEX_STMT_MSG_DELETE] = "DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_MSG_SET_FLAGS] =
		"UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5,"
		" fileinfo = coalesce(?6, fileinfo) WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_MSG_SET_FILEINFO] =
		"UPDATE messages SET fileinfo = ?3 WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_MSG_RANGE_STATS] =
		"SELECT count(*), coalesce(sum(flags & 8 = 0), 0),"
		" coalesce(sum(" NEWFLAGS " & 8 = 0), 0), coalesce(sum(flags & 4 != 0), 0),"
		" coalesce(sum(" NEWFLAGS " & 4 != 0), 0) FROM messages" RANGE_WHERE,
	[INDEX_STMT_MSG_RANGE_UPDATE] =
		"UPDATE messages SET flags = " NEWFLAGS ", modseq = ?8,"
		" keywords = CASE WHEN ?7 THEN NULL ELSE keywords END" RANGE_WHERE,
	[INDEX_STMT_MSG_RANGE_FAILED] =
		"SELECT uid FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3"
		" AND modseq > ?4 ORDER BY uid",
	[INDEX_STMT_MSG_RECOUNT] =
		"SELECT count(*), coalesce(sum(flags & 8 = 0), 0), coalesce(sum(flags & 4 != 0), 0),"
		" coalesce(sum(size), 0), coalesce(max(uid), 0), coalesce(max(modseq), 0)"
		" FROM messages WHERE mailbox_id = ?1",
	[INDEX_STMT_CACHE_GET] =
		"SELECT envelope, body, bodystructure, header FROM message_cache"
		" WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_CACHE_RANGE] =
		"SELECT uid, envelope, body, bodystructure, header FROM message_cache"
		" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
	/* only for a message that exists (its row's deletion empties the
	   cache through a trigger); NULL fields keep what is there */
	[INDEX_STMT_CACHE_PUT] =
		"INSERT INTO message_cache (mailbox_id, uid, envelope, body, bodystructure, header)"
		" SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS"
		" (SELECT 1 FROM messages WHERE mailbox_id = ?1 AND uid = ?2)"
		" ON CONFLICT (mailbox_id, uid) DO UPDATE SET"
		" envelope = coalesce(excluded.envelope, envelope),"
		" body = coalesce(excluded.body, body),"
		" bodystructure = coalesce(excluded.bodystructure, bodystructure),"
		" header = coalesce(excluded.header, header)",
	/* a copied message answers as its source did */
	[INDEX_STMT_CACHE_COPY] =
		"INSERT OR REPLACE INTO message_cache (mailbox_id, uid, envelope, body,"
		" bodystructure, header) SELECT ?3, ?4, envelope, body, bodystructure, header"
		" FROM message_cache WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_MSG_DELETE_ALL] = "DELETE FROM messages WHERE mailbox_id = ?1",
	[INDEX_STMT_EXP_INSERT] =
		"INSERT OR REPLACE INTO expunged (mailbox_id, modseq, uid, flags, keywords)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[INDEX_STMT_EXP_SINCE] =
		"SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2",
	[INDEX_STMT_EXP_GET] =
		"SELECT flags, keywords, modseq FROM expunged WHERE mailbox_id = ?1 AND uid = ?2"
		" ORDER BY modseq DESC LIMIT 1",
	[INDEX_STMT_EXP_DELETE_ALL] = "DELETE FROM expunged WHERE mailbox_id = ?1",
	[INDEX_STMT_UIDMAP_GET] = "SELECT uids FROM uidmap WHERE mailbox_id = ?1 AND chunk = ?2",
	[INDEX_STMT_UIDMAP_PUT] =
		"INSERT OR REPLACE INTO uidmap (mailbox_id, chunk, uids) VALUES (?1, ?2, ?3)",
	[INDEX_STMT_UIDMAP_DEL] = "DELETE FROM uidmap WHERE mailbox_id = ?1 AND chunk = ?2",
	[INDEX_STMT_UIDMAP_LOAD] =
		"SELECT chunk, uids FROM uidmap WHERE mailbox_id = ?1 ORDER BY chunk",
	[INDEX_STMT_UIDMAP_DELETE_ALL] = "DELETE FROM uidmap WHERE mailbox_id = ?1",
	[INDEX_STMT_KW_LIST] = "SELECT name FROM keywords WHERE mailbox_id = ?1 ORDER BY name",
	[INDEX_STMT_KW_GET] = "SELECT name FROM keywords WHERE mailbox_id = ?1 AND name = ?2",
	[INDEX_STMT_KW_COUNT] = "SELECT count(*) FROM keywords WHERE mailbox_id = ?1",
	[INDEX_STMT_KW_INSERT] = "INSERT OR IGNORE INTO keywords (mailbox_id, name) VALUES (?1, ?2)",
	[INDEX_STMT_KW_DELETE_ALL] = "DELETE FROM keywords WHERE mailbox_id = ?1",
	[INDEX_STMT_SUB_LIST] = "SELECT name FROM subscriptions ORDER BY name",
	[INDEX_STMT_SUB_ADD] = "INSERT OR IGNORE INTO subscriptions (name) VALUES (?1)",
	[INDEX_STMT_SUB_DEL] = "DELETE FROM subscriptions WHERE name = ?1",
	[INDEX_STMT_SEARCH_OLD] =
		"SELECT docid FROM message_search WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_SEARCH_MSG_EXISTS] =
		"SELECT 1 FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
	[INDEX_STMT_SEARCH_FTS_INSERT] =
		"INSERT INTO search_fts (header, body, hfrom, hto, hcc, hbcc, hsubject)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[INDEX_STMT_SEARCH_INSERT] =
		"INSERT OR REPLACE INTO message_search (mailbox_id, uid, docid, truncated,"
		" sent_date, sent_tz, from_addr, to_addr, cc_addr, from_display, to_display,"
		" subject, subject_reply, message_id, in_reply_to, refs)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[INDEX_STMT_SEARCH_GC_ADD] = "INSERT OR IGNORE INTO search_gc (docid) VALUES (?1)",
	[INDEX_STMT_SEARCH_STATE_GET] =
		"SELECT indexed_uid FROM search_state WHERE mailbox_id = ?1",
	[INDEX_STMT_SEARCH_STATE_SET] =
		"INSERT OR REPLACE INTO search_state (mailbox_id, indexed_uid) VALUES (?1, ?2)",
	/* the watermark follows a save of the next UID (index-search.h) */
	[INDEX_STMT_SEARCH_STATE_ADVANCE] =
		"UPDATE search_state SET indexed_uid = ?2 WHERE mailbox_id = ?1"
		" AND indexed_uid = ?2 - 1",
	[INDEX_STMT_ATTR_GET] =
		"SELECT value FROM attributes WHERE mailbox_id = ?1 AND type = ?2 AND key = ?3",
	[INDEX_STMT_ATTR_SET] =
		"INSERT OR REPLACE INTO attributes (mailbox_id, type, key, value)"
		" VALUES (?1, ?2, ?3, ?4)",
	[INDEX_STMT_ATTR_UNSET] =
		"DELETE FROM attributes WHERE mailbox_id = ?1 AND type = ?2 AND key = ?3",
	/* the key itself and the range of "key/..." ('0' follows '/'), or
	   every key for "" */
	[INDEX_STMT_ATTR_DIGEST] =
		"SELECT mailbox_id, type, key, length(value), value FROM attributes"
		" ORDER BY mailbox_id, type, key",
	[INDEX_STMT_ATTR_LIST] =
		"SELECT key, value FROM attributes WHERE mailbox_id = ?1 AND type = ?2"
		" AND (?3 = '' OR key = ?3 OR (key > ?3 || '/' AND key < ?3 || '0'))"
		" ORDER BY key",
	[INDEX_STMT_ATTR_COUNT] = "SELECT count(*) FROM attributes WHERE mailbox_id = ?1",
	[INDEX_STMT_ATTR_USAGE] =
		"SELECT count(*), coalesce(sum(length(CAST(key AS BLOB)) + length(value)), 0)"
		" FROM attributes",
	[INDEX_STMT_ATTR_MOVE] =
		"UPDATE OR REPLACE attributes SET mailbox_id = ?2 WHERE mailbox_id = ?1",
};

static int index_db_ensure(struct index_db *db);

static void index_db_set_error(struct index_db *db, enum index_error code, const char *text)
{
	free(db->error);
	db->error = i_strdup(text);
	db->error_code = code;
}

static enum index_error index_error_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return INDEX_ERROR_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return INDEX_ERROR_CORRUPT;
	case SQLITE_FULL:
		return INDEX_ERROR_FULL;
	default:
		return INDEX_ERROR_INTERNAL;
	}
}

int index_db_fail(struct index_db *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db->db);
	char *text = sqlite3_mprintf("%s: %s (%d) db=%s", what, sqlite3_errmsg(db->db),
				     rc, db->path);
	index_db_set_error(db, index_error_from_sqlite(rc), text == NULL ? what : text);
	sqlite3_free(text);
	return -1;
}

int index_db_fail_text(struct index_db *db, const char *what)
{
	index_db_set_error(db, INDEX_ERROR_INTERNAL, what);
	return -1;
}

const char *index_db_get_error(const struct index_db *db)
{
	return db->error == NULL ? "no error" : db->error;
}

enum index_error index_db_get_error_code(const struct index_db *db)
{
	return db->error_code;
}

sqlite3_stmt *index_db_stmt(struct index_db *db, enum index_stmt id)
{
	i_assert(id < INDEX_STMT_COUNT);
	sqlite3_stmt *stmt = db->stmts[id];
	if (stmt == NULL) {
		if (index_db_ensure(db) < 0)
			return NULL;
		if (sqlite3_prepare_v3(db->db, index_stmt_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
			index_db_fail(db, "prepare");
			return NULL;
		}
		db->stmts[id] = stmt;
	} else {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
	return stmt;
}

sqlite3_stmt *index_db_stmt_own(struct index_db *db, enum index_stmt id, bool *private_r)
{
	*private_r = false;
	if (db->stmts[id] == NULL || !sqlite3_stmt_busy(db->stmts[id]))
		return index_db_stmt(db, id);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db->db, index_stmt_sql[id], -1, &stmt, NULL) != SQLITE_OK) {
		index_db_fail(db, "prepare");
		return NULL;
	}
	*private_r = true;
	return stmt;
}

int index_db_exec_stmt(struct index_db *db, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		index_db_fail(db, what);
		sqlite3_reset(stmt);
		return -1;
	}
	sqlite3_reset(stmt);
	return 0;
}

int index_db_step_row(struct index_db *db, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(stmt);
		return 0;
	}
	index_db_fail(db, what);
	sqlite3_reset(stmt);
	return -1;
}

static int index_db_exec(struct index_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return index_db_fail(db, sql);
	}
	return 0;
}

/* Switching a new database to WAL needs an exclusive lock, and SQLite
   answers SQLITE_BUSY at once, without the busy handler, when another
   process holds the lock (it is creating the same user's index: many
   sessions of a new user logging in at the same moment). Retries until
   the busy timeout. */
static int index_db_set_wal(struct index_db *db)
{
	struct timespec start, now, pause = { .tv_sec = 0, .tv_nsec = 2 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int rc = sqlite3_exec(db->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t elapsed_ms = (int64_t)(now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (elapsed_ms >= INDEX_DB_BUSY_TIMEOUT_MSECS)
			break;
		nanosleep(&pause, NULL);
	}
	return index_db_fail(db, "PRAGMA journal_mode = WAL");
}

static int index_db_configure(struct index_db *db)
{
	sqlite3_busy_timeout(db->db, INDEX_DB_BUSY_TIMEOUT_MSECS);
	sqlite3_extended_result_codes(db->db, 1);
	/* WAL lets readers in other processes go on while one writes;
	   synchronous=FULL makes each commit durable before it returns. */
	if (index_db_set_wal(db) < 0 ||
	    index_db_exec(db, "PRAGMA synchronous = FULL") < 0 ||
	    index_db_exec(db, "PRAGMA foreign_keys = OFF") < 0 ||
	    index_db_exec(db, "PRAGMA cache_size = -8192") < 0)
		return -1;
	return 0;
}

static int index_db_connect(struct index_db *db)
{
	int rc = sqlite3_open_v2(db->path, &db->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		index_db_fail(db, "open");
		sqlite3_close(db->db);
		db->db = NULL;
		return -1;
	}
	if (index_db_configure(db) < 0) {
		sqlite3_close(db->db);
		db->db = NULL;
		return -1;
	}
	struct stat st;
	if (stat(db->path, &st) == 0) {
		db->dev = st.st_dev;
		db->ino = st.st_ino;
	}
	return 0;
}

/* Reopens a connection closed by index_db_release(). */
static int index_db_ensure(struct index_db *db)
{
	return db->db != NULL ? 0 : index_db_connect(db);
}

void index_db_release(struct index_db *db)
{
	i_assert(!db->in_txn);
	for (unsigned int i = 0; i < INDEX_STMT_COUNT; i++) {
		sqlite3_finalize(db->stmts[i]);
		db->stmts[i] = NULL;
	}
	sqlite3_close(db->db);
	db->db = NULL;
}

int index_db_open(const char *path, struct index_db **db_r, bool *created_r,
		  const char **error_r)
{
	*created_r = false;
	if (index_db_idle_take(path, db_r))
		return 0;
	struct index_db *db = i_new(struct index_db, 1);
	db->path = i_strdup(path);
	if (index_db_connect(db) == 0 && index_schema_apply(db, created_r) == 0) {
		*db_r = db;
		return 0;
	}
	*error_r = t_strdup(index_db_get_error(db));
	if (db->in_txn)
		index_db_rollback(db);
	index_db_destroy(db);
	return -1;
}

void index_db_close(struct index_db **_db)
{
	struct index_db *db = *_db;
	if (db == NULL)
		return;
	*_db = NULL;
	if (db->in_txn)
		index_db_rollback(db);
	if (!index_db_idle_put(db))
		index_db_destroy(db);
}

void index_db_destroy(struct index_db *db)
{
	for (unsigned int i = 0; i < INDEX_STMT_COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->db);
	free(db->error);
	free(db->path);
	free(db);
}

int index_db_begin_read(struct index_db *db)
{
	i_assert(!db->in_txn);
	if (index_db_ensure(db) < 0 || index_db_exec(db, "BEGIN DEFERRED") < 0)
		return -1;
	db->in_txn = true;
	db->in_write = false;
	return 0;
}

int index_db_begin_write(struct index_db *db)
{
	i_assert(!db->in_txn);
	if (index_db_ensure(db) < 0 || index_db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	db->in_txn = true;
	db->in_write = true;
	return 0;
}

int index_db_try_begin_write(struct index_db *db)
{
	i_assert(!db->in_txn);
	if (index_db_ensure(db) < 0)
		return -1;
	sqlite3_busy_timeout(db->db, 0);
	int rc = sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(db->db, INDEX_DB_BUSY_TIMEOUT_MSECS);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return 0;
	if (rc != SQLITE_OK)
		return index_db_fail(db, "BEGIN IMMEDIATE");
	db->in_txn = true;
	db->in_write = true;
	return 1;
}

int index_db_commit(struct index_db *db)
{
	i_assert(db->in_txn);
	if (index_db_exec(db, "COMMIT") < 0) {
		index_db_rollback(db);
		return -1;
	}
	db->in_txn = false;
	db->in_write = false;
	return 0;
}

void index_db_rollback(struct index_db *db)
{
	if (!db->in_txn)
		return;
	/* statements left on a row would keep the read snapshot alive */
	for (unsigned int i = 0; i < INDEX_STMT_COUNT; i++) {
		if (db->stmts[i] != NULL)
			sqlite3_reset(db->stmts[i]);
	}
	if (db->db != NULL && sqlite3_get_autocommit(db->db) == 0)
		(void)sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	db->in_txn = false;
	db->in_write = false;
}

bool index_db_in_write(const struct index_db *db)
{
	return db->in_write;
}

int index_db_alloc_uidvalidity(struct index_db *db, uint32_t *uidvalidity_r)
{
	i_assert(db->in_write);
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_META_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, "last_uidvalidity", -1, SQLITE_STATIC);
	int ret = index_db_step_row(db, stmt, "read last_uidvalidity");
	if (ret < 0)
		return -1;
	int64_t last = ret > 0 ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);

	int64_t next = (int64_t)time(NULL);
	if (next <= last)
		next = last + 1;
	/* UIDVALIDITY is a non-zero 32-bit number */
	if (next > UINT32_MAX || next <= 0)
		next = 1;
	if ((stmt = index_db_stmt(db, INDEX_STMT_META_SET)) == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, "last_uidvalidity", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, next);
	if (index_db_exec_stmt(db, stmt, "write last_uidvalidity") < 0)
		return -1;
	*uidvalidity_r = (uint32_t)next;
	return 0;
}

int index_db_counter_get(struct index_db *db, const char *key, uint64_t *value_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_META_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	int ret = index_db_step_row(db, stmt, "read counter");
	if (ret < 0)
		return -1;
	*value_r = ret > 0 ? (uint64_t)sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return 0;
}

int index_db_counter_bump(struct index_db *db, const char *key, uint64_t *value_r)
{
	i_assert(db->in_write);
	uint64_t value;
	if (index_db_counter_get(db, key, &value) < 0)
		return -1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_META_SET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, (int64_t)(value + 1));
	if (index_db_exec_stmt(db, stmt, "write counter") < 0)
		return -1;
	*value_r = value + 1;
	return 0;
}
