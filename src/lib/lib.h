/* Common base header for Tern: standard includes, attribute macros, fatal
 * error handling and the small helpers every file uses. */
#ifndef TERN_LIB_H
#define TERN_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define ATTR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ATTR_NORETURN __attribute__((noreturn))
#define ATTR_UNUSED __attribute__((unused))
#define ATTR_NULL_TERMINATED __attribute__((sentinel))
#define ATTR_WARN_UNUSED __attribute__((warn_unused_result))

#define N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))
#define I_MIN(a, b) ((a) < (b) ? (a) : (b))
#define I_MAX(a, b) ((a) > (b) ? (a) : (b))

#define i_assert(expr)                                                        \
	do {                                                                  \
		if (__builtin_expect(!(expr), 0))                             \
			i_panic("assertion failed: %s (%s:%d)", #expr,        \
				__FILE__, __LINE__);                          \
	} while (0)

#define i_unreached() i_panic("unreachable code reached (%s:%d)", __FILE__, __LINE__)

/* Logs and aborts. Used for programming errors only, never for bad input. */
void i_panic(const char *fmt, ...) ATTR_PRINTF(1, 2) ATTR_NORETURN;
/* Logs and exits with status 89. Used when the process cannot go on
 * (out of memory, broken startup). */
void i_fatal(const char *fmt, ...) ATTR_PRINTF(1, 2) ATTR_NORETURN;
/* The single out-of-memory handler. */
void i_fatal_oom(size_t size) ATTR_NORETURN;

/* malloc family that never returns NULL (calls i_fatal_oom). */
void *i_malloc(size_t size);
void *i_zalloc(size_t size);
void *i_realloc(void *mem, size_t size);
char *i_strdup(const char *str);
#define i_free(mem) do { free(mem); (mem) = NULL; } while (0)

/* Overflow-checked size arithmetic; overflow is a fatal programming error. */
static inline size_t size_add(size_t a, size_t b)
{
	size_t r;
	if (__builtin_add_overflow(a, b, &r))
		i_panic("size_add overflow");
	return r;
}

static inline size_t size_mul(size_t a, size_t b)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r))
		i_panic("size_mul overflow");
	return r;
}

/* Closes fd if it is not -1 and sets it to -1; logs close() errors. */
void i_close_fd(int *fd);
/* Writes all of data to a blocking fd (a file), retrying short writes and
   EINTR. Returns 0 or -1 with errno set. */
int i_write_full(int fd, const void *data, size_t size);

#endif
