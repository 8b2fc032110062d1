/* Post-login POP3 session: setup from the hand-off, the command loop with
 * pipelining and back-pressure, timeouts and teardown. A session that ends
 * without QUIT (timeout, shutdown, a dropped connection) never enters the
 * UPDATE state, so nothing marked deleted is removed (RFC 1939 §6). */
#include "pop3-client.h"
#include "istream.h"

static void pop3_client_input(struct connection *conn);

void pop3_client_send_line(struct pop3_client *client, const char *line)
{
	struct ostream *output = client->conn->output;
	o_stream_send_str(output, line);
	o_stream_send(output, "\r\n", 2);
}

void pop3_client_send_bad(struct pop3_client *client, const char *text)
{
	pop3_client_send_line(client, t_strconcat("-ERR ", text, NULL));
	client->bad_count++;
}

/* Lets go of the maildrop as soon as the session is over: a closed
   connection may linger a while to deliver its last words, and the next
   session of the user must not find the lock still held. */
static void pop3_client_release(struct pop3_client *client)
{
	pop3_retr_abort(client);
	client->cmd_continue = NULL;
	mailbox_close(&client->box);
	mail_user_deinit(&client->mail_user);
	pop3_maildrop_unlock(client);
}

void pop3_client_disconnect(struct pop3_client *client, const char *text,
			    const char *reason)
{
	/* the maildrop is released before the client can read the reply */
	o_stream_cork(client->conn->output);
	if (text != NULL)
		pop3_client_send_line(client, t_strconcat("-ERR ", text, NULL));
	pop3_client_release(client);
	o_stream_uncork(client->conn->output);
	connection_close(client->conn, reason);
}

/* Runs the commands buffered in input until one has to wait for the
   client to read its output. */
static void pop3_client_run(struct pop3_client *client)
{
	struct connection *conn = client->conn;
	/* a failed output stream gets the connection closed by its io */
	while (!conn->closed && !client->quit && !o_stream_is_full(conn->output) &&
	       !o_stream_is_failed(conn->output)) {
		if (client->cmd_continue != NULL) {
			if (!client->cmd_continue(client))
				return;
			client->cmd_continue = NULL;
			continue;
		}
		if (client->shutting_down) {
			pop3_client_disconnect(client, "[SYS/TEMP] Server shutting down.",
					       "server shutting down");
			return;
		}
		const char *line, *error;
		int ret = line_reader_read(client->reader, &line, &error);
		if (ret == 0)
			return;
		unsigned int bad_before = client->bad_count;
		if (ret < 0)
			pop3_client_send_bad(client, error);
		else
			pop3_client_command(client, line);
		if (client->quit) {
			/* before the reply to QUIT leaves the cork */
			pop3_client_release(client);
			return;
		}
		if (client->bad_count == bad_before)
			client->bad_count = 0;
		else if (client->bad_count >= POP3_CLIENT_MAX_BAD_COMMANDS) {
			pop3_client_disconnect(client, "Too many invalid commands.",
					       "too many invalid commands");
			return;
		}
	}
}

static void pop3_client_input(struct connection *conn)
{
	struct pop3_client *client = conn->context;
	/* replies to pipelined commands go out together; a paused
	   multi-line reply goes on right away when uncorking emptied the
	   buffer (else output_drained resumes it) */
	do {
		o_stream_cork(conn->output);
		pop3_client_run(client);
		o_stream_uncork(conn->output);
	} while (!conn->closed && !client->quit && client->cmd_continue != NULL &&
		 !o_stream_is_full(conn->output) && !o_stream_is_failed(conn->output));
	if (client->quit && !conn->closed)
		connection_close(conn, "logged out");
}

static void pop3_client_output_drained(struct connection *conn)
{
	pop3_client_input(conn);
}

