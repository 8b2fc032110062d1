/* LMTP session (RFC 2033): creation on an accepted connection, the command
 * loop with pipelining (RFC 2920 §3: replies to a batch of commands leave
 * together), timeouts, shutdown and teardown. A session that ends in the
 * middle of a message delivers nothing of it: the MTA retries. */
#include "lmtp-client.h"

#include <unistd.h>

static const char *lmtp_hostname(void)
{
	static char host[256];
	if (host[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0' ||
		    !lmtp_proto_lhlo_name_is_valid(host))
			strcpy(host, "localhost");
	}
	return host;
}

void lmtp_settings_init(const struct tern_settings *set, struct lmtp_client_settings *lset_r)
{
	const struct lmtp_settings *ls = &set->lmtp;
	memset(lset_r, 0, sizeof(*lset_r));
	lset_r->max_message_size = ls->max_message_size;
	lset_r->max_recipients = ls->max_recipients;
	lset_r->delivered_to = ls->delivered_to;
	lset_r->detail_to_mailbox = ls->detail_to_mailbox;
	lset_r->detail_delimiter = ls->detail_delimiter;
	lset_r->hostname = ls->hostname[0] != '\0' && lmtp_proto_lhlo_name_is_valid(ls->hostname) ?
		ls->hostname : lmtp_hostname();
	lset_r->spool_dir = set->base_dir;
	lset_r->spool_memory_limit = ls->spool_memory_limit;
	lset_r->idle_timeout_ms = ls->idle_timeout_ms;
	lset_r->output_timeout_ms = ls->output_timeout_ms;
	lset_r->output_buffer_limit = (size_t)ls->output_buffer_limit;
}

void lmtp_client_send_line(struct lmtp_client *client, const char *line)
{
	struct ostream *output = client->conn->output;
	o_stream_send_str(output, line);
	o_stream_send(output, "\r\n", 2);
}

void lmtp_client_send_bad(struct lmtp_client *client, const char *line)
{
	lmtp_client_send_line(client, line);
	client->bad_count++;
}

void lmtp_client_flush(struct lmtp_client *client)
{
	struct ostream *output = client->conn->output;
	o_stream_uncork(output);
	o_stream_cork(output);
}

void lmtp_client_reset_transaction(struct lmtp_client *client)
{
	client->mail_given = false;
	client->sender = NULL;
	memset(&client->mail_params, 0, sizeof(client->mail_params));
	array_clear(&client->rcpts);
	/* the pool holds only this transaction's recipients */
	if (pool_get_allocated(client->trans_pool) > 16 * 1024) {
		pool_destroy(&client->trans_pool);
		client->trans_pool = pool_create("lmtp transaction", 4096);
		array_init(&client->rcpts, client->trans_pool, 4);
	}
	client->mode = LMTP_INPUT_COMMANDS;
	memset(&client->dec, 0, sizeof(client->dec));
	lmtp_spool_free(&client->spool);
	client->data_started = false;
	client->too_big = false;
	client->bdat_failed = false;
	client->bdat_last = false;
	client->bdat_remaining = 0;
	client->bdat_reply = NULL;
	client->msg_size = 0;
}

static void lmtp_client_disconnect(struct lmtp_client *client, const char *reply,
				   const char *reason)
{
	if (reply != NULL)
		lmtp_client_send_line(client, reply);
	connection_close(client->conn, reason);
}

/* Runs the commands (and message data) buffered in input until one has
   to wait for the client to read its output. */
static void lmtp_client_run(struct lmtp_client *client)
{
	struct connection *conn = client->conn;
	while (!conn->closed && !client->quit && !o_stream_is_full(conn->output) &&
	       !o_stream_is_failed(conn->output)) {
		if (client->mode != LMTP_INPUT_COMMANDS) {
			if (lmtp_data_input(client) == 0)
				return;
			lmtp_data_finish(client);
			continue;
		}
		if (client->shutting_down) {
			lmtp_client_disconnect(client, t_strdup_printf(
				"421 4.3.2 %s Server shutting down.", client->lset.hostname),
				"server shutting down");
			return;
		}
		const char *line, *error;
		int ret = line_reader_read(client->reader, &line, &error);
		if (ret == 0) {
			lmtp_storage_input_drained(client);
			return;
		}
		unsigned int bad_before = client->bad_count;
		if (ret < 0)
			lmtp_client_send_bad(client, error);
		else
			lmtp_client_command(client, line);
		if (client->bad_count == bad_before)
			client->bad_count = 0;
		else if (client->bad_count >= LMTP_MAX_BAD_COMMANDS) {
			lmtp_client_disconnect(client, t_strdup_printf(
				"421 4.7.0 %s Too many errors, closing connection.",
				client->lset.hostname), "too many invalid commands");
			return;
		}
	}
}

