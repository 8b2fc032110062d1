/* Idle index connections a process keeps for the next session of the same
 * user. Opening a connection parses the whole schema and creates the WAL and
 * shared-memory files, and closing the last one checkpoints and deletes
 * them: most of the server CPU of a short IMAP session (LOGIN, SELECT,
 * LOGOUT; bench/login-imaps.py). Off unless the process asks for it. */
#include "index-db-private.h"

#include <sys/stat.h>
#include <time.h>

struct index_db_idle {
	struct index_db *db;
	time_t since;
};

static ARRAY(struct index_db_idle) idle_dbs;
static unsigned int idle_max_count, idle_max_secs;

static time_t index_db_idle_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The path may name another database by now (the user's storage was
   deleted and made again): closing must not delete that one's WAL and
   shared-memory files, which SQLite does by name (it checks that the
   file has not moved first; this does not rely on that alone). */
static void index_db_idle_close_stale(struct index_db *db)
{
	int on = 1;
	if (db->db != NULL)
		(void)sqlite3_file_control(db->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	index_db_destroy(db);
}

static void index_db_idle_remove(unsigned int idx, bool stale)
{
	struct index_db *db = idle_dbs.v[idx].db;
	array_delete(&idle_dbs, idx, 1);
	if (stale)
		index_db_idle_close_stale(db);
	else
		index_db_destroy(db);
}

/* Closes connections idle for too long, oldest first, and the oldest
   ones over the count limit. */
static void index_db_idle_trim(unsigned int max_count)
{
	time_t now = index_db_idle_now();
	while (idle_dbs.count > 0 &&
	       (idle_dbs.count > max_count || now - idle_dbs.v[0].since >= (time_t)idle_max_secs))
		index_db_idle_remove(0, false);
}

void index_db_keep_idle(unsigned int max_count, unsigned int max_idle_secs)
{
	if (!array_is_created(&idle_dbs))
		array_init(&idle_dbs, system_pool, max_count == 0 ? 4 : max_count);
	idle_max_count = max_count;
	idle_max_secs = max_idle_secs;
	index_db_idle_trim(max_count);
}

void index_db_idle_close_all(void)
{
	if (array_is_created(&idle_dbs))
		index_db_idle_trim(0);
}

bool index_db_idle_take(const char *path, struct index_db **db_r)
{
	if (idle_max_count == 0 || idle_dbs.count == 0)
		return false;
	index_db_idle_trim(idle_max_count);
	struct stat st;
	bool exists = stat(path, &st) == 0;
	/* newest first: the connection most likely still in the page cache */
	for (unsigned int i = idle_dbs.count; i-- > 0;) {
		struct index_db *db = idle_dbs.v[i].db;
		if (strcmp(db->path, path) != 0)
			continue;
		if (!exists || db->dev != st.st_dev || db->ino != st.st_ino) {
			index_db_idle_remove(i, true);
			continue;
		}
		array_delete(&idle_dbs, i, 1);
		*db_r = db;
		return true;
	}
	return false;
}

bool index_db_idle_put(struct index_db *db)
{
	if (idle_max_count == 0 || db->db == NULL || db->in_txn ||
	    (db->error_code != INDEX_ERROR_NONE && db->error_code != INDEX_ERROR_BUSY))
		return false;
	/* a statement left on a row would hold a read snapshot open */
	for (unsigned int i = 0; i < INDEX_STMT_COUNT; i++) {
		if (db->stmts[i] != NULL)
			sqlite3_reset(db->stmts[i]);
	}
	if (sqlite3_get_autocommit(db->db) == 0)
		return false;
	for (sqlite3_stmt *stmt = sqlite3_next_stmt(db->db, NULL); stmt != NULL;
	     stmt = sqlite3_next_stmt(db->db, stmt)) {
		if (sqlite3_stmt_busy(stmt))
			return false;
	}
	free(db->error);
	db->error = NULL;
	db->error_code = INDEX_ERROR_NONE;
	/* keep the parsed schema and the prepared statements, not the pages:
	   those are cheap to read again and would cost up to cache_size each */
	(void)sqlite3_db_release_memory(db->db);
	struct index_db_idle *idle = array_append_space(&idle_dbs);
	idle->db = db;
	idle->since = index_db_idle_now();
	index_db_idle_trim(idle_max_count);
	return true;
}
