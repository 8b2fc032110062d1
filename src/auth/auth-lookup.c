/* The passdb and userdb chains of the auth service: the configured
 * backends tried in order (a backend that doesn't know the user, or whose
 * password doesn't match, passes to the next one, as in Dovecot), master
 * users, the default domain, and the merge of passdb userdb_ fields into
 * the userdb result. */
#include "auth-private.h"
#include "auth-password.h"
#include "log.h"

#include <string.h>

static void auth_lookup_log_error(const struct auth_db *db, const char *role,
				  const char *error)
{
	log_error(NULL, "auth", "%s=%s error=%s", role, log_value(auth_db_get_name(db)),
		  log_value(error));
}

const char *auth_lookup_name(struct auth *auth, const char *name)
{
	if (auth->default_domain[0] == '\0' || strchr(name, '@') != NULL)
		return name;
	return t_strdup_printf("%s@%s", name, auth->default_domain);
}

int auth_passdb_verify(struct auth *auth, const struct auth_db_lookup *lookup,
		       bool master, const char *password, pool_t pool,
		       struct auth_user **user_r)
{
	bool failed = false;
	const char *role = master ? "masterdb" : "passdb";
	struct auth_user *cached;

	int c = auth_lookup_cache_get(auth, role, lookup->user, pool, &cached);
	if (c < 0)
		return 0; /* a cached "no such user" */
	if (c > 0 && cached->password != NULL) {
		const char *error;
		if (password_verify(password, cached->password, cached->name, &error) > 0) {
			*user_r = cached;
			return 1;
		}
		/* the password may have changed: ask the backends again */
	}
	bool unknown = true;
	for (unsigned int i = 0; i < auth->passdbs.count; i++) {
		struct auth_db *db = auth->passdbs.v[i];
		const char *error;
		if (auth_db_is_master(db) != master)
			continue;
		int ret = auth_db_passdb_verify(db, lookup, lookup->user, password,
						pool, user_r, &error);
		if (ret > 0) {
			/* only a hash can be checked against later */
			if ((*user_r)->password != NULL)
				auth_lookup_cache_put(auth, role, lookup->user, *user_r);
			return 1;
		}
		if (ret < 0) {
			auth_lookup_log_error(db, "passdb", error);
			failed = true;
		} else if (auth->cache != NULL && auth_db_can_lookup_credentials(db)) {
			/* did it know the user, with another password? */
			struct auth_user *u;
			if (auth_db_passdb_lookup(db, lookup, lookup->user, pool, &u, &error) != 0)
				unknown = false;
		} else {
			unknown = false;
		}
	}
	if (!failed && unknown)
		auth_lookup_cache_put(auth, role, lookup->user, NULL);
	return failed ? -1 : 0;
}

int auth_passdb_lookup(struct auth *auth, const struct auth_db_lookup *lookup,
		       pool_t pool, struct auth_user **user_r)
{
	bool failed = false;

	for (unsigned int i = 0; i < auth->passdbs.count; i++) {
		struct auth_db *db = auth->passdbs.v[i];
		const char *error;
		if (auth_db_is_master(db) || !auth_db_can_lookup_credentials(db))
			continue;
		int ret = auth_db_passdb_lookup(db, lookup, lookup->user, pool,
						user_r, &error);
		if (ret > 0)
			return 1;
		if (ret < 0) {
			auth_lookup_log_error(db, "passdb", error);
			failed = true;
		}
	}
	return failed ? -1 : 0;
}

bool auth_has_master_passdb(const struct auth *auth)
{
	for (unsigned int i = 0; i < auth->passdbs.count; i++) {
		if (auth_db_is_master(auth->passdbs.v[i]))
			return true;
	}
	return false;
}

int auth_userdb_lookup(struct auth *auth, const struct auth_db_lookup *lookup,
		       pool_t pool, struct auth_user **user_r, const char **error_r)
{
	bool failed = false;
	struct auth_db_lookup lk = *lookup;

	lk.user = auth_lookup_name(auth, lookup->user);
	if (auth->userdbs.count == 0) {
		/* no userdb: the passdb's userdb_ fields are the userdb
		   (Dovecot's "prefetch") */
		struct auth_user *pu;
		int ret = auth_passdb_lookup(auth, &lk, pool, &pu);
		if (ret <= 0) {
			*error_r = "passdb lookup failed";
			return ret;
		}
		*user_r = auth_user_new(pool, pu->name);
		auth_user_merge_passdb(*user_r, pu, pool);
		return 1;
	}
	int c = auth_lookup_cache_get(auth, "userdb", lk.user, pool, user_r);
	if (c != 0) {
		*error_r = "no such user (cached)";
		return c > 0 ? 1 : 0;
	}
	for (unsigned int i = 0; i < auth->userdbs.count; i++) {
		struct auth_db *db = auth->userdbs.v[i];
		const char *error;
		int ret = auth_db_userdb_lookup(db, &lk, lk.user, pool, user_r, &error);
		if (ret > 0) {
			auth_lookup_cache_put(auth, "userdb", lk.user, *user_r);
			return 1;
		}
		if (ret < 0) {
			auth_lookup_log_error(db, "userdb", error);
			failed = true;
		}
	}
	*error_r = "userdb lookup failed";
	if (!failed)
		auth_lookup_cache_put(auth, "userdb", lk.user, NULL);
	return failed ? -1 : 0;
}

