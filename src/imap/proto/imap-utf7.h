/* Modified UTF-7 mailbox names (RFC 3501 §5.1.3), used with clients that
 * have not enabled IMAP4rev2 or UTF8=ACCEPT (RFC 9051 §5.1). */
#ifndef TERN_IMAP_UTF7_H
#define TERN_IMAP_UTF7_H

#include "buffer.h"

/* Appends the modified UTF-7 form of UTF-8 src. Returns 0, or -1 if src
   is not valid UTF-8. */
int imap_utf8_to_utf7(const char *src, string_t *dest);
/* Appends the UTF-8 form of modified UTF-7 src. Returns 0, or -1 if src is
   not valid modified UTF-7 (bad base64, non-canonical encoding, encoded
   printable ASCII, unpaired surrogates). */
int imap_utf7_to_utf8(const char *src, string_t *dest);
/* True if src is valid UTF-8 without control characters. */
bool imap_utf8_is_valid(const char *src);

#endif
