/* Tests of the SASL password schemes ({SCRAM-SHA-1}, {SCRAM-SHA-256},
 * {CRAM-MD5} against doveadm's output) and of whole auth requests with the
 * credential, token and EXTERNAL mechanisms over a temporary passwd-file,
 * driven by the event loop; SCRAM's client side is libgsasl's. */
#include "test-common.h"
#include "auth-password.h"
#include "auth-password-sasl.h"
#include "auth-request.h"
#include "auth-sasl.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"

#include <fcntl.h>
#include <gsasl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* `doveadm pw -s SCHEME -p x` */
#define DOVEADM_SCRAM_SHA256 "{SCRAM-SHA-256}4096,wqZip8ABu2xPEWyTNz/HpA==," \
	"SKjCQpq+Y16oyFP2R4ZLfzsoRXnf20PmcHKTg4rWfVc=,u/PTUcPAq0shWs1NAMeCeg0f9lMKOvYoafsBMDX4RU4="
#define DOVEADM_SCRAM_SHA1 "{SCRAM-SHA-1}4096,g8RxJuyOl4Qfer3cOXpDfQ==," \
	"ZEU+nj1OKlsDxZsgcfthQ5Uysso=,bbaChT2OUbDgffEfRb3/qeEOTz0="
#define DOVEADM_CRAM_MD5 "{CRAM-MD5}4638c77f1a70c6fda4ddfa6fbe34e6ee090a0f0088f15da8fed5e0a5ff2b4152"
#define TEST_SECRET "jwt-secret"

static char test_dir[] = "/tmp/test-auth-sasl.XXXXXX";

/* ---- schemes ---- */

static void test_scheme_verify(void)
{
	const char *error;

	test_begin("SCRAM and CRAM-MD5 schemes: verify");
	test_assert(password_verify("x", DOVEADM_SCRAM_SHA256, NULL, &error) == 1);
	test_assert(password_verify("y", DOVEADM_SCRAM_SHA256, NULL, &error) == 0);
	test_assert(password_verify("x", DOVEADM_SCRAM_SHA1, NULL, &error) == 1);
	test_assert(password_verify("X", DOVEADM_SCRAM_SHA1, NULL, &error) == 0);
	test_assert(password_verify("x", DOVEADM_CRAM_MD5, NULL, &error) == 1);
	test_assert(password_verify("xx", DOVEADM_CRAM_MD5, NULL, &error) == 0);
	test_assert(password_verify("x", "{scram-sha-256}4096,wqZip8ABu2xPEWyTNz/HpA==,"
				    "SKjCQpq+Y16oyFP2R4ZLfzsoRXnf20PmcHKTg4rWfVc=,"
				    "u/PTUcPAq0shWs1NAMeCeg0f9lMKOvYoafsBMDX4RU4=", NULL, &error) == 1);
	static const char *const bad[] = {
		"{SCRAM-SHA-256}4096,wqZip8ABu2xPEWyTNz/HpA==",
		"{SCRAM-SHA-256}0,wqZip8ABu2xPEWyTNz/HpA==,AAAA,AAAA",
		"{SCRAM-SHA-256}99999999999,wqZip8ABu2xPEWyTNz/HpA==,AAAA,AAAA",
		"{SCRAM-SHA-256}4096,!!,SKjCQpq+Y16oyFP2R4ZLfzsoRXnf20PmcHKTg4rWfVc=,"
		"u/PTUcPAq0shWs1NAMeCeg0f9lMKOvYoafsBMDX4RU4=",
		/* SHA-1 sized keys in a SHA-256 value */
		"{SCRAM-SHA-256}4096,g8RxJuyOl4Qfer3cOXpDfQ==,ZEU+nj1OKlsDxZsgcfthQ5Uysso=,"
		"bbaChT2OUbDgffEfRb3/qeEOTz0=",
		"{SCRAM-SHA-1}4096,g8RxJuyOl4Qfer3cOXpDfQ==,ZEU+nj1OKlsDxZsgcfthQ5Uysso=,"
		"bbaChT2OUbDgffEfRb3/qeEOTz0=,extra",
		"{CRAM-MD5}4638c77f",
		"{CRAM-MD5}zz38c77f1a70c6fda4ddfa6fbe34e6ee090a0f0088f15da8fed5e0a5ff2b4152",
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert(password_verify("x", bad[i], NULL, &error) == -1);
		test_assert(error != NULL);
	}
	test_end();
}

