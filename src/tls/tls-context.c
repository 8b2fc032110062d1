/* Server SSL_CTX setup: protocol floor, ciphers and groups, session
 * resumption, client certificate verification, and one SSL_CTX per
 * certificate, the default one switching to the others by SNI. */
#include "tls-private.h"
#include "pool.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Resumable sessions one process keeps (OpenSSL evicts the oldest) */
#define TLS_SESSION_CACHE_SIZE 20000
/* Longest client certificate chain verified */
#define TLS_VERIFY_DEPTH 10

static const unsigned char tls_session_id_context[] = "tern";

const char *tls_last_error(void)
{
	unsigned long err = ERR_get_error();
	if (err == 0)
		return "unknown error";
	char buf[256];
	ERR_error_string_n(err, buf, sizeof(buf));
	ERR_clear_error();
	return t_strdup(buf);
}

/* Key files are never encrypted: without this OpenSSL would ask for a
   passphrase on the terminal of a daemon. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	return 0;
}

/* verify_client = optional: a certificate that does not verify doesn't
   end the handshake; SSL_get_verify_result() keeps the reason and the
   connection stays unidentified. */
static int tls_verify_accept(int preverify_ok, X509_STORE_CTX *x509_ctx)
{
	return 1;
}

static void tls_ctx_set_sessions(SSL_CTX *ssl_ctx, const struct tls_options *opts)
{
	/* Resumption is by a per-process server-side cache, not by
	   stateless tickets: a ticket key would have to be shared by every
	   worker and rotated, and one that leaks undoes the forward secrecy
	   of every session it sealed. With SSL_OP_NO_TICKET TLS 1.3 sends
	   stateful tickets that name a cache entry. docs/tls.md. */
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
	(void)SSL_CTX_set_session_id_context(ssl_ctx, tls_session_id_context,
					     sizeof(tls_session_id_context) - 1);
	if (opts->session_timeout_secs == 0) {
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
		(void)SSL_CTX_set_num_tickets(ssl_ctx, 0);
		return;
	}
	SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ssl_ctx, TLS_SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(ssl_ctx, (long)opts->session_timeout_secs);
	(void)SSL_CTX_set_num_tickets(ssl_ctx, 1);
}

/* A PEM sequence ends with a "no start line" error; anything else is a
   real one. */
static bool tls_pem_end_reached(void)
{
	unsigned long err = ERR_peek_last_error();
	if (ERR_GET_LIB(err) != ERR_LIB_PEM || ERR_GET_REASON(err) != PEM_R_NO_START_LINE)
		return false;
	ERR_clear_error();
	return true;
}

/* The client CAs into the verify store and the CertificateRequest's list
   of acceptable CAs (RFC 8446 §4.2.4). */
static int tls_ctx_load_client_cas(SSL_CTX *ssl_ctx, const struct tls_options *opts,
				   const char **error_r)
{
	const char *path = opts->client_ca_file, *error;
	BIO *bio = tls_file_open(opts, path, &error);
	if (bio == NULL) {
		*error_r = t_strdup_printf("can't load client CA file %s: %s", path, error);
		return -1;
	}
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	unsigned int count = 0;
	bool ok = names != NULL;
	X509 *cert;
	while (ok && (cert = PEM_read_bio_X509(bio, NULL, tls_no_passphrase, NULL)) != NULL) {
		X509_NAME *name = X509_NAME_dup(X509_get_subject_name(cert));
		ok = X509_STORE_add_cert(store, cert) == 1 && name != NULL &&
			sk_X509_NAME_push(names, name) > 0;
		if (!ok)
			X509_NAME_free(name);
		X509_free(cert);
		count++;
	}
	ok = ok && tls_pem_end_reached() && count > 0;
	BIO_free(bio);
	if (!ok) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		*error_r = count == 0 && names != NULL ?
			t_strdup_printf("can't load client CA file %s: no certificate in it (%s)",
					path, tls_last_error()) :
			t_strdup_printf("can't load client CA file %s: %s", path, tls_last_error());
		return -1;
	}
	SSL_CTX_set_client_CA_list(ssl_ctx, names);
	return 0;
}

