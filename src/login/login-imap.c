/* Pre-login IMAP: connection setup, the command loop and the commands
 * that need no authentication (RFC 9051 §6.1, §6.2.1; ID: RFC 2971). */
#include "login-imap-private.h"
#include "imap-capability.h"
#include "imap-arg.h"
#include "imap-id.h"
#include "istream.h"

struct login_imap_command {
	const char *name;
	void (*func)(struct imap_login_client *client, const char *tag,
		     const struct imap_arg *args);
};

static void login_imap_input(struct connection *conn);

bool login_imap_plaintext_allowed(struct imap_login_client *client)
{
	if (login_tls_required_unmet(client->tls_mode, client->conn))
		return false;
	return client->ctx->set->auth.allow_insecure_plaintext ||
		login_connection_is_secured(client->conn);
}

const char *login_imap_capability(struct imap_login_client *client)
{
	struct imap_capability_opts opts = {
		.authenticated = false,
		.starttls_available = login_tls_mode_offers_starttls(client->tls_mode) &&
			client->ctx->tls != NULL && !login_connection_is_tls(client->conn),
		.plaintext_allowed = login_imap_plaintext_allowed(client),
		.auth_mechanisms = login_tls_required_unmet(client->tls_mode, client->conn) ?
			NULL : login_auth_mechanisms(client->ctx, client->conn),
		.append_limit = client->ctx->set->imap.max_literal_size,
		.remove = client->ctx->set->imap.capability_remove,
		.add = client->ctx->set->imap.capability_add,
	};
	return imap_capability_string(&opts);
}

void login_imap_send_tagged(struct imap_login_client *client, const char *tag,
			    const char *text)
{
	o_stream_printf(client->conn->output, "%s %s\r\n", tag, text);
}

static bool args_empty(const struct imap_arg *args)
{
	return args[0].type == IMAP_ARG_EOL;
}

static void cmd_capability(struct imap_login_client *client, const char *tag,
			   const struct imap_arg *args)
{
	if (!args_empty(args)) {
		login_imap_send_tagged(client, tag, "BAD CAPABILITY takes no arguments.");
		return;
	}
	o_stream_printf(client->conn->output, "* CAPABILITY %s\r\n",
			login_imap_capability(client));
	login_imap_send_tagged(client, tag, "OK Pre-login capabilities listed, post-login capabilities have more.");
}

static void cmd_noop(struct imap_login_client *client, const char *tag,
		     const struct imap_arg *args)
{
	login_imap_send_tagged(client, tag, args_empty(args) ?
			       "OK NOOP completed." : "BAD NOOP takes no arguments.");
}

static void cmd_logout(struct imap_login_client *client, const char *tag,
		       const struct imap_arg *args)
{
	if (!args_empty(args)) {
		login_imap_send_tagged(client, tag, "BAD LOGOUT takes no arguments.");
		return;
	}
	o_stream_send_str(client->conn->output, "* BYE Logging out\r\n");
	login_imap_send_tagged(client, tag, "OK Logout completed.");
	connection_close(client->conn, "logged out");
}

static void cmd_id(struct imap_login_client *client, const char *tag,
		   const struct imap_arg *args)
{
	string_t *fields = t_str_new(128);
	const char *error;
	if (imap_id_parse(args, fields, &error) < 0) {
		login_imap_send_tagged(client, tag, t_strdup_printf("BAD %s", error));
		return;
	}
	if (str_len(fields) > 0)
		log_info(&client->conn->log, "client_id", "%s", str_c(fields) + 1);
	o_stream_printf(client->conn->output, "%s\r\n", imap_id_reply());
	login_imap_send_tagged(client, tag, "OK ID completed.");
}

static void cmd_starttls(struct imap_login_client *client, const char *tag,
			 const struct imap_arg *args)
{
	if (!args_empty(args)) {
		login_imap_send_tagged(client, tag, "BAD STARTTLS takes no arguments.");
		return;
	}
	if (login_connection_is_tls(client->conn)) {
		login_imap_send_tagged(client, tag, "BAD TLS is already active.");
		return;
	}
	if (!login_tls_mode_offers_starttls(client->tls_mode) || client->ctx->tls == NULL) {
		login_imap_send_tagged(client, tag, "BAD STARTTLS is not available on this port.");
		return;
	}
	login_imap_send_tagged(client, tag, "OK Begin TLS negotiation now.");
	/* the OK must go out in plaintext before the handshake starts */
	if (o_stream_flush(client->conn->output) <= 0) {
		connection_close(client->conn, "STARTTLS: could not send the OK");
		return;
	}
	login_start_tls(client->ctx, client->conn);
}