static void test_scheme_generate(void)
{
	const char *hash, *error;
	struct sasl_credentials creds;

	test_begin("SCRAM and CRAM-MD5 schemes: generate");
	test_assert(password_generate("p\xc3\xa4ss", "scram-sha-256", t_pool(), &hash, &error) == 0);
	test_assert(strncmp(hash, "{SCRAM-SHA-256}4096,", 20) == 0);
	/* 16-byte salt, 32-byte keys: 24 + 44 + 44 base64 characters */
	test_assert(strlen(hash) == 20 + 24 + 1 + 44 + 1 + 44);
	test_assert(password_verify("p\xc3\xa4ss", hash, NULL, &error) == 1);
	test_assert(password_verify("pass", hash, NULL, &error) == 0);
	const char *hash2;
	test_assert(password_generate("p\xc3\xa4ss", "SCRAM-SHA-256", t_pool(), &hash2, &error) == 0);
	test_assert(strcmp(hash, hash2) != 0); /* fresh salt */
	test_assert(password_generate("pw", "SCRAM-SHA-1", t_pool(), &hash, &error) == 0);
	test_assert(strncmp(hash, "{SCRAM-SHA-1}4096,", 18) == 0);
	test_assert(password_verify("pw", hash, NULL, &error) == 1);
	test_assert(password_sasl_generate("SCRAM-SHA-1", "pw", 10000, t_pool(), &hash, &error) == 0);
	test_assert(strncmp(hash, "{SCRAM-SHA-1}10000,", 19) == 0);
	test_assert(password_verify("pw", hash, NULL, &error) == 1);
	test_assert(password_generate("x", "CRAM-MD5", t_pool(), &hash, &error) == 0);
	test_assert_strcmp(hash, DOVEADM_CRAM_MD5);

	test_assert(password_scheme_is_known("Scram-Sha-1"));
	test_assert(password_scheme_is_known("CRAM-MD5"));
	bool listed = false;
	for (const char *const *p = password_schemes_list(); *p != NULL; p++)
		listed = listed || strcmp(*p, "SCRAM-SHA-256") == 0;
	test_assert(listed);

	/* what the mechanisms get out of stored values */
	const char *reason;
	test_assert(password_sasl_get_credentials("{PLAIN}pw", "SCRAM-SHA-1", &creds, &reason) == 1);
	test_assert_strcmp(creds.password, "pw");
	test_assert(password_sasl_get_credentials(DOVEADM_SCRAM_SHA256, "SCRAM-SHA-256-PLUS",
						  &creds, &reason) == 1);
	test_assert(creds.scram_iter == 4096 && creds.scram_key_size == 32 &&
		    creds.scram_salt_size == 16 && creds.password == NULL);
	test_assert(password_sasl_get_credentials(DOVEADM_SCRAM_SHA256, "SCRAM-SHA-1",
						  &creds, &reason) == 0);
	test_assert_strcmp(reason, "stored as SCRAM-SHA-256, which SCRAM-SHA-1 can't use");
	test_assert(password_sasl_get_credentials(DOVEADM_CRAM_MD5, "CRAM-MD5", &creds,
						  &reason) == 1 && creds.have_cram_md5);
	test_assert(password_sasl_get_credentials(DOVEADM_CRAM_MD5, "SCRAM-SHA-1", &creds,
						  &reason) == 0);
	test_assert(password_sasl_get_credentials("{SHA512-CRYPT}$6$x", "CRAM-MD5", &creds,
						  &reason) == 0);
	test_assert(password_sasl_get_credentials("$6$abc$def", "CRAM-MD5", &creds, &reason) == 0);
	test_assert(password_sasl_get_credentials("{SCRAM-SHA-1}1,2", "SCRAM-SHA-1", &creds,
						  &reason) == -1);
	test_end();
}

/* ---- auth requests ---- */

struct test_result {
	pool_t pool;
	unsigned int count;
	enum auth_reply_status status;
	const char *challenge, *user, *reason;
	enum auth_fail_code fail_code;
	struct auth_request *req;
};

