/* The subaddress extension (RFC 5233): the :user and :detail address
 * parts, split at the caller's delimiter (sieve_env.subaddress_delimiter,
 * "+" by default) in sieve-message.c; this registers the capability. */
#include "sieve-commands.h"

const struct sieve_extension_def sieve_ext_subaddress = {
	.name = "subaddress",
};
