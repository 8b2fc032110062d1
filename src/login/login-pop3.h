/* The pre-login POP3 engine (RFC 1939 §4 AUTHORIZATION state): greeting,
 * CAPA, STLS, UTF8, USER/PASS, AUTH and QUIT. After a successful login the
 * connection is handed to the post-login engine (src/pop3). */
#ifndef TERN_LOGIN_POP3_H
#define TERN_LOGIN_POP3_H

#include "login-common.h"

/* Starts a pre-login POP3 session on an accepted socket (takes fd). */
void login_pop3_client_create(struct login_context *ctx, int fd,
			      const struct net_endpoint *remote,
			      const struct net_endpoint *local,
			      enum listener_tls tls_mode);

#endif