static void test_reply_cb(const struct auth_reply *reply, void *context)
{
	struct test_result *r = context;

	r->count++;
	r->status = reply->status;
	r->challenge = p_strdup(r->pool, reply->challenge);
	r->user = p_strdup(r->pool, reply->user);
	r->reason = p_strdup(r->pool, reply->reason);
	r->fail_code = reply->fail_code;
	if (reply->status != AUTH_REPLY_CONTINUE)
		r->req = NULL;
}

static bool wait_reply(struct test_result *r)
{
	unsigned int count = r->count;
	for (unsigned int i = 0; i < 50 && r->count == count; i++)
		ioloop_run_once(100);
	return r->count != count;
}

static const char *b64(const void *data, size_t size)
{
	string_t *str = t_str_new(64);
	base64_encode(data, size, str);
	return str_c(str);
}

static const char *unb64(const char *str, size_t *size_r)
{
	buffer_t *buf = buffer_create(t_pool(), strlen(str));
	i_assert(base64_decode(str, strlen(str), buf) == 0);
	*size_r = buf->used;
	buffer_append_c(buf, '\0');
	return (const char *)buf->data;
}

static struct auth *test_auth(const char *mechs, bool oauth)
{
	struct auth_options opts = {
		.passwd_file = t_strdup_printf("%s/passwd", test_dir),
		.mechanisms = mechs,
	};
	struct auth *auth;
	const char *error;

	if (oauth) {
		opts.oauth2.jwt_secret_file = t_strdup_printf("%s/secret", test_dir);
		opts.oauth2.username_claim = "email";
	}
	if (auth_create(&opts, &auth, &error) < 0)
		i_fatal("auth_create: %s", error);
	return auth;
}

static struct auth_request_info test_info(const char *mech)
{
	return (struct auth_request_info){
		.mech = mech, .protocol = "imap", .session_id = "s1",
		.remote_ip = "10.1.2.3", .local_ip = "10.0.0.1", .secured = true,
	};
}

/* Scripted client: msgs[i] answers the i-th challenge (msgs[0] is the
   initial response or NULL). Returns the final status. */
static enum auth_reply_status run_script(struct auth *auth, const struct auth_request_info *info,
					 const char *const *msgs, unsigned int count,
					 struct test_result *r)
{
	r->req = auth_request_begin(auth, info, msgs[0] == NULL ? NULL :
				    msgs[0][0] == '\0' ? "=" : b64(msgs[0], strlen(msgs[0])),
				    test_reply_cb, r);
	for (unsigned int i = 1; wait_reply(r) && r->status == AUTH_REPLY_CONTINUE; i++) {
		if (i >= count) {
			auth_request_abort(&r->req);
			return AUTH_REPLY_CONTINUE;
		}
		auth_request_continue(r->req, b64(msgs[i], strlen(msgs[i])));
	}
	return r->status;
}

struct gs_client {
	const char *authid, *password;
	const unsigned char *cb;
};

static int gs_client_cb(Gsasl *gctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct gs_client *c = gsasl_session_hook_get(gs);

	switch (prop) {
	case GSASL_AUTHID:
		return gsasl_property_set(gs, prop, c->authid);
	case GSASL_PASSWORD:
		return gsasl_property_set(gs, prop, c->password);
	case GSASL_CB_TLS_EXPORTER:
		return c->cb == NULL ? GSASL_NO_CALLBACK :
			gsasl_property_set(gs, prop, b64(c->cb, 32));
	default:
		return GSASL_NO_CALLBACK;
	}
}

