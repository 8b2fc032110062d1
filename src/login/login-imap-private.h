/* State of a pre-login IMAP client, shared by the files of the engine. */
#ifndef TERN_LOGIN_IMAP_PRIVATE_H
#define TERN_LOGIN_IMAP_PRIVATE_H

#include "login-imap.h"
#include "imap-command-reader.h"

/* Consecutive bad commands before we give up on a client */
#define LOGIN_IMAP_MAX_BAD_COMMANDS 10
/* Failed authentications on one connection before disconnecting */
#define LOGIN_IMAP_MAX_AUTH_FAILURES 5

struct imap_login_client {
	struct connection *conn;
	struct login_context *ctx;
	struct imap_command_reader *reader;
	enum listener_tls tls_mode;
	unsigned int bad_count, auth_failures;

	/* an AUTHENTICATE or LOGIN in progress */
	struct auth_client_request *auth_req;
	char *auth_tag;
	char *auth_mech;
	bool auth_wait_client; /* we sent "+ challenge", waiting for a line */
	bool auth_is_login;    /* LOGIN, not AUTHENTICATE */
	bool shutting_down;
};

const char *login_imap_capability(struct imap_login_client *client);
void login_imap_send_tagged(struct imap_login_client *client, const char *tag,
			    const char *text);
bool login_imap_plaintext_allowed(struct imap_login_client *client);

/* Command handlers; args end with IMAP_ARG_EOL. */
void login_imap_cmd_login(struct imap_login_client *client, const char *tag,
			  const struct imap_arg *args);
void login_imap_cmd_authenticate(struct imap_login_client *client, const char *tag,
				 const struct imap_arg *args);
/* A line from the client while an AUTHENTICATE waits for a response. */
void login_imap_auth_client_line(struct imap_login_client *client, const char *line);
void login_imap_auth_abort(struct imap_login_client *client);

#endif
