/* The relational extension (RFC 5231): the :count and :value match types
 * with their operators, implemented in sieve-match.c (ordering) and
 * sieve-matcher.c (counting); this registers the capability. */
#include "sieve-commands.h"

const struct sieve_extension_def sieve_ext_relational = {
	.name = "relational",
};
