/* The searchable text of a message, as IMAP SEARCH sees it (RFC 9051
 * §6.4.4) and the full-text index stores it: header fields decoded from
 * RFC 2047, text parts decoded from their transfer encoding and converted
 * to UTF-8, all in i;unicode-casemap form (search-casemap.h). Binary parts
 * (anything not text/ or a leaf message/ type) are left out. Built by
 * feeding the message in chunks; memory is bounded by max_size.
 *
 * Both ways of searching - the index and reading the message - match
 * against this one representation, so they cannot disagree. */
#ifndef TERN_SEARCH_TEXT_H
#define TERN_SEARCH_TEXT_H

#include "buffer.h"
#include "pool.h"

/* Folded text kept per message (headers and body together) by default. */
#define SEARCH_TEXT_DEFAULT_MAX_SIZE (16 * 1024 * 1024)

enum search_text_field {
	SEARCH_TEXT_FROM,
	SEARCH_TEXT_TO,
	SEARCH_TEXT_CC,
	SEARCH_TEXT_BCC,
	SEARCH_TEXT_SUBJECT,
	SEARCH_TEXT_FIELD_COUNT
};

struct search_text {
	/* each field of the message's own header as "NAME: value\n": the
	   name and the unfolded, decoded value in canonical form; the value
	   has no line breaks (they become spaces) */
	string_t *header;
	/* the values of each From/To/Cc/Bcc/Subject field, one line each */
	string_t *fields[SEARCH_TEXT_FIELD_COUNT];
	/* text parts in canonical form with LF line ends, and the header
	   fields of embedded messages (as in header); "\n" between parts */
	string_t *body;
	/* max_size was reached: the end of the text is missing */
	bool truncated;

	/* first instances, for sorting and threading: unfolded raw values
	   (NULL if absent); subject decoded to UTF-8 but not folded */
	const char *date, *message_id, *in_reply_to, *references, *subject;
	const char *from, *to, *cc;
};

struct search_text_builder;

/* The text and its strings are allocated from pool. max_size 0 means
   SEARCH_TEXT_DEFAULT_MAX_SIZE. */
struct search_text_builder *search_text_builder_create(pool_t pool, size_t max_size);
void search_text_builder_destroy(struct search_text_builder **builder);
void search_text_builder_feed(struct search_text_builder *builder, const void *data,
			      size_t size);
/* Ends the message; the result stays valid until pool is freed. */
struct search_text *search_text_builder_finish(struct search_text_builder *builder);

/* Builds the text of a message held in memory. */
struct search_text *search_text_build(pool_t pool, const void *data, size_t size,
				      size_t max_size);

/* The name of a field column ("from", ...). */
const char *search_text_field_name(enum search_text_field field);
/* Maps a header name to its field; returns false for other headers. */
bool search_text_field_lookup(const char *header_name, enum search_text_field *field_r);

/* Matching against the text, the one definition both the index and direct
   scans follow. needle is in canonical form: header needles folded in
   line mode, body needles in text mode (search_casemap_append()). */
/* Does body text contain needle? "" matches every message. */
bool search_text_body_has(const char *text, size_t len, const char *needle);
/* Does a field's text (one line per value) contain needle? "" matches if
   the field is present at all. */
bool search_text_field_has(const char *text, size_t len, const char *needle);
/* Does a header text ("NAME: value\n" lines) have a field named name
   (canonical form) whose value contains needle ("": the field exists)? */
bool search_text_header_has(const char *text, size_t len, const char *name,
			    const char *needle);

#endif
