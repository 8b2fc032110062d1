/* Reading command lines of line-based protocols (POP3, LMTP) from a
 * bounded istream: CRLF or a bare LF ends a line. A line longer than the
 * limit is reported once, as soon as it is seen to be too long, and the
 * rest of it is dropped as it arrives, so memory stays bounded and the
 * commands after it are read in sync. */
#ifndef TERN_LINE_READER_H
#define TERN_LINE_READER_H

#include "istream.h"

/* The protocol's texts for the two ways a line can't be a command. */
struct line_reader_errors {
	const char *too_long;
	const char *nul;
};

struct line_reader;

/* input must be able to buffer max_length + 2 bytes; errors must outlive
   the reader. */
struct line_reader *line_reader_create(struct istream *input, size_t max_length,
				       const struct line_reader_errors *errors);
/* Accepts NULL; *reader becomes NULL. */
void line_reader_destroy(struct line_reader **reader);

/* Takes the next line out of the buffered input. Returns 1 with *line_r
   (NUL-terminated, without its line end, valid until the next call), 0 when
   no complete line is buffered yet, -1 for a line that can't be a command
   (*error_r is one of the errors' texts; the line is consumed or being
   skipped). Never reads the stream itself. */
int line_reader_read(struct line_reader *reader, const char **line_r, const char **error_r);
/* Forgets what was scanned of the buffered input (after i_stream_clear(),
   e.g. when STLS drops plaintext sent after the command). */
void line_reader_reset(struct line_reader *reader);

#endif
