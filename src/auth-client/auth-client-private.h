/* What the connection (auth-client.c) and the requests
 * (auth-client-request.c) of the login-side auth client share. */
#ifndef TERN_AUTH_CLIENT_PRIVATE_H
#define TERN_AUTH_CLIENT_PRIVATE_H

#include "auth-client.h"
#include "auth-client-proto.h"
#include "array.h"
#include "hash.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"

enum auth_client_state {
	AUTH_CLIENT_STATE_DISCONNECTED,
	AUTH_CLIENT_STATE_HANDSHAKE,
	AUTH_CLIENT_STATE_READY,
};

struct auth_client_mech {
	const char *name;
	bool plaintext, private_mech;
};

enum auth_client_request_state {
	/* waiting for the connection; line holds the AUTH line */
	AUTH_CLIENT_REQUEST_QUEUED,
	/* AUTH or CONT sent, waiting for the server's reply */
	AUTH_CLIENT_REQUEST_SENT,
	/* a CONTINUE was delivered; waiting for auth_client_request_continue() */
	AUTH_CLIENT_REQUEST_WAIT_CLIENT,
	/* a local FAIL is scheduled; server replies are ignored */
	AUTH_CLIENT_REQUEST_FINISHED,
};

struct auth_client_request {
	struct auth_client *client;
	struct auth_client_request *prev, *next;
	unsigned int id;
	enum auth_client_request_state state;
	char *line; /* QUEUED: the AUTH line, malloc, wiped when freed */
	struct timeout *to; /* queue or reply timeout, or the local reply */
	auth_client_reply_callback_t *cb;
	void *context;
	enum auth_client_fail_code fail_code; /* FINISHED */
	const char *fail_reason;              /* FINISHED: static text */
	bool in_callback, aborted;
};

struct auth_client {
	struct auth_client_settings set;
	char *socket_path; /* NULL: no reconnecting */
	enum auth_client_state state;
	struct transport *transport;
	struct istream *input;
	struct ostream *output;
	struct io *io;
	struct timeout *reconnect_to, *handshake_to, *disconnect_to;
	unsigned int reconnect_delay_ms;
	bool connect_error_logged;
	const char *disconnect_reason; /* static text, with disconnect_to */

	/* the current connection's handshake */
	pool_t handshake_pool;
	ARRAY(struct auth_client_mech) new_mechs;
	pid_t new_server_pid;
	unsigned int new_cuid;
	char new_cookie[AUTH_PROTO_COOKIE_HEX_LEN + 1];
	bool got_version;

	/* from the last finished handshake */
	pool_t mech_pool;
	ARRAY(struct auth_client_mech) mechs;
	pid_t server_pid;
	unsigned int cuid;
	char cookie[AUTH_PROTO_COOKIE_HEX_LEN + 1];

	unsigned int next_id;
	struct hash_table *requests; /* id -> request, every live one */
	struct auth_client_request *request_list;
	unsigned int request_count;
};

/* Queues line for the server (sets the io condition). */
void auth_client_send(struct auth_client *client, const char *line);
/* Closes the connection from the loop (never under the caller's feet). */
void auth_client_disconnect_later(struct auth_client *client, const char *reason);

/* auth-client-request.c */
/* Sends the queued requests once the handshake is done. */
void auth_client_requests_send_queued(struct auth_client *client);
/* The connection is gone: requests sent on it fail temporarily; queued
   ones keep waiting if reconnecting is possible, else fail too. */
void auth_client_requests_connection_lost(struct auth_client *client, bool can_reconnect);
/* A reply line (OK, CONT, FAIL) with its fields split. */
void auth_client_request_handle_reply(struct auth_client *client, const char *const *args,
				      unsigned int count);
/* Frees every request without callbacks. */
void auth_client_requests_free_all(struct auth_client *client);

#endif
