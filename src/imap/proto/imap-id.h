/* The ID command's arguments and reply (RFC 2971), for both the pre-login
 * and post-login engines. */
#ifndef TERN_IMAP_ID_H
#define TERN_IMAP_ID_H

#include "buffer.h"
#include "imap-parser.h"

#define IMAP_ID_MAX_PAIRS 30 /* RFC 2971 §3.3 */

/* Validates the client's ID arguments (a list of field/value pairs, or
   NIL) and appends them to log_fields as " id_name=value" pairs. Returns 0,
   or -1 with *error_r the text for a BAD. */
int imap_id_parse(const struct imap_arg *args, string_t *log_fields, const char **error_r);
/* Our "* ID (...)" line, without CRLF. */
const char *imap_id_reply(void);

#endif
