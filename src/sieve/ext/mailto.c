/* The mailto URI of RFC 6068 as a notification method (RFC 5436):
 * sieve_mailto_parse() checks the syntax and splits a URI into recipients
 * and header fields, for enotify's compile-time and run-time checks and
 * for the caller composing the notification. */
#include "sieve-run.h"
#include "mime-address.h"

#include <strings.h>

/* RFC 5436 §2.2: header fields the notifier controls itself; the URI's
   values for them are ignored (they could forge the notification's
   origin or its auto-submitted marking) */
static const char *const mailto_ignored_headers[] = {
	"from", "sender", "reply-to", "date", "message-id", "received",
	"return-path", "delivered-to", "auto-submitted", "precedence",
	"mime-version", "content-type", "content-transfer-encoding",
	"x-sieve", "importance", "x-priority", "in-reply-to", "references",
	NULL
};

static int mailto_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 6068 §2 qchar without the pct-encoding: unreserved / some-delims */
static bool mailto_qchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("-._~!$'()*+,;:@", c) != NULL);
}

/* Percent-decodes str[0..len); NULL on a character outside qchar (stop
   and '=' are allowed where the caller splits on them), a bad escape or an
   encoded NUL. */
static const char *mailto_decode(const char *str, size_t len, const char *also_allowed)
{
	string_t *dest = t_str_new(len + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c != '%') {
			if (!mailto_qchar(c) && (c == '\0' || strchr(also_allowed, c) == NULL))
				return NULL;
			str_append_c(dest, (char)c);
			continue;
		}
		if (i + 2 >= len)
			return NULL;
		int hi = mailto_hexval(str[i + 1]), lo = mailto_hexval(str[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return NULL;
		str_append_c(dest, (char)(hi * 16 + lo));
		i += 2;
	}
	return str_c(dest);
}

/* One address of a list: valid RFC 5322 with a domain; *addr_r the
   addr-spec. */
static bool mailto_address(const char *text, const char **addr_r)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	bool quoted = false;

	/* no groups (RFC 5322 §3.4 "name: a@b;") or routes */
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\\' && quoted && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == ';' || *p == ':'))
			return false;
	}
	mime_address_parse(t_pool(), text, strlen(text), 2, MIME_ADDRESS_FLAG_STRICT_DOTS, &list);
	if (list.count != 1 || list.head->invalid || list.head->domain == NULL ||
	    list.head->mailbox[0] == '\0' || list.head->domain[0] == '\0')
		return false;
	*addr_r = t_strdup_printf("%s@%s", list.head->mailbox, list.head->domain);
	return true;
}

static int mailto_add_recipient(struct sieve_mailto *mailto, pool_t pool, const char *text,
				enum sieve_mailto_field field, const char **error_r)
{
	const char *addr;
	size_t start = 0, end = strlen(text);

	while (start < end && (text[start] == ' ' || text[start] == '\t'))
		start++;
	while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
		end--;
	text = t_strndup(text + start, end - start);
	if (!mailto_address(text, &addr)) {
		*error_r = t_strdup_printf("invalid recipient '%s'", text);
		return -1;
	}
	/* RFC 5436 §2.7 keeps one notification per recipient: later
	   duplicates (in To, Cc or Bcc) are dropped */
	for (unsigned int i = 0; i < mailto->recipients.count; i++) {
		if (strcasecmp(mailto->recipients.v[i].address, addr) == 0)
			return 0;
	}
	if (mailto->recipients.count >= SIEVE_MAILTO_MAX_RECIPIENTS) {
		*error_r = "too many recipients";
		return -1;
	}
	struct sieve_mailto_recipient rcpt = {
		.address = p_strdup(pool, addr), .text = p_strdup(pool, text), .field = field,
	};
	array_push(&mailto->recipients, rcpt);
	return 0;
}

/* Splits an address list at the commas outside quotes, comments and
   angle brackets. */
static int mailto_add_list(struct sieve_mailto *mailto, pool_t pool, const char *value,
			   enum sieve_mailto_field field, const char **error_r)
{
	const char *start = value;
	bool quoted = false;
	int depth = 0;

