/* Helpers shared by the authd tests: a server (struct auth over a
 * temporary passwd-file, with client and master sockets in a temporary
 * directory), reply recording for auth_client requests, and a raw socket
 * client that runs the event loop while it waits. */
#ifndef TERN_TEST_AUTHD_COMMON_H
#define TERN_TEST_AUTHD_COMMON_H

#include "authd.h"
#include "auth-client.h"
#include "auth-client-proto.h"
#include "auth-master-client.h"
#include "buffer.h"
#include "ioloop.h"

#include <unistd.h>

extern const char *passwd_path, *client_path, *master_path;
/* Lives for the whole test run: t_ memory doesn't survive the event
   loop's iterations, which every wait runs. */
extern pool_t test_authd_pool;
#define test_str_new() str_new(test_authd_pool, 256)
#define test_strdup(s) p_strdup(test_authd_pool, s)
/* PLAIN for imap over TLS from 10.0.0.9 */
extern const struct auth_client_request_info test_secured_info;

struct test_server {
	struct auth *auth;
	struct authd *authd;
};

/* Listens on client_path and master_path. set may be NULL. */
void test_server_start(struct test_server *srv, unsigned int failure_delay_ms,
		       const struct authd_settings *set);
void test_server_stop(struct test_server *srv);

struct test_reply {
	pool_t pool;
	unsigned int count, seen;
	enum auth_client_reply_status status;
	const char *challenge, *user, *reason, *referral;
	bool temporary;
	enum auth_client_fail_code fail_code;
	bool have_login;
	struct auth_client_login login;
	/* what the callback should do */
	bool abort_in_callback;
	struct auth_client_request *req;
};

void test_reply_init(struct test_reply *r);
void test_reply_deinit(struct test_reply *r);
void test_reply_cb(const struct auth_client_reply *reply, void *context);
/* Runs the loop until a reply newer than the last waited-for one arrives;
   false after 5 s. */
bool test_wait_reply(struct test_reply *r);
bool test_wait_ready(struct auth_client *client);
void test_run_loop_ms(unsigned int msecs);

/* A client of client_path that reconnects quickly. */
struct auth_client *test_client_create(void);
const char *test_b64(const void *data, size_t size);
const char *test_plain_msg(const char *authzid, const char *user, const char *pass);
/* One PLAIN attempt with an initial response, waited for. */
void test_run_plain(struct auth_client *client, const struct auth_client_request_info *info,
		    const char *user, const char *pass, struct test_reply *r);

/* A blocking connected socket. */
int test_raw_connect(const char *path);
void test_raw_send(int fd, const char *data);
/* Runs the loop and reads fd into buf until buf contains needle (true),
   or, with needle NULL, until EOF (true, *eof_r set). False on timeout or
   on EOF before needle. eof_r may be NULL. */
bool test_raw_wait(int fd, string_t *buf, const char *needle, bool *eof_r);

/* Sets up the directory and the event loop, runs tests, cleans up. */
int test_authd_main(void (*const tests[])(void));

#endif
