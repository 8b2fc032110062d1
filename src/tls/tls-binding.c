/* The RFC 9266 tls-exporter channel binding for SASL SCRAM -PLUS: the TLS
 * exporter of a TLS 1.3 connection. */
#include "tls-binding.h"
#include "tls-private.h"

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
