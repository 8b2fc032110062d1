/* Password schemes: verifying a plaintext password against a stored hash and
 * generating new hashes, in Dovecot's "{SCHEME}hash" notation so existing
 * passwd-files work unchanged. Scheme names are case-insensitive and may end
 * in ".HEX", ".B64" or ".BASE64" to choose how a digest is encoded. */
#ifndef TERN_AUTH_PASSWORD_H
#define TERN_AUTH_PASSWORD_H

#include "pool.h"

/* The scheme ternctl uses when none is given: understood by every Dovecot
   and by every crypt(3) that Tern runs on. */
#define PASSWORD_SCHEME_DEFAULT "SHA512-CRYPT"

/* Checks plaintext against stored ("{SCHEME}..." or, without a prefix, a
   crypt(3) hash). user is the login name (reserved for schemes that salt with
   it; may be NULL). Returns 1 on match, 0 on mismatch (also when stored is
   NULL or empty), -1 when the stored value can't be used (unknown scheme,
   malformed hash; *error_r says which). */
/* For schemes that store the password itself ({PLAIN}, {CLEARTEXT}):
   returns 1 with the plaintext (APOP, RFC 1939 §7, needs it), else 0. */
int password_get_plaintext(const char *stored, const char **plaintext_r);

int password_verify(const char *plaintext, const char *stored, const char *user,
		    const char **error_r);

/* Hashes plaintext with scheme (with a fresh random salt where the scheme
   has one). *hash_r is "{SCHEME}..." allocated from pool. Returns 0, or -1
   for an unknown scheme or a scheme that can only verify. */
int password_generate(const char *plaintext, const char *scheme, pool_t pool,
		      const char **hash_r, const char **error_r);

/* NULL-terminated list of the scheme names password_verify() understands
   (aliases included). Static memory. */
const char *const *password_schemes_list(void);

/* True if scheme (with or without an encoding suffix) is known. */
bool password_scheme_is_known(const char *scheme);

#endif
