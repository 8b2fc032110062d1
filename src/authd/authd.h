/* The auth process's sockets: the server side of Dovecot's authentication
 * protocol (v1.2) on client sockets, for login processes and MTAs (Postfix
 * smtpd_sasl_type = dovecot, Exim's dovecot authenticator), and of the
 * auth-master protocol (v1.0) on master sockets, for privileged processes
 * (userdb lookups, user listing, and resolving a login that finished on a
 * client socket). Both run over a struct auth on the event loop. */
#ifndef TERN_AUTHD_H
#define TERN_AUTHD_H

#include "auth.h"

struct authd;

/* 0 for the defaults in brackets. */
struct authd_settings {
	/* longest line accepted from a client [AUTH_PROTO_MAX_LINE_LENGTH] */
	unsigned int max_line_length;
	/* requests running at once on one client connection; more get a
	   temporary FAIL [4096] */
	unsigned int max_requests_per_connection;
	/* connections at once per listener type; more are closed [1024] */
	unsigned int max_connections;
	/* a request whose CONT the client doesn't send within this time is
	   failed [5 min] */
	unsigned int request_timeout_ms;
	/* how long a successful login waits for the master's REQUEST [60 s] */
	unsigned int login_ttl_ms;
	/* successful logins waiting for REQUEST; past it the oldest goes
	   [16384] */
	unsigned int max_pending_logins;
	/* the same per client connection, so that one login process can
	   push out only its own [1024] */
	unsigned int max_pending_logins_per_connection;
	/* output a client doesn't read for this long closes it [60 s] */
	unsigned int output_timeout_ms;
};

/* auth must outlive the authd. The settings are copied. */
struct authd *authd_create(struct auth *auth, const struct authd_settings *set);
/* Closes every listener and connection (their requests are aborted).
   Accepts NULL; *authd becomes NULL. */
void authd_destroy(struct authd **authd);

/* Accepts connections on a listening Unix socket (net_listen_unix()),
   taking ownership of fd. Client listeners speak only the client protocol
   (AUTH); master listeners only the master protocol. Which processes may
   connect is decided by the socket file's permissions. */
/* Connections on client (and login) sockets: while there are none after
   a reload, no new login can come to this process. */
unsigned int authd_client_connection_count(const struct authd *authd);
/* Closes the listeners (a reload's new auth process takes over); the
   connections go on. */
void authd_stop_listening(struct authd *authd);
void authd_add_client_listener(struct authd *authd, int listen_fd);
/* The login processes' client socket: like a client listener, but the
   TLS facts they report (cert_username, cbind) are believed. */
void authd_add_login_listener(struct authd *authd, int listen_fd);
void authd_add_master_listener(struct authd *authd, int listen_fd);
/* Serves one connected socket (a socketpair end the master passed, or a
   test's), taking ownership of fd. */
void authd_add_client_connection(struct authd *authd, int fd);
void authd_add_master_connection(struct authd *authd, int fd);

/* Successful logins currently waiting for REQUEST (tests, metrics). */
unsigned int authd_pending_login_count(const struct authd *authd);

#endif
