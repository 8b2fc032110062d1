/* The TLS relay of a logged-in session: TLS is terminated in the login
 * process (docs/ARCHITECTURE.md), so after the hand-off the login process
 * keeps the client's TLS connection and relays plaintext to and from the
 * mail process over a socketpair, with back-pressure both ways. */
#ifndef TERN_LOGIN_PROXY_H
#define TERN_LOGIN_PROXY_H

#include "connection.h"

struct login_proxy;

/* Takes over conn (its vfuncs and context) and fd (the login's end of the
   socketpair). Bytes already buffered in conn->input are dropped: the
   hand-off record carried them. */
struct login_proxy *login_proxy_create(struct connection *conn, int fd);
/* The relay of a session, by its session id, or NULL. */
struct login_proxy *login_proxy_find(const char *session_id);
/* Ends the relay for a return to pre-login (UNAUTHENTICATE): reads what
   the mail process wrote before it let go and queues it to the client,
   closes the socketpair and returns the client connection (with
   input_prefix put in front of the unrelayed client input). Returns NULL
   (the connection closed) if input_prefix doesn't fit. */
struct connection *login_proxy_detach(struct login_proxy *proxy,
				      const void *input_prefix, size_t prefix_size);
/* Number of live relays. */
unsigned int login_proxy_count(void);

#endif
