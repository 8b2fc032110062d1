/* The storage-free LMTP grammar: bounded command lines, command names,
 * RFC 5321 §4.1.2 paths with ESMTP parameters (SIZE RFC 1870 §6, BODY
 * RFC 6152 §2, SMTPUTF8 RFC 6531 §3.4), BDAT arguments (RFC 3030 §2) and
 * the DATA decoder (RFC 5321 §4.5.2). */
#include "lmtp-proto.h"
#include "strnum.h"

#include <strings.h>

/* --- command lines --- */

static const struct line_reader_errors lmtp_line_errors = {
	.too_long = "500 5.5.2 Line too long.",
	.nul = "500 5.5.2 Line contains a NUL byte.",
};

struct line_reader *lmtp_line_reader_create(struct istream *input, size_t max_length)
{
	return line_reader_create(input, max_length, &lmtp_line_errors);
}

static const struct {
	const char *name;
	enum lmtp_cmd cmd;
} lmtp_command_names[] = {
	{ "LHLO", LMTP_CMD_LHLO }, { "HELO", LMTP_CMD_HELO }, { "EHLO", LMTP_CMD_EHLO },
	{ "MAIL", LMTP_CMD_MAIL }, { "RCPT", LMTP_CMD_RCPT }, { "DATA", LMTP_CMD_DATA },
	{ "BDAT", LMTP_CMD_BDAT }, { "RSET", LMTP_CMD_RSET }, { "NOOP", LMTP_CMD_NOOP },
	{ "QUIT", LMTP_CMD_QUIT }, { "VRFY", LMTP_CMD_VRFY }, { "HELP", LMTP_CMD_HELP },
};

enum lmtp_cmd lmtp_proto_command_parse(const char *line, const char **args_r)
{
	size_t len = strcspn(line, " ");
	const char *args = line + len;
	while (*args == ' ')
		args++;
	*args_r = args;
	for (unsigned int i = 0; i < N_ELEMENTS(lmtp_command_names); i++) {
		if (len == 4 && strncasecmp(line, lmtp_command_names[i].name, 4) == 0)
			return lmtp_command_names[i].cmd;
	}
	return LMTP_CMD_UNKNOWN;
}

/* --- paths (RFC 5321 §4.1.2) --- */

/* atext of RFC 5322 §3.2.3; 8-bit bytes for SMTPUTF8 (RFC 6531 §3.3) */
static bool lmtp_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool lmtp_is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c >= 0x80;
}

/* Local-part = Dot-string / Quoted-string. Advances *p. */
static int lmtp_parse_localpart(const char **p, string_t *dest)
{
	const unsigned char *s = (const unsigned char *)*p;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\\') {
				s++;
				if (*s < 32 || *s > 126)
					return -1;
			} else if ((*s < 32 && *s != '\0') || *s == 127) {
				return -1;
			}
			if (*s == '\0')
				return -1;
			str_append_c(dest, (char)*s);
		}
		s++;
	} else {
		for (;;) {
			const unsigned char *start = s;
			while (lmtp_is_atext(*s))
				str_append_c(dest, (char)*s++);
			if (s == start)
				return -1;
			if (*s != '.')
				break;
			str_append_c(dest, (char)*s++);
		}
	}
	if (str_len(dest) > LMTP_PROTO_MAX_LOCALPART_LENGTH)
		return -1;
	*p = (const char *)s;
	return 0;
}

/* Domain / address-literal. Advances *p. */
static int lmtp_parse_domain(const char **p, string_t *dest)
{
	const unsigned char *s = (const unsigned char *)*p;
	if (*s == '[') {
		/* RFC 5321 §4.1.3: IPv4, IPv6 or a general literal; dcontent */
		str_append_c(dest, (char)*s++);
		while (*s >= 33 && *s <= 126 && *s != '[' && *s != ']' && *s != '\\')
			str_append_c(dest, (char)*s++);
		if (*s != ']' || str_len(dest) == 1)
			return -1;
		str_append_c(dest, (char)*s++);
	} else {
		for (;;) {
			if (!lmtp_is_letdig(*s))
				return -1;
			while (lmtp_is_letdig(*s) || *s == '-')
				str_append_c(dest, (char)*s++);
			if (s[-1] == '-')
				return -1;
			if (*s != '.')
				break;
			str_append_c(dest, (char)*s++);
		}
	}
	if (str_len(dest) > LMTP_PROTO_MAX_DOMAIN_LENGTH)
		return -1;
	*p = (const char *)s;
	return 0;
}

