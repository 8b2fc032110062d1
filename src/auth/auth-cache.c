/* Credential cache: entries in a hash table by their key bytes and on a
 * doubly linked LRU list, with TTLs checked against the caller's clock and
 * a byte budget enforced at insert time. */
#include "auth-cache.h"
#include "dlist.h"
#include "hash.h"

#include <openssl/rand.h>

struct auth_cache_key {
	const unsigned char *data;
	size_t size;
};

struct auth_cache_entry {
	/* first, so a pointer to it is the hash table key */
	struct auth_cache_key key;
	struct auth_cache_entry *prev, *next;
	time_t created, expires;
	const unsigned char *value;
	size_t value_size;
	/* what this entry counts against max_size */
	size_t size;
	const char *user;
	bool negative;
	/* key bytes, value bytes, user and its NUL */
	unsigned char data[];
};

struct auth_cache {
	struct auth_cache_settings set;
	struct hash_table *entries;
	/* head = most recently used */
	struct auth_cache_entry *head, *tail;
	struct auth_cache_stats stats;
};

/* Keys carry user names an attacker picks, so the hash is seeded per
   process to keep colliding names from being precomputed. */
static uint64_t auth_cache_hash_seed;

static unsigned int auth_cache_key_hash(const void *p)
{
	const struct auth_cache_key *key = p;
	return mem_hash_seeded(key->data, key->size, auth_cache_hash_seed);
}

static int auth_cache_key_cmp(const void *p1, const void *p2)
{
	const struct auth_cache_key *a = p1, *b = p2;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return a->size == 0 ? 0 : memcmp(a->data, b->data, a->size);
}

struct auth_cache *auth_cache_create(const struct auth_cache_settings *set)
{
	struct auth_cache *cache = i_zalloc(sizeof(*cache));

	if (auth_cache_hash_seed == 0 &&
	    RAND_bytes((unsigned char *)&auth_cache_hash_seed,
		       sizeof(auth_cache_hash_seed)) != 1)
		i_fatal("RAND_bytes() failed");
	cache->set = *set;
	cache->entries = hash_table_create(system_pool, auth_cache_key_hash,
					   auth_cache_key_cmp);
	return cache;
}

static void auth_cache_unlink(struct auth_cache *cache,
			      struct auth_cache_entry *entry)
{
	DLIST_REMOVE(cache->head, cache->tail, entry);
}

static void auth_cache_link_head(struct auth_cache *cache,
				 struct auth_cache_entry *entry)
{
	DLIST_PREPEND(cache->head, cache->tail, entry);
}

static void auth_cache_entry_free(struct auth_cache *cache,
				  struct auth_cache_entry *entry)
{
	bool removed = hash_table_remove(cache->entries, &entry->key);

	i_assert(removed);
	auth_cache_unlink(cache, entry);
	cache->stats.entries--;
	cache->stats.size -= entry->size;
	/* values are serialized passdb results: password hashes */
	explicit_bzero(entry, sizeof(*entry) + entry->size -
		       AUTH_CACHE_ENTRY_OVERHEAD);
	free(entry);
}

void auth_cache_destroy(struct auth_cache **_cache)
{
	struct auth_cache *cache = *_cache;

	if (cache == NULL)
		return;
	*_cache = NULL;
	(void)auth_cache_flush_all(cache);
	hash_table_destroy(&cache->entries);
	free(cache);
}

static struct auth_cache_entry *
auth_cache_find(struct auth_cache *cache, const void *key, size_t key_size)
{
	struct auth_cache_key lookup_key = { .data = key, .size = key_size };

	return hash_table_lookup(cache->entries, &lookup_key);
}

/* A clock that went backwards makes entries look older, never younger. */
static bool auth_cache_entry_is_fresh(const struct auth_cache_entry *entry,
				      time_t now)
{
	return now >= entry->created && now < entry->expires;
}

static bool auth_cache_entry_is_stale_usable(const struct auth_cache *cache,
					     const struct auth_cache_entry *entry,
					     time_t now)
{
	return !entry->negative && cache->set.stale_secs > 0 &&
		now >= entry->created &&
		now - entry->expires < (time_t)cache->set.stale_secs;
}

static int auth_cache_insert_full(struct auth_cache *cache, const char *user,
				  const void *key, size_t key_size,
				  const void *value, size_t value_size,
				  bool negative, unsigned int ttl_secs,
				  time_t now)
{
	struct auth_cache_entry *entry = auth_cache_find(cache, key, key_size);
	size_t user_size;

	if (user == NULL)
		user = "";
	user_size = strlen(user) + 1;
	size_t data_size = size_add(size_add(key_size, value_size), user_size);
	size_t size = size_add(data_size, AUTH_CACHE_ENTRY_OVERHEAD);

	/* whatever was cached for key is outdated by this result */
	if (entry != NULL)
		auth_cache_entry_free(cache, entry);
	if (ttl_secs == 0 || size > cache->set.max_size)
		return 0;
	while (cache->stats.size + size > cache->set.max_size) {
		auth_cache_entry_free(cache, cache->tail);
		cache->stats.evictions++;
	}

	entry = i_malloc(size_add(sizeof(*entry), data_size));
	memset(entry, 0, sizeof(*entry));
	if (key_size > 0)
		memcpy(entry->data, key, key_size);
	if (value_size > 0)
		memcpy(entry->data + key_size, value, value_size);
	memcpy(entry->data + key_size + value_size, user, user_size);
	entry->key.data = entry->data;
	entry->key.size = key_size;
	entry->value = negative ? NULL : entry->data + key_size;
	entry->value_size = value_size;
	entry->user = (const char *)entry->data + key_size + value_size;
	entry->negative = negative;
	entry->size = size;
	entry->created = now;
	entry->expires = now + (time_t)ttl_secs;

	hash_table_insert(cache->entries, &entry->key, entry);
	auth_cache_link_head(cache, entry);
	cache->stats.entries++;
	cache->stats.size += size;
	return 1;
}

