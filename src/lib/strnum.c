/* Overflow-checked number, size and duration parsing. */
#include "strnum.h"
#include "pool.h"

#include <strings.h>

bool str_is_numeric(const char *str)
{
	if (*str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return false;
	}
	return true;
}

int str_parse_uint64(const char *str, uint64_t *num_r, const char **end_r)
{
	uint64_t n = 0;
	const char *p = str;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*num_r = n;
	*end_r = p;
	return 0;
}

int str_to_uint64(const char *str, uint64_t *num_r)
{
	const char *end;
	uint64_t n;
	/* *num_r stays untouched on failure, as with the other parsers */
	if (str_parse_uint64(str, &n, &end) < 0 || *end != '\0')
		return -1;
	*num_r = n;
	return 0;
}

int str_to_uint32(const char *str, uint32_t *num_r)
{
	uint64_t n;
	if (str_to_uint64(str, &n) < 0 || n > UINT32_MAX)
		return -1;
	*num_r = (uint32_t)n;
	return 0;
}

int str_to_uint(const char *str, unsigned int *num_r)
{
	uint32_t n;
	if (str_to_uint32(str, &n) < 0)
		return -1;
	*num_r = n;
	return 0;
}

int str_to_int64(const char *str, int64_t *num_r)
{
	bool neg = *str == '-';
	uint64_t n;
	if (str_to_uint64(str + (neg ? 1 : 0), &n) < 0)
		return -1;
	if (neg) {
		if (n > (uint64_t)INT64_MAX + 1)
			return -1;
		*num_r = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
	} else {
		if (n > INT64_MAX)
			return -1;
		*num_r = (int64_t)n;
	}
	return 0;
}

static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int str_parse_size(const char *str, uint64_t *bytes_r)
{
	uint64_t n, mul = 1;
	const char *p;
	if (str_parse_uint64(skip_spaces(str), &n, &p) < 0)
		return -1;
	p = skip_spaces(p);
	switch (*p) {
	case 'k': case 'K': mul = 1024ULL; p++; break;
	case 'm': case 'M': mul = 1024ULL * 1024; p++; break;
	case 'g': case 'G': mul = 1024ULL * 1024 * 1024; p++; break;
	case 't': case 'T': mul = 1024ULL * 1024 * 1024 * 1024; p++; break;
	default: break;
	}
	if (mul > 1 && *p == 'i')
		p++;
	if (*p == 'B' || *p == 'b')
		p++;
	p = skip_spaces(p);
	if (*p != '\0' || (n != 0 && mul > UINT64_MAX / n))
		return -1;
	*bytes_r = n * mul;
	return 0;
}

int str_parse_duration_ms(const char *str, uint64_t *msecs_r)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 },
		{ "s", 1000 }, { "sec", 1000 }, { "secs", 1000 },
		{ "second", 1000 }, { "seconds", 1000 },
		{ "m", 60000 }, { "min", 60000 }, { "mins", 60000 },
		{ "minute", 60000 }, { "minutes", 60000 },
		{ "h", 3600000 }, { "hour", 3600000 }, { "hours", 3600000 },
		{ "d", 86400000 }, { "day", 86400000 }, { "days", 86400000 },
	};
	uint64_t n, mul = 1000;
	const char *p;
	if (str_parse_uint64(skip_spaces(str), &n, &p) < 0)
		return -1;
	p = skip_spaces(p);
	if (*p != '\0') {
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		unsigned int i;
		for (i = 0; i < N_ELEMENTS(units); i++) {
			if (strlen(units[i].name) == len && strncasecmp(p, units[i].name, len) == 0)
				break;
		}
		if (i == N_ELEMENTS(units))
			return -1;
		mul = units[i].ms;
	}
	if (n != 0 && mul > UINT64_MAX / n)
		return -1;
	*msecs_r = n * mul;
	return 0;
}

const char *str_format_size(uint64_t bytes)
{
	static const char units[] = { 'T', 'G', 'M', 'k' };
	for (unsigned int i = 0; i < N_ELEMENTS(units); i++) {
		uint64_t mul = 1ULL << (10 * (4 - i));
		if (bytes != 0 && bytes % mul == 0)
			return t_strdup_printf("%llu%c", (unsigned long long)(bytes / mul), units[i]);
	}
	return t_strdup_printf("%llu", (unsigned long long)bytes);
}

const char *str_format_duration_ms(uint64_t msecs)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(units); i++) {
		if (msecs != 0 && msecs % units[i].ms == 0)
			return t_strdup_printf("%llu%s", (unsigned long long)(msecs / units[i].ms), units[i].name);
	}
	return t_strdup_printf("%llums", (unsigned long long)msecs);
}
