/* The authentication service as the login code sees it: created once from
 * the settings, it owns the passdb/userdb (a passwd-file for now) and the
 * enabled SASL mechanisms. Requests are in auth-request.h. */
#ifndef TERN_AUTH_H
#define TERN_AUTH_H

#include "lib.h"

struct auth;

struct auth_options {
	const char *passwd_file;
	/* Space-separated SASL mechanisms to offer; NULL = "PLAIN LOGIN". */
	const char *mechanisms;
	/* Failure replies are held back this long (brute-force slowdown). */
	unsigned int failure_delay_ms;
	/* Offer and accept plaintext mechanisms on unsecured connections. */
	bool allow_insecure_plaintext;
};

/* Fails for a missing passwd_file setting or an unsupported mechanism.
   opts is copied. */
int auth_create(const struct auth_options *opts, struct auth **auth_r,
		const char **error_r);
/* Also frees any requests still running, without calling their callbacks.
   Must not be called from inside a reply callback. Accepts NULL; *auth
   becomes NULL. */
void auth_destroy(struct auth **auth);

/* Space-separated mechanisms offered on this connection: plaintext ones
   only when secured (TLS or loopback) or allow_insecure_plaintext. Owned by
   auth; may be "". */
const char *auth_get_mechanisms(struct auth *auth, bool secured);

#endif
