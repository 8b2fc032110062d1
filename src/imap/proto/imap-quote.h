/* Writing strings into IMAP server output in the grammar of RFC 9051 §4.1
 * and §9: atoms, quoted strings and literals, picking the form that can
 * carry the data. */
#ifndef TERN_IMAP_QUOTE_H
#define TERN_IMAP_QUOTE_H

#include "buffer.h"

/* Longer strings are sent as literals even when they could be quoted:
   clients handle long literals better than long quoted strings. */
#define IMAP_QUOTE_MAX_QUOTED_LEN 1024

/* "str" with '"' and '\' escaped. A quoted string can't hold CR or LF:
   they become spaces (use imap_append_string() to keep them). 8-bit bytes
   are kept (UTF-8 quoted strings, RFC 9051 §4.3). */
void imap_append_quoted(string_t *dest, const char *str);
/* astring: an atom when str is a plain atom (not "NIL", which a client
   could take for nil), else a quoted string, else a literal "{n}\r\n..."
   when str holds CR, LF or 8-bit bytes or is longer than
   IMAP_QUOTE_MAX_QUOTED_LEN. */
void imap_append_astring(string_t *dest, const char *str);
/* nstring: NIL for NULL, else like imap_append_string(). */
void imap_append_nstring(string_t *dest, const char *str);
/* string: quoted, or a literal for CR, LF, NUL, 8-bit bytes or long data.
   No IMAP string can hold a NUL (only literal8 can, RFC 3516): NULs are
   sent as 0x80 bytes. */
void imap_append_string(string_t *dest, const void *data, size_t size);
/* Whether text can follow a response code's atom inside [...]
   (RFC 9051 §9: 1*<any TEXT-CHAR except "]">, printable ASCII here):
   for values from configuration or a passdb, such as a REFERRAL URL. */
bool imap_resp_code_text_is_valid(const char *text);

#endif
