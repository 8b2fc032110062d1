/* Lexical tokens of RFC 5322 §3.2 (CFWS, atoms, dot-atoms, quoted strings,
 * phrases, domains) and the token of RFC 2045 §5.1, shared by the address
 * and Content-* header parsers. Lenient in the ways of RFC 5322 §4 (obsolete
 * syntax): folding anywhere, 8-bit bytes as atext, NULs replaced by U+FFFD.
 *
 * Every parse function returns 1 when input remains after the token (and
 * the CFWS that follows it), 0 when the input ended, -1 on a syntax error;
 * the parsed text is appended to dest. */
#ifndef TERN_MIME_RFC822_H
#define TERN_MIME_RFC822_H

#include "buffer.h"

struct mime_rfc822_parser {
	const unsigned char *data, *end;
	/* when non-NULL, holds the text of the last comment skipped */
	string_t *last_comment;
};

void mime_rfc822_init(struct mime_rfc822_parser *parser, const void *data,
		      size_t size, string_t *last_comment);

/* RFC 5322 §3.2.2 atext, with 8-bit bytes accepted (RFC 6532). */
bool mime_rfc822_is_atext(unsigned char c);
/* RFC 2045 §5.1 token characters. */
bool mime_rfc822_is_token_char(unsigned char c);

/* Skips whitespace, line breaks and (nested) comments. -1 for an
   unterminated comment. */
int mime_rfc822_skip_cfws(struct mime_rfc822_parser *parser);
/* atom = 1*atext, then CFWS. -1 if no atext at the current position. */
int mime_rfc822_parse_atom(struct mime_rfc822_parser *parser, string_t *dest);
/* dot-atom, allowing CFWS around the dots (RFC 5322 §4.4). */
int mime_rfc822_parse_dot_atom(struct mime_rfc822_parser *parser, string_t *dest);
/* At '"': the unescaped content, then CFWS. -1 if unterminated. */
int mime_rfc822_parse_quoted_string(struct mime_rfc822_parser *parser,
				    string_t *dest);
/* phrase = 1*word / obs-phrase (dots allowed); words joined by one space.
   Returns 0 at once at end of input, -1 if the phrase starts with '.'. */
int mime_rfc822_parse_phrase(struct mime_rfc822_parser *parser, string_t *dest);
/* At '@': the domain (dot-atom or domain-literal with its brackets). */
int mime_rfc822_parse_domain(struct mime_rfc822_parser *parser, string_t *dest);
/* A run of RFC 2045 token characters (possibly empty), then CFWS. */
int mime_rfc822_parse_token(struct mime_rfc822_parser *parser, string_t *dest);

#endif
