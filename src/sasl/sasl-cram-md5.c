/* CRAM-MD5 (RFC 2195): a challenge, and the answer "user HMAC-MD5(password,
 * challenge)" in hex. Ours rather than libgsasl's because the passdb may
 * hold only Dovecot's {CRAM-MD5} value: the MD5 states after the HMAC
 * pads, which let us finish the HMAC without the password. */
#include "sasl-private.h"

#include <ctype.h>
#include <time.h>
#include <unistd.h>
/* MD5_CTX is the only OpenSSL API that lets a digest resume from a stored
   state; it is deprecated, not gone */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#define CRAM_MD5_BLOCK_SIZE 64
#define CRAM_MD5_MAX_USER_LEN 1024
#define CRAM_MD5_MAX_HOSTNAME_LEN 64

struct cram_md5_data {
	char *challenge;
};

static void cram_md5_state_put(const MD5_CTX *ctx, unsigned char out[16])
{
	const MD5_LONG words[4] = { ctx->A, ctx->B, ctx->C, ctx->D };
	for (unsigned int i = 0; i < 4; i++) {
		for (unsigned int j = 0; j < 4; j++)
			out[i * 4 + j] = (unsigned char)(words[i] >> (8 * j));
	}
}

/* An MD5 context that has consumed one 64-byte block and has state. */
static void cram_md5_state_get(MD5_CTX *ctx, const unsigned char in[16])
{
	MD5_LONG words[4];
	for (unsigned int i = 0; i < 4; i++) {
		words[i] = 0;
		for (unsigned int j = 0; j < 4; j++)
			words[i] |= (MD5_LONG)in[i * 4 + j] << (8 * j);
	}
	MD5_Init(ctx);
	ctx->A = words[0];
	ctx->B = words[1];
	ctx->C = words[2];
	ctx->D = words[3];
	ctx->Nl = CRAM_MD5_BLOCK_SIZE * 8;
}

void sasl_cram_md5_context_from_password(const char *password,
					 unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE])
{
	unsigned char key[CRAM_MD5_BLOCK_SIZE], block[CRAM_MD5_BLOCK_SIZE];
	size_t len = strlen(password);
	MD5_CTX ctx;

	memset(key, 0, sizeof(key));
	/* RFC 2104 §2: longer keys are hashed first */
	if (len > CRAM_MD5_BLOCK_SIZE)
		MD5((const unsigned char *)password, len, key);
	else
		memcpy(key, password, len);
	for (unsigned int pass = 0; pass < 2; pass++) {
		unsigned char pad = pass == 0 ? 0x5c : 0x36;
		for (unsigned int i = 0; i < CRAM_MD5_BLOCK_SIZE; i++)
			block[i] = key[i] ^ pad;
		MD5_Init(&ctx);
		MD5_Update(&ctx, block, sizeof(block));
		cram_md5_state_put(&ctx, context + pass * 16);
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(block, sizeof(block));
	explicit_bzero(&ctx, sizeof(ctx));
}

static void cram_md5_hmac(const unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE],
			  const char *challenge, unsigned char digest[MD5_DIGEST_LENGTH])
{
	unsigned char inner[MD5_DIGEST_LENGTH];
	MD5_CTX ctx;

	cram_md5_state_get(&ctx, context + 16);
	MD5_Update(&ctx, challenge, strlen(challenge));
	MD5_Final(inner, &ctx);
	cram_md5_state_get(&ctx, context);
	MD5_Update(&ctx, inner, sizeof(inner));
	MD5_Final(digest, &ctx);
}

static const char *cram_md5_hostname(void)
{
	char name[256];
	if (gethostname(name, sizeof(name)) < 0)
		return "localhost";
	name[sizeof(name) - 1] = '\0';
	size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
	if (len == 0)
		return "localhost";
	return t_strndup(name, len > CRAM_MD5_MAX_HOSTNAME_LEN ? CRAM_MD5_MAX_HOSTNAME_LEN : len);
}

