/* Server SSL_CTX setup: certificate, key, protocol floor and ciphers. */
#include "tls.h"
#include "tls-private.h"
#include "pool.h"

#include <openssl/err.h>

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

int tls_context_create(const struct tls_options *opts, struct tls_context **ctx_r,
		       const char **error_r)
{
	SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (ssl_ctx == NULL) {
		*error_r = t_strdup_printf("SSL_CTX_new() failed: %s", tls_last_error());
		return -1;
	}
	int min_version = strcmp(opts->min_protocol, "TLSv1.3") == 0 ?
		TLS1_3_VERSION : TLS1_2_VERSION;
	SSL_CTX_set_min_proto_version(ssl_ctx, min_version);
	/* no session tickets with static keys, no renegotiation, no compression */
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    (opts->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	const char *what = NULL;
	if (opts->ciphers[0] != '\0' && SSL_CTX_set_cipher_list(ssl_ctx, opts->ciphers) != 1)
		what = t_strdup_printf("invalid ciphers '%s'", opts->ciphers);
	else if (opts->cipher_suites[0] != '\0' &&
		 SSL_CTX_set_ciphersuites(ssl_ctx, opts->cipher_suites) != 1)
		what = t_strdup_printf("invalid cipher_suites '%s'", opts->cipher_suites);
	else if (SSL_CTX_use_certificate_chain_file(ssl_ctx, opts->cert_file) != 1)
		what = t_strdup_printf("can't load certificate %s", opts->cert_file);
	else if (SSL_CTX_use_PrivateKey_file(ssl_ctx, opts->key_file, SSL_FILETYPE_PEM) != 1)
		what = t_strdup_printf("can't load private key %s", opts->key_file);
	else if (SSL_CTX_check_private_key(ssl_ctx) != 1)
		what = t_strdup_printf("private key %s does not match certificate %s",
				       opts->key_file, opts->cert_file);
	if (what != NULL) {
		*error_r = t_strdup_printf("%s: %s", what, tls_last_error());
		SSL_CTX_free(ssl_ctx);
		return -1;
	}
	struct tls_context *ctx = i_zalloc(sizeof(*ctx));
	ctx->ssl_ctx = ssl_ctx;
	*ctx_r = ctx;
	return 0;
}

void tls_context_destroy(struct tls_context **_ctx)
{
	struct tls_context *ctx = *_ctx;
	if (ctx == NULL)
		return;
	*_ctx = NULL;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}
