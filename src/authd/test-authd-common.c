/* The authd tests' shared server, reply recorder and raw socket client. */
#include "test-common.h"
#include "test-authd-common.h"
#include "auth-request.h"
#include "base64.h"
#include "connection.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define TEST_WAIT_MS 5000

static char test_dir[] = "/tmp/test-authd.XXXXXX";
const char *passwd_path, *client_path, *master_path;
pool_t test_authd_pool;

const struct auth_client_request_info test_secured_info = {
	.mech = "PLAIN", .protocol = "imap", .session_id = "sess1",
	.remote_ip = "10.0.0.9", .local_ip = "10.0.0.1",
	.remote_port = 50000, .local_port = 143, .secured = true,
};

static uint64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void test_server_start(struct test_server *srv, unsigned int failure_delay_ms,
		       const struct authd_settings *set)
{
	struct auth_options opts = {
		.passwd_file = passwd_path,
		.failure_delay_ms = failure_delay_ms,
	};
	struct authd_settings defaults = { .max_line_length = 0 };
	const char *error;

	if (auth_create(&opts, &srv->auth, &error) < 0)
		i_fatal("auth_create: %s", error);
	srv->authd = authd_create(srv->auth, set != NULL ? set : &defaults);
	int fd = net_listen_unix(client_path, 16, &error);
	if (fd < 0)
		i_fatal("listen: %s", error);
	authd_add_client_listener(srv->authd, fd);
	if ((fd = net_listen_unix(master_path, 16, &error)) < 0)
		i_fatal("listen: %s", error);
	authd_add_master_listener(srv->authd, fd);
}

void test_server_stop(struct test_server *srv)
{
	authd_destroy(&srv->authd);
	auth_destroy(&srv->auth);
	(void)unlink(client_path);
	(void)unlink(master_path);
}

void test_reply_init(struct test_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->pool = pool_create("test reply", 512);
}

void test_reply_deinit(struct test_reply *r)
{
	auth_client_request_abort(&r->req);
	pool_destroy(&r->pool);
}

void test_reply_cb(const struct auth_client_reply *reply, void *context)
{
	struct test_reply *r = context;

	r->count++;
	r->status = reply->status;
	r->challenge = p_strdup(r->pool, reply->challenge);
	r->user = p_strdup(r->pool, reply->user);
	r->reason = p_strdup(r->pool, reply->reason);
	r->referral = p_strdup(r->pool, reply->referral);
	r->temporary = reply->temporary;
	r->fail_code = reply->fail_code;
	r->have_login = reply->login != NULL;
	if (reply->login != NULL) {
		r->login = *reply->login;
		r->login.cookie = p_strdup(r->pool, reply->login->cookie);
	}
	if (r->abort_in_callback) {
		/* allowed for every reply; the request goes when we return */
		auth_client_request_abort(&r->req);
		test_assert(r->req == NULL);
	}
	if (reply->status != AUTH_CLIENT_REPLY_CONTINUE)
		r->req = NULL; /* freed after we return */
}

bool test_wait_reply(struct test_reply *r)
{
	uint64_t start = test_now_ms();

	while (r->count <= r->seen && test_now_ms() - start < TEST_WAIT_MS)
		ioloop_run_once(20);
	if (r->count <= r->seen)
		return false;
	r->seen = r->count;
	return true;
}

bool test_wait_ready(struct auth_client *client)
{
	uint64_t start = test_now_ms();

	while (!auth_client_is_ready(client) && test_now_ms() - start < TEST_WAIT_MS)
		ioloop_run_once(20);
	return auth_client_is_ready(client);
}

void test_run_loop_ms(unsigned int msecs)
{
	uint64_t start = test_now_ms();

	while (test_now_ms() - start < msecs)
		ioloop_run_once(5);
}

struct auth_client *test_client_create(void)
{
	struct auth_client_settings set = {
		.socket_path = client_path,
		.reconnect_min_ms = 10,
		.reconnect_max_ms = 50,
	};
	return auth_client_create(&set);
}

