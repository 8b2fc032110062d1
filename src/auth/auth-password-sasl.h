/* Password schemes whose stored values SASL mechanisms can use without the
 * password, in Dovecot's formats: {SCRAM-SHA-1} and {SCRAM-SHA-256}
 * ("iter,salt,StoredKey,ServerKey", base64; RFC 5802 §3) and {CRAM-MD5}
 * (hex of the HMAC-MD5 states; RFC 2195). password_verify() and
 * password_generate() reach them through the registry in auth-password.c
 * (password_schemes_sasl); the SASL side gets them as struct
 * sasl_credentials. */
#ifndef TERN_AUTH_PASSWORD_SASL_H
#define TERN_AUTH_PASSWORD_SASL_H

#include "pool.h"
#include "sasl-server.h"

/* What doveadm writes, and RFC 7677 §4's minimum */
#define PASSWORD_SCRAM_ITER_DEFAULT 4096
/* Stored values asking for more are refused (a login would take minutes) */
#define PASSWORD_SCRAM_ITER_MAX 10000000u
#define PASSWORD_SCRAM_SALT_SIZE 16

/* Checks plaintext against value, the text after "{SCHEME}". Returns 1
   match, 0 mismatch, -1 malformed value (*error_r). */
int password_sasl_verify(const char *scheme, const char *plaintext,
			 const char *value, const char **error_r);
/* "{SCHEME}value" from pool, with a fresh salt for SCRAM. rounds is the
   SCRAM iteration count (0 = the default). Returns 0 or -1. */
int password_sasl_generate(const char *scheme, const char *plaintext,
			   unsigned int rounds, pool_t pool, const char **hash_r,
			   const char **error_r);
/* Fills creds_r (zeroed first) from a stored password for mech: the
   password itself ({PLAIN}, {CLEARTEXT}), SCRAM keys of mech's hash, or
   CRAM-MD5 states. Returns 1 when mech can use them, 0 when it can't
   (*reason_r says why, for the log: "stored as SHA512-CRYPT"), -1 for a
   malformed stored value (*reason_r). */
int password_sasl_get_credentials(const char *stored, const char *mech,
				  struct sasl_credentials *creds_r,
				  const char **reason_r);

#endif