static void cmd_enable(struct imap_login_client *client, const char *tag,
		       const struct imap_arg *args)
{
	/* RFC 5161 §3.1: only valid in the authenticated state */
	login_imap_send_tagged(client, tag, "BAD ENABLE is valid only after authentication.");
}

static const struct login_imap_command login_imap_commands[] = {
	{ "AUTHENTICATE", login_imap_cmd_authenticate },
	{ "CAPABILITY", cmd_capability },
	{ "ENABLE", cmd_enable },
	{ "ID", cmd_id },
	{ "LOGIN", login_imap_cmd_login },
	{ "LOGOUT", cmd_logout },
	{ "NOOP", cmd_noop },
	{ "STARTTLS", cmd_starttls },
};

static void *login_imap_lookup(const char *name, void *context,
			       enum imap_parser_flags *flags_r)
{
	struct imap_login_client *client = context;
	*flags_r = 0;
	if (!imap_capability_allows_command(client->ctx->set->imap.capability_remove, name))
		return NULL;
	for (unsigned int i = 0; i < N_ELEMENTS(login_imap_commands); i++) {
		if (strcmp(login_imap_commands[i].name, name) == 0)
			return (void *)&login_imap_commands[i];
	}
	return NULL;
}

static void login_imap_bad(struct imap_login_client *client)
{
	if (++client->bad_count >= LOGIN_IMAP_MAX_BAD_COMMANDS) {
		o_stream_send_str(client->conn->output, "* BYE Too many invalid IMAP commands.\r\n");
		connection_close(client->conn, "too many invalid commands");
	}
}

/* Runs commands while input is buffered and nothing blocks them. */
static void login_imap_input(struct connection *conn)
{
	struct imap_login_client *client = conn->context;
	while (!conn->closed && client->conn == conn && !o_stream_is_full(conn->output)) {
		if (client->auth_req != NULL) {
			if (!client->auth_wait_client)
				return; /* waiting for the auth service */
			const char *line;
			int ret = imap_command_reader_read_line(client->reader, &line);
			if (ret == 0)
				return;
			if (ret < 0) {
				enum imap_parse_error code;
				bool fatal;
				const char *error = imap_parser_get_error(
					imap_command_reader_get_parser(client->reader), &code, &fatal);
				if (code == IMAP_PARSE_ERROR_LINE_TOO_LONG || fatal) {
					o_stream_send_str(conn->output, "* BYE Authentication response too long.\r\n");
					connection_close(conn, "authentication response too long");
					return;
				}
				/* e.g. a NUL byte: fail this exchange, keep the session */
				login_imap_auth_abort(client);
				login_imap_send_tagged(client, client->auth_tag,
					t_strdup_printf("BAD Invalid authentication response: %s.", error));
				client->auth_wait_client = false;
				imap_command_reader_skip_rest(client->reader);
				imap_command_reader_next(client->reader);
				connection_input_resume(conn);
				continue;
			}
			login_imap_auth_client_line(client, line);
			continue;
		}
		struct imap_command_input cmd;
		int ret = imap_command_reader_read(client->reader, login_imap_lookup, client, &cmd);
		if (ret == IMAP_READER_NEED_MORE)
			return;
		if (ret == IMAP_READER_FATAL) {
			connection_close(conn, "fatal protocol error");
			return;
		}
		if (ret == IMAP_READER_BAD) {
			login_imap_bad(client);
			continue;
		}
		const struct login_imap_command *command = cmd.command;
		client->bad_count = 0;
		command->func(client, cmd.tag, cmd.args);
		/* an AUTHENTICATE/LOGIN in progress still uses the tag and args */
		if (client->auth_req == NULL && !conn->closed && client->conn == conn)
			imap_command_reader_next(client->reader);
	}
	/* a full output buffer pauses reading; output_drained resumes */
}

