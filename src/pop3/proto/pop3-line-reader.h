/* Reading POP3 command lines (RFC 1939 §3, RFC 2449 §4): the shared
 * bounded line reader (line-reader.h) with POP3's error texts ("Line too
 * long.", "Line contains a NUL byte."). */
#ifndef TERN_POP3_LINE_READER_H
#define TERN_POP3_LINE_READER_H

#include "line-reader.h"

/* input must be able to buffer max_length + 2 bytes. */
struct line_reader *pop3_line_reader_create(struct istream *input, size_t max_length);

#endif
