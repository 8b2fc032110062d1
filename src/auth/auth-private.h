/* What auth.c and auth-request.c share: the service's state. */
#ifndef TERN_AUTH_PRIVATE_H
#define TERN_AUTH_PRIVATE_H

#include "auth.h"
#include "auth-request.h"
#include "auth-penalty.h"

struct auth {
	pool_t pool;
	ARRAY(struct auth_db *) passdbs;
	ARRAY(struct auth_db *) userdbs;
	const char *master_user_separator; /* "" when off */
	const char *default_domain;        /* "" when none */
	ARRAY(const char *) mechs; /* upper case */
	const char *mechs_secured, *mechs_unsecured;
	unsigned int failure_delay_ms;
	struct auth_penalty *penalty; /* NULL: none */
	struct auth_cache *cache;     /* NULL: auth.cache_size is 0 */
	bool allow_insecure_plaintext;
	struct auth_oauth2 *oauth2; /* NULL: no token validation configured */
	struct auth_request *requests; /* every live request */
};

/* Returns the enabled mechanism's canonical name, or NULL. */
const char *auth_mech_find(const struct auth *auth, const char *mech);
/* auth-lookup.c: the chains. Return 1 ok/found, 0 no, -1 every failing
   backend had an internal error (logged). master selects the master
   passdbs instead of the normal ones. */
int auth_lookup_init(struct auth *auth, const struct auth_options *opts,
		     const char **error_r);
void auth_lookup_deinit(struct auth *auth);
/* name with auth.default_domain applied; temporary memory */
const char *auth_lookup_name(struct auth *auth, const char *name);
int auth_passdb_verify(struct auth *auth, const struct auth_db_lookup *lookup,
		       bool master, const char *password, pool_t pool,
		       struct auth_user **user_r);
/* stored credentials, from the first passdb that can return them */
int auth_passdb_lookup(struct auth *auth, const struct auth_db_lookup *lookup,
		       pool_t pool, struct auth_user **user_r);
bool auth_has_master_passdb(const struct auth *auth);
/* The user a successful passdb result logs in as: the userdb's fields
   with the passdb's merged in (auth_user_merge_passdb). */
int auth_lookup_user_for_login(struct auth *auth, const struct auth_db_lookup *lookup,
			       const struct auth_user *passdb_user, pool_t pool,
			       struct auth_user **user_r);
/* passdb "userdb_X=v" fields set X on user; other passdb fields are
   appended as they are. */
void auth_user_merge_passdb(struct auth_user *user, const struct auth_user *passdb_user,
			    pool_t pool);
/* auth-lookup-cache.c: role is "passdb", "masterdb" or "userdb".
   get: 1 cached user (into pool), -1 cached "no such user", 0 nothing. */
int auth_lookup_cache_get(struct auth *auth, const char *role, const char *user,
			  pool_t pool, struct auth_user **user_r);
/* result NULL: no such user */
void auth_lookup_cache_put(struct auth *auth, const char *role, const char *user,
			   const struct auth_user *result);
/* Frees every request without callbacks (auth_destroy). */
void auth_requests_free_all(struct auth *auth);

#endif
