/* Dovecot auth protocol framing: tab-escaping (\001 as the escape
 * character), field splitting and bounded line reading. */
#include "auth-client-proto.h"

#define AUTH_PROTO_ESCAPE_CHAR '\001'

void auth_proto_escape(string_t *dest, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case AUTH_PROTO_ESCAPE_CHAR:
			str_append_c(dest, AUTH_PROTO_ESCAPE_CHAR);
			str_append_c(dest, '1');
			break;
		case '\t':
			str_append_c(dest, AUTH_PROTO_ESCAPE_CHAR);
			str_append_c(dest, 't');
			break;
		case '\r':
			str_append_c(dest, AUTH_PROTO_ESCAPE_CHAR);
			str_append_c(dest, 'r');
			break;
		case '\n':
			str_append_c(dest, AUTH_PROTO_ESCAPE_CHAR);
			str_append_c(dest, 'n');
			break;
		default:
			str_append_c(dest, *p);
			break;
		}
	}
}

int auth_proto_unescape(char *value)
{
	char *src = value, *dest = value;

	while (*src != '\0') {
		if (*src != AUTH_PROTO_ESCAPE_CHAR) {
			*dest++ = *src++;
			continue;
		}
		src++;
		switch (*src) {
		case '\0':
			/* a lone escape at the end: nothing follows */
			continue;
		case '0':
			return -1;
		case '1':
			*dest++ = AUTH_PROTO_ESCAPE_CHAR;
			break;
		case 't':
			*dest++ = '\t';
			break;
		case 'r':
			*dest++ = '\r';
			break;
		case 'n':
			*dest++ = '\n';
			break;
		default:
			*dest++ = *src;
			break;
		}
		src++;
	}
	*dest = '\0';
	return 0;
}

int auth_proto_split(char *line, const char **args, unsigned int max_args)
{
	unsigned int count = 0;
	char *p = line;

	for (;;) {
		if (count == max_args)
			return -1;
		char *tab = strchr(p, '\t');
		if (tab != NULL)
			*tab = '\0';
		if (auth_proto_unescape(p) < 0)
			return -1;
		args[count++] = p;
		if (tab == NULL)
			return (int)count;
		p = tab + 1;
	}
}

int auth_proto_next_line(struct istream *input, size_t max_length, char **line_r,
			 const char **error_r)
{
	size_t size;
	const unsigned char *data = i_stream_get_data(input, &size);
	const unsigned char *lf = memchr(data, '\n', size);

	if (lf == NULL) {
		if (size > max_length) {
			*error_r = "line too long";
			return -1;
		}
		return 0;
	}
	if ((size_t)(lf - data) > max_length) {
		*error_r = "line too long";
		return -1;
	}
	if (memchr(data, '\0', (size_t)(lf - data)) != NULL) {
		*error_r = "NUL in line";
		return -1;
	}
	*line_r = i_stream_next_line(input);
	i_assert(*line_r != NULL);
	return 1;
}

const char *auth_proto_arg_value(const char *arg, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(arg, key, len) != 0 || arg[len] != '=')
		return NULL;
	return arg + len + 1;
}

void auth_proto_cookie_hex(const unsigned char *bytes, char hex[AUTH_PROTO_COOKIE_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned int i = 0; i < AUTH_PROTO_COOKIE_HEX_LEN / 2; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	hex[AUTH_PROTO_COOKIE_HEX_LEN] = '\0';
}

bool auth_proto_cookie_is_valid(const char *cookie)
{
	size_t len = strlen(cookie);

	return len == AUTH_PROTO_COOKIE_HEX_LEN &&
		strspn(cookie, "0123456789abcdef") == len;
}