static void login_imap_output_drained(struct connection *conn)
{
	struct imap_login_client *client = conn->context;
	if (client->auth_req == NULL || client->auth_wait_client)
		login_imap_input(conn);
}

static void login_imap_idle_timeout(struct connection *conn)
{
	o_stream_send_str(conn->output, "* BYE Disconnected for inactivity.\r\n");
	connection_close(conn, "login timeout");
}

static void login_imap_shutdown(struct connection *conn)
{
	o_stream_send_str(conn->output, "* BYE Server shutting down.\r\n");
	connection_close(conn, "server shutting down");
}

static void login_imap_destroy(struct connection *conn)
{
	struct imap_login_client *client = conn->context;
	login_imap_auth_abort(client);
	imap_command_reader_destroy(&client->reader);
	if (conn->close_reason != NULL)
		log_info(&conn->log, "disconnect", "state=pre-login reason=%s",
			 log_value(conn->close_reason));
	i_free(client->auth_tag);
	i_free(client->auth_mech);
	free(client);
}

static const struct connection_vfuncs login_imap_vfuncs = {
	.input = login_imap_input,
	.output_drained = login_imap_output_drained,
	.idle_timeout = login_imap_idle_timeout,
	.shutdown = login_imap_shutdown,
	.destroy = login_imap_destroy,
};

/* The reader and timeouts of a pre-login client on its connection. */
static void login_imap_client_init(struct imap_login_client *client)
{
	const struct imap_settings *set = &client->ctx->set->imap;
	struct imap_parser_limits limits = {
		.max_line_length = set->max_line_length,
		/* pre-login commands have no business sending big literals */
		.max_literal_size = I_MIN(set->max_line_length, set->max_literal_size),
		.max_list_depth = 8,
		.max_args = 100,
	};
	client->reader = imap_command_reader_create(client->conn->input,
						    client->conn->output, &limits);
	connection_set_idle_timeout(client->conn, set->login_timeout_ms);
	connection_set_output_timeout(client->conn, set->output_timeout_ms);
}

void login_imap_client_create(struct login_context *ctx, int fd,
			      const struct net_endpoint *remote,
			      const struct net_endpoint *local,
			      enum listener_tls tls_mode)
{
	const struct imap_settings *set = &ctx->set->imap;
	struct imap_login_client *client = i_zalloc(sizeof(*client));
	client->ctx = ctx;
	client->tls_mode = tls_mode;
	/* the input buffer must hold a maximal line: the parser keeps a
	   partial command in it */
	client->conn = connection_create(fd, remote, local, &login_imap_vfuncs, client,
					 set->max_line_length + 1024, set->output_buffer_limit);
	login_imap_client_init(client);
	log_info(&client->conn->log, "connect", "protocol=imap local=%s:%u tls=%s",
		 local->ip, local->port,
		 tls_mode == LISTENER_TLS_IMPLICIT ? "implicit" : "no");
	if (tls_mode == LISTENER_TLS_IMPLICIT) {
		if (ctx->tls == NULL) {
			connection_close(client->conn, "TLS is not configured");
			return;
		}
		login_start_tls(ctx, client->conn);
	}
	o_stream_printf(client->conn->output, "* OK [CAPABILITY %s] Tern ready.\r\n",
			login_imap_capability(client));
	connection_update_io(client->conn);
}

void login_imap_client_resume(struct login_context *ctx, struct connection *conn,
			      bool starttls)
{
	struct imap_login_client *client = i_zalloc(sizeof(*client));
	client->ctx = ctx;
	/* a TLS connection stays TLS (RFC 8437 §3); STARTTLS is offered
	   again only where it still can be used */
	client->tls_mode = login_connection_is_tls(conn) ? LISTENER_TLS_IMPLICIT :
		starttls ? LISTENER_TLS_STARTTLS : LISTENER_TLS_NONE;
	client->conn = conn;
	conn->v = &login_imap_vfuncs;
	conn->context = client;
	conn->log.user = NULL;
	login_imap_client_init(client);
	/* commands pipelined behind UNAUTHENTICATE are still buffered */
	connection_input_resume(conn);
}
