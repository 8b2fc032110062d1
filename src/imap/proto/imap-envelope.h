/* The IMAP ENVELOPE structure (RFC 9051 §7.5.2, RFC 3501 §7.4.2): collected
 * from a message's header fields as the MIME parser returns them, and
 * written in the form IMAP servers conventionally share (Dovecot's): the
 * subject and display names raw (not RFC 2047 decoded) with whitespace
 * runs folded to one space, the date and message ids as written, and
 * address lists through the lenient RFC 5322 parser with placeholders for
 * what is missing. */
#ifndef TERN_IMAP_ENVELOPE_H
#define TERN_IMAP_ENVELOPE_H

#include "mime-address.h"
#include "mime-header.h"

struct imap_envelope {
	/* the last Date, Subject, In-Reply-To and Message-ID fields: their
	   values with one leading blank removed and line breaks taken out,
	   NULs replaced by U+FFFD; NULL if absent */
	const char *date, *subject, *in_reply_to, *message_id;
	/* the addresses of all fields of each kind, merged as if they were
	   one comma-separated list (so a second From: can't hide behind the
	   first) */
	struct mime_address_list from, sender, reply_to, to, cc, bcc;
};

/* Addresses per address field kind; more are dropped. */
#define IMAP_ENVELOPE_MAX_ADDRESSES 10000

/* Takes field into env if it is one of the envelope fields; other fields
   (and lines without a colon) are ignored. Strings are allocated from
   pool. */
void imap_envelope_add_field(pool_t pool, struct imap_envelope *env,
			     const struct mime_header_field *field);
/* Parses a whole header block held in memory. Never fails. */
struct imap_envelope *imap_envelope_parse(pool_t pool, const void *header, size_t size);

/* Appends the ten envelope fields (without the enclosing parentheses):
   date subject from sender reply-to to cc bcc in-reply-to message-id.
   Sender and Reply-To default to From (RFC 9051 §7.5.2). env == NULL
   writes ten NILs. */
void imap_envelope_write(const struct imap_envelope *env, string_t *dest);

/* Appends str as an IMAP string after folding every run of blanks, CRs
   and LFs to one space and trimming them at both ends, as display names
   and subjects are sent. */
void imap_envelope_append_for_humans(string_t *dest, const char *str);

#endif
