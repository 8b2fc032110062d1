/* The master socket end to end: REQUEST resolves a login once and only
 * with the right cookie, pid and id; expiry and the pending-login limit;
 * "nologin" requests leave nothing behind; USER lookups found and not
 * found; the blocking auth_master_client (USER, LIST, REQUEST) from a
 * forked child while the parent runs the server; malformed master lines. */
#include "test-common.h"
#include "test-authd-common.h"

#include <sys/socket.h>
#include <sys/wait.h>

struct test_master_result {
	unsigned int count;
	int ret;
	char *name, *home, *quota, *error;
	uid_t uid;
};

static void test_master_cb(int ret, const struct auth_master_user *user, const char *error,
			   void *context)
{
	struct test_master_result *res = context;

	res->count++;
	res->ret = ret;
	i_free(res->name);
	i_free(res->home);
	i_free(res->quota);
	i_free(res->error);
	if (user != NULL) {
		res->name = i_strdup(user->name);
		res->home = user->home == NULL ? NULL : i_strdup(user->home);
		const char *quota = auth_master_user_extra_get(user, "quota_rule");
		res->quota = quota == NULL ? NULL : i_strdup(quota);
		res->uid = user->uid;
	}
	if (error != NULL)
		res->error = i_strdup(error);
}

static void test_master_result_free(struct test_master_result *res)
{
	i_free(res->name);
	i_free(res->home);
	i_free(res->quota);
	i_free(res->error);
}

/* Asks REQUEST asynchronously and waits; returns its ret. */
static int test_resolve(struct auth_master_client *mc, pid_t pid, unsigned int id,
			const char *cookie, struct test_master_result *res)
{
	struct auth_master_login login = {
		.client_pid = pid, .request_id = id, .cookie = cookie,
	};
	unsigned int count = res->count;

	(void)auth_master_login_resolve_async(mc, &login, test_master_cb, res);
	test_assert(res->count == count);
	for (unsigned int i = 0; i < 250 && res->count == count; i++)
		ioloop_run_once(20);
	test_assert(res->count == count + 1);
	return res->ret;
}

static void test_login(struct auth_client *client, const char *user, const char *pass,
		       struct test_reply *r)
{
	test_run_plain(client, &test_secured_info, user, pass, r);
	test_assert(r->status == AUTH_CLIENT_REPLY_OK && r->have_login);
}

static void test_master_request_once(void)
{
	struct test_server srv;
	struct test_reply r;
	struct test_master_result res = { .count = 0 };

	test_begin("authd REQUEST resolves a login once");
	test_server_start(&srv, 0, NULL);
	struct auth_client *client = test_client_create();
	struct auth_master_client *mc = auth_master_client_create(master_path, 2000);
	test_reply_init(&r);
	test_login(client, "alice", "secret", &r);
	struct auth_client_login alice = r.login;
	alice.cookie = test_strdup(r.login.cookie);
	test_assert(test_resolve(mc, alice.client_pid, alice.request_id, alice.cookie, &res) == 1);
	test_assert_strcmp(res.name, "alice");
	test_assert_strcmp(res.home, "/home/alice");
	test_assert_strcmp(res.quota, "*:storage=1G");
	test_assert(res.uid == 1000);
	/* only once */
	test_assert(test_resolve(mc, alice.client_pid, alice.request_id, alice.cookie, &res) == 0);
	test_assert(authd_pending_login_count(srv.authd) == 0);

	test_login(client, "bob", "pw", &r);
	const char *cookie = test_strdup(r.login.cookie);
	unsigned int id = r.login.request_id;
	/* another connection's cookie, another id: no such login */
	test_assert(test_resolve(mc, getpid(), id, "00000000000000000000000000000000", &res) == 0);
	test_assert(test_resolve(mc, getpid(), id + 100, cookie, &res) == 0);
	test_assert(test_resolve(mc, getpid(), id, "not-a-cookie", &res) == 0);
	test_assert(authd_pending_login_count(srv.authd) == 1);
	/* the right login named by another process: refused and burnt */
	test_assert(test_resolve(mc, getpid() + 1, id, cookie, &res) == -1);
	test_assert_strcmp(res.error, "login made by another process");
	test_assert(test_resolve(mc, getpid(), id, cookie, &res) == 0);

	/* a failed login leaves nothing to resolve, nor does nologin */
	test_run_plain(client, &test_secured_info, "bob", "wrong", &r);
	test_assert(test_resolve(mc, getpid(), r.login.request_id + 1, cookie, &res) == 0);
	struct auth_client_request_info info = test_secured_info;
	info.nologin = true;
	test_run_plain(client, &info, "bob", "pw", &r);
	test_assert(r.status == AUTH_CLIENT_REPLY_OK);
	test_assert(authd_pending_login_count(srv.authd) == 0);
	test_assert(test_resolve(mc, getpid(), r.login.request_id, cookie, &res) == 0);

	/* the client connection may be gone when the master asks */
	test_login(client, "alice", "secret", &r);
	id = r.login.request_id;
	auth_client_destroy(&client);
	test_run_loop_ms(20);
	test_assert(test_resolve(mc, getpid(), id, cookie, &res) == 1);
	test_master_result_free(&res);
	test_reply_deinit(&r);
	auth_master_client_destroy(&mc);
	test_server_stop(&srv);
	test_end();
}

