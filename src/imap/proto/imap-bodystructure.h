/* IMAP BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2) from the
 * MIME part tree of src/mime, and the structure parser that builds that
 * tree together with the envelopes IMAP needs (the message's and each
 * message/rfc822 part's) in one streaming pass. Storage-free: callers
 * feed the message bytes. */
#ifndef TERN_IMAP_BODYSTRUCTURE_H
#define TERN_IMAP_BODYSTRUCTURE_H

#include "array.h"
#include "imap-envelope.h"
#include "mime-parser.h"

struct imap_structure_envelope {
	const struct mime_part *part;
	struct imap_envelope *envelope;
};

/* A parsed message: its part tree and envelopes, all from one pool. */
struct imap_structure {
	pool_t pool;
	struct mime_part *root;
	/* envelopes of the root and of every message part's child, in
	   depth-first pre-order (so sorted by header offset, then depth) */
	ARRAY(struct imap_structure_envelope) envelopes;
	/* only the root header was parsed (imap_structure_parser_create()
	   with header_only): root's body sizes and children are unknown */
	bool header_only;
};

struct imap_structure_parser;

/* Parts, envelopes and their strings are allocated from pool. limits may
   be NULL for the defaults. With header_only, feeding can stop once
   imap_structure_parser_is_header_done() is true. */
struct imap_structure_parser *
imap_structure_parser_create(pool_t pool, const struct mime_parser_limits *limits,
			     bool header_only);
/* Frees the parser (not the structure). */
void imap_structure_parser_destroy(struct imap_structure_parser **parser);
void imap_structure_parser_feed(struct imap_structure_parser *parser,
				const void *data, size_t size);
/* True once the root part's header has ended. */
bool imap_structure_parser_is_header_done(const struct imap_structure_parser *parser);
/* Ends the input and returns the structure (valid while the pool lives).
   The parser may then only be destroyed. */
struct imap_structure *imap_structure_parser_finish(struct imap_structure_parser *parser);

/* Parses a whole message held in memory. */
struct imap_structure *imap_structure_parse(pool_t pool, const void *data, size_t size,
					    const struct mime_parser_limits *limits);

/* The envelope of part, which must be the root or the child of a message
   part; NULL if it had no header fields. */
const struct imap_envelope *imap_structure_get_envelope(const struct imap_structure *s,
							const struct mime_part *part);

/* True for a part that is a message/rfc822 (or message/global) whose body
   is parsed as a message (its child). */
bool imap_bodystructure_is_message(const struct mime_part *part);

/* Appends the body structure of part (without the outer parentheses):
   BODY when extended is false, BODYSTRUCTURE with the extension data
   (MD5, disposition, language, location) when true. Sizes are those of
   the CRLF form (RFC 9051 §2.3.4). */
void imap_bodystructure_write(const struct imap_structure *s, const struct mime_part *part,
			      bool extended, string_t *dest);

#endif
