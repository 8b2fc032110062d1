/* placeholder */
#include "sieve-run.h"

int sieve_mime_match_header(struct sieve_run *run, const struct sieve_ast_node *node,
			    struct sieve_match *match, const char *name, const char *value)
{
	return sieve_run_match_value(match, value);
}