/* Path (RFC 5321 §4.1.2), with the source route (obsolete, RFC 5321 §C)
   skipped. null_ok allows "<>"; postmaster_ok allows "<Postmaster>". */
static int lmtp_parse_path(const char **p, pool_t pool, bool null_ok, bool postmaster_ok,
			   struct lmtp_address *addr_r)
{
	const char *s = *p;
	const char *start = s;
	string_t *local = t_str_new(64), *domain = t_str_new(64);
	if (*s++ != '<')
		return -1;
	addr_r->localpart = addr_r->domain = NULL;
	if (*s == '>') {
		if (!null_ok)
			return -1;
		*p = s + 1;
		return 0;
	}
	if (*s == '@') {
		/* A-d-l ":" */
		do {
			s++;
			str_truncate(domain, 0);
			if (lmtp_parse_domain(&s, domain) < 0)
				return -1;
		} while (*s == ',' && *++s == '@');
		if (*s++ != ':')
			return -1;
		str_truncate(domain, 0);
	}
	if (lmtp_parse_localpart(&s, local) < 0)
		return -1;
	if (*s == '>' && postmaster_ok && strcasecmp(str_c(local), "postmaster") == 0) {
		addr_r->localpart = p_strdup(pool, str_c(local));
		*p = s + 1;
		return 0;
	}
	if (*s++ != '@' || lmtp_parse_domain(&s, domain) < 0 || *s++ != '>')
		return -1;
	if ((size_t)(s - start) > LMTP_PROTO_MAX_PATH_LENGTH + 2)
		return -1;
	addr_r->localpart = p_strdup(pool, str_c(local));
	addr_r->domain = p_strdup(pool, str_c(domain));
	*p = s;
	return 0;
}

/* "FROM:" / "TO:" (case-insensitive), then the path. A space after the
   colon is tolerated: some MTAs send one (RFC 5321 §4.1.1.2 has none). */
static int lmtp_parse_path_arg(const char **args, const char *prefix, pool_t pool,
			       bool is_mail, struct lmtp_address *addr_r, const char **error_r)
{
	size_t plen = strlen(prefix);
	const char *s = *args;
	if (strncasecmp(s, prefix, plen) != 0) {
		*error_r = t_strdup_printf("501 5.5.4 Syntax: %s %s<address>",
					   is_mail ? "MAIL" : "RCPT", prefix);
		return -1;
	}
	s += plen;
	while (*s == ' ')
		s++;
	if (lmtp_parse_path(&s, pool, is_mail, !is_mail, addr_r) < 0) {
		*error_r = is_mail ? "501 5.1.7 Invalid sender address." :
			"501 5.1.3 Invalid recipient address.";
		return -1;
	}
	if (*s != '\0' && *s != ' ') {
		*error_r = "501 5.5.4 Invalid parameters.";
		return -1;
	}
	while (*s == ' ')
		s++;
	*args = s;
	return 0;
}

/* Takes the next "KEYWORD[=value]" (RFC 5321 §4.1.2 esmtp-param) off
   *args. Returns 1 with the parts, 0 at the end, -1 on bad syntax. */
static int lmtp_next_param(const char **args, const char **key_r, const char **value_r)
{
	const char *s = *args;
	if (*s == '\0')
		return 0;
	size_t len = strcspn(s, " ");
	const char *param = t_strndup(s, len);
	s += len;
	while (*s == ' ')
		s++;
	*args = s;
	const char *eq = strchr(param, '=');
	const char *key = eq == NULL ? param : t_strndup(param, (size_t)(eq - param));
	if (key[0] == '\0' || key[0] == '-')
		return -1;
	for (const unsigned char *k = (const unsigned char *)key; *k != '\0'; k++) {
		if ((!lmtp_is_letdig(*k) || *k >= 0x80) && *k != '-')
			return -1;
	}
	*key_r = key;
	*value_r = eq == NULL ? NULL : eq + 1;
	if (eq != NULL) {
		for (const unsigned char *v = (const unsigned char *)eq + 1; *v != '\0'; v++) {
			if (*v < 33 || *v == '=' || *v == 127)
				return -1;
		}
		if (eq[1] == '\0')
			return -1;
	}
	return 1;
}

