/* Unit tests for the mechanisms that need more than a password check:
 * CRAM-MD5 (RFC 2195) with cleartext and stored credentials, SCRAM-SHA-1
 * and SCRAM-SHA-256 with their -PLUS forms (RFC 5802, RFC 7677, RFC 9266)
 * driven by libgsasl's client side, OAUTHBEARER (RFC 7628), XOAUTH2 and
 * EXTERNAL (RFC 4422 Appendix A). */
#include "test-common.h"
#include "base64.h"
#include "sasl-server.h"

#include <gsasl.h>
#include <openssl/hmac.h>

struct mech_ctx {
	const char *user;     /* the only user lookup_credentials knows */
	const char *password; /* its password */
	bool stored;          /* hand out SCRAM keys / CRAM-MD5 states only */
	int lookup_ret;       /* for the known user */
	int verified_ret;
	int token_ret;
	unsigned int lookups, verifies;
	const char *authzid, *authcid, *token, *mech;
};

static int ctx_lookup(void *context, const char *mech, const char *authzid,
		      const char *authcid, struct sasl_credentials *creds_r)
{
	struct mech_ctx *ctx = context;

	ctx->lookups++;
	ctx->authzid = authzid == NULL ? NULL : t_strdup(authzid);
	ctx->authcid = t_strdup(authcid);
	if (strcmp(authcid, ctx->user) != 0 || ctx->lookup_ret <= 0)
		return strcmp(authcid, ctx->user) != 0 ? 0 : ctx->lookup_ret;
	if (!ctx->stored) {
		creds_r->password = ctx->password;
		return 1;
	}
	const char *md = sasl_scram_mech_digest(mech);
	if (md != NULL) {
		memcpy(creds_r->scram_salt, "0123456789abcdef", 16);
		creds_r->scram_salt_size = 16;
		creds_r->scram_iter = 1000;
		test_assert(sasl_scram_keys_from_password(md, ctx->password, creds_r->scram_salt,
							  16, 1000, creds_r->scram_stored_key,
							  creds_r->scram_server_key,
							  &creds_r->scram_key_size) == 0);
	} else {
		sasl_cram_md5_context_from_password(ctx->password, creds_r->cram_md5);
		creds_r->have_cram_md5 = true;
	}
	return 1;
}

static int ctx_verified(void *context, const char *authzid, const char *authcid)
{
	struct mech_ctx *ctx = context;

	ctx->verifies++;
	ctx->authzid = authzid == NULL ? NULL : t_strdup(authzid);
	ctx->authcid = t_strdup(authcid);
	return ctx->verified_ret;
}

static int ctx_token(void *context, const char *mech, const char *authzid,
		     const char *token)
{
	struct mech_ctx *ctx = context;

	ctx->verifies++;
	ctx->mech = t_strdup(mech);
	ctx->authzid = authzid == NULL ? NULL : t_strdup(authzid);
	ctx->token = t_strdup(token);
	return ctx->token_ret;
}

static int ctx_external(void *context, const char *authzid)
{
	struct mech_ctx *ctx = context;

	ctx->verifies++;
	ctx->authzid = authzid == NULL ? NULL : t_strdup(authzid);
	return ctx->verified_ret;
}

static const struct sasl_callbacks test_callbacks = {
	.lookup_credentials = ctx_lookup,
	.credentials_verified = ctx_verified,
	.verify_token = ctx_token,
	.verify_external = ctx_external,
};

static struct mech_ctx ctx_new(void)
{
	return (struct mech_ctx){
		.user = "tim", .password = "tanstaaftanstaaf",
		.lookup_ret = 1, .verified_ret = 1, .token_ret = 1,
	};
}

static int step_str(struct sasl_session *s, const char *msg, buffer_t *out,
		    const char **error_r)
{
	buffer_clear(out);
	return sasl_session_step(s, msg, msg == NULL ? 0 : strlen(msg), msg != NULL,
				 out, error_r);
}

/* ---- CRAM-MD5 ---- */

