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
};

/* Returns the space-separated list (temporary memory). */
const char *imap_capability_string(const struct imap_capability_opts *opts);

#endif
