/* Unit tests for the credential cache: keys with NULs, positive and
 * negative TTLs, never serving an expired entry, stale entries for a
 * backend outage, the byte budget and LRU order, flushing, the verify
 * contract and the counters. */
#include "test-common.h"
#include "auth-cache.h"
#include "pool.h"

#define KEY(s) s, sizeof(s) - 1
#define T0 ((time_t)1700000000)

static const struct auth_cache_settings default_set = {
	.ttl_secs = 60,
	.negative_ttl_secs = 10,
	.max_size = 1024 * 1024,
	.stale_secs = 0,
};

static bool result_is(const struct auth_cache_result *r, const char *value)
{
	return !r->negative && r->value_size == strlen(value) &&
		memcmp(r->value, value, r->value_size) == 0;
}

static void test_cache_basic(void)
{
	struct auth_cache *cache = auth_cache_create(&default_set);
	struct auth_cache_result r;
	char value[] = "{PLAIN}secret";

	test_begin("cache insert and lookup");
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0imap"), T0, &r) == 0);
	test_assert(auth_cache_insert(cache, "alice", KEY("passdb\0alice\0imap"),
				      value, strlen(value), T0) == 1);
	/* the value was copied */
	value[0] = 'X';
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0imap"), T0 + 1, &r) == 1);
	test_assert(result_is(&r, "{PLAIN}secret") && !r.stale);
	/* the bytes after a NUL are part of the key */
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0pop3"), T0, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice"), T0, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0imap\0"), T0, &r) == 0);
	/* replacing keeps one entry */
	test_assert(auth_cache_insert(cache, "alice", KEY("passdb\0alice\0imap"),
				      KEY("new"), T0) == 1);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0imap"), T0, &r) == 1);
	test_assert(result_is(&r, "new"));
	/* an empty value is still a positive entry */
	test_assert(auth_cache_insert(cache, "bob", KEY("userdb\0bob"), "", 0, T0) == 1);
	test_assert(auth_cache_lookup(cache, KEY("userdb\0bob"), T0, &r) == 1);
	test_assert(!r.negative && r.value_size == 0);

	struct auth_cache_stats stats;
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 2);
	test_assert(stats.hits == 3 && stats.misses == 4);
	test_assert(auth_cache_remove(cache, KEY("userdb\0bob")));
	test_assert(!auth_cache_remove(cache, KEY("userdb\0bob")));
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 1);
	test_assert(stats.size == strlen("passdb_alice_imap") + 3 + 6 +
		    AUTH_CACHE_ENTRY_OVERHEAD);
	auth_cache_destroy(&cache);
	test_assert(cache == NULL);
	auth_cache_destroy(&cache);
	test_end();
}

static void test_cache_ttl(void)
{
	struct auth_cache *cache = auth_cache_create(&default_set);
	struct auth_cache_result r;
	struct auth_cache_stats stats;

	test_begin("cache TTLs: never an expired entry");
	test_assert(auth_cache_insert(cache, "alice", KEY("p\0alice"), KEY("hash"), T0) == 1);
	test_assert(auth_cache_insert_negative(cache, "ghost", KEY("p\0ghost"), T0) == 1);
	test_assert(auth_cache_lookup(cache, KEY("p\0ghost"), T0 + 9, &r) == 1);
	test_assert(r.negative && r.value == NULL && r.value_size == 0);
	/* the negative TTL is separate and shorter */
	test_assert(auth_cache_lookup(cache, KEY("p\0ghost"), T0 + 10, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0 + 59, &r) == 1);
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0 + 60, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0 + 59, &r) == 0);
	/* with no stale window, expired entries are gone, not just hidden */
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 0 && stats.size == 0);
	test_assert(stats.negative_hits == 1);

	/* a clock that went backwards doesn't make an entry young again */
	test_assert(auth_cache_insert(cache, "alice", KEY("p\0alice"), KEY("hash"), T0) == 1);
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0 - 1, &r) == 0);

	/* a zero TTL disables that kind of entry */
	struct auth_cache_settings set = default_set;
	set.negative_ttl_secs = 0;
	struct auth_cache *cache2 = auth_cache_create(&set);
	test_assert(auth_cache_insert_negative(cache2, "x", KEY("x"), T0) == 0);
	test_assert(auth_cache_lookup(cache2, KEY("x"), T0, &r) == 0);
	/* ... and a later negative result still drops the positive entry */
	test_assert(auth_cache_insert(cache2, "x", KEY("x"), KEY("v"), T0) == 1);
	test_assert(auth_cache_insert_negative(cache2, "x", KEY("x"), T0) == 0);
	test_assert(auth_cache_lookup(cache2, KEY("x"), T0, &r) == 0);
	auth_cache_destroy(&cache2);
	set = default_set;
	set.ttl_secs = 0;
	cache2 = auth_cache_create(&set);
	test_assert(auth_cache_insert(cache2, "x", KEY("x"), KEY("v"), T0) == 0);
	test_assert(auth_cache_insert_negative(cache2, "x", KEY("x"), T0) == 1);
	auth_cache_destroy(&cache2);
	auth_cache_destroy(&cache);
	test_end();
}

