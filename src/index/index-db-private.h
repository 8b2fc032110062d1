/* Internals of the index library shared by its files: the connection, the
 * table of prepared statements (prepared once per connection, on first
 * use) and SQLite error helpers. Only src/index includes this. */
#ifndef TERN_INDEX_DB_PRIVATE_H
#define TERN_INDEX_DB_PRIVATE_H

#include "array.h"
#include "index-mailbox.h"
#include "index-message.h"

#include <sqlite3.h>
#include <sys/types.h>

#define INDEX_MB_COLUMNS                                                      \
	"id, name, dir, selectable, special_use, uidvalidity, uidnext, "      \
	"highestmodseq, first_recent_uid, messages, unseen, deleted, vsize, " \
	"disk_stamp, mirror_modseq"
#define INDEX_MSG_COLUMNS                                                     \
	"uid, flags, modseq, keywords, filename, fileinfo, internal_date, "   \
	"internal_tz, save_date, size, psize, guid"

/* The UID map stores each mailbox's UIDs in chunks of 8192: a chunk's blob
   is a 1024-byte bitmap, or (when that is smaller) its UIDs as sorted
   little-endian uint16 offsets. */
#define INDEX_UIDMAP_CHUNK_UIDS 8192
#define INDEX_UIDMAP_BITMAP_SIZE (INDEX_UIDMAP_CHUNK_UIDS / 8)

struct index_uidmap_chunk {
	uint32_t chunk;
	bool dirty;
	uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE];
};

struct index_change {
	struct index_db *db;
	pool_t pool;
	struct index_mailbox mb;
	uint64_t modseq;
	uint32_t uidnext;
	bool changed, mirror_dirty;
	int64_t d_messages, d_unseen, d_deleted, d_vsize;
	int64_t disk_stamp;
	ARRAY(struct index_uidmap_chunk *) chunks;
};

/* Every statement the library runs. The SQL is in index-db.c. */
enum index_stmt {
	INDEX_STMT_META_GET,
	INDEX_STMT_META_SET,
	INDEX_STMT_MB_BY_NAME,
	INDEX_STMT_MB_BY_ID,
	INDEX_STMT_MB_LIST,
	INDEX_STMT_MB_INSERT,
	INDEX_STMT_MB_SET_NAME,
	INDEX_STMT_MB_SET_DIR,
	INDEX_STMT_MB_SET_SPECIAL_USE,
	INDEX_STMT_MB_RESET,
	INDEX_STMT_MB_DELETE,
	INDEX_STMT_MB_UPDATE_CHANGE,
	INDEX_STMT_MB_SET_RECENT,
	INDEX_STMT_MB_SET_MIRROR,
	INDEX_STMT_MB_SET_STAMP,
	INDEX_STMT_MB_SET_COUNTS,
	INDEX_STMT_MSG_INSERT,
	INDEX_STMT_MSG_GET,
	INDEX_STMT_MSG_BY_FILE,
	INDEX_STMT_MSG_RANGE,
	INDEX_STMT_MSG_RANGE_FLAGS,
	INDEX_STMT_MSG_CHANGED,
	INDEX_STMT_MSG_CHANGED_UIDS,
	INDEX_STMT_MSG_DELETED,
	INDEX_STMT_MSG_FIRST_UNSEEN,
	INDEX_STMT_MSG_COUNT_FROM,
	INDEX_STMT_MSG_DELETE,
	INDEX_STMT_MSG_SET_FLAGS,
	INDEX_STMT_MSG_SET_FILEINFO,
	INDEX_STMT_MSG_RANGE_STATS,
	INDEX_STMT_MSG_RANGE_UPDATE,
	INDEX_STMT_MSG_RANGE_FAILED,
	INDEX_STMT_MSG_RECOUNT,
	INDEX_STMT_MSG_DELETE_ALL,
	INDEX_STMT_CACHE_GET,
	INDEX_STMT_CACHE_RANGE,
	INDEX_STMT_CACHE_PUT,
	INDEX_STMT_CACHE_COPY,
	INDEX_STMT_EXP_INSERT,
	INDEX_STMT_EXP_SINCE,
	INDEX_STMT_EXP_GET,
	INDEX_STMT_EXP_DELETE_ALL,
	INDEX_STMT_UIDMAP_GET,
	INDEX_STMT_UIDMAP_PUT,
	INDEX_STMT_UIDMAP_DEL,
	INDEX_STMT_UIDMAP_LOAD,
	INDEX_STMT_UIDMAP_DELETE_ALL,
	INDEX_STMT_KW_LIST,
	INDEX_STMT_KW_GET,
	INDEX_STMT_KW_COUNT,
	INDEX_STMT_KW_INSERT,
	INDEX_STMT_KW_DELETE_ALL,
	INDEX_STMT_SUB_LIST,
	INDEX_STMT_SUB_ADD,
	INDEX_STMT_SUB_DEL,
	INDEX_STMT_SEARCH_OLD,
	INDEX_STMT_SEARCH_MSG_EXISTS,
	INDEX_STMT_SEARCH_FTS_INSERT,
	INDEX_STMT_SEARCH_INSERT,
	INDEX_STMT_SEARCH_GC_ADD,
	INDEX_STMT_SEARCH_STATE_GET,
	INDEX_STMT_SEARCH_STATE_SET,
	INDEX_STMT_SEARCH_STATE_ADVANCE,
	INDEX_STMT_ATTR_GET,
	INDEX_STMT_ATTR_SET,
	INDEX_STMT_ATTR_UNSET,
	INDEX_STMT_ATTR_LIST,
	INDEX_STMT_ATTR_DIGEST,
	INDEX_STMT_ATTR_COUNT,
	INDEX_STMT_ATTR_USAGE,
	INDEX_STMT_ATTR_MOVE,

