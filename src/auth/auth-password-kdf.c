/* Slow password schemes: the crypt(3) families through libxcrypt, PBKDF2
 * in Dovecot's format, and ARGON2I/ARGON2ID through libargon2; with the
 * cost limits of auth-password.h checked before any hash is computed. */
#include "auth-password-private.h"
#include "strnum.h"

#include <argon2.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* libxcrypt's bcrypt default cost is 5, which is too cheap today. */
#define BCRYPT_COST_DEFAULT 10
#define BCRYPT_COST_MIN 4
#define CRYPT_SALT_RANDOM_BYTES 16

#define PBKDF2_KEY_LEN 20
#define PBKDF2_SALT_LEN 16
/* Dovecot's own default is 5000; more rounds cost nothing in compatibility. */
#define PBKDF2_ROUNDS_DEFAULT 100000

/* What `doveadm pw -s ARGON2I/ARGON2ID` writes (libsodium's interactive
   limits), so hashes look the same whichever server made them. */
#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
#define ARGON2I_MEMORY_KIB 32768
#define ARGON2I_PASSES 4
#define ARGON2ID_MEMORY_KIB 65536
#define ARGON2ID_PASSES 3

static const char salt_chars[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---- cost limits of crypt(3) settings ---- */

/* Parses decimal digits at *p, saturating instead of overflowing. */
static uint64_t cost_parse_decimal(const char **p)
{
	uint64_t n = 0;
	const char *s = *p;

	for (; *s >= '0' && *s <= '9'; s++)
		n = n > UINT32_MAX ? n : n * 10 + (uint64_t)(*s - '0');
	*p = s;
	return n;
}

static int cost_check_max(const char *what, uint64_t value, uint64_t max,
			  const char **error_r)
{
	if (value <= max)
		return 0;
	*error_r = t_strdup_printf("%s %llu is over the limit of %llu "
				   "(refused to spare the CPU)", what,
				   (unsigned long long)value,
				   (unsigned long long)max);
	return -1;
}

/* The crypt(3) base-64 alphabet's value of c, or 64. */
static unsigned int crypt_b64_value(char c)
{
	const char *p = c == '\0' ? NULL : strchr(salt_chars, c);
	return p == NULL ? 64 : (unsigned int)(p - salt_chars);
}

/* yescrypt's variable-length integers: the first character's value picks
   how many characters follow (values 0-47 stand alone; each higher range
   of first characters adds one more six-bit digit). Returns -1 on a
   character outside the alphabet. */
static int yescrypt_decode_uint(const char **p, uint32_t min, uint64_t *value_r)
{
	unsigned int c = crypt_b64_value(**p);
	uint64_t value = min, start = 0, end = 47, digits = 0;

	if (c > 63)
		return -1;
	(*p)++;
	while (c > end) {
		value += (end + 1 - start) << (6 * digits);
		start = end + 1;
		end = start + (62 - end) / 2;
		digits++;
	}
	value += (c - start) << (6 * digits);
	while (digits-- > 0) {
		c = crypt_b64_value(**p);
		if (c > 63)
			return -1;
		(*p)++;
		value += (uint64_t)c << (6 * digits);
	}
	*value_r = value;
	return 0;
}

/* Memory 128*2^n_log2*r bytes, times p*(t+1) passes, against the limits. */
static int cost_check_memory_hard(uint64_t n_log2, uint64_t r, uint64_t p,
				  uint64_t t, const char **error_r)
{
	uint64_t kib, work;

	/* 2^n_log2 * r * 128 / 1024 without overflowing */
	if (n_log2 > 40 || r > UINT32_MAX || p > UINT32_MAX || t > UINT32_MAX ||
	    __builtin_mul_overflow((uint64_t)1 << n_log2, r, &kib))
		kib = UINT64_MAX;
	else
		kib /= 8;
	if (cost_check_max("memory cost (KiB)", kib,
			   PASSWORD_MEMORY_MAX_KIB, error_r) < 0)
		return -1;
	if (__builtin_mul_overflow(kib, p == 0 ? 1 : p, &work) ||
	    __builtin_mul_overflow(work, t + 1, &work))
		work = UINT64_MAX;
	return cost_check_max("work (KiB touched)", work,
			      PASSWORD_WORK_MAX_KIB, error_r);
}

/* p points after "$y$" (or "$gy$", "$sm3y$"). */
static int cost_check_yescrypt(const char *p, const char **error_r)
{
	uint64_t flavor, n_log2, r, have = 0, lanes = 1, t = 0, unused;

	if (yescrypt_decode_uint(&p, 0, &flavor) < 0 ||
	    yescrypt_decode_uint(&p, 1, &n_log2) < 0 ||
	    yescrypt_decode_uint(&p, 1, &r) < 0)
		return 0; /* malformed: crypt(3) says so without any work */
	if (*p != '$' && yescrypt_decode_uint(&p, 1, &have) < 0)
		return 0;
	if ((have & 1) != 0 && yescrypt_decode_uint(&p, 2, &lanes) < 0)
		return 0;
	if ((have & 2) != 0 && yescrypt_decode_uint(&p, 1, &t) < 0)
		return 0;
	if ((have & 4) != 0 && yescrypt_decode_uint(&p, 1, &unused) < 0)
		return 0;
	if ((have & 8) != 0) {
		/* a ROM: libxcrypt refuses those for crypt(3) anyway */
		*error_r = "yescrypt hashes with a ROM are not supported";
		return -1;
	}
	return cost_check_memory_hard(n_log2, r, lanes, t, error_r);
}

/* p points after "$7$": N as one character, r and p as five each. */
static int cost_check_scrypt(const char *p, const char **error_r)
{
	uint64_t n_log2 = crypt_b64_value(p[0]), fields[2] = { 0, 0 };

	if (n_log2 > 63)
		return 0;
	p++;
	for (unsigned int f = 0; f < 2; f++) {
		for (unsigned int i = 0; i < 5; i++, p++) {
			unsigned int c = crypt_b64_value(*p);
			if (c > 63)
				return 0;
			fields[f] |= (uint64_t)c << (6 * i);
		}
	}
	return cost_check_memory_hard(n_log2, fields[0], fields[1], 0, error_r);
}

/* Refuses settings whose cost is over the limits. Settings this doesn't
   understand are left to crypt(3), whose other methods have fixed costs. */
static int crypt_cost_check(const char *setting, const char **error_r)
{
	const char *p = setting;

	if (setting[0] == '$' && setting[1] == '2' && setting[2] != '\0' &&
	    setting[3] == '$') {
		p = setting + 4;
		return cost_check_max("bcrypt cost", cost_parse_decimal(&p),
				      PASSWORD_BCRYPT_COST_MAX, error_r);
	}
	if ((strncmp(setting, "$5$rounds=", 10) == 0 ||
	     strncmp(setting, "$6$rounds=", 10) == 0)) {
		p = setting + 10;
		return cost_check_max("SHA-crypt rounds", cost_parse_decimal(&p),
				      PASSWORD_SHA_CRYPT_ROUNDS_MAX, error_r);
	}
	if (strncmp(setting, "$sha1$", 6) == 0) {
		p = setting + 6;
		return cost_check_max("sha1crypt rounds", cost_parse_decimal(&p),
				      PASSWORD_SHA1_CRYPT_ROUNDS_MAX, error_r);
	}
	if (strncmp(setting, "$md5,rounds=", 12) == 0 ||
	    strncmp(setting, "$md5$rounds=", 12) == 0) {
		p = setting + 12;
		return cost_check_max("SunMD5 rounds", cost_parse_decimal(&p),
				      PASSWORD_SUN_MD5_ROUNDS_MAX, error_r);
	}
	if (strncmp(setting, "$y$", 3) == 0)
		return cost_check_yescrypt(setting + 3, error_r);
	if (strncmp(setting, "$gy$", 4) == 0)
		return cost_check_yescrypt(setting + 4, error_r);
	if (strncmp(setting, "$sm3y$", 6) == 0)
		return cost_check_yescrypt(setting + 6, error_r);
	if (strncmp(setting, "$7$", 3) == 0)
		return cost_check_scrypt(setting + 3, error_r);
	return 0;
}

/* ---- crypt(3) ---- */

/* Returns the hash of plaintext with setting, from the data stack. */
static int crypt_run(const struct password_scheme *s, const char *plaintext,
		     const char *setting, const char **out_r,
		     const char **error_r)
{
	struct crypt_data *data = i_zalloc(sizeof(*data));
	const char *out = crypt_rn(plaintext, setting, data, sizeof(*data));
	int ret = 0;

	/* libxcrypt fails with a "*"-prefixed token for bad settings */
	if (out == NULL || out[0] == '*') {
		*error_r = t_strdup_printf("malformed or unsupported %s hash",
					   s->name);
		ret = -1;
	} else {
		*out_r = t_strdup(out);
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ret;
}

static int crypt_verify(const struct password_scheme *s, const char *plaintext,
			const char *user, const unsigned char *raw, size_t size,
			const char **error_r)
{
	const char *setting, *out;

	if (size == 0)
		return 0;
	setting = t_strndup(raw, size);
	if (strlen(setting) != size) {
		*error_r = t_strdup_printf("malformed %s hash: NUL byte", s->name);
		return -1;
	}
	if (crypt_cost_check(setting, error_r) < 0 ||
	    crypt_run(s, plaintext, setting, &out, error_r) < 0)
		return -1;
	return password_mem_equal(out, strlen(out), setting, size) ? 1 : 0;
}

static unsigned long crypt_gensalt_count(const struct password_scheme *s,
					 unsigned int rounds)
{
	if (rounds != 0)
		return rounds;
	/* for the others 0 picks libxcrypt's default */
	return s->arg != NULL && strcmp(s->arg, "$2y$") == 0 ?
		BCRYPT_COST_DEFAULT : 0;
}

static int crypt_generate(const struct password_scheme *s, const char *plaintext,
			  const struct password_generate_params *params,
			  buffer_t *raw, const char **error_r)
{
	unsigned char rbytes[CRYPT_SALT_RANDOM_BYTES];
	unsigned long count = crypt_gensalt_count(s, params->rounds);
	const char *out;

	password_random_fill(rbytes, sizeof(rbytes));
	char *setting = crypt_gensalt_ra(s->arg, count, (const char *)rbytes,
					 sizeof(rbytes));
	if (setting == NULL) {
		*error_r = t_strdup_printf("crypt_gensalt(%s, %lu) failed: %s",
					   s->name, count, strerror(errno));
		return -1;
	}
	int ret = crypt_cost_check(setting, error_r) < 0 ||
		crypt_run(s, plaintext, setting, &out, error_r) < 0 ? -1 : 0;
	if (ret == 0)
		buffer_append(raw, out, strlen(out));
	free(setting);
	return ret;
}

/* Dovecot's {MD5} is MD5-CRYPT, but PLAIN-MD5 for hex values. */
static int md5_verify(const struct password_scheme *s, const char *plaintext,
		      const char *user, const unsigned char *raw, size_t size,
		      const char **error_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t digest_size;

	if (size >= 3 && memcmp(raw, "$1$", 3) == 0)
		return crypt_verify(s, plaintext, user, raw, size, error_r);

	buffer_t *expected = buffer_create(t_pool(), 16);
	if (size != 32 || password_hex_decode((const char *)raw, size,
					      expected) < 0) {
		*error_r = "malformed MD5 hash: neither MD5-CRYPT nor hex MD5";
		return -1;
	}
	if (password_digest("MD5", plaintext, strlen(plaintext), NULL, 0,
			    digest, &digest_size, error_r) < 0)
		return -1;
	return password_mem_equal(digest, digest_size, expected->data,
				  expected->used) ? 1 : 0;
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
			uint64_t *rounds_r, buffer_t *key)
{
	if (strncmp(stored, "$1$", 3) != 0)
		return -1;
	const char *salt = stored + 3;
	const char *p = strchr(salt, '$');
	if (p == NULL)
		return -1;
	const char *rounds_str = p + 1;
	*rounds_r = cost_parse_decimal(&rounds_str);
	if (rounds_str == p + 1 || *rounds_str != '$' || *rounds_r == 0)
		return -1;
	const char *hex = rounds_str + 1;
	if (strlen(hex) != PBKDF2_KEY_LEN * 2 ||
	    password_hex_decode(hex, strlen(hex), key) < 0)
		return -1;
	*salt_r = t_strndup(salt, (size_t)(p - salt));
	return 0;
}

static int pbkdf2_verify(const struct password_scheme *s, const char *plaintext,
			 const char *user, const unsigned char *raw, size_t size,
			 const char **error_r)
{
	unsigned char key[PBKDF2_KEY_LEN];
	buffer_t *expected = buffer_create(t_pool(), PBKDF2_KEY_LEN);
	const char *salt;
	uint64_t rounds;

	if (pbkdf2_parse(t_strndup(raw, size), &salt, &rounds, expected) < 0) {
		*error_r = "malformed PBKDF2 hash: expected $1$<salt>$<rounds>$<40 hex digits>";
		return -1;
	}
	if (cost_check_max("PBKDF2 rounds", rounds,
			   PASSWORD_PBKDF2_ROUNDS_MAX, error_r) < 0 ||
	    pbkdf2_run(plaintext, salt, (unsigned int)rounds, key, error_r) < 0)
		return -1;
	return CRYPTO_memcmp(key, expected->data, sizeof(key)) == 0 ? 1 : 0;
}

static int pbkdf2_generate(const struct password_scheme *s, const char *plaintext,
			   const struct password_generate_params *params,
			   buffer_t *raw, const char **error_r)
{
	unsigned char rnd[PBKDF2_SALT_LEN], key[PBKDF2_KEY_LEN];
	char salt[PBKDF2_SALT_LEN + 1];
	unsigned int rounds = params->rounds != 0 ? params->rounds :
		PBKDF2_ROUNDS_DEFAULT;

	if (cost_check_max("PBKDF2 rounds", rounds,
			   PASSWORD_PBKDF2_ROUNDS_MAX, error_r) < 0)
		return -1;
	password_random_fill(rnd, sizeof(rnd));
	/* 64 characters: taking 6 bits of each byte keeps the salt uniform */
	for (size_t i = 0; i < PBKDF2_SALT_LEN; i++)
		salt[i] = salt_chars[rnd[i] & 0x3f];
	salt[PBKDF2_SALT_LEN] = '\0';
	if (pbkdf2_run(plaintext, salt, rounds, key, error_r) < 0)
		return -1;
	string_t *str = t_str_new(80);
	str_printfa(str, "$1$%s$%u$", salt, rounds);
	password_hex_encode(key, sizeof(key), str);
	buffer_append(raw, str_data(str), str_len(str));
	return 0;
}

/* ---- Argon2 (the PHC string format: $argon2id$v=19$m=..,t=..,p=..$salt$hash) ---- */

static int argon2_parse_type(const char *encoded, argon2_type *type_r,
			     const char **params_r)
{
	if (strncmp(encoded, "$argon2id$", 10) == 0) {
		*type_r = Argon2_id;
		*params_r = encoded + 10;
	} else if (strncmp(encoded, "$argon2i$", 9) == 0) {
		*type_r = Argon2_i;
		*params_r = encoded + 9;
	} else {
		return -1;
	}
	return 0;
}

/* Reads "name=<decimal><sep>" at *p. */
static int argon2_parse_param(const char **p, const char *name, char sep,
			      uint64_t *value_r)
{
	size_t len = strlen(name);
	const char *s = *p;

	if (strncmp(s, name, len) != 0 || s[len] != '=')
		return -1;
	s += len + 1;
	const char *digits = s;
	*value_r = cost_parse_decimal(&s);
	if (s == digits || *s != sep)
		return -1;
	*p = s + 1;
	return 0;
}

static int argon2_cost_check(const char *params, const char **error_r)
{
	uint64_t version, m, t, p, work;
	const char *s = params;

	/* the version field is absent in Argon2 1.0 hashes */
	if (strncmp(s, "v=", 2) == 0 &&
	    argon2_parse_param(&s, "v", '$', &version) < 0)
		return -1;
	if (argon2_parse_param(&s, "m", ',', &m) < 0 ||
	    argon2_parse_param(&s, "t", ',', &t) < 0 ||
	    argon2_parse_param(&s, "p", '$', &p) < 0)
		return -1;
	if (__builtin_mul_overflow(m, t, &work))
		work = UINT64_MAX;
	if (cost_check_max("argon2 memory (m, KiB)", m,
			   PASSWORD_MEMORY_MAX_KIB, error_r) < 0 ||
	    cost_check_max("argon2 work (m*t, KiB)", work,
			   PASSWORD_WORK_MAX_KIB, error_r) < 0 ||
	    cost_check_max("argon2 lanes (p)", p,
			   PASSWORD_ARGON2_LANES_MAX, error_r) < 0)
		return -2;
	return 0;
}

static int argon2_scheme_verify(const struct password_scheme *s,
				const char *plaintext, const char *user,
				const unsigned char *raw, size_t size,
				const char **error_r)
{
	const char *encoded = t_strndup(raw, size), *params;
	argon2_type type;
	int ret;

	/* like Dovecot (libsodium), either scheme name takes either type */
	if (argon2_parse_type(encoded, &type, &params) < 0 ||
	    (ret = argon2_cost_check(params, error_r)) == -1) {
		*error_r = t_strdup_printf("malformed %s hash: expected "
			"$argon2i[d]$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>",
			s->name);
		return -1;
	}
	if (ret < 0)
		return -1;
	ret = argon2_verify(encoded, plaintext, strlen(plaintext), type);
	if (ret == ARGON2_OK)
		return 1;
	if (ret == ARGON2_VERIFY_MISMATCH)
		return 0;
	*error_r = t_strdup_printf("malformed %s hash: %s", s->name,
				   argon2_error_message(ret));
	return -1;
}

static int argon2_scheme_generate(const struct password_scheme *s,
				  const char *plaintext,
				  const struct password_generate_params *params,
				  buffer_t *raw, const char **error_r)
{
	bool id = strcmp(s->arg, "id") == 0;
	argon2_type type = id ? Argon2_id : Argon2_i;
	uint32_t m = id ? ARGON2ID_MEMORY_KIB : ARGON2I_MEMORY_KIB;
	uint32_t t = params->rounds != 0 ? params->rounds :
		(id ? ARGON2ID_PASSES : ARGON2I_PASSES);
	unsigned char salt[ARGON2_SALT_LEN];

	if (cost_check_max("argon2 work (m*t, KiB)", (uint64_t)m * t,
			   PASSWORD_WORK_MAX_KIB, error_r) < 0)
		return -1;
	password_random_fill(salt, sizeof(salt));
	size_t len = argon2_encodedlen(t, m, 1, sizeof(salt), ARGON2_HASH_LEN,
				       type) + 1;
	char *encoded = t_malloc(len);
	int ret = argon2_hash(t, m, 1, plaintext, strlen(plaintext),
			      salt, sizeof(salt), NULL, ARGON2_HASH_LEN,
			      encoded, len, type, ARGON2_VERSION_13);
	if (ret != ARGON2_OK) {
		*error_r = t_strdup_printf("argon2 failed: %s",
					   argon2_error_message(ret));
		return -1;
	}
	buffer_append(raw, encoded, strlen(encoded));
	return 0;
}

#define CRYPT_SCHEME(name_, prefix_) \
	{ .name = name_, .encoding = PW_ENCODING_NONE, .arg = prefix_, \
	  .verify = crypt_verify, .generate = crypt_generate }

const struct password_scheme password_schemes_kdf[] = {
	CRYPT_SCHEME("CRYPT", NULL),
	CRYPT_SCHEME("YESCRYPT", "$y$"),
	CRYPT_SCHEME("BLF-CRYPT", "$2y$"),
	CRYPT_SCHEME("SHA512-CRYPT", "$6$"),
	CRYPT_SCHEME("SHA256-CRYPT", "$5$"),
	CRYPT_SCHEME("MD5-CRYPT", "$1$"),
	/* traditional DES: libxcrypt's prefix for it is empty */
	CRYPT_SCHEME("DES-CRYPT", ""),
	{ .name = "MD5", .arg = "$1$", .verify = md5_verify,
	  .generate = crypt_generate },
	{ .name = "PBKDF2", .verify = pbkdf2_verify, .generate = pbkdf2_generate },
	{ .name = "ARGON2I", .arg = "i", .verify = argon2_scheme_verify,
	  .generate = argon2_scheme_generate },
	{ .name = "ARGON2ID", .arg = "id", .verify = argon2_scheme_verify,
	  .generate = argon2_scheme_generate },
	{ .name = NULL },
};
