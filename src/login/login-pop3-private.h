/* State of a pre-login POP3 client, shared by the files of the engine. */
#ifndef TERN_LOGIN_POP3_PRIVATE_H
#define TERN_LOGIN_POP3_PRIVATE_H

#include "login-pop3.h"
#include "pop3-line-reader.h"

/* Consecutive bad commands before we give up on a client */
#define LOGIN_POP3_MAX_BAD_COMMANDS 10
/* Failed authentications on one connection before disconnecting */
#define LOGIN_POP3_MAX_AUTH_FAILURES 5
/* SASL mechanism names have at most 20 characters (RFC 4422 §3.1) */
#define LOGIN_POP3_MAX_MECH_LEN 20

struct pop3_login_client {
	struct connection *conn;
	struct login_context *ctx;
	struct line_reader *reader;
	enum listener_tls tls_mode;
	unsigned int bad_count, auth_failures;
	char *user; /* from USER, waiting for PASS (malloc) */

	/* a PASS or AUTH in progress */
	struct auth_client_request *auth_req;
	char auth_mech[LOGIN_POP3_MAX_MECH_LEN + 1];
	bool auth_wait_client; /* we sent "+ challenge", waiting for a line */
	bool auth_is_pass;     /* USER/PASS, not AUTH */
	bool utf8;             /* RFC 6856 UTF8 was issued */
	/* the APOP timestamp of our greeting (RFC 1939 §7) */
	char apop_challenge[96];
};

bool login_pop3_plaintext_allowed(struct pop3_login_client *client);
void login_pop3_send_line(struct pop3_login_client *client, const char *line);
/* "-ERR text", counted towards the bad-command limit */
void login_pop3_send_bad(struct pop3_login_client *client, const char *text);

/* Command handlers; rest is the line after the keyword and its space. */
void login_pop3_cmd_user(struct pop3_login_client *client, const char *rest);
void login_pop3_cmd_pass(struct pop3_login_client *client, const char *rest);
void login_pop3_cmd_auth(struct pop3_login_client *client, const char *rest);
void login_pop3_cmd_apop(struct pop3_login_client *client, const char *rest);
/* A line from the client while an AUTH waits for a response. */
void login_pop3_auth_client_line(struct pop3_login_client *client, const char *line);
void login_pop3_auth_abort(struct pop3_login_client *client);

#endif