static void test_master_expiry(void)
{
	struct test_server srv;
	struct test_reply r;
	struct test_master_result res = { .count = 0 };
	struct authd_settings set = { .login_ttl_ms = 60, .max_pending_logins = 2 };
	unsigned int ids[3];

	test_begin("authd pending logins expire and are bounded");
	test_server_start(&srv, 0, &set);
	struct auth_client *client = test_client_create();
	struct auth_master_client *mc = auth_master_client_create(master_path, 2000);
	test_reply_init(&r);
	test_login(client, "alice", "secret", &r);
	const char *cookie = test_strdup(r.login.cookie);
	test_run_loop_ms(150);
	test_assert(authd_pending_login_count(srv.authd) == 0);
	test_assert(test_resolve(mc, getpid(), r.login.request_id, cookie, &res) == 0);
	for (unsigned int i = 0; i < 3; i++) {
		test_login(client, "bob", "pw", &r);
		ids[i] = r.login.request_id;
	}
	/* the oldest made room for the newest */
	test_assert(authd_pending_login_count(srv.authd) == 2);
	test_assert(test_resolve(mc, getpid(), ids[0], cookie, &res) == 0);
	test_assert(test_resolve(mc, getpid(), ids[1], cookie, &res) == 1);
	test_assert(test_resolve(mc, getpid(), ids[2], cookie, &res) == 1);
	test_master_result_free(&res);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	auth_master_client_destroy(&mc);
	test_server_stop(&srv);
	test_end();
}

static void test_master_per_connection(void)
{
	struct test_server srv;
	struct test_reply r;
	struct test_master_result res = { .count = 0 };
	struct authd_settings set = {
		.max_pending_logins = 10, .max_pending_logins_per_connection = 2,
	};
	unsigned int ids[3];

	test_begin("authd one connection can push out only its own logins");
	test_server_start(&srv, 0, &set);
	struct auth_client *a = test_client_create(), *b = test_client_create();
	struct auth_master_client *mc = auth_master_client_create(master_path, 2000);
	test_reply_init(&r);
	test_login(b, "alice", "secret", &r);
	const char *b_cookie = test_strdup(r.login.cookie);
	unsigned int b_id = r.login.request_id;
	for (unsigned int i = 0; i < 3; i++) {
		test_login(a, "bob", "pw", &r);
		ids[i] = r.login.request_id;
	}
	const char *a_cookie = test_strdup(r.login.cookie);
	test_assert(strcmp(a_cookie, b_cookie) != 0);
	test_assert(authd_pending_login_count(srv.authd) == 3);
	test_assert(test_resolve(mc, getpid(), ids[0], a_cookie, &res) == 0);
	test_assert(test_resolve(mc, getpid(), ids[1], a_cookie, &res) == 1);
	test_assert(test_resolve(mc, getpid(), ids[2], a_cookie, &res) == 1);
	test_assert(test_resolve(mc, getpid(), b_id, b_cookie, &res) == 1);
	test_assert_strcmp(res.name, "alice");
	test_assert(authd_pending_login_count(srv.authd) == 0);
	test_master_result_free(&res);
	test_reply_deinit(&r);
	auth_client_destroy(&a);
	auth_client_destroy(&b);
	auth_master_client_destroy(&mc);
	test_server_stop(&srv);
	test_end();
}