static int lmtp_mail_param(const char *key, const char *value,
			   struct lmtp_mail_params *params, unsigned int *seen,
			   const char **error_r)
{
	unsigned int bit;
	if (strcasecmp(key, "SIZE") == 0) {
		bit = 1;
		/* RFC 1870 §6: size-value = 1*20DIGIT */
		if (value == NULL || strlen(value) > 20 ||
		    str_to_uint64(value, &params->size) < 0) {
			*error_r = "501 5.5.4 Invalid SIZE parameter.";
			return -1;
		}
	} else if (strcasecmp(key, "BODY") == 0) {
		bit = 2;
		if (value != NULL && strcasecmp(value, "7BIT") == 0)
			params->body = LMTP_BODY_7BIT;
		else if (value != NULL && strcasecmp(value, "8BITMIME") == 0)
			params->body = LMTP_BODY_8BITMIME;
		else {
			*error_r = "555 5.5.4 Unsupported BODY type.";
			return -1;
		}
	} else if (strcasecmp(key, "SMTPUTF8") == 0) {
		bit = 4;
		if (value != NULL) {
			*error_r = "501 5.5.4 SMTPUTF8 takes no value.";
			return -1;
		}
		params->smtputf8 = true;
	} else {
		*error_r = t_strdup_printf("555 5.5.4 Unsupported parameter %s.", key);
		return -1;
	}
	if ((*seen & bit) != 0) {
		*error_r = t_strdup_printf("501 5.5.4 Duplicate %s parameter.", key);
		return -1;
	}
	*seen |= bit;
	return 0;
}

int lmtp_proto_parse_mail(const char *args, pool_t pool, struct lmtp_address *addr_r,
			  struct lmtp_mail_params *params_r, const char **error_r)
{
	memset(params_r, 0, sizeof(*params_r));
	if (lmtp_parse_path_arg(&args, "FROM:", pool, true, addr_r, error_r) < 0)
		return -1;
	unsigned int seen = 0;
	const char *key, *value;
	int ret;
	while ((ret = lmtp_next_param(&args, &key, &value)) > 0) {
		if (lmtp_mail_param(key, value, params_r, &seen, error_r) < 0)
			return -1;
	}
	if (ret < 0) {
		*error_r = "501 5.5.4 Invalid parameters.";
		return -1;
	}
	return 0;
}

int lmtp_proto_parse_rcpt(const char *args, pool_t pool, struct lmtp_address *addr_r,
			  const char **error_r)
{
	if (lmtp_parse_path_arg(&args, "TO:", pool, false, addr_r, error_r) < 0)
		return -1;
	const char *key, *value;
	int ret = lmtp_next_param(&args, &key, &value);
	if (ret < 0) {
		*error_r = "501 5.5.4 Invalid parameters.";
		return -1;
	}
	if (ret > 0) {
		*error_r = t_strdup_printf("555 5.5.4 Unsupported parameter %s.", key);
		return -1;
	}
	return 0;
}

int lmtp_proto_parse_bdat(const char *args, uint64_t *size_r, bool *last_r,
			  const char **error_r)
{
	size_t len = strcspn(args, " ");
	const char *rest = args + len;
	while (*rest == ' ')
		rest++;
	*last_r = false;
	if (len == 0 || len > 20 || str_to_uint64(t_strndup(args, len), size_r) < 0) {
		*error_r = "501 5.5.4 Syntax: BDAT <size> [LAST]";
		return -1;
	}
	if (strcasecmp(rest, "LAST") == 0)
		*last_r = true;
	else if (*rest != '\0') {
		*error_r = "501 5.5.4 Syntax: BDAT <size> [LAST]";
		return -1;
	}
	return 0;
}

bool lmtp_proto_lhlo_name_is_valid(const char *name)
{
	if (name[0] == '\0' || strlen(name) > LMTP_PROTO_MAX_DOMAIN_LENGTH)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= 32 || *p >= 127 || *p == '(' || *p == ')')
			return false;
	}
	return true;
}

