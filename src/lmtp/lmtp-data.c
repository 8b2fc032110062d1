/* Message input: DATA (RFC 5321 §4.1.1.4, dot-unstuffed by lmtp-proto)
 * and BDAT chunks (RFC 3030 §2), the size limit (RFC 1870 §6.3: 552 5.3.4
 * once the data is over it), and the spool that holds the message until
 * it is delivered: memory up to lmtp.spool_memory_limit, then an unlinked
 * temporary file, so a big message never sits in memory. */
#include "lmtp-client.h"
#include "deliver-spool.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void lmtp_spool_init(struct lmtp_spool *spool)
{
	memset(spool, 0, sizeof(*spool));
	spool->fd = -1;
}

void lmtp_spool_free(struct lmtp_spool *spool)
{
	i_close_fd(&spool->fd);
	buffer_free(&spool->mem);
	lmtp_spool_init(spool);
}

/* Moves the in-memory part to a new unlinked file. */
static int lmtp_spool_to_file(struct lmtp_client *client)
{
	struct lmtp_spool *spool = &client->spool;
	char *path = t_strdup_printf("%s/lmtp-spool.XXXXXX", client->lset.spool_dir);
	spool->fd = mkostemp(path, O_CLOEXEC);
	if (spool->fd < 0) {
		log_error(&client->conn->log, "spool_failed", "path=%s error=%s",
			  log_value(path), log_value(strerror(errno)));
		return -1;
	}
	/* nothing to clean up after a crash */
	(void)unlink(path);
	if (spool->mem != NULL &&
	    i_write_full(spool->fd, spool->mem->data, spool->mem->used) < 0) {
		log_error(&client->conn->log, "spool_failed", "error=%s",
			  log_value(strerror(errno)));
		return -1;
	}
	buffer_free(&spool->mem);
	return 0;
}

int lmtp_spool_write(struct lmtp_client *client, const void *data, size_t size)
{
	struct lmtp_spool *spool = &client->spool;
	if (spool->failed)
		return -1;
	if (spool->fd == -1) {
		size_t used = spool->mem == NULL ? 0 : spool->mem->used;
		uint64_t limit = client->lset.spool_memory_limit;
		if (used + size <= limit) {
			if (spool->mem == NULL)
				spool->mem = buffer_create(system_pool, (size_t)I_MIN(size + 4096,
					limit));
			buffer_append(spool->mem, data, size);
			spool->size += size;
			return 0;
		}
		if (lmtp_spool_to_file(client) < 0) {
			spool->failed = true;
			return -1;
		}
	}
	if (i_write_full(spool->fd, data, size) < 0) {
		log_error(&client->conn->log, "spool_failed", "error=%s",
			  log_value(strerror(errno)));
		spool->failed = true;
		return -1;
	}
	spool->size += size;
	return 0;
}

ssize_t lmtp_spool_pread(struct lmtp_spool *spool, void *buf, size_t size, uint64_t offset)
{
	return deliver_spool_read_at(spool->mem, spool->fd, spool->size, buf, size, offset);
}

void lmtp_data_begin(struct lmtp_client *client, enum lmtp_input_mode mode)
{
	client->mode = mode;
	if (mode == LMTP_INPUT_DATA)
		memset(&client->dec, 0, sizeof(client->dec));
	if (client->bdat_reply == NULL)
		client->data_started = true;
}

/* Adds decoded message data, or only counts it once over the limit. */
static void lmtp_data_store(struct lmtp_client *client, const void *data, size_t size)
{
	if (size == 0 || client->too_big)
		return;
	client->msg_size += size;
	if (client->msg_size > client->lset.max_message_size) {
		/* the rest is read and dropped; nothing more is kept */
		client->too_big = true;
		lmtp_spool_free(&client->spool);
		return;
	}
	(void)lmtp_spool_write(client, data, size);
}

int lmtp_data_input(struct lmtp_client *client)
{
	struct istream *input = client->conn->input;
	size_t size;
	const unsigned char *data = i_stream_get_data(input, &size);
	if (client->mode == LMTP_INPUT_BDAT) {
		size_t n = (size_t)I_MIN((uint64_t)size, client->bdat_remaining);
		if (client->bdat_reply == NULL)
			lmtp_data_store(client, data, n);
		i_stream_skip(input, n);
		client->bdat_remaining -= n;
		return client->bdat_remaining == 0 ? 1 : 0;
	}
	size_t consumed;
	buffer_clear(client->decode_buf);
	int ret = lmtp_data_decode(&client->dec, data, size, &consumed, client->decode_buf);
	i_stream_skip(input, consumed);
	lmtp_data_store(client, client->decode_buf->data, client->decode_buf->used);
	if (client->decode_buf->alloc > 2 * LMTP_INPUT_BUFFER_SIZE + 1024) {
		buffer_free(&client->decode_buf);
		client->decode_buf = buffer_create(system_pool, 4096);
	}
	return ret;
}

/* The whole message is in: deliver it (or refuse it) per recipient. */
static void lmtp_data_message_end(struct lmtp_client *client)
{
	client->messages++;
	if (client->too_big) {
		log_info(&client->conn->log, "message_too_big", "size>%llu",
			 (unsigned long long)client->lset.max_message_size);
		for (unsigned int i = 0; i < client->rcpts.count; i++)
			lmtp_client_send_line(client, "552 5.3.4 Message too big for system.");
	} else {
		lmtp_deliver_all(client);
	}
	lmtp_client_reset_transaction(client);
}

void lmtp_data_finish(struct lmtp_client *client)
{
	enum lmtp_input_mode mode = client->mode;
	client->mode = LMTP_INPUT_COMMANDS;
	if (mode == LMTP_INPUT_DATA) {
		lmtp_data_message_end(client);
		return;
	}
	if (client->bdat_reply != NULL) {
		lmtp_client_send_bad(client, client->bdat_reply);
		client->bdat_reply = NULL;
		return;
	}
	if (!client->bdat_last) {
		if (client->too_big) {
			/* RFC 3030 §2: the client sends no further chunk */
			client->bdat_failed = true;
			lmtp_client_send_line(client, "552 5.3.4 Message too big for system.");
		} else {
			lmtp_client_send_line(client, t_strdup_printf(
				"250 2.0.0 %llu octets received.",
				(unsigned long long)client->msg_size));
		}
		return;
	}
	lmtp_data_message_end(client);
}