static int tls_ctx_load_crls(SSL_CTX *ssl_ctx, const struct tls_options *opts,
			     const char **error_r)
{
	const char *error;
	BIO *bio = tls_file_open(opts, opts->crl_file, &error);
	if (bio == NULL) {
		*error_r = t_strdup_printf("can't load CRL file %s: %s", opts->crl_file, error);
		return -1;
	}
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	unsigned int count = 0;
	bool ok = true;
	X509_CRL *crl;
	while (ok && (crl = PEM_read_bio_X509_CRL(bio, NULL, tls_no_passphrase, NULL)) != NULL) {
		ok = X509_STORE_add_crl(store, crl) == 1;
		X509_CRL_free(crl);
		count++;
	}
	ok = ok && tls_pem_end_reached() && count > 0;
	BIO_free(bio);
	if (!ok) {
		*error_r = t_strdup_printf("can't load CRL file %s: %s", opts->crl_file,
					   count == 0 ? "no CRL in it" : tls_last_error());
		ERR_clear_error();
		return -1;
	}
	/* the client's certificate; its CA's own status is the CA's
	   business (and a root has no CRL) */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

static int tls_ctx_set_verify(SSL_CTX *ssl_ctx, const struct tls_options *opts,
			      const char **error_r)
{
	if (opts->verify_client == TLS_VERIFY_CLIENT_NO)
		return 0;
	if (opts->client_ca_file == NULL || opts->client_ca_file[0] == '\0') {
		*error_r = "tls.verify_client needs tls.client_ca_file";
		return -1;
	}
	if (tls_ctx_load_client_cas(ssl_ctx, opts, error_r) < 0)
		return -1;
	if (opts->crl_file != NULL && opts->crl_file[0] != '\0' &&
	    tls_ctx_load_crls(ssl_ctx, opts, error_r) < 0)
		return -1;
	bool required = opts->verify_client == TLS_VERIFY_CLIENT_REQUIRED;
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER |
			   (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
			   required ? NULL : tls_verify_accept);
	SSL_CTX_set_verify_depth(ssl_ctx, TLS_VERIFY_DEPTH);
	return 0;
}

static int tls_ctx_set_algorithms(SSL_CTX *ssl_ctx, const struct tls_options *opts,
				  const char **error_r)
{
	const char *what = NULL;
	if (opts->ciphers[0] != '\0' && SSL_CTX_set_cipher_list(ssl_ctx, opts->ciphers) != 1)
		what = t_strdup_printf("invalid tls.ciphers '%s'", opts->ciphers);
	else if (opts->cipher_suites[0] != '\0' &&
		 SSL_CTX_set_ciphersuites(ssl_ctx, opts->cipher_suites) != 1)
		what = t_strdup_printf("invalid tls.cipher_suites '%s'", opts->cipher_suites);
	else if (opts->groups != NULL && opts->groups[0] != '\0' &&
		 SSL_CTX_set1_groups_list(ssl_ctx, opts->groups) != 1)
		what = t_strdup_printf("invalid tls.groups '%s'", opts->groups);
	if (what != NULL) {
		*error_r = t_strdup_printf("%s: %s", what, tls_last_error());
		return -1;
	}
	/* DHE suites of the cipher list get parameters matching the
	   certificate's strength (RFC 7919 groups) */
	(void)SSL_CTX_set_dh_auto(ssl_ctx, 1);
	return 0;
}

/* A context with every setting but the certificate. */
static SSL_CTX *tls_ssl_ctx_new(const struct tls_options *opts, const char **error_r)
{
	SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (ssl_ctx == NULL) {
		*error_r = t_strdup_printf("SSL_CTX_new() failed: %s", tls_last_error());
		return NULL;
	}
	int min_version = strcmp(opts->min_protocol, "TLSv1.3") == 0 ?
		TLS1_3_VERSION : TLS1_2_VERSION;
	(void)SSL_CTX_set_min_proto_version(ssl_ctx, min_version);
	/* No renegotiation (its DoS and its injection history), no
	   compression (CRIME). A peer that closes without close_notify is
	   at EOF, not in error: IMAP and POP3 frame their own data, so a
	   truncation can't pass for a complete command, and as an error
	   OpenSSL would also drop the session from the cache. */
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_IGNORE_UNEXPECTED_EOF |
			    (opts->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	tls_ctx_set_sessions(ssl_ctx, opts);
	if (tls_ctx_set_algorithms(ssl_ctx, opts, error_r) < 0 ||
	    tls_ctx_set_verify(ssl_ctx, opts, error_r) < 0) {
		SSL_CTX_free(ssl_ctx);
		return NULL;
	}
	return ssl_ctx;
}

/* The certificate and the chain after it in path. */
static int tls_ctx_use_chain(SSL_CTX *ssl_ctx, const struct tls_options *opts,
			     const char *path, const char **error_r)
{
	const char *error;
	BIO *bio = tls_file_open(opts, path, &error);
	if (bio == NULL) {
		*error_r = t_strdup_printf("can't load certificate %s: %s", path, error);
		return -1;
	}
	X509 *cert = PEM_read_bio_X509_AUX(bio, NULL, tls_no_passphrase, NULL);
	bool ok = cert != NULL && SSL_CTX_use_certificate(ssl_ctx, cert) == 1 &&
		SSL_CTX_clear_chain_certs(ssl_ctx) == 1;
	X509_free(cert);
	X509 *ca;
	while (ok && (ca = PEM_read_bio_X509(bio, NULL, tls_no_passphrase, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ssl_ctx, ca) != 1) {
			X509_free(ca);
			ok = false;
		}
	}
	ok = ok && tls_pem_end_reached();
	BIO_free(bio);
	if (!ok) {
		*error_r = t_strdup_printf("can't load certificate %s: %s", path, tls_last_error());
		return -1;
	}
	return 0;
}

static int tls_ctx_use_key(SSL_CTX *ssl_ctx, const struct tls_options *opts,
			   const char *path, const char **error_r)
{
	const char *error;
	BIO *bio = tls_file_open(opts, path, &error);
	if (bio == NULL) {
		*error_r = t_strdup_printf("can't load private key %s: %s", path, error);
		return -1;
	}
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	bool ok = key != NULL && SSL_CTX_use_PrivateKey(ssl_ctx, key) == 1 &&
		SSL_CTX_check_private_key(ssl_ctx) == 1;
	EVP_PKEY_free(key);
	BIO_free(bio);
	if (!ok) {
		*error_r = t_strdup_printf("can't load private key %s: %s", path, tls_last_error());
		return -1;
	}
	return 0;
}

static int tls_ctx_use_pair(SSL_CTX *ssl_ctx, const struct tls_options *opts,
			    const char *cert_file, const char *key_file, const char **error_r)
{
	if (cert_file == NULL || cert_file[0] == '\0') {
		*error_r = "cert_file is not set";
		return -1;
	}
	if (key_file == NULL || key_file[0] == '\0') {
		*error_r = t_strdup_printf("no key_file for certificate %s", cert_file);
		return -1;
	}
	return tls_ctx_use_chain(ssl_ctx, opts, cert_file, error_r) < 0 ||
		tls_ctx_use_key(ssl_ctx, opts, key_file, error_r) < 0 ? -1 : 0;
}

/* The certificate and, if set, the alternative one of another key type. */
static int tls_ctx_use_certificate(SSL_CTX *ssl_ctx, const struct tls_options *opts,
				   const struct tls_certificate *cert, const char **error_r)
{
	const char *error;
	if (tls_ctx_use_pair(ssl_ctx, opts, cert->cert_file, cert->key_file, &error) < 0) {
		*error_r = t_strdup_printf("certificate %s: %s", cert->name, error);
		return -1;
	}
	if (cert->alt_cert_file == NULL || cert->alt_cert_file[0] == '\0')
		return 0;
	int first_type = EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(ssl_ctx));
	if (tls_ctx_use_pair(ssl_ctx, opts, cert->alt_cert_file, cert->alt_key_file, &error) < 0) {
		*error_r = t_strdup_printf("certificate %s: %s", cert->name, error);
		return -1;
	}
	/* OpenSSL keeps one certificate per key type: the same type twice
	   would silently replace the first */
	if (EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(ssl_ctx)) == first_type) {
		*error_r = t_strdup_printf("certificate %s: %s and %s have the same key type; "
					   "the alternative certificate is for another one "
					   "(RSA beside ECDSA)", cert->name,
					   cert->cert_file, cert->alt_cert_file);
		return -1;
	}
	return 0;
}

