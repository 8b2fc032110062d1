/* The i;unicode-casemap comparator's canonical form (RFC 5051 §2): every
 * character mapped to its titlecase, then the string decomposed (NFKD).
 * IMAP SEARCH compares header and body text with it (RFC 9051 §6.4.4,
 * RFC 5255), and the full-text index stores text in this form, so that an
 * indexed search and a direct scan of a message match exactly the same. */
#ifndef TERN_SEARCH_CASEMAP_H
#define TERN_SEARCH_CASEMAP_H

#include "buffer.h"

/* Appends the canonical form of size bytes of UTF-8 text to dest. Invalid
   UTF-8 becomes U+FFFD; NUL, CR and LF become one space each in
   "line" mode (header values: one line), and in text mode CR LF becomes LF,
   a lone CR a space and NUL a space. */
void search_casemap_append(string_t *dest, const void *data, size_t size, bool line);
/* The canonical form of a NUL-terminated UTF-8 string, in text mode. */
const char *search_casemap(pool_t pool, const char *str);

#endif
