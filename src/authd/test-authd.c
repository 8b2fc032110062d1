/* Both ends of the client protocol in one process over real Unix sockets
 * in a temporary directory, with a real auth service on a temporary
 * passwd-file: the handshake, PLAIN and LOGIN through auth_client, wrong
 * passwords, pipelined requests, aborts, failure codes, APOP, the request
 * limit, an auth process restart, malformed and oversized lines from a raw
 * client, and a misbehaving server seen by auth_client. The master socket
 * is tested in test-authd-master.c. */
#include "test-common.h"
#include "test-authd-common.h"
#include "base64.h"

#include <openssl/evp.h>
#include <sys/socket.h>

static void test_authd_handshake(void)
{
	struct test_server srv;
	struct auth_client *client;

	test_begin("authd handshake and mechanisms");
	test_server_start(&srv, 0, NULL);
	client = test_client_create();
	test_assert(!auth_client_is_ready(client));
	test_assert_strcmp(auth_client_get_mechanisms(client, true), "");
	test_assert(test_wait_ready(client));
	test_assert_strcmp(auth_client_get_mechanisms(client, true), "PLAIN LOGIN");
	/* plaintext mechanisms only on secured connections; APOP is private */
	test_assert_strcmp(auth_client_get_mechanisms(client, false), "");
	auth_client_destroy(&client);
	test_assert(client == NULL);

	/* what a raw client (Postfix) sees */
	int fd = test_raw_connect(client_path);
	string_t *buf = test_str_new();
	test_raw_send(fd, "VERSION\t1\t0\nCPID\t1234\n");
	test_assert(test_raw_wait(fd, buf, "DONE\n", NULL));
	const char *hs = str_c(buf);
	const char *prefix = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
		"MECH\tAPOP\tprivate\nSPID\t";
	test_assert(strncmp(hs, prefix, strlen(prefix)) == 0);
	test_assert(strstr(hs, "\nCUID\t") != NULL);
	const char *cookie = strstr(hs, "\nCOOKIE\t");
	test_assert(cookie != NULL && strlen(cookie) == 8 + 32 + 1 + 5);
	close(fd);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_plain_ok(void)
{
	struct test_server srv;
	struct test_reply r;
	struct auth_client *client;

	test_begin("authd PLAIN ok");
	test_server_start(&srv, 0, NULL);
	client = test_client_create();
	test_reply_init(&r);
	test_run_plain(client, &test_secured_info, "alice", "secret", &r);
	test_assert(r.count == 1 && r.status == AUTH_CLIENT_REPLY_OK);
	test_assert_strcmp(r.user, "alice");
	test_assert(r.have_login && r.login.client_pid == getpid() &&
		    r.login.server_pid == getpid() && r.login.connection_uid >= 1);
	test_assert(auth_proto_cookie_is_valid(r.login.cookie));
	test_assert(authd_pending_login_count(srv.authd) == 1);
	/* a second login on the same connection: another id, the same cookie */
	char *cookie = i_strdup(r.login.cookie);
	unsigned int id = r.login.request_id;
	test_run_plain(client, &test_secured_info, "alice@", "secret", &r);
	test_assert(r.count == 2 && r.status == AUTH_CLIENT_REPLY_FAIL);
	test_run_plain(client, &test_secured_info, "bob", "pw", &r);
	test_assert(r.count == 3 && r.status == AUTH_CLIENT_REPLY_OK);
	test_assert_strcmp(r.user, "bob");
	test_assert(r.login.request_id != id);
	test_assert_strcmp(r.login.cookie, cookie);
	test_assert(authd_pending_login_count(srv.authd) == 2);
	free(cookie);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_login_mech(void)
{
	struct test_server srv;
	struct test_reply r;
	struct auth_client *client;
	struct auth_client_request_info info = test_secured_info;

	test_begin("authd LOGIN exchange");
	test_server_start(&srv, 0, NULL);
	client = test_client_create();
	test_reply_init(&r);
	info.mech = "LOGIN";
	r.req = auth_client_request_begin(client, &info, NULL, test_reply_cb, &r);
	test_assert(r.count == 0);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, test_b64("User Name", 9));
	auth_client_request_continue(r.req, test_b64("alice", 5));
	test_assert(r.count == 1);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, test_b64("Password", 8));
	auth_client_request_continue(r.req, test_b64("secret", 6));
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_OK);
	test_assert_strcmp(r.user, "alice");

	/* PLAIN without an initial response: an empty challenge first */
	info.mech = "PLAIN";
	r.req = auth_client_request_begin(client, &info, NULL, test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_CONTINUE);
	test_assert_strcmp(r.challenge, "");
	auth_client_request_continue(r.req, test_plain_msg("", "bob", "pw"));
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_OK);
	test_assert_strcmp(r.user, "bob");
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_failures(void)
{
	struct test_server srv;
	struct test_reply r;
	struct auth_client *client;
	struct auth_client_request_info info = test_secured_info;

	test_begin("authd failures and their codes");
	test_server_start(&srv, 0, NULL);
	client = test_client_create();
	test_reply_init(&r);
	test_run_plain(client, &info, "alice", "wrong", &r);
	test_assert(r.status == AUTH_CLIENT_REPLY_FAIL &&
		    r.fail_code == AUTH_CLIENT_FAIL_CREDENTIALS && !r.temporary);
	test_assert_strcmp(r.reason, "Authentication failed.");
	test_run_plain(client, &info, "nosuchuser", "x", &r);
	test_assert(r.status == AUTH_CLIENT_REPLY_FAIL &&
		    r.fail_code == AUTH_CLIENT_FAIL_CREDENTIALS);
	/* nologin with a referral */
	test_run_plain(client, &info, "carol", "pw", &r);
	test_assert(r.status == AUTH_CLIENT_REPLY_FAIL && r.fail_code == AUTH_CLIENT_FAIL_DISABLED);
	test_assert_strcmp(r.reason, "suspended");
	test_assert_strcmp(r.referral, "imap://other.example/");
	/* plaintext on a non-loopback, unsecured connection */
	info.secured = false;
	test_run_plain(client, &info, "alice", "secret", &r);
	test_assert(r.fail_code == AUTH_CLIENT_FAIL_PLAINTEXT_INSECURE);
	/* a loopback client is secured even without the flag (Postfix) */
	info.remote_ip = "127.0.0.1";
	test_run_plain(client, &info, "alice", "secret", &r);
	test_assert(r.status == AUTH_CLIENT_REPLY_OK);
	info = test_secured_info;
	info.mech = "CRAM-MD5X";
	r.req = auth_client_request_begin(client, &info, "=", test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.fail_code == AUTH_CLIENT_FAIL_MECH_UNSUPPORTED);
	info.mech = "PLAIN";
	r.req = auth_client_request_begin(client, &info, "not*base64", test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.fail_code == AUTH_CLIENT_FAIL_MALFORMED);
	/* "*" cancels the exchange */
	info.mech = "LOGIN";
	r.req = auth_client_request_begin(client, &info, NULL, test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_CONTINUE);
	auth_client_request_continue(r.req, "*");
	test_assert(test_wait_reply(&r) && r.fail_code == AUTH_CLIENT_FAIL_ABORTED);
	test_assert(authd_pending_login_count(srv.authd) == 1);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_pipelined(void)
{
#define PIPELINE_COUNT 60
	struct test_server srv;
	struct test_reply r[PIPELINE_COUNT];
	struct auth_client *client;

	test_begin("authd pipelined requests");
	/* failures are delayed: they overlap with everything else */
	test_server_start(&srv, 30, NULL);
	client = test_client_create();
	for (unsigned int i = 0; i < PIPELINE_COUNT; i++) {
		test_reply_init(&r[i]);
		const char *user = i % 3 == 0 ? "alice" : i % 3 == 1 ? "bob" : "alice";
		const char *pass = i % 3 == 0 ? "secret" : i % 3 == 1 ? "pw" : "bad";
		/* sent before the handshake is even done: queued */
		r[i].req = auth_client_request_begin(client, &test_secured_info,
						     test_plain_msg("", user, pass),
						     test_reply_cb, &r[i]);
	}
	unsigned int ok = 0, fail = 0;
	for (unsigned int i = 0; i < PIPELINE_COUNT; i++) {
		test_assert(test_wait_reply(&r[i]));
		test_assert(r[i].count == 1);
		if (i % 3 == 2) {
			fail += r[i].status == AUTH_CLIENT_REPLY_FAIL ? 1 : 0;
		} else {
			ok += r[i].status == AUTH_CLIENT_REPLY_OK ? 1 : 0;
			test_assert_strcmp(r[i].user, i % 3 == 0 ? "alice" : "bob");
		}
	}
	test_assert(ok == PIPELINE_COUNT * 2 / 3 && fail == PIPELINE_COUNT / 3);
	test_assert(authd_pending_login_count(srv.authd) == ok);
	for (unsigned int i = 0; i < PIPELINE_COUNT; i++)
		test_reply_deinit(&r[i]);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_abort(void)
{
	struct test_server srv;
	struct test_reply r, r2;
	struct auth_client *client;
	struct auth_client_request_info info = test_secured_info;

	test_begin("authd abort");
	test_server_start(&srv, 50, NULL);
	client = test_client_create();
	test_assert(test_wait_ready(client));
	test_reply_init(&r);
	test_reply_init(&r2);
	/* aborted while its (delayed) failure is on its way */
	r.req = auth_client_request_begin(client, &info, test_plain_msg("", "alice", "bad"),
					  test_reply_cb, &r);
	test_run_loop_ms(10);
	auth_client_request_abort(&r.req);
	test_assert(r.req == NULL);
	/* aborted while the server waits for our CONT */
	info.mech = "LOGIN";
	r2.req = auth_client_request_begin(client, &info, NULL, test_reply_cb, &r2);
	test_assert(test_wait_reply(&r2) && r2.status == AUTH_CLIENT_REPLY_CONTINUE);
	auth_client_request_abort(&r2.req);
	test_run_loop_ms(150);
	test_assert(r.count == 0 && r2.count == 1);
	/* aborted from inside its own callback */
	r2.abort_in_callback = true;
	r2.req = auth_client_request_begin(client, &info, NULL, test_reply_cb, &r2);
	test_assert(test_wait_reply(&r2) && r2.status == AUTH_CLIENT_REPLY_CONTINUE);
	test_assert(r2.req == NULL);
	test_run_loop_ms(20);
	test_assert(r2.count == 2);
	/* and the connection still works */
	info.mech = "PLAIN";
	test_run_plain(client, &info, "alice", "secret", &r);
	test_assert(r.count == 1 && r.status == AUTH_CLIENT_REPLY_OK);
	test_reply_deinit(&r);
	test_reply_deinit(&r2);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static const char *test_apop_digest(const char *challenge, const char *password)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	const char *input = t_strconcat(challenge, password, NULL);
	string_t *hex = t_str_new(33);

	EVP_Digest(input, strlen(input), md, &md_len, EVP_md5(), NULL);
	for (unsigned int i = 0; i < md_len; i++)
		str_printfa(hex, "%02x", md[i]);
	return str_c(hex);
}

static void test_authd_apop(void)
{
	struct test_server srv;
	struct test_reply r;
	struct auth_client *client;
	struct auth_client_request_info info = test_secured_info;
	const char *challenge = "<1234.5678@tern.test>";

	test_begin("authd APOP");
	test_server_start(&srv, 0, NULL);
	client = test_client_create();
	test_reply_init(&r);
	info.protocol = "pop3";
	info.mech = "APOP";
	info.secured = false; /* no password crosses the wire */
	r.req = auth_client_request_begin_apop(client, &info, "alice", challenge,
					       test_apop_digest(challenge, "secret"),
					       test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_OK);
	test_assert_strcmp(r.user, "alice");
	r.req = auth_client_request_begin_apop(client, &info, "alice", challenge,
					       test_apop_digest(challenge, "wrong"),
					       test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_FAIL &&
		    r.fail_code == AUTH_CLIENT_FAIL_CREDENTIALS);
	/* a malformed APOP message */
	r.req = auth_client_request_begin(client, &info, test_b64("only\0two", 8),
					  test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.fail_code == AUTH_CLIENT_FAIL_MALFORMED);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_request_limit(void)
{
	struct test_server srv;
	struct test_reply r[3];
	struct auth_client *client;
	struct authd_settings set = { .max_requests_per_connection = 2 };

	test_begin("authd request limit per connection");
	test_server_start(&srv, 100, &set);
	client = test_client_create();
	test_assert(test_wait_ready(client));
	for (unsigned int i = 0; i < 3; i++) {
		test_reply_init(&r[i]);
		r[i].req = auth_client_request_begin(client, &test_secured_info,
						     test_plain_msg("", "alice", "bad"),
						     test_reply_cb, &r[i]);
	}
	/* the third one is refused at once, the others fail after the delay */
	test_assert(test_wait_reply(&r[2]) && r[2].temporary &&
		    r[2].fail_code == AUTH_CLIENT_FAIL_TEMPORARY);
	test_assert_strcmp(r[2].reason, "Too many authentication requests.");
	test_assert(r[0].count == 0 && r[1].count == 0);
	test_assert(test_wait_reply(&r[0]) && test_wait_reply(&r[1]));
	test_assert(!r[0].temporary && !r[1].temporary);
	for (unsigned int i = 0; i < 3; i++)
		test_reply_deinit(&r[i]);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_restart(void)
{
	struct test_server srv;
	struct test_reply r, r2;
	struct auth_client *client;

	test_begin("authd restart: in-flight requests fail, then reconnect");
	test_server_start(&srv, 200, NULL);
	client = test_client_create();
	test_assert(test_wait_ready(client));
	test_reply_init(&r);
	test_reply_init(&r2);
	r.req = auth_client_request_begin(client, &test_secured_info,
					  test_plain_msg("", "alice", "bad"), test_reply_cb, &r);
	test_run_loop_ms(20);
	test_server_stop(&srv);
	test_assert(test_wait_reply(&r) && r.status == AUTH_CLIENT_REPLY_FAIL && r.temporary &&
		    r.fail_code == AUTH_CLIENT_FAIL_TEMPORARY);
	/* a request while the auth process is away waits for it */
	r2.req = auth_client_request_begin(client, &test_secured_info,
					   test_plain_msg("", "alice", "secret"),
					   test_reply_cb, &r2);
	test_run_loop_ms(150);
	test_assert(r2.count == 0 && !auth_client_is_ready(client));
	test_server_start(&srv, 0, NULL);
	test_assert(test_wait_reply(&r2) && r2.status == AUTH_CLIENT_REPLY_OK);
	test_assert(auth_client_is_ready(client));
	test_reply_deinit(&r);
	test_reply_deinit(&r2);
	auth_client_destroy(&client);
	test_server_stop(&srv);

	/* nobody comes back: queued requests give up after queue_timeout */
	struct auth_client_settings set = {
		.socket_path = client_path, .queue_timeout_ms = 100,
	};
	client = auth_client_create(&set);
	test_reply_init(&r);
	r.req = auth_client_request_begin(client, &test_secured_info,
					  test_plain_msg("", "alice", "secret"), test_reply_cb, &r);
	test_assert(test_wait_reply(&r) && r.temporary);
	test_assert_strcmp(r.reason, "Authentication service unavailable.");
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_end();
}

/* Each line after a good handshake gets a disconnect (NULL expected) or
   the expected reply, and the server goes on serving others. */
static void test_authd_malformed(void)
{
	static const struct {
		const char *input, *expect;
		bool skip_cpid;
	} tests[] = {
		{ "FOO\n", NULL, false },
		{ "AUTH\t1\tPLAIN\n", NULL, false },
		{ "AUTH\tx\tPLAIN\tservice=imap\n", NULL, false },
		{ "AUTH\t1\t\tservice=imap\n", NULL, false },
		{ "AUTH\t1\tPLAIN\tservice=\n", NULL, false },
		{ "AUTH\t1\tPLAIN\tservice=imap\n", NULL, true },
		{ "CPID\t0\n", NULL, true },
		{ "CPID\t5\n", NULL, false },
		{ "CONT\t1\n", NULL, false },
		{ "CONT\t99\tabc\n", "FAIL\t99\treason=Unknown authentication request.\n", false },
		{ "CANCEL\tx\n", NULL, false },
		{ "AUTH\t1\tPLAIN\tservice=imap\tresp=\0010\n", NULL, false },
		{ "USER\t1\talice\n", NULL, false },
		{ "REQUEST\t1\t1\t1\t00\n", NULL, false },
		{ "AUTH\t7\tAPOP\tservice=pop3\tresp=YQBi\n",
		  "FAIL\t7\treason=Invalid APOP request.\tcode=malformed\n", false },
		{ "AUTH\t8\tPLAIN\tservice=imap\tsecured\tresp=!!\n",
		  "FAIL\t8\treason=Invalid base64 data.\tcode=malformed\n", false },
		{ "AUTH\t9\tPLAIN\tservice=imap\tsecured\tresp=AGFsaWNlAHNlY3JldA==\t"
		  "unknown=param\tflag\n", "OK\t9\tuser=alice\n", false },
	};
	struct test_server srv;

	test_begin("authd malformed client lines");
	test_server_start(&srv, 0, NULL);
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		int fd = test_raw_connect(client_path);
		string_t *buf = test_str_new();
		bool eof;
		test_raw_send(fd, tests[i].skip_cpid ? "VERSION\t1\t2\n" : "VERSION\t1\t2\nCPID\t77\n");
		test_assert(test_raw_wait(fd, buf, "DONE\n", NULL));
		str_truncate(buf, 0);
		test_raw_send(fd, tests[i].input);
		if (tests[i].expect == NULL) {
			test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
			test_assert(str_len(buf) == 0);
		} else {
			test_assert(test_raw_wait(fd, buf, tests[i].expect, &eof));
			test_assert_strcmp(str_c(buf), tests[i].expect);
		}
		close(fd);
	}
	/* an unsupported major version, and no VERSION at all */
	const char *bad_handshakes[] = { "VERSION\t2\t0\n", "CPID\t5\n", "VERSION\n" };
	for (unsigned int i = 0; i < N_ELEMENTS(bad_handshakes); i++) {
		int fd = test_raw_connect(client_path);
		string_t *buf = test_str_new();
		bool eof;
		test_raw_send(fd, bad_handshakes[i]);
		test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
		close(fd);
	}
	test_assert(srv.authd != NULL);
	test_server_stop(&srv);
	test_end();
}

static void test_authd_raw_protocol_state(void)
{
	struct test_server srv;
	string_t *buf = test_str_new();
	bool eof;

	test_begin("authd duplicate ids, CONT while pending, NUL, oversized");
	test_server_start(&srv, 200, NULL);
	/* a second AUTH with the id of a running one */
	int fd = test_raw_connect(client_path);
	test_raw_send(fd, "VERSION\t1\t2\nCPID\t77\n"
		      "AUTH\t1\tPLAIN\tservice=imap\tsecured\tresp=AGFsaWNlAGJhZA==\n"
		      "AUTH\t1\tPLAIN\tservice=imap\tsecured\tresp=AGFsaWNlAGJhZA==\n");
	test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
	test_assert(strstr(str_c(buf), "FAIL") == NULL);
	close(fd);
	/* CONT before the server asked for it */
	str_truncate(buf, 0);
	fd = test_raw_connect(client_path);
	test_raw_send(fd, "VERSION\t1\t2\nCPID\t77\n"
		      "AUTH\t1\tPLAIN\tservice=imap\tsecured\tresp=AGFsaWNlAGJhZA==\n"
		      "CONT\t1\tAAAA\n");
	test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
	close(fd);
	/* a NUL byte inside a line */
	str_truncate(buf, 0);
	fd = test_raw_connect(client_path);
	test_raw_send(fd, "VERSION\t1\t2\nCPID\t77\n");
	test_assert(send(fd, "CANCEL\t1\0\n", 10, 0) == 10);
	test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
	close(fd);
	/* a line longer than the limit, with and without its LF */
	for (unsigned int with_lf = 0; with_lf < 2; with_lf++) {
		str_truncate(buf, 0);
		fd = test_raw_connect(client_path);
		test_raw_send(fd, "VERSION\t1\t2\nCPID\t77\nAUTH\t1\tPLAIN\tservice=imap\tresp=");
		string_t *big = str_new(test_authd_pool, AUTH_PROTO_MAX_LINE_LENGTH + 16);
		for (unsigned int i = 0; i < AUTH_PROTO_MAX_LINE_LENGTH; i++)
			str_append_c(big, 'A');
		if (with_lf != 0)
			str_append_c(big, '\n');
		test_raw_send(fd, str_c(big));
		test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
		test_assert(strstr(str_c(buf), "FAIL") == NULL);
		close(fd);
	}
	/* the master protocol's commands are refused on a client socket,
	   and the client protocol's on a master socket */
	str_truncate(buf, 0);
	fd = test_raw_connect(master_path);
	test_raw_send(fd, "VERSION\t1\t0\nAUTH\t1\tPLAIN\tservice=imap\n");
	test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
	test_assert(strstr(str_c(buf), "OK") == NULL && strstr(str_c(buf), "FAIL") == NULL);
	close(fd);
	test_server_stop(&srv);
	test_end();
}

/* auth_client against a server the test plays by hand. */
static void test_auth_client_bad_server(void)
{
	struct test_reply r;
	int sv[2];
	string_t *buf = test_str_new();
	struct auth_client_settings set = { .socket_path = NULL };

	test_begin("auth_client parsing server replies");
	test_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct auth_client *client = auth_client_create_fd(sv[0], &set);
	test_assert(test_raw_wait(sv[1], buf, "CPID\t", NULL));
	test_assert(strncmp(str_c(buf), "VERSION\t1\t2\nCPID\t", 17) == 0);
	test_raw_send(sv[1], "VERSION\t1\t9\tfuture\nMECH\tPLAIN\tplaintext\tfuture-flag\n"
		      "MECH\tX-OTHER\nNEWTHING\tx\nSPID\t9\nCUID\t3\n"
		      "COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n");
	test_assert(test_wait_ready(client));
	test_assert_strcmp(auth_client_get_mechanisms(client, false), "X-OTHER");
	test_reply_init(&r);
	r.req = auth_client_request_begin(client, &test_secured_info, "=", test_reply_cb, &r);
	str_truncate(buf, 0);
	test_assert(test_raw_wait(sv[1], buf, "\n", NULL));
	test_assert_strcmp(str_c(buf), "AUTH\t1\tPLAIN\tservice=imap\tsession=sess1\t"
			   "lip=10.0.0.1\trip=10.0.0.9\tlport=143\trport=50000\tsecured\tresp=\n");
	/* a reply for an unknown id is ignored; the codes map back */
	test_raw_send(sv[1], "OK\t55\tuser=x\nFAIL\t1\treason=Gone\001tfishing\t"
		      "code=user_disabled\treferral=imap://b/\tuser=alice\n");
	test_assert(test_wait_reply(&r) && r.count == 1);
	test_assert(r.fail_code == AUTH_CLIENT_FAIL_DISABLED && !r.temporary);
	test_assert_strcmp(r.reason, "Gone\tfishing");
	test_assert_strcmp(r.referral, "imap://b/");
	/* "temp" alone (as older servers send it) */
	r.req = auth_client_request_begin(client, &test_secured_info, "=", test_reply_cb, &r);
	test_raw_send(sv[1], "FAIL\t2\ttemp\n");
	test_assert(test_wait_reply(&r) && r.temporary &&
		    r.fail_code == AUTH_CLIENT_FAIL_TEMPORARY);
	/* OK without user= is a broken server: the connection goes and the
	   request fails temporarily; with no path there is no reconnect */
	r.req = auth_client_request_begin(client, &test_secured_info, "=", test_reply_cb, &r);
	test_raw_send(sv[1], "OK\t3\n");
	test_assert(test_wait_reply(&r) && r.temporary);
	test_assert(!auth_client_is_ready(client));
	r.req = auth_client_request_begin(client, &test_secured_info, "=", test_reply_cb, &r);
	test_assert(r.count == 3);
	test_assert(test_wait_reply(&r) && r.temporary);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	close(sv[1]);

	/* a handshake with the wrong major version */
	test_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	client = auth_client_create_fd(sv[0], &set);
	test_raw_send(sv[1], "VERSION\t2\t0\n");
	test_run_loop_ms(30);
	test_assert(!auth_client_is_ready(client));
	str_truncate(buf, 0);
	bool eof;
	test_assert(test_raw_wait(sv[1], buf, NULL, &eof) && eof);
	auth_client_destroy(&client);
	close(sv[1]);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_authd_handshake,
		test_authd_plain_ok,
		test_authd_login_mech,
		test_authd_failures,
		test_authd_pipelined,
		test_authd_abort,
		test_authd_apop,
		test_authd_request_limit,
		test_authd_restart,
		test_authd_malformed,
		test_authd_raw_protocol_state,
		test_auth_client_bad_server,
		NULL,
	};
	return test_authd_main(tests);
}