int auth_cache_insert(struct auth_cache *cache, const char *user,
		      const void *key, size_t key_size,
		      const void *value, size_t value_size, time_t now)
{
	return auth_cache_insert_full(cache, user, key, key_size, value,
				      value_size, false, cache->set.ttl_secs,
				      now);
}

int auth_cache_insert_negative(struct auth_cache *cache, const char *user,
			       const void *key, size_t key_size, time_t now)
{
	return auth_cache_insert_full(cache, user, key, key_size, NULL, 0, true,
				      cache->set.negative_ttl_secs, now);
}

static void auth_cache_result_fill(const struct auth_cache_entry *entry,
				   bool stale, struct auth_cache_result *result_r)
{
	result_r->value = entry->value;
	result_r->value_size = entry->negative ? 0 : entry->value_size;
	result_r->negative = entry->negative;
	result_r->stale = stale;
}

/* Returns the entry if fresh (or stale and allowed), dropping it when it
   can never be served again. */
static struct auth_cache_entry *
auth_cache_lookup_entry(struct auth_cache *cache, const void *key,
			size_t key_size, time_t now, bool allow_stale,
			bool *stale_r)
{
	struct auth_cache_entry *entry = auth_cache_find(cache, key, key_size);

	*stale_r = false;
	if (entry == NULL) {
		cache->stats.misses++;
		return NULL;
	}
	if (auth_cache_entry_is_fresh(entry, now)) {
		if (entry->negative)
			cache->stats.negative_hits++;
		else
			cache->stats.hits++;
	} else if (!auth_cache_entry_is_stale_usable(cache, entry, now)) {
		auth_cache_entry_free(cache, entry);
		cache->stats.misses++;
		return NULL;
	} else if (!allow_stale) {
		/* kept for auth_cache_lookup_stale() */
		cache->stats.misses++;
		return NULL;
	} else {
		cache->stats.stale_hits++;
		*stale_r = true;
	}
	auth_cache_unlink(cache, entry);
	auth_cache_link_head(cache, entry);
	return entry;
}

int auth_cache_lookup(struct auth_cache *cache, const void *key,
		      size_t key_size, time_t now,
		      struct auth_cache_result *result_r)
{
	bool stale;
	struct auth_cache_entry *entry =
		auth_cache_lookup_entry(cache, key, key_size, now, false, &stale);

	if (entry == NULL)
		return 0;
	auth_cache_result_fill(entry, stale, result_r);
	return 1;
}

int auth_cache_lookup_stale(struct auth_cache *cache, const void *key,
			    size_t key_size, time_t now,
			    struct auth_cache_result *result_r)
{
	bool stale;
	struct auth_cache_entry *entry =
		auth_cache_lookup_entry(cache, key, key_size, now, true, &stale);

	if (entry == NULL)
		return 0;
	auth_cache_result_fill(entry, stale, result_r);
	return 1;
}

enum auth_cache_verify_result
auth_cache_verify(struct auth_cache *cache, const void *key, size_t key_size,
		  time_t now, auth_cache_verify_fn_t *verify_fn, void *context)
{
	struct auth_cache_result result;

	if (auth_cache_lookup(cache, key, key_size, now, &result) == 0)
		return AUTH_CACHE_VERIFY_MISS;
	if (result.negative)
		return AUTH_CACHE_VERIFY_NEGATIVE;
	switch (verify_fn(result.value, result.value_size, context)) {
	case 1:
		return AUTH_CACHE_VERIFY_MATCH;
	case 0:
		cache->stats.verify_mismatches++;
		return AUTH_CACHE_VERIFY_MISMATCH;
	default:
		return AUTH_CACHE_VERIFY_MISS;
	}
}

bool auth_cache_remove(struct auth_cache *cache, const void *key,
		       size_t key_size)
{
	struct auth_cache_entry *entry = auth_cache_find(cache, key, key_size);

	if (entry == NULL)
		return false;
	auth_cache_entry_free(cache, entry);
	return true;
}

unsigned int auth_cache_flush_all(struct auth_cache *cache)
{
	unsigned int count = 0;

	while (cache->head != NULL) {
		auth_cache_entry_free(cache, cache->head);
		count++;
	}
	return count;
}

unsigned int auth_cache_flush_user(struct auth_cache *cache, const char *user)
{
	struct auth_cache_entry *entry = cache->head, *next;
	unsigned int count = 0;

	for (; entry != NULL; entry = next) {
		next = entry->next;
		if (strcmp(entry->user, user) == 0) {
			auth_cache_entry_free(cache, entry);
			count++;
		}
	}
	return count;
}

void auth_cache_get_stats(const struct auth_cache *cache,
			  struct auth_cache_stats *stats_r)
{
	*stats_r = cache->stats;
}
