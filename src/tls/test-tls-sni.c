/* Tests for SNI: server name patterns and matching, and real handshakes
 * over a socketpair that check which certificate each name gets. */
#include "test-common.h"
#include "buffer.h"
#include "pool.h"
#include "tls-private.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_server_name_matches(void)
{
	static const struct {
		const char *pattern, *name;
		bool match;
	} tests[] = {
		{ "mail.example.com", "mail.example.com", true },
		{ "mail.example.com", "MAIL.Example.COM", true },
		{ "Mail.Example.com", "mail.example.com", true },
		{ "mail.example.com", "mail.example.co", false },
		{ "mail.example.com", "mail.example.com.", false },
		{ "mail.example.com", "xmail.example.com", false },
		{ "*.example.org", "imap.example.org", true },
		{ "*.example.org", "IMAP.EXAMPLE.ORG", true },
		{ "*.example.org", "example.org", false },
		{ "*.example.org", ".example.org", false },
		{ "*.example.org", "a.b.example.org", false },
		{ "*.example.org", "imap.example.org.evil", false },
		{ "*.example.org", "imapexample.org", false },
		{ "*.example.org", "", false },
	};
	test_begin("tls server name matches");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		bool got = tls_server_name_matches(tests[i].pattern, tests[i].name);
		if (got != tests[i].match)
			test_assert_failed_str("match", tests[i].name, tests[i].pattern,
					       __FILE__, __LINE__);
	}
	test_end();
}

static void test_server_name_pattern_check(void)
{
	static const char *const good[] = {
		"mail.example.com", "localhost", "*.example.org", "a-b.c_d.example",
		"MAIL.EXAMPLE.COM", "xn--bcher-kva.example",
	};
	static const char *const bad[] = {
		"", "*", "*.", "*.com", "**.example.com", "mail..example.com",
		".example.com", "example.com.", "mail.*.example.com", "a*.example.com",
		"mail example.com", "mail/example.com", "m\xc3\xa4il.example.com",
	};
	const char *error;
	test_begin("tls server name pattern check");
	for (unsigned int i = 0; i < N_ELEMENTS(good); i++) {
		if (tls_server_name_pattern_check(good[i], &error) != 0)
			test_assert_failed_str("good pattern", good[i], error, __FILE__, __LINE__);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		if (tls_server_name_pattern_check(bad[i], &error) != -1)
			test_assert_failed_str("bad pattern", bad[i], "an error", __FILE__, __LINE__);
	}
	char longlabel[80];
	memset(longlabel, 'a', 64);
	strcpy(longlabel + 64, ".example");
	test_assert(tls_server_name_pattern_check(longlabel, &error) == -1);
	test_end();
}

/* ---- handshakes ---- */

static char test_dir[64];

static const char *test_path(const char *name)
{
	return t_strdup_printf("%s/%s", test_dir, name);
}

static void test_make_cert(const char *host)
{
	const char *error;
	if (tls_generate_self_signed(test_path(t_strdup_printf("%s.crt", host)),
				     test_path(t_strdup_printf("%s.key", host)), host,
				     &error) < 0)
		i_fatal("%s", error);
}

/* Runs a handshake of a client sending sni (NULL: none) against a
   server transport of ctx; returns the CN of the certificate the client
   got (temporary memory), or NULL when the handshake failed. */
static const char *test_handshake(struct tls_context *ctx, const char *sni,
				  const char **server_name_r)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		i_fatal("socketpair() failed");
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	struct transport *server = tls_transport_create(ctx, transport_create_fd(fds[0]));
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *client = SSL_new(cctx);
	SSL_set_fd(client, fds[1]);
	if (sni != NULL)
		SSL_set_tlsext_host_name(client, sni);
	SSL_set_connect_state(client);
	unsigned char buf[16];
	bool client_done = false;
	for (int i = 0; i < 200 && !(client_done && tls_transport_handshake_done(server)); i++) {
		if (!client_done)
			client_done = SSL_do_handshake(client) == 1;
		else
			(void)SSL_write(client, "x", 1);
		if (transport_read(server, buf, sizeof(buf)) < 0)
			break;
	}
	const char *cn = NULL;
	X509 *cert = SSL_get0_peer_certificate(client);
	if (client_done && cert != NULL) {
		char name[256];
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
					      name, sizeof(name)) > 0)
			cn = t_strdup(name);
	}
	const char *server_name = tls_transport_get_server_name(server);
	*server_name_r = server_name == NULL ? NULL : t_strdup(server_name);
	SSL_free(client);
	SSL_CTX_free(cctx);
	close(fds[1]);
	transport_destroy(&server);
	ERR_clear_error();
	return cn;
}