/* A SCRAM exchange with libgsasl as the client. */
static enum auth_reply_status run_scram(struct auth *auth, const char *mech,
					const char *user, const char *password,
					const unsigned char *client_cb,
					const unsigned char *server_cb, struct test_result *r)
{
	static Gsasl *gctx;
	struct gs_client client = { .authid = user, .password = password, .cb = client_cb };
	struct auth_request_info info = test_info(mech);
	Gsasl_session *gs;
	char *out;
	size_t out_len, len;

	if (gctx == NULL) {
		i_assert(gsasl_init(&gctx) == GSASL_OK);
		gsasl_callback_set(gctx, gs_client_cb);
	}
	if (server_cb != NULL) {
		info.channel_binding = server_cb;
		info.channel_binding_size = 32;
	}
	i_assert(gsasl_client_start(gctx, mech, &gs) == GSASL_OK);
	gsasl_session_hook_set(gs, &client);
	i_assert(gsasl_step(gs, NULL, 0, &out, &out_len) == GSASL_NEEDS_MORE);
	r->req = auth_request_begin(auth, &info, b64(out, out_len), test_reply_cb, r);
	gsasl_free(out);
	while (wait_reply(r) && r->status == AUTH_REPLY_CONTINUE) {
		const char *challenge = unb64(r->challenge, &len);
		int ret = gsasl_step(gs, challenge, len, &out, &out_len);
		if (ret != GSASL_OK && ret != GSASL_NEEDS_MORE) {
			/* the server's signature didn't check out */
			auth_request_abort(&r->req);
			gsasl_finish(gs);
			return AUTH_REPLY_CONTINUE;
		}
		auth_request_continue(r->req, out_len == 0 ? "" : b64(out, out_len));
		gsasl_free(out);
	}
	gsasl_finish(gs);
	return r->status;
}

