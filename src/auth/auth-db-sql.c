/* The sql driver: Dovecot's SQL passdb and userdb. sql_password_query's
 * columns are user, password and passdb extra fields (userdb_X for the
 * userdb, nopassword, nologin, allow_nets ...), sql_user_query's are home,
 * uid, gid and userdb extra fields; NULL columns are left out. The engines
 * (SQLite, PostgreSQL) are behind auth-sql.h. */
#include "auth-db.h"
#include "auth-password.h"
#include "auth-sql.h"
#include "buffer.h"
#include "log.h"

#include <string.h>
#include <strings.h>

struct sql_db {
	const struct auth_db_settings *set;
	struct auth_sql *sql;
};

/* What a lookup collects: the first row, and whether there were more. */
struct sql_db_result {
	pool_t pool;
	const char *name;
	bool userdb;
	unsigned int rows;
	struct auth_user *user;
	const char *error;
};

static int sql_db_init(const struct auth_db_settings *set, const char *base_dir,
		       void **ctx_r, const char **error_r)
{
	const struct auth_sql_engine *engine = auth_sql_engine_find(set->sql_driver);

	if (engine == NULL) {
		*error_r = t_strdup_printf("sql_driver %s is not available in this build",
					   set->sql_driver);
		return -1;
	}
	if (set->sql_connect[0] == '\0') {
		*error_r = "sql_connect is not set";
		return -1;
	}
	if (set->sql_password_query[0] == '\0' && set->sql_user_query[0] == '\0') {
		*error_r = "sql_password_query (passdb) or sql_user_query (userdb) "
			"must be set";
		return -1;
	}
	struct sql_db *db = i_zalloc(sizeof(*db));
	db->set = set;
	db->sql = auth_sql_create(engine, set->sql_connect, base_dir);
	*ctx_r = db;
	return 0;
}

static void sql_db_deinit(void *ctx)
{
	struct sql_db *db = ctx;

	auth_sql_destroy(&db->sql);
	i_free(db);
}

static int sql_db_row(const struct auth_sql_row *row, void *context)
{
	struct sql_db_result *res = context;
	const char *error;

	/* a second row is all we need to know: the lookup fails */
	if (++res->rows > 1)
		return 1;
	res->user = auth_user_new(res->pool, res->name);
	for (unsigned int i = 0; i < row->count; i++) {
		const char *key = row->names[i], *value = row->values[i];
		if (value == NULL || key[0] == '\0')
			continue;
		if (res->userdb && (strcmp(key, "password") == 0 ||
				    strcmp(key, "nopassword") == 0))
			continue;
		if (auth_user_set_field(res->user, res->pool, key, value, &error) < 0) {
			res->error = t_strdup_printf("column %s: %s", key, error);
			return 1;
		}
	}
	return 0;
}

static int sql_db_lookup(struct sql_db *db, const char *query, bool userdb,
			 const struct auth_db_lookup *lookup, const char *name,
			 pool_t pool, struct auth_user **user_r, const char **error_r)
{
	struct sql_db_result res = { .pool = pool, .name = name, .userdb = userdb };

	if (query[0] == '\0') {
		*error_r = userdb ? "sql_user_query is not set" :
			"sql_password_query is not set";
		return -1;
	}
	int ret = auth_sql_query(db->sql, query, lookup, name, sql_db_row, &res, error_r);
	if (ret <= 0) {
		/* 0: the name can't be written in the database's encoding,
		   so no row has it */
		return ret;
	}
	if (res.error != NULL) {
		*error_r = res.error;
		return -1;
	}
	if (res.rows > 1) {
		*error_r = t_strdup_printf("multiple matches for user %s", name);
		return -1;
	}
	if (res.rows == 0)
		return 0;
	*user_r = res.user;
	return 1;
}

static int sql_db_passdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				const char *name, pool_t pool,
				struct auth_user **user_r, const char **error_r)
{
	struct sql_db *db = ctx;

	return sql_db_lookup(db, db->set->sql_password_query, false, lookup, name,
			     pool, user_r, error_r);
}

/* Like auth-db.c does for passdb_lookup results, which a driver's own
   verify bypasses. */
static const char *sql_db_password_with_scheme(struct sql_db *db, const char *password,
					       pool_t pool)
{
	const char *scheme = db->set->default_password_scheme;

	if (password[0] == '{' || scheme[0] == '\0' || strcasecmp(scheme, "CRYPT") == 0)
		return password;
	return p_strdup_printf(pool, "{%s}%s", scheme, password);
}

/* The driver's own verify exists for nopassword: a row with it and no
   password accepts any password, as in Dovecot. */