static const char *cram_md5_response(const char *user, const char *password,
				     const buffer_t *challenge)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	HMAC(EVP_md5(), password, (int)strlen(password), challenge->data, challenge->used,
	     md, &md_len);
	string_t *str = t_str_new(64);
	str_printfa(str, "%s ", user);
	for (unsigned int i = 0; i < md_len; i++)
		str_printfa(str, "%02x", md[i]);
	return str_c(str);
}

static int run_cram_md5(struct mech_ctx *ctx, const char *user, const char *password,
			const char **error_r)
{
	buffer_t *out = buffer_create(t_pool(), 128);
	struct sasl_session *s = sasl_session_begin("CRAM-MD5", &test_callbacks, ctx, error_r);
	int ret = step_str(s, NULL, out, error_r);
	test_assert(ret == 0);
	/* RFC 2195 §2: <random.timestamp@host> */
	test_assert(out->used > 4 && ((const char *)out->data)[0] == '<' &&
		    memchr(out->data, '@', out->used) != NULL);
	buffer_t *challenge = buffer_create(t_pool(), 128);
	buffer_append(challenge, out->data, out->used);
	ret = step_str(s, cram_md5_response(user, password, challenge), out, error_r);
	if (ret > 0)
		test_assert_strcmp(sasl_session_get_authid(s), user);
	sasl_session_end(&s);
	return ret;
}

static void test_cram_md5(void)
{
	struct mech_ctx ctx = ctx_new();
	unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE];
	const char *error;

	test_begin("CRAM-MD5");
	/* what `doveadm pw -s CRAM-MD5 -p x` prints */
	sasl_cram_md5_context_from_password("x", context);
	string_t *hex = t_str_new(80);
	for (unsigned int i = 0; i < sizeof(context); i++)
		str_printfa(hex, "%02x", context[i]);
	test_assert_strcmp(str_c(hex),
			   "4638c77f1a70c6fda4ddfa6fbe34e6ee090a0f0088f15da8fed5e0a5ff2b4152");

	test_assert(run_cram_md5(&ctx, "tim", "tanstaaftanstaaf", &error) == 1);
	test_assert(ctx.lookups == 1 && ctx.verifies == 1);
	test_assert_strcmp(ctx.authcid, "tim");
	ctx.stored = true;
	test_assert(run_cram_md5(&ctx, "tim", "tanstaaftanstaaf", &error) == 1);
	/* a password longer than the HMAC block is hashed first */
	ctx.password = "a-password-that-is-longer-than-sixty-four-bytes-"
		"which-rfc-2104-hashes-first";
	test_assert(run_cram_md5(&ctx, "tim", ctx.password, &error) == 1);
	ctx = ctx_new();
	ctx.verifies = 0;
	test_assert(run_cram_md5(&ctx, "tim", "wrong", &error) == -1);
	test_assert(ctx.verifies == 0);
	test_assert(run_cram_md5(&ctx, "nobody", "tanstaaftanstaaf", &error) == -1);
	ctx.lookup_ret = -1;
	test_assert(run_cram_md5(&ctx, "tim", "tanstaaftanstaaf", &error) == -1);
	test_assert_strcmp(error, "Temporary authentication failure.");
	ctx = ctx_new();
	ctx.verified_ret = 0;
	test_assert(run_cram_md5(&ctx, "tim", "tanstaaftanstaaf", &error) == -1);
	test_end();
}

static void test_cram_md5_malformed(void)
{
	static const char *const bad[] = {
		"", "tim", "tim 123", "tim b913a602c7eda7a495b4e6e7334d389",
		"tim b913a602c7eda7a495b4e6e7334d3890x", " b913a602c7eda7a495b4e6e7334d3890",
		"tim:b913a602c7eda7a495b4e6e7334d3890", "tim g913a602c7eda7a495b4e6e7334d3890",
	};
	struct mech_ctx ctx = ctx_new();
	buffer_t *out = buffer_create(t_pool(), 128);
	const char *error;

	test_begin("CRAM-MD5 malformed");
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct sasl_session *s = sasl_session_begin("CRAM-MD5", &test_callbacks,
							    &ctx, &error);
		test_assert(step_str(s, NULL, out, &error) == 0);
		test_assert(step_str(s, bad[i], out, &error) == -1);
		test_assert(sasl_session_get_rejection(s) == NULL);
		sasl_session_end(&s);
	}
	test_assert(ctx.lookups == 0);
	/* server-first: an initial response is refused */
	struct sasl_session *s = sasl_session_begin("CRAM-MD5", &test_callbacks, &ctx, &error);
	test_assert(step_str(s, "tim b913a602c7eda7a495b4e6e7334d3890", out, &error) == -1);
	sasl_session_end(&s);
	test_end();
}

