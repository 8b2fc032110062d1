/* Post-login ManageSieve session: setup from the hand-off, the command loop
 * with back-pressure, timeouts and teardown. */
#include "managesieve-client-private.h"
#include "istream.h"

managesieve_client_unauthenticated_t *managesieve_unauthenticated_callback;

void managesieve_client_set_unauthenticated_callback(
	managesieve_client_unauthenticated_t *callback)
{
	managesieve_unauthenticated_callback = callback;
}

void managesieve_client_send_reply(struct managesieve_client *client, const char *status,
				   const char *code, const char *text)
{
	string_t *str = t_str_new(128);
	managesieve_reply_append(str, status, code, text);
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

void managesieve_client_send_bad(struct managesieve_client *client, const char *text)
{
	managesieve_client_send_reply(client, "NO", NULL, text);
	client->bad_count++;
}

static void managesieve_client_input(struct connection *conn)
{
	struct managesieve_client *client = conn->context;
	o_stream_cork(conn->output);
	while (!conn->closed && !client->unauthenticated && !o_stream_is_full(conn->output)) {
		const struct managesieve_arg *args;
		unsigned int count, bad_before = client->bad_count;
		int ret = managesieve_parser_read(client->parser, &args, &count);
		if (ret == 0)
			break;
		if (ret < 0)
			managesieve_client_parse_error(client);
		else
			managesieve_client_command(client, args, count);
		if (conn->closed || client->unauthenticated)
			break;
		if (client->bad_count == bad_before)
			client->bad_count = 0;
		else if (client->bad_count >= MANAGESIEVE_CLIENT_MAX_BAD_COMMANDS) {
			managesieve_client_send_reply(client, "BYE", NULL, "Too many invalid commands.");
			connection_close(conn, "too many invalid commands");
			break;
		}
	}
	if (client->unauthenticated) {
		/* the OK is queued: the login process takes over from here */
		managesieve_client_unauthenticate(client);
		return;
	}
	o_stream_uncork(conn->output);
}

static void managesieve_client_output_drained(struct connection *conn)
{
	managesieve_client_input(conn);
}

static void managesieve_client_idle_timeout(struct connection *conn)
{
	o_stream_send_str(conn->output, "BYE \"Disconnected for inactivity.\"\r\n");
	connection_close(conn, "inactivity timeout");
}

static void managesieve_client_shutdown(struct connection *conn)
{
	o_stream_send_str(conn->output, "BYE (TRYLATER) \"Server shutting down.\"\r\n");
	connection_close(conn, "server shutting down");
}

static void managesieve_client_destroy(struct connection *conn)
{
	struct managesieve_client *client = conn->context;
	managesieve_parser_destroy(&client->parser);
	sieve_storage_destroy(&client->storage);
	log_info(&conn->log, "disconnect", "reason=%s in=%llu out=%llu",
		 log_value(conn->close_reason == NULL ? "" : conn->close_reason),
		 (unsigned long long)i_stream_get_offset(conn->input),
		 (unsigned long long)o_stream_get_offset(conn->output));
	free(client);
}

static const struct connection_vfuncs managesieve_client_vfuncs = {
	.input = managesieve_client_input,
	.output_drained = managesieve_client_output_drained,
	.idle_timeout = managesieve_client_idle_timeout,
	.shutdown = managesieve_client_shutdown,
	.destroy = managesieve_client_destroy,
};

void managesieve_client_unauthenticate(struct managesieve_client *client)
{
	struct connection *conn = client->conn;
	o_stream_uncork(conn->output);
	/* the destroy callback of this session never runs for conn now */
	conn->v = NULL;
	conn->context = NULL;
	managesieve_parser_destroy(&client->parser);
	sieve_storage_destroy(&client->storage);
	log_info(&conn->log, "unauthenticate", NULL);
	managesieve_unauthenticated_callback(conn, client->starttls, client->tls,
					     client->login_pid);
	free(client);
}

/* The user's script storage. Returns 0, or -1 after logging why. */
static int managesieve_client_open(struct managesieve_client *client,
				   const struct login_handoff *h)
{
	struct sieve_storage_settings sset;
	const char *error = "unsafe user name";
	const char *home = config_mail_home(client->set, client->user, h->home);
	if (home == NULL ||
	    sieve_storage_settings_get(&client->set->sieve, client->user, home, &sset,
				       &error) < 0) {
		log_error(&client->conn->log, "sieve_storage_failed", "home=%s error=%s",
			  log_value(home), log_value(error));
		return -1;
	}
	client->storage = sieve_storage_create(&sset);
	client->home = p_strdup(client->conn->pool, home);
	return 0;
}

void managesieve_client_create(const struct tern_settings *set, struct connection *conn,
			       const struct login_handoff *handoff)
{
	const struct managesieve_settings *mset = &set->managesieve;
	struct managesieve_client *client = i_zalloc(sizeof(*client));
	client->conn = conn;
	client->set = set;
	client->user = p_strdup(conn->pool, handoff->user);
	client->starttls = handoff->starttls;
	client->tls = handoff->tls;
	client->login_pid = handoff->login_pid;
	conn->log.user = client->user;
	conn->v = &managesieve_client_vfuncs;
	conn->context = client;
	/* PUTSCRIPT literals hold whole scripts; larger ones are skipped and
	   answered with QUOTA/MAXSIZE */
	struct managesieve_parser_limits limits = {
		.max_line_length = mset->max_line_length,
		.max_literal_size = set->sieve.max_script_size,
		.max_args = 8,
	};
	client->parser = managesieve_parser_create(conn->input, &limits);
	connection_set_idle_timeout(conn, mset->idle_timeout_ms);
	connection_set_output_timeout(conn, mset->output_timeout_ms);
	if (managesieve_client_open(client, handoff) < 0) {
		managesieve_client_send_reply(client, "NO", "TRYLATER",
					      "Sieve script storage is not available.");
		connection_close(conn, "login refused: no script storage");
		return;
	}
	log_info(&conn->log, "login", "protocol=managesieve mech=%s tls=%s", handoff->mech,
		 handoff->tls ? log_value(handoff->tls_info) : "no");
	managesieve_client_send_reply(client, "OK", NULL, "Logged in.");
	connection_update_io(conn);
}