static int sql_db_passdb_verify(void *ctx, const struct auth_db_lookup *lookup,
				const char *name, const char *password, pool_t pool,
				struct auth_user **user_r, const char **error_r)
{
	struct sql_db *db = ctx;
	struct auth_user *user;

	int ret = sql_db_passdb_lookup(ctx, lookup, name, pool, &user, error_r);
	if (ret <= 0)
		return ret;
	*user_r = user;
	bool empty = user->password == NULL || user->password[0] == '\0';
	if (auth_user_extra_get(user, "nopassword") != NULL) {
		if (empty)
			return 1;
		/* Dovecot ignores nopassword next to a password, too */
		log_warning(NULL, "auth_sql", "passdb=%s user=%s "
			    "error=\"nopassword set but password is not empty\"",
			    log_value(db->set->name), log_value(user->name));
	}
	if (empty)
		return 0;
	user->password = sql_db_password_with_scheme(db, user->password, pool);
	return password_verify(password, user->password, user->name, error_r);
}

/* For auth debugging: which fields the userdb returned (the values may be
   private, the names are not). */
static void sql_db_log_fields(struct sql_db *db, const struct auth_user *user)
{
	if (log_get_level() > LOG_LEVEL_DEBUG)
		return;
	string_t *str = t_str_new(128);
	if (user->home != NULL)
		str_append(str, ",home");
	if (user->uid != AUTH_USER_NO_UID)
		str_append(str, ",uid");
	if (user->gid != AUTH_USER_NO_GID)
		str_append(str, ",gid");
	for (unsigned int i = 0; i < user->extra.count; i++) {
		const char *field = user->extra.v[i], *eq = strchr(field, '=');
		str_append_c(str, ',');
		if (eq == NULL)
			str_append(str, field);
		else
			str_append(str, t_strndup(field, (size_t)(eq - field)));
	}
	log_debug(NULL, "auth_sql_userdb", "userdb=%s user=%s fields=%s",
		  log_value(db->set->name), log_value(user->name),
		  log_value(str_len(str) == 0 ? "" : str_c(str) + 1));
}

static int sql_db_userdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				const char *name, pool_t pool,
				struct auth_user **user_r, const char **error_r)
{
	struct sql_db *db = ctx;

	int ret = sql_db_lookup(db, db->set->sql_user_query, true, lookup, name,
				pool, user_r, error_r);
	if (ret > 0)
		sql_db_log_fields(db, *user_r);
	return ret;
}

struct sql_db_iterate {
	void (*cb)(const char *user, void *context);
	void *context;
	const char *error;
};

/* A row's user: the user column, or username@domain (Dovecot's
   iterate_query may return either). */
static int sql_db_iterate_row(const struct auth_sql_row *row, void *context)
{
	struct sql_db_iterate *it = context;
	const char *user = NULL, *username = NULL, *domain = NULL;
	bool have_user = false, have_username = false;

	for (unsigned int i = 0; i < row->count; i++) {
		if (strcmp(row->names[i], "user") == 0) {
			user = row->values[i];
			have_user = true;
		} else if (strcmp(row->names[i], "username") == 0) {
			username = row->values[i];
			have_username = true;
		} else if (strcmp(row->names[i], "domain") == 0) {
			domain = row->values[i];
		}
	}
	if (!have_user && !have_username) {
		it->error = "sql_iterate_query returns neither a user nor a username column";
		return 1;
	}
	if (user == NULL && username != NULL) {
		user = domain == NULL || domain[0] == '\0' ? username :
			t_strdup_printf("%s@%s", username, domain);
	}
	if (user != NULL && user[0] != '\0')
		it->cb(user, it->context);
	return 0;
}

static int sql_db_userdb_iterate(void *ctx, void (*cb)(const char *user, void *context),
				 void *context, const char **error_r)
{
	struct sql_db *db = ctx;
	struct sql_db_iterate it = { .cb = cb, .context = context };
	const struct auth_db_lookup lookup = { .user = "" };

	if (db->set->sql_iterate_query[0] == '\0') {
		*error_r = "sql_iterate_query is not set";
		return -1;
	}
	if (auth_sql_query(db->sql, db->set->sql_iterate_query, &lookup, "",
			   sql_db_iterate_row, &it, error_r) < 0)
		return -1;
	if (it.error != NULL) {
		*error_r = it.error;
		return -1;
	}
	return 0;
}

const struct auth_db_driver auth_db_driver_sql = {
	.name = "sql",
	.init = sql_db_init,
	.deinit = sql_db_deinit,
	.passdb_lookup = sql_db_passdb_lookup,
	.passdb_verify = sql_db_passdb_verify,
	.userdb_lookup = sql_db_userdb_lookup,
	.userdb_iterate = sql_db_userdb_iterate,
};
