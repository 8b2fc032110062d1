/* Fatal error handling and never-failing allocation wrappers. */
#include "lib.h"
#include "log.h"

#include <errno.h>
#include <unistd.h>

void i_fatal_oom(size_t size)
{
	/* avoid allocating: write directly */
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "level=fatal event=out_of_memory size=%zu\n", size);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nothing more we can do */
	}
	_exit(83);
}

void *i_malloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);
	if (p == NULL)
		i_fatal_oom(size);
	return p;
}

void *i_zalloc(size_t size)
{
	void *p = calloc(1, size == 0 ? 1 : size);
	if (p == NULL)
		i_fatal_oom(size);
	return p;
}

void *i_realloc(void *mem, size_t size)
{
	void *p = realloc(mem, size == 0 ? 1 : size);
	if (p == NULL)
		i_fatal_oom(size);
	return p;
}

char *i_strdup(const char *str)
{
	if (str == NULL)
		return NULL;
	char *p = strdup(str);
	if (p == NULL)
		i_fatal_oom(strlen(str));
	return p;
}

static void log_fatal_msg(enum log_level level, const char *event, const char *fmt, va_list args)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, args);
	/* quote by hand: log_value() allocates and we may be out of memory */
	for (char *p = msg; *p != '\0'; p++) {
		if (*p == '"' || (unsigned char)*p < 0x20)
			*p = '\'';
	}
	log_message(level, NULL, event, "msg=\"%s\"", msg);
}

void i_panic(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	log_fatal_msg(LOG_LEVEL_PANIC, "panic", fmt, args);
	va_end(args);
	abort();
}

void i_fatal(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	log_fatal_msg(LOG_LEVEL_FATAL, "fatal", fmt, args);
	va_end(args);
	exit(89);
}

void i_close_fd(int *fd)
{
	if (*fd == -1)
		return;
	if (close(*fd) < 0 && errno != EINTR)
		log_error(NULL, "close", "fd=%d error=\"%s\"", *fd, strerror(errno));
	*fd = -1;
}

int i_write_full(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;
	while (size > 0) {
		ssize_t ret = write(fd, p, size);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += ret;
		size -= (size_t)ret;
	}
	return 0;
}
