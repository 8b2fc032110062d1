/* Password schemes in Dovecot's "{SCHEME}" notation: crypt(3) families through
 * libxcrypt, plain and salted SHA digests, PBKDF2-SHA1 and cleartext.
 * Digests are compared in constant time; salts come from RAND_bytes(). */
#include "auth-password.h"
#include "auth-password-sasl.h"
#include "base64.h"
#include "buffer.h"
#include "strnum.h"

#include <crypt.h>
#include <errno.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Longest "{SCHEME.ENCODING}" name we look up. */
#define PASSWORD_SCHEME_NAME_MAX 64
#define SALTED_DIGEST_SALT_LEN 8
#define PBKDF2_KEY_LEN 20
#define PBKDF2_SALT_LEN 16
/* Dovecot's own default is 5000; more rounds cost nothing in compatibility. */
#define PBKDF2_ROUNDS_DEFAULT 100000
#define PBKDF2_ROUNDS_MAX 100000000u
/* libxcrypt's bcrypt default cost is 5, which is too cheap today. */
#define BCRYPT_COST 10
#define CRYPT_SALT_RANDOM_BYTES 16

enum password_encoding {
	PW_ENCODING_NONE,
	PW_ENCODING_BASE64,
	PW_ENCODING_HEX,
};

struct password_scheme {
	const char *name;
	enum password_encoding encoding;
	/* Decoded size of unsalted digests (0 = variable). When it is fixed and
	   no suffix is given, hex and base64 are told apart by length, as
	   Dovecot does. */
	size_t raw_size;
	/* EVP digest name, or crypt(3) prefix (NULL = libxcrypt's default). */
	const char *arg;
	int (*verify)(const struct password_scheme *s, const char *plaintext,
		      const unsigned char *raw, size_t size, const char **error_r);
	/* NULL when the scheme can only verify. */
	int (*generate)(const struct password_scheme *s, const char *plaintext,
			buffer_t *raw, const char **error_r);
};

