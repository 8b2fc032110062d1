/* The authentication service as the login code sees it: created once from
 * the settings, it owns the passdb/userdb chains (auth-db.h) and the
 * enabled SASL mechanisms. Requests are in auth-request.h. */
#ifndef TERN_AUTH_H
#define TERN_AUTH_H

#include "lib.h"
#include "auth-db.h"
#include "auth-oauth2.h"

struct auth;

struct auth_options {
	/* with no passdbs: the passdb (and, with no userdbs, the userdb) */
	const char *passwd_file;
	/* configured passdb/userdb blocks, tried in this order */
	const struct auth_db_settings *const *passdbs;
	unsigned int passdb_count;
	const struct auth_db_settings *const *userdbs;
	unsigned int userdb_count;
	/* relative backend paths resolve against it; NULL: "/" */
	const char *base_dir;
	/* "user*master" separator; NULL or "": off */
	const char *master_user_separator;
	/* appended to names without "@domain"; NULL or "": none */
	const char *default_domain;
	/* Space-separated SASL mechanisms to offer; NULL = "PLAIN LOGIN". */
	const char *mechanisms;
	/* Failure replies are held back this long (brute-force slowdown). */
	unsigned int failure_delay_ms;
	/* brute-force penalty; all 0: failures wait failure_delay_ms only */
	unsigned int failure_delay_max_ms;
	unsigned int penalty_network_failures, penalty_user_failures;
	unsigned int penalty_refuse_secs;
	unsigned int penalty_ipv6_prefix;
	/* credential cache: bytes (0: off), positive and negative TTLs */
	uint64_t cache_size;
	unsigned int cache_ttl_secs, cache_negative_ttl_secs;
	/* Offer and accept plaintext mechanisms on unsecured connections. */
	bool allow_insecure_plaintext;
	/* OAUTHBEARER and XOAUTH2 token validation */
	struct auth_oauth2_settings oauth2;
};

/* Fails for a missing passwd_file setting or an unsupported mechanism.
   opts is copied. */
int auth_create(const struct auth_options *opts, struct auth **auth_r,
		const char **error_r);
/* auth_create() with the options of a loaded configuration (auth block,
   passdb and userdb blocks, base_dir). */
int auth_create_from_settings(const struct tern_settings *set, struct auth **auth_r,
			      const char **error_r);
/* Also frees any requests still running, without calling their callbacks.
   Must not be called from inside a reply callback. Accepts NULL; *auth
   becomes NULL. */
void auth_destroy(struct auth **auth);

/* Space-separated mechanisms offered on this connection: plaintext ones
   only when secured (TLS or loopback) or allow_insecure_plaintext. Owned by
   auth; may be "". */
const char *auth_get_mechanisms(struct auth *auth, bool secured);

/* Drops cached results of user (NULL: all). Returns how many. */
unsigned int auth_cache_flush(struct auth *auth, const char *user);

/* Looks up lookup->user in the userdb chain (after auth.default_domain),
   for delivery and other lookups without a login. Synchronous. Returns 1
   found, 0 unknown user, -1 backend error (*error_r set). */
int auth_userdb_lookup(struct auth *auth, const struct auth_db_lookup *lookup,
		       pool_t pool, struct auth_user **user_r, const char **error_r);

/* Calls cb for every user name of the userdbs that can list their users
   (with no userdb: of the passdbs), for ternctl and the master socket's
   LIST. A user in two backends comes twice. Synchronous. Returns 0, or -1
   if a backend failed or none can list (*error_r set). */
int auth_userdb_iterate(struct auth *auth, void (*cb)(const char *user, void *context),
			void *context, const char **error_r);

#endif
