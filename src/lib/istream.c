/* Buffered non-blocking input with a hard size limit. */
#include "istream.h"

#include <errno.h>

struct istream {
	struct transport *t;
	struct transport *owned_t; /* destroyed with the stream */
	unsigned char *buf;
	size_t alloc, max_size;
	size_t start, end; /* unread data is buf[start..end) */
	size_t line_scan;  /* bytes after start already known to hold no LF */
	uint64_t offset;
	bool eof;
	int error;
	const char *error_text;
};

struct istream *i_stream_create(struct transport *t, size_t max_buffer_size)
{
	struct istream *is = i_zalloc(sizeof(*is));
	is->t = t;
	is->max_size = max_buffer_size < 64 ? 64 : max_buffer_size;
	is->alloc = I_MIN(is->max_size, 4096);
	is->buf = i_malloc(is->alloc + 1);
	return is;
}

void i_stream_destroy(struct istream **_is)
{
	struct istream *is = *_is;
	if (is == NULL)
		return;
	*_is = NULL;
	transport_destroy(&is->owned_t);
	free(is->buf);
	free(is);
}

struct istream *i_stream_create_file(int fd, size_t max_buffer_size)
{
	struct transport *t = transport_create_file(fd);
	struct istream *is = i_stream_create(t, max_buffer_size);
	is->owned_t = t;
	return is;
}

struct istream *i_stream_create_from_data(const void *data, size_t size)
{
	struct transport *t = transport_create_memory(data, size, 0);
	struct istream *is = i_stream_create(t, size + 64);
	is->owned_t = t;
	return is;
}

void i_stream_set_transport(struct istream *is, struct transport *t)
{
	is->t = t;
	is->eof = false;
}

static bool i_stream_make_room(struct istream *is)
{
	if (is->start > 0) {
		memmove(is->buf, is->buf + is->start, is->end - is->start);
		is->end -= is->start;
		is->start = 0;
	}
	if (is->end < is->alloc)
		return true;
	if (is->alloc >= is->max_size)
		return false;
	size_t new_alloc = I_MIN(size_mul(is->alloc, 2), is->max_size);
	is->buf = i_realloc(is->buf, new_alloc + 1);
	is->alloc = new_alloc;
	return true;
}

int i_stream_inject(struct istream *is, const void *data, size_t size)
{
	if (size == 0)
		return 0;
	if (size > is->max_size || is->end - is->start > is->max_size - size)
		return -1;
	if (is->start > 0) {
		memmove(is->buf, is->buf + is->start, is->end - is->start);
		is->end -= is->start;
		is->start = 0;
	}
	if (is->alloc - is->end < size) {
		size_t new_alloc = is->alloc;
		while (new_alloc - is->end < size)
			new_alloc = I_MIN(size_mul(new_alloc, 2), is->max_size);
		is->buf = i_realloc(is->buf, new_alloc + 1);
		is->alloc = new_alloc;
	}
	memmove(is->buf + size, is->buf, is->end);
	memcpy(is->buf, data, size);
	is->end += size;
	is->line_scan = 0;
	return 0;
}

ssize_t i_stream_read(struct istream *is)
{
	if (is->eof || is->error != 0)
		return -1;
	if (is->end == is->alloc && !i_stream_make_room(is))
		return -2;
	if (is->start > 0 && is->start == is->end) {
		is->start = is->end = 0;
	}
	ssize_t ret = transport_read(is->t, is->buf + is->end, is->alloc - is->end);
	if (ret > 0) {
		is->end += (size_t)ret;
		return ret;
	}
	if (ret < 0) {
		if (is->t->eof)
			is->eof = true;
		else {
			is->error = is->t->error != 0 ? is->t->error : EIO;
			is->error_text = is->t->error_text;
		}
		return -1;
	}
	return 0;
}

const unsigned char *i_stream_get_data(struct istream *is, size_t *size_r)
{
	*size_r = is->end - is->start;
	return is->buf + is->start;
}

size_t i_stream_get_data_size(struct istream *is)
{
	return is->end - is->start;
}

void i_stream_skip(struct istream *is, size_t count)
{
	i_assert(count <= is->end - is->start);
	is->start += count;
	is->offset += count;
	is->line_scan = is->line_scan > count ? is->line_scan - count : 0;
	if (is->start == is->end)
		is->start = is->end = 0;
}

void i_stream_clear(struct istream *is)
{
	i_stream_skip(is, is->end - is->start);
}

char *i_stream_next_line(struct istream *is)
{
	unsigned char *data = is->buf + is->start;
	size_t size = is->end - is->start;
	unsigned char *lf = memchr(data + is->line_scan, '\n', size - is->line_scan);
	if (lf == NULL) {
		is->line_scan = size;
		return NULL;
	}
	size_t line_len = (size_t)(lf - data);
	size_t consumed = line_len + 1;
	if (line_len > 0 && data[line_len - 1] == '\r')
		line_len--;
	data[line_len] = '\0';
	is->start += consumed;
	is->offset += consumed;
	is->line_scan = 0;
	/* The line stays valid until the next read: reads only compact the
	   buffer when it is full or empty, and an empty buffer means the line
	   was the last data, which a read then overwrites only after this
	   call's caller is done with it by contract. */
	if (is->start == is->end)
		is->start = is->end = 0;
	return (char *)data;
}

bool i_stream_is_eof(const struct istream *is)
{
	return is->eof;
}

int i_stream_get_error(const struct istream *is)
{
	return is->error;
}

const char *i_stream_get_error_text(const struct istream *is)
{
	if (is->error_text != NULL)
		return is->error_text;
	return is->error != 0 ? strerror(is->error) : "EOF";
}

uint64_t i_stream_get_offset(const struct istream *is)
{
	return is->offset;
}

size_t i_stream_get_max_buffer_size(const struct istream *is)
{
	return is->max_size;
}