static const char salt_chars[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool mem_equal(const void *a, size_t a_size, const void *b, size_t b_size)
{
	return a_size == b_size && CRYPTO_memcmp(a, b, a_size) == 0;
}

static void random_fill(void *buf, size_t size)
{
	if (RAND_bytes(buf, (int)size) != 1)
		i_fatal("RAND_bytes() failed");
}

/* ---- cleartext ---- */

static int plain_verify(const struct password_scheme *s, const char *plaintext,
			const unsigned char *raw, size_t size, const char **error_r)
{
	return mem_equal(plaintext, strlen(plaintext), raw, size) ? 1 : 0;
}

static int plain_generate(const struct password_scheme *s, const char *plaintext,
			  buffer_t *raw, const char **error_r)
{
	buffer_append(raw, plaintext, strlen(plaintext));
	return 0;
}

/* ---- crypt(3) ---- */

static int crypt_verify(const struct password_scheme *s, const char *plaintext,
			const unsigned char *raw, size_t size, const char **error_r)
{
	if (size == 0)
		return 0;
	const char *setting = t_strndup(raw, size);
	struct crypt_data *data = i_zalloc(sizeof(*data));
	const char *out = crypt_rn(plaintext, setting, data, sizeof(*data));
	int ret;

	if (out == NULL) {
		*error_r = t_strdup_printf("malformed or unsupported %s hash", s->name);
		ret = -1;
	} else {
		ret = mem_equal(out, strlen(out), setting, size) ? 1 : 0;
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ret;
}

static int crypt_generate(const struct password_scheme *s, const char *plaintext,
			  buffer_t *raw, const char **error_r)
{
	unsigned char rbytes[CRYPT_SALT_RANDOM_BYTES];
	unsigned long count = s->arg != NULL && strcmp(s->arg, "$2y$") == 0 ?
		BCRYPT_COST : 0;

	random_fill(rbytes, sizeof(rbytes));
	char *setting = crypt_gensalt_ra(s->arg, count, (const char *)rbytes,
					 sizeof(rbytes));
	if (setting == NULL) {
		*error_r = t_strdup_printf("crypt_gensalt(%s) failed: %s", s->name,
					   strerror(errno));
		return -1;
	}
	struct crypt_data *data = i_zalloc(sizeof(*data));
	const char *out = crypt_rn(plaintext, setting, data, sizeof(*data));
	int ret = 0;
	if (out == NULL) {
		*error_r = t_strdup_printf("crypt(%s) failed: %s", s->name,
					   strerror(errno));
		ret = -1;
	} else {
		buffer_append(raw, out, strlen(out));
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	free(setting);
	return ret;
}

/* ---- digests ---- */

/* Writes digest(a || b) to out, which has room for EVP_MAX_MD_SIZE. */
static int digest_run(const char *md_name, const void *a, size_t a_size,
		      const void *b, size_t b_size, unsigned char *out,
		      size_t *out_size_r, const char **error_r)
{
	const EVP_MD *md = EVP_get_digestbyname(md_name);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int out_size = 0;
	int ok = md != NULL && ctx != NULL &&
		EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		EVP_DigestUpdate(ctx, a, a_size) == 1 &&
		(b_size == 0 || EVP_DigestUpdate(ctx, b, b_size) == 1) &&
		EVP_DigestFinal_ex(ctx, out, &out_size) == 1;

	EVP_MD_CTX_free(ctx);
	if (!ok) {
		*error_r = t_strdup_printf("digest %s failed", md_name);
		return -1;
	}
	*out_size_r = out_size;
	return 0;
}

static int digest_verify(const struct password_scheme *s, const char *plaintext,
			 const unsigned char *raw, size_t size, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (digest_run(s->arg, plaintext, strlen(plaintext), NULL, 0,
		       digest, &digest_size, error_r) < 0)
		return -1;
	return mem_equal(digest, digest_size, raw, size) ? 1 : 0;
}

static int digest_generate(const struct password_scheme *s, const char *plaintext,
			   buffer_t *raw, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (digest_run(s->arg, plaintext, strlen(plaintext), NULL, 0,
		       digest, &digest_size, error_r) < 0)
		return -1;
	buffer_append(raw, digest, digest_size);
	return 0;
}

/* Salted digests are <digest(plaintext || salt)><salt>, with a salt of any
   length (Dovecot writes 4 bytes, OpenLDAP 4 or 8, others more). */
static int salted_verify(const struct password_scheme *s, const char *plaintext,
			 const unsigned char *raw, size_t size, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;
	const EVP_MD *md = EVP_get_digestbyname(s->arg);

	if (md == NULL) {
		*error_r = t_strdup_printf("digest %s unavailable", s->arg);
		return -1;
	}
	digest_size = (size_t)EVP_MD_get_size(md);
	if (size <= digest_size) {
		*error_r = t_strdup_printf("malformed %s hash: too short (%zu bytes)",
					   s->name, size);
		return -1;
	}
	if (digest_run(s->arg, plaintext, strlen(plaintext), raw + digest_size,
		       size - digest_size, digest, &digest_size, error_r) < 0)
		return -1;
	return CRYPTO_memcmp(digest, raw, digest_size) == 0 ? 1 : 0;
}

static int salted_generate(const struct password_scheme *s, const char *plaintext,
			   buffer_t *raw, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE], salt[SALTED_DIGEST_SALT_LEN];
	size_t digest_size;

	random_fill(salt, sizeof(salt));
	if (digest_run(s->arg, plaintext, strlen(plaintext), salt, sizeof(salt),
		       digest, &digest_size, error_r) < 0)
		return -1;
	buffer_append(raw, digest, digest_size);
	buffer_append(raw, salt, sizeof(salt));
	return 0;
}

/* ---- hex ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *src, size_t len, buffer_t *dest)
{
	if (len % 2 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(src[i]), lo = hex_digit(src[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buffer_append_c(dest, (unsigned char)(hi << 4 | lo));
	}
	return 0;
}

static void hex_encode(const unsigned char *data, size_t size, string_t *dest)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < size; i++) {
		str_append_c(dest, digits[data[i] >> 4]);
		str_append_c(dest, digits[data[i] & 0xf]);
	}
}

/* ---- PBKDF2 (Dovecot's format: $1$<salt>$<rounds>$<hex PBKDF2-SHA1>) ---- */

static int pbkdf2_run(const char *plaintext, const char *salt, unsigned int rounds,
		      unsigned char key[PBKDF2_KEY_LEN], const char **error_r)
{
	if (PKCS5_PBKDF2_HMAC(plaintext, (int)strlen(plaintext),
			      (const unsigned char *)salt, (int)strlen(salt),
			      (int)rounds, EVP_sha1(), PBKDF2_KEY_LEN, key) != 1) {
		*error_r = "PBKDF2 failed";
		return -1;
	}
	return 0;
}

static int pbkdf2_parse(const char *stored, const char **salt_r,
			unsigned int *rounds_r, buffer_t *key)
{
	if (strncmp(stored, "$1$", 3) != 0)
		return -1;
	const char *salt = stored + 3;
	const char *p = strchr(salt, '$');
	if (p == NULL)
		return -1;
	const char *rounds_end = strchr(p + 1, '$');
	if (rounds_end == NULL)
		return -1;
	const char *rounds_str = t_strndup(p + 1, (size_t)(rounds_end - p - 1));
	const char *hex = rounds_end + 1;

	if (str_to_uint(rounds_str, rounds_r) < 0 || *rounds_r == 0 ||
	    *rounds_r > PBKDF2_ROUNDS_MAX)
		return -1;
	if (strlen(hex) != PBKDF2_KEY_LEN * 2 || hex_decode(hex, strlen(hex), key) < 0)
		return -1;
	*salt_r = t_strndup(salt, (size_t)(p - salt));
	return 0;
}

static int pbkdf2_verify(const struct password_scheme *s, const char *plaintext,
			 const unsigned char *raw, size_t size, const char **error_r)
{
	unsigned char expected[PBKDF2_KEY_LEN], key[PBKDF2_KEY_LEN];
	buffer_t *expected_buf = buffer_create(t_pool(), PBKDF2_KEY_LEN);
	const char *salt;
	unsigned int rounds;

	if (pbkdf2_parse(t_strndup(raw, size), &salt, &rounds, expected_buf) < 0) {
		*error_r = "malformed PBKDF2 hash: expected $1$<salt>$<rounds>$<40 hex digits>";
		return -1;
	}
	memcpy(expected, expected_buf->data, PBKDF2_KEY_LEN);
	if (pbkdf2_run(plaintext, salt, rounds, key, error_r) < 0)
		return -1;
	return CRYPTO_memcmp(key, expected, sizeof(key)) == 0 ? 1 : 0;
}

static int pbkdf2_generate(const struct password_scheme *s, const char *plaintext,
			   buffer_t *raw, const char **error_r)
{
	unsigned char rnd[PBKDF2_SALT_LEN], key[PBKDF2_KEY_LEN];
	char salt[PBKDF2_SALT_LEN + 1];

	random_fill(rnd, sizeof(rnd));
	/* 64 characters: taking 6 bits of each byte keeps the salt uniform */
	for (size_t i = 0; i < PBKDF2_SALT_LEN; i++)
		salt[i] = salt_chars[rnd[i] & 0x3f];
	salt[PBKDF2_SALT_LEN] = '\0';
	if (pbkdf2_run(plaintext, salt, PBKDF2_ROUNDS_DEFAULT, key, error_r) < 0)
		return -1;
	string_t *str = t_str_new(80);
	str_printfa(str, "$1$%s$%u$", salt, PBKDF2_ROUNDS_DEFAULT);
	hex_encode(key, sizeof(key), str);
	buffer_append(raw, str_data(str), str_len(str));
	return 0;
}

/* ---- MD5: Dovecot's {MD5} is MD5-CRYPT, or PLAIN-MD5 for other values ---- */

static const struct password_scheme *password_scheme_find(const char *name);

static int md5_verify(const struct password_scheme *s, const char *plaintext,
		      const unsigned char *raw, size_t size, const char **error_r)
{
	if (size >= 3 && memcmp(raw, "$1$", 3) == 0)
		return crypt_verify(s, plaintext, raw, size, error_r);

	buffer_t *digest = buffer_create(t_pool(), 16);
	if (size != 32 || hex_decode((const char *)raw, size, digest) < 0) {
		*error_r = "malformed MD5 hash: neither MD5-CRYPT nor hex MD5";
		return -1;
	}
	return digest_verify(password_scheme_find("PLAIN-MD5"), plaintext,
			     digest->data, digest->used, error_r);
}

#define CRYPT_SCHEME(name_, prefix_) \
	{ .name = name_, .encoding = PW_ENCODING_NONE, .arg = prefix_, \
	  .verify = crypt_verify, .generate = crypt_generate }
#define DIGEST_SCHEME(name_, enc_, md_, size_) \
	{ .name = name_, .encoding = enc_, .raw_size = size_, .arg = md_, \
	  .verify = digest_verify, .generate = digest_generate }
#define SALTED_SCHEME(name_, md_) \
	{ .name = name_, .encoding = PW_ENCODING_BASE64, .arg = md_, \
	  .verify = salted_verify, .generate = salted_generate }

static const struct password_scheme password_schemes[] = {
	{ .name = "PLAIN", .verify = plain_verify, .generate = plain_generate },
	{ .name = "CLEARTEXT", .verify = plain_verify, .generate = plain_generate },
	CRYPT_SCHEME("CRYPT", NULL),
	CRYPT_SCHEME("YESCRYPT", "$y$"),
	CRYPT_SCHEME("BLF-CRYPT", "$2y$"),
	CRYPT_SCHEME("SHA512-CRYPT", "$6$"),
	CRYPT_SCHEME("SHA256-CRYPT", "$5$"),
	CRYPT_SCHEME("MD5-CRYPT", "$1$"),
	{ .name = "MD5", .arg = "$1$", .verify = md5_verify,
	  .generate = crypt_generate },
	DIGEST_SCHEME("SHA", PW_ENCODING_BASE64, "SHA1", 20),
	DIGEST_SCHEME("SHA1", PW_ENCODING_BASE64, "SHA1", 20),
	DIGEST_SCHEME("SHA256", PW_ENCODING_BASE64, "SHA256", 32),
	DIGEST_SCHEME("SHA512", PW_ENCODING_BASE64, "SHA512", 64),
	DIGEST_SCHEME("PLAIN-MD5", PW_ENCODING_HEX, "MD5", 16),
	DIGEST_SCHEME("LDAP-MD5", PW_ENCODING_BASE64, "MD5", 16),
	SALTED_SCHEME("SSHA", "SHA1"),
	SALTED_SCHEME("SSHA256", "SHA256"),
	SALTED_SCHEME("SSHA512", "SHA512"),
	SALTED_SCHEME("SMD5", "MD5"),
	{ .name = "PBKDF2", .verify = pbkdf2_verify, .generate = pbkdf2_generate },
};

static const struct password_scheme *password_scheme_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(password_schemes); i++) {
		if (strcasecmp(password_schemes[i].name, name) == 0)
			return &password_schemes[i];
	}
	return NULL;
}

