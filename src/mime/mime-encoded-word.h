/* Header text decoding to UTF-8: RFC 2047 encoded words ("=?charset?B?...?="
 * and "=?charset?Q?...?=", with RFC 2231 §5 "charset*language" tags) and
 * RFC 2231 §4 extended parameter values ("charset'language'%XX..."). */
#ifndef TERN_MIME_ENCODED_WORD_H
#define TERN_MIME_ENCODED_WORD_H

#include "buffer.h"

/* Decodes an (unfolded) header value and appends it to dest as UTF-8.
   Encoded words are decoded wherever they appear; whitespace between two
   adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words in
   the same charset are joined before conversion, so a character split
   across words survives. A malformed word is left as it is. Text outside
   encoded words is taken as UTF-8 (RFC 6532) with invalid sequences
   replaced by U+FFFD; so is a word in an unknown charset. */
void mime_encoded_word_decode(const void *data, size_t size, string_t *dest);
/* True if data contains something that looks like an encoded word. */
bool mime_encoded_word_has_words(const void *data, size_t size);

/* Decodes the RFC 2047 §4.2 "Q" encoding ('_' is a space) and appends the
   bytes to dest. A malformed '=' escape is kept literally. */
void mime_encoded_word_q_decode(const void *data, size_t size, buffer_t *dest);

/* Percent-decodes an RFC 2231 value, appending bytes to dest; a '%' not
   followed by two hex digits is kept literally. */
void mime_rfc2231_percent_decode(const void *data, size_t size, buffer_t *dest);
/* Splits an RFC 2231 §4 extended value "charset'language'text". Returns 0
   and the parts (charset and language may be "", allocated from pool), or
   -1 if the two quotes are missing. */
int mime_rfc2231_split(pool_t pool, const char *value, const char **charset_r,
		       const char **language_r, const char **text_r);
/* Converts the percent-decoded bytes of an extended value in charset to
   UTF-8 (an empty or unknown charset: UTF-8 with invalid sequences
   replaced). Returns 0, or -1 if the charset was unknown. */
int mime_rfc2231_to_utf8(const char *charset, const void *data, size_t size,
			 string_t *dest);

#endif
