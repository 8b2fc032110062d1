/* Streaming MIME structure parser (RFC 5322, RFC 2045-2049): fed a message
 * in chunks of any size, never holding it whole, it builds the tree of
 * parts with exact offsets, sizes and line counts, and the Content-*
 * values of each part, as IMAP FETCH BODYSTRUCTURE, BODY[section] and
 * BINARY need them.
 *
 * Sizes follow the conventions IMAP servers share: a part's header ends
 * after its blank line; a multipart body part ends before the line break
 * that precedes the next boundary line, which belongs to the boundary
 * (RFC 2046 §5.1.1), as does the rest of the boundary line; line counts
 * are LF counts; "_crlf" sizes count every bare LF as CRLF (IMAP sizes
 * are of the CRLF form, RFC 9051 §2.3.4).
 *
 * Malformed or hostile input never fails: past a limit the rest of a part
 * is an opaque leaf body, still served with exact sizes. */
#ifndef TERN_MIME_PARSER_H
#define TERN_MIME_PARSER_H

#include "mime-content-type.h"
#include "mime-decode.h"
#include "mime-header.h"

#define MIME_PARSER_DEFAULT_MAX_DEPTH 100
#define MIME_PARSER_DEFAULT_MAX_PARTS 10000
#define MIME_PARSER_DEFAULT_MAX_HEADER_SIZE (10 * 1024 * 1024)
#define MIME_PARSER_DEFAULT_MAX_HEADER_FIELDS 10000

/* RFC 2046 §5.1.1 allows 70 characters; longer boundaries are cut to
   this and then match as prefixes, as other servers do. */
#define MIME_BOUNDARY_MAX_LEN 80

struct mime_parser_limits {
	/* deepest nesting of parts (the root is depth 0); a multipart or
	   message part at this depth stays a leaf. 0 = default 100 */
	unsigned int max_depth;
	/* parts in the whole tree, the root included; past it boundaries are
	   no longer recognised, so the rest of the message stays in the
	   current part. 0 = default 10000 */
	unsigned int max_parts;
	/* header field bytes collected over the whole message (the part
	   headers included); past it fields are no longer parsed (sizes stay
	   exact). 0 = default 10 MiB */
	size_t max_header_size;
	/* header fields per part. 0 = default 10000 */
	unsigned int max_header_fields;
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	/* depth in the tree (root 0) */
	unsigned int depth;
	unsigned int children_count;

	/* physical offsets from the start of the message and physical sizes;
	   body_offset == header_offset + header_size */
	uint64_t header_offset, header_size;
	uint64_t body_offset, body_size;
	/* the sizes as if every bare LF were CRLF */
	uint64_t header_size_crlf, body_size_crlf;
	/* LF counts */
	uint32_t header_lines, body_lines;

	/* Content-Type, or the default (text/plain; charset=us-ascii, or
	   message/rfc822 in multipart/digest) when it is missing, invalid,
	   or the part is not MIME */
	struct mime_content_type content_type;
	/* Content-Transfer-Encoding token as written (NULL: none, 7bit) */
	const char *encoding_name;
	enum mime_encoding encoding;
	/* Content-ID, Content-Description, Content-MD5, Content-Location:
	   unfolded values, NULL if absent (RFC 2047 words not decoded) */
	const char *content_id, *description, *md5, *location;
	/* Content-Disposition (type NULL if absent) */
	struct mime_content_disposition disposition;
	/* Content-Language tags, NULL-terminated; NULL if absent */
	const char *const *languages;

	/* MIME-Version, Content-Type, or a multipart parent made the
	   Content-* headers count (RFC 2045 §4); without it they are
	   ignored and the part is text/plain */
	bool is_mime:1;
	/* the body is a list of parts (children), each a MIME entity. It
	   can have no children at all (no boundary parameter, a boundary
	   that never appears, a header without blank line): IMAP BODYSTRUCTURE
	   then needs a placeholder part, as RFC 9051 requires one */
	bool is_multipart:1;
	/* message/rfc822 or message/global: the body is one message, the
	   single child */
	bool is_message:1;
	/* text/x: IMAP BODYSTRUCTURE reports its body_lines */
	bool is_text:1;
	/* multipart/digest: children default to message/rfc822 */
	bool is_digest:1;
	/* a limit made this part an opaque leaf although its type says
	   multipart or message (report it as application/octet-stream), or
	   the rest of the message was kept in it (max_parts) */
	bool truncated:1;
	/* some header fields were not parsed (max_header_size/fields) */
	bool header_truncated:1;
	/* the header had no blank line (ended at end of input or a boundary) */
	bool header_unterminated:1;
	/* NUL bytes in the header or body (IMAP BINARY needs literal8) */
	bool has_nuls:1;
};

/* Called for each header field of each part, and with field == NULL when
   the part's header has ended (then its Content-* values are set). */
typedef void mime_parser_header_callback_t(struct mime_part *part,
					   const struct mime_header_field *field,
					   void *context);
/* Called with the raw (still encoded) body bytes of leaf parts, exactly
   the bytes of [body_offset, body_offset + body_size), in order and in
   pieces of any size; not for multipart preambles, epilogues or
   boundaries. */
typedef void mime_parser_body_callback_t(struct mime_part *part,
					 const unsigned char *data, size_t size,
					 void *context);

struct mime_parser;

/* Parts and their strings are allocated from pool; they stay valid after
   the parser is destroyed. limits may be NULL for the defaults. */
struct mime_parser *mime_parser_create(pool_t pool, const struct mime_parser_limits *limits);
void mime_parser_destroy(struct mime_parser **parser);
void mime_parser_set_header_callback(struct mime_parser *parser,
				     mime_parser_header_callback_t *callback,
				     void *context);
void mime_parser_set_body_callback(struct mime_parser *parser,
				   mime_parser_body_callback_t *callback,
				   void *context);

/* Feeds the next size bytes of the message. */
void mime_parser_feed(struct mime_parser *parser, const void *data, size_t size);
/* Ends the message and returns the root part. No more feeding after. */
struct mime_part *mime_parser_finish(struct mime_parser *parser);

/* Parses a whole message held in memory. */
struct mime_part *mime_parse(pool_t pool, const void *data, size_t size,
			     const struct mime_parser_limits *limits);

/* The root part of a message known only by its root header block (the
   message's first size bytes, up to and including the blank line that
   ends the header, or the whole message when it has none): header
   offsets, sizes, line counts and whether it was terminated, exactly as
   the parser would find them, without parsing the fields (Content-* are
   left at the text/plain default). For header sections served from a
   cached block. */
struct mime_part *mime_part_from_header_block(pool_t pool, const unsigned char *header,
					      size_t size);

/* The charset parameter of a text part, "us-ascii" if it has none. */
const char *mime_part_get_charset(const struct mime_part *part);
/* The next part in depth-first pre-order after part, or NULL. */
struct mime_part *mime_part_next(struct mime_part *part);
/* Number of parts in the tree under and including part. */
unsigned int mime_part_count(const struct mime_part *part);

#endif
