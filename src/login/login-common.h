/* What every pre-login protocol engine shares: the per-process login
 * context (settings, TLS, auth), starting TLS on a connection, and handing
 * an authenticated session over to the post-login side through the
 * login_handoff record. */
#ifndef TERN_LOGIN_COMMON_H
#define TERN_LOGIN_COMMON_H

#include "auth-client.h"
#include "config.h"
#include "connection.h"
#include "ipc-handoff.h"
#include "tls.h"

/* Takes over conn: sets its vfuncs and context. The record and its memory
   are valid only during the call. */
typedef void login_handoff_callback_t(struct connection *conn,
				      const struct login_handoff *handoff);

struct login_context {
	const struct tern_settings *set;
	struct tls_context *tls;    /* NULL when TLS isn't configured */
	struct auth_client *auth; /* to the auth process */
	login_handoff_callback_t *handoff;
};

/* Starts TLS on conn (implicit TLS, or after STARTTLS's OK was queued).
   Input bytes buffered in plaintext are discarded (RFC 9051 §6.2.1: no
   command injection across the upgrade). */
void login_start_tls(struct login_context *ctx, struct connection *conn);
bool login_connection_is_tls(const struct connection *conn);
/* TLS or loopback/Unix socket. */
bool login_connection_is_secured(const struct connection *conn);
/* The listener offers STARTTLS (tls = starttls or required). */
bool login_tls_mode_offers_starttls(enum listener_tls mode);
/* tls = required and TLS isn't up yet: no authentication of any kind,
   loopback included (Dovecot's ssl = required). */
bool login_tls_required_unmet(enum listener_tls mode, const struct connection *conn);
/* Fills the hand-off record for an OK auth reply. */
void login_handoff_fill(struct login_handoff *h, struct connection *conn,
			const char *protocol, const struct auth_client_reply *reply,
			const char *mech, const char *tag, bool starttls);
/* Gives conn to the post-login engine: fills the hand-off record, detaches
   the connection from the pre-login client (whose destroy callback then
   never runs for it) and calls ctx->handoff. The caller frees its client
   afterwards without touching conn. */
void login_handoff_connection(struct login_context *ctx, struct connection *conn,
			      const char *protocol, const struct auth_client_reply *reply,
			      const char *mech, const char *tag, bool starttls);
/* The SASL mechanisms conn is offered (auth_get_mechanisms_for): by its
   security, its TLS channel binding and its client certificate.
   Temporary memory. */
const char *login_auth_mechanisms(struct login_context *ctx, struct connection *conn);
/* Fills the auth request info for conn, with its TLS channel binding and
   verified client certificate name (temporary memory). */
void login_auth_info_fill(struct auth_client_request_info *info, struct connection *conn,
			  const char *protocol, const char *mech);

#endif