const char *test_b64(const void *data, size_t size)
{
	string_t *str = t_str_new(64);

	base64_encode(data, size, str);
	return str_c(str);
}

const char *test_plain_msg(const char *authzid, const char *user, const char *pass)
{
	string_t *str = t_str_new(64);

	str_append(str, authzid);
	str_append_c(str, '\0');
	str_append(str, user);
	str_append_c(str, '\0');
	str_append(str, pass);
	return test_b64(str_data(str), str_len(str));
}

void test_run_plain(struct auth_client *client, const struct auth_client_request_info *info,
		    const char *user, const char *pass, struct test_reply *r)
{
	unsigned int count = r->count;

	r->req = auth_client_request_begin(client, info, test_plain_msg("", user, pass),
					   test_reply_cb, r);
	/* never called from inside begin */
	test_assert(r->count == count);
	test_assert(test_wait_reply(r));
}

int test_raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	i_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		i_fatal("connect(%s) failed: %s", path, strerror(errno));
	return fd;
}

void test_raw_send(int fd, const char *data)
{
	size_t len = strlen(data), pos = 0;
	uint64_t start = test_now_ms();

	/* the server reads while we run its loop, so a big write may need
	   several rounds; it may also close on us, which tests expect */
	while (pos < len && test_now_ms() - start < TEST_WAIT_MS) {
		ssize_t ret = send(fd, data + pos, len - pos, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (ret > 0)
			pos += (size_t)ret;
		else if (ret < 0 && errno != EAGAIN && errno != EINTR)
			return;
		else
			ioloop_run_once(5);
	}
}

bool test_raw_wait(int fd, string_t *buf, const char *needle, bool *eof_r)
{
	uint64_t start = test_now_ms();
	char data[4096];

	if (eof_r != NULL)
		*eof_r = false;
	while (test_now_ms() - start < TEST_WAIT_MS) {
		if (needle != NULL && strstr(str_c(buf), needle) != NULL)
			return true;
		ssize_t ret = recv(fd, data, sizeof(data), MSG_DONTWAIT);
		if (ret > 0) {
			str_append_n(buf, data, (size_t)ret);
			continue;
		}
		if (ret == 0 || (ret < 0 && errno != EAGAIN && errno != EINTR)) {
			if (eof_r != NULL)
				*eof_r = true;
			return needle == NULL;
		}
		ioloop_run_once(5);
	}
	return false;
}

static void test_write_passwd_file(void)
{
	const char *contents =
		"alice:{PLAIN}secret:1000:1000::/home/alice::userdb_quota_rule=*:storage=1G\n"
		"bob:{PLAIN}pw::::::\n"
		"carol:{PLAIN}pw::::::nologin reason=suspended referral=imap://other.example/\n";
	int fd = open(passwd_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, contents, strlen(contents)) != (ssize_t)strlen(contents))
		i_fatal("writing %s failed", passwd_path);
	i_close_fd(&fd);
}

int test_authd_main(void (*const tests[])(void))
{
	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	passwd_path = i_strdup(t_strdup_printf("%s/passwd", test_dir));
	client_path = i_strdup(t_strdup_printf("%s/auth-client", test_dir));
	master_path = i_strdup(t_strdup_printf("%s/auth-master", test_dir));
	test_write_passwd_file();
	test_authd_pool = pool_create("test authd", 4096);
	ioloop_init();
	int ret = test_run(tests);
	/* closed connections linger until their peers are gone */
	uint64_t start = test_now_ms();
	while (connection_count() > 0 && test_now_ms() - start < 3000)
		ioloop_run_once(10);
	ioloop_deinit();
	pool_destroy(&test_authd_pool);
	(void)unlink(passwd_path);
	(void)rmdir(test_dir);
	free((char *)passwd_path);
	free((char *)client_path);
	free((char *)master_path);
	return ret;
}
