/* Sieve parser: turns a script into a syntax tree following the RFC 5228
 * §8.2 grammar (commands, arguments, string lists, tests, test lists,
 * blocks), with a nesting depth limit. Knows no command names: checking
 * them is the validator's job. */
#ifndef TERN_SIEVE_PARSER_H
#define TERN_SIEVE_PARSER_H

#include "sieve-ast.h"
#include "sieve-lexer.h"

/* Arguments one command or test may have (RFC 5228 puts no limit; no
   command takes nearly this many). */
#define SIEVE_PARSER_MAX_ARGS 32

/* A compile error or warning. */
struct sieve_diag {
	unsigned int line; /* 0 if unknown */
	bool warning;
	/* "line N: text" (warnings: "line N: warning: text") */
	const char *text;
};
typedef ARRAY(struct sieve_diag) sieve_diag_array_t;

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
/* Like sieve_parse() but goes on after a syntax error (skipping to the
   end of the command) and reports up to max_errors (0 = 10) errors into
   diags (entries from pool). Returns -1 if there was any. */
int sieve_parse_diag(pool_t pool, const void *data, size_t size,
		     const struct sieve_parser_limits *limits, unsigned int max_errors,
		     struct sieve_ast **ast_r, sieve_diag_array_t *diags);

#endif