/* ---- SCRAM, with libgsasl's client ---- */

struct scram_client {
	const char *authid, *authzid, *password;
	const unsigned char *cb; /* tls-exporter bytes or NULL */
};

static int scram_client_cb(Gsasl *gctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct scram_client *c = gsasl_session_hook_get(gs);
	string_t *str;

	switch (prop) {
	case GSASL_AUTHID:
		return gsasl_property_set(gs, prop, c->authid);
	case GSASL_AUTHZID:
		return c->authzid == NULL ? GSASL_NO_CALLBACK :
			gsasl_property_set(gs, prop, c->authzid);
	case GSASL_PASSWORD:
		return gsasl_property_set(gs, prop, c->password);
	case GSASL_CB_TLS_EXPORTER:
		if (c->cb == NULL)
			return GSASL_NO_CALLBACK;
		str = t_str_new(64);
		base64_encode(c->cb, SASL_CHANNEL_BINDING_SIZE, str);
		return gsasl_property_set(gs, prop, str_c(str));
	default:
		return GSASL_NO_CALLBACK;
	}
}

/* Runs a whole exchange; server_cb is the server's channel binding.
   Returns the server's last result. */
static int run_scram(Gsasl *gctx, const char *mech, struct mech_ctx *ctx,
		     struct scram_client *client, const unsigned char *server_cb,
		     struct sasl_session **s_r)
{
	Gsasl_session *gs;
	const char *error;
	char *cout = NULL;
	size_t cout_len = 0;

	i_assert(gsasl_client_start(gctx, mech, &gs) == GSASL_OK);
	gsasl_session_hook_set(gs, client);
	struct sasl_session *s = sasl_session_begin(mech, &test_callbacks, ctx, &error);
	if (server_cb != NULL)
		sasl_session_set_channel_binding(s, server_cb, SASL_CHANNEL_BINDING_SIZE);
	buffer_t *sout = buffer_create(t_pool(), 256);
	int ret = 0, cret = gsasl_step(gs, NULL, 0, &cout, &cout_len);
	while (ret == 0 && (cret == GSASL_NEEDS_MORE || cret == GSASL_OK)) {
		buffer_clear(sout);
		ret = sasl_session_step(s, cout, cout_len, true, sout, &error);
		gsasl_free(cout);
		cout = NULL;
		if (ret != 0)
			break;
		cret = gsasl_step(gs, (const char *)sout->data, sout->used, &cout, &cout_len);
	}
	if (ret == 0) {
		/* the client refused the server (bad server signature) */
		ret = -2;
	}
	gsasl_free(cout);
	gsasl_finish(gs);
	if (s_r != NULL)
		*s_r = s;
	else
		sasl_session_end(&s);
	return ret;
}

