/* Streaming Content-Transfer-Encoding decoders (RFC 2045 §6): base64 and
 * quoted-printable, leniently as mail needs, and the 7bit/8bit/binary
 * identity encodings. Used for IMAP BINARY (RFC 3516), SEARCH and Sieve. */
#ifndef TERN_MIME_DECODE_H
#define TERN_MIME_DECODE_H

#include "buffer.h"

enum mime_encoding {
	MIME_ENCODING_7BIT,
	MIME_ENCODING_8BIT,
	MIME_ENCODING_BINARY,
	MIME_ENCODING_BASE64,
	MIME_ENCODING_QUOTED_PRINTABLE,
	/* an encoding this library cannot decode (x-uuencode, ...): IMAP
	   BINARY answers it with [UNKNOWN-CTE] (RFC 3516 §4.3) */
	MIME_ENCODING_UNKNOWN,
};

/* Maps a Content-Transfer-Encoding value (case-insensitively); NULL is the
   RFC 2045 §6.1 default 7bit. */
enum mime_encoding mime_encoding_from_name(const char *name);
/* Lowercase canonical name; "unknown" for MIME_ENCODING_UNKNOWN. */
const char *mime_encoding_name(enum mime_encoding encoding);
/* True for 7bit, 8bit and binary, whose content is not transformed. */
bool mime_encoding_is_identity(enum mime_encoding encoding);

struct mime_decoder;

/* MIME_ENCODING_UNKNOWN decodes as identity; callers that care check the
   encoding first. */
struct mime_decoder *mime_decoder_create(enum mime_encoding encoding);
void mime_decoder_destroy(struct mime_decoder **decoder);
/* Forgets all state, for a new body in the same encoding. */
void mime_decoder_reset(struct mime_decoder *decoder);

/* Decodes size bytes and appends the result to dest. The input may be
   split anywhere; bytes that depend on what follows are held back (at most
   a few, plus a run of trailing whitespace in quoted-printable).
   Base64: whitespace is skipped, other characters outside the alphabet
   are skipped as errors, decoding stops at the '=' padding.
   Quoted-printable: soft line breaks are removed, whitespace at the end of
   a line is dropped (RFC 2045 §6.7 rule 3), a malformed '=' escape is kept
   literally as an error, line endings are kept as they are. */
void mime_decoder_decode(struct mime_decoder *decoder, const void *data, size_t size,
			 buffer_t *dest);
/* Ends the input, appending what was held back. Returns 0 if the input was
   well-formed, -1 if errors were skipped over (the output is still the
   best decoding of it). */
int mime_decoder_finish(struct mime_decoder *decoder, buffer_t *dest);
/* True if errors were seen so far. */
bool mime_decoder_had_errors(const struct mime_decoder *decoder);

/* Decodes a whole buffer; returns as mime_decoder_finish(). */
int mime_decode(enum mime_encoding encoding, const void *data, size_t size,
		buffer_t *dest);

#endif
