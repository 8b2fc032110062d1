/* State of a post-login ManageSieve session, shared by its files. */
#ifndef TERN_MANAGESIEVE_CLIENT_PRIVATE_H
#define TERN_MANAGESIEVE_CLIENT_PRIVATE_H

#include "managesieve-client.h"
#include "managesieve-parser.h"
#include "sieve-storage.h"

struct managesieve_client {
	struct connection *conn;
	const struct tern_settings *set;
	struct managesieve_parser *parser;
	struct sieve_storage *storage;
	const char *user; /* conn->pool */
	const char *home; /* conn->pool: for sieve.global_dir's template */
	unsigned int bad_count;
	/* where the session came from, for UNAUTHENTICATE */
	bool starttls, tls;
	unsigned int login_pid;
	bool unauthenticated; /* given back to the login process */
};

extern managesieve_client_unauthenticated_t *managesieve_unauthenticated_callback;

/* "OK|NO|BYE [(code)] ["text"]" CRLF; code and text may be NULL. */
void managesieve_client_send_reply(struct managesieve_client *client, const char *status,
				   const char *code, const char *text);
/* NO "text", counted towards the bad-command limit */
void managesieve_client_send_bad(struct managesieve_client *client, const char *text);
/* Runs one parsed command line. */
void managesieve_client_command(struct managesieve_client *client,
				const struct managesieve_arg *args, unsigned int count);
/* A line the parser refused (already consumed). */
void managesieve_client_parse_error(struct managesieve_client *client);
/* Hands the session back to a login process (after UNAUTHENTICATE's OK). */
void managesieve_client_unauthenticate(struct managesieve_client *client);

#endif
