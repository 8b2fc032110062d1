/* Incremental, non-blocking parser for ManageSieve client lines (RFC 5804
 * §4): a command name or a SASL response followed by arguments that are
 * atoms, numbers, quoted strings or literals ("{n+}" CRLF octets; "{n}" is
 * taken the same way, as Pigeonhole does, since ManageSieve has no literal
 * continuation). It shares the reader design of src/imap/proto: it consumes
 * only what is buffered in its istream, returns 0 for "need more", and any
 * split of the input gives the same result.
 *
 * An error is reported only once the whole bad line (literals included) has
 * been consumed, so the caller answers NO and simply reads the next line:
 * nothing it discards is buffered, whatever the client sends. */
#ifndef TERN_MANAGESIEVE_PARSER_H
#define TERN_MANAGESIEVE_PARSER_H

#include "buffer.h"
#include "istream.h"

#define MANAGESIEVE_PARSER_DEFAULT_MAX_LINE_LENGTH 8192
#define MANAGESIEVE_PARSER_DEFAULT_MAX_LITERAL_SIZE (1024 * 1024)
#define MANAGESIEVE_PARSER_DEFAULT_MAX_ARGS 16

struct managesieve_parser_limits {
	/* bytes of a line, not counting literal contents */
	size_t max_line_length;
	/* one literal; larger ones are skipped and the line fails with
	   MANAGESIEVE_PARSE_ERROR_LITERAL_TOO_LARGE */
	uint64_t max_literal_size;
	unsigned int max_args;
};

enum managesieve_arg_type {
	MANAGESIEVE_ARG_ATOM,   /* command names, numbers, and bare words */
	MANAGESIEVE_ARG_STRING, /* quoted string or literal */
};

struct managesieve_arg {
	enum managesieve_arg_type type;
	bool literal;
	/* NUL-terminated; a literal may also contain NULs (size counts all) */
	const char *str;
	size_t size;
};

enum managesieve_parse_error {
	MANAGESIEVE_PARSE_ERROR_NONE,
	MANAGESIEVE_PARSE_ERROR_SYNTAX,
	MANAGESIEVE_PARSE_ERROR_LINE_TOO_LONG,
	MANAGESIEVE_PARSE_ERROR_LITERAL_TOO_LARGE,
	MANAGESIEVE_PARSE_ERROR_TOO_MANY_ARGS,
};

struct managesieve_parser;

/* limits may be NULL or have 0 fields for the defaults. */
struct managesieve_parser *
managesieve_parser_create(struct istream *input, const struct managesieve_parser_limits *limits);
void managesieve_parser_destroy(struct managesieve_parser **parser);

/* Reads one line. Returns 1 with *args_r and *count_r (valid until the next
   call or reset), 0 if more input is needed, -1 when the line (already
   consumed) was invalid: see managesieve_parser_get_error(). Empty lines
   give count 0. */
int managesieve_parser_read(struct managesieve_parser *parser,
			    const struct managesieve_arg **args_r, unsigned int *count_r);
/* The last error: its text and kind; the first atom of the bad line (the
   command name, uppercased) or "" in *command_r. */
const char *managesieve_parser_get_error(struct managesieve_parser *parser,
					 enum managesieve_parse_error *code_r,
					 const char **command_r);
/* Forgets any partly parsed line (STARTTLS: the input is cleared). */
void managesieve_parser_reset(struct managesieve_parser *parser);

/* Argument helpers: true if arg is a string (quoted or literal), or a
   number (atom of digits, at most 2^63-1). */
bool managesieve_arg_get_string(const struct managesieve_arg *arg, const char **str_r);
bool managesieve_arg_get_number(const struct managesieve_arg *arg, uint64_t *num_r);

/* Appends str as a quoted string when it can be one (no CR, LF, NUL, at
   most 1024 octets), else as a literal "{n}" CRLF data (RFC 5804 §4). */
void managesieve_quote_append(string_t *dest, const void *data, size_t size);
static inline void managesieve_quote_append_str(string_t *dest, const char *str)
{
	managesieve_quote_append(dest, str, strlen(str));
}

/* Appends a response line (RFC 5804 §1.3): status ("OK", "NO", "BYE"),
   the response code in parentheses if code isn't NULL, the text as a
   quoted string or literal if text isn't NULL, then CRLF. */
void managesieve_reply_append(string_t *dest, const char *status, const char *code,
			      const char *text);

#endif
