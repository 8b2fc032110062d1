/* The comparator capabilities (RFC 5228 §2.7.3, RFC 4790 §9): i;octet and
 * i;ascii-casemap are always available, i;ascii-numeric needs its require.
 * The comparators themselves are in sieve-match.c. */
#include "sieve-commands.h"

const struct sieve_extension_def sieve_ext_comparator_octet = {
	.name = "comparator-i;octet",
};

const struct sieve_extension_def sieve_ext_comparator_casemap = {
	.name = "comparator-i;ascii-casemap",
};

const struct sieve_extension_def sieve_ext_comparator_numeric = {
	.name = "comparator-i;ascii-numeric",
};
