/* Buffered, non-blocking output over a transport with back-pressure:
 * writes never block and are accepted into the buffer, and producers
 * check o_stream_is_full() and pause until the owner's drain callback
 * (see connection.h) tells them to go on. */
#ifndef TERN_OSTREAM_H
#define TERN_OSTREAM_H

#include "transport.h"

struct ostream;

/* soft_limit: o_stream_is_full() is true at or above it. */
struct ostream *o_stream_create(struct transport *t, size_t soft_limit);
void o_stream_destroy(struct ostream **output);
void o_stream_set_transport(struct ostream *output, struct transport *t);

/* Queues data and writes what the transport takes now (unless corked).
   Returns 0, or -1 if the stream has failed (data is dropped). */
int o_stream_send(struct ostream *output, const void *data, size_t size);
int o_stream_send_str(struct ostream *output, const char *str);
int o_stream_printf(struct ostream *output, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* While corked, data is only buffered; uncork flushes. */
void o_stream_cork(struct ostream *output);
void o_stream_uncork(struct ostream *output);
/* Returns 1 when everything is sent, 0 when data remains (wait for the fd
   to become writable), -1 on error. */
int o_stream_flush(struct ostream *output);
size_t o_stream_get_buffer_used(const struct ostream *output);
bool o_stream_is_full(const struct ostream *output);
bool o_stream_is_failed(const struct ostream *output);
int o_stream_get_error(const struct ostream *output);
uint64_t o_stream_get_offset(const struct ostream *output); /* bytes sent */

#endif
