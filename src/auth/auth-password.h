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

/* Cost limits. A stored hash whose parameters exceed them is refused with
   an error instead of being computed: one typo'd (or hostile) SQL row must
   not cost seconds of CPU or gigabytes of memory per login attempt. Each is
   roughly 2-4 s of one current server core or 1 GiB, and at or above the
   strongest setting Dovecot generates (doveadm pw -r). */
#define PASSWORD_BCRYPT_COST_MAX 16           /* $2a$ $2b$ $2x$ $2y$ */
#define PASSWORD_SHA_CRYPT_ROUNDS_MAX 10000000u /* $5$ $6$ rounds= */
#define PASSWORD_PBKDF2_ROUNDS_MAX 10000000u
#define PASSWORD_SHA1_CRYPT_ROUNDS_MAX 4000000u /* $sha1$ */
#define PASSWORD_SUN_MD5_ROUNDS_MAX 2000000u   /* $md5,rounds= */
/* yescrypt, gost-yescrypt, scrypt ($y$ $gy$ $7$): memory 128*N*r bytes;
   work 128*N*r*p*(t+1). Argon2: memory m KiB; work m*t KiB; lanes p. */
#define PASSWORD_MEMORY_MAX_KIB (1024u * 1024u)  /* 1 GiB */
#define PASSWORD_WORK_MAX_KIB (4u * 1024u * 1024u) /* 4 GiB touched */
#define PASSWORD_ARGON2_LANES_MAX 16

/* For schemes that store the password itself ({PLAIN}, {CLEARTEXT}):
   returns 1 with the plaintext (APOP, RFC 1939 §7, needs it), else 0. */
int password_get_plaintext(const char *stored, const char **plaintext_r);

/* Checks plaintext against stored ("{SCHEME}..." or, without a prefix, a
   crypt(3) hash). user is the login name (DIGEST-MD5 needs it; may be
   NULL). Returns 1 on match, 0 on mismatch (also when stored is NULL or
   empty), -1 when the stored value can't be used (unknown scheme, malformed
   hash, cost over the limits above; *error_r says which). */
int password_verify(const char *plaintext, const char *stored, const char *user,
		    const char **error_r);

/* Hashes plaintext with scheme (with a fresh random salt where the scheme
   has one) and its default cost. *hash_r is "{SCHEME}..." allocated from
   pool. Returns 0, or -1 for an unknown scheme or a scheme that can only
   verify. */
int password_generate(const char *plaintext, const char *scheme, pool_t pool,
		      const char **hash_r, const char **error_r);

struct password_generate_params {
	/* Login name: DIGEST-MD5 hashes "user:realm:password", the realm
	   being the domain of user@domain. NULL = not known. */
	const char *user;
	/* Cost, 0 = the scheme's default: bcrypt's log2 cost (4-16),
	   SHA-crypt and PBKDF2 rounds, yescrypt's cost (1-11), argon2's
	   passes (t). Ignored by schemes without a cost. Over the limits above
	   fails, so nothing generated is refused by password_verify(). */
	unsigned int rounds;
};

/* password_generate() with params (NULL = defaults). */
int password_generate_full(const char *plaintext, const char *scheme,
			   const struct password_generate_params *params,
			   pool_t pool, const char **hash_r,
			   const char **error_r);

/* Splits and decodes stored ("{SCHEME}value" or a bare crypt(3) hash):
   *scheme_r is the canonical scheme name without encoding suffix (static),
   *raw_r the decoded value from pool (NUL-terminated for convenience;
   *size_r excludes the NUL). For schemes whose stored keys a SASL mechanism
   needs (CRAM-MD5, SCRAM). Returns 1, or -1 for an unknown scheme or a
   malformed encoding. */
int password_decode(const char *stored, pool_t pool, const char **scheme_r,
		    const unsigned char **raw_r, size_t *size_r,
		    const char **error_r);

/* NULL-terminated list of the scheme names password_verify() understands
   (aliases included). Static memory. */
const char *const *password_schemes_list(void);

/* True if scheme (with or without an encoding suffix) is known. */
bool password_scheme_is_known(const char *scheme);
/* True if scheme is known and password_generate() can produce it (some
   schemes, e.g. PLAIN-TRUNC, only verify existing hashes). */
bool password_scheme_can_generate(const char *scheme);

#endif
