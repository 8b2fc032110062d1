/* Unit tests for the SASL server wrapper: PLAIN (RFC 4616) and LOGIN
 * exchanges, authorization identities, temporary failures and bad input. */
#include "test-common.h"
#include "sasl-server.h"

struct verify_ctx {
	unsigned int calls;
	const char *authzid, *authcid, *password;
	int result; /* returned when the password is right */
};

static int test_verify_plain(void *context, const char *authzid,
			     const char *authcid, const char *password)
{
	struct verify_ctx *ctx = context;

	ctx->calls++;
	ctx->authzid = authzid == NULL ? NULL : t_strdup(authzid);
	ctx->authcid = t_strdup(authcid);
	ctx->password = t_strdup(password);
	if (strcmp(password, "right") != 0 && strcmp(password, "p\xc3\xa4ss") != 0)
		return 0;
	return ctx->result;
}

static const struct sasl_callbacks test_callbacks = {
	.verify_plain = test_verify_plain,
};

/* Runs a whole exchange: steps[] are the client messages (NULL = first step
   without initial response). Returns the last step's result. */
static int run_exchange(const char *mech, struct verify_ctx *ctx,
			const char *const *msgs, const size_t *lens,
			unsigned int count, const char **last_challenge_r,
			struct sasl_session **s_r)
{
	const char *error;
	struct sasl_session *s = sasl_session_begin(mech, &test_callbacks, ctx, &error);
	int ret = -1;

	i_assert(s != NULL);
	for (unsigned int i = 0; i < count; i++) {
		buffer_t *out = buffer_create(t_pool(), 64);
		ret = sasl_session_step(s, msgs[i], lens[i], msgs[i] != NULL, out, &error);
		if (last_challenge_r != NULL)
			*last_challenge_r = t_strndup(out->data, out->used);
		if (ret != 0)
			break;
	}
	if (s_r != NULL)
		*s_r = s;
	else
		sasl_session_end(&s);
	return ret;
}

static void test_sasl_mechs(void)
{
	const char *error;

	test_begin("sasl mechanisms");
	test_assert(sasl_mech_is_supported("PLAIN"));
	test_assert(sasl_mech_is_supported("login"));
	test_assert(sasl_mech_is_supported("CRAM-MD5"));
	test_assert(sasl_mech_is_supported("scram-sha-256-plus"));
	test_assert(!sasl_mech_is_supported("DIGEST-MD5"));
	test_assert(!sasl_mech_is_supported(""));
	test_assert(!sasl_mech_is_supported(NULL));
	test_assert(sasl_mech_is_plaintext("Plain"));
	test_assert(sasl_mech_is_plaintext("XOAUTH2"));
	test_assert(!sasl_mech_is_plaintext("SCRAM-SHA-1"));
	test_assert(sasl_mech_get_flags("SCRAM-SHA-1-PLUS") ==
		    (SASL_MECH_FLAG_CREDENTIALS | SASL_MECH_FLAG_CHANNEL_BINDING));
	test_assert(sasl_mech_get_flags("EXTERNAL") == SASL_MECH_FLAG_EXTERNAL);
	test_assert(sasl_mech_get_flags("NOSUCH") == 0);
	test_assert_strcmp(sasl_mechanisms_supported(),
			   "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-1-PLUS "
			   "SCRAM-SHA-256 SCRAM-SHA-256-PLUS OAUTHBEARER XOAUTH2 EXTERNAL");
	test_assert(sasl_session_begin("NOSUCH", &test_callbacks, NULL, &error) == NULL);
	test_assert(error != NULL);
	test_end();
}