static struct tls_options test_options(void)
{
	struct tls_options opts = {
		.cert_file = test_path("localhost.crt"), .key_file = test_path("localhost.key"),
		.min_protocol = "TLSv1.2", .ciphers = "", .cipher_suites = "",
		.session_timeout_secs = 300,
	};
	return opts;
}

static void test_sni_handshakes(void)
{
	const struct tls_certificate certs[] = {
		{ .name = "com", .server_names = "mail.example.com imap.example.com",
		  .cert_file = test_path("mail.example.com.crt"),
		  .key_file = test_path("mail.example.com.key") },
		{ .name = "org", .server_names = "*.example.org",
		  .cert_file = test_path("wild.example.org.crt"),
		  .key_file = test_path("wild.example.org.key") },
		{ .name = "exact", .server_names = "exact.example.org",
		  .cert_file = test_path("exact.example.org.crt"),
		  .key_file = test_path("exact.example.org.key") },
	};
	static const struct {
		const char *sni, *cn, *server_name;
	} tests[] = {
		{ NULL, "localhost", NULL },
		{ "mail.example.com", "mail.example.com", "mail.example.com" },
		{ "IMAP.example.COM", "mail.example.com", "imap.example.com" },
		{ "pop.example.org", "wild.example.org", "pop.example.org" },
		{ "exact.example.org", "exact.example.org", "exact.example.org" },
		{ "a.b.example.org", "localhost", "a.b.example.org" },
		{ "example.org", "localhost", "example.org" },
		{ "other.test", "localhost", "other.test" },
	};
	struct tls_options opts = test_options();
	opts.certificates = certs;
	opts.certificate_count = N_ELEMENTS(certs);
	struct tls_context *ctx;
	const char *error;
	test_begin("tls sni handshakes");
	if (tls_context_create(&opts, &ctx, &error) < 0) {
		test_assert_failed_str("tls_context_create", error, "success", __FILE__, __LINE__);
		test_end();
		return;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *server_name;
		const char *cn = test_handshake(ctx, tests[i].sni, &server_name);
		test_assert_strcmp(cn, tests[i].cn);
		test_assert_strcmp(server_name, tests[i].server_name);
	}
	tls_context_destroy(&ctx);
	test_assert(ctx == NULL);
	test_end();
}

static void test_context_errors(void)
{
	static const struct {
		struct tls_certificate cert[2];
		const char *error;
	} tests[] = {
		{ { { .name = "a", .server_names = "a.test", .cert_file = "a.crt" } },
		  "no key_file" },
		{ { { .name = "a", .server_names = "", .cert_file = "C", .key_file = "K" } },
		  "certificate a: server_names is empty" },
		{ { { .name = "a", .server_names = "*.test", .cert_file = "C", .key_file = "K" } },
		  "invalid server name '*.test'" },
		{ { { .name = "a", .server_names = "x.test", .cert_file = "C", .key_file = "K" },
		    { .name = "b", .server_names = "X.TEST", .cert_file = "C", .key_file = "K" } },
		  "server name 'X.TEST' is in both certificate a and certificate b" },
		{ { { .name = "a", .server_names = "x.test", .cert_file = "C", .key_file = "K2" } },
		  "key values mismatch" },
		{ { { .name = "a", .server_names = "x.test", .cert_file = "C", .key_file = "K",
		      .alt_cert_file = "C2", .alt_key_file = "K2" } },
		  "have the same key type" },
		{ { { .name = "a", .server_names = "x.test", .cert_file = "missing",
		      .key_file = "K" } },
		  "can't load certificate" },
	};
	test_begin("tls context errors");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct tls_certificate certs[2];
		unsigned int count = 0;
		for (; count < 2 && tests[i].cert[count].name != NULL; count++) {
			certs[count] = tests[i].cert[count];
			const char **files[] = { &certs[count].cert_file, &certs[count].key_file,
						 &certs[count].alt_cert_file,
						 &certs[count].alt_key_file };
			for (unsigned int j = 0; j < N_ELEMENTS(files); j++) {
				const char *f = *files[j];
				if (f == NULL || strcmp(f, "missing") == 0)
					continue;
				*files[j] = strcmp(f, "C") == 0 ? test_path("localhost.crt") :
					strcmp(f, "K") == 0 ? test_path("localhost.key") :
					strcmp(f, "C2") == 0 ? test_path("mail.example.com.crt") :
					strcmp(f, "K2") == 0 ? test_path("mail.example.com.key") : f;
			}
		}
		struct tls_options opts = test_options();
		opts.certificates = certs;
		opts.certificate_count = count;
		struct tls_context *ctx = NULL;
		const char *error = NULL;
		test_assert(tls_context_create(&opts, &ctx, &error) == -1);
		test_assert(ctx == NULL);
		if (error == NULL || strstr(error, tests[i].error) == NULL)
			test_assert_failed_str("error", error, tests[i].error, __FILE__, __LINE__);
	}
	struct tls_options opts = test_options();
	opts.verify_client = TLS_VERIFY_CLIENT_OPTIONAL;
	struct tls_context *ctx = NULL;
	const char *error = NULL;
	test_assert(tls_context_create(&opts, &ctx, &error) == -1);
	test_assert_strcmp(error, "tls.verify_client needs tls.client_ca_file");
	opts = test_options();
	opts.groups = "NoSuchGroup";
	test_assert(tls_context_create(&opts, &ctx, &error) == -1);
	test_assert(strstr(error, "invalid tls.groups 'NoSuchGroup'") != NULL);
	test_end();
}

