/* The static driver: fixed fields from its args ("key=value ..." with
 * %-templates), for sites where every user has the same uid/gid and a home
 * derived from the name (userdb), or where another passdb already checked
 * the password (passdb with nopassword). A static passdb without password=
 * or nopassword refuses every login. */
#include "auth-db.h"
#include "auth-password.h"
#include "buffer.h"

#include <string.h>

#define STATIC_DB_MAX_FIELDS 64

struct static_db {
	pool_t pool;
	ARRAY(const char *) keys;   /* field names */
	ARRAY(const char *) values; /* templates; NULL for a bare key */
};

static int static_db_init(const struct auth_db_settings *set, const char *base_dir,
			  void **ctx_r, const char **error_r)
{
	pool_t pool = pool_create("static db", 512);
	struct static_db *db = p_new(pool, struct static_db, 1);
	const char *p = set->args;

	db->pool = pool;
	array_init(&db->keys, pool, 8);
	array_init(&db->values, pool, 8);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (p == start)
			break;
		const char *field = t_strndup(start, (size_t)(p - start));
		const char *eq = strchr(field, '=');
		if (db->keys.count >= STATIC_DB_MAX_FIELDS || field[0] == '=') {
			*error_r = db->keys.count >= STATIC_DB_MAX_FIELDS ?
				"too many fields in args" :
				t_strdup_printf("invalid field '%s' in args", field);
			pool_destroy(&pool);
			return -1;
		}
		array_push(&db->keys, eq == NULL ? p_strdup(pool, field) :
			   p_strndup(pool, field, (size_t)(eq - field)));
		array_push(&db->values, eq == NULL ? NULL : p_strdup(pool, eq + 1));
	}
	*ctx_r = db;
	return 0;
}

static void static_db_deinit(void *ctx)
{
	struct static_db *db = ctx;
	pool_t pool = db->pool;
	pool_destroy(&pool);
}

/* Builds the user from the fields; skip_password leaves password and
   nopassword out (userdb role). */
static int static_db_build(struct static_db *db, const struct auth_db_lookup *lookup,
			   const char *name, bool userdb, pool_t pool,
			   struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user = auth_user_new(pool, name);

	for (unsigned int i = 0; i < db->keys.count; i++) {
		const char *key = db->keys.v[i], *tmpl = db->values.v[i];
		bool is_pass = strcmp(key, "password") == 0 || strcmp(key, "nopassword") == 0;
		if (userdb && is_pass)
			continue;
		const char *value = tmpl == NULL ? NULL :
			auth_db_expand(tmpl, lookup, name, NULL, pool);
		if (auth_user_set_field(user, pool, key, value, error_r) < 0)
			return -1;
	}
	*user_r = user;
	return 1;
}

static int static_db_passdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				   const char *name, pool_t pool,
				   struct auth_user **user_r, const char **error_r)
{
	return static_db_build(ctx, lookup, name, false, pool, user_r, error_r);
}

static int static_db_passdb_verify(void *ctx, const struct auth_db_lookup *lookup,
				   const char *name, const char *password, pool_t pool,
				   struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user;
	if (static_db_build(ctx, lookup, name, false, pool, &user, error_r) < 0)
		return -1;
	*user_r = user;
	if (auth_user_extra_get(user, "nopassword") != NULL)
		return 1;
	if (user->password == NULL)
		return 0;
	return password_verify(password, user->password, user->name, error_r);
}

static int static_db_userdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				   const char *name, pool_t pool,
				   struct auth_user **user_r, const char **error_r)
{
	return static_db_build(ctx, lookup, name, true, pool, user_r, error_r);
}

const struct auth_db_driver auth_db_driver_static = {
	.name = "static",
	.init = static_db_init,
	.deinit = static_db_deinit,
	.passdb_lookup = static_db_passdb_lookup,
	.passdb_verify = static_db_passdb_verify,
	.userdb_lookup = static_db_userdb_lookup,
};