static void test_sasl_plain(void)
{
	struct verify_ctx ctx = { .result = 1 };
	struct sasl_session *s;
	const char *challenge;

	test_begin("sasl PLAIN");
	/* initial response */
	const char *ir[] = { "\0user\0right" };
	size_t ir_len[] = { 11 };
	test_assert(run_exchange("PLAIN", &ctx, ir, ir_len, 1, NULL, &s) == 1);
	test_assert_strcmp(sasl_session_get_authid(s), "user");
	test_assert(sasl_session_get_authzid(s) == NULL);
	test_assert_strcmp(sasl_session_get_mech(s), "PLAIN");
	test_assert(ctx.calls == 1 && ctx.authzid == NULL);
	test_assert_strcmp(ctx.authcid, "user");
	test_assert_strcmp(ctx.password, "right");
	sasl_session_end(&s);
	test_assert(s == NULL);
	sasl_session_end(&s);

	/* no initial response: an empty challenge first */
	const char *two[] = { NULL, "\0user@example.com\0right" };
	size_t two_len[] = { 0, 23 };
	test_assert(run_exchange("plain", &ctx, two, two_len, 1, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "");
	test_assert(run_exchange("plain", &ctx, two, two_len, 2, NULL, &s) == 1);
	test_assert_strcmp(sasl_session_get_authid(s), "user@example.com");
	sasl_session_end(&s);

	/* wrong password */
	const char *bad[] = { "\0user\0wrong" };
	size_t bad_len[] = { 11 };
	ctx.calls = 0;
	test_assert(run_exchange("PLAIN", &ctx, bad, bad_len, 1, NULL, &s) == -1);
	test_assert(!sasl_session_failed_temporarily(s));
	test_assert(ctx.calls == 1);
	sasl_session_end(&s);

	/* non-ASCII passwords reach the callback unchanged */
	const char *utf8[] = { "\0user\0p\xc3\xa4ss" };
	size_t utf8_len[] = { 11 };
	test_assert(run_exchange("PLAIN", &ctx, utf8, utf8_len, 1, NULL, NULL) == 1);
	test_assert_strcmp(ctx.password, "p\xc3\xa4ss");
	/* not rewritten by SASLprep: U+FB01 stays a ligature, not "fi" */
	const char *lig[] = { "\0user\0\xef\xac\x81x" };
	size_t lig_len[] = { 10 };
	test_assert(run_exchange("PLAIN", &ctx, lig, lig_len, 1, NULL, NULL) == -1);
	test_assert_strcmp(ctx.password, "\xef\xac\x81x");
	test_end();
}

static void test_sasl_plain_authzid(void)
{
	struct verify_ctx ctx = { .result = 1 };
	struct sasl_session *s;

	test_begin("sasl PLAIN authzid");
	const char *msg[] = { "admin\0user\0right" };
	size_t len[] = { 16 };
	test_assert(run_exchange("PLAIN", &ctx, msg, len, 1, NULL, &s) == 1);
	test_assert_strcmp(ctx.authzid, "admin");
	test_assert_strcmp(ctx.authcid, "user");
	test_assert_strcmp(sasl_session_get_authzid(s), "admin");
	sasl_session_end(&s);

	/* authzid equal to authcid means no authzid */
	const char *self[] = { "user\0user\0right" };
	size_t self_len[] = { 15 };
	test_assert(run_exchange("PLAIN", &ctx, self, self_len, 1, NULL, &s) == 1);
	test_assert(ctx.authzid == NULL);
	test_assert(sasl_session_get_authzid(s) == NULL);
	sasl_session_end(&s);
	test_end();
}

static void test_sasl_plain_malformed(void)
{
	static const struct {
		const char *data;
		size_t len;
	} inputs[] = {
		{ "userright", 9 },
		{ "\0user", 5 },
		{ "\0user\0ri\0ght", 12 },
		{ "\0", 1 },
		{ "\0\0", 2 },
	};
	struct verify_ctx ctx = { .result = 1 };

	test_begin("sasl PLAIN malformed");
	for (size_t i = 0; i < N_ELEMENTS(inputs); i++) {
		const char *msg[] = { inputs[i].data };
		size_t len[] = { inputs[i].len };
		ctx.calls = 0;
		int ret = run_exchange("PLAIN", &ctx, msg, len, 1, NULL, NULL);
		test_assert(ret == -1);
	}
	/* an empty message keeps asking, but not forever */
	const char *empty[SASL_MAX_STEPS + 1];
	size_t empty_len[SASL_MAX_STEPS + 1];
	for (unsigned int i = 0; i <= SASL_MAX_STEPS; i++) {
		empty[i] = "";
		empty_len[i] = 0;
	}
	test_assert(run_exchange("PLAIN", &ctx, empty, empty_len,
				 SASL_MAX_STEPS + 1, NULL, NULL) == -1);
	test_end();
}

static void test_sasl_temp_failure(void)
{
	struct verify_ctx ctx = { .result = -1 };
	struct sasl_session *s;
	const char *error;

	test_begin("sasl temporary failure");
	const char *msg[] = { "\0user\0right" };
	size_t len[] = { 11 };
	test_assert(run_exchange("PLAIN", &ctx, msg, len, 1, NULL, &s) == -1);
	test_assert(sasl_session_failed_temporarily(s));
	/* a finished session refuses further steps */
	buffer_t *out = buffer_create(t_pool(), 16);
	test_assert(sasl_session_step(s, "x", 1, true, out, &error) == -1);
	sasl_session_end(&s);
	test_end();
}

static void test_sasl_login(void)
{
	struct verify_ctx ctx = { .result = 1 };
	struct sasl_session *s;
	const char *challenge;

	test_begin("sasl LOGIN");
	const char *msgs[] = { NULL, "user", "right" };
	size_t lens[] = { 0, 4, 5 };
	test_assert(run_exchange("LOGIN", &ctx, msgs, lens, 1, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "User Name");
	test_assert(run_exchange("LOGIN", &ctx, msgs, lens, 2, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "Password");
	test_assert(run_exchange("LOGIN", &ctx, msgs, lens, 3, NULL, &s) == 1);
	test_assert_strcmp(sasl_session_get_authid(s), "user");
	test_assert(sasl_session_get_authzid(s) == NULL);
	test_assert(ctx.authzid == NULL);
	sasl_session_end(&s);

	/* the initial response is the user name */
	const char *ir[] = { "user", "right" };
	size_t ir_len[] = { 4, 5 };
	test_assert(run_exchange("LOGIN", &ctx, ir, ir_len, 1, &challenge, NULL) == 0);
	test_assert_strcmp(challenge, "Password");
	test_assert(run_exchange("LOGIN", &ctx, ir, ir_len, 2, NULL, NULL) == 1);

	const char *wrong[] = { NULL, "user", "wrong" };
	test_assert(run_exchange("LOGIN", &ctx, wrong, lens, 3, NULL, NULL) == -1);
	const char *empty_user[] = { NULL, "" };
	size_t empty_lens[] = { 0, 0 };
	test_assert(run_exchange("LOGIN", &ctx, empty_user, empty_lens, 2, NULL, NULL) == -1);
	const char *nul_user[] = { NULL, "us\0er" };
	size_t nul_lens[] = { 0, 5 };
	test_assert(run_exchange("LOGIN", &ctx, nul_user, nul_lens, 2, NULL, NULL) == -1);
	test_end();
}

static void test_sasl_limits(void)
{
	struct verify_ctx ctx = { .result = 1 };
	const char *error;

	test_begin("sasl input limits");
	struct sasl_session *s = sasl_session_begin("PLAIN", &test_callbacks, &ctx, &error);
	char *big = i_zalloc(SASL_MAX_INPUT_SIZE + 1);
	buffer_t *out = buffer_create(t_pool(), 16);
	test_assert(sasl_session_step(s, big, SASL_MAX_INPUT_SIZE + 1, true, out, &error) == -1);
	test_assert(ctx.calls == 0);
	free(big);
	sasl_session_end(&s);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_sasl_mechs,
		test_sasl_plain,
		test_sasl_plain_authzid,
		test_sasl_plain_malformed,
		test_sasl_temp_failure,
		test_sasl_login,
		test_sasl_limits,
		NULL,
	};
	const char *error;

	if (sasl_server_init(&error) < 0)
		i_fatal("%s", error);
	int ret = test_run(tests);
	sasl_server_deinit();
	return ret;
}