static void test_scram_mech(Gsasl *gctx, const char *mech)
{
	struct mech_ctx ctx = ctx_new();
	struct scram_client client = { .authid = "tim", .password = "tanstaaftanstaaf" };
	struct sasl_session *s;

	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, &s) == 1);
	test_assert_strcmp(sasl_session_get_authid(s), "tim");
	test_assert(sasl_session_get_authzid(s) == NULL);
	test_assert(ctx.lookups == 1 && ctx.verifies == 1);
	sasl_session_end(&s);
	ctx.stored = true;
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, NULL) == 1);

	/* wrong password, unknown user: both fail at the proof */
	client.password = "wrong";
	ctx.verifies = 0;
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, &s) == -1);
	test_assert(sasl_session_get_rejection(s) != NULL);
	test_assert(!sasl_session_failed_temporarily(s));
	sasl_session_end(&s);
	client = (struct scram_client){ .authid = "nobody", .password = "x" };
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, NULL) == -1);
	test_assert(ctx.verifies == 0);

	/* authorization identity reaches both callbacks */
	client = (struct scram_client){ .authid = "tim", .authzid = "bob",
					.password = "tanstaaftanstaaf" };
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, &s) == 1);
	test_assert_strcmp(ctx.authzid, "bob");
	test_assert_strcmp(sasl_session_get_authzid(s), "bob");
	sasl_session_end(&s);

	/* temporary failure of the lookup fails at once */
	client.authzid = NULL;
	ctx.lookup_ret = -1;
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, &s) == -1);
	test_assert(sasl_session_failed_temporarily(s));
	sasl_session_end(&s);
	/* the user is refused after a good proof: no server signature */
	ctx.lookup_ret = 1;
	ctx.verified_ret = 0;
	test_assert(run_scram(gctx, mech, &ctx, &client, NULL, NULL) == -1);
}

static void test_scram(void)
{
	Gsasl *gctx;

	test_begin("SCRAM-SHA-1, SCRAM-SHA-256");
	i_assert(gsasl_init(&gctx) == GSASL_OK);
	gsasl_callback_set(gctx, scram_client_cb);
	test_scram_mech(gctx, "SCRAM-SHA-1");
	test_scram_mech(gctx, "SCRAM-SHA-256");
	gsasl_done(gctx);
	test_end();
}

static void test_scram_keys(void)
{
	unsigned char stored[SASL_SCRAM_MAX_KEY_SIZE], server[SASL_SCRAM_MAX_KEY_SIZE];
	size_t key_size;
	buffer_t *salt = buffer_create(t_pool(), 32);

	test_begin("SCRAM keys");
	/* `doveadm pw -s SCRAM-SHA-256 -p x`: 4096,<salt>,<stored>,<server> */
	test_assert(base64_decode("wqZip8ABu2xPEWyTNz/HpA==", 24, salt) == 0);
	test_assert(sasl_scram_keys_from_password("SHA256", "x", salt->data, salt->used,
						  4096, stored, server, &key_size) == 0);
	test_assert(key_size == 32);
	string_t *str = t_str_new(64);
	base64_encode(stored, key_size, str);
	test_assert_strcmp(str_c(str), "SKjCQpq+Y16oyFP2R4ZLfzsoRXnf20PmcHKTg4rWfVc=");
	str = t_str_new(64);
	base64_encode(server, key_size, str);
	test_assert_strcmp(str_c(str), "u/PTUcPAq0shWs1NAMeCeg0f9lMKOvYoafsBMDX4RU4=");
	test_assert_strcmp(sasl_scram_mech_digest("scram-sha-1-plus"), "SHA1");
	test_assert_strcmp(sasl_scram_mech_digest("SCRAM-SHA-256"), "SHA256");
	test_assert(sasl_scram_mech_digest("SCRAM-SHA-2") == NULL);
	test_assert(sasl_scram_mech_digest("SCRAM-SHA-256-PLUSX") == NULL);
	test_end();
}

