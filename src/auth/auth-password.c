/* Password schemes in Dovecot's "{SCHEME}" notation: the registry of scheme
 * sets, the ".HEX"/".B64" encodings, and the fast schemes (cleartext, plain
 * and salted digests, DIGEST-MD5). The slow ones are in auth-password-kdf.c.
 * Digests are compared in constant time; salts come from RAND_bytes(). */
#include "auth-password-private.h"
#include "base64.h"

#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Longest "{SCHEME.ENCODING}" name we look up. */
#define PASSWORD_SCHEME_NAME_MAX 64
#define SALTED_DIGEST_SALT_LEN 8
#define PASSWORD_SCHEMES_MAX 64

static const struct password_generate_params password_default_params = {
	.user = NULL, .rounds = 0,
};

bool password_mem_equal(const void *a, size_t a_size, const void *b, size_t b_size)
{
	return a_size == b_size && CRYPTO_memcmp(a, b, a_size) == 0;
}

void password_random_fill(void *buf, size_t size)
{
	if (RAND_bytes(buf, (int)size) != 1)
		i_fatal("RAND_bytes() failed");
}

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

int password_hex_decode(const char *src, size_t len, buffer_t *dest)
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

void password_hex_encode(const void *data, size_t size, string_t *dest)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;

	for (size_t i = 0; i < size; i++) {
		str_append_c(dest, digits[p[i] >> 4]);
		str_append_c(dest, digits[p[i] & 0xf]);
	}
}

int password_digest(const char *md_name, const void *a, size_t a_size,
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

/* ---- cleartext ---- */

static int plain_verify(const struct password_scheme *s, const char *plaintext,
			const char *user, const unsigned char *raw, size_t size,
			const char **error_r)
{
	return password_mem_equal(plaintext, strlen(plaintext), raw, size) ? 1 : 0;
}

static int plain_generate(const struct password_scheme *s, const char *plaintext,
			  const struct password_generate_params *params,
			  buffer_t *raw, const char **error_r)
{
	buffer_append(raw, plaintext, strlen(plaintext));
	return 0;
}

/* "<length>-<password>": a password that some system truncated to length
   bytes when it was stored. A plaintext at least that long matches by its
   prefix; otherwise it must match exactly. */
static int plain_trunc_verify(const struct password_scheme *s,
			      const char *plaintext, const char *user,
			      const unsigned char *raw, size_t size,
			      const char **error_r)
{
	size_t i = 0, trunc_len = 0, plain_len = strlen(plaintext);

	for (; i < size && raw[i] >= '0' && raw[i] <= '9' && trunc_len < 1000000; i++)
		trunc_len = trunc_len * 10 + (size_t)(raw[i] - '0');
	if (i == 0 || i == size || raw[i] != '-') {
		*error_r = "malformed PLAIN-TRUNC value: expected <length>-<password>";
		return -1;
	}
	raw += i + 1;
	size -= i + 1;
	if (size == trunc_len && plain_len >= trunc_len)
		plain_len = trunc_len;
	return password_mem_equal(plaintext, plain_len, raw, size) ? 1 : 0;
}

/* ---- digests ---- */

static int digest_verify(const struct password_scheme *s, const char *plaintext,
			 const char *user, const unsigned char *raw, size_t size,
			 const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (password_digest(s->arg, plaintext, strlen(plaintext), NULL, 0,
			    digest, &digest_size, error_r) < 0)
		return -1;
	return password_mem_equal(digest, digest_size, raw, size) ? 1 : 0;
}

static int digest_generate(const struct password_scheme *s, const char *plaintext,
			   const struct password_generate_params *params,
			   buffer_t *raw, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (password_digest(s->arg, plaintext, strlen(plaintext), NULL, 0,
			    digest, &digest_size, error_r) < 0)
		return -1;
	buffer_append(raw, digest, digest_size);
	return 0;
}

/* Salted digests are <digest(plaintext || salt)><salt>, with a salt of any
   length (Dovecot writes 4 bytes, OpenLDAP 4 or 8, others more). */
static int salted_verify(const struct password_scheme *s, const char *plaintext,
			 const char *user, const unsigned char *raw, size_t size,
			 const char **error_r)
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
	if (password_digest(s->arg, plaintext, strlen(plaintext),
			    raw + digest_size, size - digest_size,
			    digest, &digest_size, error_r) < 0)
		return -1;
	return CRYPTO_memcmp(digest, raw, digest_size) == 0 ? 1 : 0;
}

