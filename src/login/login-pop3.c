/* Pre-login POP3: connection setup, the command loop and the commands that
 * need no authentication (RFC 1939 §4; CAPA: RFC 2449 §5; STLS: RFC 2595
 * §4; UTF8: RFC 6856 §2). POP3S (implicit TLS) starts TLS before the
 * greeting. */
#include "login-pop3-private.h"

#include <openssl/rand.h>
#include <unistd.h>
#include "pop3-capability.h"
#include "pop3-command.h"
#include "istream.h"

struct login_pop3_command {
	const char *name;
	void (*func)(struct pop3_login_client *client, const char *rest);
};

static void login_pop3_input(struct connection *conn);

bool login_pop3_plaintext_allowed(struct pop3_login_client *client)
{
	if (login_tls_required_unmet(client->tls_mode, client->conn))
		return false;
	return client->ctx->set->auth.allow_insecure_plaintext ||
		login_connection_is_secured(client->conn);
}

static bool login_pop3_stls_available(struct pop3_login_client *client)
{
	return login_tls_mode_offers_starttls(client->tls_mode) && client->ctx->tls != NULL &&
		!login_connection_is_tls(client->conn);
}

void login_pop3_send_line(struct pop3_login_client *client, const char *line)
{
	o_stream_send_str(client->conn->output, line);
	o_stream_send(client->conn->output, "\r\n", 2);
}

void login_pop3_send_bad(struct pop3_login_client *client, const char *text)
{
	login_pop3_send_line(client, t_strconcat("-ERR ", text, NULL));
	client->bad_count++;
}

/* "NAME takes no arguments" unless rest is empty. Returns true if empty. */
static bool login_pop3_no_args(struct pop3_login_client *client, const char *name,
			       const char *rest)
{
	if (rest[strspn(rest, " ")] == '\0')
		return true;
	login_pop3_send_bad(client, t_strdup_printf("%s takes no arguments.", name));
	return false;
}

