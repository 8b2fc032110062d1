/* End-to-end tests of auth requests over a temporary passwd-file, driven by
 * the event loop: PLAIN and LOGIN exchanges, failures and their delay,
 * refused mechanisms, extra fields (nologin, allow_nets), cancelling. */
#include "test-common.h"
#include "auth-allow-nets.h"
#include "auth-password.h"
#include "auth-request.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

struct test_result {
	pool_t pool;
	unsigned int count;
	enum auth_reply_status status;
	const char *challenge, *user, *reason, *home, *quota;
	bool temporary;
	enum auth_fail_code fail_code;
	/* what the callback should do */
	bool abort_in_callback;
	struct auth_request *req;
};

static char test_dir[] = "/tmp/test-auth-request.XXXXXX";
static const char *passwd_path;

static void test_reply_cb(const struct auth_reply *reply, void *context)
{
	struct test_result *r = context;

	r->count++;
	r->status = reply->status;
	r->challenge = p_strdup(r->pool, reply->challenge);
	r->user = p_strdup(r->pool, reply->user);
	r->reason = p_strdup(r->pool, reply->reason);
	r->temporary = reply->temporary;
	r->fail_code = reply->fail_code;
	r->home = NULL;
	r->quota = NULL;
	if (reply->userdb != NULL) {
		r->home = p_strdup(r->pool, reply->userdb->home);
		r->quota = p_strdup(r->pool, auth_user_extra_get(reply->userdb,
								 "quota_rule"));
	}
	if (r->abort_in_callback) {
		/* allowed for every reply; the request goes when we return */
		auth_request_abort(&r->req);
		test_assert(r->req == NULL);
	}
	if (reply->status != AUTH_REPLY_CONTINUE)
		r->req = NULL; /* freed after we return */
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop until the next reply; returns false on timeout. */
static bool wait_reply(struct test_result *r)
{
	unsigned int count = r->count;
	uint64_t start = now_ms();

	while (r->count == count && now_ms() - start < 5000)
		ioloop_run_once(100);
	return r->count != count;
}

static const char *b64(const void *data, size_t size)
{
	string_t *str = t_str_new(64);
	base64_encode(data, size, str);
	return str_c(str);
}

static const char *plain_msg(const char *authzid, const char *user, const char *pass)
{
	string_t *str = t_str_new(64);
	str_append(str, authzid);
	str_append_c(str, '\0');
	str_append(str, user);
	str_append_c(str, '\0');
	str_append(str, pass);
	return b64(str_data(str), str_len(str));
}

static const struct auth_request_info secured_info = {
	.mech = "PLAIN", .protocol = "imap", .session_id = "sess1",
	.remote_ip = "10.1.2.3", .local_ip = "10.0.0.1",
	.remote_port = 50000, .local_port = 143, .secured = true,
};

static struct auth *test_auth_create(unsigned int delay_ms, bool allow_insecure)
{
	struct auth_options opts = {
		.passwd_file = passwd_path,
		.failure_delay_ms = delay_ms,
		.allow_insecure_plaintext = allow_insecure,
	};
	struct auth *auth;
	const char *error;

	if (auth_create(&opts, &auth, &error) < 0)
		i_fatal("auth_create: %s", error);
	return auth;
}

/* One PLAIN attempt with an initial response; returns the final reply. */
static void run_plain(struct auth *auth, const struct auth_request_info *info,
		      const char *authzid, const char *user, const char *pass,
		      struct test_result *r)
{
	unsigned int count = r->count;

	r->req = auth_request_begin(auth, info, plain_msg(authzid, user, pass),
				    test_reply_cb, r);
	/* never called from inside begin */
	test_assert(r->count == count);
	test_assert(wait_reply(r));
}

static void test_auth_plain_ok(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(0, false);

	test_begin("auth PLAIN ok");
	test_assert_strcmp(auth_get_mechanisms(auth, true), "PLAIN LOGIN");
	test_assert_strcmp(auth_get_mechanisms(auth, false), "");
	run_plain(auth, &secured_info, "", "alice", "secret", &r);
	test_assert(r.count == 1 && r.status == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "alice");
	test_assert_strcmp(r.home, "/home/alice");
	test_assert_strcmp(r.quota, "*:storage=1G");

	/* crypt hash, and no initial response: an empty challenge first */
	r.req = auth_request_begin(auth, &secured_info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, "");
	auth_request_continue(r.req, plain_msg("", "bob", "bob pw"));
	test_assert(r.count == 2);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "bob");

	/* "=" is an empty initial response (RFC 4959) */
	r.req = auth_request_begin(auth, &secured_info, "=", test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	auth_request_continue(r.req, plain_msg("", "alice", "secret"));
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_OK);
	test_end();
	auth_destroy(&auth);
	test_assert(auth == NULL);
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_login_ok(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(0, false);
	struct auth_request_info info = secured_info;

	test_begin("auth LOGIN ok");
	info.mech = "login";
	r.req = auth_request_begin(auth, &info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, b64("User Name", 9));
	auth_request_continue(r.req, b64("bob", 3));
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, b64("Password", 8));
	auth_request_continue(r.req, b64("bob pw", 6));
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_OK);
	test_assert_strcmp(r.user, "bob");
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_failures(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(10, false);
	uint64_t start;

	test_begin("auth failures are delayed");
	start = now_ms();
	run_plain(auth, &secured_info, "", "alice", "wrong", &r);
	test_assert(now_ms() - start >= 10);
	test_assert(r.status == AUTH_REPLY_FAIL && !r.temporary);
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);
	test_assert_strcmp(r.reason, "Authentication failed.");

	start = now_ms();
	run_plain(auth, &secured_info, "", "nosuchuser", "secret", &r);
	test_assert(now_ms() - start >= 10);
	test_assert(r.status == AUTH_REPLY_FAIL && !r.temporary);
	test_assert_strcmp(r.reason, "Authentication failed.");

	/* authorization identities aren't supported yet */
	run_plain(auth, &secured_info, "bob", "alice", "secret", &r);
	test_assert(r.status == AUTH_REPLY_FAIL);

	/* a broken hash in the file is our problem, not the client's */
	run_plain(auth, &secured_info, "", "badhash", "x", &r);
	test_assert(r.status == AUTH_REPLY_FAIL && r.temporary);
	test_assert(r.fail_code == AUTH_FAIL_TEMPORARY);
	test_assert_strcmp(r.reason, "Temporary authentication failure.");

	/* LOGIN with a wrong password */
	struct auth_request_info info = secured_info;
	info.mech = "LOGIN";
	r.req = auth_request_begin(auth, &info, b64("bob", 3), test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, b64("Password", 8));
	auth_request_continue(r.req, b64("nope", 4));
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_refused(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(0, false);
	struct auth_request_info info = secured_info;

	test_begin("auth mechanism refused");
	info.secured = false;
	run_plain(auth, &info, "", "alice", "secret", &r);
	test_assert(r.status == AUTH_REPLY_FAIL && !r.temporary);
	test_assert(strstr(r.reason, "Plaintext authentication disallowed") != NULL);
	test_assert(r.fail_code == AUTH_FAIL_PLAINTEXT_INSECURE);

	info.mech = "CRAM-MD5";
	info.secured = true;
	r.req = auth_request_begin(auth, &info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_assert_strcmp(r.reason, "Unsupported authentication mechanism.");
	test_assert(r.fail_code == AUTH_FAIL_MECH_UNSUPPORTED);
	info.mech = NULL;
	r.req = auth_request_begin(auth, &info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);

	/* bad base64 */
	r.req = auth_request_begin(auth, &secured_info, "not base64!", test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_assert_strcmp(r.reason, "Invalid base64 data.");
	test_assert(r.fail_code == AUTH_FAIL_MALFORMED);
	r.req = auth_request_begin(auth, &secured_info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	auth_request_continue(r.req, "AAA");
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);

	/* oversized response */
	char *big = i_malloc(AUTH_REQUEST_MAX_RESPONSE_LEN + 5);
	memset(big, 'A', AUTH_REQUEST_MAX_RESPONSE_LEN + 4);
	big[AUTH_REQUEST_MAX_RESPONSE_LEN + 4] = '\0';
	r.req = auth_request_begin(auth, &secured_info, big, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	free(big);

	/* the client cancels */
	r.req = auth_request_begin(auth, &secured_info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	auth_request_continue(r.req, "*");
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_ABORTED);

	/* a malformed SASL message */
	r.req = auth_request_begin(auth, &secured_info, b64("no nuls", 7),
				   test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	test_assert(r.fail_code == AUTH_FAIL_MALFORMED);
	test_end();
	auth_destroy(&auth);

	test_begin("auth plaintext allowed on unsecured connections");
	auth = test_auth_create(0, true);
	test_assert_strcmp(auth_get_mechanisms(auth, false), "PLAIN LOGIN");
	info = secured_info;
	info.secured = false;
	run_plain(auth, &info, "", "alice", "secret", &r);
	test_assert(r.status == AUTH_REPLY_OK);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_extra_fields(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(0, false);
	struct auth_request_info info = secured_info;

	test_begin("auth nologin and allow_nets");
	run_plain(auth, &info, "", "carol", "pw", &r);
	test_assert(r.status == AUTH_REPLY_FAIL);
	test_assert_strcmp(r.reason, "suspended");
	test_assert(r.fail_code == AUTH_FAIL_DISABLED);
	/* without the right password nologin isn't revealed */
	run_plain(auth, &info, "", "carol", "bad", &r);
	test_assert_strcmp(r.reason, "Authentication failed.");
	test_assert(r.fail_code == AUTH_FAIL_CREDENTIALS);

	run_plain(auth, &info, "", "dave", "pw", &r);
	test_assert(r.status == AUTH_REPLY_OK);
	info.remote_ip = "192.168.1.1";
	run_plain(auth, &info, "", "dave", "pw", &r);
	test_assert(r.status == AUTH_REPLY_FAIL && !r.temporary);
	info.remote_ip = "::1";
	run_plain(auth, &info, "", "dave", "pw", &r);
	test_assert(r.status == AUTH_REPLY_OK);
	info.remote_ip = NULL;
	run_plain(auth, &info, "", "dave", "pw", &r);
	test_assert(r.status == AUTH_REPLY_FAIL);
	test_end();
	auth_destroy(&auth);
	pool_destroy(&r.pool);
}

static void test_auth_abort(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth *auth = test_auth_create(0, false);

	test_begin("auth abort");
	/* before any reply: no callback ever */
	r.req = auth_request_begin(auth, &secured_info, plain_msg("", "alice", "secret"),
				   test_reply_cb, &r);
	auth_request_abort(&r.req);
	test_assert(r.req == NULL);
	auth_request_abort(&r.req);
	for (unsigned int i = 0; i < 3; i++)
		ioloop_run_once(5);
	test_assert(r.count == 0);

	/* waiting for the client */
	r.req = auth_request_begin(auth, &secured_info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	auth_request_abort(&r.req);

	/* from inside the callbacks */
	r.abort_in_callback = true;
	r.req = auth_request_begin(auth, &secured_info, NULL, test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_CONTINUE);
	test_assert(r.req == NULL);
	r.req = auth_request_begin(auth, &secured_info, plain_msg("", "alice", "secret"),
				   test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_OK);
	r.req = auth_request_begin(auth, &secured_info, plain_msg("", "alice", "bad"),
				   test_reply_cb, &r);
	test_assert(wait_reply(&r) && r.status == AUTH_REPLY_FAIL);
	r.abort_in_callback = false;

	/* auth_destroy frees pending requests */
	r.req = auth_request_begin(auth, &secured_info, plain_msg("", "alice", "x"),
				   test_reply_cb, &r);
	unsigned int count = r.count;
	auth_destroy(&auth);
	ioloop_run_once(20);
	test_assert(r.count == count);
	test_end();
	pool_destroy(&r.pool);
}

static void test_auth_missing_file(void)
{
	struct test_result r = { .pool = pool_create("r", 512) };
	struct auth_options opts = { .passwd_file = "/nonexistent/tern/passwd" };
	struct auth *auth;
	const char *error;

	test_begin("auth passdb missing");
	test_assert(auth_create(&opts, &auth, &error) == 0);
	run_plain(auth, &secured_info, "", "alice", "secret", &r);
	test_assert(r.status == AUTH_REPLY_FAIL && r.temporary);
	auth_destroy(&auth);
	test_end();
	pool_destroy(&r.pool);
}

static void test_auth_create_errors(void)
{
	struct auth_options opts = { .passwd_file = passwd_path };
	struct auth *auth;
	const char *error;

	test_begin("auth create");
	opts.mechanisms = "plain DIGEST-MD5";
	test_assert(auth_create(&opts, &auth, &error) == -1 && auth == NULL);
	test_assert(strstr(error, "DIGEST-MD5") != NULL);
	opts.mechanisms = "  ";
	test_assert(auth_create(&opts, &auth, &error) == -1);
	opts.mechanisms = "login plain LOGIN";
	test_assert(auth_create(&opts, &auth, &error) == 0);
	test_assert_strcmp(auth_get_mechanisms(auth, true), "LOGIN PLAIN");
	auth_destroy(&auth);
	opts.passwd_file = NULL;
	test_assert(auth_create(&opts, &auth, &error) == -1);
	test_end();
}

static void test_auth_allow_nets(void)
{
	const char *error;

	test_begin("auth allow_nets");
	test_assert(auth_allow_nets_match("127.0.0.0/8", "127.1.2.3", &error) == 1);
	test_assert(auth_allow_nets_match("127.0.0.0/8", "128.0.0.1", &error) == 0);
	test_assert(auth_allow_nets_match("10.0.0.1", "10.0.0.1", &error) == 1);
	test_assert(auth_allow_nets_match("10.0.0.1", "10.0.0.2", &error) == 0);
	test_assert(auth_allow_nets_match("192.168.0.0/23,10.0.0.0/8", "192.168.1.255", &error) == 1);
	test_assert(auth_allow_nets_match("192.168.0.0/23", "192.168.2.0", &error) == 0);
	test_assert(auth_allow_nets_match("0.0.0.0/0", "1.2.3.4", &error) == 1);
	test_assert(auth_allow_nets_match("2001:db8::/32", "2001:db8:1::5", &error) == 1);
	test_assert(auth_allow_nets_match("2001:db8::/33", "2001:db8:8000::5", &error) == 0);
	test_assert(auth_allow_nets_match("127.0.0.1", "::ffff:127.0.0.1", &error) == 1);
	test_assert(auth_allow_nets_match("::ffff:10.0.0.0/104", "10.9.9.9", &error) == 1);
	test_assert(auth_allow_nets_match("::1", "127.0.0.1", &error) == 0);
	test_assert(auth_allow_nets_match("local", NULL, &error) == 1);
	test_assert(auth_allow_nets_match("local", "127.0.0.1", &error) == 0);
	test_assert(auth_allow_nets_match("127.0.0.1", NULL, &error) == 0);
	test_assert(auth_allow_nets_match("10.0.0.0/33", "10.0.0.1", &error) == -1);
	test_assert(auth_allow_nets_match("10.0.0.0/x", "10.0.0.1", &error) == -1);
	test_assert(auth_allow_nets_match("bogus", "10.0.0.1", &error) == -1);
	test_assert(auth_allow_nets_match("10.0.0.0/8", "bogus", &error) == -1);
	test_end();
}

static void write_passwd_file(void)
{
	const char *bob_hash, *error;
	if (password_generate("bob pw", "SHA512-CRYPT", t_pool(), &bob_hash, &error) < 0)
		i_fatal("%s", error);
	const char *contents = t_strdup_printf(
		"# test users\n"
		"alice:{PLAIN}secret::::/home/alice::userdb_quota_rule=*:storage=1G\n"
		"bob:%s\n"
		"carol:{PLAIN}pw::::::nologin reason=suspended\n"
		"dave:{PLAIN}pw::::::allow_nets=10.0.0.0/8,::1\n"
		"badhash:{NOSUCH}x\n", bob_hash);
	passwd_path = i_strdup(t_strdup_printf("%s/passwd", test_dir));
	int fd = open(passwd_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, contents, strlen(contents)) != (ssize_t)strlen(contents))
		i_fatal("writing %s failed", passwd_path);
	i_close_fd(&fd);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_auth_plain_ok,
		test_auth_login_ok,
		test_auth_failures,
		test_auth_refused,
		test_auth_extra_fields,
		test_auth_abort,
		test_auth_missing_file,
		test_auth_create_errors,
		test_auth_allow_nets,
		NULL,
	};

	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	write_passwd_file();
	ioloop_init();
	int ret = test_run(tests);
	ioloop_deinit();
	unlink(passwd_path);
	rmdir(test_dir);
	free((char *)passwd_path);
	return ret;
}
