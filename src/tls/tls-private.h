/* Internals shared by the TLS files: the context with its SNI table, and
 * the reading of a client certificate's identity. */
#ifndef TERN_TLS_PRIVATE_H
#define TERN_TLS_PRIVATE_H

#include "tls.h"

#include <openssl/ssl.h>

/* One server name pattern of a certificate, lowercase */
struct tls_sni_entry {
	char *pattern;
	SSL_CTX *ssl_ctx;
	const char *cert_name; /* for the duplicate-name error */
};

struct tls_context {
	/* the default certificate; every SSL starts here, and its session
	   cache serves all certificates (OpenSSL keeps the session context
	   when SNI switches the SSL_CTX) */
	SSL_CTX *ssl_ctx;
	/* one per certificate block, same settings, another certificate */
	SSL_CTX **cert_ctxs;
	unsigned int cert_ctx_count;
	struct tls_sni_entry *sni;
	unsigned int sni_count;

	enum tls_verify_client verify_client;
	enum tls_cert_username_field cert_username_field;
};

/* What a client certificate says; strings are malloc()ed or NULL */
struct tls_peer_cert {
	bool verified;
	char *subject_cn;
	char *username;
	char *error;
};

/* A memory BIO with the contents of path: from opts->files when set, else
   from the disk. NULL with *error_r set (without the path) if it can't be
   read. */
BIO *tls_file_open(const struct tls_options *opts, const char *path, const char **error_r);

/* Text of the oldest queued OpenSSL error (temporary memory); clears the queue. */
const char *tls_last_error(void);

/* Adds the names of a certificate (space separated) to the SNI table.
   Returns 0, or -1 when a name is invalid, already taken or over the
   limit. */
int tls_sni_add(struct tls_context *ctx, const char *names, SSL_CTX *ssl_ctx,
		const char *cert_name, const char **error_r);
/* The SSL_CTX of the certificate for name: an exact match first, then a
   wildcard; NULL when none (the default certificate then). */
SSL_CTX *tls_sni_lookup(const struct tls_context *ctx, const char *name);
/* Makes the default SSL_CTX switch certificates by the client's name. */
void tls_sni_install(struct tls_context *ctx);
void tls_sni_free(struct tls_context *ctx);

/* Reads the peer certificate of a finished handshake into peer_r. */
void tls_peer_cert_read(SSL *ssl, enum tls_verify_client verify,
			enum tls_cert_username_field field,
			struct tls_peer_cert *peer_r);
void tls_peer_cert_free(struct tls_peer_cert *peer);

/* The SSL of a TLS transport, for the other TLS files (channel binding);
   NULL if t is not one. */
SSL *tls_transport_get_ssl(const struct transport *t);

#endif
