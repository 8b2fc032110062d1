/* OAuth 2.0 token validation for the SASL token mechanisms: settings,
 * the choice between local JWT validation and introspection, and the
 * claim checks both share (RFC 7519 §4.1: exp, nbf, iss, aud). */
#include "auth-oauth2-private.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_OAUTH2_MAX_SECRET_SIZE 4096
#define AUTH_OAUTH2_JSON_DEPTH 16
#define AUTH_OAUTH2_DEFAULT_CLAIM "email"
#define AUTH_OAUTH2_DEFAULT_TIMEOUT_MS 5000

void auth_oauth2_settings_from_config(const struct auth_settings *set,
				      struct auth_oauth2_settings *oauth2_r)
{
	*oauth2_r = (struct auth_oauth2_settings){
		.jwt_keys_dir = set->oauth2_jwt_keys_dir,
		.jwt_secret_file = set->oauth2_jwt_secret_file,
		.introspection_url = set->oauth2_introspection_url,
		.username_claim = set->oauth2_username_claim,
		.issuer = set->oauth2_issuer,
		.audience = set->oauth2_audience,
		.timeout_ms = set->oauth2_timeout_ms,
	};
}

static const char *auth_oauth2_str(pool_t pool, const char *value)
{
	return p_strdup(pool, value == NULL ? "" : value);
}

