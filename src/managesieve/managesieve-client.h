/* A post-login ManageSieve session (RFC 5804, authenticated state): set up
 * from the login hand-off, reading commands with the proto/ parser and
 * running them (managesieve-commands.c) against the user's script storage
 * (src/sieve-storage). */
#ifndef TERN_MANAGESIEVE_CLIENT_H
#define TERN_MANAGESIEVE_CLIENT_H

#include "config.h"
#include "connection.h"
#include "ipc-handoff.h"

/* Consecutive bad commands before we give up on a client */
#define MANAGESIEVE_CLIENT_MAX_BAD_COMMANDS 10

/* Takes over conn (its vfuncs and context) and answers the AUTHENTICATE
   with OK. set must outlive the session. */
void managesieve_client_create(const struct tern_settings *set, struct connection *conn,
			       const struct login_handoff *handoff);

/* The connection after UNAUTHENTICATE's OK (RFC 5804 §2.14.1); tls and
   login_pid say where the session came from (struct login_handoff). The
   callback must give conn a new owner. */
typedef void managesieve_client_unauthenticated_t(struct connection *conn, bool starttls,
						  bool tls, unsigned int login_pid);
void managesieve_client_set_unauthenticated_callback(
	managesieve_client_unauthenticated_t *callback);

#endif
