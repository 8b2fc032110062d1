/* A TLS transport: SSL over the inner transport's socket. */
#include "tls.h"
#include "tls-private.h"
#include "pool.h"

#include <errno.h>
#include <openssl/err.h>

struct tls_transport {
	struct transport t;
	struct transport *inner;
	SSL *ssl;
	bool handshake_done;
	char info[96];
	char error_buf[256];
};

static const struct transport_vfuncs tls_vfuncs;

static void tls_set_error(struct tls_transport *tt, const char *what)
{
	unsigned long err = ERR_get_error();
	if (err != 0) {
		char buf[200];
		ERR_error_string_n(err, buf, sizeof(buf));
		snprintf(tt->error_buf, sizeof(tt->error_buf), "%s: %s", what, buf);
	} else if (errno != 0) {
		snprintf(tt->error_buf, sizeof(tt->error_buf), "%s: %s", what, strerror(errno));
	} else {
		snprintf(tt->error_buf, sizeof(tt->error_buf), "%s: connection closed", what);
	}
	ERR_clear_error();
	tt->t.error = EPROTO;
	tt->t.error_text = tt->error_buf;
}

static void tls_check_handshake(struct tls_transport *tt)
{
	if (tt->handshake_done || !SSL_is_init_finished(tt->ssl))
		return;
	tt->handshake_done = true;
	snprintf(tt->info, sizeof(tt->info), "%s %s", SSL_get_version(tt->ssl),
		 SSL_get_cipher_name(tt->ssl));
}

/* Maps an SSL result to the transport convention: 0 = try again later
   (with read_wants_write/write_wants_read saying what the socket must
   become), -1 = EOF/error. */
static ssize_t tls_handle_result(struct tls_transport *tt, int ret, bool reading)
{
	int err = SSL_get_error(tt->ssl, ret);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			tt->t.write_wants_read = true;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			tt->t.read_wants_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		tt->t.eof = true;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET)) {
			/* unclean close by the peer */
			tt->t.eof = true;
			return -1;
		}
		tls_set_error(tt, tt->handshake_done ? "TLS I/O failed" : "TLS handshake failed");
		return -1;
	default:
		tls_set_error(tt, tt->handshake_done ? "TLS error" : "TLS handshake failed");
		return -1;
	}
}

static ssize_t tls_read(struct transport *t, void *buf, size_t size)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	size_t n = 0;
	errno = 0;
	tt->t.read_wants_write = false;
	int ret = SSL_read_ex(tt->ssl, buf, size, &n);
	tls_check_handshake(tt);
	if (ret == 1)
		return (ssize_t)n;
	return tls_handle_result(tt, ret, true);
}

static ssize_t tls_write(struct transport *t, const void *data, size_t size)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	size_t n = 0;
	errno = 0;
	tt->t.write_wants_read = false;
	int ret = SSL_write_ex(tt->ssl, data, size, &n);
	tls_check_handshake(tt);
	if (ret == 1)
		return (ssize_t)n;
	ssize_t r = tls_handle_result(tt, ret, false);
	if (r < 0 && tt->t.eof) {
		/* writing after the peer closed is an error */
		tt->t.error = EPIPE;
		tt->t.error_text = "connection closed by peer";
	}
	return r;
}

static size_t tls_pending(struct transport *t)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	return (size_t)SSL_pending(tt->ssl);
}

static void tls_destroy(struct transport *t)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	if (tt->handshake_done && !tt->t.eof && tt->t.error == 0)
		(void)SSL_shutdown(tt->ssl); /* best effort close_notify */
	ERR_clear_error();
	SSL_free(tt->ssl);
	transport_destroy(&tt->inner);
	free(tt);
}

static const struct transport_vfuncs tls_vfuncs = {
	.read = tls_read,
	.write = tls_write,
	.pending = tls_pending,
	.destroy = tls_destroy,
};

struct transport *tls_transport_create(struct tls_context *ctx, struct transport *inner)
{
	struct tls_transport *tt = i_zalloc(sizeof(*tt));
	tt->t.v = &tls_vfuncs;
	tt->t.fd = inner->fd;
	tt->inner = inner;
	tt->ssl = SSL_new(ctx->ssl_ctx);
	if (tt->ssl == NULL)
		i_fatal_oom(0);
	SSL_set_fd(tt->ssl, inner->fd);
	SSL_set_accept_state(tt->ssl);
	return &tt->t;
}

bool tls_transport_is_tls(const struct transport *t)
{
	return t->v == &tls_vfuncs;
}

bool tls_transport_handshake_done(const struct transport *t)
{
	return tls_transport_is_tls(t) && ((const struct tls_transport *)t)->handshake_done;
}

const char *tls_transport_get_info(const struct transport *t)
{
	if (!tls_transport_handshake_done(t))
		return NULL;
	return ((const struct tls_transport *)t)->info;
}

SSL *tls_transport_get_ssl(const struct transport *t)
{
	return tls_transport_is_tls(t) ? ((const struct tls_transport *)t)->ssl : NULL;
}