	for (const char *p = value;; p++) {
		if (*p == '\0' || (*p == ',' && !quoted && depth == 0)) {
			if (mailto_add_recipient(mailto, pool, t_strndup(start, p - start), field,
						 error_r) < 0)
				return -1;
			if (*p == '\0')
				return 0;
			start = p + 1;
		} else if (*p == '\\' && quoted && p[1] != '\0') {
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (!quoted && (*p == '<' || *p == '(')) {
			depth++;
		} else if (!quoted && (*p == '>' || *p == ')') && depth > 0) {
			depth--;
		}
	}
}

/* RFC 5322 §2.2 field-name: printable US-ASCII except ':' */
static bool mailto_field_name_valid(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++) {
		if ((unsigned char)*name < 33 || (unsigned char)*name > 126 || *name == ':')
			return false;
	}
	return true;
}

static int mailto_add_hfield(struct sieve_mailto *mailto, pool_t pool, const char *name,
			     const char *value, const char **error_r)
{
	if (!mailto_field_name_valid(name)) {
		*error_r = t_strdup_printf("invalid header field name '%s'", name);
		return -1;
	}
	if (strcasecmp(name, "body") == 0) {
		mailto->body = p_strdup(pool, value);
		return 0;
	}
	if (strpbrk(value, "\r\n") != NULL) {
		*error_r = t_strdup_printf("line break in header field '%s'", name);
		return -1;
	}
	if (strcasecmp(name, "to") == 0)
		return value[0] == '\0' ? 0 : mailto_add_list(mailto, pool, value, SIEVE_MAILTO_TO, error_r);
	if (strcasecmp(name, "cc") == 0)
		return value[0] == '\0' ? 0 : mailto_add_list(mailto, pool, value, SIEVE_MAILTO_CC, error_r);
	if (strcasecmp(name, "bcc") == 0)
		return value[0] == '\0' ? 0 : mailto_add_list(mailto, pool, value, SIEVE_MAILTO_BCC, error_r);
	if (strcasecmp(name, "subject") == 0) {
		mailto->subject = p_strdup(pool, value);
		return 0;
	}
	for (unsigned int i = 0; mailto_ignored_headers[i] != NULL; i++) {
		if (strcasecmp(name, mailto_ignored_headers[i]) == 0)
			return 0;
	}
	if (mailto->headers.count >= SIEVE_MAILTO_MAX_HEADERS) {
		*error_r = "too many header fields";
		return -1;
	}
	struct sieve_mailto_header hdr = {
		.name = p_strdup(pool, name), .value = p_strdup(pool, value),
	};
	array_push(&mailto->headers, hdr);
	return 0;
}

static int mailto_parse_hfields(struct sieve_mailto *mailto, pool_t pool, const char *p,
				const char **error_r)
{
	while (*p != '\0') {
		const char *amp = strchr(p, '&'), *end = amp == NULL ? p + strlen(p) : amp;
		const char *eq = memchr(p, '=', end - p);

		if (eq == NULL) {
			*error_r = "header field without '='";
			return -1;
		}
		const char *name = mailto_decode(p, eq - p, "");
		const char *value = mailto_decode(eq + 1, end - eq - 1, "");
		if (name == NULL || value == NULL) {
			*error_r = t_strdup_printf("invalid character in header field '%s'",
						   t_strndup(p, end - p));
			return -1;
		}
		if (mailto_add_hfield(mailto, pool, name, value, error_r) < 0)
			return -1;
		p = amp == NULL ? end : amp + 1;
	}
	return 0;
}

int sieve_mailto_parse(pool_t pool, const char *uri, struct sieve_mailto **mailto_r,
		       const char **error_r)
{
	struct sieve_mailto *mailto = p_new(pool, struct sieve_mailto, 1);
	const char *query, *to;

	if (strncasecmp(uri, "mailto:", 7) != 0) {
		*error_r = "not a mailto URI";
		return -1;
	}
	uri += 7;
	array_init(&mailto->recipients, pool, 4);
	array_init(&mailto->headers, pool, 4);
	query = strchr(uri, '?');
	/* RFC 6068 §2: the to part is a comma-separated addr-spec list;
	   Pigeonhole and mailers alike split at encoded commas too */
	to = mailto_decode(uri, query == NULL ? strlen(uri) : (size_t)(query - uri), "");
	if (to == NULL) {
		*error_r = "invalid character in recipient part";
		return -1;
	}
	if (*to != '\0' && mailto_add_list(mailto, pool, to, SIEVE_MAILTO_TO, error_r) < 0)
		return -1;
	if (query != NULL && mailto_parse_hfields(mailto, pool, query + 1, error_r) < 0)
		return -1;
	if (mailto->recipients.count == 0) {
		*error_r = "no recipient";
		return -1;
	}
	*mailto_r = mailto;
	return 0;
}
