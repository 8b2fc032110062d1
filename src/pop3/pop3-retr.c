/* RETR and TOP (RFC 1939 §7): a message is streamed from its file through
 * the encoder (CRLF, dot-stuffing, TOP's line limit) a chunk at a time,
 * pausing whenever the client's output buffer is full, so a 50 MB message
 * never sits in memory. */
#include "pop3-client.h"
#include "istream.h"

/* Message file bytes read ahead before encoding a chunk */
#define POP3_RETR_CHUNK (64 * 1024)

void pop3_retr_abort(struct pop3_client *client)
{
	i_stream_destroy(&client->msg_input);
	buffer_free(&client->msg_buf);
	client->msg = NULL;
}

/* Fills the message stream's buffer up to a chunk. Returns 1 with data,
   0 at the end of the file, -1 on a read error. */
static int pop3_retr_read(struct pop3_client *client)
{
	struct istream *input = client->msg_input;
	ssize_t ret = 1;
	while (i_stream_get_data_size(input) < POP3_RETR_CHUNK &&
	       (ret = i_stream_read(input)) > 0)
		;
	if (i_stream_get_data_size(input) > 0)
		return 1;
	return ret == -1 && i_stream_is_eof(input) ? 0 : -1;
}

static void pop3_retr_finish(struct pop3_client *client)
{
	buffer_clear(client->msg_buf);
	pop3_encoder_finish(&client->enc, client->msg_buf);
	o_stream_send(client->conn->output, client->msg_buf->data, client->msg_buf->used);
	if (client->msg_whole) {
		client->msg->retrieved = true;
		client->retr_count++;
		client->retr_bytes += client->msg->size;
	} else {
		client->top_count++;
	}
	pop3_retr_abort(client);
	/* the client was busy reading: its idle time starts now */
	connection_set_idle_timeout(client->conn, client->set->pop3.idle_timeout_ms);
}

static bool pop3_retr_continue(struct pop3_client *client)
{
	struct ostream *output = client->conn->output;
	while (!o_stream_is_full(output) && !o_stream_is_failed(output)) {
		int ret = pop3_retr_read(client);
		if (ret < 0) {
			/* part of the message is out: the reply can't become an
			   -ERR any more, only a disconnect says it failed */
			log_error(&client->conn->log, "message_read_failed", "uid=%u error=%s",
				  client->msg->uid,
				  log_value(i_stream_get_error_text(client->msg_input) == NULL ? "" :
					    i_stream_get_error_text(client->msg_input)));
			pop3_retr_abort(client);
			connection_close(client->conn, "message read failed");
			return true;
		}
		if (ret == 0) {
			pop3_retr_finish(client);
			return true;
		}
		size_t size;
		const unsigned char *data = i_stream_get_data(client->msg_input, &size);
		buffer_clear(client->msg_buf);
		size_t used = pop3_encoder_feed(&client->enc, data, size, client->msg_buf);
		i_stream_skip(client->msg_input, used);
		o_stream_send(output, client->msg_buf->data, client->msg_buf->used);
		if (pop3_encoder_is_done(&client->enc)) {
			pop3_retr_finish(client);
			return true;
		}
	}
	return false;
}

void pop3_retr_start(struct pop3_client *client, struct pop3_message *msg,
		     uint64_t body_lines)
{
	uint64_t physical_size;
	int ret = mailbox_open_message(client->box, msg->uid, &client->msg_input, &physical_size);
	if (ret <= 0) {
		uint32_t num = (uint32_t)(msg - client->msgs) + 1;
		if (ret == 0) {
			pop3_client_send_line(client, t_strdup_printf(
				"-ERR Message %u was removed by another session.", num));
		} else {
			const char *text;
			(void)mail_user_get_error(client->mail_user, &text);
			pop3_client_send_line(client, t_strdup_printf(
				"-ERR [SYS/TEMP] Can't read message %u: %s", num, text));
		}
		return;
	}
	client->msg = msg;
	client->msg_whole = body_lines == POP3_ENCODER_ALL_LINES;
	client->msg_buf = buffer_create(system_pool, POP3_RETR_CHUNK + 1024);
	pop3_encoder_init(&client->enc, body_lines);
	pop3_client_send_line(client, body_lines == POP3_ENCODER_ALL_LINES ?
		t_strdup_printf("+OK %llu octets", (unsigned long long)msg->size) :
		"+OK");
	client->cmd_continue = pop3_retr_continue;
}
