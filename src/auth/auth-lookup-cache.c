/* The credential cache of the passdb/userdb chains (auth.cache_*): passdb
 * results with their password hash and userdb results, serialized into
 * auth-cache.h entries keyed by role and user name, plus cached "no such
 * user". A password that doesn't match a cached hash is looked up again
 * (it may have changed); a backend that fails may be answered from an
 * expired entry. Off when auth.cache_size is 0. */
#include "auth-private.h"
#include "auth-cache.h"
#include "buffer.h"
#include "ioloop.h"
#include "log.h"

#include <string.h>

/* fields separated by a TAB, TAB and backslash escaped */
static void auth_lookup_cache_append(string_t *str, const char *value)
{
	if (str_len(str) > 0)
		str_append_c(str, '\t');
	if (value == NULL) {
		str_append_c(str, '\001'); /* NULL */
		return;
	}
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\t')
			str_append(str, "\\t");
		else if (*p == '\\')
			str_append(str, "\\\\");
		else
			str_append_c(str, *p);
	}
}

static string_t *auth_lookup_cache_serialize(const struct auth_user *user)
{
	string_t *str = t_str_new(256);

	auth_lookup_cache_append(str, user->name);
	auth_lookup_cache_append(str, user->password);
	auth_lookup_cache_append(str, user->home);
	auth_lookup_cache_append(str, t_strdup_printf("%ld", (long)(int)user->uid));
	auth_lookup_cache_append(str, t_strdup_printf("%ld", (long)(int)user->gid));
	for (unsigned int i = 0; i < user->extra.count; i++)
		auth_lookup_cache_append(str, user->extra.v[i]);
	return str;
}

static const char *auth_lookup_cache_field(const char **p, pool_t pool)
{
	string_t *str = str_new(pool, 64);
	if (**p == '\001') {
		(*p)++;
		if (**p == '\t')
			(*p)++;
		return NULL;
	}
	for (; **p != '\0' && **p != '\t'; (*p)++) {
		if (**p == '\\' && (*p)[1] != '\0') {
			(*p)++;
			str_append_c(str, **p == 't' ? '\t' : **p);
		} else {
			str_append_c(str, **p);
		}
	}
	if (**p == '\t')
		(*p)++;
	return str_c(str);
}

static struct auth_user *auth_lookup_cache_parse(const void *data, size_t size, pool_t pool)
{
	const char *p = t_strndup(data, size);
	struct auth_user *user = auth_user_new(pool, "");

	user->name = auth_lookup_cache_field(&p, pool);
	user->password = auth_lookup_cache_field(&p, pool);
	user->home = auth_lookup_cache_field(&p, pool);
	const char *uid = auth_lookup_cache_field(&p, pool);
	const char *gid = auth_lookup_cache_field(&p, pool);
	user->uid = uid == NULL ? AUTH_USER_NO_UID : (uid_t)strtol(uid, NULL, 10);
	user->gid = gid == NULL ? AUTH_USER_NO_GID : (gid_t)strtol(gid, NULL, 10);
	while (*p != '\0') {
		const char *field = auth_lookup_cache_field(&p, pool);
		if (field != NULL)
			array_push(&user->extra, field);
	}
	return user->name == NULL ? NULL : user;
}

static const char *auth_lookup_cache_key(const char *role, const char *user, size_t *size_r)
{
	const char *key = t_strdup_printf("%s%c%s", role, '\0', user);
	*size_r = strlen(role) + 1 + strlen(user);
	return key;
}

int auth_lookup_cache_get(struct auth *auth, const char *role, const char *user,
			  pool_t pool, struct auth_user **user_r)
{
	struct auth_cache_result res;
	size_t key_size;
	const char *key;

	if (auth->cache == NULL)
		return 0;
	key = auth_lookup_cache_key(role, user, &key_size);
	if (auth_cache_lookup(auth->cache, key, key_size, ioloop_time(), &res) <= 0)
		return 0;
	if (res.negative)
		return -1;
	*user_r = auth_lookup_cache_parse(res.value, res.value_size, pool);
	return *user_r == NULL ? 0 : 1;
}

void auth_lookup_cache_put(struct auth *auth, const char *role, const char *user,
			   const struct auth_user *result)
{
	size_t key_size;
	const char *key;

	if (auth->cache == NULL)
		return;
	key = auth_lookup_cache_key(role, user, &key_size);
	if (result == NULL) {
		(void)auth_cache_insert_negative(auth->cache, user, key, key_size, ioloop_time());
		return;
	}
	string_t *str = auth_lookup_cache_serialize(result);
	(void)auth_cache_insert(auth->cache, user, key, key_size, str_data(str), str_len(str),
				ioloop_time());
	explicit_bzero(str->data, str->alloc);
}

unsigned int auth_cache_flush(struct auth *auth, const char *user)
{
	if (auth->cache == NULL)
		return 0;
	return user == NULL ? auth_cache_flush_all(auth->cache) :
		auth_cache_flush_user(auth->cache, user);
}