int auth_userdb_iterate(struct auth *auth, void (*cb)(const char *user, void *context),
			void *context, const char **error_r)
{
	bool use_passdbs = auth->userdbs.count == 0;
	unsigned int count = use_passdbs ? auth->passdbs.count : auth->userdbs.count;
	bool listed = false;

	for (unsigned int i = 0; i < count; i++) {
		struct auth_db *db = use_passdbs ? auth->passdbs.v[i] : auth->userdbs.v[i];
		const char *error;
		if (use_passdbs && auth_db_is_master(db))
			continue;
		if (auth_db_userdb_iterate(db, cb, context, &error) < 0) {
			auth_lookup_log_error(db, use_passdbs ? "passdb" : "userdb", error);
			*error_r = error;
			return -1;
		}
		listed = true;
	}
	if (!listed) {
		*error_r = "no userdb configured";
		return -1;
	}
	return 0;
}

void auth_user_merge_passdb(struct auth_user *user, const struct auth_user *passdb_user,
			    pool_t pool)
{
	const char *error;

	for (unsigned int i = 0; i < passdb_user->extra.count; i++) {
		const char *field = passdb_user->extra.v[i];
		if (strncmp(field, "userdb_", 7) != 0) {
			/* passdb fields (nologin, referral...) travel along
			   for the protocol side */
			array_push(&user->extra, field);
			continue;
		}
		const char *eq = strchr(field, '=');
		const char *key = eq == NULL ? field + 7 : t_strndup(field + 7, (size_t)(eq - field - 7));
		if (auth_user_set_field(user, pool, key, eq == NULL ? NULL : eq + 1, &error) < 0)
			log_warning(NULL, "auth", "user=%s error=%s", log_value(user->name),
				    log_value(error));
	}
}

int auth_lookup_user_for_login(struct auth *auth, const struct auth_db_lookup *lookup,
			       const struct auth_user *passdb_user, pool_t pool,
			       struct auth_user **user_r)
{
	const char *error;
	struct auth_user *user;

	if (auth->userdbs.count == 0) {
		user = auth_user_new(pool, passdb_user->name);
		user->home = passdb_user->home;
		user->uid = passdb_user->uid;
		user->gid = passdb_user->gid;
	} else {
		struct auth_db_lookup lk = *lookup;
		lk.user = passdb_user->name;
		int ret = auth_userdb_lookup(auth, &lk, pool, &user, &error);
		if (ret <= 0)
			return ret;
		/* the name the passdb returned is the canonical one */
		user->name = passdb_user->name;
	}
	auth_user_merge_passdb(user, passdb_user, pool);
	*user_r = user;
	return 1;
}

static const struct auth_db_settings *
auth_implicit_db(struct auth *auth, const char *passwd_file)
{
	struct auth_db_settings *set = p_new(auth->pool, struct auth_db_settings, 1);

	set->name = "passwd_file";
	set->driver = "passwd-file";
	set->args = p_strdup(auth->pool, passwd_file);
	set->username_format = "%u";
	set->default_password_scheme = "CRYPT";
	return set;
}

int auth_lookup_init(struct auth *auth, const struct auth_options *opts,
		     const char **error_r)
{
	struct auth_db *db;
	const char *base_dir = opts->base_dir == NULL ? "/" : opts->base_dir;

	array_init(&auth->passdbs, auth->pool, 2);
	array_init(&auth->userdbs, auth->pool, 2);
	if (opts->passdb_count == 0) {
		if (opts->passwd_file == NULL || opts->passwd_file[0] == '\0') {
			*error_r = "no passdb configured (passwd_file not set)";
			return -1;
		}
		const struct auth_db_settings *set = auth_implicit_db(auth, opts->passwd_file);
		if (auth_db_open(set, true, base_dir, &db, error_r) < 0)
			return -1;
		array_push(&auth->passdbs, db);
		if (opts->userdb_count == 0) {
			if (auth_db_open(set, false, base_dir, &db, error_r) < 0)
				return -1;
			array_push(&auth->userdbs, db);
		}
	}
	for (unsigned int i = 0; i < opts->passdb_count; i++) {
		if (auth_db_open(opts->passdbs[i], true, base_dir, &db, error_r) < 0)
			return -1;
		array_push(&auth->passdbs, db);
	}
	for (unsigned int i = 0; i < opts->userdb_count; i++) {
		if (auth_db_open(opts->userdbs[i], false, base_dir, &db, error_r) < 0)
			return -1;
		array_push(&auth->userdbs, db);
	}
	return 0;
}

void auth_lookup_deinit(struct auth *auth)
{
	if (auth->passdbs.v != NULL) {
		for (unsigned int i = 0; i < auth->passdbs.count; i++)
			auth_db_close(&auth->passdbs.v[i]);
	}
	if (auth->userdbs.v != NULL) {
		for (unsigned int i = 0; i < auth->userdbs.count; i++)
			auth_db_close(&auth->userdbs.v[i]);
	}
}
