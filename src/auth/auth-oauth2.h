/* OAuth 2.0 bearer tokens for OAUTHBEARER (RFC 7628) and XOAUTH2: a token
 * is validated locally as a JWT (RFC 7519, signatures RFC 7515/7518:
 * HS256/384/512 with a shared secret, RS256/384/512 and ES256/384/512 with
 * PEM public keys chosen by "kid"), or else by an introspection endpoint
 * (RFC 7662). The user is the value of a configured claim. */
#ifndef TERN_AUTH_OAUTH2_H
#define TERN_AUTH_OAUTH2_H

#include "lib.h"

#include <time.h>

/* Longest token we look at */
#define AUTH_OAUTH2_MAX_TOKEN_LEN 8192
/* Clock skew allowed for exp and nbf, in seconds */
#define AUTH_OAUTH2_LEEWAY_SECS 60
/* Largest introspection response body read */
#define AUTH_OAUTH2_MAX_RESPONSE_SIZE 65536
/* Longest user name taken from a claim */
#define AUTH_OAUTH2_MAX_USER_LEN 255

struct auth_settings;
struct auth_oauth2;

/* "" means not set. */
struct auth_oauth2_settings {
	/* RS and ES keys: <dir>/<kid>.pem, default.pem for tokens without
	   a kid */
	const char *jwt_keys_dir;
	/* the HS secret: the file's bytes, less one trailing newline */
	const char *jwt_secret_file;
	/* RFC 7662 endpoint, for tokens that aren't JWTs or without local
	   keys */
	const char *introspection_url;
	const char *username_claim; /* "" = "email" */
	const char *issuer;   /* checked against iss when set */
	const char *audience; /* must be in aud when set */
	unsigned int timeout_ms; /* introspection request; 0 = 5 s */
};

/* The auth block's oauth2_* settings. Strings point into set. */
void auth_oauth2_settings_from_config(const struct auth_settings *set,
				      struct auth_oauth2_settings *oauth2_r);
/* Loads the secret and checks the key directory. *oauth_r is NULL (and 0
   is returned) when nothing is configured. */
int auth_oauth2_create(const struct auth_oauth2_settings *set,
		       struct auth_oauth2 **oauth_r, const char **error_r);
/* Accepts NULL; *oauth becomes NULL. */
void auth_oauth2_destroy(struct auth_oauth2 **oauth);

/* Validates token. Returns 1 with *user_r (temporary memory), 0 for a
   token that isn't valid, -1 for an internal error (unreadable key,
   endpoint down); *error_r says why, for the log. Synchronous: an
   introspection request blocks for up to timeout_ms. */
int auth_oauth2_validate(struct auth_oauth2 *oauth, const char *token,
			 const char **user_r, const char **error_r);
/* Local JWT validation alone, at time now (for tests). Same returns. */
int auth_oauth2_jwt_validate(struct auth_oauth2 *oauth, const char *token,
			     time_t now, const char **user_r, const char **error_r);

#endif
