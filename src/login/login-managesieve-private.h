/* State of a pre-login ManageSieve client, shared by the files of the
 * engine. */
#ifndef TERN_LOGIN_MANAGESIEVE_PRIVATE_H
#define TERN_LOGIN_MANAGESIEVE_PRIVATE_H

#include "login-managesieve.h"
#include "managesieve-parser.h"

/* Consecutive bad commands before we give up on a client */
#define LOGIN_MANAGESIEVE_MAX_BAD_COMMANDS 10
/* Failed authentications on one connection before disconnecting */
#define LOGIN_MANAGESIEVE_MAX_AUTH_FAILURES 5
/* SASL mechanism names have at most 20 characters (RFC 4422 §3.1) */
#define LOGIN_MANAGESIEVE_MAX_MECH_LEN 20

struct managesieve_login_client {
	struct connection *conn;
	struct login_context *ctx;
	struct managesieve_parser *parser;
	enum listener_tls tls_mode;
	unsigned int bad_count, auth_failures;

	/* an AUTHENTICATE in progress */
	struct auth_client_request *auth_req;
	char auth_mech[LOGIN_MANAGESIEVE_MAX_MECH_LEN + 1];
	bool auth_wait_client; /* we sent a challenge, waiting for a string */
};

/* "OK|NO|BYE [(code)] "text"" CRLF; code may be NULL. */
void login_managesieve_send_reply(struct managesieve_login_client *client, const char *status,
				  const char *code, const char *text);
/* NO "text", counted towards the bad-command limit */
void login_managesieve_send_bad(struct managesieve_login_client *client, const char *text);

void login_managesieve_cmd_authenticate(struct managesieve_login_client *client,
					const struct managesieve_arg *args, unsigned int count);
/* A client line while an AUTHENTICATE waits for a response. */
void login_managesieve_auth_client_line(struct managesieve_login_client *client,
					const struct managesieve_arg *args, unsigned int count);
void login_managesieve_auth_abort(struct managesieve_login_client *client);

#endif