static bool lmtp_localpart_is_dot_string(const char *localpart)
{
	bool prev_dot = true;
	for (const unsigned char *p = (const unsigned char *)localpart; *p != '\0'; p++) {
		if (*p == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
		} else if (lmtp_is_atext(*p)) {
			prev_dot = false;
		} else {
			return false;
		}
	}
	return !prev_dot;
}

const char *lmtp_address_to_string(const struct lmtp_address *addr, pool_t pool)
{
	if (addr->localpart == NULL)
		return "";
	string_t *str = t_str_new(128);
	if (lmtp_localpart_is_dot_string(addr->localpart))
		str_append(str, addr->localpart);
	else {
		str_append_c(str, '"');
		for (const char *p = addr->localpart; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				str_append_c(str, '\\');
			str_append_c(str, *p);
		}
		str_append_c(str, '"');
	}
	if (addr->domain != NULL)
		str_printfa(str, "@%s", addr->domain);
	return p_strdup(pool, str_c(str));
}

void lmtp_address_split_detail(const char *localpart, char delim, pool_t pool,
			       const char **user_r, const char **detail_r)
{
	const char *d = localpart[0] == '\0' ? NULL : strchr(localpart + 1, delim);
	if (delim == '\0' || d == NULL) {
		*user_r = p_strdup(pool, localpart);
		*detail_r = NULL;
		return;
	}
	*user_r = p_strndup(pool, localpart, (size_t)(d - localpart));
	*detail_r = p_strdup(pool, d + 1);
}

/* --- DATA --- */

int lmtp_data_decode(struct lmtp_data_decoder *dec, const unsigned char *data, size_t size,
		     size_t *consumed_r, buffer_t *dest)
{
	size_t i = 0;
	while (i < size && dec->state != LMTP_DATA_END) {
		unsigned char c = data[i];
		switch (dec->state) {
		case LMTP_DATA_LINE_START:
			if (c == '.') {
				dec->state = LMTP_DATA_DOT;
				i++;
				continue;
			}
			dec->state = LMTP_DATA_MID;
			continue; /* the same byte in MID */
		case LMTP_DATA_DOT:
			if (c == '\r') {
				dec->state = LMTP_DATA_DOT_CR;
				i++;
			} else if (c == '\n') {
				/* ".\n": the bare-LF form of the end */
				dec->state = LMTP_DATA_END;
				i++;
			} else {
				/* RFC 5321 §4.5.2: the stuffed dot is dropped */
				dec->state = LMTP_DATA_MID;
			}
			continue;
		case LMTP_DATA_DOT_CR:
			if (c == '\n') {
				dec->state = LMTP_DATA_END;
				i++;
				continue;
			}
			/* ".\r" + something: a line starting with CR */
			dec->state = LMTP_DATA_CR;
			continue;
		case LMTP_DATA_CR:
			if (c == '\n') {
				buffer_append(dest, "\r\n", 2);
				dec->state = LMTP_DATA_LINE_START;
				i++;
				continue;
			}
			buffer_append_c(dest, '\r');
			dec->state = LMTP_DATA_MID;
			continue;
		case LMTP_DATA_MID: {
			/* the fast path: a whole line ending in CRLF with no other
			   CR in it is copied as it is */
			const unsigned char *lf = memchr(data + i, '\n', size - i);
			size_t end = lf == NULL ? size : (size_t)(lf - data);
			const unsigned char *cr = memchr(data + i, '\r', end - i);
			if (lf != NULL && cr == lf - 1) {
				buffer_append(dest, data + i, end + 1 - i);
				i = end + 1;
				dec->state = LMTP_DATA_LINE_START;
				continue;
			}
			/* else copy up to the first CR or LF */
			size_t n = cr != NULL ? (size_t)(cr - data) : end;
			buffer_append(dest, data + i, n - i);
			i = n;
			if (i == size)
				break;
			if (data[i] == '\r')
				dec->state = LMTP_DATA_CR;
			else {
				buffer_append(dest, "\r\n", 2);
				dec->state = LMTP_DATA_LINE_START;
			}
			i++;
			continue;
		}
		case LMTP_DATA_END:
			break;
		}
	}
	*consumed_r = i;
	return dec->state == LMTP_DATA_END ? 1 : 0;
}