/* Looks up "NAME[.ENCODING]". *explicit_r tells whether a suffix chose the
   encoding. */
static const struct password_scheme *
password_scheme_lookup(const char *name, enum password_encoding *encoding_r,
		       bool *explicit_r)
{
	const char *dot = strchr(name, '.');
	const struct password_scheme *s;

	*explicit_r = dot != NULL;
	s = password_scheme_find(dot == NULL ? name :
				 t_strndup(name, (size_t)(dot - name)));
	if (s == NULL)
		return NULL;
	*encoding_r = s->encoding;
	if (dot == NULL)
		return s;
	if (strcasecmp(dot + 1, "b64") == 0 || strcasecmp(dot + 1, "base64") == 0)
		*encoding_r = PW_ENCODING_BASE64;
	else if (strcasecmp(dot + 1, "hex") == 0)
		*encoding_r = PW_ENCODING_HEX;
	else
		return NULL;
	return s;
}

static int password_decode(const struct password_scheme *s,
			   enum password_encoding encoding, bool explicit_enc,
			   const char *value, buffer_t *raw, const char **error_r)
{
	size_t len = strlen(value);
	bool guessed = false;

	if (encoding != PW_ENCODING_NONE && s->raw_size != 0 && !explicit_enc) {
		/* unsalted digests are stored hex or base64: their lengths
		   never collide for the sizes we know */
		encoding = len == s->raw_size * 2 ? PW_ENCODING_HEX :
			PW_ENCODING_BASE64;
		guessed = true;
	}
	switch (encoding) {
	case PW_ENCODING_NONE:
		buffer_append(raw, value, len);
		break;
	case PW_ENCODING_HEX:
		if (hex_decode(value, len, raw) == 0)
			break;
		if (!guessed) {
			*error_r = t_strdup_printf("malformed %s hash: invalid hex", s->name);
			return -1;
		}
		/* it may be base64 of the same length after all */
		buffer_clear(raw);
		/* fall through */
	case PW_ENCODING_BASE64:
		if (base64_decode(value, len, raw) < 0) {
			*error_r = t_strdup_printf("malformed %s hash: invalid base64",
						   s->name);
			return -1;
		}
		break;
	}
	if (s->raw_size != 0 && raw->used != s->raw_size) {
		*error_r = t_strdup_printf("malformed %s hash: %zu bytes instead of %zu",
					   s->name, raw->used, s->raw_size);
		return -1;
	}
	return 0;
}