static int auth_oauth2_read_secret(struct auth_oauth2 *oauth, const char *path,
				   const char **error_r)
{
	unsigned char buf[AUTH_OAUTH2_MAX_SECRET_SIZE + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = t_strdup_printf("oauth2_jwt_secret_file %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t len = read(fd, buf, sizeof(buf));
	int saved_errno = errno;
	close(fd);
	if (len < 0 || len > AUTH_OAUTH2_MAX_SECRET_SIZE) {
		*error_r = t_strdup_printf("oauth2_jwt_secret_file %s: %s", path,
					   len < 0 ? strerror(saved_errno) : "larger than 4 KiB");
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0) {
		*error_r = t_strdup_printf("oauth2_jwt_secret_file %s is empty", path);
		return -1;
	}
	oauth->secret = buffer_create(oauth->pool, (size_t)len);
	buffer_append(oauth->secret, buf, (size_t)len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int auth_oauth2_create(const struct auth_oauth2_settings *set,
		       struct auth_oauth2 **oauth_r, const char **error_r)
{
	struct stat st;

	*oauth_r = NULL;
	if ((set->jwt_keys_dir == NULL || set->jwt_keys_dir[0] == '\0') &&
	    (set->jwt_secret_file == NULL || set->jwt_secret_file[0] == '\0') &&
	    (set->introspection_url == NULL || set->introspection_url[0] == '\0'))
		return 0;
	if (set->jwt_keys_dir != NULL && set->jwt_keys_dir[0] != '\0' &&
	    (stat(set->jwt_keys_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		*error_r = t_strdup_printf("oauth2_jwt_keys_dir %s is not a directory",
					   set->jwt_keys_dir);
		return -1;
	}
	pool_t pool = pool_create("oauth2", 512);
	struct auth_oauth2 *oauth = p_new(pool, struct auth_oauth2, 1);
	oauth->pool = pool;
	oauth->set = (struct auth_oauth2_settings){
		.jwt_keys_dir = auth_oauth2_str(pool, set->jwt_keys_dir),
		.jwt_secret_file = auth_oauth2_str(pool, set->jwt_secret_file),
		.introspection_url = auth_oauth2_str(pool, set->introspection_url),
		.username_claim = auth_oauth2_str(pool, set->username_claim == NULL ||
						  set->username_claim[0] == '\0' ?
						  AUTH_OAUTH2_DEFAULT_CLAIM : set->username_claim),
		.issuer = auth_oauth2_str(pool, set->issuer),
		.audience = auth_oauth2_str(pool, set->audience),
		.timeout_ms = set->timeout_ms == 0 ? AUTH_OAUTH2_DEFAULT_TIMEOUT_MS :
			set->timeout_ms,
	};
	if (oauth->set.jwt_secret_file[0] != '\0' &&
	    auth_oauth2_read_secret(oauth, oauth->set.jwt_secret_file, error_r) < 0) {
		pool_destroy(&pool);
		return -1;
	}
	*oauth_r = oauth;
	return 0;
}

void auth_oauth2_destroy(struct auth_oauth2 **_oauth)
{
	struct auth_oauth2 *oauth = *_oauth;

	if (oauth == NULL)
		return;
	*_oauth = NULL;
	if (oauth->secret != NULL)
		explicit_bzero(oauth->secret->data, oauth->secret->alloc);
	pool_destroy(&oauth->pool);
}

struct json_object *auth_oauth2_json_parse(const void *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(AUTH_OAUTH2_JSON_DEPTH);
	if (tok == NULL)
		i_fatal_oom(0);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *obj = size > INT32_MAX ? NULL :
		json_tokener_parse_ex(tok, data, (int)size);
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) != size ||
			    !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* A NumericDate claim (RFC 7519 §2). Returns 1 present, 0 absent, -1 not
   a number. */
static int auth_oauth2_claim_time(struct json_object *claims, const char *name,
				  int64_t *time_r)
{
	struct json_object *value;

	if (!json_object_object_get_ex(claims, name, &value))
		return 0;
	if (json_object_is_type(value, json_type_int))
		*time_r = json_object_get_int64(value);
	else if (json_object_is_type(value, json_type_double))
		*time_r = (int64_t)json_object_get_double(value);
	else
		return -1;
	return 1;
}

static bool auth_oauth2_aud_matches(struct json_object *claims, const char *audience)
{
	struct json_object *aud;

	if (!json_object_object_get_ex(claims, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), audience) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return false;
	size_t count = json_object_array_length(aud);
	for (size_t i = 0; i < count; i++) {
		struct json_object *item = json_object_array_get_idx(aud, i);
		if (json_object_is_type(item, json_type_string) &&
		    strcmp(json_object_get_string(item), audience) == 0)
			return true;
	}
	return false;
}

static const char *auth_oauth2_user_claim(struct auth_oauth2 *oauth,
					  struct json_object *claims)
{
	struct json_object *value;

	if (!json_object_object_get_ex(claims, oauth->set.username_claim, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	const char *user = json_object_get_string(value);
	size_t len = (size_t)json_object_get_string_len(value);
	if (len == 0 || len > AUTH_OAUTH2_MAX_USER_LEN || strlen(user) != len)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return NULL;
	}
	return t_strdup(user);
}

int auth_oauth2_check_claims(struct auth_oauth2 *oauth, struct json_object *claims,
			     time_t now, bool require_exp, const char **user_r,
			     const char **error_r)
{
	int64_t exp, nbf;
	int ret = auth_oauth2_claim_time(claims, "exp", &exp);

	if (ret < 0 || (ret == 0 && require_exp)) {
		*error_r = ret < 0 ? "exp is not a number" : "no exp claim";
		return 0;
	}
	if (ret > 0 && (int64_t)now > exp + AUTH_OAUTH2_LEEWAY_SECS) {
		*error_r = "token expired";
		return 0;
	}
	ret = auth_oauth2_claim_time(claims, "nbf", &nbf);
	if (ret < 0 || (ret > 0 && (int64_t)now + AUTH_OAUTH2_LEEWAY_SECS < nbf)) {
		*error_r = ret < 0 ? "nbf is not a number" : "token not valid yet (nbf)";
		return 0;
	}
	struct json_object *iss;
	if (oauth->set.issuer[0] != '\0' &&
	    (!json_object_object_get_ex(claims, "iss", &iss) ||
	     !json_object_is_type(iss, json_type_string) ||
	     strcmp(json_object_get_string(iss), oauth->set.issuer) != 0)) {
		*error_r = "wrong issuer (iss)";
		return 0;
	}
	if (oauth->set.audience[0] != '\0' &&
	    !auth_oauth2_aud_matches(claims, oauth->set.audience)) {
		*error_r = "wrong audience (aud)";
		return 0;
	}
	*user_r = auth_oauth2_user_claim(oauth, claims);
	if (*user_r == NULL) {
		*error_r = t_strdup_printf("no usable %s claim", oauth->set.username_claim);
		return 0;
	}
	return 1;
}

/* JWS compact serialization: three base64url parts (RFC 7515 §7.1). */
static bool auth_oauth2_is_jwt(const char *token)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 == NULL ? NULL : strchr(dot1 + 1, '.');
	return dot2 != NULL && strchr(dot2 + 1, '.') == NULL;
}

int auth_oauth2_validate(struct auth_oauth2 *oauth, const char *token,
			 const char **user_r, const char **error_r)
{
	bool local = oauth->set.jwt_keys_dir[0] != '\0' || oauth->secret != NULL;

	if (strlen(token) > AUTH_OAUTH2_MAX_TOKEN_LEN) {
		*error_r = "token too long";
		return 0;
	}
	/* a JWT is checked with our keys when we have any: its signature
	   decides, so introspection can't overrule a bad one */
	if (local && auth_oauth2_is_jwt(token))
		return auth_oauth2_jwt_validate(oauth, token, time(NULL), user_r, error_r);
	if (oauth->set.introspection_url[0] != '\0')
		return auth_oauth2_introspect(oauth, token, user_r, error_r);
	*error_r = "not a JWT, and no oauth2_introspection_url";
	return 0;
}
