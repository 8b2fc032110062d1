/* Character set conversion to UTF-8 for header words (RFC 2047), parameter
 * values (RFC 2231) and text bodies, through iconv for every charset glibc
 * knows, plus UTF-8 validation with U+FFFD replacement. */
#ifndef TERN_MIME_CHARSET_H
#define TERN_MIME_CHARSET_H

#include "buffer.h"

/* U+FFFD REPLACEMENT CHARACTER, appended in place of undecodable input. */
#define MIME_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Converts size bytes of data in charset to UTF-8 and appends them to
   dest. Invalid or unconvertible input sequences become U+FFFD. Charset
   names are matched case-insensitively; US-ASCII is handled as UTF-8
   because mislabelled 8-bit text is common, and a few labels map to the
   superset real mailers mean (ISO-8859-1 to Windows-1252, GB2312 to
   GB18030, ...). Returns 0 when converted, -1 when the charset is unknown
   (or its name is not plausible): then the data is appended as UTF-8 with
   invalid sequences replaced, so that ASCII text survives. */
int charset_to_utf8(const char *charset, const void *data, size_t size,
		    string_t *dest);
/* True if charset is a name of UTF-8 or of its subset US-ASCII. */
bool charset_is_utf8(const char *charset);
/* True if charset_to_utf8() would convert from charset. */
bool charset_is_known(const char *charset);

/* True if data is valid UTF-8 (no overlongs, surrogates or code points
   past U+10FFFF). */
bool charset_utf8_is_valid(const void *data, size_t size);
/* Appends data to dest with each invalid UTF-8 sequence (maximal subpart,
   as Unicode §3.9 recommends) replaced by U+FFFD. */
void charset_utf8_append_valid(string_t *dest, const void *data, size_t size);

/* Closes the cached iconv descriptor (for leak checkers; optional). */
void charset_deinit(void);

#endif
