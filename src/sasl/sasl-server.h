/* Server side of SASL (RFC 4422): PLAIN (RFC 4616), LOGIN
 * (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), SCRAM-SHA-1 and
 * SCRAM-SHA-256 with their -PLUS forms (RFC 5802, RFC 7677; tls-exporter
 * channel binding, RFC 9266), OAUTHBEARER (RFC 7628), XOAUTH2 (Google's
 * format) and EXTERNAL (RFC 4422 Appendix A). libgsasl runs PLAIN, LOGIN
 * and SCRAM; the others are ours. Knows nothing of users, passwords or
 * tokens: credentials are checked through the caller's callbacks. */
#ifndef TERN_SASL_SERVER_H
#define TERN_SASL_SERVER_H

#include "buffer.h"

/* Largest client message one step accepts. */
#define SASL_MAX_INPUT_SIZE 16384
/* A session that hasn't finished after this many steps fails. */
#define SASL_MAX_STEPS 8
/* RFC 9266 §2: tls-exporter channel binding is 32 bytes */
#define SASL_CHANNEL_BINDING_SIZE 32
/* Largest SCRAM salt and key we take from a passdb */
#define SASL_SCRAM_MAX_SALT_SIZE 64
#define SASL_SCRAM_MAX_KEY_SIZE 64
/* PBKDF2 rounds for SCRAM keys made from a cleartext password (RFC 7677
   §4 asks for at least 4096) */
#define SASL_SCRAM_DEFAULT_ITER 4096
/* CRAM-MD5 stored credentials: the MD5 states after the outer and the
   inner HMAC pad, 4 little-endian 32-bit words each (Dovecot's format) */
#define SASL_CRAM_MD5_CONTEXT_SIZE 32

struct sasl_session;

enum sasl_mech_flags {
	/* sends a reusable secret (password or bearer token) in the clear:
	   only over TLS */
	SASL_MECH_FLAG_PLAINTEXT = 0x01,
	/* the passdb must hand out stored credentials (lookup_credentials) */
	SASL_MECH_FLAG_CREDENTIALS = 0x02,
	/* -PLUS: needs the connection's tls-exporter channel binding */
	SASL_MECH_FLAG_CHANNEL_BINDING = 0x04,
	/* the identity comes from a verified TLS client certificate */
	SASL_MECH_FLAG_EXTERNAL = 0x08,
	/* an OAuth 2.0 bearer token (verify_token) */
	SASL_MECH_FLAG_TOKEN = 0x10,
};

/* What a passdb can tell about a user's secret, in the forms the
   mechanisms use. Zeroed before lookup_credentials fills it. */
struct sasl_credentials {
	/* the password itself, or NULL */
	const char *password;
	/* SCRAM (RFC 5802 §3) keys for the mechanism's hash; 0 = none */
	unsigned int scram_iter;
	unsigned char scram_salt[SASL_SCRAM_MAX_SALT_SIZE];
	size_t scram_salt_size;
	unsigned char scram_stored_key[SASL_SCRAM_MAX_KEY_SIZE];
	unsigned char scram_server_key[SASL_SCRAM_MAX_KEY_SIZE];
	size_t scram_key_size;
	/* CRAM-MD5 HMAC states (see SASL_CRAM_MD5_CONTEXT_SIZE) */
	bool have_cram_md5;
	unsigned char cram_md5[SASL_CRAM_MD5_CONTEXT_SIZE];
};

/* Every callback returns 1 ok, 0 refused (bad credentials, unknown user),
   -1 temporary error. authzid is NULL when the client asked for none or
   named itself. Callbacks a mechanism needs must be set. */
struct sasl_callbacks {
	/* PLAIN, LOGIN: checks a cleartext password. */
	int (*verify_plain)(void *context, const char *authzid,
			    const char *authcid, const char *password);
	/* CRAM-MD5, SCRAM: fills creds_r with the stored secret of authcid
	   (or of the master user authcid when authzid is set) in a form mech
	   can use; 0 when the user is unknown or has no usable form. */
	int (*lookup_credentials)(void *context, const char *mech,
				  const char *authzid, const char *authcid,
				  struct sasl_credentials *creds_r);
	/* CRAM-MD5, SCRAM: the client proved it knows the secret that
	   lookup_credentials returned; the caller may still refuse the user
	   (disabled account, no userdb entry). */
	int (*credentials_verified)(void *context, const char *authzid,
				    const char *authcid);
	/* OAUTHBEARER, XOAUTH2: validates token; authzid is the user the
	   client named (NULL if none). */
	int (*verify_token)(void *context, const char *mech, const char *authzid,
			    const char *token);
	/* EXTERNAL: the connection's certificate identity logs in, as
	   authzid if given. */
	int (*verify_external)(void *context, const char *authzid);
};

