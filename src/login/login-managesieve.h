/* The pre-login ManageSieve engine (RFC 5804 §2: non-authenticated state):
 * greeting with capabilities, CAPABILITY, STARTTLS, AUTHENTICATE, NOOP and
 * LOGOUT. After a successful AUTHENTICATE the connection is handed to the
 * post-login engine (src/managesieve), as login-imap does. */
#ifndef TERN_LOGIN_MANAGESIEVE_H
#define TERN_LOGIN_MANAGESIEVE_H

#include "login-common.h"

/* Starts a pre-login ManageSieve session on an accepted socket (takes fd). */
void login_managesieve_client_create(struct login_context *ctx, int fd,
				     const struct net_endpoint *remote,
				     const struct net_endpoint *local,
				     enum listener_tls tls_mode);
/* Takes back a connection after UNAUTHENTICATE (RFC 5804 §2.14.1): it is
   in the non-authenticated state again, with its TLS if it had TLS; no
   greeting is sent. Input already buffered in conn is processed. */
void login_managesieve_client_resume(struct login_context *ctx, struct connection *conn,
				     bool starttls);

#endif