static void test_cache_stale(void)
{
	struct auth_cache_settings set = default_set;
	set.stale_secs = 100;
	struct auth_cache *cache = auth_cache_create(&set);
	struct auth_cache_result r;
	struct auth_cache_stats stats;

	test_begin("cache stale entries for a backend outage");
	test_assert(auth_cache_insert(cache, "alice", KEY("p\0alice"), KEY("hash"), T0) == 1);
	test_assert(auth_cache_insert_negative(cache, "ghost", KEY("p\0ghost"), T0) == 1);
	/* fresh: both lookups agree */
	test_assert(auth_cache_lookup_stale(cache, KEY("p\0alice"), T0 + 1, &r) == 1);
	test_assert(result_is(&r, "hash") && !r.stale);
	/* expired: the normal lookup misses but keeps it ... */
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0 + 60, &r) == 0);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 2);
	/* ... for the backend-down path, marked stale */
	test_assert(auth_cache_lookup_stale(cache, KEY("p\0alice"), T0 + 159, &r) == 1);
	test_assert(result_is(&r, "hash") && r.stale);
	/* never a stale negative entry */
	test_assert(auth_cache_lookup_stale(cache, KEY("p\0ghost"), T0 + 11, &r) == 0);
	/* past the stale window it is dropped */
	test_assert(auth_cache_lookup_stale(cache, KEY("p\0alice"), T0 + 160, &r) == 0);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 0 && stats.stale_hits == 1);
	auth_cache_destroy(&cache);
	test_end();
}

