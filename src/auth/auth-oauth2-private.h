/* What the OAuth 2.0 files share: settings, and the claim checks common to
 * JWTs and introspection responses. */
#ifndef TERN_AUTH_OAUTH2_PRIVATE_H
#define TERN_AUTH_OAUTH2_PRIVATE_H

#include "auth-oauth2.h"
#include "buffer.h"

#include <json-c/json.h>

struct auth_oauth2 {
	pool_t pool;
	struct auth_oauth2_settings set;
	buffer_t *secret; /* NULL: no HS secret */
};

/* Parses a JSON object (depth and size limited). NULL if data isn't one. */
struct json_object *auth_oauth2_json_parse(const void *data, size_t size);
/* exp (required when require_exp), nbf, iss, aud and the username claim
   of claims at time now. Returns 1 with *user_r, or 0 (*error_r). */
int auth_oauth2_check_claims(struct auth_oauth2 *oauth, struct json_object *claims,
			     time_t now, bool require_exp, const char **user_r,
			     const char **error_r);
/* auth-oauth2-introspect.c: RFC 7662. Same returns as
   auth_oauth2_validate(). */
int auth_oauth2_introspect(struct auth_oauth2 *oauth, const char *token,
			   const char **user_r, const char **error_r);

#endif
