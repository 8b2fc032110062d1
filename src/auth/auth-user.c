/* Extra-field access for struct auth_user. */
#include "auth-user.h"

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
