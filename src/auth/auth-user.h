/* A user as a passdb/userdb backend returns it: login name, stored password,
 * home, uid/gid and the extra "key=value" fields (Dovecot's extra fields:
 * passdb ones like nologin or allow_nets, userdb ones prefixed "userdb_"). */
#ifndef TERN_AUTH_USER_H
#define TERN_AUTH_USER_H

#include "array.h"

#define AUTH_USER_NO_UID ((uid_t)-1)
#define AUTH_USER_NO_GID ((gid_t)-1)

struct auth_user {
	const char *name;
	const char *password; /* "{SCHEME}..." or crypt(3); NULL if none */
	const char *home;     /* NULL if not set */
	uid_t uid;            /* AUTH_USER_NO_UID if not set */
	gid_t gid;            /* AUTH_USER_NO_GID if not set */
	ARRAY(const char *) extra; /* "key=value" or a bare "key" */
};

/* Returns the value of extra field key: "" for a bare key, NULL if absent.
   The first occurrence wins. */
const char *auth_user_extra_get(const struct auth_user *user, const char *key);

/* A uid or gid given as a number or a system user/group name, as Dovecot
   allows. Returns 0, or -1 for an unknown name or an invalid number. */
int auth_user_parse_uid(const char *str, uid_t *uid_r);
int auth_user_parse_gid(const char *str, gid_t *gid_r);

/* A new user with no password, home, uid or gid. */
struct auth_user *auth_user_new(pool_t pool, const char *name);
/* Sets one field a backend returned: "user", "password", "home", "uid",
   "gid", or else an extra field ("key=value", a bare "key" when value is
   NULL), replacing an extra field of the same key. Values are copied into
   pool. Returns 0, or -1 for an invalid
   uid/gid. */
int auth_user_set_field(struct auth_user *user, pool_t pool, const char *key,
			const char *value, const char **error_r);

#endif
