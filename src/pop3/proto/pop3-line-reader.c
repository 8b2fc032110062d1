/* POP3 command lines (RFC 1939 §3, RFC 2449 §4): the shared line reader
 * with POP3's error texts. */
#include "pop3-line-reader.h"

static const struct line_reader_errors pop3_line_errors = {
	.too_long = "Line too long.",
	.nul = "Line contains a NUL byte.",
};

struct line_reader *pop3_line_reader_create(struct istream *input, size_t max_length)
{
	return line_reader_create(input, max_length, &pop3_line_errors);
}
