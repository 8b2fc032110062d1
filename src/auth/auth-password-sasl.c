/* The SCRAM-SHA-1, SCRAM-SHA-256 (RFC 5802 §3, RFC 7677) and CRAM-MD5
 * (RFC 2195) password schemes in Dovecot's stored formats, and turning a
 * stored password into the credentials a SASL mechanism needs. */
#include "auth-password-sasl.h"
#include "auth-password-private.h"
#include "base64.h"
#include "buffer.h"
#include "strnum.h"

#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* The digest of a SCRAM scheme name, or NULL. */
static const char *password_scram_digest(const char *scheme)
{
	if (strcasecmp(scheme, "SCRAM-SHA-1") == 0)
		return "SHA1";
	if (strcasecmp(scheme, "SCRAM-SHA-256") == 0)
		return "SHA256";
	return NULL;
}

static bool password_is_cram_md5(const char *scheme)
{
	return strcasecmp(scheme, "CRAM-MD5") == 0 || strcasecmp(scheme, "CRAM-MD5.HEX") == 0;
}

/* One base64 field of exactly size bytes (or 1..max_size when size is 0). */
static int password_b64_field(const char *b64, unsigned char *out, size_t size,
			      size_t max_size, size_t *size_r)
{
	buffer_t *buf = buffer_create(t_pool(), strlen(b64));
	if (base64_decode(b64, strlen(b64), buf) < 0 || buf->used == 0 ||
	    (size != 0 && buf->used != size) || buf->used > max_size)
		return -1;
	memcpy(out, buf->data, buf->used);
	*size_r = buf->used;
	explicit_bzero(buf->data, buf->used);
	return 0;
}

/* "iter,salt,StoredKey,ServerKey" into c's SCRAM fields. */
static int password_scram_parse(const char *md, const char *value,
				struct sasl_credentials *c, const char **error_r)
{
	const char *fields[4], *p = value;
	size_t key_size, stored_size, server_size;

	for (unsigned int i = 0; i < 4; i++) {
		const char *comma = strchr(p, ',');
		if ((comma == NULL) != (i == 3))
			goto malformed;
		fields[i] = comma == NULL ? p : t_strndup(p, (size_t)(comma - p));
		p = comma == NULL ? NULL : comma + 1;
	}
	key_size = strcmp(md, "SHA1") == 0 ? 20 : 32;
	if (str_to_uint(fields[0], &c->scram_iter) < 0 || c->scram_iter == 0 ||
	    c->scram_iter > PASSWORD_SCRAM_ITER_MAX ||
	    password_b64_field(fields[1], c->scram_salt, 0, sizeof(c->scram_salt),
			       &c->scram_salt_size) < 0 ||
	    password_b64_field(fields[2], c->scram_stored_key, key_size,
			       sizeof(c->scram_stored_key), &stored_size) < 0 ||
	    password_b64_field(fields[3], c->scram_server_key, key_size,
			       sizeof(c->scram_server_key), &server_size) < 0)
		goto malformed;
	c->scram_key_size = key_size;
	return 0;
malformed:
	*error_r = t_strdup_printf("malformed SCRAM-%s hash: expected "
				   "iter,salt,StoredKey,ServerKey (base64, iter 1-%u)",
				   strcmp(md, "SHA1") == 0 ? "SHA-1" : "SHA-256",
				   PASSWORD_SCRAM_ITER_MAX);
	memset(c, 0, sizeof(*c));
	return -1;
}

static int password_cram_md5_parse(const char *value, struct sasl_credentials *c,
				   const char **error_r)
{
	size_t len = strlen(value);
	if (len != 2 * SASL_CRAM_MD5_CONTEXT_SIZE)
		goto malformed;
	for (size_t i = 0; i < SASL_CRAM_MD5_CONTEXT_SIZE; i++) {
		unsigned int byte;
		const char *hex = t_strndup(value + 2 * i, 2);
		if (strspn(hex, "0123456789abcdefABCDEF") != 2 ||
		    sscanf(hex, "%2x", &byte) != 1)
			goto malformed;
		c->cram_md5[i] = (unsigned char)byte;
	}
	c->have_cram_md5 = true;
	return 0;
malformed:
	*error_r = "malformed CRAM-MD5 hash: expected 64 hex digits";
	return -1;
}

