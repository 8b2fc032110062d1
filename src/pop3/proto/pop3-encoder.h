/* The body of a RETR or TOP response (RFC 1939 §3, §7): message bytes as
 * stored are turned, chunk by chunk, into the CRLF form with every line
 * that begins with "." stuffed with another, optionally cut after the
 * header and n body lines, and ended with ".". Bare LF becomes CRLF; a
 * bare CR is passed on as it is (RFC822.SIZE counts it as one octet). */
#ifndef TERN_POP3_ENCODER_H
#define TERN_POP3_ENCODER_H

#include "buffer.h"

/* body_lines value for RETR: the whole message */
#define POP3_ENCODER_ALL_LINES UINT64_MAX

struct pop3_encoder {
	uint64_t body_lines_left;
	uint64_t line_len; /* bytes of the current line so far */
	bool at_line_start;
	bool prev_cr;      /* the last byte was a CR */
	bool in_body;
	bool done;         /* TOP: everything wanted was written */
};

/* body_lines: lines of the body after the header and its empty line (TOP
   msg n), or POP3_ENCODER_ALL_LINES. */
void pop3_encoder_init(struct pop3_encoder *enc, uint64_t body_lines);
/* Appends the encoding of data to dest. Returns how much of data was
   used: all of it, or less when the wanted lines ended inside it (then
   pop3_encoder_is_done() is true and the rest is of no interest). */
size_t pop3_encoder_feed(struct pop3_encoder *enc, const void *data, size_t size,
			 buffer_t *dest);
bool pop3_encoder_is_done(const struct pop3_encoder *enc);
/* Ends the response: a final line without its line end gets one (RFC
   1939 §3: the response ends in CRLF.CRLF), then ".\r\n". */
void pop3_encoder_finish(struct pop3_encoder *enc, buffer_t *dest);

#endif
