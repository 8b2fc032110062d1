/* The pre-login IMAP engine (RFC 9051 §6.1, §6.2): greeting, CAPABILITY,
 * NOOP, LOGOUT, ID, STARTTLS, LOGIN and AUTHENTICATE. After a successful
 * login the connection is handed to the post-login engine. */
#ifndef TERN_LOGIN_IMAP_H
#define TERN_LOGIN_IMAP_H

#include "login-common.h"

/* Starts a pre-login IMAP session on an accepted socket (takes fd). */
void login_imap_client_create(struct login_context *ctx, int fd,
			      const struct net_endpoint *remote,
			      const struct net_endpoint *local,
			      enum listener_tls tls_mode);

/* Takes back a logged-in connection whose session ended with
   UNAUTHENTICATE (RFC 8437): pre-login state again, no greeting, TLS and
   COMPRESS kept. starttls: the listener offers STARTTLS. */
void login_imap_client_resume(struct login_context *ctx, struct connection *conn,
			      bool starttls);

#endif