/* RFC 2195 §2: a unique "<random.timestamp@hostname>" */
static int cram_md5_challenge(struct sasl_session *s, bool have_input, size_t input_len,
			      buffer_t *output, const char **error_r)
{
	if (have_input && input_len > 0) {
		*error_r = "CRAM-MD5 takes no initial response.";
		return -1;
	}
	unsigned char rnd[8];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		i_fatal("RAND_bytes() failed");
	unsigned long long r = 0;
	for (unsigned int i = 0; i < sizeof(rnd); i++)
		r = r << 8 | rnd[i];
	struct cram_md5_data *data = i_new(struct cram_md5_data, 1);
	data->challenge = i_strdup(t_strdup_printf("<%llu.%lld@%s>", r,
						   (long long)time(NULL),
						   cram_md5_hostname()));
	s->mech_data = data;
	buffer_append(output, data->challenge, strlen(data->challenge));
	return 0;
}

static int cram_md5_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "user SP 32HEXDIG": user may contain spaces, so the digest is after
   the last one. Returns 0 or -1. */
static int cram_md5_parse(const unsigned char *input, size_t len, const char **user_r,
			  unsigned char digest[MD5_DIGEST_LENGTH])
{
	if (len < 2 * MD5_DIGEST_LENGTH + 2 || input[len - 2 * MD5_DIGEST_LENGTH - 1] != ' ')
		return -1;
	size_t user_len = len - 2 * MD5_DIGEST_LENGTH - 1;
	if (user_len > CRAM_MD5_MAX_USER_LEN || memchr(input, '\0', user_len) != NULL)
		return -1;
	const unsigned char *hex = input + user_len + 1;
	for (unsigned int i = 0; i < MD5_DIGEST_LENGTH; i++) {
		int hi = cram_md5_hex_value((char)hex[2 * i]);
		int lo = cram_md5_hex_value((char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		digest[i] = (unsigned char)(hi << 4 | lo);
	}
	*user_r = t_strndup(input, user_len);
	return 0;
}

static int cram_md5_check(struct sasl_session *s, const char *user,
			  const unsigned char digest[MD5_DIGEST_LENGTH])
{
	struct cram_md5_data *data = s->mech_data;
	struct sasl_credentials creds;
	unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE], expected[MD5_DIGEST_LENGTH];

	memset(&creds, 0, sizeof(creds));
	int ret = s->cb->lookup_credentials(s->context, s->mech->name, NULL, user, &creds);
	if (sasl_session_callback_result(s, ret) < 0)
		return -1;
	if (creds.have_cram_md5)
		memcpy(context, creds.cram_md5, sizeof(context));
	else if (creds.password != NULL)
		sasl_cram_md5_context_from_password(creds.password, context);
	else {
		s->rejection = "no CRAM-MD5 credentials";
		return -1;
	}
	cram_md5_hmac(context, data->challenge, expected);
	explicit_bzero(context, sizeof(context));
	explicit_bzero(&creds, sizeof(creds));
	if (CRYPTO_memcmp(expected, digest, sizeof(expected)) != 0) {
		s->rejection = "CRAM-MD5 digest mismatch";
		return -1;
	}
	ret = s->cb->credentials_verified(s->context, NULL, user);
	return sasl_session_callback_result(s, ret);
}

static int cram_md5_step(struct sasl_session *s, const unsigned char *input,
			 size_t input_len, bool have_input, buffer_t *output,
			 const char **error_r)
{
	unsigned char digest[MD5_DIGEST_LENGTH];
	const char *user;

	if (s->mech_data == NULL)
		return cram_md5_challenge(s, have_input, input_len, output, error_r);
	if (cram_md5_parse(input, input_len, &user, digest) < 0) {
		*error_r = "Invalid authentication message.";
		return -1;
	}
	sasl_session_set_identities(s, user, NULL);
	if (cram_md5_check(s, user, digest) < 0) {
		*error_r = s->temp_failed ? "Temporary authentication failure." :
			"Authentication failed.";
		return -1;
	}
	return 1;
}

static void cram_md5_deinit(struct sasl_session *s)
{
	struct cram_md5_data *data = s->mech_data;

	if (data == NULL)
		return;
	i_free(data->challenge);
	i_free(data);
	s->mech_data = NULL;
}

const struct sasl_mech_vfuncs sasl_mech_cram_md5 = {
	.step = cram_md5_step,
	.deinit = cram_md5_deinit,
};
