/* RFC 5322 §3.2 lexical tokens and RFC 2045 §5.1 tokens. */
#include "mime-rfc822.h"
#include "mime-charset.h"

void mime_rfc822_init(struct mime_rfc822_parser *parser, const void *data,
		      size_t size, string_t *last_comment)
{
	parser->data = data;
	parser->end = parser->data + size;
	parser->last_comment = last_comment;
	if (last_comment != NULL)
		str_truncate(last_comment, 0);
}

bool mime_rfc822_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

bool mime_rfc822_is_token_char(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= 0x20 || c == 0x7F)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Appends quoted or comment text: folding line breaks are removed (the
   whitespace after them stays), NULs become U+FFFD. */
static void rfc822_append_text(string_t *dest, const unsigned char *p, size_t size)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		if (p[i] != '\0' && p[i] != '\n' && p[i] != '\r')
			continue;
		str_append_n(dest, p + start, i - start);
		if (p[i] == '\0')
			str_append(dest, MIME_UTF8_REPLACEMENT);
		else if (p[i] == '\r' && (i + 1 == size || p[i + 1] != '\n'))
			str_append_c(dest, '\r'); /* a lone CR is text */
		start = i + 1;
	}
	str_append_n(dest, p + start, size - start);
}

/* At the opening char: scans to the matching close char, handling
   quoted-pairs. Appends the unescaped content to dest (if not NULL).
   Returns 0 with data after the close char, or -1 if unterminated. */
static int rfc822_scan_quoted(struct mime_rfc822_parser *parser, unsigned char open,
			      unsigned char close, string_t *dest)
{
	const unsigned char *start = ++parser->data;
	int level = 1;

	for (; parser->data < parser->end; parser->data++) {
		unsigned char c = *parser->data;

		if (c == '\\') {
			if (parser->data + 1 >= parser->end)
				break;
			/* obs-qp: a backslash before CR, LF or NUL is kept
			   as text rather than escaping them */
			c = parser->data[1];
			if (c == '\r' || c == '\n' || c == '\0')
				continue;
			if (dest != NULL)
				rfc822_append_text(dest, start, (size_t)(parser->data - start));
			start = ++parser->data;
			continue;
		}
		if (c == open && open != close)
			level++;
		else if (c == close && --level == 0) {
			if (dest != NULL)
				rfc822_append_text(dest, start, (size_t)(parser->data - start));
			parser->data++;
			return 0;
		}
	}
	return -1;
}

int mime_rfc822_skip_cfws(struct mime_rfc822_parser *parser)
{
	while (parser->data < parser->end) {
		unsigned char c = *parser->data;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			parser->data++;
			continue;
		}
		if (c != '(')
			break;
		if (parser->last_comment != NULL)
			str_truncate(parser->last_comment, 0);
		if (rfc822_scan_quoted(parser, '(', ')', parser->last_comment) < 0)
			return -1;
	}
	return parser->data < parser->end ? 1 : 0;
}

int mime_rfc822_parse_atom(struct mime_rfc822_parser *parser, string_t *dest)
{
	const unsigned char *start = parser->data;

	if (parser->data >= parser->end || !mime_rfc822_is_atext(*parser->data))
		return -1;
	while (parser->data < parser->end && mime_rfc822_is_atext(*parser->data))
		parser->data++;
	str_append_n(dest, start, (size_t)(parser->data - start));
	return mime_rfc822_skip_cfws(parser);
}

int mime_rfc822_parse_dot_atom(struct mime_rfc822_parser *parser, string_t *dest)
{
	int ret;

	for (;;) {
		if ((ret = mime_rfc822_parse_atom(parser, dest)) <= 0)
			return ret;
		if (*parser->data != '.')
			return 1;
		parser->data++;
		str_append_c(dest, '.');
		/* a dot must be followed by another atom */
		if (mime_rfc822_skip_cfws(parser) <= 0)
			return -1;
	}
}

int mime_rfc822_parse_quoted_string(struct mime_rfc822_parser *parser,
				    string_t *dest)
{
	i_assert(parser->data < parser->end && *parser->data == '"');
	if (rfc822_scan_quoted(parser, '"', '"', dest) < 0)
		return -1;
	return mime_rfc822_skip_cfws(parser);
}

/* A run of atext and dots (obs-phrase allows dots in phrases), possibly
   empty, then CFWS. */
static int rfc822_parse_atom_or_dots(struct mime_rfc822_parser *parser,
				     string_t *dest)
{
	const unsigned char *start = parser->data;

	while (parser->data < parser->end &&
	       (mime_rfc822_is_atext(*parser->data) || *parser->data == '.'))
		parser->data++;
	str_append_n(dest, start, (size_t)(parser->data - start));
	return mime_rfc822_skip_cfws(parser);
}

int mime_rfc822_parse_phrase(struct mime_rfc822_parser *parser, string_t *dest)
{
	int ret;

	if (parser->data >= parser->end)
		return 0;
	if (*parser->data == '.')
		return -1;
	for (;;) {
		if (*parser->data == '"')
			ret = mime_rfc822_parse_quoted_string(parser, dest);
		else
			ret = rfc822_parse_atom_or_dots(parser, dest);
		if (ret <= 0)
			return ret;
		unsigned char c = *parser->data;
		if (!mime_rfc822_is_atext(c) && c != '"' && c != '.')
			return 1;
		str_append_c(dest, ' ');
	}
}

/* domain-literal, brackets and backslashes kept as written. */
static int rfc822_parse_domain_literal(struct mime_rfc822_parser *parser,
				       string_t *dest)
{
	const unsigned char *start = parser->data;

	for (parser->data++; parser->data < parser->end; parser->data++) {
		unsigned char c = *parser->data;

		if (c == '[')
			return -1;
		if (c == '\\' && parser->data + 1 < parser->end &&
		    parser->data[1] != '\r' && parser->data[1] != '\n' &&
		    parser->data[1] != '\0') {
			parser->data++;
			continue;
		}
		if (c == ']') {
			parser->data++;
			rfc822_append_text(dest, start, (size_t)(parser->data - start));
			return mime_rfc822_skip_cfws(parser);
		}
	}
	return -1;
}

int mime_rfc822_parse_domain(struct mime_rfc822_parser *parser, string_t *dest)
{
	i_assert(parser->data < parser->end && *parser->data == '@');
	parser->data++;
	if (mime_rfc822_skip_cfws(parser) <= 0)
		return -1;
	if (*parser->data == '[')
		return rfc822_parse_domain_literal(parser, dest);
	return mime_rfc822_parse_dot_atom(parser, dest);
}

int mime_rfc822_parse_token(struct mime_rfc822_parser *parser, string_t *dest)
{
	const unsigned char *start = parser->data;

	while (parser->data < parser->end && mime_rfc822_is_token_char(*parser->data))
		parser->data++;
	str_append_n(dest, start, (size_t)(parser->data - start));
	return mime_rfc822_skip_cfws(parser);
}
