/* Sieve comparators and match types: i;octet and i;ascii-casemap
 * (RFC 4790 §9.3, §9.2), i;ascii-numeric (RFC 4790 §9.1), and :is,
 * :contains, :matches (RFC 5228 §2.7.1) with '*', '?' and '\' escapes;
 * also the address parts of RFC 5228 §2.7.4. */
#ifndef TERN_SIEVE_MATCH_H
#define TERN_SIEVE_MATCH_H

#include "lib.h"

#include <time.h>

enum sieve_comparator {
	SIEVE_COMPARATOR_ASCII_CASEMAP = 0, /* the default, RFC 5228 §2.7.3 */
	SIEVE_COMPARATOR_OCTET,
	SIEVE_COMPARATOR_ASCII_NUMERIC,
};

enum sieve_match_type {
	SIEVE_MATCH_IS = 0, /* the default, RFC 5228 §2.7.1 */
	SIEVE_MATCH_CONTAINS,
	SIEVE_MATCH_MATCHES,
	SIEVE_MATCH_COUNT, /* RFC 5231 §4.1 */
	SIEVE_MATCH_VALUE, /* RFC 5231 §4.2 */
	SIEVE_MATCH_REGEX, /* draft-ietf-sieve-regex */
};

/* RFC 5231 §5 relational operators */
enum sieve_relation {
	SIEVE_RELATION_GT = 0,
	SIEVE_RELATION_GE,
	SIEVE_RELATION_LT,
	SIEVE_RELATION_LE,
	SIEVE_RELATION_EQ,
	SIEVE_RELATION_NE,
};

/* ${0} .. ${31}: RFC 5229 §3.2 asks for at least ${0} .. ${9}; more help
   long :matches patterns (one per wildcard) */
#define SIEVE_MATCH_MAX_CAPTURES 32

struct sieve_match_capture {
	/* start and length of each wildcard's (or group's) text in the
	   value; count is how many were set */
	size_t start[SIEVE_MATCH_MAX_CAPTURES], len[SIEVE_MATCH_MAX_CAPTURES];
	unsigned int count;
};

enum sieve_address_part {
	SIEVE_ADDRESS_ALL = 0, /* the default, RFC 5228 §2.7.4 */
	SIEVE_ADDRESS_LOCALPART,
	SIEVE_ADDRESS_DOMAIN,
	SIEVE_ADDRESS_USER,   /* RFC 5233 §4 */
	SIEVE_ADDRESS_DETAIL, /* RFC 5233 §4 */
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

/* Matches value against key (:is, :contains, :matches only). Returns true
   on a match. Runs in O(len(value) * len(key)) at worst, whatever the
   pattern. */
bool sieve_match(enum sieve_comparator cmp, enum sieve_match_type type,
		 const char *value, const char *key);
/* :matches, filling cap_r with ${0} (the whole value) and the text each
   '*' and '?' matched, leftmost-shortest (RFC 5229 §3.2). */
bool sieve_match_wildcards(enum sieve_comparator cmp, const char *value, const char *key,
			   struct sieve_match_capture *cap_r);
/* Orders a and b under cmp (RFC 4790 §4.2): <0, 0, >0. i;ascii-numeric
   puts strings without leading digits after all numbers. */
int sieve_comparator_compare(enum sieve_comparator cmp, const char *a, const char *b);
/* True if "value REL key" given the result of sieve_comparator_compare(). */
bool sieve_relation_holds(enum sieve_relation rel, int cmp_result);
/* Parses "gt", "ge", ... (case-insensitive); 1 found, 0 unknown. */
int sieve_relation_lookup(const char *name, enum sieve_relation *rel_r);

#endif
