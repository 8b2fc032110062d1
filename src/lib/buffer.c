/* Growable buffers and strings. */
#include "buffer.h"

static void buffer_reserve(buffer_t *buf, size_t need)
{
	if (need <= buf->alloc)
		return;
	size_t new_alloc = buf->alloc < 32 ? 32 : buf->alloc;
	while (new_alloc < need)
		new_alloc = size_mul(new_alloc, 2);
	buf->data = p_realloc(buf->pool, buf->data, buf->alloc, new_alloc);
	buf->alloc = new_alloc;
}

buffer_t *buffer_create(pool_t pool, size_t init_size)
{
	buffer_t *buf = p_new(pool, buffer_t, 1);
	buf->pool = pool;
	buffer_reserve(buf, init_size == 0 ? 32 : init_size);
	return buf;
}

void buffer_free(buffer_t **_buf)
{
	buffer_t *buf = *_buf;
	if (buf == NULL)
		return;
	*_buf = NULL;
	p_free(buf->pool, buf->data);
	p_free(buf->pool, buf);
}

void *buffer_append_space(buffer_t *buf, size_t size)
{
	/* +1 keeps room for a string's NUL */
	buffer_reserve(buf, size_add(size_add(buf->used, size), 1));
	void *p = buf->data + buf->used;
	buf->used += size;
	buf->data[buf->used] = '\0';
	return p;
}

void buffer_append(buffer_t *buf, const void *data, size_t size)
{
	if (size == 0)
		return;
	const unsigned char *src = data;
	if (src >= buf->data && src < buf->data + buf->alloc) {
		/* appending a part of itself: growing may move the data */
		size_t offset = (size_t)(src - buf->data);
		unsigned char *dest = buffer_append_space(buf, size);
		memmove(dest, buf->data + offset, size);
		return;
	}
	memcpy(buffer_append_space(buf, size), data, size);
}

void buffer_append_c(buffer_t *buf, unsigned char c)
{
	*(unsigned char *)buffer_append_space(buf, 1) = c;
}

void buffer_delete(buffer_t *buf, size_t pos, size_t size)
{
	if (pos >= buf->used)
		return;
	if (size > buf->used - pos)
		size = buf->used - pos;
	memmove(buf->data + pos, buf->data + pos + size, buf->used - pos - size);
	buf->used -= size;
	buf->data[buf->used] = '\0';
}

void buffer_set_used_size(buffer_t *buf, size_t used)
{
	buffer_reserve(buf, size_add(used, 1));
	if (used > buf->used)
		memset(buf->data + buf->used, 0, used - buf->used);
	buf->used = used;
	buf->data[used] = '\0';
}

string_t *str_new(pool_t pool, size_t init_size)
{
	return buffer_create(pool, init_size);
}

void str_free(string_t **str)
{
	buffer_free(str);
}

const char *str_c(string_t *str)
{
	return (const char *)str->data;
}

void str_append(string_t *str, const char *cstr)
{
	buffer_append(str, cstr, strlen(cstr));
}

void str_append_n(string_t *str, const void *data, size_t size)
{
	buffer_append(str, data, size);
}

void str_append_c(string_t *str, char c)
{
	buffer_append_c(str, (unsigned char)c);
}

void str_vprintfa(string_t *str, const char *fmt, va_list args)
{
	va_list args2;
	va_copy(args2, args);
	int len = vsnprintf(NULL, 0, fmt, args2);
	va_end(args2);
	if (len < 0)
		i_panic("vsnprintf failed for format %s", fmt);
	char *p = buffer_append_space(str, (size_t)len);
	/* buffer_append_space reserved room for the NUL */
	vsnprintf(p, (size_t)len + 1, fmt, args);
}

void str_printfa(string_t *str, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	str_vprintfa(str, fmt, args);
	va_end(args);
}

void str_append_utf8(string_t *str, uint32_t cp)
{
	if (cp < 0x80) {
		str_append_c(str, (char)cp);
	} else if (cp < 0x800) {
		str_append_c(str, (char)(0xc0 | (cp >> 6)));
		str_append_c(str, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		str_append_c(str, (char)(0xe0 | (cp >> 12)));
		str_append_c(str, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(str, (char)(0x80 | (cp & 0x3f)));
	} else {
		str_append_c(str, (char)(0xf0 | (cp >> 18)));
		str_append_c(str, (char)(0x80 | ((cp >> 12) & 0x3f)));
		str_append_c(str, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(str, (char)(0x80 | (cp & 0x3f)));
	}
}

void str_append_uint(string_t *str, uint64_t n)
{
	char digits[20];
	unsigned int i = sizeof(digits);
	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	buffer_append(str, digits + i, sizeof(digits) - i);
}

void str_truncate(string_t *str, size_t len)
{
	if (len < str->used)
		buffer_set_used_size(str, len);
}

void str_delete(string_t *str, size_t pos, size_t size)
{
	buffer_delete(str, pos, size);
}

char *str_dup(pool_t pool, string_t *str)
{
	return p_strndup(pool, str->data, str->used);
}
