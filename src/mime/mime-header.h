/* Incremental parser of an RFC 5322 §2.2 header block: fed byte chunks of
 * any size, it returns each field once it is complete (the first byte of
 * the next line shows whether it continues). Lenient the way real mail
 * needs: bare LF as well as CRLF, whitespace before the colon (RFC 5322
 * §4.5), 8-bit bytes, NULs, lines without a colon, a block that ends at
 * end of input without its blank line. Memory is bounded by limits: past
 * them fields are no longer collected, but parsing goes on so that the
 * caller's offsets stay exact. */
#ifndef TERN_MIME_HEADER_H
#define TERN_MIME_HEADER_H

#include "buffer.h"

/* RFC 5322 §2.1.1 line length; a longer "name" is taken as a line
   without a colon, as callers cope better with long values. */
#define MIME_HEADER_NAME_MAX_LEN 1000

struct mime_header_limits {
	/* bytes of fields collected per block; a field crossing it is
	   returned truncated, later ones are skipped. 0 = 1 MiB */
	size_t max_size;
	/* fields returned per block; later ones are skipped. 0 = 10000 */
	unsigned int max_fields;
};

struct mime_header_field {
	/* field name without trailing whitespace; "" for a line with no
	   colon. NUL-terminated, inner NULs replaced by U+FFFD. */
	const char *name;
	/* the field's bytes as in the message, its final line ending
	   included (folding kept) */
	const unsigned char *full;
	size_t full_size;
	/* after the colon up to the final line ending, folding kept; the
	   whole field for a line without colon */
	const unsigned char *raw_value;
	size_t raw_value_size;
	/* raw_value unfolded (RFC 5322 §2.2.3: line breaks removed, the
	   whitespace after them kept), leading whitespace skipped, NULs
	   replaced by U+FFFD. NUL-terminated. */
	const char *value;
	size_t value_len;

	/* offset of the field's first byte (relative to the start offset
	   given at reset) and its physical size, final line ending included;
	   exact even when the field was truncated */
	uint64_t offset, size;

	bool no_colon:1;   /* no colon in the first line (or name too long) */
	bool truncated:1;  /* cut by max_size: full, raw_value, value partial */
	bool has_nul:1;    /* NUL bytes in the field */
	bool no_newline:1; /* ended by end of input without a line ending */
};

struct mime_header_parser;

/* limits may be NULL for the defaults. */
struct mime_header_parser *mime_header_parser_create(const struct mime_header_limits *limits);
void mime_header_parser_destroy(struct mime_header_parser **parser);
/* Starts a new header block whose first byte is at start_offset, with new
   limits (NULL keeps the current ones). */
void mime_header_parser_reset(struct mime_header_parser *parser, uint64_t start_offset,
			      const struct mime_header_limits *limits);

/* Parses data. Returns 1 with *field_r set when a field is complete; 1
   with *field_r = NULL when the block has ended (its blank line consumed,
   or end of input after mime_header_parser_end()); 0 when all of data was
   consumed and more input is needed. *used_r tells how many bytes of data
   were consumed; call again with the rest. The field stays valid until
   the next call. After the end of the block nothing more is consumed. */
int mime_header_parser_parse(struct mime_header_parser *parser,
			     const void *data, size_t size, size_t *used_r,
			     const struct mime_header_field **field_r);
/* Tells the parser that the input has ended: the next parse calls return
   the pending field, if any, then the end of the block. */
void mime_header_parser_end(struct mime_header_parser *parser);

/* True once the block's blank line (or end of input) has been consumed. */
bool mime_header_parser_is_done(const struct mime_header_parser *parser);
/* True if the block had a blank line (rather than ending at end of input
   or by mime_header_parser_end()). */
bool mime_header_parser_has_blank_line(const struct mime_header_parser *parser);
/* True if some field was truncated or skipped by the limits. */
bool mime_header_parser_is_truncated(const struct mime_header_parser *parser);
/* Bytes consumed so far in this block plus the start offset. */
uint64_t mime_header_parser_get_offset(const struct mime_header_parser *parser);

/* Parses a whole header block held in memory, calling callback for each
   field. Returns the block's size (up to and including its blank line). */
typedef void mime_header_callback_t(const struct mime_header_field *field,
				    void *context);
size_t mime_header_parse_block(const void *data, size_t size,
			       const struct mime_header_limits *limits,
			       mime_header_callback_t *callback, void *context);

#endif