static void test_master_user_async(void)
{
	struct test_server srv;
	struct test_master_result res = { .count = 0 }, res2 = { .count = 0 };
	struct auth_master_lookup lookup = { .user = "alice", .service = "lmtp" };

	test_begin("authd USER lookups (async)");
	test_server_start(&srv, 0, NULL);
	struct auth_master_client *mc = auth_master_client_create(master_path, 2000);
	(void)auth_master_user_lookup_async(mc, &lookup, test_master_cb, &res);
	lookup.user = "nobody";
	(void)auth_master_user_lookup_async(mc, &lookup, test_master_cb, &res2);
	/* aborted before its reply: never called */
	struct test_master_result res3 = { .count = 0 };
	struct auth_master_request *req =
		auth_master_user_lookup_async(mc, &lookup, test_master_cb, &res3);
	auth_master_request_abort(&req);
	test_assert(req == NULL);
	test_assert(res.count == 0 && res2.count == 0);
	for (unsigned int i = 0; i < 250 && (res.count == 0 || res2.count == 0); i++)
		ioloop_run_once(20);
	test_run_loop_ms(20);
	test_assert(res.count == 1 && res.ret == 1);
	test_assert_strcmp(res.name, "alice");
	test_assert_strcmp(res.quota, "*:storage=1G");
	test_assert(res2.count == 1 && res2.ret == 0);
	test_assert(res3.count == 0);
	/* the auth process goes away: the next lookup fails cleanly */
	test_server_stop(&srv);
	test_run_loop_ms(20);
	lookup.user = "alice";
	(void)auth_master_user_lookup_async(mc, &lookup, test_master_cb, &res);
	for (unsigned int i = 0; i < 250 && res.count == 1; i++)
		ioloop_run_once(20);
	test_assert(res.count == 2 && res.ret == -1);
	test_master_result_free(&res);
	test_master_result_free(&res2);
	auth_master_client_destroy(&mc);
	test_end();
}

static void test_list_cb(const char *user, void *context)
{
	string_t *str = context;

	str_printfa(str, "%s ", user);
}

/* The forked child's side: blocking calls, results written to out. */
static void test_master_blocking_child(int out, const struct auth_client_login *login)
{
	struct auth_master_client *mc = auth_master_client_create(master_path, 3000);
	struct auth_master_lookup lookup = { .user = "alice", .service = "lmtp" };
	struct auth_master_login mlogin = {
		.client_pid = login->client_pid, .request_id = login->request_id,
		.cookie = login->cookie,
	};
	struct auth_master_user *user;
	string_t *str = test_str_new(), *list = test_str_new();
	const char *error;

	int ret = auth_master_user_lookup(mc, &lookup, t_pool(), &user, &error);
	str_printfa(str, "user=%d:%s:%s:%ld:%s\n", ret, user == NULL ? "" : user->name,
		    user == NULL ? "" : user->home, user == NULL ? -2L : (long)user->uid,
		    user == NULL ? "" : auth_master_user_extra_get(user, "quota_rule"));
	lookup.user = "nobody";
	str_printfa(str, "nobody=%d\n", auth_master_user_lookup(mc, &lookup, t_pool(), &user, &error));
	ret = auth_master_user_list(mc, NULL, test_list_cb, list, &error);
	str_printfa(str, "list=%d:%s\n", ret, str_c(list));
	str_truncate(list, 0);
	ret = auth_master_user_list(mc, "?a*", test_list_cb, list, &error);
	str_printfa(str, "mask=%d:%s\n", ret, str_c(list));
	ret = auth_master_login_resolve(mc, &mlogin, t_pool(), &user, &error);
	str_printfa(str, "request=%d:%s\n", ret, user == NULL ? "" : user->name);
	ret = auth_master_login_resolve(mc, &mlogin, t_pool(), &user, &error);
	str_printfa(str, "again=%d\n", ret);
	auth_master_client_destroy(&mc);
	mc = auth_master_client_create("/nonexistent/socket", 200);
	ret = auth_master_user_lookup(mc, &lookup, t_pool(), &user, &error);
	str_printfa(str, "noserver=%d:%s\n", ret, error);
	auth_master_client_destroy(&mc);
	if (write(out, str_data(str), str_len(str)) != (ssize_t)str_len(str))
		_exit(1);
	/* no exit handlers: the parent's state is not ours to check */
	_exit(0);
}

