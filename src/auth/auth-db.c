/* The driver registry, one opened backend (struct auth_db) with its
 * settings, and the %-template expansion that every backend's settings use
 * (username_format, SQL queries, LDAP filters, static fields). */
#include "auth-db.h"
#include "auth-password.h"
#include "buffer.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define AUTH_DB_MAX_NAME_LEN 1024

struct auth_db {
	pool_t pool;
	const struct auth_db_settings *set;
	const struct auth_db_driver *driver;
	void *ctx;
	bool is_passdb;
};

static const struct auth_db_driver *const auth_db_drivers[] = {
	&auth_db_driver_ldap, &auth_db_driver_pam, &auth_db_driver_passwd,
	&auth_db_driver_passwd_file,
	&auth_db_driver_static,
	&auth_db_driver_sql,
};

const struct auth_db_driver *auth_db_driver_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(auth_db_drivers); i++) {
		if (strcmp(auth_db_drivers[i]->name, name) == 0)
			return auth_db_drivers[i];
	}
	return NULL;
}

int auth_db_open(const struct auth_db_settings *set, bool is_passdb,
		 const char *base_dir, struct auth_db **db_r, const char **error_r)
{
	const struct auth_db_driver *driver = auth_db_driver_find(set->driver);
	const char *role = is_passdb ? "passdb" : "userdb";

	*db_r = NULL;
	if (driver == NULL) {
		*error_r = t_strdup_printf("%s %s: driver %s is not available in "
					   "this build", role, set->name, set->driver);
		return -1;
	}
	if (is_passdb ? driver->passdb_lookup == NULL && driver->passdb_verify == NULL :
	    driver->userdb_lookup == NULL) {
		*error_r = t_strdup_printf("%s %s: driver %s can't be a %s", role,
					   set->name, set->driver, role);
		return -1;
	}
	if (!is_passdb && set->master) {
		*error_r = t_strdup_printf("userdb %s: master is a passdb setting",
					   set->name);
		return -1;
	}
	void *ctx;
	const char *error;
	if (driver->init(set, base_dir, &ctx, &error) < 0) {
		*error_r = t_strdup_printf("%s %s: %s", role, set->name, error);
		return -1;
	}
	pool_t pool = pool_create("auth db", 256);
	struct auth_db *db = p_new(pool, struct auth_db, 1);
	db->pool = pool;
	db->set = set;
	db->driver = driver;
	db->ctx = ctx;
	db->is_passdb = is_passdb;
	*db_r = db;
	return 0;
}

void auth_db_close(struct auth_db **_db)
{
	struct auth_db *db = *_db;

	if (db == NULL)
		return;
	*_db = NULL;
	db->driver->deinit(db->ctx);
	pool_destroy(&db->pool);
}

const char *auth_db_get_name(const struct auth_db *db)
{
	return db->set->name;
}

bool auth_db_is_master(const struct auth_db *db)
{
	return db->set->master;
}

bool auth_db_can_hand_out_passwords(const struct auth_db *db)
{
	return db->driver->passdb_lookup != NULL &&
		(db->driver->passdb_has_passwords == NULL ||
		 db->driver->passdb_has_passwords(db->ctx));
}

bool auth_db_can_lookup_credentials(const struct auth_db *db)
{
	return db->driver->passdb_lookup != NULL;
}

static const char *auth_db_name(struct auth_db *db,
				const struct auth_db_lookup *lookup, const char *name)
{
	const char *fmt = db->set->username_format;
	if (fmt[0] == '\0' || strcmp(fmt, "%u") == 0)
		return name;
	return auth_db_expand(fmt, lookup, name, NULL, t_pool());
}

/* A stored password without "{SCHEME}" gets the backend's default. */
static const char *auth_db_password_with_scheme(struct auth_db *db,
						const char *password, pool_t pool)
{
	const char *scheme = db->set->default_password_scheme;
	if (password == NULL || password[0] == '{' || scheme[0] == '\0' ||
	    strcasecmp(scheme, "CRYPT") == 0)
		return password;
	return p_strdup_printf(pool, "{%s}%s", scheme, password);
}