	INDEX_STMT_COUNT
};

struct index_db {
	sqlite3 *db;
	char *path;
	/* the file the connection has open, to tell a replaced one */
	dev_t dev;
	ino_t ino;
	sqlite3_stmt *stmts[INDEX_STMT_COUNT];
	bool in_txn, in_write;
	enum index_error error_code;
	char *error;
};

/* The cached statement, reset and with its bindings cleared; NULL (error
   set) if it could not be prepared. Statements that iterate while the
   caller runs other queries must not be shared: see index_db_stmt_own(). */
sqlite3_stmt *index_db_stmt(struct index_db *db, enum index_stmt id);
/* Like index_db_stmt(), but if the cached statement is in use (a nested
   iteration) prepares a private copy; *private_r tells the caller to
   finalize it instead of resetting it. */
sqlite3_stmt *index_db_stmt_own(struct index_db *db, enum index_stmt id, bool *private_r);
/* Records the SQLite error of the connection with context; returns -1. */
int index_db_fail(struct index_db *db, const char *what);
/* Records an error that is not SQLite's; returns -1. */
int index_db_fail_text(struct index_db *db, const char *what);
/* Steps a statement that returns no rows; resets it. Returns 0 or -1. */
int index_db_exec_stmt(struct index_db *db, sqlite3_stmt *stmt, const char *what);
/* Steps a statement expected to return at most one row: 1 = row (the
   statement is left on it; the caller resets it), 0 = none, -1 = error. */
int index_db_step_row(struct index_db *db, sqlite3_stmt *stmt, const char *what);

/* Closes the connection and frees db (index_db_close() without the idle
   keeping). */
void index_db_destroy(struct index_db *db);

/* index-db-idle.c: index_db_open() takes a kept connection of the same
   file (true), index_db_close() offers one to keep (true: kept). */
bool index_db_idle_take(const char *path, struct index_db **db_r);
bool index_db_idle_put(struct index_db *db);

/* The schema (index-schema.c): creates or migrates the database inside
   one write transaction. Returns 0 or -1. */
int index_schema_apply(struct index_db *db, bool *created_r);

/* index-mailbox.c: fills *mb_r from a row of INDEX_MB_COLUMNS. */
void index_mailbox_from_row(sqlite3_stmt *stmt, pool_t pool, struct index_mailbox *mb_r);

/* index-uidmap.c */
int index_uidmap_decode(const void *blob, size_t size,
			uint8_t bits_r[INDEX_UIDMAP_BITMAP_SIZE]);
/* Marks uid present or absent in the context's cached chunk. */
int index_uidmap_set(struct index_change *ch, uint32_t uid, bool present);
/* Writes the dirty chunks of the context. */
int index_uidmap_flush(struct index_change *ch);
/* Rewrites the whole map of a mailbox from its message rows. */
int index_uidmap_rebuild(struct index_db *db, int64_t mailbox_id);

static inline void index_bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC);
}

static inline const char *index_column_text(sqlite3_stmt *stmt, int idx)
{
	return (const char *)sqlite3_column_text(stmt, idx);
}

#endif
