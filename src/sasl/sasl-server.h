/* Server side of SASL (RFC 4422) over libgsasl: PLAIN (RFC 4616) and LOGIN
 * (draft-murchison-sasl-login) now, more mechanisms later behind the same
 * interface. Knows nothing of users or passwords: credentials are checked
 * through the caller's callbacks. */
#ifndef TERN_SASL_SERVER_H
#define TERN_SASL_SERVER_H

#include "buffer.h"

/* Largest client message one step accepts. */
#define SASL_MAX_INPUT_SIZE 16384
/* A session that hasn't finished after this many steps fails. */
#define SASL_MAX_STEPS 8

struct sasl_session;

struct sasl_callbacks {
	/* Checks a cleartext password. authzid is NULL when the client asked
	   for none. Returns 1 ok, 0 bad credentials, -1 temporary error. */
	int (*verify_plain)(void *context, const char *authzid,
			    const char *authcid, const char *password);
};

/* Initialises libgsasl for the process. Reference counted: every successful
   call needs a sasl_server_deinit(). Returns 0 or -1. */
int sasl_server_init(const char **error_r);
void sasl_server_deinit(void);

/* Mechanism names are case-insensitive. */
bool sasl_mech_is_supported(const char *mech);
/* True if the mechanism sends the password in the clear (PLAIN, LOGIN):
   it should only be offered over TLS. */
bool sasl_mech_is_plaintext(const char *mech);
/* Space-separated list of the mechanisms this build supports. */
const char *sasl_mechanisms_supported(void);

/* Starts a server session. context is passed to the callbacks. Returns NULL
   (with *error_r) for an unsupported mechanism or a library failure. */
struct sasl_session *sasl_session_begin(const char *mech,
					const struct sasl_callbacks *cb,
					void *context, const char **error_r);
/* Feeds one client message. have_input is false only for a first step
   without an initial response; an empty message is input_len 0 with
   have_input. Returns 1 when authentication succeeded (identities below are
   set), 0 when the client must answer the challenge appended to output, -1
   on failure (*error_r is safe to show the client). The callbacks run from
   inside this call. */
int sasl_session_step(struct sasl_session *s, const void *input, size_t input_len,
		      bool have_input, buffer_t *output, const char **error_r);
/* True if the last failure came from a callback's temporary error rather
   than from bad credentials or bad input. */
bool sasl_session_failed_temporarily(const struct sasl_session *s);
/* Set after sasl_session_step() returned 1 (and, when the client got that
   far, after a failure too, for logging), until sasl_session_end(). authzid
   is NULL when the client asked for none or named itself. libgsasl applies
   SASLprep (RFC 4013) to PLAIN's authcid (and refuses prohibited
   characters), but verify_plain gets the password exactly as sent, as with
   LOGIN, because stored hashes were made from the raw bytes. */
const char *sasl_session_get_authid(const struct sasl_session *s);
const char *sasl_session_get_authzid(const struct sasl_session *s);
const char *sasl_session_get_mech(const struct sasl_session *s);
/* Accepts NULL; *s becomes NULL. */
void sasl_session_end(struct sasl_session **s);

#endif
