/* struct auth_user: building one from a backend's fields and reading its
 * extra fields. */
#include "auth-user.h"
#include "strnum.h"

#include <grp.h>
#include <pwd.h>

const char *auth_user_extra_get(const struct auth_user *user, const char *key)
{
	size_t key_len = strlen(key);

	for (unsigned int i = 0; i < user->extra.count; i++) {
		const char *field = user->extra.v[i];

		if (strncmp(field, key, key_len) != 0)
			continue;
		if (field[key_len] == '\0')
			return "";
		if (field[key_len] == '=')
			return field + key_len + 1;
	}
	return NULL;
}

int auth_user_parse_uid(const char *str, uid_t *uid_r)
{
	uint32_t num;
	char buf[4096];
	struct passwd pw, *result;

	if (str_is_numeric(str)) {
		if (str_to_uint32(str, &num) < 0 || (uid_t)num == AUTH_USER_NO_UID)
			return -1;
		*uid_r = (uid_t)num;
		return 0;
	}
	/* a system user name, as Dovecot allows */
	if (getpwnam_r(str, &pw, buf, sizeof(buf), &result) != 0 || result == NULL)
		return -1;
	*uid_r = pw.pw_uid;
	return 0;
}

int auth_user_parse_gid(const char *str, gid_t *gid_r)
{
	uint32_t num;
	char buf[4096];
	struct group gr, *result;

	if (str_is_numeric(str)) {
		if (str_to_uint32(str, &num) < 0 || (gid_t)num == AUTH_USER_NO_GID)
			return -1;
		*gid_r = (gid_t)num;
		return 0;
	}
	if (getgrnam_r(str, &gr, buf, sizeof(buf), &result) != 0 || result == NULL)
		return -1;
	*gid_r = gr.gr_gid;
	return 0;
}

struct auth_user *auth_user_new(pool_t pool, const char *name)
{
	struct auth_user *user = p_new(pool, struct auth_user, 1);

	user->name = p_strdup(pool, name);
	user->uid = AUTH_USER_NO_UID;
	user->gid = AUTH_USER_NO_GID;
	array_init(&user->extra, pool, 4);
	return user;
}

int auth_user_set_field(struct auth_user *user, pool_t pool, const char *key,
			const char *value, const char **error_r)
{
	if (strcmp(key, "user") == 0 && value != NULL) {
		user->name = p_strdup(pool, value);
	} else if (strcmp(key, "password") == 0) {
		user->password = p_strdup(pool, value);
	} else if (strcmp(key, "home") == 0 && value != NULL) {
		user->home = p_strdup(pool, value);
	} else if (strcmp(key, "uid") == 0 && value != NULL) {
		if (auth_user_parse_uid(value, &user->uid) < 0) {
			*error_r = t_strdup_printf("invalid uid '%s'", value);
			return -1;
		}
	} else if (strcmp(key, "gid") == 0 && value != NULL) {
		if (auth_user_parse_gid(value, &user->gid) < 0) {
			*error_r = t_strdup_printf("invalid gid '%s'", value);
			return -1;
		}
	} else {
		const char *field = value == NULL ? p_strdup(pool, key) :
			p_strdup_printf(pool, "%s=%s", key, value);
		size_t key_len = strlen(key);
		for (unsigned int i = 0; i < user->extra.count; i++) {
			const char *old = user->extra.v[i];
			if (strncmp(old, key, key_len) == 0 &&
			    (old[key_len] == '\0' || old[key_len] == '=')) {
				/* a later source overrides */
				user->extra.v[i] = field;
				return 0;
			}
		}
		array_push(&user->extra, field);
	}
	return 0;
}