/* A context built from the bundle of its files serves the same
   certificates, even after the files are gone. */
static void test_files_bundle(void)
{
	const struct tls_certificate certs[] = {
		{ .name = "com", .server_names = "mail.example.com",
		  .cert_file = test_path("mail.example.com.crt"),
		  .key_file = test_path("mail.example.com.key") },
		{ .name = "com2", .server_names = "www.example.com",
		  .cert_file = test_path("mail.example.com.crt"),
		  .key_file = test_path("mail.example.com.key") },
	};
	struct tls_options opts = test_options();
	opts.certificates = certs;
	opts.certificate_count = N_ELEMENTS(certs);
	buffer_t *buf = buffer_create(t_pool(), 1024);
	const char *error, *server_name;
	test_begin("tls files bundle");
	buffer_append(buf, "config\0", 7);
	test_assert(tls_files_read(&opts, buf, &error) == 0);
	opts.files = buf->data + 7;
	opts.files_size = buf->used - 7;
	/* each file once: two keys and two certificates */
	size_t records = 0;
	for (size_t i = 0; i < opts.files_size; i++)
		records += memcmp(opts.files + i, test_dir, strlen(test_dir)) == 0 ? 1 : 0;
	test_assert(records == 4);

	struct tls_context *ctx;
	test_assert(tls_context_create(&opts, &ctx, &error) == 0);
	test_assert_strcmp(test_handshake(ctx, "mail.example.com", &server_name),
			   "mail.example.com");
	test_assert_strcmp(test_handshake(ctx, NULL, &server_name), "localhost");
	tls_context_destroy(&ctx);

	opts.cert_file = test_path("wild.example.org.crt");
	test_assert(tls_context_create(&opts, &ctx, &error) == -1);
	test_assert(strstr(error, "wild.example.org.crt: not in the TLS file bundle") != NULL);
	opts.cert_file = test_path("localhost.crt");
	opts.files_size -= 10;
	test_assert(tls_context_create(&opts, &ctx, &error) == -1);
	test_assert(strstr(error, "the TLS file bundle is corrupt") != NULL);

	opts = test_options();
	opts.key_file = test_path("missing.key");
	buffer_set_used_size(buf, 0);
	test_assert(tls_files_read(&opts, buf, &error) == -1);
	test_assert(strstr(error, "missing.key: open() failed: No such file") != NULL);
	test_end();
}

static void test_setup(void)
{
	strcpy(test_dir, "/tmp/test-tls-sni.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	test_make_cert("localhost");
	test_make_cert("mail.example.com");
	test_make_cert("wild.example.org");
	test_make_cert("exact.example.org");
}

static void test_cleanup(void)
{
	static const char *const hosts[] = {
		"localhost", "mail.example.com", "wild.example.org", "exact.example.org",
	};
	for (unsigned int i = 0; i < N_ELEMENTS(hosts); i++) {
		(void)unlink(test_path(t_strdup_printf("%s.crt", hosts[i])));
		(void)unlink(test_path(t_strdup_printf("%s.key", hosts[i])));
	}
	(void)rmdir(test_dir);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_server_name_matches,
		test_server_name_pattern_check,
		test_sni_handshakes,
		test_context_errors,
		test_files_bundle,
		NULL
	};
	(void)signal(SIGPIPE, SIG_IGN);
	test_setup();
	int ret = test_run(tests);
	test_cleanup();
	return ret;
}
