/* Tests of the RFC 9266 tls-exporter channel binding over a socketpair with
 * OpenSSL as the client: equal on both ends, different per connection,
 * TLS 1.3 only, also with a client certificate. Certificates come from
 * the openssl command. */
#include "test-common.h"
#include "tls.h"
#include "tls-binding.h"
#include "pool.h"
#include "tls-private.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char test_dir[] = "/tmp/test-tls-binding.XXXXXX";

static const char *test_path(const char *name)
{
	return t_strdup_printf("%s/%s", test_dir, name);
}

static void test_run_cmd(const char *cmd)
{
	if (system(t_strdup_printf("cd %s && %s >/dev/null 2>&1", test_dir, cmd)) != 0)
		i_fatal("command failed: %s", cmd);
}

/* A CA and a client certificate it issued (CN=alice). */
static void test_make_certs(void)
{
	const char *error;
	if (tls_generate_self_signed(test_path("server.pem"), test_path("server.key"),
				     "localhost", &error) < 0)
		i_fatal("%s", error);
	test_run_cmd("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		     "-keyout ca.key -out ca.pem -days 2 -subj /CN=Test-CA");
	test_run_cmd("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		     "-keyout alice.key -out alice.csr -subj /O=Tern/CN=alice");
	test_run_cmd("openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key "
		     "-CAcreateserial -out alice.pem -days 2");
}

static int test_verify_cb(int ok, X509_STORE_CTX *store)
{
	/* like verify_client = optional: record the result, go on */
	return 1;
}

static struct tls_context *test_server_ctx(const char *min_protocol)
{
	struct tls_options opts = {
		.cert_file = test_path("server.pem"), .key_file = test_path("server.key"),
		.min_protocol = min_protocol, .ciphers = "", .cipher_suites = "",
	};
	struct tls_context *ctx;
	const char *error;

	if (tls_context_create(&opts, &ctx, &error) < 0)
		i_fatal("%s", error);
	if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, test_path("ca.pem"), NULL) != 1)
		i_fatal("load CA failed");
	SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, test_verify_cb);
	return ctx;
}

struct test_conn {
	struct transport *server;
	SSL_CTX *client_ctx;
	SSL *client;
};

/* Connects an OpenSSL client (max_version, optional certificate "name")
   to a server transport and runs the handshake. */
static void test_connect(struct tls_context *ctx, int max_version, const char *name,
			 struct test_conn *conn_r)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		i_fatal("socketpair failed");
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	conn_r->server = tls_transport_create(ctx, transport_create_fd(fds[0]));
	conn_r->client_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(conn_r->client_ctx, max_version);
	if (name != NULL &&
	    (SSL_CTX_use_certificate_file(conn_r->client_ctx,
					  test_path(t_strdup_printf("%s.pem", name)),
					  SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_use_PrivateKey_file(conn_r->client_ctx,
					 test_path(t_strdup_printf("%s.key", name)),
					 SSL_FILETYPE_PEM) != 1))
		i_fatal("client certificate %s failed", name);
	conn_r->client = SSL_new(conn_r->client_ctx);
	SSL_set_fd(conn_r->client, fds[1]);
	SSL_set_connect_state(conn_r->client);

	unsigned char buf[16];
	for (unsigned int i = 0; i < 100; i++) {
		(void)SSL_do_handshake(conn_r->client);
		(void)transport_read(conn_r->server, buf, sizeof(buf));
		if (SSL_is_init_finished(conn_r->client) &&
		    tls_transport_handshake_done(conn_r->server))
			return;
	}
	i_fatal("handshake did not finish");
}

static void test_disconnect(struct test_conn *conn)
{
	int fd = SSL_get_fd(conn->client);
	SSL_free(conn->client);
	SSL_CTX_free(conn->client_ctx);
	close(fd);
	transport_destroy(&conn->server);
}

static void test_exporter(void)
{
	struct tls_context *ctx = test_server_ctx("TLSv1.2");
	unsigned char server_cb[TLS_EXPORTER_SIZE], client_cb[TLS_EXPORTER_SIZE];
	unsigned char other_cb[TLS_EXPORTER_SIZE];
	struct test_conn conn, conn2;

	test_begin("tls-exporter channel binding");
	test_connect(ctx, TLS1_3_VERSION, NULL, &conn);
	test_assert(tls_transport_get_exporter(conn.server, server_cb) == 1);
	test_assert(SSL_export_keying_material(conn.client, client_cb, sizeof(client_cb),
					       "EXPORTER-Channel-Binding", 24,
					       (const unsigned char *)"", 0, 1) == 1);
	test_assert(memcmp(server_cb, client_cb, sizeof(server_cb)) == 0);
	test_assert(tls_transport_channel_binding_expected(conn.server));
	/* another connection binds to other bytes */
	test_connect(ctx, TLS1_3_VERSION, NULL, &conn2);
	test_assert(tls_transport_get_exporter(conn2.server, other_cb) == 1);
	test_assert(memcmp(server_cb, other_cb, sizeof(server_cb)) != 0);
	test_disconnect(&conn2);
	test_disconnect(&conn);

	/* a client certificate changes nothing */
	test_connect(ctx, TLS1_3_VERSION, "alice", &conn);
	test_assert(tls_transport_get_exporter(conn.server, server_cb) == 1);
	test_assert(SSL_export_keying_material(conn.client, client_cb, sizeof(client_cb),
					       "EXPORTER-Channel-Binding", 24, NULL, 0, 0) == 1);
	test_assert(memcmp(server_cb, client_cb, sizeof(server_cb)) == 0);
	test_disconnect(&conn);

	/* TLS 1.2: none */
	test_connect(ctx, TLS1_2_VERSION, NULL, &conn);
	test_assert(tls_transport_get_exporter(conn.server, server_cb) == 0);
	test_assert(!tls_transport_channel_binding_expected(conn.server));
	test_disconnect(&conn);

	/* before the handshake it depends on the lowest version allowed */
	struct transport *t = tls_transport_create(ctx, transport_create_fd(dup(0)));
	test_assert(!tls_transport_channel_binding_expected(t));
	test_assert(tls_transport_get_exporter(t, server_cb) == 0);
	transport_destroy(&t);
	struct tls_context *ctx13 = test_server_ctx("TLSv1.3");
	t = tls_transport_create(ctx13, transport_create_fd(dup(0)));
	test_assert(tls_transport_channel_binding_expected(t));
	transport_destroy(&t);
	tls_context_destroy(&ctx13);

	/* not TLS at all */
	t = transport_create_memory("", 0, 0);
	test_assert(tls_transport_get_exporter(t, server_cb) == 0);
	test_assert(!tls_transport_channel_binding_expected(t));
	transport_destroy(&t);
	tls_context_destroy(&ctx);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_exporter,
		NULL,
	};

	/* the server's close_notify may meet a closed client socket */
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp failed");
	test_make_certs();
	int ret = test_run(tests);
	test_run_cmd(t_strdup_printf("rm -rf %s", test_dir));
	return ret;
}