static void cmd_capa(struct pop3_login_client *client, const char *rest)
{
	if (!login_pop3_no_args(client, "CAPA", rest))
		return;
	struct pop3_capability_opts opts = {
		.stls = login_pop3_stls_available(client),
		.user = login_pop3_plaintext_allowed(client),
		.sasl_mechs = login_tls_required_unmet(client->tls_mode, client->conn) ?
			NULL : login_auth_mechanisms(client->ctx, client->conn),
		.login_delay_secs = client->ctx->set->pop3.login_delay_ms / 1000,
	};
	string_t *str = t_str_new(256);
	str_append(str, "+OK Capability list follows\r\n");
	pop3_capability_append(str, &opts);
	str_append(str, ".\r\n");
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

static void cmd_quit(struct pop3_login_client *client, const char *rest)
{
	if (!login_pop3_no_args(client, "QUIT", rest))
		return;
	login_pop3_send_line(client, "+OK Logging out.");
	connection_close(client->conn, "logged out");
}

static void cmd_stls(struct pop3_login_client *client, const char *rest)
{
	if (!login_pop3_no_args(client, "STLS", rest))
		return;
	if (login_connection_is_tls(client->conn)) {
		login_pop3_send_bad(client, "TLS is already active.");
		return;
	}
	if (!login_pop3_stls_available(client)) {
		login_pop3_send_bad(client, "STLS is not available on this port.");
		return;
	}
	login_pop3_send_line(client, "+OK Begin TLS negotiation now.");
	/* the OK must go out in plaintext before the handshake starts */
	if (o_stream_flush(client->conn->output) <= 0) {
		connection_close(client->conn, "STLS: could not send the OK");
		return;
	}
	/* RFC 2595 §4: what the client said before TLS is forgotten, and
	   bytes it pipelined after STLS are dropped, not run inside TLS */
	i_free(client->user);
	login_start_tls(client->ctx, client->conn);
	line_reader_reset(client->reader);
}

static void cmd_utf8(struct pop3_login_client *client, const char *rest)
{
	if (!login_pop3_no_args(client, "UTF8", rest))
		return;
	/* RFC 6856 §2: messages are sent as stored, UTF-8 headers included,
	   which is what UTF8 mode allows */
	client->utf8 = true;
	login_pop3_send_line(client, "+OK UTF8 enabled.");
}

static void cmd_transaction_only(struct pop3_login_client *client, const char *name)
{
	login_pop3_send_bad(client, t_strdup_printf(
		"Not logged in: %s is valid only in the TRANSACTION state.", name));
}

static const struct login_pop3_command login_pop3_commands[] = {
	{ "APOP", login_pop3_cmd_apop },
	{ "AUTH", login_pop3_cmd_auth },
	{ "CAPA", cmd_capa },
	{ "PASS", login_pop3_cmd_pass },
	{ "QUIT", cmd_quit },
	{ "STLS", cmd_stls },
	{ "USER", login_pop3_cmd_user },
	{ "UTF8", cmd_utf8 },
};

static const char *const login_pop3_transaction_commands[] = {
	"DELE", "LIST", "NOOP", "RETR", "RSET", "STAT", "TOP", "UIDL",
};

static void login_pop3_command(struct pop3_login_client *client, const char *line)
{
	struct pop3_command_line cmd;
	if (line[0] == '\0') {
		login_pop3_send_bad(client, "Empty command line.");
		return;
	}
	if (pop3_command_parse(line, &cmd) < 0) {
		login_pop3_send_bad(client, t_strdup_printf("Unknown command: %s",
			pop3_printable(t_strndup(line, strcspn(line, " ")))));
		return;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(login_pop3_commands); i++) {
		if (strcmp(login_pop3_commands[i].name, cmd.name) == 0) {
			login_pop3_commands[i].func(client, cmd.rest);
			return;
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(login_pop3_transaction_commands); i++) {
		if (strcmp(login_pop3_transaction_commands[i], cmd.name) == 0) {
			cmd_transaction_only(client, cmd.name);
			return;
		}
	}
	login_pop3_send_bad(client, t_strdup_printf("Unknown command: %s", cmd.name));
}

/* Runs commands while input is buffered and nothing blocks them. */
static void login_pop3_input(struct connection *conn)
{
	struct pop3_login_client *client = conn->context;
	while (!conn->closed && client->conn == conn && !o_stream_is_full(conn->output)) {
		if (client->auth_req != NULL && !client->auth_wait_client)
			return; /* waiting for the auth service */
		const char *line, *error;
		int ret = line_reader_read(client->reader, &line, &error);
		if (ret == 0)
			return;
		unsigned int bad_before = client->bad_count;
		if (client->auth_req != NULL) {
			if (ret < 0) {
				/* RFC 5034 §4: a response we can't take fails the AUTH */
				login_pop3_auth_abort(client);
				login_pop3_send_bad(client, t_strdup_printf(
					"Invalid authentication response: %s", error));
				continue;
			}
			login_pop3_auth_client_line(client, line);
			continue;
		}
		if (ret < 0)
			login_pop3_send_bad(client, error);
		else
			login_pop3_command(client, line);
		if (client->conn != conn || conn->closed)
			return;
		if (client->bad_count == bad_before)
			client->bad_count = 0;
		else if (client->bad_count >= LOGIN_POP3_MAX_BAD_COMMANDS) {
			login_pop3_send_line(client, "-ERR Too many invalid commands.");
			connection_close(conn, "too many invalid commands");
			return;
		}
	}
	/* a full output buffer pauses reading; output_drained resumes */
}

static void login_pop3_output_drained(struct connection *conn)
{
	struct pop3_login_client *client = conn->context;
	if (client->auth_req == NULL || client->auth_wait_client)
		login_pop3_input(conn);
}

static void login_pop3_idle_timeout(struct connection *conn)
{
	o_stream_send_str(conn->output, "-ERR Disconnected for inactivity.\r\n");
	connection_close(conn, "login timeout");
}

static void login_pop3_shutdown(struct connection *conn)
{
	o_stream_send_str(conn->output, "-ERR [SYS/TEMP] Server shutting down.\r\n");
	connection_close(conn, "server shutting down");
}

static void login_pop3_destroy(struct connection *conn)
{
	struct pop3_login_client *client = conn->context;
	login_pop3_auth_abort(client);
	line_reader_destroy(&client->reader);
	i_free(client->user);
	if (conn->close_reason != NULL)
		log_info(&conn->log, "disconnect", "state=pre-login reason=%s",
			 log_value(conn->close_reason));
	free(client);
}

static const struct connection_vfuncs login_pop3_vfuncs = {
	.input = login_pop3_input,
	.output_drained = login_pop3_output_drained,
	.idle_timeout = login_pop3_idle_timeout,
	.shutdown = login_pop3_shutdown,
	.destroy = login_pop3_destroy,
};

void login_pop3_client_create(struct login_context *ctx, int fd,
			      const struct net_endpoint *remote,
			      const struct net_endpoint *local,
			      enum listener_tls tls_mode)
{
	const struct pop3_settings *set = &ctx->set->pop3;
	struct pop3_login_client *client = i_zalloc(sizeof(*client));
	client->ctx = ctx;
	client->tls_mode = tls_mode;
	client->conn = connection_create(fd, remote, local, &login_pop3_vfuncs, client,
					 set->max_line_length + 1024, set->output_buffer_limit);
	client->reader = pop3_line_reader_create(client->conn->input, set->max_line_length);
	connection_set_idle_timeout(client->conn, set->login_timeout_ms);
	connection_set_output_timeout(client->conn, set->output_timeout_ms);
	log_info(&client->conn->log, "connect", "protocol=pop3 local=%s:%u tls=%s",
		 local->ip, local->port,
		 tls_mode == LISTENER_TLS_IMPLICIT ? "implicit" : "no");
	if (tls_mode == LISTENER_TLS_IMPLICIT) {
		if (ctx->tls == NULL) {
			connection_close(client->conn, "TLS is not configured");
			return;
		}
		login_start_tls(ctx, client->conn);
	}
	/* RFC 1939 §7: a unique timestamp for APOP, <process.clock@host>,
	   with random bits so it can't be predicted */
	unsigned char rnd[8];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	char host[64];
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(client->apop_challenge, sizeof(client->apop_challenge),
		 "<%ld.%02x%02x%02x%02x%02x%02x%02x%02x.%lld@%.40s>", (long)getpid(),
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
		 (long long)ioloop_time(), host);
	login_pop3_send_line(client, t_strdup_printf("+OK Tern ready. %s",
						     client->apop_challenge));
	connection_update_io(client->conn);
}