static void test_scram_plus(void)
{
	unsigned char cb[SASL_CHANNEL_BINDING_SIZE], other[SASL_CHANNEL_BINDING_SIZE];
	struct mech_ctx ctx = ctx_new();
	struct scram_client client = { .authid = "tim", .password = "tanstaaftanstaaf",
				       .cb = cb };
	Gsasl *gctx;

	test_begin("SCRAM -PLUS (tls-exporter)");
	memset(cb, 0xa5, sizeof(cb));
	memset(other, 0x5a, sizeof(other));
	i_assert(gsasl_init(&gctx) == GSASL_OK);
	gsasl_callback_set(gctx, scram_client_cb);
	test_assert(run_scram(gctx, "SCRAM-SHA-256-PLUS", &ctx, &client, cb, NULL) == 1);
	test_assert(run_scram(gctx, "SCRAM-SHA-1-PLUS", &ctx, &client, cb, NULL) == 1);
	/* a different TLS connection: the binding doesn't match */
	test_assert(run_scram(gctx, "SCRAM-SHA-256-PLUS", &ctx, &client, other, NULL) == -1);
	/* -PLUS on a connection without a binding */
	test_assert(run_scram(gctx, "SCRAM-SHA-256-PLUS", &ctx, &client, NULL, NULL) == -1);
	/* RFC 5802 §6: a client that supports binding but didn't see -PLUS
	   ("y") while we offered it was downgraded by someone; without a
	   binding on our side "y" is fine */
	buffer_t *out = buffer_create(t_pool(), 256);
	const char *error;
	struct sasl_session *s = sasl_session_begin("SCRAM-SHA-256", &test_callbacks,
						    &ctx, &error);
	sasl_session_set_channel_binding(s, cb, sizeof(cb));
	test_assert(step_str(s, "y,,n=tim,r=abcdefgh", out, &error) == -1);
	sasl_session_end(&s);
	s = sasl_session_begin("SCRAM-SHA-256", &test_callbacks, &ctx, &error);
	test_assert(step_str(s, "y,,n=tim,r=abcdefgh", out, &error) == 0);
	sasl_session_end(&s);
	/* and -PLUS insists on "p" */
	s = sasl_session_begin("SCRAM-SHA-256-PLUS", &test_callbacks, &ctx, &error);
	sasl_session_set_channel_binding(s, cb, sizeof(cb));
	test_assert(step_str(s, "n,,n=tim,r=abcdefgh", out, &error) == -1);
	sasl_session_end(&s);
	gsasl_done(gctx);
	test_end();
}

static void test_scram_final(void)
{
	struct mech_ctx ctx = ctx_new();
	buffer_t *out = buffer_create(t_pool(), 256);
	const char *error;

	test_begin("SCRAM malformed and final data");
	struct sasl_session *s = sasl_session_begin("SCRAM-SHA-256", &test_callbacks,
						    &ctx, &error);
	test_assert(step_str(s, "x,,n=tim,r=abc", out, &error) == -1);
	test_assert(sasl_session_get_rejection(s) == NULL);
	sasl_session_end(&s);
	/* without an initial response the server waits for client-first */
	s = sasl_session_begin("SCRAM-SHA-1", &test_callbacks, &ctx, &error);
	test_assert(step_str(s, NULL, out, &error) == 0 && out->used == 0);
	test_assert(step_str(s, "n,,n=tim,r=abcdefgh", out, &error) == 0);
	test_assert(out->used > 0 && memcmp(out->data, "r=abcdefgh", 10) == 0);
	test_assert(step_str(s, "c=biws,r=wrongnonce,p=AAAA", out, &error) == -1);
	sasl_session_end(&s);
	test_end();
}

/* ---- OAUTHBEARER, XOAUTH2 ---- */

static int run_msgs(const char *mech, struct mech_ctx *ctx, const char *const *msgs,
		    const size_t *lens, unsigned int count, const char **challenge_r,
		    struct sasl_session **s_r)
{
	const char *error;
	struct sasl_session *s = sasl_session_begin(mech, &test_callbacks, ctx, &error);
	buffer_t *out = buffer_create(t_pool(), 256);
	int ret = -1;

	for (unsigned int i = 0; i < count; i++) {
		buffer_clear(out);
		ret = sasl_session_step(s, msgs[i], lens[i], msgs[i] != NULL, out, &error);
		if (challenge_r != NULL)
			*challenge_r = t_strndup(out->data, out->used);
		if (ret != 0)
			break;
	}
	if (s_r != NULL)
		*s_r = s;
	else
		sasl_session_end(&s);
	return ret;
}

#define MSG(str) str, sizeof(str) - 1

