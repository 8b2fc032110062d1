/* TLS facts for SASL: the RFC 9266 tls-exporter channel binding and the
 * verified client certificate's identity (SSL_get_verify_result over the
 * certificate SSL_get0_peer_certificate returns). */
#include "tls-binding.h"
#include "tls-private.h"
#include "pool.h"

#include <openssl/x509.h>

#define TLS_EXPORTER_LABEL "EXPORTER-Channel-Binding"

int tls_transport_get_exporter(const struct transport *t,
			       unsigned char out[TLS_EXPORTER_SIZE])
{
	SSL *ssl = tls_transport_get_ssl(t);

	if (ssl == NULL || !SSL_is_init_finished(ssl) ||
	    SSL_version(ssl) < TLS1_3_VERSION)
		return 0;
	if (SSL_export_keying_material(ssl, out, TLS_EXPORTER_SIZE, TLS_EXPORTER_LABEL,
				       strlen(TLS_EXPORTER_LABEL), NULL, 0, 0) != 1) {
		(void)tls_last_error();
		return 0;
	}
	return 1;
}

bool tls_transport_channel_binding_expected(const struct transport *t)
{
	SSL *ssl = tls_transport_get_ssl(t);

	if (ssl == NULL)
		return false;
	if (SSL_is_init_finished(ssl))
		return SSL_version(ssl) >= TLS1_3_VERSION;
	long min = SSL_get_min_proto_version(ssl);
	return min >= TLS1_3_VERSION;
}

static const char *tls_name_check(const unsigned char *data, int len)
{
	if (len <= 0 || len > TLS_PEER_IDENTITY_MAX_LEN)
		return NULL;
	for (int i = 0; i < len; i++) {
		if (data[i] < 0x20 || data[i] == 0x7f)
			return NULL;
	}
	return t_strndup(data, (size_t)len);
}

const char *tls_transport_get_peer_identity(const struct transport *t)
{
	SSL *ssl = tls_transport_get_ssl(t);

	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return NULL;
	X509 *cert = SSL_get0_peer_certificate(ssl);
	/* the result is X509_V_OK too when nothing was verified, so a
	   certificate must be there */
	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	const X509_NAME *subject = X509_get_subject_name(cert);
	int idx = -1;
	for (int next; (next = X509_NAME_get_index_by_NID(subject, NID_commonName, idx)) >= 0; )
		idx = next;
	if (idx < 0)
		return NULL;
	const ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, value);
	const char *name = len < 0 ? NULL : tls_name_check(utf8, len);
	OPENSSL_free(utf8);
	return name;
}