/* Initialises libgsasl for the process. Reference counted: every successful
   call needs a sasl_server_deinit(). Returns 0 or -1. */
int sasl_server_init(const char **error_r);
void sasl_server_deinit(void);

/* Mechanism names are case-insensitive. */
bool sasl_mech_is_supported(const char *mech);
/* True if the mechanism sends a reusable secret in the clear (PLAIN,
   LOGIN, OAUTHBEARER, XOAUTH2): it should only be offered over TLS. */
bool sasl_mech_is_plaintext(const char *mech);
/* The mechanism's flags; 0 for an unknown one. */
enum sasl_mech_flags sasl_mech_get_flags(const char *mech);
/* Space-separated list of the mechanisms this build supports. */
const char *sasl_mechanisms_supported(void);

/* Starts a server session. context is passed to the callbacks. Returns NULL
   (with *error_r) for an unsupported mechanism or a library failure. */
struct sasl_session *sasl_session_begin(const char *mech,
					const struct sasl_callbacks *cb,
					void *context, const char **error_r);
/* The connection's tls-exporter channel binding (RFC 9266), before the
   first step. -PLUS mechanisms fail without it; SCRAM without -PLUS
   needs it too, to refuse a client that says it would have used channel
   binding had we offered it (RFC 5802 §6, a downgrade). Copied. */
void sasl_session_set_channel_binding(struct sasl_session *s,
				      const unsigned char *data, size_t size);
/* Feeds one client message. have_input is false only for a first step
   without an initial response; an empty message is input_len 0 with
   have_input. Returns 1 when authentication succeeded (identities below are
   set), 0 when the client must answer the challenge appended to output, -1
   on failure (*error_r is safe to show the client). The callbacks run from
   inside this call. Mechanisms with data to send on success (SCRAM's
   server signature) send it as a challenge and succeed on the client's
   empty answer, since IMAP and POP3 have no success-with-data. */
int sasl_session_step(struct sasl_session *s, const void *input, size_t input_len,
		      bool have_input, buffer_t *output, const char **error_r);
/* True if the last failure came from a callback's temporary error rather
   than from bad credentials or bad input. */
bool sasl_session_failed_temporarily(const struct sasl_session *s);
/* Why the mechanism itself refused the client's credentials, for the log
   ("SCRAM proof or channel binding mismatch"), or NULL when the last
   failure was bad input or a temporary error. A refusal by a callback
   counts too ("refused by callback"): the callback's own reason, possibly
   given in an earlier step (OAUTHBEARER answers a refused token with an
   error challenge first, RFC 7628 §3.2.2), is the better one to log. */
const char *sasl_session_get_rejection(const struct sasl_session *s);
/* Set after sasl_session_step() returned 1 (and, when the client got that
   far, after a failure too, for logging), until sasl_session_end(). authzid
   is NULL when the client asked for none or named itself. libgsasl applies
   SASLprep (RFC 4013) to PLAIN's authcid (and refuses prohibited
   characters), but verify_plain gets the password exactly as sent, as with
   LOGIN, because stored hashes were made from the raw bytes. EXTERNAL and
   the token mechanisms have no authid. */
const char *sasl_session_get_authid(const struct sasl_session *s);
const char *sasl_session_get_authzid(const struct sasl_session *s);
const char *sasl_session_get_mech(const struct sasl_session *s);
/* Accepts NULL; *s becomes NULL. */
void sasl_session_end(struct sasl_session **s);

/* SCRAM keys (RFC 5802 §3) from a password: SaltedPassword = Hi(password,
   salt, iter), StoredKey = H(HMAC(SaltedPassword, "Client Key")),
   ServerKey = HMAC(SaltedPassword, "Server Key"). md is "SHA1" or
   "SHA256"; the keys have the digest's size (*key_size_r). The password
   is used as given (no SASLprep), as Dovecot does. Returns 0 or -1. */
int sasl_scram_keys_from_password(const char *md, const char *password,
				  const unsigned char *salt, size_t salt_size,
				  unsigned int iter, unsigned char *stored_key,
				  unsigned char *server_key, size_t *key_size_r);
/* The digest of a SCRAM mechanism ("SHA1", "SHA256"), or NULL. */
const char *sasl_scram_mech_digest(const char *mech);
/* CRAM-MD5 credentials (SASL_CRAM_MD5_CONTEXT_SIZE bytes) from a
   password. */
void sasl_cram_md5_context_from_password(const char *password,
					 unsigned char context[SASL_CRAM_MD5_CONTEXT_SIZE]);

#endif
