/* UIDL strings (RFC 1939 §7) from a template: %u the message's UID, %v
 * the mailbox's UIDVALIDITY, %g its GUID, %% a percent sign; between the
 * % and the letter, an optional 0 and width (zero padding; a width without
 * 0 cuts the value to that many characters) and modifiers X (a number in
 * lower-case hex), L and U (case). "%08Xu%08Xv" gives what Dovecot's
 * default pop3_uidl_format gives, so users moving from Dovecot keep their
 * UIDLs. config-settings.c validates templates with the same grammar. */
#ifndef TERN_POP3_UIDL_H
#define TERN_POP3_UIDL_H

#include "buffer.h"

struct pop3_uidl_vars {
	uint32_t uid, uidvalidity;
	const char *guid;
};

/* Appends the UIDL of vars to dest. Unknown variables expand to "". */
void pop3_uidl_expand(string_t *dest, const char *format, const struct pop3_uidl_vars *vars);

#endif
