/* Server-side TLS (RFC 8446, RFC 5246) over OpenSSL, exposed as a
 * transport that wraps a socket transport: used for implicit TLS ports and
 * for STARTTLS upgrades (RFC 9051 §6.2.1, RFC 2595). TLS 1.2 is the
 * minimum. */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include "transport.h"

struct tls_context;

struct tls_options {
	const char *cert_file, *key_file;
	const char *min_protocol;  /* "TLSv1.2" or "TLSv1.3" */
	const char *ciphers;       /* TLS <= 1.2 cipher list, "" = default */
	const char *cipher_suites; /* TLS 1.3 suites, "" = default */
	bool prefer_server_ciphers;
};

int tls_context_create(const struct tls_options *opts, struct tls_context **ctx_r,
		       const char **error_r);
void tls_context_destroy(struct tls_context **ctx);

/* Wraps inner (taking ownership of it). The handshake runs as the stream
   reads and writes; a failed handshake is a read/write error whose text
   says why. */
struct transport *tls_transport_create(struct tls_context *ctx, struct transport *inner);
bool tls_transport_is_tls(const struct transport *t);
bool tls_transport_handshake_done(const struct transport *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL before the handshake. */
const char *tls_transport_get_info(const struct transport *t);

/* Creates a self-signed certificate (EC P-256, 10 years, CN and SAN for
   hostname, "localhost" and 127.0.0.1) and its key (mode 0600). */
int tls_generate_self_signed(const char *cert_file, const char *key_file,
			     const char *hostname, const char **error_r);

#endif
