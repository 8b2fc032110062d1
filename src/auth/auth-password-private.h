/* The contract between the password scheme registry (auth-password.c) and
 * the files that implement schemes (auth-password-kdf.c, and SASL stored
 * keys in auth-password-sasl.c). Not for use outside src/auth. */
#ifndef TERN_AUTH_PASSWORD_PRIVATE_H
#define TERN_AUTH_PASSWORD_PRIVATE_H

#include "auth-password.h"
#include "buffer.h"

enum password_encoding {
	PW_ENCODING_NONE,
	PW_ENCODING_BASE64,
	PW_ENCODING_HEX,
};

struct password_scheme {
	/* Upper case, as written between the braces. */
	const char *name;
	/* How the value after "{NAME}" is encoded when no ".HEX"/".B64"
	   suffix says otherwise. */
	enum password_encoding encoding;
	/* Decoded size of unsalted digests (0 = variable). When it is fixed
	   and no suffix is given, hex and base64 are told apart by length, as
	   Dovecot does. */
	size_t raw_size;
	/* Free for the implementation: EVP digest name, crypt(3) prefix ... */
	const char *arg;
	/* raw/size is the decoded stored value. user is the login name, may be
	   NULL. Returns 1 match, 0 mismatch, -1 unusable stored value (also
	   when its cost is over the limits in auth-password.h). */
	int (*verify)(const struct password_scheme *s, const char *plaintext,
		      const char *user, const unsigned char *raw, size_t size,
		      const char **error_r);
	/* Appends the raw (not yet encoded) value to raw. NULL when the scheme
	   can only verify. */
	int (*generate)(const struct password_scheme *s, const char *plaintext,
			const struct password_generate_params *params,
			buffer_t *raw, const char **error_r);
};

/* Scheme sets, each ending with an entry whose name is NULL. A file that
   adds schemes declares its set here and lists it in password_scheme_sets[]
   in auth-password.c (one line each). */
extern const struct password_scheme password_schemes_kdf[];
/* auth-password-sasl.c: SCRAM-SHA-1, SCRAM-SHA-256, CRAM-MD5 */
extern const struct password_scheme password_schemes_sasl[];

/* Helpers for scheme implementations. */
bool password_mem_equal(const void *a, size_t a_size,
			const void *b, size_t b_size);
/* Fatal if the system has no randomness. */
void password_random_fill(void *buf, size_t size);
/* Appends lower-case hex. */
void password_hex_encode(const void *data, size_t size, string_t *dest);
/* Returns 0, or -1 for an odd length or a non-hex character. */
int password_hex_decode(const char *src, size_t len, buffer_t *dest);
/* Writes EVP digest md_name of (a || b) to out, which has room for
   EVP_MAX_MD_SIZE (64) bytes. */
int password_digest(const char *md_name, const void *a, size_t a_size,
		    const void *b, size_t b_size, unsigned char *out,
		    size_t *out_size_r, const char **error_r);

#endif
