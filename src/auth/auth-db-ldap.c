/* The ldap driver: passdb by search-then-compare (the entry's userPassword
 * is compared by the chain's password schemes) or by binding as the user
 * (ldap_auth_bind), and userdb by search, with attribute=field maps. Names
 * reach filters escaped per RFC 4515 §3 and DNs per RFC 4514 §2.4. */
#include "auth-db.h"
#include "auth-ldap.h"
#include "auth-password.h"
#include "buffer.h"

#include <string.h>
#include <strings.h>

#define LDAP_DB_MAX_MAP_ENTRIES 64
/* One user's search asks for two entries, to tell one from several. */
#define LDAP_DB_USER_SIZELIMIT 2

/* attr=field or attr=field=template ("%$" is the attribute's value); an
   empty attr sets the field from the template alone. */
struct ldap_db_map {
	const char *attr;
	const char *field;
	const char *tmpl; /* NULL: the value itself */
};
typedef ARRAY(struct ldap_db_map) ldap_db_map_array_t;

struct ldap_db {
	pool_t pool;
	const struct auth_db_settings *set;
	int scope;
	ldap_db_map_array_t pass_map, user_map;
	char **pass_attrs, **user_attrs; /* NULL-terminated, for the search */
	char *iterate_attrs[2];
	struct auth_ldap_conn_settings conn_set, bind_conn_set;
	struct auth_ldap_conn *conn;      /* searches, as ldap_bind_dn */
	struct auth_ldap_conn *bind_conn; /* ldap_auth_bind: user binds */
};

static int ldap_db_map_parse(const char *str, pool_t pool, ldap_db_map_array_t *map,
			     const char **error_r)
{
	const char *p = str;

	array_init(map, pool, 8);
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *item = t_strndup(p, len);
		p += len;
		if (*p == ',')
			p++;
		while (*item == ' ' || *item == '\t')
			item++;
		len = strlen(item);
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		item = t_strndup(item, len);
		const char *eq = strchr(item, '=');
		const char *eq2 = eq == NULL ? NULL : strchr(eq + 1, '=');
		if (eq == NULL || eq[1] == '\0' || eq2 == eq + 1 ||
		    (eq == item && eq2 == NULL)) {
			*error_r = t_strdup_printf("invalid attribute map '%s' (want "
						   "attribute=field[=template])", item);
			return -1;
		}
		if (map->count >= LDAP_DB_MAX_MAP_ENTRIES) {
			*error_r = "too many attributes in the map";
			return -1;
		}
		struct ldap_db_map *m = array_append_space(map);
		m->attr = p_strndup(pool, item, (size_t)(eq - item));
		m->field = eq2 == NULL ? p_strdup(pool, eq + 1) :
			p_strndup(pool, eq + 1, (size_t)(eq2 - eq - 1));
		m->tmpl = eq2 == NULL ? NULL : p_strdup(pool, eq2 + 1);
	}
	return 0;
}

/* The attributes a map reads, for the search request; "1.1" (RFC 4511
   §4.5.1.8: no attributes) when it reads none. */
static char **ldap_db_map_attrs(const ldap_db_map_array_t *map, pool_t pool)
{
	char **attrs = p_new(pool, char *, map->count + 2);
	unsigned int n = 0;

	for (unsigned int i = 0; i < map->count; i++) {
		const char *attr = map->v[i].attr;
		bool dup = attr[0] == '\0';
		for (unsigned int j = 0; j < n && !dup; j++)
			dup = strcasecmp(attrs[j], attr) == 0;
		if (!dup)
			attrs[n++] = p_strdup(pool, attr);
	}
	if (n == 0)
		attrs[n++] = p_strdup(pool, LDAP_NO_ATTRS);
	return attrs;
}

static const char *ldap_db_map_attr_of(const ldap_db_map_array_t *map, const char *field)
{
	for (unsigned int i = 0; i < map->count; i++) {
		if (strcmp(map->v[i].field, field) == 0 && map->v[i].attr[0] != '\0')
			return map->v[i].attr;
	}
	return NULL;
}

