/* What auth.c and auth-request.c share: the service's state. */
#ifndef TERN_AUTH_PRIVATE_H
#define TERN_AUTH_PRIVATE_H

#include "auth.h"
#include "auth-request.h"
#include "auth-passwd-file.h"

struct auth {
	pool_t pool;
	struct passwd_file *passwd_file;
	ARRAY(const char *) mechs; /* upper case */
	const char *mechs_secured, *mechs_unsecured;
	unsigned int failure_delay_ms;
	bool allow_insecure_plaintext;
	struct auth_request *requests; /* every live request */
};

/* Returns the enabled mechanism's canonical name, or NULL. */
const char *auth_mech_find(const struct auth *auth, const char *mech);
/* Frees every request without callbacks (auth_destroy). */
void auth_requests_free_all(struct auth *auth);

#endif
