/* A transport that compresses what it writes and decompresses what it
 * reads with raw DEFLATE (RFC 1951, no zlib header), wrapping a socket or
 * TLS transport: the layer under IMAP COMPRESS=DEFLATE (RFC 4978). */
#ifndef TERN_TRANSPORT_DEFLATE_H
#define TERN_TRANSPORT_DEFLATE_H

#include "transport.h"

/* Wraps inner, taking ownership of it (destroyed with the new transport).
   fd is inner's fd.

   write() compresses and ends every call with a sync flush, so a response
   reaches the peer without waiting for more. Compressed bytes the inner
   transport can't take yet wait in a fixed-size buffer; while it is not
   empty write() accepts 0 bytes. After a call that left compressed bytes
   waiting, the last byte of the call is reported as not written: like
   SSL_write(), the caller must retry with the same data (an ostream does),
   so its own buffer stays non-empty, and it keeps waiting for the socket,
   until everything has reached the inner transport.

   read() inflates into the caller's buffer only (a decompression bomb
   costs no memory beyond fixed buffers); corrupt input is an error with
   error_text set, the inner transport's EOF is EOF. pending() is non-zero
   while input that may inflate to more plaintext is buffered here or in
   the inner transport. */
struct transport *transport_deflate_create(struct transport *inner);

/* The next size bytes written pass through uncompressed: output that the
   caller's stream queued before compression began (the COMPRESS tagged OK,
   RFC 4978 §3) goes out as it was, and in order. Only before the first
   write. */
void transport_deflate_set_plain_prefix(struct transport *t, size_t size);

bool transport_is_deflate(const struct transport *t);

#endif