static int salted_generate(const struct password_scheme *s, const char *plaintext,
			   const struct password_generate_params *params,
			   buffer_t *raw, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE], salt[SALTED_DIGEST_SALT_LEN];
	size_t digest_size;

	password_random_fill(salt, sizeof(salt));
	if (password_digest(s->arg, plaintext, strlen(plaintext), salt,
			    sizeof(salt), digest, &digest_size, error_r) < 0)
		return -1;
	buffer_append(raw, digest, digest_size);
	buffer_append(raw, salt, sizeof(salt));
	return 0;
}

/* DIGEST-MD5 (RFC 2831 §3.9) stores MD5("user:realm:password"); as in
   Dovecot the realm is the domain of a user@domain login, else empty. */
static int digest_md5_run(const char *plaintext, const char *user,
			  unsigned char *digest, size_t *digest_size_r,
			  const char **error_r)
{
	if (user == NULL) {
		*error_r = "DIGEST-MD5 needs the user name";
		return -1;
	}
	const char *at = strrchr(user, '@');
	const char *input = at == NULL ?
		t_strdup_printf("%s::%s", user, plaintext) :
		t_strdup_printf("%s:%s:%s", t_strndup(user, (size_t)(at - user)),
				at + 1, plaintext);
	int ret = password_digest("MD5", input, strlen(input), NULL, 0,
				  digest, digest_size_r, error_r);
	explicit_bzero((char *)input, strlen(input));
	return ret;
}

static int digest_md5_verify(const struct password_scheme *s,
			     const char *plaintext, const char *user,
			     const unsigned char *raw, size_t size,
			     const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (digest_md5_run(plaintext, user, digest, &digest_size, error_r) < 0)
		return -1;
	return password_mem_equal(digest, digest_size, raw, size) ? 1 : 0;
}

static int digest_md5_generate(const struct password_scheme *s,
			       const char *plaintext,
			       const struct password_generate_params *params,
			       buffer_t *raw, const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (digest_md5_run(plaintext, params->user, digest, &digest_size,
			   error_r) < 0)
		return -1;
	buffer_append(raw, digest, digest_size);
	return 0;
}

#define PLAIN_SCHEME(name_) \
	{ .name = name_, .verify = plain_verify, .generate = plain_generate }
#define DIGEST_SCHEME(name_, enc_, md_, size_) \
	{ .name = name_, .encoding = enc_, .raw_size = size_, .arg = md_, \
	  .verify = digest_verify, .generate = digest_generate }
#define SALTED_SCHEME(name_, md_) \
	{ .name = name_, .encoding = PW_ENCODING_BASE64, .arg = md_, \
	  .verify = salted_verify, .generate = salted_generate }

static const struct password_scheme password_schemes_builtin[] = {
	PLAIN_SCHEME("PLAIN"),
	PLAIN_SCHEME("CLEARTEXT"),
	PLAIN_SCHEME("CLEAR"),
	{ .name = "PLAIN-TRUNC", .verify = plain_trunc_verify },
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
	{ .name = "DIGEST-MD5", .encoding = PW_ENCODING_HEX, .raw_size = 16,
	  .verify = digest_md5_verify, .generate = digest_md5_generate },
	{ .name = NULL },
};

/* ---- the registry ---- */

/* Every scheme set; the first match of a name wins. */
static const struct password_scheme *const password_scheme_sets[] = {
	password_schemes_builtin,
	password_schemes_kdf,
	password_schemes_sasl,
};

static const struct password_scheme *password_scheme_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(password_scheme_sets); i++) {
		const struct password_scheme *s = password_scheme_sets[i];
		for (; s->name != NULL; s++) {
			if (strcasecmp(s->name, name) == 0)
				return s;
		}
	}
	return NULL;
}

/* Looks up "NAME[.ENCODING]". *explicit_r tells whether a suffix chose the
   encoding. */