static int ldap_db_parse_scope(const char *scope, int *scope_r, const char **error_r)
{
	if (strcmp(scope, "base") == 0)
		*scope_r = LDAP_SCOPE_BASE;
	else if (strcmp(scope, "onelevel") == 0)
		*scope_r = LDAP_SCOPE_ONELEVEL;
	else if (strcmp(scope, "subtree") == 0)
		*scope_r = LDAP_SCOPE_SUBTREE;
	else {
		*error_r = t_strdup_printf("invalid ldap_scope '%s'", scope);
		return -1;
	}
	return 0;
}

static int ldap_db_init_maps(struct ldap_db *db, const char **error_r)
{
	const struct auth_db_settings *set = db->set;
	const char *error;

	if (ldap_db_map_parse(set->ldap_pass_attrs, db->pool, &db->pass_map, &error) < 0) {
		*error_r = t_strdup_printf("ldap_pass_attrs: %s", error);
		return -1;
	}
	if (ldap_db_map_parse(set->ldap_user_attrs, db->pool, &db->user_map, &error) < 0) {
		*error_r = t_strdup_printf("ldap_user_attrs: %s", error);
		return -1;
	}
	db->pass_attrs = ldap_db_map_attrs(&db->pass_map, db->pool);
	db->user_attrs = ldap_db_map_attrs(&db->user_map, db->pool);
	/* the user list reads the attribute mapped to "user" */
	const char *attr = ldap_db_map_attr_of(&db->user_map, "user");
	if (attr == NULL)
		attr = ldap_db_map_attr_of(&db->pass_map, "user");
	db->iterate_attrs[0] = p_strdup(db->pool, attr == NULL ? "uid" : attr);
	return 0;
}

static int ldap_db_init(const struct auth_db_settings *set, const char *base_dir,
			void **ctx_r, const char **error_r)
{
	pool_t pool = pool_create("ldap db", 1024);
	struct ldap_db *db = p_new(pool, struct ldap_db, 1);

	db->pool = pool;
	db->set = set;
	if (auth_ldap_uris_check(set->ldap_uris, error_r) < 0 ||
	    ldap_db_parse_scope(set->ldap_scope, &db->scope, error_r) < 0 ||
	    ldap_db_init_maps(db, error_r) < 0) {
		pool_destroy(&pool);
		return -1;
	}
	if (set->ldap_filter[0] == '\0') {
		*error_r = "ldap_filter is not set";
		pool_destroy(&pool);
		return -1;
	}
	db->conn_set = (struct auth_ldap_conn_settings){
		.name = set->name, .uris = set->ldap_uris,
		.bind_dn = set->ldap_bind_dn, .bind_password = set->ldap_bind_password,
		.starttls = set->ldap_starttls, .timeout_ms = set->ldap_timeout_ms,
	};
	db->conn = auth_ldap_conn_create(&db->conn_set);
	if (set->ldap_auth_bind) {
		/* the service connection keeps its identity: user binds
		   happen on a second connection */
		db->bind_conn_set = db->conn_set;
		db->bind_conn_set.bind_dn = NULL;
		db->bind_conn_set.bind_password = NULL;
		db->bind_conn = auth_ldap_conn_create(&db->bind_conn_set);
	}
	*ctx_r = db;
	return 0;
}

static void ldap_db_deinit(void *ctx)
{
	struct ldap_db *db = ctx;
	pool_t pool = db->pool;

	auth_ldap_conn_destroy(&db->conn);
	auth_ldap_conn_destroy(&db->bind_conn);
	pool_destroy(&pool);
}

/* m's template with "%$" as value and the %-variables expanded ("%%$" is
   a literal "%$"). */
static const char *ldap_db_map_value(const struct ldap_db_map *m, const char *value,
				     const struct auth_db_lookup *lookup,
				     const char *name)
{
	if (m->tmpl == NULL)
		return value;
	string_t *str = t_str_new(128);
	const char *piece = m->tmpl, *p = m->tmpl;
	while (*p != '\0') {
		if (p[0] == '%' && p[1] == '%') {
			p += 2;
		} else if (p[0] == '%' && p[1] == '$') {
			const char *part = t_strndup(piece, (size_t)(p - piece));
			str_append(str, auth_db_expand(part, lookup, name, NULL, t_pool()));
			str_append(str, value);
			p += 2;
			piece = p;
		} else {
			p++;
		}
	}
	str_append(str, auth_db_expand(piece, lookup, name, NULL, t_pool()));
	return str_c(str);
}

/* The user from entry's attributes; attributes the entry lacks set
   nothing. The first value of a multi-valued attribute counts. */
