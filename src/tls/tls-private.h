/* Internals shared by the TLS files. */
#ifndef TERN_TLS_PRIVATE_H
#define TERN_TLS_PRIVATE_H

#include <openssl/ssl.h>

struct tls_context {
	SSL_CTX *ssl_ctx;
};

/* Text of the oldest queued OpenSSL error (temporary memory); clears the queue. */
const char *tls_last_error(void);

#endif
