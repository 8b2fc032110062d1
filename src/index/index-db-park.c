/* Parked connections: a closed index connection kept open, with its
 * prepared statements, for the next open of the same file in this process
 * (index_db_set_park_limit()). Opening a SQLite database costs a schema
 * parse, the WAL pragmas and re-preparing every statement, and closing the
 * last connection checkpoints the WAL into the database and deletes it:
 * together several times the cost of delivering a small message. */
#include "index-db-private.h"

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

static void index_db_park_drop(unsigned int idx)
{
	index_db_free(parked[idx].db);
	parked_count--;
	memmove(parked + idx, parked + idx + 1, (parked_count - idx) * sizeof(*parked));
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
	park_limit = count;
	index_db_park_expire(time(NULL));
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
	int cur = 0, high = 0;
	if (sqlite3_db_status(db->db, SQLITE_DBSTATUS_CACHE_USED, &cur, &high, 0) == SQLITE_OK &&
	    cur > INDEX_DB_PARK_MAX_CACHE)
		sqlite3_db_release_memory(db->db);
	free(db->error);
	db->error = NULL;
	db->error_code = INDEX_ERROR_NONE;

	time_t now = time(NULL);
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
	index_db_park_expire(time(NULL));
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
			index_db_free(db);
			return NULL;
		}
		return db;
	}
	return NULL;
}
