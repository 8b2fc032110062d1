/* The CAPABILITY list (RFC 9051 §7.2.2): one table of what Tern
 * implements, filtered by session state and connection security. */
#ifndef TERN_IMAP_CAPABILITY_H
#define TERN_IMAP_CAPABILITY_H

#include "lib.h"

struct imap_capability_opts {
	bool authenticated;      /* post-login list */
	bool starttls_available; /* listener offers STARTTLS and TLS is not active */
	bool plaintext_allowed;  /* LOGIN/AUTH=PLAIN allowed on this connection */
	const char *auth_mechanisms; /* space-separated SASL mechanisms offered */
	uint64_t append_limit;   /* APPENDLIMIT=n (RFC 7889); 0: not sent */
	/* MESSAGELIMIT=n, SAVELIMIT=n (RFC 9738); 0: not sent */
	unsigned int message_limit, save_limit;
	bool metadata;           /* METADATA, METADATA-SERVER (imap.metadata) */
	/* imap.capability_remove / imap.capability_add: space-separated
	   names taken out of / put into the list (NULL or "": none) */
	const char *remove;
	const char *add;
};

/* Returns the space-separated list (temporary memory). */
const char *imap_capability_string(const struct imap_capability_opts *opts);

/* Whether name is taken out by the space-separated remove list. A list
   entry without '=' removes every "NAME=..." too (AUTH, THREAD, ...). */
bool imap_capability_is_removed(const char *remove, const char *name);

/* Whether the command (upper-case name, "UID " prefix allowed) may run:
   false when the capability that brings it is removed, so a client
   can't use what the server no longer advertises. */
bool imap_capability_allows_command(const char *remove, const char *command);

#endif