static int tls_context_add_certificate(struct tls_context *ctx, const struct tls_options *opts,
				       const struct tls_certificate *cert,
				       const char **error_r)
{
	SSL_CTX *ssl_ctx = tls_ssl_ctx_new(opts, error_r);
	if (ssl_ctx == NULL)
		return -1;
	ctx->cert_ctxs[ctx->cert_ctx_count++] = ssl_ctx;
	if (tls_ctx_use_certificate(ssl_ctx, opts, cert, error_r) < 0)
		return -1;
	return tls_sni_add(ctx, cert->server_names, ssl_ctx, cert->name, error_r);
}

static int tls_context_init(struct tls_context *ctx, const struct tls_options *opts,
			    const char **error_r)
{
	const struct tls_certificate def = {
		.name = "(default)", .server_names = "",
		.cert_file = opts->cert_file, .key_file = opts->key_file,
		.alt_cert_file = opts->alt_cert_file, .alt_key_file = opts->alt_key_file,
	};
	ctx->ssl_ctx = tls_ssl_ctx_new(opts, error_r);
	if (ctx->ssl_ctx == NULL || tls_ctx_use_certificate(ctx->ssl_ctx, opts, &def, error_r) < 0)
		return -1;
	if (opts->certificate_count > TLS_MAX_CERTIFICATES) {
		*error_r = t_strdup_printf("more than %u certificates", TLS_MAX_CERTIFICATES);
		return -1;
	}
	ctx->cert_ctxs = i_new(SSL_CTX *, opts->certificate_count + 1);
	for (unsigned int i = 0; i < opts->certificate_count; i++) {
		if (tls_context_add_certificate(ctx, opts, &opts->certificates[i], error_r) < 0)
			return -1;
	}
	tls_sni_install(ctx);
	return 0;
}

int tls_context_create(const struct tls_options *opts, struct tls_context **ctx_r,
		       const char **error_r)
{
	struct tls_context *ctx = i_new(struct tls_context, 1);
	ctx->verify_client = opts->verify_client;
	ctx->cert_username_field = opts->cert_username_field;
	if (tls_context_init(ctx, opts, error_r) < 0) {
		tls_context_destroy(&ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

void tls_context_destroy(struct tls_context **_ctx)
{
	struct tls_context *ctx = *_ctx;
	if (ctx == NULL)
		return;
	*_ctx = NULL;
	tls_sni_free(ctx);
	for (unsigned int i = 0; i < ctx->cert_ctx_count; i++)
		SSL_CTX_free(ctx->cert_ctxs[i]);
	free(ctx->cert_ctxs);
	SSL_CTX_free(ctx->ssl_ctx);
	ERR_clear_error();
	free(ctx);
}
