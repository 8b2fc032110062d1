/* Parked connections: a closed index connection kept open, with its
 * prepared statements, for the next open of the same file in this process
 * (index_db_set_park_limit()): the LMTP worker's next delivery to the user,
 * a mail worker's next session of the user. Opening a SQLite database costs
 * a schema parse, the WAL pragmas and re-preparing every statement, and
 * closing the last connection checkpoints the WAL into the database and
 * deletes it: together several times the cost of delivering a small
 * message, and most of a short IMAP session's (LOGIN, SELECT, LOGOUT). */
#include "index-db-private.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* a parked connection older than this is closed: it holds the files (and
   the disk space of a deleted user) and some memory */
#define INDEX_DB_PARK_MAX_SECS 60
/* a parked connection keeps at most this much page cache */
#define INDEX_DB_PARK_MAX_CACHE (256 * 1024)

struct index_db_parked {
	struct index_db *db;
	uid_t euid;
	time_t since;
};

static struct index_db_parked *parked;
static unsigned int parked_count, park_limit;

static time_t index_db_park_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The path may name another database by now (the user's storage was
   deleted and made again): closing must not delete that one's WAL and
   shared-memory files, which SQLite does by name (it checks that the file
   has not moved first; this does not rely on that alone). */
static void index_db_park_free_stale(struct index_db *db)
{
	int on = 1;
	if (db->db != NULL)
		(void)sqlite3_file_control(db->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	index_db_free(db);
}

static void index_db_park_drop(unsigned int idx)
{
	struct index_db *db = parked[idx].db;
	struct stat st;
	parked_count--;
	memmove(parked + idx, parked + idx + 1, (parked_count - idx) * sizeof(*parked));
	if (stat(db->path, &st) < 0 || st.st_dev != db->dev || st.st_ino != db->ino)
		index_db_park_free_stale(db);
	else
		index_db_free(db);
}

static void index_db_park_expire(time_t now)
{
	/* oldest first */
	while (parked_count > 0 && (parked_count > park_limit ||
	       now - parked[0].since >= INDEX_DB_PARK_MAX_SECS ||
	       now < parked[0].since))
		index_db_park_drop(0);
}

void index_db_set_park_limit(unsigned int count)
{
	/* each parked connection holds three descriptors (database, WAL,
	   shared memory): at most a quarter of the process's */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    count > rl.rlim_cur / 12)
		count = (unsigned int)(rl.rlim_cur / 12);
	park_limit = count;
	index_db_park_expire(index_db_park_now());
	if (count == 0) {
		free(parked);
		parked = NULL;
	} else {
		parked = i_realloc(parked, count * sizeof(*parked));
	}
}

bool index_db_park(struct index_db *db)
{
	/* a connection that saw damage or an I/O error starts afresh */
	if (park_limit == 0 || db->db == NULL || db->in_txn ||
	    sqlite3_get_autocommit(db->db) == 0 ||
	    db->error_code == INDEX_ERROR_CORRUPT || db->error_code == INDEX_ERROR_INTERNAL)
		return false;
	for (unsigned int i = 0; i < INDEX_STMT_COUNT; i++) {
		if (db->stmts[i] != NULL) {
			sqlite3_reset(db->stmts[i]);
			sqlite3_clear_bindings(db->stmts[i]);
		}
	}
	/* a statement still on a row would hold a read snapshot open */
	for (sqlite3_stmt *stmt = sqlite3_next_stmt(db->db, NULL); stmt != NULL;
	     stmt = sqlite3_next_stmt(db->db, stmt)) {
		if (sqlite3_stmt_busy(stmt))
			return false;
	}
	int cur = 0, high = 0;
	if (sqlite3_db_status(db->db, SQLITE_DBSTATUS_CACHE_USED, &cur, &high, 0) == SQLITE_OK &&
	    cur > INDEX_DB_PARK_MAX_CACHE)
		sqlite3_db_release_memory(db->db);
	free(db->error);
	db->error = NULL;
	db->error_code = INDEX_ERROR_NONE;

	time_t now = index_db_park_now();
	if (parked_count == park_limit)
		index_db_park_drop(0);
	parked[parked_count++] = (struct index_db_parked){
		.db = db, .euid = geteuid(), .since = now,
	};
	index_db_park_expire(now);
	return true;
}

struct index_db *index_db_unpark(const char *path)
{
	if (parked_count == 0)
		return NULL;
	index_db_park_expire(index_db_park_now());
	struct stat st;
	/* the same file, not only the same name: a user's storage may have
	   been deleted and made again (an open file's inode is not reused) */
	if (stat(path, &st) < 0)
		return NULL;
	uid_t euid = geteuid();
	for (unsigned int i = parked_count; i > 0; i--) {
		struct index_db_parked *p = &parked[i - 1];
		if (p->euid != euid || strcmp(p->db->path, path) != 0)
			continue;
		struct index_db *db = p->db;
		parked_count--;
		memmove(p, p + 1, (parked_count - (i - 1)) * sizeof(*parked));
		if (db->dev != st.st_dev || db->ino != st.st_ino) {
			index_db_park_free_stale(db);
			return NULL;
		}
		return db;
	}
	return NULL;
}