static void test_master_blocking(void)
{
	struct test_server srv;
	struct test_reply r;
	int fds[2];

	test_begin("auth_master_client blocking calls");
	test_server_start(&srv, 0, NULL);
	struct auth_client *client = test_client_create();
	test_reply_init(&r);
	test_login(client, "bob", "pw", &r);
	/* a socketpair, not a pipe: test_raw_wait() recv()s */
	test_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		test_master_blocking_child(fds[1], &r.login);
	}
	close(fds[1]);
	string_t *out = test_str_new();
	bool eof;
	test_assert(test_raw_wait(fds[0], out, NULL, &eof) && eof);
	close(fds[0]);
	int status;
	test_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
	const char *o = str_c(out);
	test_assert(strstr(o, "user=1:alice:/home/alice:1000:*:storage=1G\n") != NULL);
	test_assert(strstr(o, "nobody=0\n") != NULL);
	/* listing order is the backend's */
	test_assert(strstr(o, "list=0:") != NULL && strstr(o, "alice ") != NULL &&
		    strstr(o, "bob ") != NULL && strstr(o, "carol ") != NULL);
	test_assert(strstr(o, "mask=0:carol \n") != NULL);
	test_assert(strstr(o, "request=1:bob\n") != NULL);
	test_assert(strstr(o, "again=0\n") != NULL);
	test_assert(strstr(o, "noserver=-1:connect(/nonexistent/socket) failed") != NULL);
	test_reply_deinit(&r);
	auth_client_destroy(&client);
	test_server_stop(&srv);
	test_end();
}

static void test_master_malformed(void)
{
	static const struct {
		const char *input, *expect;
	} tests[] = {
		{ "USER\n", NULL },
		{ "USER\tx\talice\n", NULL },
		{ "REQUEST\t1\tx\t1\tcookie\n", NULL },
		{ "REQUEST\t1\t0\t1\tcookie\n", NULL },
		{ "REQUEST\t1\t5\t1\n", NULL },
		{ "LIST\n", NULL },
		{ "FOO\tbar\n", NULL },
		{ "CONT\t1\tAAAA\n", NULL },
		{ "USER\t1\t\001t\001nx\n", "NOTFOUND\t1\n" },
		{ "REQUEST\t5\t1\t1\tzz\n", "NOTFOUND\t5\n" },
		{ "PASS\t3\talice\n", "FAIL\t3\treason=PASS lookups are not supported\n" },
		{ "CPID\t1\nUSER\t4\tbob\n", "USER\t4\tbob\n" },
		{ "LIST\t6\tuser=b*\n", "LIST\t6\tbob\nDONE\t6\n" },
	};
	struct test_server srv;

	test_begin("authd malformed master lines");
	test_server_start(&srv, 0, NULL);
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		int fd = test_raw_connect(master_path);
		string_t *buf = test_str_new();
		bool eof;
		test_raw_send(fd, "VERSION\t1\t0\n");
		test_assert(test_raw_wait(fd, buf, "SPID\t", NULL));
		test_assert(test_raw_wait(fd, buf, "\n", NULL));
		test_assert(strncmp(str_c(buf), "VERSION\t1\t0\nSPID\t", 17) == 0);
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
	/* no VERSION first */
	int fd = test_raw_connect(master_path);
	string_t *buf = test_str_new();
	bool eof;
	test_raw_send(fd, "USER\t1\talice\n");
	test_assert(test_raw_wait(fd, buf, NULL, &eof) && eof);
	test_assert(strstr(str_c(buf), "USER\t1") == NULL);
	close(fd);
	test_server_stop(&srv);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_master_request_once,
		test_master_expiry,
		test_master_per_connection,
		test_master_user_async,
		test_master_blocking,
		test_master_malformed,
		NULL,
	};
	return test_authd_main(tests);
}