static const struct password_scheme *
password_scheme_lookup(const char *name, enum password_encoding *encoding_r,
		       bool *explicit_r)
{
	const char *dot;
	const struct password_scheme *s;

	if (strlen(name) > PASSWORD_SCHEME_NAME_MAX)
		return NULL;
	dot = strchr(name, '.');
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

static int password_decode_value(const struct password_scheme *s,
				 enum password_encoding encoding,
				 bool explicit_enc, const char *value,
				 buffer_t *raw, const char **error_r)
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
		if (password_hex_decode(value, len, raw) == 0)
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

/* Decodes stored into raw (from the data stack). */
static const struct password_scheme *
password_decode_stored(const char *stored, buffer_t **raw_r,
		       const char **error_r)
{
	const struct password_scheme *s;
	enum password_encoding encoding;
	const char *name, *value;
	bool explicit_enc;

	name = password_split_scheme(stored, &value);
	s = password_scheme_lookup(name, &encoding, &explicit_enc);
	if (s == NULL) {
		*error_r = t_strdup_printf("unknown password scheme '%s'",
			t_strndup(name, I_MIN(strlen(name), PASSWORD_SCHEME_NAME_MAX)));
		return NULL;
	}
	*raw_r = buffer_create(t_pool(), strlen(value) + 1);
	if (password_decode_value(s, encoding, explicit_enc, value, *raw_r,
				  error_r) < 0) {
		explicit_bzero((*raw_r)->data, (*raw_r)->alloc);
		return NULL;
	}
	return s;
}

int password_get_plaintext(const char *stored, const char **plaintext_r)
{
	static const char *const prefixes[] = { "{PLAIN}", "{CLEARTEXT}", "{CLEAR}" };
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
	buffer_t *raw;

	*error_r = NULL;
	if (stored == NULL || stored[0] == '\0')
		return 0;
	if ((s = password_decode_stored(stored, &raw, error_r)) == NULL)
		return -1;
	int ret = s->verify(s, plaintext, user, raw->data, raw->used, error_r);
	explicit_bzero(raw->data, raw->alloc);
	return ret;
}

int password_decode(const char *stored, pool_t pool, const char **scheme_r,
		    const unsigned char **raw_r, size_t *size_r,
		    const char **error_r)
{
	const struct password_scheme *s;
	buffer_t *raw;

	*error_r = NULL;
	if ((s = password_decode_stored(stored, &raw, error_r)) == NULL)
		return -1;
	*scheme_r = s->name;
	unsigned char *copy = p_malloc(pool, raw->used + 1);
	memcpy(copy, raw->data, raw->used);
	copy[raw->used] = '\0';
	*raw_r = copy;
	*size_r = raw->used;
	explicit_bzero(raw->data, raw->alloc);
	return 1;
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

static void password_encode(enum password_encoding encoding,
			    const buffer_t *raw, string_t *dest)
{
	switch (encoding) {
	case PW_ENCODING_NONE:
		str_append_n(dest, raw->data, raw->used);
		break;
	case PW_ENCODING_BASE64:
		base64_encode(raw->data, raw->used, dest);
		break;
	case PW_ENCODING_HEX:
		password_hex_encode(raw->data, raw->used, dest);
		break;
	}
}

int password_generate_full(const char *plaintext, const char *scheme,
			   const struct password_generate_params *params,
			   pool_t pool, const char **hash_r,
			   const char **error_r)
{
	const struct password_scheme *s;
	enum password_encoding encoding;
	bool explicit_enc;

	*error_r = NULL;
	if ((s = password_scheme_lookup(scheme, &encoding, &explicit_enc)) == NULL) {
		*error_r = t_strdup_printf("unknown password scheme '%s'", scheme);
		return -1;
	}
	if (s->generate == NULL) {
		*error_r = t_strdup_printf("scheme %s can only verify", s->name);
		return -1;
	}
	buffer_t *raw = buffer_create(t_pool(), 128);
	if (s->generate(s, plaintext, params != NULL ? params :
			&password_default_params, raw, error_r) < 0) {
		explicit_bzero(raw->data, raw->alloc);
		return -1;
	}
	string_t *str = t_str_new(256);
	str_printfa(str, "{%s}", password_scheme_canonical(s, scheme));
	password_encode(encoding, raw, str);
	*hash_r = p_strndup(pool, str_data(str), str_len(str));
	explicit_bzero(raw->data, raw->alloc);
	explicit_bzero(str->data, str->alloc);
	return 0;
}

int password_generate(const char *plaintext, const char *scheme, pool_t pool,
		      const char **hash_r, const char **error_r)
{
	return password_generate_full(plaintext, scheme, NULL, pool, hash_r,
				      error_r);
}

const char *const *password_schemes_list(void)
{
	static const char *names[PASSWORD_SCHEMES_MAX + 1];
	unsigned int n = 0;

	if (names[0] != NULL)
		return names;
	for (size_t i = 0; i < N_ELEMENTS(password_scheme_sets); i++) {
		const struct password_scheme *s = password_scheme_sets[i];
		for (; s->name != NULL; s++) {
			i_assert(n < PASSWORD_SCHEMES_MAX);
			names[n++] = s->name;
		}
	}
	return names;
}

bool password_scheme_is_known(const char *scheme)
{
	enum password_encoding encoding;
	bool explicit_enc;

	return password_scheme_lookup(scheme, &encoding, &explicit_enc) != NULL;
}

bool password_scheme_can_generate(const char *scheme)
{
	enum password_encoding encoding;
	bool explicit_enc;
	const struct password_scheme *s =
		password_scheme_lookup(scheme, &encoding, &explicit_enc);

	return s != NULL && s->generate != NULL;
}
