/* Base64 (RFC 4648 §4) encoding and strict decoding, as used by SASL
 * exchanges (RFC 4959, RFC 5034) and password hashes. */
#ifndef TERN_BASE64_H
#define TERN_BASE64_H

#include "buffer.h"

/* Appends the encoding of data to dest. */
void base64_encode(const void *data, size_t size, buffer_t *dest);
/* Appends the decoded bytes to dest. Strict: rejects characters outside
   the alphabet, wrong padding and bad lengths. Returns 0 or -1. */
int base64_decode(const void *src, size_t size, buffer_t *dest);
/* Size of the encoding of size bytes. */
size_t base64_encoded_size(size_t size);
/* The 6-bit value of an alphabet character (RFC 4648 §4), or -1: for
   decoders that are more lenient than base64_decode() (MIME bodies). */
int base64_char_value(unsigned char c);

#endif
