/* The login -> mail session hand-off record (docs/ARCHITECTURE.md): what a
 * post-login process needs to know about a session that a login process
 * authenticated. Pre-auth and post-auth code talk only through this
 * record, so moving them into separate processes changes the transport
 * (fd passing plus this record serialised) and nothing else. */
#ifndef TERN_IPC_HANDOFF_H
#define TERN_IPC_HANDOFF_H

#include "array.h"
#include "buffer.h"
#include "connection.h"

struct login_handoff {
	const char *protocol;   /* "imap", "pop3", "managesieve" */
	const char *user;       /* canonical login name */
	const char *home;       /* from the userdb, may be "" */
	uid_t uid;              /* (uid_t)-1 when unset */
	gid_t gid;
	ARRAY(const char *) userdb_extra; /* "key=value" */
	const char *session_id;
	struct net_endpoint remote, local;
	bool tls;               /* the client connection is TLS */
	const char *tls_info;   /* "TLSv1.3 TLS_AES_256_GCM_SHA384" or NULL */
	bool secured;           /* TLS or loopback */
	/* the listener offers STARTTLS: for a later return to the pre-login
	   state (IMAP UNAUTHENTICATE, RFC 8437) */
	bool starttls;
	const char *mech;       /* SASL mechanism used */
	const char *tag;        /* tag of the command to answer, "" if none */
	/* the login process that handed the session over (0: none): with a
	   TLS session it holds the TLS and relays the plaintext, and a
	   return to pre-login (UNAUTHENTICATE) must go back to it */
	unsigned int login_pid;
	/* how the auth process knows this login ("" if none): lets the
	   receiving side ask it who really logged in */
	const char *auth_ref;
	/* client bytes already read after the login command (pipelining) */
	const unsigned char *input;
	size_t input_size;
};

/* Appends the record as tab-separated key=value fields (escaped), its
   form on the wire between processes. */
void login_handoff_serialize(const struct login_handoff *h, string_t *dest);
/* Parses a serialised record into pool. Returns 0 or -1 on malformed input. */
int login_handoff_parse(const char *line, pool_t pool, struct login_handoff *h_r,
			const char **error_r);

#endif
