/* Brute-force penalty: one bounded table of failure counters keyed by
 * network, by user name and by (network, user) pair, on an LRU list; the
 * pair entries are what lets a success take back only its own failures. */
#include "auth-penalty.h"
#include "dlist.h"
#include "hash.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/rand.h>

/* Longer user names or address texts share a counter with their prefix:
   harmless, and it bounds each entry. */
#define PENALTY_KEY_PART_MAX 256
/* delay_base * 2^(failures-1): past this many doublings it is the cap */
#define PENALTY_SHIFT_MAX 31

enum penalty_kind {
	PENALTY_KIND_NETWORK = 'n',
	PENALTY_KIND_USER = 'u',
	PENALTY_KIND_PAIR = 'p',
};

struct penalty_key {
	const unsigned char *data;
	size_t size;
};

struct penalty_entry {
	/* first, so a pointer to it is the hash table key */
	struct penalty_key key;
	struct penalty_entry *prev, *next;
	time_t last_failure;
	unsigned int failures;
	/* pairs: how many of failures were added to the user's counter */
	unsigned int user_counted;
	unsigned char data[];
};

struct auth_penalty {
	struct auth_penalty_settings set;
	struct hash_table *entries;
	/* head = most recently failed */
	struct penalty_entry *head, *tail;
	struct auth_penalty_stats stats;
};

/* The keys are attacker-chosen names and addresses: seed the hash. */
static uint64_t penalty_hash_seed;

static unsigned int penalty_key_hash(const void *p)
{
	const struct penalty_key *key = p;
	return mem_hash_seeded(key->data, key->size, penalty_hash_seed);
}

static int penalty_key_cmp(const void *p1, const void *p2)
{
	const struct penalty_key *a = p1, *b = p2;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return memcmp(a->data, b->data, a->size);
}

void auth_penalty_settings_default(struct auth_penalty_settings *set_r)
{
	*set_r = (struct auth_penalty_settings){
		.delay_base_msecs = 2000,
		.delay_max_msecs = 15000,
		.expire_secs = 3600,
		.max_entries = 100000,
		.ipv4_prefix_bits = 32,
		.ipv6_prefix_bits = 64,
		.ip_refuse_failures = 100,
		.user_refuse_failures = 50,
		.user_ip_failures_max = 3,
		.refuse_secs = 900,
	};
}

int auth_penalty_create(const struct auth_penalty_settings *set,
			struct auth_penalty **penalty_r, const char **error_r)
{
	if (set->ipv4_prefix_bits == 0 || set->ipv4_prefix_bits > 32 ||
	    set->ipv6_prefix_bits == 0 || set->ipv6_prefix_bits > 128) {
		*error_r = "prefix bits must be 1-32 for IPv4 and 1-128 for IPv6";
		return -1;
	}
	if (set->delay_max_msecs < set->delay_base_msecs) {
		*error_r = "maximum delay is below the base delay";
		return -1;
	}
	if (set->max_entries < 3) {
		*error_r = "max_entries must be at least 3";
		return -1;
	}
	if (set->expire_secs == 0) {
		*error_r = "expire_secs must be at least 1";
		return -1;
	}
	if (penalty_hash_seed == 0 &&
	    RAND_bytes((unsigned char *)&penalty_hash_seed,
		       sizeof(penalty_hash_seed)) != 1)
		i_fatal("RAND_bytes() failed");

	struct auth_penalty *penalty = i_zalloc(sizeof(*penalty));
	penalty->set = *set;
	penalty->entries = hash_table_create(system_pool, penalty_key_hash,
					     penalty_key_cmp);
	*penalty_r = penalty;
	return 0;
}

static void penalty_unlink(struct auth_penalty *penalty,
			   struct penalty_entry *entry)
{
	DLIST_REMOVE(penalty->head, penalty->tail, entry);
}

static void penalty_link_head(struct auth_penalty *penalty,
			      struct penalty_entry *entry)
{
	DLIST_PREPEND(penalty->head, penalty->tail, entry);
}

static void penalty_entry_free(struct auth_penalty *penalty,
			       struct penalty_entry *entry)
{
	bool removed = hash_table_remove(penalty->entries, &entry->key);

	i_assert(removed);
	penalty_unlink(penalty, entry);
	penalty->stats.entries--;
	free(entry);
}

void auth_penalty_destroy(struct auth_penalty **_penalty)
{
	struct auth_penalty *penalty = *_penalty;

	if (penalty == NULL)
		return;
	*_penalty = NULL;
	while (penalty->head != NULL)
		penalty_entry_free(penalty, penalty->head);
	hash_table_destroy(&penalty->entries);
	free(penalty);
}

/* ---- keys ---- */

static void penalty_mask(unsigned char *addr, size_t size, unsigned int bits)
{
	for (size_t i = 0; i < size; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			addr[i] &= (unsigned char)(0xff00 >> bits);
			bits = 0;
		}
	}
}

/* "192.0.2.0/24", "2001:db8:1:2::/64", or the text itself when it is no
   address. IPv4-mapped IPv6 is IPv4: one host, one counter. */
