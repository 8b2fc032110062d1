/* Unit tests for the brute-force penalty: progressive delays and their cap,
 * expiry, address grouping, success taking back only its own failures,
 * refusals per network and per user, one address unable to lock a user out,
 * and the table staying bounded under spraying. */
#include "test-common.h"
#include "auth-penalty.h"
#include "pool.h"

#define T0 ((time_t)1700000000)

static struct auth_penalty *penalty_create_default(void)
{
	struct auth_penalty_settings set;
	struct auth_penalty *penalty;
	const char *error;

	auth_penalty_settings_default(&set);
	if (auth_penalty_create(&set, &penalty, &error) < 0)
		i_panic("%s", error);
	return penalty;
}

static void fail_n(struct auth_penalty *penalty, const char *ip,
		   const char *user, unsigned int n, time_t now)
{
	for (unsigned int i = 0; i < n; i++)
		auth_penalty_record_failure(penalty, ip, user, now);
}

static void test_penalty_settings(void)
{
	struct auth_penalty_settings set;
	struct auth_penalty *penalty = NULL;
	const char *error;

	test_begin("penalty settings");
	auth_penalty_settings_default(&set);
	test_assert(set.delay_base_msecs == 2000 && set.delay_max_msecs == 15000);
	test_assert(set.ipv6_prefix_bits == 64 && set.ipv4_prefix_bits == 32);
	set.ipv6_prefix_bits = 129;
	test_assert(auth_penalty_create(&set, &penalty, &error) == -1 && penalty == NULL);
	auth_penalty_settings_default(&set);
	set.ipv4_prefix_bits = 0;
	test_assert(auth_penalty_create(&set, &penalty, &error) == -1);
	auth_penalty_settings_default(&set);
	set.delay_max_msecs = 1000;
	test_assert(auth_penalty_create(&set, &penalty, &error) == -1);
	auth_penalty_settings_default(&set);
	set.max_entries = 2;
	test_assert(auth_penalty_create(&set, &penalty, &error) == -1);
	test_assert(strstr(error, "max_entries") != NULL);
	auth_penalty_settings_default(&set);
	test_assert(auth_penalty_create(&set, &penalty, &error) == 0);
	auth_penalty_destroy(&penalty);
	test_assert(penalty == NULL);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_delays(void)
{
	static const unsigned int expected[] = { 0, 2000, 4000, 8000, 15000, 15000 };
	struct auth_penalty *penalty = penalty_create_default();

	test_begin("penalty progressive delay");
	for (unsigned int i = 0; i < N_ELEMENTS(expected); i++) {
		unsigned int delay = auth_penalty_get_delay(penalty, "192.0.2.7",
							    NULL, T0);
		if (delay != expected[i])
			printf("  after %u failures: %u\n", i, delay);
		test_assert(delay == expected[i]);
		auth_penalty_record_failure(penalty, "192.0.2.7", NULL, T0);
	}
	/* many more failures stay at the cap, no overflow */
	fail_n(penalty, "192.0.2.7", NULL, 50, T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.7", NULL, T0) == 15000);
	/* another address isn't affected */
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.8", NULL, T0) == 0);
	/* idle for the expiry time: forgotten */
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.7", NULL, T0 + 3599) == 15000);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.7", NULL, T0 + 3600) == 0);
	struct auth_penalty_stats stats;
	auth_penalty_get_stats(penalty, &stats);
	test_assert(stats.entries == 0);
	/* a failure restarts the idle time */
	auth_penalty_record_failure(penalty, "192.0.2.9", NULL, T0);
	auth_penalty_record_failure(penalty, "192.0.2.9", NULL, T0 + 3000);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.9", NULL, T0 + 6000) == 4000);
	auth_penalty_destroy(&penalty);

	/* base 0: no delays */
	struct auth_penalty_settings set;
	const char *error;
	auth_penalty_settings_default(&set);
	set.delay_base_msecs = 0;
	test_assert(auth_penalty_create(&set, &penalty, &error) == 0);
	fail_n(penalty, "192.0.2.7", "u", 10, T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.7", "u", T0) == 0);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_networks(void)
{
	struct auth_penalty *penalty = penalty_create_default();

	test_begin("penalty groups addresses by prefix");
	auth_penalty_record_failure(penalty, "2001:db8:1:2::1", NULL, T0);
	/* same /64, any interface id */
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:2:ffff:eeee:dddd:cccc", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "2001:DB8:1:2:0::9", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:3::1", NULL, T0) == 0);
	/* IPv4 /32 by default; mapped IPv6 is the same host */
	auth_penalty_record_failure(penalty, "198.51.100.1", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "::ffff:198.51.100.1", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "198.51.100.2", NULL, T0) == 0);
	auth_penalty_record_failure(penalty, "::ffff:198.51.100.1", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "198.51.100.1", NULL, T0) == 4000);
	/* no address (Unix socket) or no user: only the other counter */
	auth_penalty_record_failure(penalty, NULL, NULL, T0);
	auth_penalty_record_failure(penalty, "", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, NULL, NULL, T0) == 0);
	/* text that isn't an address is its own key */
	auth_penalty_record_failure(penalty, "not-an-ip", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "not-an-ip", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "not-an-ip2", NULL, T0) == 0);
	auth_penalty_destroy(&penalty);

	/* configurable prefixes */
	struct auth_penalty_settings set;
	const char *error;
	auth_penalty_settings_default(&set);
	set.ipv6_prefix_bits = 48;
	set.ipv4_prefix_bits = 24;
	test_assert(auth_penalty_create(&set, &penalty, &error) == 0);
	auth_penalty_record_failure(penalty, "2001:db8:1:2::1", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:ffff::1", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:2::1", NULL, T0) == 0);
	auth_penalty_record_failure(penalty, "203.0.113.5", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "203.0.113.250", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "203.0.114.5", NULL, T0) == 0);
	auth_penalty_destroy(&penalty);
	/* odd prefix lengths mask inside a byte */
	auth_penalty_settings_default(&set);
	set.ipv6_prefix_bits = 61;
	set.ipv4_prefix_bits = 30;
	test_assert(auth_penalty_create(&set, &penalty, &error) == 0);
	auth_penalty_record_failure(penalty, "2001:db8:1:8::1", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:f::1", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:10::1", NULL, T0) == 0);
	auth_penalty_record_failure(penalty, "10.0.0.4", NULL, T0);
	test_assert(auth_penalty_get_delay(penalty, "10.0.0.7", NULL, T0) == 2000);
	test_assert(auth_penalty_get_delay(penalty, "10.0.0.8", NULL, T0) == 0);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_success(void)
{
	struct auth_penalty *penalty = penalty_create_default();
	struct auth_penalty_stats stats;

	test_begin("penalty success takes back only its own failures");
	/* alice mistypes twice, bob's name is guessed three times, same NAT */
	fail_n(penalty, "192.0.2.1", "alice", 2, T0);
	fail_n(penalty, "192.0.2.1", "bob", 3, T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.1", NULL, T0) == 15000);
	auth_penalty_record_success(penalty, "192.0.2.1", "alice", T0);
	/* bob's three remain on the network */
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.1", "alice", T0) == 8000);
	/* a success for a pair without failures changes nothing */
	auth_penalty_record_success(penalty, "192.0.2.1", "carol", T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.1", NULL, T0) == 8000);
	/* bob's own success clears the rest */
	auth_penalty_record_success(penalty, "192.0.2.1", "BOB", T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.1", "bob", T0) == 0);
	auth_penalty_get_stats(penalty, &stats);
	test_assert(stats.entries == 0);
	/* a success from another network doesn't clear this one */
	fail_n(penalty, "192.0.2.1", "alice", 2, T0);
	auth_penalty_record_success(penalty, "192.0.2.99", "alice", T0);
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.1", NULL, T0) == 4000);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_refuse_network(void)
{
	struct auth_penalty *penalty = penalty_create_default();
	unsigned int delay;
	const char *reason;

	test_begin("penalty refuses a network; other users still get in");
	/* 1,000 failures from one address, all guessing alice */
	fail_n(penalty, "198.51.100.66", "alice", 1000, T0);
	test_assert(auth_penalty_check(penalty, "198.51.100.66", "alice", T0 + 1,
				       &delay, &reason) == 1);
	test_assert_strcmp(reason, "too many failures from this network");
	test_assert(auth_penalty_check(penalty, "198.51.100.66", "zed", T0 + 1,
				       &delay, &reason) == 1);
	/* alice herself, elsewhere: neither refused nor slowed */
	test_assert(auth_penalty_check(penalty, "203.0.113.10", "alice", T0 + 1,
				       &delay, &reason) == 0);
	test_assert(delay == 0 && reason == NULL);
	/* the refusal lasts refuse_secs after the last failure ... */
	test_assert(auth_penalty_check(penalty, "198.51.100.66", NULL, T0 + 899,
				       &delay, &reason) == 1);
	test_assert(auth_penalty_check(penalty, "198.51.100.66", NULL, T0 + 900,
				       &delay, &reason) == 0);
	test_assert(delay == 15000);
	/* ... and one more failure brings it back */
	auth_penalty_record_failure(penalty, "198.51.100.66", "alice", T0 + 900);
	test_assert(auth_penalty_check(penalty, "198.51.100.66", NULL, T0 + 901,
				       &delay, &reason) == 1);
	struct auth_penalty_stats stats;
	auth_penalty_get_stats(penalty, &stats);
	test_assert(stats.refusals == 4);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_refuse_user(void)
{
	struct auth_penalty *penalty = penalty_create_default();
	unsigned int delay;
	const char *reason;

	test_begin("penalty refuses a user guessed from many networks");
	/* one network: at most 3 count for alice, and those are free */
	fail_n(penalty, "192.0.2.1", "alice", 20, T0);
	test_assert(auth_penalty_get_delay(penalty, "203.0.113.10", "alice", T0) == 0);
	/* a second network: the user's delay starts */
	fail_n(penalty, "192.0.2.2", "alice", 1, T0);
	test_assert(auth_penalty_get_delay(penalty, "203.0.113.10", "Alice", T0) == 2000);
	fail_n(penalty, "192.0.2.2", "alice", 1, T0);
	test_assert(auth_penalty_get_delay(penalty, "203.0.113.10", "alice", T0) == 4000);
	/* a botnet: 17 networks x 3 = 51 counted failures */
	for (unsigned int i = 3; i <= 17; i++) {
		const char *ip = t_strdup_printf("192.0.2.%u", i);
		fail_n(penalty, ip, "alice", 5, T0);
	}
	test_assert(auth_penalty_check(penalty, "203.0.113.10", "alice", T0 + 1,
				       &delay, &reason) == 1);
	test_assert_strcmp(reason, "too many failures for this user");
	test_assert(delay == 15000);
	/* other users from that address are fine */
	test_assert(auth_penalty_check(penalty, "203.0.113.10", "bob", T0 + 1,
				       &delay, &reason) == 0);
	test_assert(delay == 0);
	/* user names are case-insensitive */
	test_assert(auth_penalty_check(penalty, "203.0.113.10", "ALICE", T0 + 1,
				       &delay, &reason) == 1);
	test_assert(auth_penalty_check(penalty, "203.0.113.10", "alice", T0 + 900,
				       &delay, &reason) == 0);
	auth_penalty_destroy(&penalty);
	test_end();
}

static void test_penalty_bounded(void)
{
	struct auth_penalty_settings set;
	struct auth_penalty *penalty;
	struct auth_penalty_stats stats;
	const char *error;

	test_begin("penalty table stays bounded when sprayed");
	auth_penalty_settings_default(&set);
	set.max_entries = 1000;
	test_assert(auth_penalty_create(&set, &penalty, &error) == 0);
	/* the attacker worth remembering, then a spray of addresses and names */
	fail_n(penalty, "192.0.2.200", "root", 5, T0);
	for (unsigned int i = 0; i < 100000; i++) {
		const char *ip = t_strdup_printf("2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		const char *user = t_strdup_printf("user%u", i);
		auth_penalty_record_failure(penalty, ip, user, T0 + 1);
		if (i % 1000 == 0) {
			auth_penalty_get_stats(penalty, &stats);
			test_assert(stats.entries <= 1000);
			t_pool_clear();
		}
	}
	auth_penalty_get_stats(penalty, &stats);
	test_assert(stats.entries <= 1000 && stats.entries >= 997);
	test_assert(stats.evictions > 290000);
	/* the least recently failed went first */
	test_assert(auth_penalty_get_delay(penalty, "192.0.2.200", NULL, T0 + 2) == 0);
	test_assert(auth_penalty_get_delay(penalty, "2001:db8:1:869f::1", NULL, T0 + 2) == 2000);
	/* expired entries are reclaimed before live ones are evicted */
	auth_penalty_record_failure(penalty, "192.0.2.201", "x", T0 + 10000);
	auth_penalty_get_stats(penalty, &stats);
	test_assert(stats.entries == 3);
	/* a long user name is cut, sharing a counter with its prefix */
	char long_user[1000];
	memset(long_user, 'a', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	fail_n(penalty, NULL, long_user, 60, T0 + 10000);
	long_user[500] = '\0';
	test_assert(auth_penalty_get_delay(penalty, NULL, long_user, T0 + 10000) == 15000);
	auth_penalty_destroy(&penalty);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_penalty_settings,
		test_penalty_delays,
		test_penalty_networks,
		test_penalty_success,
		test_penalty_refuse_network,
		test_penalty_refuse_user,
		test_penalty_bounded,
		NULL,
	};
	return test_run(tests);
}
