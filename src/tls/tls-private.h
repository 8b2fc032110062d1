/* Internals shared by the TLS files. */
#ifndef TERN_TLS_PRIVATE_H
#define TERN_TLS_PRIVATE_H

#include "transport.h"

#include <openssl/ssl.h>

struct tls_context {
	SSL_CTX *ssl_ctx;
};

/* Text of the oldest queued OpenSSL error (temporary memory); clears the queue. */
const char *tls_last_error(void);

/* The SSL of a TLS transport, for the other TLS files (channel binding);
   NULL if t is not one. */
SSL *tls_transport_get_ssl(const struct transport *t);

#endif