static void test_auth_scram(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth("PLAIN SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS", false);
	unsigned char cb[32], other[32];

	test_begin("auth SCRAM");
	memset(cb, 1, sizeof(cb));
	memset(other, 2, sizeof(other));
	/* doveadm's stored keys, and a cleartext password */
	test_assert(run_scram(auth, "SCRAM-SHA-256", "scram", "x", NULL, NULL, &r) == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "scram");
	test_assert(run_scram(auth, "SCRAM-SHA-1", "scram1", "x", NULL, NULL, &r) == AUTH_REPLY_OK);
	test_assert(run_scram(auth, "SCRAM-SHA-1", "alice", "secret", NULL, NULL, &r) == AUTH_REPLY_OK);
	test_assert(run_scram(auth, "SCRAM-SHA-256", "alice", "secret", NULL, NULL, &r) == AUTH_REPLY_OK);
	/* failures are credential failures, not protocol errors */
	test_assert(run_scram(auth, "SCRAM-SHA-256", "scram", "y", NULL, NULL, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	test_assert_strcmp(r.reason, "Authentication failed.");
	test_assert(run_scram(auth, "SCRAM-SHA-256", "nobody", "x", NULL, NULL, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	/* stored keys of the other hash, a crypt hash: can't be used */
	test_assert(run_scram(auth, "SCRAM-SHA-1", "scram", "x", NULL, NULL, &r) == AUTH_REPLY_FAIL);
	test_assert(run_scram(auth, "SCRAM-SHA-256", "bob", "x", NULL, NULL, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	/* passdb fields still apply */
	test_assert(run_scram(auth, "SCRAM-SHA-256", "carol", "pw", NULL, NULL, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_DISABLED);
	/* -PLUS: bound to this connection only */
	test_assert(run_scram(auth, "SCRAM-SHA-256-PLUS", "scram", "x", cb, cb, &r) == AUTH_REPLY_OK);
	test_assert(run_scram(auth, "SCRAM-SHA-256-PLUS", "scram", "x", other, cb, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	test_assert(run_scram(auth, "SCRAM-SHA-256-PLUS", "scram", "x", cb, NULL, &r) == AUTH_REPLY_FAIL);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static const char *cram_answer(const char *user, const char *password, const char *b64_challenge)
{
	size_t len;
	const char *challenge = unb64(b64_challenge, &len);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	HMAC(EVP_md5(), password, (int)strlen(password), (const unsigned char *)challenge, len,
	     md, &md_len);
	string_t *str = t_str_new(64);
	str_printfa(str, "%s ", user);
	for (unsigned int i = 0; i < md_len; i++)
		str_printfa(str, "%02x", md[i]);
	return b64(str_data(str), str_len(str));
}

static enum auth_reply_status run_cram(struct auth *auth, const char *user,
				       const char *password, struct test_result *r)
{
	struct auth_request_info info = test_info("CRAM-MD5");
	info.secured = false; /* no password crosses the wire */
	r->req = auth_request_begin(auth, &info, NULL, test_reply_cb, r);
	if (!wait_reply(r) || r->status != AUTH_REPLY_CONTINUE)
		return r->status;
	auth_request_continue(r->req, cram_answer(user, password, r->challenge));
	test_assert(wait_reply(r));
	return r->status;
}

static void test_auth_cram_md5(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth("CRAM-MD5", false);

	test_begin("auth CRAM-MD5");
	test_assert(run_cram(auth, "cram", "x", &r) == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "cram");
	test_assert(run_cram(auth, "alice", "secret", &r) == AUTH_REPLY_OK);
	test_assert(run_cram(auth, "alice", "wrong", &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	test_assert(run_cram(auth, "bob", "x", &r) == AUTH_REPLY_FAIL);
	test_assert(run_cram(auth, "nobody", "x", &r) == AUTH_REPLY_FAIL);
	/* a malformed answer is the client's fault */
	struct auth_request_info info = test_info("CRAM-MD5");
	r.req = auth_request_begin(auth, &info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	auth_request_continue(r.req, b64("cram", 4));
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_MALFORMED);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_external(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth("PLAIN EXTERNAL", false);
	struct auth_request_info info = test_info("EXTERNAL");

	test_begin("auth EXTERNAL");
	const char *empty[] = { "" };
	/* no certificate */
	test_assert(run_script(auth, &info, empty, 1, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	info.cert_username = "alice";
	test_assert(run_script(auth, &info, empty, 1, &r) == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "alice");
	const char *self[] = { NULL, "alice" };
	test_assert(run_script(auth, &info, self, 2, &r) == AUTH_REPLY_OK);
	const char *other[] = { "bob" };
	test_assert(run_script(auth, &info, other, 1, &r) == AUTH_REPLY_FAIL);
	test_assert_strcmp(r.reason, "Authorization identity not permitted.");
	/* a certificate for a user we don't have, or who may not log in */
	info.cert_username = "mallory";
	test_assert(run_script(auth, &info, empty, 1, &r) == AUTH_REPLY_FAIL);
	info.cert_username = "carol";
	test_assert(run_script(auth, &info, empty, 1, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_DISABLED);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static const char *b64url(const void *data, size_t size)
{
	char *s = (char *)b64(data, size);
	size_t len = strlen(s);
	while (len > 0 && s[len - 1] == '=')
		s[--len] = '\0';
	for (char *c = s; *c != '\0'; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	return s;
}

static const char *hs256_token(const char *email, long exp_offset)
{
	const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	const char *claims = t_strdup_printf("{\"email\":\"%s\",\"exp\":%ld}", email,
					     (long)time(NULL) + exp_offset);
	const char *input = t_strdup_printf("%s.%s", b64url(header, strlen(header)),
					    b64url(claims, strlen(claims)));
	unsigned char mac[32];
	unsigned int len;
	HMAC(EVP_sha256(), TEST_SECRET, strlen(TEST_SECRET), (const unsigned char *)input,
	     strlen(input), mac, &len);
	return t_strdup_printf("%s.%s", input, b64url(mac, len));
}

static void test_auth_oauth(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth("OAUTHBEARER XOAUTH2", true);
	struct auth_request_info info = test_info("OAUTHBEARER");

	test_begin("auth OAUTHBEARER, XOAUTH2");
	const char *ok[] = { t_strdup_printf("n,a=alice,\x01" "auth=Bearer %s\x01\x01",
					     hs256_token("alice", 300)) };
	test_assert(run_script(auth, &info, ok, 1, &r) == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "alice");
	const char *noa[] = { t_strdup_printf("n,,\x01" "auth=Bearer %s\x01\x01",
					      hs256_token("alice", 300)) };
	test_assert(run_script(auth, &info, noa, 1, &r) == AUTH_REPLY_OK);
	/* expired: the JSON error, the dummy answer, then the failure */
	const char *expired[] = { t_strdup_printf("n,a=alice,\x01" "auth=Bearer %s\x01\x01",
						  hs256_token("alice", -3600)), "\x01" };
	test_assert(run_script(auth, &info, expired, 1, &r) == AUTH_REPLY_CONTINUE);
	test_assert(run_script(auth, &info, expired, 2, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	test_assert_strcmp(r.reason, "Authentication failed.");
	/* a good token for someone else than asked for */
	const char *mismatch[] = { t_strdup_printf("n,a=bob,\x01" "auth=Bearer %s\x01\x01",
						   hs256_token("alice", 300)), "\x01" };
	test_assert(run_script(auth, &info, mismatch, 2, &r) == AUTH_REPLY_FAIL);
	/* a good token for a user the userdb doesn't know */
	const char *unknown[] = { t_strdup_printf("n,,\x01" "auth=Bearer %s\x01\x01",
						  hs256_token("nobody", 300)), "\x01" };
	test_assert(run_script(auth, &info, unknown, 2, &r) == AUTH_REPLY_FAIL);
	/* bearer tokens are secrets: TLS only */
	info.secured = false;
	test_assert(run_script(auth, &info, ok, 1, &r) == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_PLAINTEXT_INSECURE);

	info = test_info("XOAUTH2");
	const char *x_ok[] = { t_strdup_printf("user=alice\x01" "auth=Bearer %s\x01\x01",
					       hs256_token("alice", 300)) };
	test_assert(run_script(auth, &info, x_ok, 1, &r) == AUTH_REPLY_OK);
	const char *x_bad[] = { t_strdup_printf("user=alice\x01" "auth=Bearer %s\x01\x01",
						hs256_token("alice", -3600)), "" };
	test_assert(run_script(auth, &info, x_bad, 1, &r) == AUTH_REPLY_CONTINUE);
	size_t len;
	test_assert_strcmp(unb64(r.challenge, &len), "{\"status\":\"401\",\"schemes\":\"bearer\"}");
	test_assert(run_script(auth, &info, x_bad, 2, &r) == AUTH_REPLY_FAIL);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_mech_list(void)
{
	struct auth_options opts = {
		.passwd_file = t_strdup_printf("%s/passwd", test_dir),
		.mechanisms = "PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS EXTERNAL XOAUTH2",
	};
	struct auth *auth;
	const char *error;

	test_begin("auth mechanisms per connection");
	/* a token mechanism needs a way to check tokens */
	test_assert(auth_create(&opts, &auth, &error) == -1);
	test_assert(strstr(error, "XOAUTH2") != NULL);
	opts.oauth2.introspection_url = "http://127.0.0.1:1/introspect";
	test_assert(auth_create(&opts, &auth, &error) == 0);
	test_assert_strcmp(auth_get_mechanisms_for(auth, false, false, false), "SCRAM-SHA-256");
	test_assert_strcmp(auth_get_mechanisms_for(auth, true, false, false),
			   "PLAIN SCRAM-SHA-256 XOAUTH2");
	test_assert_strcmp(auth_get_mechanisms_for(auth, true, true, true),
			   "PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS EXTERNAL XOAUTH2");
	auth_destroy(&auth);
	opts.oauth2.introspection_url = "";
	opts.oauth2.jwt_secret_file = "/nonexistent";
	test_assert(auth_create(&opts, &auth, &error) == -1);
	test_end();
}

static void write_file(const char *name, const char *contents)
{
	const char *path = t_strdup_printf("%s/%s", test_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, contents, strlen(contents)) != (ssize_t)strlen(contents))
		i_fatal("writing %s failed", path);
	close(fd);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_scheme_verify,
		test_scheme_generate,
		test_auth_scram,
		test_auth_cram_md5,
		test_auth_external,
		test_auth_oauth,
		test_auth_mech_list,
		NULL,
	};
	const char *bob_hash, *error;

	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	if (password_generate("x", "SHA512-CRYPT", t_pool(), &bob_hash, &error) < 0)
		i_fatal("%s", error);
	write_file("passwd", t_strdup_printf(
		"alice:{PLAIN}secret::::/home/alice::\n"
		"bob:%s\n"
		"carol:{PLAIN}pw::::::nologin reason=suspended\n"
		"scram:" DOVEADM_SCRAM_SHA256 "\n"
		"scram1:" DOVEADM_SCRAM_SHA1 "\n"
		"cram:" DOVEADM_CRAM_MD5 "\n", bob_hash));
	write_file("secret", TEST_SECRET "\n");
	ioloop_init();
	int ret = test_run(tests);
	ioloop_deinit();
	if (system(t_strdup_printf("rm -rf %s", test_dir)) != 0)
		ret = 1;
	return ret;
}