static void lmtp_client_input(struct connection *conn)
{
	struct lmtp_client *client = conn->context;
	o_stream_cork(conn->output);
	lmtp_client_run(client);
	o_stream_uncork(conn->output);
	if (client->quit && !conn->closed)
		connection_close(conn, "quit");
	else if (!conn->closed)
		lmtp_storage_schedule(client);
}

static void lmtp_client_output_drained(struct connection *conn)
{
	lmtp_client_input(conn);
}

static void lmtp_client_idle_timeout(struct connection *conn)
{
	struct lmtp_client *client = conn->context;
	lmtp_client_disconnect(client, t_strdup_printf(
		"421 4.4.2 %s Timeout, closing connection.", client->lset.hostname),
		"inactivity timeout");
}

static void lmtp_client_shutdown(struct connection *conn)
{
	struct lmtp_client *client = conn->context;
	client->shutting_down = true;
	/* a message being received is finished and delivered first; the
	   worker's shutdown deadline bounds the wait */
	if (client->mode == LMTP_INPUT_COMMANDS)
		lmtp_client_disconnect(client, t_strdup_printf(
			"421 4.3.2 %s Server shutting down.", client->lset.hostname),
			"server shutting down");
}

static void lmtp_client_destroy(struct connection *conn)
{
	struct lmtp_client *client = conn->context;
	log_info(&conn->log, "disconnect", "reason=%s messages=%u deliveries=%u in=%llu out=%llu",
		 log_value(conn->close_reason == NULL ? "" : conn->close_reason),
		 client->messages, client->deliveries,
		 (unsigned long long)i_stream_get_offset(conn->input),
		 (unsigned long long)o_stream_get_offset(conn->output));
	/* a client that left without QUIT: what waits is indexed now, unless
	   the worker is stopping (then the first search does it) */
	lmtp_storage_close_all(client, !client->shutting_down);
	lmtp_spool_free(&client->spool);
	line_reader_destroy(&client->reader);
	buffer_free(&client->decode_buf);
	pool_destroy(&client->trans_pool);
	array_free(&client->storages);
	free(client);
}

static const struct connection_vfuncs lmtp_client_vfuncs = {
	.input = lmtp_client_input,
	.output_drained = lmtp_client_output_drained,
	.idle_timeout = lmtp_client_idle_timeout,
	.shutdown = lmtp_client_shutdown,
	.destroy = lmtp_client_destroy,
};

void lmtp_client_create(const struct tern_settings *set, int fd,
			const struct net_endpoint *remote, const struct net_endpoint *local)
{
	struct lmtp_client *client = i_zalloc(sizeof(*client));
	client->set = set;
	lmtp_settings_init(set, &client->lset);
	client->trans_pool = pool_create("lmtp transaction", 4096);
	array_init(&client->rcpts, client->trans_pool, 4);
	array_init(&client->storages, system_pool, 8);
	client->decode_buf = buffer_create(system_pool, 4096);
	lmtp_spool_init(&client->spool);
	client->conn = connection_create(fd, remote, local, &lmtp_client_vfuncs, client,
					 LMTP_INPUT_BUFFER_SIZE, client->lset.output_buffer_limit);
	struct connection *conn = client->conn;
	client->reader = lmtp_line_reader_create(conn->input, LMTP_PROTO_MAX_LINE_LENGTH);
	connection_set_idle_timeout(conn, client->lset.idle_timeout_ms);
	connection_set_output_timeout(conn, client->lset.output_timeout_ms);
	log_info(&conn->log, "connect", "protocol=lmtp local=%s:%u",
		 local->is_unix ? "unix" : local->ip, local->port);
	/* RFC 2033 §4.1 / RFC 5321 §4.2: the greeting has no enhanced code
	   (RFC 2034 §3) */
	lmtp_client_send_line(client, t_strdup_printf("220 %s Tern LMTP ready",
						      client->lset.hostname));
	connection_update_io(conn);
}