int auth_db_passdb_lookup(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, pool_t pool, struct auth_user **user_r,
			  const char **error_r)
{
	if (db->driver->passdb_lookup == NULL) {
		*error_r = t_strdup_printf("passdb %s (%s) can't look up credentials",
					   db->set->name, db->driver->name);
		return -1;
	}
	if (strlen(name) > AUTH_DB_MAX_NAME_LEN)
		return 0;
	int ret = db->driver->passdb_lookup(db->ctx, lookup, auth_db_name(db, lookup, name),
					    pool, user_r, error_r);
	if (ret > 0)
		(*user_r)->password = auth_db_password_with_scheme(db, (*user_r)->password, pool);
	return ret;
}

int auth_db_passdb_verify(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, const char *password, pool_t pool,
			  struct auth_user **user_r, const char **error_r)
{
	if (strlen(name) > AUTH_DB_MAX_NAME_LEN)
		return 0;
	if (db->driver->passdb_verify != NULL) {
		return db->driver->passdb_verify(db->ctx, lookup,
						 auth_db_name(db, lookup, name),
						 password, pool, user_r, error_r);
	}
	int ret = auth_db_passdb_lookup(db, lookup, name, pool, user_r, error_r);
	if (ret <= 0)
		return ret;
	if ((*user_r)->password == NULL) {
		/* a passdb row without a password never matches */
		return 0;
	}
	return password_verify(password, (*user_r)->password, (*user_r)->name, error_r);
}

int auth_db_userdb_lookup(struct auth_db *db, const struct auth_db_lookup *lookup,
			  const char *name, pool_t pool, struct auth_user **user_r,
			  const char **error_r)
{
	if (strlen(name) > AUTH_DB_MAX_NAME_LEN)
		return 0;
	return db->driver->userdb_lookup(db->ctx, lookup, auth_db_name(db, lookup, name),
					 pool, user_r, error_r);
}

int auth_db_userdb_iterate(struct auth_db *db,
			   void (*cb)(const char *user, void *context),
			   void *context, const char **error_r)
{
	if (db->driver->userdb_iterate == NULL) {
		*error_r = t_strdup_printf("userdb %s (%s) can't list users",
					   db->set->name, db->driver->name);
		return -1;
	}
	return db->driver->userdb_iterate(db->ctx, cb, context, error_r);
}

static const char *auth_db_var(char var, const struct auth_db_lookup *lookup,
			       const char *name)
{
	const char *at = strrchr(name, '@');

	switch (var) {
	case 'u':
		return name;
	case 'n':
		return at == NULL ? name : t_strndup(name, (size_t)(at - name));
	case 'd':
		return at == NULL ? "" : at + 1;
	case 's':
		return lookup->service == NULL ? "" : lookup->service;
	case 'r':
		return lookup->remote_ip == NULL ? "" : lookup->remote_ip;
	case 'l':
		return lookup->local_ip == NULL ? "" : lookup->local_ip;
	default:
		return NULL;
	}
}

const char *auth_db_expand(const char *tmpl, const struct auth_db_lookup *lookup,
			   const char *name,
			   const char *(*escape)(const char *value),
			   pool_t pool)
{
	string_t *str = t_str_new(strlen(tmpl) + 64);

	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			str_append_c(str, *p);
			continue;
		}
		if (p[1] == '%') {
			str_append_c(str, '%');
			p++;
			continue;
		}
		bool lower = p[1] == 'L' && p[2] != '\0';
		char var = lower ? p[2] : p[1];
		const char *value = auth_db_var(var, lookup, name);
		if (value == NULL) {
			/* not ours: keep it literally */
			str_append_c(str, *p);
			continue;
		}
		if (lower) {
			char *v = p_strdup(t_pool(), value);
			for (char *c = v; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
			value = v;
		}
		str_append(str, escape == NULL ? value : escape(value));
		p += lower ? 2 : 1;
	}
	return p_strdup(pool, str_c(str));
}
