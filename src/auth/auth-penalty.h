/* Brute-force penalty: failure counters per remote network (an IPv6 /64 by
 * default) and per user name, turned into a progressive delay before the
 * next password check and, past a threshold, a refusal without checking the
 * password at all. Bounded memory (LRU), no I/O, no settings parsing, no
 * clock of its own: every call takes the caller's `now` (ioloop_time()). */
#ifndef TERN_AUTH_PENALTY_H
#define TERN_AUTH_PENALTY_H

#include "lib.h"

#include <time.h>

struct auth_penalty;

struct auth_penalty_settings {
	/* Delay after one failure; each further failure doubles it:
	   delay = delay_base_msecs * 2^(failures - 1), capped at
	   delay_max_msecs. 0 = no delays (refusals still apply). */
	unsigned int delay_base_msecs;
	unsigned int delay_max_msecs;
	/* A counter with no new failure for this long is forgotten. */
	unsigned int expire_secs;
	/* Bound on tracked networks + users + (network, user) pairs together
	   (at least 3); the least recently failed are forgotten first. */
	unsigned int max_entries;
	/* Addresses are grouped by prefix so a host can't escape its counter
	   by rotating addresses inside its allocation (0 < bits <= 32/128). */
	unsigned int ipv4_prefix_bits;
	unsigned int ipv6_prefix_bits;
	/* After this many failures from one network, attempts from it are
	   refused outright until refuse_secs after its last failure.
	   0 = never refuse by network. */
	unsigned int ip_refuse_failures;
	/* Per user name, a network adds at most user_ip_failures_max failures
	   to the user's counter: the network's own counter already slows a
	   single attacker, and this keeps one address from locking a user out
	   or slowing the user's logins from elsewhere. The user's delay counts
	   only failures beyond user_ip_failures_max, so it starts once failures
	   come from more than one network (a distributed guess), and after
	   user_refuse_failures counted failures the user's attempts are
	   refused until refuse_secs after the last one. 0 = never refuse by
	   user; user_ip_failures_max 0 = no cap (and no free allowance). */
	unsigned int user_refuse_failures;
	unsigned int user_ip_failures_max;
	unsigned int refuse_secs;
};

/* Dovecot-like defaults: 2 s doubling to 15 s, forgotten after an idle
   hour, 100,000 entries, /32 and /64, refusing a network after 100
   failures and a user after 50 counted failures (at most 3 from each
   network), for 15 minutes. */
void auth_penalty_settings_default(struct auth_penalty_settings *set_r);

/* Returns -1 with *error_r for inconsistent settings (prefix bits out of
   range, delay_max < delay_base, max_entries < 3 ...). set is copied. */
int auth_penalty_create(const struct auth_penalty_settings *set,
			struct auth_penalty **penalty_r, const char **error_r);
/* Accepts NULL; *penalty becomes NULL. */
void auth_penalty_destroy(struct auth_penalty **penalty);

/* In every call below, ip is the remote address as text ("192.0.2.1",
   "2001:db8::1", IPv4-mapped IPv6 counts as IPv4); NULL or "" (a Unix
   socket) skips the network counter, and text that isn't an address is
   used as an opaque key. user may be NULL (not known yet) to skip the
   user counters; user names are compared ASCII-case-insensitively so
   "Alice" and "alice" share a counter. */

/* Delay in milliseconds to hold the next attempt of (ip, user) before
   checking its password: the larger of the network's and the user's delays.
   0 when neither has recent failures. Counters past expire_secs are
   dropped as they are seen. */
unsigned int auth_penalty_get_delay(struct auth_penalty *penalty,
				    const char *ip, const char *user,
				    time_t now);

/* The whole pre-check: *delay_msecs_r as auth_penalty_get_delay(); returns
   1 when the attempt must be refused without checking the password (too
   many failures from the network or for the user; *reason_r is a static
   string for the log, "too many failures from this network" or "too many
   failures for this user"), 0 when the password may be checked after the
   delay. A refused attempt is not a failure: don't record it. */
int auth_penalty_check(struct auth_penalty *penalty, const char *ip,
		       const char *user, time_t now,
		       unsigned int *delay_msecs_r, const char **reason_r);

/* A password check failed for (ip, user): bumps the network's, the user's
   and the pair's counters. */
void auth_penalty_record_failure(struct auth_penalty *penalty, const char *ip,
				 const char *user, time_t now);
/* A login succeeded: the failures this user made from this network (typos
   before getting it right) are taken back off the network's and the user's
   counters, and the pair is forgotten. Failures for other users from the
   same network stay, so logging in with one valid account doesn't wipe the
   penalty for guessing others. */
void auth_penalty_record_success(struct auth_penalty *penalty, const char *ip,
				 const char *user, time_t now);

struct auth_penalty_stats {
	unsigned int entries;
	/* Entries forgotten to stay under max_entries. */
	uint64_t evictions;
	/* auth_penalty_check() calls that returned 1. */
	uint64_t refusals;
};
void auth_penalty_get_stats(const struct auth_penalty *penalty,
			    struct auth_penalty_stats *stats_r);

#endif
