/* passdb and userdb backends behind one interface: a driver table per
 * backend (passwd-file, static, pam, sql, ldap), the configured chains that
 * are tried in order, and the %-templates their settings use. The auth
 * service calls the chains; no protocol code sees a driver. */
#ifndef TERN_AUTH_DB_H
#define TERN_AUTH_DB_H

#include "auth-user.h"
#include "config.h"

/* What a lookup knows about the login, for templates and checks. */
struct auth_db_lookup {
	const char *user;      /* the login name, after auth.default_domain */
	const char *service;   /* "imap", "pop3", "lmtp", "smtp" ... or NULL */
	const char *remote_ip; /* NULL if unknown */
	const char *local_ip;  /* NULL if unknown */
};

struct auth_db;

/* One backend. Every function is synchronous and returns 1 found/ok,
   0 unknown user or wrong password, -1 internal error (*error_r set,
   logged by the caller, never shown to a client). Results are allocated
   from pool. */
struct auth_db_driver {
	const char *name;
	/* Opens the backend from its settings block; *ctx_r is passed to
	   the other functions. Should not connect yet: the first lookup
	   does, so a database that is down at startup only fails logins. */
	int (*init)(const struct auth_db_settings *set, const char *base_dir,
		    void **ctx_r, const char **error_r);
	void (*deinit)(void *ctx);
	/* passdb: the stored credentials and passdb extra fields. NULL when
	   the backend can't hand out a password (pam, ldap with auth bind):
	   such a passdb serves only mechanisms that send the password. */
	int (*passdb_lookup)(void *ctx, const struct auth_db_lookup *lookup,
			     const char *name, pool_t pool,
			     struct auth_user **user_r, const char **error_r);
	/* passdb: whether passdb_lookup returns stored passwords (optional:
	   NULL means yes). LDAP in auth-bind mode looks users up but never
	   hands out their password. */
	bool (*passdb_has_passwords)(void *ctx);
	/* passdb: checks a cleartext password itself (PAM, LDAP bind). NULL:
	   the chain uses passdb_lookup and compares the stored hash. */
	int (*passdb_verify)(void *ctx, const struct auth_db_lookup *lookup,
			     const char *name, const char *password, pool_t pool,
			     struct auth_user **user_r, const char **error_r);
	/* userdb: home, uid, gid and userdb extra fields (without the
	   "userdb_" prefix). NULL if the driver is no userdb. */
	int (*userdb_lookup)(void *ctx, const struct auth_db_lookup *lookup,
			     const char *name, pool_t pool,
			     struct auth_user **user_r, const char **error_r);
	/* userdb: calls cb for every user name (ternctl user list); NULL if
	   the backend can't list. Returns 0 or -1. */
	int (*userdb_iterate)(void *ctx, void (*cb)(const char *user, void *context),
			      void *context, const char **error_r);
};

/* Registered drivers, by name. */
const struct auth_db_driver *auth_db_driver_find(const char *name);

/* Opens one configured backend (passdb when is_passdb). Fails for an
   unknown driver, a passdb/userdb role the driver lacks, or bad settings. */
int auth_db_open(const struct auth_db_settings *set, bool is_passdb,
		 const char *base_dir, struct auth_db **db_r, const char **error_r);
/* Accepts NULL; *db becomes NULL. */
void auth_db_close(struct auth_db **db);
const char *auth_db_get_name(const struct auth_db *db);
bool auth_db_is_master(const struct auth_db *db);
/* True if the passdb can return stored credentials (needed by APOP,
   CRAM-MD5 and SCRAM). */
bool auth_db_can_lookup_credentials(const struct auth_db *db);
/* True if its lookups also return the stored password (for CRAM-MD5 and
   SCRAM, which need it). */
bool auth_db_can_hand_out_passwords(const struct auth_db *db);

/* The roles of one backend. name is the login (lookup->user usually);
   username_format is applied here. */
int auth_db_passdb_lookup(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, pool_t pool, struct auth_user **user_r,
			  const char **error_r);
/* Checks password: with the driver's own verify, or by comparing against
   the looked-up hash (stored hashes without a {SCHEME} use the backend's
   default_password_scheme). */
int auth_db_passdb_verify(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, const char *password, pool_t pool,
			  struct auth_user **user_r, const char **error_r);
int auth_db_userdb_lookup(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, pool_t pool, struct auth_user **user_r,
			  const char **error_r);
int auth_db_userdb_iterate(struct auth_db *db,
			   void (*cb)(const char *user, void *context),
			   void *context, const char **error_r);

/* Expands a template: %u user, %n local part, %d domain, %s service,
   %r remote IP, %l local IP, %% a percent sign; %Lu and friends lower-case
   the value. escape (NULL: none) is applied to every substituted value,
   e.g. SQL quoting or LDAP filter escaping. Unknown %x are kept as is. */
const char *auth_db_expand(const char *tmpl, const struct auth_db_lookup *lookup,
			   const char *name,
			   const char *(*escape)(const char *value),
			   pool_t pool);

/* The drivers; sql, ldap and pam register here when built. */
extern const struct auth_db_driver auth_db_driver_ldap, auth_db_driver_pam, auth_db_driver_passwd;
extern const struct auth_db_driver auth_db_driver_passwd_file;
extern const struct auth_db_driver auth_db_driver_static;
extern const struct auth_db_driver auth_db_driver_sql;

#endif
