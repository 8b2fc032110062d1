/* The SASL mechanisms a connection is offered, by what it has: TLS (or
 * loopback) for plaintext ones, a tls-exporter binding for -PLUS, a
 * verified client certificate for EXTERNAL; and the token validation the
 * OAuth mechanisms need. */
#ifndef TERN_AUTH_SASL_H
#define TERN_AUTH_SASL_H

#include "auth.h"

/* Space-separated enabled mechanisms for a connection: plaintext ones
   only when secured or auth.allow_insecure_plaintext, -PLUS ones only
   with channel_binding (RFC 9266 available), EXTERNAL only with
   client_cert. Temporary memory; may be "". */
const char *auth_get_mechanisms_for(struct auth *auth, bool secured,
				    bool channel_binding, bool client_cert);

/* auth.c's: sets up OAuth 2.0 validation; fails when OAUTHBEARER or
   XOAUTH2 is enabled without any. */
int auth_sasl_init(struct auth *auth, const struct auth_options *opts,
		   const char **error_r);
/* Safe to call more than once, and after a failed init. */
void auth_sasl_deinit(struct auth *auth);

#endif
