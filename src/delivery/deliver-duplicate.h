/* A user's duplicate database: ids of things done recently with the time
 * until which they count (vacation responses per sender and :handle,
 * RFC 5230 §4.2; the Sieve duplicate test, RFC 7352; redirects already
 * sent). One small file in the user's home, locked while open, rewritten
 * atomically on commit, bounded in entries. Ids are stored as SHA-256
 * hashes, so the file holds no addresses. */
#ifndef TERN_DELIVER_DUPLICATE_H
#define TERN_DELIVER_DUPLICATE_H

#include "lib.h"

#include <time.h>

/* entries kept; past it the ones expiring soonest are dropped */
#define DELIVER_DUPLICATE_MAX_ENTRIES 10000

struct deliver_duplicate;

/* Opens (creating if needed) and locks the database at path, dropping
   entries expired at now. A damaged line is skipped. Returns 0, or -1
   with *error_r. */
int deliver_duplicate_open(const char *path, time_t now, struct deliver_duplicate **dup_r,
			   const char **error_r);
/* Unlocks and frees, without writing what was not committed. */
void deliver_duplicate_close(struct deliver_duplicate **dup);

/* True if the id (kind names its namespace: "vacation", "redirect",
   "duplicate") is recorded and not expired at now. */
bool deliver_duplicate_exists(struct deliver_duplicate *dup, const char *kind,
			      const void *id, size_t id_size, time_t now);
/* Records the id until expires (replacing an earlier time). */
void deliver_duplicate_mark(struct deliver_duplicate *dup, const char *kind,
			    const void *id, size_t id_size, time_t expires);
/* Writes the database durably if it changed. Returns 0 or -1. */
int deliver_duplicate_commit(struct deliver_duplicate *dup, const char **error_r);
unsigned int deliver_duplicate_count(const struct deliver_duplicate *dup);

#endif
