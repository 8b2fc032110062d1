/* Atoms, quoted strings and literals for IMAP server output (RFC 9051 §4.1,
 * §9). */
#include "imap-quote.h"

#include <strings.h>

/* ATOM-CHAR of RFC 9051 §9 without '[' and ']', which some clients treat
   specially in atoms. */
static bool imap_quote_is_atom_char(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\[]", c) == NULL;
}

static bool imap_quote_is_atom(const char *str)
{
	if (*str == '\0' || strcasecmp(str, "NIL") == 0)
		return false;
	for (; *str != '\0'; str++) {
		if (!imap_quote_is_atom_char((unsigned char)*str))
			return false;
	}
	return true;
}

/* TEXT-CHAR (7-bit, no CR, LF or NUL) and not too long. */
static bool imap_quote_can_quote(const unsigned char *data, size_t size)
{
	if (size > IMAP_QUOTE_MAX_QUOTED_LEN)
		return false;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0' || data[i] == '\r' || data[i] == '\n' ||
		    data[i] >= 0x80)
			return false;
	}
	return true;
}

static void imap_append_quoted_data(string_t *dest, const unsigned char *data,
				    size_t size)
{
	str_append_c(dest, '"');
	for (size_t i = 0; i < size; i++) {
		unsigned char c = data[i];
		if (c == '"' || c == '\\')
			str_append_c(dest, '\\');
		else if (c == '\r' || c == '\n')
			c = ' ';
		str_append_c(dest, (char)c);
	}
	str_append_c(dest, '"');
}

static void imap_append_literal(string_t *dest, const unsigned char *data, size_t size)
{
	str_printfa(dest, "{%zu}\r\n", size);
	if (memchr(data, '\0', size) == NULL) {
		str_append_n(dest, data, size);
		return;
	}
	for (size_t i = 0; i < size; i++)
		str_append_c(dest, data[i] == '\0' ? (char)0x80 : (char)data[i]);
}

void imap_append_quoted(string_t *dest, const char *str)
{
	imap_append_quoted_data(dest, (const unsigned char *)str, strlen(str));
}

void imap_append_string(string_t *dest, const void *data, size_t size)
{
	if (imap_quote_can_quote(data, size))
		imap_append_quoted_data(dest, data, size);
	else
		imap_append_literal(dest, data, size);
}

void imap_append_astring(string_t *dest, const char *str)
{
	if (imap_quote_is_atom(str))
		str_append(dest, str);
	else
		imap_append_string(dest, str, strlen(str));
}

void imap_append_nstring(string_t *dest, const char *str)
{
	if (str == NULL)
		str_append(dest, "NIL");
	else
		imap_append_string(dest, str, strlen(str));
}

bool imap_resp_code_text_is_valid(const char *text)
{
	if (*text == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == ']')
			return false;
	}
	return true;
}
