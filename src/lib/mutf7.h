/* Modified UTF-7 (RFC 3501 §5.1.3): mailbox names for IMAP clients that
 * have not enabled IMAP4rev2 (RFC 9051 §5.1), and Maildir++ folder names. */
#ifndef TERN_MUTF7_H
#define TERN_MUTF7_H

#include "buffer.h"

/* Appends the modified UTF-7 form of the UTF-8 src (len bytes). Returns
   0, or -1 if src is not valid UTF-8. */
int mutf7_encode(const char *src, size_t len, string_t *dest);
/* Appends the UTF-8 form of the modified UTF-7 src (len bytes). Returns 0,
   or -1 if src is not valid modified UTF-7 (bad base64, non-canonical
   encoding, encoded printable ASCII, unpaired surrogates). */
int mutf7_decode(const char *src, size_t len, string_t *dest);
/* True if src is valid UTF-8 without control characters. */
bool utf8_is_valid_printable(const char *src);

#endif