static void test_cache_lru(void)
{
	/* each entry: key "kN" (2) + value (10) + user "u\0" (2) + overhead */
	const size_t entry_size = 2 + 10 + 2 + AUTH_CACHE_ENTRY_OVERHEAD;
	struct auth_cache_settings set = default_set;
	set.max_size = entry_size * 3;
	struct auth_cache *cache = auth_cache_create(&set);
	struct auth_cache_result r;
	struct auth_cache_stats stats;

	test_begin("cache byte limit and LRU eviction");
	test_assert(auth_cache_insert(cache, "u", KEY("k1"), KEY("0123456789"), T0) == 1);
	test_assert(auth_cache_insert(cache, "u", KEY("k2"), KEY("0123456789"), T0) == 1);
	test_assert(auth_cache_insert(cache, "u", KEY("k3"), KEY("0123456789"), T0) == 1);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.size == set.max_size && stats.evictions == 0);
	/* k1 used: k2 is now the least recently used */
	test_assert(auth_cache_lookup(cache, KEY("k1"), T0, &r) == 1);
	test_assert(auth_cache_insert(cache, "u", KEY("k4"), KEY("0123456789"), T0) == 1);
	test_assert(auth_cache_lookup(cache, KEY("k2"), T0, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("k1"), T0, &r) == 1);
	test_assert(auth_cache_lookup(cache, KEY("k3"), T0, &r) == 1);
	test_assert(auth_cache_lookup(cache, KEY("k4"), T0, &r) == 1);
	/* a value as big as the budget evicts everything else */
	char big[4096];
	memset(big, 'x', sizeof(big));
	test_assert(auth_cache_insert(cache, "u", KEY("k5"), big,
				      10 + 2 * entry_size, T0) == 1);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.evictions == 4 && stats.entries == 1);
	test_assert(stats.size == set.max_size);
	test_assert(auth_cache_lookup(cache, KEY("k5"), T0, &r) == 1);
	/* an entry bigger than the whole cache isn't cached, and the old
	   value of its key is dropped rather than served */
	test_assert(auth_cache_insert(cache, "u", KEY("k5"), big, sizeof(big), T0) == 0);
	test_assert(auth_cache_lookup(cache, KEY("k5"), T0, &r) == 0);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 0 && stats.size == 0);
	auth_cache_destroy(&cache);

	/* a zero budget caches nothing */
	set.max_size = 0;
	cache = auth_cache_create(&set);
	test_assert(auth_cache_insert(cache, "u", KEY("k"), KEY("v"), T0) == 0);
	auth_cache_destroy(&cache);
	test_end();
}

/* "passdb\0userN@example.com" into buf; returns its size. */
static size_t flood_key(char *buf, size_t size, unsigned int i,
			const char **user_r)
{
	int len = snprintf(buf, size, "passdb_user%u@example.com", i);

	buf[6] = '\0';
	*user_r = buf + 7;
	return (size_t)len;
}

static void test_cache_flood(void)
{
	struct auth_cache_settings set = default_set;
	set.max_size = 64 * 1024;
	struct auth_cache *cache = auth_cache_create(&set);
	struct auth_cache_result r;
	struct auth_cache_stats stats;
	unsigned int found = 0;

	test_begin("cache flooded with distinct users stays in budget");
	char key[64];
	const char *user;

	for (unsigned int i = 0; i < 100000; i++) {
		size_t key_size = flood_key(key, sizeof(key), i, &user);
		if (i % 2 == 0)
			(void)auth_cache_insert(cache, user, key, key_size,
						KEY("{SHA512-CRYPT}$6$..."), T0 + i / 1000);
		else
			(void)auth_cache_insert_negative(cache, user, key, key_size,
							 T0 + i / 1000);
		auth_cache_get_stats(cache, &stats);
		test_assert(stats.size <= set.max_size);
	}
	/* the newest entries survived */
	for (unsigned int i = 99990; i < 100000; i++) {
		size_t key_size = flood_key(key, sizeof(key), i, &user);
		found += auth_cache_lookup(cache, key, key_size, T0 + 100, &r);
	}
	test_assert(found == 10);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.evictions > 90000);
	test_assert(stats.entries * (AUTH_CACHE_ENTRY_OVERHEAD + 40) <= set.max_size);
	auth_cache_destroy(&cache);
	test_end();
}