static const char *penalty_network(const struct auth_penalty *penalty,
				   const char *ip)
{
	static const unsigned char v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];

	if (ip == NULL || ip[0] == '\0')
		return NULL;
	if (inet_pton(AF_INET6, ip, addr) == 1 &&
	    memcmp(addr, v4mapped, sizeof(v4mapped)) != 0) {
		penalty_mask(addr, 16, penalty->set.ipv6_prefix_bits);
		inet_ntop(AF_INET6, addr, text, sizeof(text));
		return t_strdup_printf("%s/%u", text, penalty->set.ipv6_prefix_bits);
	}
	if (inet_pton(AF_INET6, ip, addr) == 1)
		memmove(addr, addr + 12, 4);
	else if (inet_pton(AF_INET, ip, addr) != 1)
		return t_strndup(ip, I_MIN(strlen(ip), PENALTY_KEY_PART_MAX));
	penalty_mask(addr, 4, penalty->set.ipv4_prefix_bits);
	inet_ntop(AF_INET, addr, text, sizeof(text));
	return t_strdup_printf("%s/%u", text, penalty->set.ipv4_prefix_bits);
}

static const char *penalty_user(const char *user)
{
	if (user == NULL)
		return NULL;
	size_t len = I_MIN(strlen(user), PENALTY_KEY_PART_MAX);
	char *lower = t_strndup(user, len);
	for (size_t i = 0; i < len; i++) {
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	}
	return lower;
}

/* kind, then a, then NUL and b for pairs. */
static struct penalty_key penalty_key_build(enum penalty_kind kind,
					    const char *a, const char *b)
{
	size_t a_len = strlen(a), b_len = b == NULL ? 0 : strlen(b) + 1;
	unsigned char *data = t_malloc(1 + a_len + b_len);

	data[0] = (unsigned char)kind;
	memcpy(data + 1, a, a_len);
	if (b != NULL) {
		data[1 + a_len] = '\0';
		memcpy(data + 2 + a_len, b, b_len - 1);
	}
	return (struct penalty_key){ .data = data, .size = 1 + a_len + b_len };
}

/* ---- entries ---- */

static bool penalty_entry_is_live(const struct auth_penalty *penalty,
				  const struct penalty_entry *entry, time_t now)
{
	/* a clock that went backwards keeps counters, never drops them early */
	return now < entry->last_failure ||
		now - entry->last_failure < (time_t)penalty->set.expire_secs;
}

/* The live entry for key, or NULL (an expired one is dropped). */
static struct penalty_entry *
penalty_find(struct auth_penalty *penalty, const struct penalty_key *key,
	     time_t now)
{
	struct penalty_entry *entry = hash_table_lookup(penalty->entries, key);

	if (entry != NULL && !penalty_entry_is_live(penalty, entry, now)) {
		penalty_entry_free(penalty, entry);
		entry = NULL;
	}
	return entry;
}

/* Finds or creates the entry for key and makes it most recent. */
static struct penalty_entry *
penalty_get(struct auth_penalty *penalty, const struct penalty_key *key,
	    time_t now)
{
	struct penalty_entry *entry = penalty_find(penalty, key, now);

	if (entry != NULL) {
		penalty_unlink(penalty, entry);
		penalty_link_head(penalty, entry);
		return entry;
	}
	/* reclaim what has expired anyway before evicting live counters */
	while (penalty->tail != NULL &&
	       !penalty_entry_is_live(penalty, penalty->tail, now))
		penalty_entry_free(penalty, penalty->tail);
	while (penalty->stats.entries >= penalty->set.max_entries) {
		penalty_entry_free(penalty, penalty->tail);
		penalty->stats.evictions++;
	}
	entry = i_zalloc(size_add(sizeof(*entry), key->size));
	memcpy(entry->data, key->data, key->size);
	entry->key.data = entry->data;
	entry->key.size = key->size;
	hash_table_insert(penalty->entries, &entry->key, entry);
	penalty_link_head(penalty, entry);
	penalty->stats.entries++;
	return entry;
}

static void penalty_failure_add(struct penalty_entry *entry, time_t now)
{
	if (entry->failures < UINT_MAX)
		entry->failures++;
	entry->last_failure = now;
}

static unsigned int penalty_delay(const struct auth_penalty *penalty,
				  unsigned int failures)
{
	const struct auth_penalty_settings *set = &penalty->set;

	if (failures == 0 || set->delay_base_msecs == 0)
		return 0;
	if (failures - 1 >= PENALTY_SHIFT_MAX)
		return set->delay_max_msecs;
	uint64_t delay = (uint64_t)set->delay_base_msecs << (failures - 1);
	return delay > set->delay_max_msecs ? set->delay_max_msecs :
		(unsigned int)delay;
}

/* ---- the API ---- */

struct penalty_lookup {
	struct penalty_entry *network, *user;
};

static void penalty_lookup(struct auth_penalty *penalty, const char *ip,
			   const char *user, time_t now,
			   struct penalty_lookup *lookup_r)
{
	const char *net = penalty_network(penalty, ip);
	const char *name = penalty_user(user);
	struct penalty_key key;

