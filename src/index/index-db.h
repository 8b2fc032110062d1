/* The per-user index database: one SQLite file (WAL, synchronous=FULL) that
 * holds everything about a user's mailboxes and messages, shared safely by
 * every process serving the user. This header covers opening, transactions
 * and errors; index-mailbox.h and index-message.h hold the data.
 *
 * Writes happen only inside index_db_begin_write() ... index_db_commit():
 * BEGIN IMMEDIATE takes the database's single write lock up front (waiting
 * up to the busy timeout for other processes), so a write transaction never
 * fails half-way with SQLITE_BUSY. Reads outside a transaction each see the
 * latest commit; wrap several reads in index_db_begin_read() for one
 * consistent snapshot. */
#ifndef TERN_INDEX_DB_H
#define TERN_INDEX_DB_H

#include "pool.h"

/* How long a process waits for another one's write transaction. */
#define INDEX_DB_BUSY_TIMEOUT_MSECS 10000

enum index_error {
	INDEX_ERROR_NONE = 0,
	INDEX_ERROR_INTERNAL, /* I/O error, bug, anything else */
	INDEX_ERROR_BUSY,     /* another process held the lock too long */
	INDEX_ERROR_CORRUPT,  /* the database file is damaged */
	INDEX_ERROR_FULL,     /* disk full */
};

struct index_db;

/* Opens (creating if missing) the index at path and brings its schema up to
   date. *created_r tells whether this call created it (the caller then sets
   up the user's first mailboxes). Returns 0 or -1 with *error_r. */
int index_db_open(const char *path, struct index_db **db_r, bool *created_r,
		  const char **error_r);
void index_db_close(struct index_db **db);
/* Keeps up to count closed connections open ("parked", with their prepared
   statements and at most 256 KiB of page cache) for a later
   index_db_open() of the same file by the same effective uid in this
   process, for at most a minute: an LMTP worker then delivers a user's
   next message, a mail worker serves the user's next session, without
   reopening the database, re-preparing statements and checkpointing the
   WAL on every close. Each holds three descriptors: count is capped at a
   quarter of the process's limit. 0 (the default) closes the parked
   ones (before exiting). */
void index_db_set_park_limit(unsigned int count);
/* Closes the connection and its prepared statements (a few hundred KiB)
   while the owner is idle; the next call that needs it reopens it. No
   transaction may be open. */
void index_db_release(struct index_db *db);
/* True while the file at the index's path is still the one opened (not
   deleted, or deleted and made anew): a connection kept open across
   deliveries checks this before each one. */
bool index_db_is_current(const struct index_db *db);

/* Returns 0 or -1. A transaction must not be open already. */
int index_db_begin_read(struct index_db *db);
int index_db_begin_write(struct index_db *db);
/* Takes the write lock only if nobody holds it: returns 1 in a write
   transaction, 0 if busy (nothing logged), -1 on error. For work that
   may as well be skipped (filling caches). */
int index_db_try_begin_write(struct index_db *db);
/* Returns 0 or -1 (the transaction is rolled back on failure). */
int index_db_commit(struct index_db *db);
/* Accepts being called without an open transaction. */
void index_db_rollback(struct index_db *db);
bool index_db_in_write(const struct index_db *db);

/* Details of the last failure, for the log (never for users). */
const char *index_db_get_error(const struct index_db *db);
enum index_error index_db_get_error_code(const struct index_db *db);

/* Allocates a UIDVALIDITY for a new mailbox: the current time, but always
   above every value handed out before (RFC 9051 §2.3.1.1). Needs a write
   transaction. Returns 0 or -1. */
int index_db_alloc_uidvalidity(struct index_db *db, uint32_t *uidvalidity_r);

/* A named counter kept in the index (0 until first bumped), e.g. the
   version of the mailbox list that NOTIFY watchers compare. get works in
   or outside a transaction; bump needs a write transaction and returns
   the new value. Both return 0 or -1. */
int index_db_counter_get(struct index_db *db, const char *key, uint64_t *value_r);
int index_db_counter_bump(struct index_db *db, const char *key, uint64_t *value_r);

#endif
