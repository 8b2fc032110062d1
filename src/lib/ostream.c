/* Buffered non-blocking output with a soft limit for back-pressure. */
#include "ostream.h"
#include "buffer.h"
#include "pool.h"

#include <errno.h>

struct ostream {
	struct transport *t;
	buffer_t *buf;
	size_t sent_pos; /* bytes of buf already written */
	size_t soft_limit;
	uint64_t offset;
	unsigned int cork;
	int error;
};

struct ostream *o_stream_create(struct transport *t, size_t soft_limit)
{
	struct ostream *os = i_zalloc(sizeof(*os));
	os->t = t;
	os->soft_limit = soft_limit;
	os->buf = buffer_create(system_pool, 1024);
	return os;
}

void o_stream_destroy(struct ostream **_os)
{
	struct ostream *os = *_os;
	if (os == NULL)
		return;
	*_os = NULL;
	buffer_free(&os->buf);
	free(os);
}

void o_stream_set_transport(struct ostream *os, struct transport *t)
{
	os->t = t;
}

static void o_stream_compact(struct ostream *os)
{
	if (os->sent_pos == os->buf->used) {
		buffer_set_used_size(os->buf, 0);
		os->sent_pos = 0;
		/* give back memory after a large response */
		if (os->buf->alloc > 64 * 1024) {
			buffer_free(&os->buf);
			os->buf = buffer_create(system_pool, 1024);
		}
	} else if (os->sent_pos > 64 * 1024 && os->sent_pos > os->buf->used / 2) {
		buffer_delete(os->buf, 0, os->sent_pos);
		os->sent_pos = 0;
	}
}

int o_stream_flush(struct ostream *os)
{
	if (os->error != 0)
		return -1;
	while (os->sent_pos < os->buf->used) {
		ssize_t ret = transport_write(os->t, os->buf->data + os->sent_pos,
					      os->buf->used - os->sent_pos);
		if (ret < 0) {
			os->error = os->t->error != 0 ? os->t->error : EIO;
			return -1;
		}
		if (ret == 0)
			break;
		os->sent_pos += (size_t)ret;
		os->offset += (uint64_t)ret;
	}
	o_stream_compact(os);
	return os->sent_pos == os->buf->used ? 1 : 0;
}

int o_stream_send(struct ostream *os, const void *data, size_t size)
{
	if (os->error != 0)
		return -1;
	buffer_append(os->buf, data, size);
	if (os->cork == 0 && o_stream_flush(os) < 0)
		return -1;
	return 0;
}

int o_stream_send_str(struct ostream *os, const char *str)
{
	return o_stream_send(os, str, strlen(str));
}

int o_stream_printf(struct ostream *os, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	const char *str = p_strdup_vprintf(t_pool(), fmt, args);
	va_end(args);
	return o_stream_send_str(os, str);
}

void o_stream_cork(struct ostream *os)
{
	os->cork++;
}

void o_stream_uncork(struct ostream *os)
{
	i_assert(os->cork > 0);
	if (--os->cork == 0)
		(void)o_stream_flush(os);
}

size_t o_stream_get_buffer_used(const struct ostream *os)
{
	return os->buf->used - os->sent_pos;
}

bool o_stream_is_full(const struct ostream *os)
{
	return o_stream_get_buffer_used(os) >= os->soft_limit;
}

bool o_stream_is_failed(const struct ostream *os)
{
	return os->error != 0;
}

int o_stream_get_error(const struct ostream *os)
{
	return os->error;
}

uint64_t o_stream_get_offset(const struct ostream *os)
{
	return os->offset;
}
