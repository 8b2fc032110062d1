/* Sieve comparators and match types: i;octet and i;ascii-casemap
 * (RFC 4790 §9.3, §9.2), i;ascii-numeric (RFC 4790 §9.1), and :is,
 * :contains, :matches (RFC 5228 §2.7.1) with '*', '?' and '\' escapes;
 * also the address parts of RFC 5228 §2.7.4. */
#ifndef TERN_SIEVE_MATCH_H
#define TERN_SIEVE_MATCH_H

#include "lib.h"

enum sieve_comparator {
	SIEVE_COMPARATOR_ASCII_CASEMAP = 0, /* the default, RFC 5228 §2.7.3 */
	SIEVE_COMPARATOR_OCTET,
	SIEVE_COMPARATOR_ASCII_NUMERIC,
};

enum sieve_match_type {
	SIEVE_MATCH_IS = 0, /* the default, RFC 5228 §2.7.1 */
	SIEVE_MATCH_CONTAINS,
	SIEVE_MATCH_MATCHES,
};

enum sieve_address_part {
	SIEVE_ADDRESS_ALL = 0, /* the default, RFC 5228 §2.7.4 */
	SIEVE_ADDRESS_LOCALPART,
	SIEVE_ADDRESS_DOMAIN,
};

/* Looks up a comparator by its registered name ("i;octet"); returns 1 and
   the comparator, 0 if unknown. */
int sieve_comparator_lookup(const char *name, enum sieve_comparator *cmp_r);
const char *sieve_comparator_name(enum sieve_comparator cmp);
/* The extension a script must require to use cmp, or NULL for the ones
   every script has (RFC 5228 §2.7.3). */
const char *sieve_comparator_extension(enum sieve_comparator cmp);
/* RFC 4790 §9.1: i;ascii-numeric only supports equality (and ordering),
   not substring matching. */
bool sieve_comparator_supports(enum sieve_comparator cmp, enum sieve_match_type type);

/* Matches value against key. Returns true on a match. Runs in
   O(len(value) * len(key)) at worst, whatever the pattern. */
bool sieve_match(enum sieve_comparator cmp, enum sieve_match_type type,
		 const char *value, const char *key);

#endif