/* Splits "{SCHEME}value"; a value without a scheme prefix is a crypt(3)
   hash. */
static const char *password_split_scheme(const char *stored, const char **value_r)
{
	const char *end;

	if (stored[0] != '{' || (end = strchr(stored, '}')) == NULL) {
		*value_r = stored;
		return "CRYPT";
	}
	*value_r = end + 1;
	return t_strndup(stored + 1, (size_t)(end - stored - 1));
}

int password_get_plaintext(const char *stored, const char **plaintext_r)
{
	static const char *const prefixes[] = { "{PLAIN}", "{CLEARTEXT}" };
	for (unsigned int i = 0; i < N_ELEMENTS(prefixes); i++) {
		size_t len = strlen(prefixes[i]);
		if (strncasecmp(stored, prefixes[i], len) == 0) {
			*plaintext_r = stored + len;
			return 1;
		}
	}
	return 0;
}

int password_verify(const char *plaintext, const char *stored, const char *user,
		    const char **error_r)
{
	const struct password_scheme *s;
	enum password_encoding encoding;
	const char *name, *value;
	bool explicit_enc;

	*error_r = NULL;
	if (stored == NULL || stored[0] == '\0')
		return 0;
	name = password_split_scheme(stored, &value);
	if (password_sasl_scheme_is_known(name))
		return password_sasl_verify(name, plaintext, value, error_r);
	if (strlen(name) > PASSWORD_SCHEME_NAME_MAX ||
	    (s = password_scheme_lookup(name, &encoding, &explicit_enc)) == NULL) {
		*error_r = t_strdup_printf("unknown password scheme '%s'",
					   t_strndup(name, I_MIN(strlen(name),
						PASSWORD_SCHEME_NAME_MAX)));
		return -1;
	}
	buffer_t *raw = buffer_create(t_pool(), strlen(value) + 1);
	if (password_decode(s, encoding, explicit_enc, value, raw, error_r) < 0)
		return -1;
	int ret = s->verify(s, plaintext, raw->data, raw->used, error_r);
	explicit_bzero(raw->data, raw->alloc);
	return ret;
}