	*lookup_r = (struct penalty_lookup){ NULL, NULL };
	if (net != NULL) {
		key = penalty_key_build(PENALTY_KIND_NETWORK, net, NULL);
		lookup_r->network = penalty_find(penalty, &key, now);
	}
	if (name != NULL) {
		key = penalty_key_build(PENALTY_KIND_USER, name, NULL);
		lookup_r->user = penalty_find(penalty, &key, now);
	}
}

/* The user's failures that count toward its delay: one network's share
   is free, that network being slowed by its own counter. */
static unsigned int penalty_user_delay_failures(const struct auth_penalty *penalty,
						const struct penalty_entry *user)
{
	unsigned int free_share = penalty->set.user_ip_failures_max;

	if (user == NULL || user->failures <= free_share)
		return 0;
	return user->failures - free_share;
}

unsigned int auth_penalty_get_delay(struct auth_penalty *penalty,
				    const char *ip, const char *user,
				    time_t now)
{
	struct penalty_lookup lookup;

	penalty_lookup(penalty, ip, user, now, &lookup);
	unsigned int net_delay = lookup.network == NULL ? 0 :
		penalty_delay(penalty, lookup.network->failures);
	unsigned int user_delay = penalty_delay(penalty,
		penalty_user_delay_failures(penalty, lookup.user));
	return I_MAX(net_delay, user_delay);
}

static bool penalty_is_refused(const struct auth_penalty *penalty,
			       const struct penalty_entry *entry,
			       unsigned int threshold, time_t now)
{
	return entry != NULL && threshold != 0 && entry->failures >= threshold &&
		(now < entry->last_failure ||
		 now - entry->last_failure < (time_t)penalty->set.refuse_secs);
}

int auth_penalty_check(struct auth_penalty *penalty, const char *ip,
		       const char *user, time_t now,
		       unsigned int *delay_msecs_r, const char **reason_r)
{
	struct penalty_lookup lookup;

	*delay_msecs_r = auth_penalty_get_delay(penalty, ip, user, now);
	*reason_r = NULL;
	penalty_lookup(penalty, ip, user, now, &lookup);
	if (penalty_is_refused(penalty, lookup.network,
			       penalty->set.ip_refuse_failures, now))
		*reason_r = "too many failures from this network";
	else if (penalty_is_refused(penalty, lookup.user,
				    penalty->set.user_refuse_failures, now))
		*reason_r = "too many failures for this user";
	if (*reason_r == NULL)
		return 0;
	penalty->stats.refusals++;
	return 1;
}

void auth_penalty_record_failure(struct auth_penalty *penalty, const char *ip,
				 const char *user, time_t now)
{
	const char *net = penalty_network(penalty, ip);
	const char *name = penalty_user(user);
	struct penalty_key key;
	bool count_for_user = true;

	if (net != NULL) {
		key = penalty_key_build(PENALTY_KIND_NETWORK, net, NULL);
		penalty_failure_add(penalty_get(penalty, &key, now), now);
	}
	if (name == NULL)
		return;
	if (net != NULL) {
		key = penalty_key_build(PENALTY_KIND_PAIR, net, name);
		struct penalty_entry *pair = penalty_get(penalty, &key, now);
		unsigned int cap = penalty->set.user_ip_failures_max;

		penalty_failure_add(pair, now);
		count_for_user = cap == 0 || pair->user_counted < cap;
		if (count_for_user)
			pair->user_counted++;
	}
	key = penalty_key_build(PENALTY_KIND_USER, name, NULL);
	struct penalty_entry *user_entry = penalty_get(penalty, &key, now);
	if (count_for_user)
		penalty_failure_add(user_entry, now);
	else
		user_entry->last_failure = now;
}

static void penalty_subtract(struct auth_penalty *penalty,
			     struct penalty_entry *entry, unsigned int count)
{
	if (entry == NULL)
		return;
	entry->failures -= I_MIN(entry->failures, count);
	if (entry->failures == 0)
		penalty_entry_free(penalty, entry);
}

void auth_penalty_record_success(struct auth_penalty *penalty, const char *ip,
				 const char *user, time_t now)
{
	const char *net = penalty_network(penalty, ip);
	const char *name = penalty_user(user);
	struct penalty_lookup lookup;
	struct penalty_entry *pair;
	struct penalty_key key;

	if (net == NULL || name == NULL)
		return;
	key = penalty_key_build(PENALTY_KIND_PAIR, net, name);
	if ((pair = penalty_find(penalty, &key, now)) == NULL)
		return;
	unsigned int failures = pair->failures, user_counted = pair->user_counted;
	penalty_entry_free(penalty, pair);

	penalty_lookup(penalty, ip, user, now, &lookup);
	penalty_subtract(penalty, lookup.network, failures);
	penalty_subtract(penalty, lookup.user, user_counted);
}

void auth_penalty_get_stats(const struct auth_penalty *penalty,
			    struct auth_penalty_stats *stats_r)
{
	*stats_r = penalty->stats;
}
