/* Growable byte buffers and NUL-terminated strings built on them.
 * A string_t is a buffer_t whose data is always NUL-terminated. */
#ifndef TERN_BUFFER_H
#define TERN_BUFFER_H

#include "pool.h"

typedef struct buffer {
	pool_t pool;
	unsigned char *data;
	size_t used;  /* bytes in use, not counting a string's NUL */
	size_t alloc; /* bytes allocated */
} buffer_t;

typedef buffer_t string_t;

buffer_t *buffer_create(pool_t pool, size_t init_size);
/* Frees the buffer and its data when allocated from the system pool;
 * *buf becomes NULL. Accepts NULL. */
void buffer_free(buffer_t **buf);
/* data may point into buf itself. */
void buffer_append(buffer_t *buf, const void *data, size_t size);
void buffer_append_c(buffer_t *buf, unsigned char c);
/* Returns a pointer to size new bytes at the end (uninitialised). */
void *buffer_append_space(buffer_t *buf, size_t size);
/* Removes size bytes starting at pos. */
void buffer_delete(buffer_t *buf, size_t pos, size_t size);
void buffer_set_used_size(buffer_t *buf, size_t used);
static inline void buffer_clear(buffer_t *buf) { buffer_set_used_size(buf, 0); }

string_t *str_new(pool_t pool, size_t init_size);
#define t_str_new(size) str_new(t_pool(), size)
void str_free(string_t **str);
const char *str_c(string_t *str);
static inline size_t str_len(const string_t *str) { return str->used; }
static inline const unsigned char *str_data(const string_t *str) { return str->data; }
void str_append(string_t *str, const char *cstr);
void str_append_n(string_t *str, const void *data, size_t size);
void str_append_c(string_t *str, char c);
/* The arguments must not point into str. */
void str_printfa(string_t *str, const char *fmt, ...) ATTR_PRINTF(2, 3);
void str_vprintfa(string_t *str, const char *fmt, va_list args) ATTR_PRINTF(2, 0);
/* Appends the UTF-8 encoding of a Unicode code point (<= 0x10FFFF). */
void str_append_utf8(string_t *str, uint32_t cp);
/* Appends n in decimal (hot paths: no printf). */
void str_append_uint(string_t *str, uint64_t n);
void str_truncate(string_t *str, size_t len);
void str_delete(string_t *str, size_t pos, size_t size);
/* Duplicates the content into pool. */
char *str_dup(pool_t pool, string_t *str);

#endif
