/* Reading POP3 command lines (RFC 1939 §3, RFC 2449 §4) from a bounded
 * istream: CRLF or a bare LF ends a line. A line longer than the limit is
 * reported once, as soon as it is seen to be too long, and the rest of it
 * is dropped as it arrives, so memory stays bounded and the commands after
 * it are read in sync. */
#ifndef TERN_POP3_LINE_READER_H
#define TERN_POP3_LINE_READER_H

#include "istream.h"

struct pop3_line_reader;

/* input must be able to buffer max_length + 2 bytes. */
struct pop3_line_reader *pop3_line_reader_create(struct istream *input, size_t max_length);
/* Accepts NULL; *reader becomes NULL. */
void pop3_line_reader_destroy(struct pop3_line_reader **reader);

/* Takes the next line out of the buffered input. Returns 1 with *line_r
   (NUL-terminated, without its line end, valid until the next call), 0 when
   no complete line is buffered yet, -1 for a line that can't be a command
   (*error_r: "Line too long." or "Line contains a NUL byte."; the line is
   consumed or being skipped). Never reads the stream itself. */
int pop3_line_reader_read(struct pop3_line_reader *reader, const char **line_r,
			  const char **error_r);
/* Forgets what was scanned of the buffered input (after i_stream_clear(),
   e.g. when STLS drops plaintext sent after the command). */
void pop3_line_reader_reset(struct pop3_line_reader *reader);

#endif