int password_sasl_verify(const char *scheme, const char *plaintext,
			 const char *value, const char **error_r)
{
	const char *md = password_scram_digest(scheme);
	struct sasl_credentials stored, computed;
	int ret;

	memset(&stored, 0, sizeof(stored));
	memset(&computed, 0, sizeof(computed));
	if (md != NULL) {
		if (password_scram_parse(md, value, &stored, error_r) < 0)
			return -1;
		if (sasl_scram_keys_from_password(md, plaintext, stored.scram_salt,
						  stored.scram_salt_size, stored.scram_iter,
						  computed.scram_stored_key,
						  computed.scram_server_key,
						  &computed.scram_key_size) < 0) {
			*error_r = "SCRAM key derivation failed";
			return -1;
		}
		ret = CRYPTO_memcmp(stored.scram_stored_key, computed.scram_stored_key,
				    stored.scram_key_size) == 0 &&
			CRYPTO_memcmp(stored.scram_server_key, computed.scram_server_key,
				      stored.scram_key_size) == 0 ? 1 : 0;
	} else {
		if (password_cram_md5_parse(value, &stored, error_r) < 0)
			return -1;
		sasl_cram_md5_context_from_password(plaintext, computed.cram_md5);
		ret = CRYPTO_memcmp(stored.cram_md5, computed.cram_md5,
				    sizeof(stored.cram_md5)) == 0 ? 1 : 0;
	}
	explicit_bzero(&stored, sizeof(stored));
	explicit_bzero(&computed, sizeof(computed));
	return ret;
}

static int password_scram_generate(const char *scheme, const char *md,
				   const char *plaintext, unsigned int rounds,
				   string_t *dest, const char **error_r)
{
	unsigned char salt[PASSWORD_SCRAM_SALT_SIZE];
	unsigned char stored[SASL_SCRAM_MAX_KEY_SIZE], server[SASL_SCRAM_MAX_KEY_SIZE];
	size_t key_size;
	unsigned int iter = rounds == 0 ? PASSWORD_SCRAM_ITER_DEFAULT : rounds;

	if (iter > PASSWORD_SCRAM_ITER_MAX) {
		*error_r = t_strdup_printf("%s rounds must be 1-%u", scheme,
					   PASSWORD_SCRAM_ITER_MAX);
		return -1;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		i_fatal("RAND_bytes() failed");
	if (sasl_scram_keys_from_password(md, plaintext, salt, sizeof(salt), iter,
					  stored, server, &key_size) < 0) {
		*error_r = "SCRAM key derivation failed";
		return -1;
	}
	str_printfa(dest, "{%s}%u,", scheme, iter);
	base64_encode(salt, sizeof(salt), dest);
	str_append_c(dest, ',');
	base64_encode(stored, key_size, dest);
	str_append_c(dest, ',');
	base64_encode(server, key_size, dest);
	return 0;
}

int password_sasl_generate(const char *scheme, const char *plaintext,
			   unsigned int rounds, pool_t pool, const char **hash_r,
			   const char **error_r)
{
	const char *md = password_scram_digest(scheme);
	string_t *str = t_str_new(160);

	if (md != NULL) {
		if (password_scram_generate(strcmp(md, "SHA1") == 0 ? "SCRAM-SHA-1" :
					    "SCRAM-SHA-256", md, plaintext, rounds,
					    str, error_r) < 0)
			return -1;
	} else if (password_is_cram_md5(scheme)) {
		unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE];
		sasl_cram_md5_context_from_password(plaintext, context);
		str_append(str, strchr(scheme, '.') != NULL ? "{CRAM-MD5.HEX}" : "{CRAM-MD5}");
		for (size_t i = 0; i < sizeof(context); i++)
			str_printfa(str, "%02x", context[i]);
		explicit_bzero(context, sizeof(context));
	} else {
		*error_r = t_strdup_printf("unknown password scheme '%s'", scheme);
		return -1;
	}
	*hash_r = p_strndup(pool, str_data(str), str_len(str));
	return 0;
}

