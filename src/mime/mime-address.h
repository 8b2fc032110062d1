/* RFC 5322 §3.4 address lists (From, To, Cc, ...), with the obsolete
 * syntax of §4.4 (routes, CFWS around dots) and graceful degradation for
 * broken input in the way IMAP servers conventionally report it, so that
 * an IMAP ENVELOPE (RFC 9051 §7.5.2) can be built from the result.
 *
 * A group is returned as a start marker (mailbox = group display name,
 * domain = NULL), its members, and an end marker (all four fields NULL). */
#ifndef TERN_MIME_ADDRESS_H
#define TERN_MIME_ADDRESS_H

#include "buffer.h"

struct mime_address {
	struct mime_address *next;
	/* display name (phrase, or the last comment of a bare addr-spec);
	   NULL if none. Not RFC 2047 decoded. */
	const char *name;
	/* obsolete source route "@a,@b" without the ':'; NULL if none */
	const char *route;
	/* local part, unquoted; "" when missing (NULL only in group markers) */
	const char *mailbox;
	/* domain; "" when missing, NULL in group markers */
	const char *domain;
	/* the address was not valid RFC 5322 syntax */
	bool invalid;
};

struct mime_address_list {
	struct mime_address *head, *tail;
	unsigned int count;
};

enum mime_address_flags {
	/* Fill missing parts with placeholders as IMAP servers do for
	   ENVELOPE: mailbox "MISSING_MAILBOX", domain "MISSING_DOMAIN",
	   a broken route "INVALID_ROUTE", a broken angle-addr's domain
	   "SYNTAX_ERROR". */
	MIME_ADDRESS_FLAG_FILL_MISSING = 0x01,
	/* Local parts must be RFC 5322 dot-atoms: "a..b@c" is invalid
	   (by default such dots are accepted, as mailers send them). */
	MIME_ADDRESS_FLAG_STRICT_DOTS = 0x02,
};

#define MIME_ADDRESS_MISSING_MAILBOX "MISSING_MAILBOX"
#define MIME_ADDRESS_MISSING_DOMAIN "MISSING_DOMAIN"
#define MIME_ADDRESS_INVALID_ROUTE "INVALID_ROUTE"
#define MIME_ADDRESS_SYNTAX_ERROR "SYNTAX_ERROR"

/* Parses an address-list header value (unfolded or folded, as in
   mime_header_field's raw_value or value) and appends at most
   max_addresses addresses (group markers counted as addresses; 0 means
   no limit) to list, allocated from pool. Never fails: garbage becomes
   invalid addresses. Calling it again with the same list appends, which
   is how repeated From:/To: headers are merged. */
void mime_address_parse(pool_t pool, const void *data, size_t size,
			unsigned int max_addresses, enum mime_address_flags flags,
			struct mime_address_list *list);

/* Appends addr and the addresses linked after it in RFC 5322 form:
   "name <route:mailbox@domain>", "mailbox@domain", "group: a@b, c@d;".
   Names and local parts are quoted where needed. */
void mime_address_write(string_t *dest, const struct mime_address *addr);

#endif
