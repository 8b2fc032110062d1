/* A TLS transport: SSL over the inner transport's socket, and what the
 * handshake told about the client (server name, certificate). */
#include "tls-private.h"
#include "pool.h"

#include <errno.h>
#include <openssl/err.h>

struct tls_transport {
	struct transport t;
	struct transport *inner;
	SSL *ssl;
	enum tls_verify_client verify_client;
	enum tls_cert_username_field cert_username_field;
	const struct log_ctx *log;
	bool handshake_done;
	char info[96];
	char *server_name;
	struct tls_peer_cert peer;
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
	/* "certificate verify failed" alone doesn't say what is wrong with
	   the client's certificate */
	long result = SSL_get_verify_result(tt->ssl);
	size_t used = strlen(tt->error_buf);
	if (!tt->handshake_done && result != X509_V_OK && used < sizeof(tt->error_buf)) {
		snprintf(tt->error_buf + used, sizeof(tt->error_buf) - used,
			 " (client certificate: %s)", X509_verify_cert_error_string(result));
	}
	ERR_clear_error();
	tt->t.error = EPROTO;
	tt->t.error_text = tt->error_buf;
}

static void tls_log_handshake(struct tls_transport *tt)
{
	if (tt->log == NULL)
		return;
	const char *sni = tt->server_name == NULL ? "" :
		t_strdup_printf(" sni=%s", log_value(tt->server_name));
	const char *resumed = SSL_session_reused(tt->ssl) ? " resumed=yes" : "";
	if (tt->peer.verified) {
		log_info(tt->log, "tls_handshake",
			 "version=%s cipher=%s%s%s client_cert=verified cert_cn=%s cert_user=%s",
			 SSL_get_version(tt->ssl), SSL_get_cipher_name(tt->ssl), sni, resumed,
			 log_value(tt->peer.subject_cn == NULL ? "" : tt->peer.subject_cn),
			 log_value(tt->peer.username == NULL ? "" : tt->peer.username));
	} else if (tt->peer.error != NULL) {
		log_info(tt->log, "tls_handshake",
			 "version=%s cipher=%s%s%s client_cert=invalid cert_error=%s",
			 SSL_get_version(tt->ssl), SSL_get_cipher_name(tt->ssl), sni, resumed,
			 log_value(tt->peer.error));
	} else {
		log_debug(tt->log, "tls_handshake", "version=%s cipher=%s%s%s",
			  SSL_get_version(tt->ssl), SSL_get_cipher_name(tt->ssl), sni, resumed);
	}
}

static void tls_check_handshake(struct tls_transport *tt)
{
	if (tt->handshake_done || !SSL_is_init_finished(tt->ssl))
		return;
	tt->handshake_done = true;
	snprintf(tt->info, sizeof(tt->info), "%s %s", SSL_get_version(tt->ssl),
		 SSL_get_cipher_name(tt->ssl));
	const char *name = SSL_get_servername(tt->ssl, TLSEXT_NAMETYPE_host_name);
	if (name != NULL) {
		tt->server_name = i_strdup(name);
		for (char *p = tt->server_name; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
	}
	tls_peer_cert_read(tt->ssl, tt->verify_client, tt->cert_username_field, &tt->peer);
	tls_log_handshake(tt);
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
	else if (tt->handshake_done) {
		/* OpenSSL drops the session of a connection closed without
		   close_notify from the cache. Most clients just close the
		   socket, and that is no reason to make them do a full
		   handshake next time; a fatal TLS error has removed the
		   session already. */
		SSL_set_shutdown(tt->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
	ERR_clear_error();
	SSL_free(tt->ssl);
	free(tt->server_name);
	tls_peer_cert_free(&tt->peer);
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
	tt->verify_client = ctx->verify_client;
	tt->cert_username_field = ctx->cert_username_field;
	tt->ssl = SSL_new(ctx->ssl_ctx);
	if (tt->ssl == NULL)
		i_fatal_oom(0);
	SSL_set_fd(tt->ssl, inner->fd);
	SSL_set_accept_state(tt->ssl);
	return &tt->t;
}

void tls_transport_set_log(struct transport *t, const struct log_ctx *log)
{
	i_assert(tls_transport_is_tls(t));
	((struct tls_transport *)t)->log = log;
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

const char *tls_transport_get_server_name(const struct transport *t)
{
	if (!tls_transport_handshake_done(t))
		return NULL;
	return ((const struct tls_transport *)t)->server_name;
}

/* The certificate facts of a finished handshake, or NULL. */
static const struct tls_peer_cert *tls_transport_peer(const struct transport *t)
{
	if (!tls_transport_handshake_done(t))
		return NULL;
	return &((const struct tls_transport *)t)->peer;
}

bool tls_transport_get_peer_cert_verified(const struct transport *t)
{
	const struct tls_peer_cert *peer = tls_transport_peer(t);
	return peer != NULL && peer->verified;
}

const char *tls_transport_get_peer_cert_subject_cn(const struct transport *t)
{
	const struct tls_peer_cert *peer = tls_transport_peer(t);
	return peer == NULL ? NULL : peer->subject_cn;
}

const char *tls_transport_get_peer_cert_username(const struct transport *t)
{
	const struct tls_peer_cert *peer = tls_transport_peer(t);
	return peer == NULL ? NULL : peer->username;
}

const char *tls_transport_get_peer_cert_error(const struct transport *t)
{
	const struct tls_peer_cert *peer = tls_transport_peer(t);
	return peer == NULL ? NULL : peer->error;
}

SSL *tls_transport_get_ssl(const struct transport *t)
{
	return tls_transport_is_tls(t) ? ((const struct tls_transport *)t)->ssl : NULL;
}
