/* Splitting POP3 command lines (RFC 1939 §3, RFC 2449 §4). */
#include "pop3-command.h"

#define POP3_PRINTABLE_MAX 40

static bool is_keyword_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int pop3_command_parse(const char *line, struct pop3_command_line *cmd_r)
{
	size_t len = 0;
	while (is_keyword_char(line[len]))
		len++;
	if (len == 0 || len >= sizeof(cmd_r->name) ||
	    (line[len] != '\0' && line[len] != ' '))
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		cmd_r->name[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	cmd_r->name[len] = '\0';
	cmd_r->rest = line[len] == ' ' ? line + len + 1 : "";
	return 1;
}

unsigned int pop3_command_split_args(const char *rest, pool_t pool,
				     const char *args_r[POP3_MAX_ARGS])
{
	unsigned int count = 0;
	const char *p = rest;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return count;
		const char *start = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (count == POP3_MAX_ARGS)
			return count + 1;
		args_r[count++] = p_strndup(pool, start, (size_t)(p - start));
	}
}

int pop3_parse_number(const char *str, uint32_t *num_r)
{
	uint64_t num = 0;
	if (*str == '\0')
		return -1;
	for (const char *p = str; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		num = num * 10 + (uint64_t)(*p - '0');
		if (num > UINT32_MAX)
			return -1;
	}
	*num_r = (uint32_t)num;
	return 0;
}

const char *pop3_printable(const char *str)
{
	size_t len = 0;
	for (; str[len] != '\0'; len++) {
		if (str[len] < ' ' || str[len] > '~' || len >= POP3_PRINTABLE_MAX)
			return "(unprintable)";
	}
	return str;
}
