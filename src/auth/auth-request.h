/* One authentication attempt: a SASL exchange (RFC 4422) run against the
 * passdb, answered asynchronously through the event loop. The login code
 * relays the client's base64 lines (RFC 9051 §6.2.2, RFC 5034) here and
 * the replies back. */
#ifndef TERN_AUTH_REQUEST_H
#define TERN_AUTH_REQUEST_H

#include "auth.h"
#include "auth-user.h"

/* Longest base64 line accepted from the client. */
#define AUTH_REQUEST_MAX_RESPONSE_LEN 22000
/* Longer passwords are refused before hashing (crypt(3) cost grows with
   the password length). */
#define AUTH_REQUEST_MAX_PASSWORD_LEN 1024

struct auth_request;

struct auth_request_info {
	const char *mech;
	const char *protocol;   /* "imap", "pop3", ... */
	const char *session_id;
	const char *remote_ip, *local_ip; /* NULL for Unix sockets */
	unsigned int remote_port, local_port;
	bool secured; /* TLS or loopback */
	/* the TLS connection's tls-exporter channel binding (RFC 9266; TLS
	   1.3 only) for SCRAM -PLUS, NULL if none */
	const unsigned char *channel_binding;
	size_t channel_binding_size;
	/* the user named by a verified TLS client certificate (EXTERNAL),
	   NULL if none */
	const char *cert_username;
};

enum auth_reply_status {
	AUTH_REPLY_CONTINUE,
	AUTH_REPLY_OK,
	AUTH_REPLY_FAIL,
};

/* Why a FAIL happened, for protocol response codes (RFC 5530). */
enum auth_fail_code {
	/* unknown user, wrong password, refused authzid or allow_nets */
	AUTH_FAIL_CREDENTIALS,
	/* internal error (temporary is set) */
	AUTH_FAIL_TEMPORARY,
	/* nologin: reason is the passdb's text or "Login disabled." */
	AUTH_FAIL_DISABLED,
	/* plaintext mechanism on an unsecured connection */
	AUTH_FAIL_PLAINTEXT_INSECURE,
	/* mechanism unknown or not enabled */
	AUTH_FAIL_MECH_UNSUPPORTED,
	/* bad base64, bad SASL message, too long, too many steps */
	AUTH_FAIL_MALFORMED,
	/* the client sent "*" */
	AUTH_FAIL_ABORTED,
};

/* Valid only during the callback: copy what you keep. */
struct auth_reply {
	enum auth_reply_status status;
	const char *challenge;           /* CONTINUE: base64 ("" if empty) */
	const char *user;                /* OK: canonical user name */
	const struct auth_user *userdb;  /* OK: home, uid, gid, extra fields */
	const char *reason;              /* FAIL: safe to show the client */
	bool temporary;                  /* FAIL: internal error, try later */
	enum auth_fail_code fail_code;   /* FAIL: why */
	/* FAIL with AUTH_FAIL_DISABLED: the user's "referral" extra field
	   (an IMAP URL of the server to use instead, RFC 2221), or NULL */
	const char *referral;
};

typedef void auth_reply_callback_t(const struct auth_reply *reply, void *context);

/* Starts an attempt. initial_response is base64, "=" for an empty one
   (RFC 4959), or NULL for none. The callback is never called from inside
   begin/continue: it runs from the event loop, at once (0 ms timer) or,
   for failures, after failure_delay_ms. After an OK or FAIL reply the
   request is freed once the callback returns; calling auth_request_abort()
   on it from inside that callback is allowed and does nothing more. Never
   returns NULL: errors come as FAIL replies. */
struct auth_request *auth_request_begin(struct auth *auth,
					const struct auth_request_info *info,
					const char *initial_response,
					auth_reply_callback_t *cb, void *context);
/* Answers a CONTINUE reply: response is the client's base64 line ("*"
   cancels, RFC 9051 §6.2.2: a FAIL reply follows). Must not be called
   while a reply is pending. */
void auth_request_continue(struct auth_request *req, const char *response);
/* APOP (RFC 1939 §7): checks digest (32 hex digits) against
   MD5(challenge + password) for a user whose passdb entry holds the
   password itself ({PLAIN}/{CLEARTEXT}); other users fail. Replies like
   auth_request_begin(): OK or FAIL, never CONTINUE. */
struct auth_request *auth_request_begin_apop(struct auth *auth,
					     const struct auth_request_info *info,
					     const char *user, const char *challenge,
					     const char *digest,
					     auth_reply_callback_t *cb, void *context);
/* Cancels: no callback afterwards. Accepts NULL; *req becomes NULL. */
void auth_request_abort(struct auth_request **req);

#endif
