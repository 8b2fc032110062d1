/* Buffered, non-blocking input over a transport, with a hard buffer limit.
 * Parsers look at i_stream_get_data(), consume with i_stream_skip(), and
 * call i_stream_read() for more; a parser that returns "need more" simply
 * waits for the next read. */
#ifndef TERN_ISTREAM_H
#define TERN_ISTREAM_H

#include "transport.h"

struct istream;

/* max_buffer_size bounds memory: i_stream_read() returns -2 when full. */
struct istream *i_stream_create(struct transport *t, size_t max_buffer_size);
void i_stream_destroy(struct istream **input);
/* An istream over a regular file that owns the fd (and its transport):
   i_stream_destroy() closes it. */
struct istream *i_stream_create_file(int fd, size_t max_buffer_size);
/* A stream over size bytes at data (not copied: they must outlive the
   stream), then EOF. */
struct istream *i_stream_create_from_data(const void *data, size_t size);
/* Moves the stream onto another transport (buffered data is kept). */
void i_stream_set_transport(struct istream *input, struct transport *t);

/* Returns >0 bytes added, 0 if nothing is available now, -1 at EOF or
   error (see i_stream_is_eof()/i_stream_get_error()), -2 if the buffer is
   full (the caller must consume data first). */
ssize_t i_stream_read(struct istream *input);
/* Puts bytes in front of the buffered data, as if they had been read
   before it (input another process already read from the same client).
   Returns 0, or -1 if they don't fit in the buffer. */
int i_stream_inject(struct istream *input, const void *data, size_t size);
const unsigned char *i_stream_get_data(struct istream *input, size_t *size_r);
size_t i_stream_get_data_size(struct istream *input);
void i_stream_skip(struct istream *input, size_t count);
/* Drops all buffered data (STARTTLS: bytes pipelined in plaintext after the
   command must not be taken as if they had come through TLS). */
void i_stream_clear(struct istream *input);
/* Returns the next complete line without its LF or CRLF, NUL-terminated
   and modifiable, valid until the next read/skip; NULL if no full line is
   buffered yet. */
char *i_stream_next_line(struct istream *input);
bool i_stream_is_eof(const struct istream *input);
/* errno-style code, 0 if none (EOF is not an error). */
int i_stream_get_error(const struct istream *input);
const char *i_stream_get_error_text(const struct istream *input);
/* Total bytes consumed with skip so far. */
uint64_t i_stream_get_offset(const struct istream *input);
size_t i_stream_get_max_buffer_size(const struct istream *input);

#endif
