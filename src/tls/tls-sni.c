/* Choosing the certificate by the client's server name (SNI, RFC 6066 §3):
 * the table of names, wildcard matching (one label, as RFC 6125 §6.4.3
 * allows) and the OpenSSL callback that switches the SSL_CTX. */
#include "tls-private.h"
#include "pool.h"

#include <strings.h>

/* RFC 1035 §2.3.4 */
#define DNS_MAX_NAME_LENGTH 253
#define DNS_MAX_LABEL_LENGTH 63

static bool dns_label_char(char c)
{
	/* '_' is not a hostname character, but names like _dmarc exist and
	   rejecting them here would help nobody */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Counts the labels of a DNS name; -1 when it isn't one. */
static int dns_name_labels(const char *name, const char **error_r)
{
	size_t len = strlen(name);
	if (len == 0 || len > DNS_MAX_NAME_LENGTH) {
		*error_r = "names are 1-253 characters long";
		return -1;
	}
	int labels = 0;
	for (const char *p = name; ; p++) {
		size_t label_len = 0;
		for (; dns_label_char(*p); p++)
			label_len++;
		if (label_len == 0 || label_len > DNS_MAX_LABEL_LENGTH) {
			*error_r = "labels are 1-63 characters long";
			return -1;
		}
		labels++;
		if (*p == '\0')
			return labels;
		if (*p != '.') {
			*error_r = "names are letters, digits, '-' and '_' separated by dots";
			return -1;
		}
	}
}

int tls_server_name_pattern_check(const char *pattern, const char **error_r)
{
	const char *name = pattern;
	bool wildcard = strncmp(pattern, "*.", 2) == 0;
	if (wildcard)
		name += 2;
	int labels = dns_name_labels(name, error_r);
	if (labels < 0)
		return -1;
	/* "*.com" would claim a whole top-level domain */
	if (wildcard && labels < 2) {
		*error_r = "a wildcard needs a domain of at least two labels (*.example.com)";
		return -1;
	}
	return 0;
}

bool tls_server_name_matches(const char *pattern, const char *name)
{
	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, name) == 0;
	/* the wildcard stands for exactly one non-empty label */
	const char *dot = strchr(name, '.');
	return dot != NULL && dot != name && strcasecmp(pattern + 1, dot) == 0;
}

static int tls_sni_add_one(struct tls_context *ctx, const char *pattern, SSL_CTX *ssl_ctx,
			   const char *cert_name, const char **error_r)
{
	const char *error;
	if (tls_server_name_pattern_check(pattern, &error) < 0) {
		*error_r = t_strdup_printf("certificate %s: invalid server name '%s': %s",
					   cert_name, pattern, error);
		return -1;
	}
	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		if (strcasecmp(ctx->sni[i].pattern, pattern) == 0) {
			*error_r = t_strdup_printf(
				"server name '%s' is in both certificate %s and certificate %s",
				pattern, ctx->sni[i].cert_name, cert_name);
			return -1;
		}
	}
	if (ctx->sni_count >= TLS_MAX_SERVER_NAMES) {
		*error_r = t_strdup_printf("more than %u server names", TLS_MAX_SERVER_NAMES);
		return -1;
	}
	ctx->sni = i_realloc(ctx->sni, sizeof(*ctx->sni) * (ctx->sni_count + 1));
	struct tls_sni_entry *entry = &ctx->sni[ctx->sni_count++];
	entry->pattern = i_strdup(pattern);
	for (char *p = entry->pattern; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	entry->ssl_ctx = ssl_ctx;
	entry->cert_name = cert_name;
	return 0;
}

int tls_sni_add(struct tls_context *ctx, const char *names, SSL_CTX *ssl_ctx,
		const char *cert_name, const char **error_r)
{
	unsigned int added = 0;
	for (const char *p = names; *p != '\0'; ) {
		size_t len = strcspn(p, " \t,");
		if (len > 0) {
			if (tls_sni_add_one(ctx, t_strndup(p, len), ssl_ctx, cert_name,
					    error_r) < 0)
				return -1;
			added++;
		}
		p += len;
		p += strspn(p, " \t,");
	}
	if (added == 0) {
		*error_r = t_strdup_printf("certificate %s: server_names is empty", cert_name);
		return -1;
	}
	return 0;
}

SSL_CTX *tls_sni_lookup(const struct tls_context *ctx, const char *name)
{
	/* an exact name wins over a wildcard that also covers it */
	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		if (ctx->sni[i].pattern[0] != '*' &&
		    tls_server_name_matches(ctx->sni[i].pattern, name))
			return ctx->sni[i].ssl_ctx;
	}
	for (unsigned int i = 0; i < ctx->sni_count; i++) {
		if (ctx->sni[i].pattern[0] == '*' &&
		    tls_server_name_matches(ctx->sni[i].pattern, name))
			return ctx->sni[i].ssl_ctx;
	}
	return NULL;
}

/* Runs while the ClientHello is processed, before the certificate and
   the cipher are chosen. Any name is acknowledged, as a name without a
   certificate of its own gets the default one. */
static int tls_sni_callback(SSL *ssl, int *alert, void *arg)
{
	const struct tls_context *ctx = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	SSL_CTX *match = tls_sni_lookup(ctx, name);
	if (match != NULL && match != SSL_get_SSL_CTX(ssl) &&
	    SSL_set_SSL_CTX(ssl, match) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

void tls_sni_install(struct tls_context *ctx)
{
	if (ctx->sni_count == 0)
		return;
	SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, tls_sni_callback);
	SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
}

void tls_sni_free(struct tls_context *ctx)
{
	for (unsigned int i = 0; i < ctx->sni_count; i++)
		free(ctx->sni[i].pattern);
	i_free(ctx->sni);
	ctx->sni_count = 0;
}
