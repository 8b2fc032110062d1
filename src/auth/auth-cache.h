/* Credential cache: passdb/userdb lookup results kept in memory by a
 * caller-built key, with a positive TTL, a negative TTL for "no such user",
 * a byte limit with LRU eviction, and flushing. No I/O, no settings parsing,
 * no clock of its own: every call takes the caller's `now` (ioloop_time()). */
#ifndef TERN_AUTH_CACHE_H
#define TERN_AUTH_CACHE_H

#include "lib.h"

#include <time.h>

struct auth_cache;

struct auth_cache_settings {
	/* Seconds a positive entry is served by auth_cache_lookup(). 0 =
	   positive results are not cached. */
	unsigned int ttl_secs;
	/* Seconds a negative entry ("no such user") is served. 0 = negative
	   results are not cached. */
	unsigned int negative_ttl_secs;
	/* Upper bound on the memory the entries use: keys, values, user names
	   and a fixed per-entry overhead (AUTH_CACHE_ENTRY_OVERHEAD) are
	   counted. Least recently used entries are evicted to stay under it.
	   0 = the cache holds nothing. */
	size_t max_size;
	/* How long after expiring a positive entry may still be returned by
	   auth_cache_lookup_stale(), for use when the backend is down. 0 = never
	   (expired entries are dropped as soon as they are seen). Stale entries
	   still count toward max_size and are evicted first-come LRU. */
	unsigned int stale_secs;
};

/* Bytes added to each entry's key + value + user when accounting its size:
   roughly the entry struct, the hash node and allocator slack. */
#define AUTH_CACHE_ENTRY_OVERHEAD 128

struct auth_cache_stats {
	/* Fresh positive entries returned (lookups and verifies). */
	uint64_t hits;
	/* Fresh negative entries returned. */
	uint64_t negative_hits;
	/* Lookups that found nothing fresh (absent or expired). */
	uint64_t misses;
	/* Entries dropped to stay under max_size. */
	uint64_t evictions;
	/* Expired entries served by auth_cache_lookup_stale(). */
	uint64_t stale_hits;
	/* Positive entries whose password did not match in auth_cache_verify(). */
	uint64_t verify_mismatches;
	unsigned int entries;
	size_t size;
};

/* One entry as returned by a lookup. value points into the cache: it stays
   valid until the next auth_cache_insert*(), auth_cache_remove(),
   auth_cache_flush*() or auth_cache_destroy() (lookups free nothing except
   the looked-up key's own expired entry). Copy it to keep it longer. */
struct auth_cache_result {
	const void *value;
	size_t value_size; /* 0 for negative entries */
	/* A cached "no such user". value is NULL. */
	bool negative;
	/* Only from auth_cache_lookup_stale(): the entry's TTL has passed. */
	bool stale;
};

/* settings is copied. */
struct auth_cache *auth_cache_create(const struct auth_cache_settings *set);
/* Frees every entry (values are zeroed first: they may hold password
   hashes). Accepts NULL; *cache becomes NULL. */
void auth_cache_destroy(struct auth_cache **cache);

/* Caches a positive result. key is any bytes (NULs allowed, e.g.
   "passdb\0user\0service"); value is the caller's serialized result, copied.
   user is the login name auth_cache_flush_user() matches (exact bytes; the
   caller normalises case; NULL = none, only flush_all drops the entry). Replaces an existing entry of the same key.
   Returns 1 when cached, 0 when not (ttl_secs is 0, or the entry alone is
   bigger than max_size). */
int auth_cache_insert(struct auth_cache *cache, const char *user,
		      const void *key, size_t key_size,
		      const void *value, size_t value_size, time_t now);
/* Caches "no such user" for key. Same returns as auth_cache_insert() with
   negative_ttl_secs. */
int auth_cache_insert_negative(struct auth_cache *cache, const char *user,
			       const void *key, size_t key_size, time_t now);

/* Returns 1 with *result_r filled when a fresh entry (positive or negative)
   exists, 0 on a miss. Never returns an expired entry: an expired negative
   entry is dropped, an expired positive one is kept for
   auth_cache_lookup_stale() while stale_secs allows. A hit makes the entry
   most recently used. */
int auth_cache_lookup(struct auth_cache *cache, const void *key,
		      size_t key_size, time_t now,
		      struct auth_cache_result *result_r);
/* For when the backend lookup failed with an internal error (database
   down): like auth_cache_lookup(), but also returns a positive entry that
   expired at most stale_secs ago, with result_r->stale set. Negative
   entries are never served stale. The caller should log that it used a
   stale entry. */
int auth_cache_lookup_stale(struct auth_cache *cache, const void *key,
			    size_t key_size, time_t now,
			    struct auth_cache_result *result_r);

/* Checks a password against a cached entry: returns 1 match, 0 mismatch,
   -1 the entry can't be used (e.g. it holds no password). */
typedef int auth_cache_verify_fn_t(const void *value, size_t value_size,
				   void *context);

enum auth_cache_verify_result {
	/* Nothing fresh cached (or verify_fn returned -1): look up the
	   backend, then insert its result. */
	AUTH_CACHE_VERIFY_MISS = 0,
	/* A fresh positive entry and verify_fn matched: succeed without the
	   backend. */
	AUTH_CACHE_VERIFY_MATCH,
	/* A fresh positive entry but the password did not match. The password
	   may have changed since the entry was cached, so the caller must NOT
	   fail from the cache: it looks up the backend again and verifies
	   against that (and inserts the new result, which replaces the entry).
	   The entry is left in place. */
	AUTH_CACHE_VERIFY_MISMATCH,
	/* A fresh negative entry: fail as an unknown user without the backend. */
	AUTH_CACHE_VERIFY_NEGATIVE,
};

/* The password-verify contract in one call: looks key up (fresh entries
   only, counting hits and misses like auth_cache_lookup()) and runs
   verify_fn(value, value_size, context) on a positive entry. */
enum auth_cache_verify_result
auth_cache_verify(struct auth_cache *cache, const void *key, size_t key_size,
		  time_t now, auth_cache_verify_fn_t *verify_fn, void *context);

/* Returns true if an entry for key existed (it is removed). */
bool auth_cache_remove(struct auth_cache *cache, const void *key,
		       size_t key_size);
/* Drop every entry; returns how many there were. */
unsigned int auth_cache_flush_all(struct auth_cache *cache);
/* Drop every entry inserted with this user; returns how many. O(entries):
   an administrative operation (`ternctl auth cache flush USER`). */
unsigned int auth_cache_flush_user(struct auth_cache *cache, const char *user);

void auth_cache_get_stats(const struct auth_cache *cache,
			  struct auth_cache_stats *stats_r);

#endif