static int ldap_db_map_entry(const ldap_db_map_array_t *map, LDAP *ld, LDAPMessage *entry,
			     const struct auth_db_lookup *lookup, const char *name,
			     pool_t pool, struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user = auth_user_new(pool, name);
	const char *error;

	for (unsigned int i = 0; i < map->count; i++) {
		const struct ldap_db_map *m = &map->v[i];
		const char *value = "";
		if (m->attr[0] != '\0') {
			struct berval **vals = ldap_get_values_len(ld, entry, m->attr);
			if (vals == NULL)
				continue;
			if (vals[0] == NULL) {
				ldap_value_free_len(vals);
				continue;
			}
			value = t_strndup(vals[0]->bv_val, vals[0]->bv_len);
			ldap_value_free_len(vals);
		}
		value = ldap_db_map_value(m, value, lookup, name);
		if (auth_user_set_field(user, pool, m->field, value, &error) < 0) {
			*error_r = t_strdup_printf("attribute %s: %s", m->attr, error);
			return -1;
		}
	}
	*user_r = user;
	return 1;
}

/* Finds name's entry (exactly one) and maps it. Returns 1 with *user_r
   and *dn_r (temporary memory; may be NULL), 0 no entry, -1 error (also
   when the filter matched several entries). */
static int ldap_db_lookup(struct ldap_db *db, const struct auth_db_lookup *lookup,
			  const char *name, bool passdb, pool_t pool,
			  struct auth_user **user_r, const char **dn_r, const char **error_r)
{
	const char *base = auth_db_expand(db->set->ldap_base, lookup, name,
					  auth_ldap_escape_dn, t_pool());
	const char *filter = auth_db_expand(db->set->ldap_filter, lookup, name,
					    auth_ldap_escape_filter, t_pool());
	LDAP *ld;
	LDAPMessage *res;
	bool truncated;

	if (auth_ldap_conn_search(db->conn, base, db->scope, filter,
				  passdb ? db->pass_attrs : db->user_attrs,
				  LDAP_DB_USER_SIZELIMIT, &ld, &res, &truncated, error_r) < 0)
		return -1;
	int count = res == NULL ? 0 : ldap_count_entries(ld, res);
	int ret;
	if (count <= 0 && !truncated) {
		ret = 0;
	} else if (count > 1 || truncated) {
		*error_r = t_strdup_printf("filter %s matched several entries", filter);
		ret = -1;
	} else {
		LDAPMessage *entry = ldap_first_entry(ld, res);
		ret = ldap_db_map_entry(passdb ? &db->pass_map : &db->user_map, ld, entry,
					lookup, name, pool, user_r, error_r);
		if (ret > 0 && dn_r != NULL) {
			char *dn = ldap_get_dn(ld, entry);
			*dn_r = dn == NULL ? NULL : t_strdup(dn);
			ldap_memfree(dn);
		}
	}
	if (res != NULL)
		ldap_msgfree(res);
	return ret;
}

static int ldap_db_passdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				 const char *name, pool_t pool,
				 struct auth_user **user_r, const char **error_r)
{
	struct ldap_db *db = ctx;

	int ret = ldap_db_lookup(db, lookup, name, true, pool, user_r, NULL, error_r);
	/* with auth bind the password is the server's to check: the entry
	   says the user exists and carries the passdb fields, but no
	   credentials for CRAM-MD5 or APOP */
	if (ret > 0 && db->set->ldap_auth_bind)
		(*user_r)->password = NULL;
	return ret;
}

static int ldap_db_verify_compare(struct ldap_db *db, const struct auth_db_lookup *lookup,
				  const char *name, const char *password, pool_t pool,
				  struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user;
	int ret = ldap_db_lookup(db, lookup, name, true, pool, &user, NULL, error_r);
	if (ret <= 0)
		return ret;
	*user_r = user;
	const char *stored = user->password, *scheme = db->set->default_password_scheme;
	if (stored == NULL || stored[0] == '\0')
		return 0;
	/* as auth_db_passdb_lookup() does for drivers without a verify */
	if (stored[0] != '{' && scheme[0] != '\0' && strcasecmp(scheme, "CRYPT") != 0)
		stored = t_strdup_printf("{%s}%s", scheme, stored);
	return password_verify(password, stored, user->name, error_r);
}

