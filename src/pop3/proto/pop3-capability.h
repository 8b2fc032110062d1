/* The CAPA response (RFC 2449 §5, §6) of the AUTHORIZATION and
 * TRANSACTION states, written by the pre- and post-login engines alike. */
#ifndef TERN_POP3_CAPABILITY_H
#define TERN_POP3_CAPABILITY_H

#include "buffer.h"

struct pop3_capability_opts {
	bool authenticated;     /* TRANSACTION state */
	bool stls;              /* STLS may be issued now (RFC 2595 §4) */
	bool user;              /* USER/PASS allowed on this connection */
	const char *sasl_mechs; /* space-separated, "" or NULL for none */
	unsigned int login_delay_secs;
};

/* Appends the capability lines (each ending in CRLF) without the +OK line
   or the terminating ".". */
void pop3_capability_append(string_t *dest, const struct pop3_capability_opts *opts);

#endif
