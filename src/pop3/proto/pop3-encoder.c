/* CRLF conversion, dot-stuffing and TOP line counting for multi-line
 * message responses (RFC 1939 §3, §7), over arbitrary chunk boundaries:
 * a CRLF or a line start may be split between two chunks. */
#include "pop3-encoder.h"

void pop3_encoder_init(struct pop3_encoder *enc, uint64_t body_lines)
{
	memset(enc, 0, sizeof(*enc));
	enc->body_lines_left = body_lines;
	enc->at_line_start = true;
}

bool pop3_encoder_is_done(const struct pop3_encoder *enc)
{
	return enc->done;
}

/* A line just ended (its LF was written). */
static void pop3_encoder_line_end(struct pop3_encoder *enc, bool cr)
{
	/* the empty line that ends the header: "" or a lone CR before LF */
	bool empty = enc->line_len == 0 || (enc->line_len == 1 && cr);
	if (!enc->in_body) {
		if (empty) {
			enc->in_body = true;
			enc->done = enc->body_lines_left == 0;
		}
	} else if (enc->body_lines_left != POP3_ENCODER_ALL_LINES &&
		   --enc->body_lines_left == 0) {
		enc->done = true;
	}
	enc->line_len = 0;
	enc->at_line_start = true;
}

size_t pop3_encoder_feed(struct pop3_encoder *enc, const void *data, size_t size,
			 buffer_t *dest)
{
	const unsigned char *p = data, *end = p + size;
	while (p < end && !enc->done) {
		if (enc->at_line_start && *p == '.')
			buffer_append_c(dest, '.');
		enc->at_line_start = false;
		const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			buffer_append(dest, p, (size_t)(end - p));
			enc->line_len += (uint64_t)(end - p);
			enc->prev_cr = end[-1] == '\r';
			p = end;
			break;
		}
		size_t len = (size_t)(lf - p);
		bool cr = len > 0 ? lf[-1] == '\r' : enc->prev_cr;
		buffer_append(dest, p, len);
		enc->line_len += len;
		if (!cr)
			buffer_append_c(dest, '\r');
		buffer_append_c(dest, '\n');
		enc->prev_cr = false;
		pop3_encoder_line_end(enc, cr);
		p = lf + 1;
	}
	return (size_t)(p - (const unsigned char *)data);
}

void pop3_encoder_finish(struct pop3_encoder *enc, buffer_t *dest)
{
	/* a final CR stays a bare CR, as anywhere else (and as Dovecot
	   sends it) */
	if (!enc->done && !enc->at_line_start)
		buffer_append(dest, "\r\n", 2);
	enc->done = true;
	buffer_append(dest, ".\r\n", 3);
}