int password_sasl_get_credentials(const char *stored, const char *mech,
				  struct sasl_credentials *creds_r,
				  const char **reason_r)
{
	const char *plaintext, *end;

	memset(creds_r, 0, sizeof(*creds_r));
	if (stored == NULL || stored[0] == '\0') {
		*reason_r = "no password stored";
		return 0;
	}
	if (password_get_plaintext(stored, &plaintext) > 0) {
		creds_r->password = plaintext;
		return 1;
	}
	if (stored[0] != '{' || (end = strchr(stored, '}')) == NULL) {
		*reason_r = t_strdup_printf("stored as a crypt(3) hash, which %s can't use", mech);
		return 0;
	}
	const char *scheme = t_strndup(stored + 1, (size_t)(end - stored - 1));
	const char *mech_md = sasl_scram_mech_digest(mech);
	const char *scheme_md = password_scram_digest(scheme);
	if (mech_md != NULL && scheme_md != NULL && strcmp(mech_md, scheme_md) == 0)
		return password_scram_parse(scheme_md, end + 1, creds_r, reason_r) < 0 ? -1 : 1;
	if (strcasecmp(mech, "CRAM-MD5") == 0 && password_is_cram_md5(scheme))
		return password_cram_md5_parse(end + 1, creds_r, reason_r) < 0 ? -1 : 1;
	*reason_r = t_strdup_printf("stored as %s, which %s can't use",
				    t_strndup(scheme, I_MIN(strlen(scheme), 64)), mech);
	return 0;
}

/* ---- the schemes in auth-password.c's registry ---- */

static int password_sasl_registry_verify(const struct password_scheme *s,
					 const char *plaintext, const char *user,
					 const unsigned char *raw, size_t size,
					 const char **error_r)
{
	string_t *value = t_str_new(2 * size + 1);
	if (s->encoding == PW_ENCODING_HEX)
		password_hex_encode(raw, size, value);
	else
		str_append_n(value, raw, size);
	return password_sasl_verify(s->name, plaintext, str_c(value), error_r);
}

static int password_sasl_registry_generate(const struct password_scheme *s,
					   const char *plaintext,
					   const struct password_generate_params *params,
					   buffer_t *raw, const char **error_r)
{
	const char *hash;
	if (password_sasl_generate(s->name, plaintext, params == NULL ? 0 : params->rounds,
				   t_pool(), &hash, error_r) < 0)
		return -1;
	/* the registry adds "{NAME}" and the encoding itself */
	const char *value = strchr(hash, '}') + 1;
	if (s->encoding == PW_ENCODING_HEX)
		return password_hex_decode(value, strlen(value), raw);
	buffer_append(raw, value, strlen(value));
	return 0;
}

const struct password_scheme password_schemes_sasl[] = {
	{ .name = "SCRAM-SHA-1", .encoding = PW_ENCODING_NONE,
	  .verify = password_sasl_registry_verify,
	  .generate = password_sasl_registry_generate },
	{ .name = "SCRAM-SHA-256", .encoding = PW_ENCODING_NONE,
	  .verify = password_sasl_registry_verify,
	  .generate = password_sasl_registry_generate },
	{ .name = "CRAM-MD5", .encoding = PW_ENCODING_HEX,
	  .raw_size = SASL_CRAM_MD5_CONTEXT_SIZE,
	  .verify = password_sasl_registry_verify,
	  .generate = password_sasl_registry_generate },
	{ .name = NULL },
};
