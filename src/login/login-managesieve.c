/* Pre-login ManageSieve: connection setup, the command loop and the
 * commands that need no authentication (RFC 5804 §2.2 STARTTLS, §2.4
 * CAPABILITY, §2.3 LOGOUT, §2.15 NOOP). */
#include "login-managesieve-private.h"
#include "managesieve-capability.h"
#include "sieve-commands.h"
#include "istream.h"

struct login_managesieve_command {
	const char *name;
	void (*func)(struct managesieve_login_client *client,
		     const struct managesieve_arg *args, unsigned int count);
};

/* valid only once logged in (RFC 5804 §2.5-§2.14) */
static const char *const login_managesieve_auth_commands[] = {
	"CHECKSCRIPT", "DELETESCRIPT", "GETSCRIPT", "HAVESPACE", "LISTSCRIPTS",
	"PUTSCRIPT", "RENAMESCRIPT", "SETACTIVE",
};

void login_managesieve_send_reply(struct managesieve_login_client *client, const char *status,
				  const char *code, const char *text)
{
	string_t *str = t_str_new(128);
	managesieve_reply_append(str, status, code, text);
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

void login_managesieve_send_bad(struct managesieve_login_client *client, const char *text)
{
	login_managesieve_send_reply(client, "NO", NULL, text);
	client->bad_count++;
}

static bool login_managesieve_starttls_available(struct managesieve_login_client *client)
{
	return login_tls_mode_offers_starttls(client->tls_mode) && client->ctx->tls != NULL &&
		!login_connection_is_tls(client->conn);
}

static void login_managesieve_send_capability(struct managesieve_login_client *client)
{
	const struct tern_settings *set = client->ctx->set;
	const char *notify;
	struct managesieve_capability_opts opts = {
		.sasl_mechs = login_tls_required_unmet(client->tls_mode, client->conn) ? "" :
			login_auth_mechanisms(client->ctx, client->conn),
		.sieve_extensions = managesieve_capability_sieve_list(sieve_extension_names(),
								      &notify),
		.max_redirects = set->sieve.max_redirects,
		.starttls = login_managesieve_starttls_available(client),
		.unauthenticate = true,
	};
	opts.notify_methods = notify;
	string_t *str = t_str_new(512);
	managesieve_capability_append(str, &opts);
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

static void cmd_capability(struct managesieve_login_client *client,
			   const struct managesieve_arg *args, unsigned int count)
{
	if (count > 0) {
		login_managesieve_send_bad(client, "CAPABILITY takes no arguments.");
		return;
	}
	login_managesieve_send_capability(client);
	login_managesieve_send_reply(client, "OK", NULL, "Capability completed.");
}

static void cmd_noop(struct managesieve_login_client *client,
		     const struct managesieve_arg *args, unsigned int count)
{
	const char *tag;
	if (count > 1 || (count == 1 && !managesieve_arg_get_string(&args[0], &tag))) {
		login_managesieve_send_bad(client, "Invalid arguments: NOOP [string].");
		return;
	}
	if (count == 0) {
		login_managesieve_send_reply(client, "OK", NULL, "NOOP completed.");
		return;
	}
	/* RFC 5804 §2.15: the string comes back in a TAG response code */
	string_t *code = t_str_new(64);
	str_append(code, "TAG ");
	managesieve_quote_append(code, args[0].str, args[0].size);
	login_managesieve_send_reply(client, "OK", str_c(code), "Done");
}

static void cmd_logout(struct managesieve_login_client *client,
		       const struct managesieve_arg *args, unsigned int count)
{
	if (count > 0) {
		login_managesieve_send_bad(client, "LOGOUT takes no arguments.");
		return;
	}
	login_managesieve_send_reply(client, "OK", NULL, "Logout completed.");
	connection_close(client->conn, "logged out");
}

static void cmd_starttls(struct managesieve_login_client *client,
			 const struct managesieve_arg *args, unsigned int count)
{
	if (count > 0) {
		login_managesieve_send_bad(client, "STARTTLS takes no arguments.");
		return;
	}
	if (login_connection_is_tls(client->conn)) {
		login_managesieve_send_bad(client, "TLS is already active.");
		return;
	}
	if (!login_managesieve_starttls_available(client)) {
		login_managesieve_send_bad(client, "STARTTLS is not available on this port.");
		return;
	}
	login_managesieve_send_reply(client, "OK", NULL, "Begin TLS negotiation now.");
	/* the OK must go out in plaintext before the handshake starts */
	if (o_stream_flush(client->conn->output) <= 0) {
		connection_close(client->conn, "STARTTLS: could not send the OK");
		return;
	}
	login_start_tls(client->ctx, client->conn);
	managesieve_parser_reset(client->parser);
	/* RFC 5804 §2.2: the capabilities again, as they are under TLS */
	login_managesieve_send_capability(client);
	login_managesieve_send_reply(client, "OK", NULL, "TLS negotiation successful.");
}

static void cmd_unauthenticate(struct managesieve_login_client *client,
			       const struct managesieve_arg *args, unsigned int count)
{
	login_managesieve_send_bad(client, "Not authenticated.");
}

static const struct login_managesieve_command login_managesieve_commands[] = {
	{ "AUTHENTICATE", login_managesieve_cmd_authenticate },
	{ "CAPABILITY", cmd_capability },
	{ "LOGOUT", cmd_logout },
	{ "NOOP", cmd_noop },
	{ "STARTTLS", cmd_starttls },
	{ "UNAUTHENTICATE", cmd_unauthenticate },
};

static void login_managesieve_command(struct managesieve_login_client *client,
				      const struct managesieve_arg *args, unsigned int count)
{
	if (count == 0) {
		login_managesieve_send_bad(client, "Empty command line.");
		return;
	}
	if (args[0].type != MANAGESIEVE_ARG_ATOM) {
		login_managesieve_send_bad(client, "Expected a command name.");
		return;
	}
	const char *name = t_strdup(args[0].str);
	for (char *p = (char *)name; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(login_managesieve_commands); i++) {
		if (strcmp(login_managesieve_commands[i].name, name) == 0) {
			login_managesieve_commands[i].func(client, args + 1, count - 1);
			return;
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(login_managesieve_auth_commands); i++) {
		if (strcmp(login_managesieve_auth_commands[i], name) == 0) {
			login_managesieve_send_bad(client, t_strdup_printf(
				"%s is valid only after authentication.", name));
			return;
		}
	}
	login_managesieve_send_bad(client, "Unknown command.");
}

static void login_managesieve_parse_error(struct managesieve_login_client *client)
{
	enum managesieve_parse_error code;
	const char *error = managesieve_parser_get_error(client->parser, &code, NULL);
	if (client->auth_req != NULL) {
		/* a response we can't take fails the AUTHENTICATE */
		login_managesieve_auth_abort(client);
		login_managesieve_send_bad(client, t_strdup_printf(
			"Invalid authentication response: %s.", error));
		connection_input_resume(client->conn);
		return;
	}
	login_managesieve_send_bad(client, t_strdup_printf("%s.", error));
}

/* Runs commands while input is buffered and nothing blocks them. */
static void login_managesieve_input(struct connection *conn)
{
	struct managesieve_login_client *client = conn->context;
	while (!conn->closed && client->conn == conn && !o_stream_is_full(conn->output)) {
		if (client->auth_req != NULL && !client->auth_wait_client)
			return; /* waiting for the auth service */
		const struct managesieve_arg *args;
		unsigned int count, bad_before = client->bad_count;
		int ret = managesieve_parser_read(client->parser, &args, &count);
		if (ret == 0)
			return;
		if (ret < 0)
			login_managesieve_parse_error(client);
		else if (client->auth_req != NULL)
			login_managesieve_auth_client_line(client, args, count);
		else
			login_managesieve_command(client, args, count);
		if (client->conn != conn || conn->closed)
			return;
		if (client->bad_count == bad_before)
			client->bad_count = 0;
		else if (client->bad_count >= LOGIN_MANAGESIEVE_MAX_BAD_COMMANDS) {
			login_managesieve_send_reply(client, "BYE", NULL, "Too many invalid commands.");
			connection_close(conn, "too many invalid commands");
			return;
		}
	}
	/* a full output buffer pauses reading; output_drained resumes */
}

static void login_managesieve_output_drained(struct connection *conn)
{
	struct managesieve_login_client *client = conn->context;
	if (client->auth_req == NULL || client->auth_wait_client)
		login_managesieve_input(conn);
}

static void login_managesieve_idle_timeout(struct connection *conn)
{
	o_stream_send_str(conn->output, "BYE \"Disconnected for inactivity.\"\r\n");
	connection_close(conn, "login timeout");
}

static void login_managesieve_shutdown(struct connection *conn)
{
	o_stream_send_str(conn->output, "BYE (TRYLATER) \"Server shutting down.\"\r\n");
	connection_close(conn, "server shutting down");
}

static void login_managesieve_destroy(struct connection *conn)
{
	struct managesieve_login_client *client = conn->context;
	login_managesieve_auth_abort(client);
	managesieve_parser_destroy(&client->parser);
	if (conn->close_reason != NULL)
		log_info(&conn->log, "disconnect", "state=pre-login reason=%s",
			 log_value(conn->close_reason));
	free(client);
}

static const struct connection_vfuncs login_managesieve_vfuncs = {
	.input = login_managesieve_input,
	.output_drained = login_managesieve_output_drained,
	.idle_timeout = login_managesieve_idle_timeout,
	.shutdown = login_managesieve_shutdown,
	.destroy = login_managesieve_destroy,
};

static void login_managesieve_client_init(struct managesieve_login_client *client)
{
	const struct managesieve_settings *set = &client->ctx->set->managesieve;
	/* pre-login literals are only SASL responses: a line's worth */
	struct managesieve_parser_limits limits = {
		.max_line_length = set->max_line_length,
		.max_literal_size = set->max_line_length,
		.max_args = 8,
	};
	client->parser = managesieve_parser_create(client->conn->input, &limits);
	connection_set_idle_timeout(client->conn, set->login_timeout_ms);
	connection_set_output_timeout(client->conn, set->output_timeout_ms);
}

void login_managesieve_client_create(struct login_context *ctx, int fd,
				     const struct net_endpoint *remote,
				     const struct net_endpoint *local,
				     enum listener_tls tls_mode)
{
	const struct managesieve_settings *set = &ctx->set->managesieve;
	struct managesieve_login_client *client = i_zalloc(sizeof(*client));
	client->ctx = ctx;
	client->tls_mode = tls_mode;
	client->conn = connection_create(fd, remote, local, &login_managesieve_vfuncs, client,
					 set->max_line_length + 1024, set->output_buffer_limit);
	login_managesieve_client_init(client);
	log_info(&client->conn->log, "connect", "protocol=managesieve local=%s:%u tls=%s",
		 local->ip, local->port,
		 tls_mode == LISTENER_TLS_IMPLICIT ? "implicit" : "no");
	if (tls_mode == LISTENER_TLS_IMPLICIT) {
		if (ctx->tls == NULL) {
			connection_close(client->conn, "TLS is not configured");
			return;
		}
		login_start_tls(ctx, client->conn);
	}
	/* RFC 5804 §1.7: the greeting is the capability response */
	login_managesieve_send_capability(client);
	login_managesieve_send_reply(client, "OK", NULL, "Tern ManageSieve ready.");
	connection_update_io(client->conn);
}

void login_managesieve_client_resume(struct login_context *ctx, struct connection *conn,
				     bool starttls)
{
	struct managesieve_login_client *client = i_zalloc(sizeof(*client));
	client->ctx = ctx;
	/* a TLS connection stays TLS (RFC 5804 §2.14.1) */
	client->tls_mode = login_connection_is_tls(conn) ? LISTENER_TLS_IMPLICIT :
		starttls ? LISTENER_TLS_STARTTLS : LISTENER_TLS_NONE;
	client->conn = conn;
	conn->v = &login_managesieve_vfuncs;
	conn->context = client;
	conn->log.user = NULL;
	login_managesieve_client_init(client);
	/* commands pipelined behind UNAUTHENTICATE are still buffered */
	connection_input_resume(conn);
}