static int ldap_db_verify_bind(struct ldap_db *db, const struct auth_db_lookup *lookup,
			       const char *name, const char *password, pool_t pool,
			       struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user;
	const char *dn;

	/* RFC 4513 §5.1.2: binding with an empty password "succeeds" as an
	   unauthenticated bind, so it must never reach the server */
	if (password[0] == '\0')
		return 0;
	if (db->set->ldap_auth_bind_dn_format[0] != '\0') {
		dn = auth_db_expand(db->set->ldap_auth_bind_dn_format, lookup, name,
				    auth_ldap_escape_dn, t_pool());
		user = auth_user_new(pool, name);
	} else {
		int ret = ldap_db_lookup(db, lookup, name, true, pool, &user, &dn, error_r);
		if (ret <= 0)
			return ret;
		if (dn == NULL) {
			*error_r = "entry without a DN";
			return -1;
		}
		user->password = NULL;
	}
	int ret = auth_ldap_conn_bind(db->bind_conn, dn, password, error_r);
	if (ret > 0)
		*user_r = user;
	return ret;
}

static int ldap_db_passdb_verify(void *ctx, const struct auth_db_lookup *lookup,
				 const char *name, const char *password, pool_t pool,
				 struct auth_user **user_r, const char **error_r)
{
	struct ldap_db *db = ctx;

	if (db->set->ldap_auth_bind)
		return ldap_db_verify_bind(db, lookup, name, password, pool, user_r, error_r);
	return ldap_db_verify_compare(db, lookup, name, password, pool, user_r, error_r);
}

static int ldap_db_userdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				 const char *name, pool_t pool,
				 struct auth_user **user_r, const char **error_r)
{
	struct ldap_db *db = ctx;

	int ret = ldap_db_lookup(db, lookup, name, false, pool, user_r, NULL, error_r);
	if (ret > 0)
		(*user_r)->password = NULL;
	return ret;
}

static const char *ldap_db_escape_any(const char *value)
{
	return "*";
}

static int ldap_db_userdb_iterate(void *ctx, void (*cb)(const char *user, void *context),
				  void *context, const char **error_r)
{
	struct ldap_db *db = ctx;
	const struct auth_db_lookup lookup = { .user = "" };
	/* the user filter with every variable as "*": (uid=%u) lists
	   (uid=*); a base with variables can't be listed */
	const char *filter = auth_db_expand(db->set->ldap_filter, &lookup, "",
					    ldap_db_escape_any, t_pool());
	const char *base = auth_db_expand(db->set->ldap_base, &lookup, "",
					  ldap_db_escape_any, t_pool());
	LDAP *ld;
	LDAPMessage *res;
	bool truncated;

	if (strcmp(base, db->set->ldap_base) != 0) {
		*error_r = "can't list users: ldap_base has variables";
		return -1;
	}
	if (auth_ldap_conn_search(db->conn, base, db->scope, filter, db->iterate_attrs,
				  0, &ld, &res, &truncated, error_r) < 0)
		return -1;
	for (LDAPMessage *e = res == NULL ? NULL : ldap_first_entry(ld, res); e != NULL;
	     e = ldap_next_entry(ld, e)) {
		struct berval **vals = ldap_get_values_len(ld, e, db->iterate_attrs[0]);
		if (vals != NULL && vals[0] != NULL)
			cb(t_strndup(vals[0]->bv_val, vals[0]->bv_len), context);
		if (vals != NULL)
			ldap_value_free_len(vals);
	}
	if (res != NULL)
		ldap_msgfree(res);
	if (truncated) {
		*error_r = "the server's size limit cut the user list short";
		return -1;
	}
	return 0;
}

static bool ldap_db_passdb_has_passwords(void *ctx)
{
	struct ldap_db *db = ctx;
	return !db->set->ldap_auth_bind;
}

const struct auth_db_driver auth_db_driver_ldap = {
	.name = "ldap",
	.init = ldap_db_init,
	.deinit = ldap_db_deinit,
	.passdb_lookup = ldap_db_passdb_lookup,
	.passdb_has_passwords = ldap_db_passdb_has_passwords,
	.passdb_verify = ldap_db_passdb_verify,
	.userdb_lookup = ldap_db_userdb_lookup,
	.userdb_iterate = ldap_db_userdb_iterate,
};