static const char *password_scheme_canonical(const struct password_scheme *s,
					     const char *requested)
{
	const char *dot = strchr(requested, '.');
	if (dot == NULL)
		return s->name;
	const char *suffix = strcasecmp(dot + 1, "hex") == 0 ? "HEX" : "B64";
	return t_strdup_printf("%s.%s", s->name, suffix);
}

int password_generate(const char *plaintext, const char *scheme, pool_t pool,
		      const char **hash_r, const char **error_r)
{
	const struct password_scheme *s;
	enum password_encoding encoding;
	bool explicit_enc;

	*error_r = NULL;
	if (password_sasl_scheme_is_known(scheme))
		return password_sasl_generate(scheme, plaintext, 0, pool, hash_r, error_r);
	if (strlen(scheme) > PASSWORD_SCHEME_NAME_MAX ||
	    (s = password_scheme_lookup(scheme, &encoding, &explicit_enc)) == NULL) {
		*error_r = t_strdup_printf("unknown password scheme '%s'", scheme);
		return -1;
	}
	if (s->generate == NULL) {
		*error_r = t_strdup_printf("scheme %s can only verify", s->name);
		return -1;
	}
	buffer_t *raw = buffer_create(t_pool(), 128);
	if (s->generate(s, plaintext, raw, error_r) < 0)
		return -1;

	string_t *str = t_str_new(256);
	str_printfa(str, "{%s}", password_scheme_canonical(s, scheme));
	switch (encoding) {
	case PW_ENCODING_NONE:
		str_append_n(str, raw->data, raw->used);
		break;
	case PW_ENCODING_BASE64:
		base64_encode(raw->data, raw->used, str);
		break;
	case PW_ENCODING_HEX:
		hex_encode(raw->data, raw->used, str);
		break;
	}
	*hash_r = p_strndup(pool, str_data(str), str_len(str));
	explicit_bzero(raw->data, raw->alloc);
	return 0;
}

const char *const *password_schemes_list(void)
{
	static const char *names[N_ELEMENTS(password_schemes) + 4];

	if (names[0] == NULL) {
		size_t n = 0;
		for (size_t i = 0; i < N_ELEMENTS(password_schemes); i++)
			names[n++] = password_schemes[i].name;
		for (size_t i = 0; password_sasl_schemes[i] != NULL; i++)
			names[n++] = password_sasl_schemes[i];
	}
	return names;
}

bool password_scheme_is_known(const char *scheme)
{
	enum password_encoding encoding;
	bool explicit_enc;

	if (password_sasl_scheme_is_known(scheme))
		return true;
	return strlen(scheme) <= PASSWORD_SCHEME_NAME_MAX &&
		password_scheme_lookup(scheme, &encoding, &explicit_enc) != NULL;
}