static void pop3_client_idle_timeout(struct connection *conn)
{
	struct pop3_client *client = conn->context;
	/* a client reading a long RETR sends nothing meanwhile; one that
	   stopped reading is caught by the output timeout */
	if (client->cmd_continue != NULL)
		return;
	/* RFC 1939 §3: an autologout does not enter the UPDATE state */
	pop3_client_disconnect(client, "Disconnected for inactivity.", "inactivity timeout");
}

static void pop3_client_shutdown(struct connection *conn)
{
	struct pop3_client *client = conn->context;
	client->shutting_down = true;
	/* a message being sent is finished first */
	if (client->cmd_continue == NULL)
		pop3_client_disconnect(client, "[SYS/TEMP] Server shutting down.",
				       "server shutting down");
}

static void pop3_client_destroy(struct connection *conn)
{
	struct pop3_client *client = conn->context;
	pop3_client_release(client);
	line_reader_destroy(&client->reader);
	log_info(&conn->log, "disconnect",
		 "reason=%s retr=%u/%llu top=%u deleted=%u/%u in=%llu out=%llu",
		 log_value(conn->close_reason == NULL ? "" : conn->close_reason),
		 client->retr_count, (unsigned long long)client->retr_bytes,
		 client->top_count, client->quit ? client->deleted_count : 0, client->count,
		 (unsigned long long)i_stream_get_offset(conn->input),
		 (unsigned long long)o_stream_get_offset(conn->output));
	free(client->msgs);
	free(client);
}

static const struct connection_vfuncs pop3_client_vfuncs = {
	.input = pop3_client_input,
	.output_drained = pop3_client_output_drained,
	.idle_timeout = pop3_client_idle_timeout,
	.shutdown = pop3_client_shutdown,
	.destroy = pop3_client_destroy,
};


/* Opens the user's storage, the lock and the maildrop. Returns 0, or -1
   with *reply_r to send as -ERR before closing. */
static int pop3_client_open(struct pop3_client *client, const struct login_handoff *h,
			    const char **reply_r)
{
	const char *error = "unsafe user name";
	const char *home = config_mail_home(client->set, client->user, h->home);
	struct mail_user_settings mset = {
		.username = client->user,
		.home = home,
		.driver = client->set->mail.driver,
		.create_special_folders = client->set->mail.create_special_folders,
	};
	*reply_r = "[SYS/TEMP] Mail storage is not available.";
	if (home == NULL || mail_user_init(&mset, &client->mail_user, &error) < 0) {
		log_error(&client->conn->log, "mail_user_init_failed", "home=%s error=%s",
			  log_value(home), log_value(error));
		return -1;
	}
	if (pop3_maildrop_lock(client, home, reply_r) <= 0)
		return -1;
	if (pop3_maildrop_open(client) < 0) {
		*reply_r = "[SYS/TEMP] Can't open the mailbox.";
		return -1;
	}
	return 0;
}

void pop3_client_create(const struct tern_settings *set, struct connection *conn,
			const struct login_handoff *handoff)
{
	struct pop3_client *client = i_zalloc(sizeof(*client));
	client->conn = conn;
	client->set = set;
	client->lock_fd = -1;
	client->user = p_strdup(conn->pool, handoff->user);
	conn->log.user = client->user;
	conn->v = &pop3_client_vfuncs;
	conn->context = client;
	client->reader = pop3_line_reader_create(conn->input, set->pop3.max_line_length);
	connection_set_idle_timeout(conn, set->pop3.idle_timeout_ms);

	const char *reply;
	if (pop3_client_open(client, handoff, &reply) < 0) {
		pop3_client_disconnect(client, reply, t_strdup_printf("login refused: %s", reply));
		return;
	}
	log_info(&conn->log, "login", "protocol=pop3 mech=%s tls=%s messages=%u size=%llu",
		 handoff->mech, handoff->tls ? log_value(handoff->tls_info) : "no",
		 client->count, (unsigned long long)client->total_size);
	pop3_client_send_line(client, t_strdup_printf("+OK Logged in, %u messages (%llu octets).",
		client->count, (unsigned long long)client->total_size));
	connection_update_io(conn);
}
