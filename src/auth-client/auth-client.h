/* The login processes' end of Dovecot's authentication protocol (v1.2):
 * one connection to the auth process's client socket, kept up with
 * reconnects and back-off, over which many SASL exchanges (RFC 4422) run
 * at once. The request API has the shape of src/auth/auth-request.h, so the
 * login code relays its client's base64 lines here as it did to the
 * in-process auth service. Needs the event loop. */
#ifndef TERN_AUTH_CLIENT_H
#define TERN_AUTH_CLIENT_H

#include "lib.h"

struct auth_client;
struct auth_client_request;

struct auth_client_settings {
	/* the auth process's client socket; NULL with auth_client_create_fd() */
	const char *socket_path;
	/* offer plaintext mechanisms on unsecured connections too
	   (auth.allow_insecure_plaintext) */
	bool allow_insecure_plaintext;
	/* 0 for the defaults in brackets */
	/* a request sent to the server fails (temporarily) without a reply
	   within this time [60 s] */
	unsigned int request_timeout_ms;
	/* a request begun while not connected waits this long for the
	   connection [10 s] */
	unsigned int queue_timeout_ms;
	/* the server must finish its handshake within this time [5 s] */
	unsigned int handshake_timeout_ms;
	/* reconnect delays, doubling from min to max [100 ms, 5 s] */
	unsigned int reconnect_min_ms, reconnect_max_ms;
	/* requests at once; more fail temporarily [4096] */
	unsigned int max_requests;
};

struct auth_client_request_info {
	const char *mech;
	const char *protocol;   /* service: "imap", "pop3", ... */
	const char *session_id; /* NULL if none */
	const char *remote_ip, *local_ip; /* NULL if unknown */
	unsigned int remote_port, local_port; /* 0 if unknown */
	bool secured; /* TLS or loopback */
	/* the user won't log in (a password check only): the auth process
	   then keeps nothing for the master's REQUEST */
	bool nologin;
	/* TLS facts (believed only on the login processes' socket): the
	   tls-exporter channel binding (RFC 9266) and the verified client
	   certificate's user name; NULL/0 if none */
	const unsigned char *channel_binding;
	size_t channel_binding_size;
	const char *cert_username;
};

enum auth_client_reply_status {
	AUTH_CLIENT_REPLY_CONTINUE,
	AUTH_CLIENT_REPLY_OK,
	AUTH_CLIENT_REPLY_FAIL,
};

/* Why a FAIL happened; the same cases as auth-request.h's auth_fail_code
   (wire names in auth-client-proto.h). */
enum auth_client_fail_code {
	AUTH_CLIENT_FAIL_CREDENTIALS,
	/* internal error, auth process unreachable or gone (temporary set) */
	AUTH_CLIENT_FAIL_TEMPORARY,
	AUTH_CLIENT_FAIL_DISABLED,
	AUTH_CLIENT_FAIL_PLAINTEXT_INSECURE,
	AUTH_CLIENT_FAIL_MECH_UNSUPPORTED,
	AUTH_CLIENT_FAIL_MALFORMED,
	AUTH_CLIENT_FAIL_ABORTED,
};

/* What the master needs to ask the auth process (REQUEST on the master
   socket) who this login really authenticated. */
struct auth_client_login {
	pid_t client_pid;            /* our CPID */
	pid_t server_pid;            /* the auth process (SPID) */
	unsigned int connection_uid; /* CUID */
	unsigned int request_id;
	const char *cookie;          /* the connection's COOKIE, 32 hex digits */
};

/* Valid only during the callback: copy what you keep. */
struct auth_client_reply {
	enum auth_client_reply_status status;
	const char *challenge; /* CONTINUE: base64 ("" if empty) */
	const char *user;      /* OK: the canonical user name */
	const struct auth_client_login *login; /* OK */
	const char *reason;    /* FAIL: safe to show the client */
	bool temporary;        /* FAIL: try again later */
	enum auth_client_fail_code fail_code; /* FAIL */
	const char *referral;  /* FAIL with DISABLED: the user's referral, or NULL */
};

typedef void auth_client_reply_callback_t(const struct auth_client_reply *reply,
					  void *context);

/* Starts connecting (and keeps reconnecting) to set->socket_path. The
   settings are copied. */
struct auth_client *auth_client_create(const struct auth_client_settings *set);
/* Over an already connected socket (socketpair, or one the master passed):
   takes ownership of fd; once it closes, there is no reconnecting and new
   requests fail temporarily. */
struct auth_client *auth_client_create_fd(int fd, const struct auth_client_settings *set);
/* Frees the client and every request without calling their callbacks.
   Accepts NULL; *client becomes NULL. Not from inside a callback. */
void auth_client_destroy(struct auth_client **client);

/* True once the server's handshake is done on the current connection. */
bool auth_client_is_ready(const struct auth_client *client);
/* Space-separated mechanisms the auth process offers: plaintext ones only
   when secured or allow_insecure_plaintext, never private ones (APOP).
   "" until the first handshake. Temporary memory. */
const char *auth_client_get_mechanisms(struct auth_client *client, bool secured);

/* Starts an attempt, like auth_request_begin(): initial_response is
   base64, "=" for an empty one, or NULL for none. The callback is never
   called from inside begin/continue. After an OK or FAIL reply the request
   is freed once the callback returns; aborting it from inside that callback
   is allowed and does nothing more. Never returns NULL: errors come as
   FAIL replies (the auth process unreachable or gone: TEMPORARY). */
struct auth_client_request *
auth_client_request_begin(struct auth_client *client,
			  const struct auth_client_request_info *info,
			  const char *initial_response,
			  auth_client_reply_callback_t *cb, void *context);
/* Answers a CONTINUE reply with the client's base64 line ("*" cancels: a
   FAIL reply with ABORTED follows). Must not be called while a reply is
   pending, except that after the connection was lost the call does
   nothing (the FAIL reply is on its way). */
void auth_client_request_continue(struct auth_client_request *req, const char *response);
/* APOP (RFC 1939 §7) through the auth process: replies OK or FAIL. */
struct auth_client_request *
auth_client_request_begin_apop(struct auth_client *client,
			       const struct auth_client_request_info *info,
			       const char *user, const char *challenge, const char *digest,
			       auth_client_reply_callback_t *cb, void *context);
/* Cancels (the server is told with CANCEL): no callback afterwards.
   Accepts NULL; *req becomes NULL. */
void auth_client_request_abort(struct auth_client_request **req);

#endif
