/* The tls-exporter channel binding (RFC 9266) of a TLS connection, for
 * SASL SCRAM -PLUS. (The verified client certificate's user name for
 * EXTERNAL is tls_transport_get_peer_cert_username() in tls.h.) */
#ifndef TERN_TLS_BINDING_H
#define TERN_TLS_BINDING_H

#include "transport.h"

/* RFC 9266 §2: 32 bytes */
#define TLS_EXPORTER_SIZE 32

/* Writes the tls-exporter channel binding: the TLS exporter with label
   "EXPORTER-Channel-Binding" and an empty context (RFC 9266 §2). Returns 1,
   or 0 when there is none: not TLS, the handshake hasn't finished, or the
   connection isn't TLS 1.3 (RFC 9266 §3 allows TLS 1.2 only with the
   extended master secret, which we don't check for, and tls-unique isn't
   defined for TLS 1.3). */
int tls_transport_get_exporter(const struct transport *t,
			       unsigned char out[TLS_EXPORTER_SIZE]);
/* Whether the connection has, or after its handshake will have, a
   tls-exporter binding: TLS 1.3 negotiated, or, before the handshake
   ends, TLS 1.3 the lowest version allowed. For advertising -PLUS
   mechanisms in a greeting sent before the handshake. */
bool tls_transport_channel_binding_expected(const struct transport *t);

#endif
