/* OAuth 2.0 bearer tokens over SASL: OAUTHBEARER (RFC 7628) and Google's
 * XOAUTH2. We parse the client's message; the token is validated by the
 * caller. A refused token is answered with a JSON error challenge and the
 * client's next message ends the exchange in failure (RFC 7628 §3.2.2). */
#include "sasl-private.h"

#include <strings.h>

#define OAUTH_KVSEP '\x01'
#define OAUTH_MAX_USER_LEN 1024

/* RFC 7628 §3.2.2: invalid_token; RFC 6750 §3 names the scheme */
#define OAUTHBEARER_ERROR_JSON "{\"status\":\"invalid_token\",\"schemes\":\"bearer\"}"
/* What Google sends, and clients of XOAUTH2 expect */
#define XOAUTH2_ERROR_JSON "{\"status\":\"401\",\"schemes\":\"bearer\"}"

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
   "+" / "/" ) *"=" */
static bool oauth_token_is_valid(const char *token)
{
	size_t len = strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-._~+/");
	if (len == 0)
		return false;
	return token[len + strspn(token + len, "=")] == '\0';
}

/* "Bearer" 1*SP b64token (RFC 7628 §3.1, scheme case-insensitive per
   RFC 7235 §2.1). Returns the token or NULL. */
static const char *oauth_bearer_token(const char *value)
{
	if (strncasecmp(value, "Bearer ", 7) != 0)
		return NULL;
	const char *token = value + 7;
	token += strspn(token, " ");
	return oauth_token_is_valid(token) ? token : NULL;
}

/* The value of key in "key=value^A" pairs ending with an empty pair, or
   NULL. *end_ok_r tells whether the list ended properly. */
static const char *oauth_kv_find(const char *p, const char *end, const char *key,
				 bool *end_ok_r)
{
	const char *found = NULL;
	size_t key_len = strlen(key);

	*end_ok_r = false;
	while (p < end) {
		const char *sep = memchr(p, OAUTH_KVSEP, (size_t)(end - p));
		if (sep == NULL)
			return NULL;
		if (sep == p) {
			/* the empty pair ends the list, and the message */
			*end_ok_r = sep + 1 == end;
			return found;
		}
		const char *eq = memchr(p, '=', (size_t)(sep - p));
		if (eq == NULL)
			return NULL;
		if (found == NULL && (size_t)(eq - p) == key_len &&
		    memcmp(p, key, key_len) == 0)
			found = t_strndup(eq + 1, (size_t)(sep - eq - 1));
		p = sep + 1;
	}
	return NULL;
}

/* RFC 5801 §4 saslname: "=2C" and "=3D" stand for "," and "=". */
static const char *oauth_saslname_decode(const char *p, size_t len)
{
	string_t *str = t_str_new(len + 1);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == ',')
			return NULL;
		if (p[i] != '=') {
			str_append_c(str, p[i]);
		} else if (len - i >= 3 && (memcmp(p + i, "=2C", 3) == 0 ||
					    memcmp(p + i, "=3D", 3) == 0)) {
			str_append_c(str, p[i + 1] == '2' ? ',' : '=');
			i += 2;
		} else {
			return NULL;
		}
	}
	return str_c(str);
}

/* RFC 7628 §3.1: gs2-header kvsep *kvpair kvsep. Channel binding isn't
   defined for OAUTHBEARER: the flag must be "n" or "y". Returns 0 or -1. */
static int oauthbearer_parse(const char *msg, size_t len, const char **authzid_r,
			     const char **token_r)
{
	const char *end = msg + len;

	*authzid_r = NULL;
	if (len < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
		return -1;
	const char *p = msg + 2;
	const char *comma = memchr(p, ',', (size_t)(end - p));
	if (comma == NULL)
		return -1;
	if (comma != p) {
		if (comma - p < 3 || p[0] != 'a' || p[1] != '=' ||
		    (size_t)(comma - p) > OAUTH_MAX_USER_LEN)
			return -1;
		*authzid_r = oauth_saslname_decode(p + 2, (size_t)(comma - p - 2));
		if (*authzid_r == NULL)
			return -1;
	}
	p = comma + 1;
	if (p >= end || *p != OAUTH_KVSEP)
		return -1;
	bool end_ok;
	const char *auth = oauth_kv_find(p + 1, end, "auth", &end_ok);
	if (auth == NULL || !end_ok)
		return -1;
	*token_r = oauth_bearer_token(auth);
	return *token_r == NULL ? -1 : 0;
}

/* "user=" user ^A "auth=Bearer " token ^A ^A */
static int xoauth2_parse(const char *msg, size_t len, const char **user_r,
			 const char **token_r)
{
	bool end_ok;
	const char *end = msg + len;

	*user_r = oauth_kv_find(msg, end, "user", &end_ok);
	if (*user_r == NULL || !end_ok || strlen(*user_r) > OAUTH_MAX_USER_LEN)
		return -1;
	const char *auth = oauth_kv_find(msg, end, "auth", &end_ok);
	if (auth == NULL)
		return -1;
	*token_r = oauth_bearer_token(auth);
	return *token_r == NULL ? -1 : 0;
}

static int oauth_step(struct sasl_session *s, const unsigned char *input,
		      size_t input_len, bool have_input, buffer_t *output,
		      const char **error_r)
{
	bool xoauth2 = s->mech->v == &sasl_mech_xoauth2;
	const char *msg = (const char *)input, *user, *token;

	if (!have_input || input_len == 0) {
		/* client-first: no initial response, so ask for one */
		if (s->steps > 1) {
			*error_r = "Invalid authentication message.";
			return -1;
		}
		return 0;
	}
	if (memchr(msg, '\0', input_len) != NULL ||
	    (xoauth2 ? xoauth2_parse(msg, input_len, &user, &token) :
	     oauthbearer_parse(msg, input_len, &user, &token)) < 0) {
		*error_r = "Invalid authentication message.";
		return -1;
	}
	if (user != NULL && user[0] == '\0')
		user = NULL;
	sasl_session_set_identities(s, NULL, user);
	int ret = s->cb->verify_token(s->context, s->mech->name, user, token);
	if (sasl_session_callback_result(s, ret) > 0)
		return 1;
	if (s->temp_failed) {
		*error_r = "Temporary authentication failure.";
		return -1;
	}
	s->rejection = "token refused";
	s->failure_pending = true;
	const char *json = xoauth2 ? XOAUTH2_ERROR_JSON : OAUTHBEARER_ERROR_JSON;
	buffer_append(output, json, strlen(json));
	return 0;
}

const struct sasl_mech_vfuncs sasl_mech_oauthbearer = {
	.step = oauth_step,
};

const struct sasl_mech_vfuncs sasl_mech_xoauth2 = {
	.step = oauth_step,
};
