/* key=value event logging to stderr or syslog. */
#include "log.h"
#include "pool.h"
#include "buffer.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_service = "ternd";
static enum log_target log_target_cur = LOG_TARGET_STDERR;
static enum log_level log_min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",   [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_FATAL] = "fatal",   [LOG_LEVEL_PANIC] = "panic",
};

void log_init(const char *service, enum log_target target, enum log_level min_level)
{
	log_service = service;
	log_min_level = min_level;
	if (log_target_cur == LOG_TARGET_SYSLOG && target != LOG_TARGET_SYSLOG)
		closelog();
	log_target_cur = target;
	if (target == LOG_TARGET_SYSLOG)
		openlog("tern", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_service(const char *service)
{
	log_service = service;
}

void log_set_level(enum log_level min_level)
{
	log_min_level = min_level;
}

enum log_level log_get_level(void)
{
	return log_min_level;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (unsigned int i = 0; i <= LOG_LEVEL_ERROR; i++) {
		if (strcmp(level_names[i], name) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

const char *log_value(const char *value)
{
	if (value == NULL)
		return "\"\"";
	bool quote = value[0] == '\0';
	for (const char *p = value; *p != '\0' && !quote; p++) {
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20 || *p == 0x7f)
			quote = true;
	}
	if (!quote)
		return value;
	string_t *str = t_str_new(strlen(value) + 8);
	str_append_c(str, '"');
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			str_append_c(str, '\\');
			str_append_c(str, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			str_printfa(str, "\\x%02x", *p);
		} else {
			str_append_c(str, (char)*p);
		}
	}
	str_append_c(str, '"');
	return str_c(str);
}

void log_vmessage(enum log_level level, const struct log_ctx *ctx, const char *event,
		  const char *fmt, va_list args)
{
	if (level < log_min_level)
		return;
	/* Use a stack buffer so that logging works even while out of memory
	   or before pools exist; long lines are truncated. */
	char line[8192];
	size_t pos = 0;
#define APPENDF(...) do { \
		if (pos < sizeof(line)) { \
			int n_ = snprintf(line + pos, sizeof(line) - pos, __VA_ARGS__); \
			if (n_ > 0) pos += (size_t)n_; \
		} } while (0)
	if (log_target_cur == LOG_TARGET_STDERR) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		APPENDF("%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000);
	}
	APPENDF("level=%s service=%s pid=%ld", level_names[level], log_service, (long)getpid());
	if (ctx != NULL) {
		if (ctx->session != NULL)
			APPENDF(" session=%s", ctx->session);
		if (ctx->remote != NULL)
			APPENDF(" remote=%s", ctx->remote);
		if (ctx->user != NULL)
			APPENDF(" user=%s", log_value(ctx->user));
	}
	APPENDF(" event=%s", event);
	if (fmt != NULL && fmt[0] != '\0') {
		APPENDF(" ");
		if (pos < sizeof(line)) {
			int n = vsnprintf(line + pos, sizeof(line) - pos, fmt, args);
			if (n > 0)
				pos += (size_t)n;
		}
	}
#undef APPENDF
	if (pos >= sizeof(line) - 1)
		pos = sizeof(line) - 2;
	if (log_target_cur == LOG_TARGET_SYSLOG) {
		static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT };
		line[pos] = '\0';
		syslog(prio[level], "%s", line);
	} else {
		line[pos++] = '\n';
		ssize_t ret = write(STDERR_FILENO, line, pos);
		(void)ret;
	}
}

void log_message(enum log_level level, const struct log_ctx *ctx, const char *event,
		 const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	log_vmessage(level, ctx, event, fmt, args);
	va_end(args);
}
