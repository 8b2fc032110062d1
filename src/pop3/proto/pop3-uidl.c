/* Expanding UIDL templates (RFC 1939 §7 unique-ids). */
#include "pop3-uidl.h"

static const char *pop3_uidl_value(char var, bool hex, const struct pop3_uidl_vars *vars)
{
	switch (var) {
	case 'u':
		return t_strdup_printf(hex ? "%x" : "%u", vars->uid);
	case 'v':
		return t_strdup_printf(hex ? "%x" : "%u", vars->uidvalidity);
	case 'g':
		return vars->guid == NULL ? "" : vars->guid;
	case '%':
		return "%";
	}
	return "";
}

static void pop3_uidl_append(string_t *dest, const char *value, unsigned int width,
			     bool zero_pad, bool lower, bool upper)
{
	size_t len = strlen(value);
	if (zero_pad) {
		for (size_t i = len; i < width; i++)
			str_append_c(dest, '0');
	} else if (width > 0 && len > width) {
		len = width;
	}
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (lower && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		else if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		str_append_c(dest, c);
	}
}

void pop3_uidl_expand(string_t *dest, const char *format, const struct pop3_uidl_vars *vars)
{
	for (const char *p = format; *p != '\0'; p++) {
		if (*p != '%') {
			str_append_c(dest, *p);
			continue;
		}
		p++;
		bool zero_pad = *p == '0', hex = false, lower = false, upper = false;
		unsigned int width = 0;
		while (*p >= '0' && *p <= '9') {
			if (width < 1000)
				width = width * 10 + (unsigned int)(*p - '0');
			p++;
		}
		for (;; p++) {
			if (*p == 'X')
				hex = true;
			else if (*p == 'L')
				lower = true;
			else if (*p == 'U')
				upper = true;
			else
				break;
		}
		if (*p == '\0')
			break;
		pop3_uidl_append(dest, pop3_uidl_value(*p, hex, vars), width, zero_pad,
				 lower, upper);
	}
}
