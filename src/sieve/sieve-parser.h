/* Sieve parser: turns a script into a syntax tree following the RFC 5228
 * §8.2 grammar (commands, arguments, string lists, tests, test lists,
 * blocks), with a nesting depth limit. Knows no command names: checking
 * them is the validator's job. */
#ifndef TERN_SIEVE_PARSER_H
#define TERN_SIEVE_PARSER_H

#include "sieve-ast.h"
#include "sieve-lexer.h"

struct sieve_parser_limits {
	struct sieve_lexer_limits lexer;
	/* blocks and tests nested in each other; 0 = 32 */
	unsigned int max_nesting;
};

/* Parses data into a tree allocated from pool. Returns 0 with *ast_r on
   success, -1 with *error_r "line N: text" (allocated from pool) on a
   syntax error. limits may be NULL for the defaults. */
int sieve_parse(pool_t pool, const void *data, size_t size,
		const struct sieve_parser_limits *limits,
		struct sieve_ast **ast_r, const char **error_r);

#endif
