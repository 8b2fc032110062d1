/* The ManageSieve capability response (RFC 5804 §1.7), sent as the
 * greeting, after STARTTLS and for CAPABILITY, by the pre-login and the
 * post-login engines alike. */
#ifndef TERN_MANAGESIEVE_CAPABILITY_H
#define TERN_MANAGESIEVE_CAPABILITY_H

#include "buffer.h"

struct managesieve_capability_opts {
	/* space-separated SASL mechanisms; NULL: no SASL line (after
	   authentication, or while TLS is required first) */
	const char *sasl_mechs;
	/* space-separated Sieve extensions */
	const char *sieve_extensions;
	/* space-separated enotify methods; NULL or "": no NOTIFY line */
	const char *notify_methods;
	unsigned int max_redirects; /* 0: no MAXREDIRECTS line */
	bool starttls;
	bool unauthenticate;
	/* the logged-in user (RFC 5804 §1.7 OWNER), NULL before login */
	const char *owner;
};

/* Appends the capability lines (each "NAME" [SP "value"] CRLF), without
   the final OK. */
void managesieve_capability_append(string_t *dest, const struct managesieve_capability_opts *opts);
/* The engine's Sieve extensions as one space-separated string, enotify's
   methods apart ("mailto"), from a NULL-terminated name list. Temporary
   memory. */
const char *managesieve_capability_sieve_list(const char *const *extensions,
					      const char **notify_r);

#endif