static void test_cache_flush(void)
{
	struct auth_cache *cache = auth_cache_create(&default_set);
	struct auth_cache_result r;
	struct auth_cache_stats stats;

	test_begin("cache flush all and by user");
	(void)auth_cache_insert(cache, "alice", KEY("passdb\0alice\0imap"), KEY("a"), T0);
	(void)auth_cache_insert(cache, "alice", KEY("userdb\0alice"), KEY("b"), T0);
	(void)auth_cache_insert_negative(cache, "alice", KEY("passdb\0alice\0pop3"), T0);
	(void)auth_cache_insert(cache, "alicex", KEY("passdb\0alicex\0imap"), KEY("c"), T0);
	(void)auth_cache_insert(cache, "Alice", KEY("passdb\0Alice\0imap"), KEY("d"), T0);
	(void)auth_cache_insert(cache, "bob", KEY("passdb\0bob\0imap"), KEY("e"), T0);
	test_assert(auth_cache_flush_user(cache, "alice") == 3);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alice\0imap"), T0, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("userdb\0alice"), T0, &r) == 0);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0alicex\0imap"), T0, &r) == 1);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0Alice\0imap"), T0, &r) == 1);
	test_assert(auth_cache_flush_user(cache, "nobody") == 0);
	(void)auth_cache_insert(cache, NULL, KEY("global"), KEY("f"), T0);
	test_assert(auth_cache_flush_user(cache, "") == 1);
	(void)auth_cache_insert(cache, NULL, KEY("global"), KEY("f"), T0);
	test_assert(auth_cache_flush_all(cache) == 4);
	test_assert(auth_cache_lookup(cache, KEY("passdb\0bob\0imap"), T0, &r) == 0);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.entries == 0 && stats.size == 0);
	test_assert(auth_cache_flush_all(cache) == 0);
	auth_cache_destroy(&cache);
	test_end();
}

struct verify_ctx {
	const char *password;
	unsigned int calls;
};

/* The cached value here is just the password; -1 for "!" values. */
static int verify_cb(const void *value, size_t value_size, void *context)
{
	struct verify_ctx *ctx = context;

	ctx->calls++;
	if (value_size == 1 && ((const char *)value)[0] == '!')
		return -1;
	return value_size == strlen(ctx->password) &&
		memcmp(value, ctx->password, value_size) == 0 ? 1 : 0;
}

static void test_cache_verify(void)
{
	struct auth_cache *cache = auth_cache_create(&default_set);
	struct verify_ctx ctx = { .password = "old" };
	struct auth_cache_result r;
	struct auth_cache_stats stats;

	test_begin("cache verify contract");
	test_assert(auth_cache_verify(cache, KEY("p\0alice"), T0, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MISS);
	test_assert(ctx.calls == 0);
	(void)auth_cache_insert(cache, "alice", KEY("p\0alice"), KEY("old"), T0);
	test_assert(auth_cache_verify(cache, KEY("p\0alice"), T0, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MATCH);
	/* the password changed in the backend: a mismatch against the cache
	   tells the caller to look up again, and the entry stays */
	ctx.password = "new";
	test_assert(auth_cache_verify(cache, KEY("p\0alice"), T0, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MISMATCH);
	test_assert(auth_cache_lookup(cache, KEY("p\0alice"), T0, &r) == 1);
	/* the caller's re-lookup inserts the new result */
	(void)auth_cache_insert(cache, "alice", KEY("p\0alice"), KEY("new"), T0 + 1);
	test_assert(auth_cache_verify(cache, KEY("p\0alice"), T0 + 1, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MATCH);
	/* expired: a miss, the callback isn't even run */
	unsigned int calls = ctx.calls;
	test_assert(auth_cache_verify(cache, KEY("p\0alice"), T0 + 61, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MISS);
	test_assert(ctx.calls == calls);
	(void)auth_cache_insert_negative(cache, "ghost", KEY("p\0ghost"), T0);
	test_assert(auth_cache_verify(cache, KEY("p\0ghost"), T0, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_NEGATIVE);
	test_assert(ctx.calls == calls);
	/* an entry the callback can't use is a miss */
	(void)auth_cache_insert(cache, "carol", KEY("p\0carol"), KEY("!"), T0);
	test_assert(auth_cache_verify(cache, KEY("p\0carol"), T0, verify_cb, &ctx) ==
		    AUTH_CACHE_VERIFY_MISS);
	auth_cache_get_stats(cache, &stats);
	test_assert(stats.verify_mismatches == 1);
	auth_cache_destroy(&cache);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_cache_basic,
		test_cache_ttl,
		test_cache_stale,
		test_cache_lru,
		test_cache_flood,
		test_cache_flush,
		test_cache_verify,
		NULL,
	};
	return test_run(tests);
}