static void test_oauthbearer(void)
{
	struct mech_ctx ctx = ctx_new();
	struct sasl_session *s;
	const char *challenge;

	test_begin("OAUTHBEARER");
	const char *good[] = { "n,a=user@example.com,\x01host=server.example.com\x01"
			       "port=143\x01" "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01" };
	size_t good_len[] = { strlen(good[0]) };
	test_assert(run_msgs("OAUTHBEARER", &ctx, good, good_len, 1, NULL, &s) == 1);
	test_assert_strcmp(ctx.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
	test_assert_strcmp(ctx.authzid, "user@example.com");
	test_assert_strcmp(ctx.mech, "OAUTHBEARER");
	test_assert_strcmp(sasl_session_get_authzid(s), "user@example.com");
	test_assert(sasl_session_get_authid(s) == NULL);
	sasl_session_end(&s);

	/* no authzid, escaped names, case of the scheme */
	const char *noa[] = { "n,,\x01" "auth=bearer  tok.en-_~+/==\x01\x01" };
	size_t noa_len[] = { strlen(noa[0]) };
	test_assert(run_msgs("OAUTHBEARER", &ctx, noa, noa_len, 1, NULL, NULL) == 1);
	test_assert(ctx.authzid == NULL);
	test_assert_strcmp(ctx.token, "tok.en-_~+/==");
	const char *esc[] = { "n,a=a=2Cb=3Dc,\x01" "auth=Bearer t\x01\x01" };
	size_t esc_len[] = { strlen(esc[0]) };
	test_assert(run_msgs("OAUTHBEARER", &ctx, esc, esc_len, 1, NULL, NULL) == 1);
	test_assert_strcmp(ctx.authzid, "a,b=c");

	/* refused: the error challenge, then failure on the dummy answer */
	ctx.token_ret = 0;
	const char *refused[] = { good[0], "\x01" };
	size_t refused_len[] = { good_len[0], 1 };
	test_assert(run_msgs("OAUTHBEARER", &ctx, refused, refused_len, 1,
			     &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "{\"status\":\"invalid_token\",\"schemes\":\"bearer\"}");
	test_assert(run_msgs("OAUTHBEARER", &ctx, refused, refused_len, 2, NULL, &s) == -1);
	test_assert(sasl_session_get_rejection(s) != NULL);
	test_assert(!sasl_session_failed_temporarily(s));
	sasl_session_end(&s);
	ctx.token_ret = -1;
	test_assert(run_msgs("OAUTHBEARER", &ctx, refused, refused_len, 1, NULL, &s) == -1);
	test_assert(sasl_session_failed_temporarily(s));
	sasl_session_end(&s);
	test_end();
}

static void test_oauthbearer_malformed(void)
{
	static const struct {
		const char *msg;
		size_t len;
	} bad[] = {
		{ MSG("\x01") },
		{ MSG("p=tls-exporter,,\x01" "auth=Bearer t\x01\x01") },
		{ MSG("n,,auth=Bearer t\x01\x01") },
		{ MSG("n,,\x01" "auth=Bearer t\x01") },
		{ MSG("n,,\x01" "auth=Bearer t\x01\x01junk") },
		{ MSG("n,,\x01" "auth=Basic dXNlcjpwYXNz\x01\x01") },
		{ MSG("n,,\x01" "auth=Bearer \x01\x01") },
		{ MSG("n,,\x01" "auth=Bearer t=x\x01\x01") },
		{ MSG("n,,\x01" "host=x\x01\x01") },
		{ MSG("n,a=x=41,\x01" "auth=Bearer t\x01\x01") },
		{ MSG("n,b=x,\x01" "auth=Bearer t\x01\x01") },
		{ MSG("n,,\x01" "auth=Bearer t\0\x01\x01") },
		{ MSG("n,,\x01" "novalue\x01\x01") },
	};
	struct mech_ctx ctx = ctx_new();

	test_begin("OAUTHBEARER malformed");
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		const char *msgs[] = { bad[i].msg };
		size_t lens[] = { bad[i].len };
		test_assert(run_msgs("OAUTHBEARER", &ctx, msgs, lens, 1, NULL, NULL) == -1);
	}
	test_assert(ctx.verifies == 0);
	/* no initial response: an empty challenge first */
	const char *two[] = { NULL, "n,,\x01" "auth=Bearer t\x01\x01" };
	size_t two_len[] = { 0, strlen(two[1]) };
	const char *challenge;
	test_assert(run_msgs("OAUTHBEARER", &ctx, two, two_len, 1, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "");
	test_assert(run_msgs("OAUTHBEARER", &ctx, two, two_len, 2, NULL, NULL) == 1);
	test_end();
}

static void test_xoauth2(void)
{
	struct mech_ctx ctx = ctx_new();
	struct sasl_session *s;
	const char *challenge;

	test_begin("XOAUTH2");
	const char *good[] = { "user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2\x01\x01", "" };
	size_t good_len[] = { strlen(good[0]), 0 };
	test_assert(run_msgs("XOAUTH2", &ctx, good, good_len, 1, NULL, &s) == 1);
	test_assert_strcmp(ctx.authzid, "someuser@example.com");
	test_assert_strcmp(ctx.token, "ya29.vF9dft4qmTc2");
	test_assert_strcmp(ctx.mech, "XOAUTH2");
	sasl_session_end(&s);
	ctx.token_ret = 0;
	test_assert(run_msgs("XOAUTH2", &ctx, good, good_len, 1, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "{\"status\":\"401\",\"schemes\":\"bearer\"}");
	test_assert(run_msgs("XOAUTH2", &ctx, good, good_len, 2, NULL, NULL) == -1);
	ctx.verifies = 0;
	const char *bad[] = { "auth=Bearer t\x01\x01", "user=a\x01" "auth=Bearer t\x01",
			      "user=a\x01" "auth=t\x01\x01", "user=a auth=Bearer t" };
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		size_t len = strlen(bad[i]);
		test_assert(run_msgs("XOAUTH2", &ctx, &bad[i], &len, 1, NULL, NULL) == -1);
	}
	test_assert(ctx.verifies == 0);
	test_end();
}

static void test_external(void)
{
	struct mech_ctx ctx = ctx_new();
	struct sasl_session *s;

	test_begin("EXTERNAL");
	const char *empty[] = { "" };
	size_t empty_len[] = { 0 };
	test_assert(run_msgs("EXTERNAL", &ctx, empty, empty_len, 1, NULL, &s) == 1);
	test_assert(ctx.verifies == 1 && ctx.authzid == NULL);
	test_assert(sasl_session_get_authzid(s) == NULL);
	sasl_session_end(&s);
	/* no initial response: an empty challenge, then the authzid */
	const char *two[] = { NULL, "bob" };
	size_t two_len[] = { 0, 3 };
	test_assert(run_msgs("EXTERNAL", &ctx, two, two_len, 2, NULL, &s) == 1);
	test_assert_strcmp(ctx.authzid, "bob");
	test_assert_strcmp(sasl_session_get_authzid(s), "bob");
	sasl_session_end(&s);
	ctx.verified_ret = 0;
	test_assert(run_msgs("EXTERNAL", &ctx, empty, empty_len, 1, NULL, &s) == -1);
	test_assert(sasl_session_get_rejection(s) != NULL);
	sasl_session_end(&s);
	ctx.verifies = 0;
	const char *nul[] = { "b\0b" };
	size_t nul_len[] = { 3 };
	test_assert(run_msgs("EXTERNAL", &ctx, nul, nul_len, 1, NULL, NULL) == -1);
	test_assert(ctx.verifies == 0);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_cram_md5,
		test_cram_md5_malformed,
		test_scram_keys,
		test_scram,
		test_scram_plus,
		test_scram_final,
		test_oauthbearer,
		test_oauthbearer_malformed,
		test_xoauth2,
		test_external,
		NULL,
	};
	const char *error;

	if (sasl_server_init(&error) < 0)
		i_fatal("%s", error);
	int ret = test_run(tests);
	sasl_server_deinit();
	return ret;
}
