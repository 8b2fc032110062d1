/* Logging: one line per event, as key=value fields:
 *   level=info service=imap pid=42 session=Ab3x remote=127.0.0.1 user=demo event=login mech=PLAIN
 * to stderr (foreground) or syslog. Values with spaces or quotes are quoted
 * by log_value(). */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include "lib.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSLOG,
};

/* Context fields common to a connection; any may be NULL. */
struct log_ctx {
	const char *session;
	const char *remote;
	const char *user;
};

void log_init(const char *service, enum log_target target, enum log_level min_level);
void log_set_service(const char *service);
void log_set_level(enum log_level min_level);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warning", "error". Returns -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);
const char *log_level_name(enum log_level level);

/* fmt produces further "key=value" fields (may be NULL). */
void log_message(enum log_level level, const struct log_ctx *ctx, const char *event,
		 const char *fmt, ...) ATTR_PRINTF(4, 5);
void log_vmessage(enum log_level level, const struct log_ctx *ctx, const char *event,
		  const char *fmt, va_list args) ATTR_PRINTF(4, 0);

#define log_debug(ctx, event, ...) \
	do { if (log_get_level() <= LOG_LEVEL_DEBUG) log_message(LOG_LEVEL_DEBUG, ctx, event, __VA_ARGS__); } while (0)
#define log_info(ctx, event, ...) log_message(LOG_LEVEL_INFO, ctx, event, __VA_ARGS__)
#define log_warning(ctx, event, ...) log_message(LOG_LEVEL_WARNING, ctx, event, __VA_ARGS__)
#define log_error(ctx, event, ...) log_message(LOG_LEVEL_ERROR, ctx, event, __VA_ARGS__)

/* Returns value quoted for a log field if it needs quoting (spaces, quotes,
 * '=', control characters or empty), else value itself. Temporary memory. */
const char *log_value(const char *value);

#endif
