/* Sieve validator: checks a parsed script against the registered commands
 * (sieve-extension.h) and RFC 5228 semantics - require at the top and of
 * known extensions only, argument signatures, tags and their values,
 * elsif/else placement, comparators and match types - and resolves each
 * node for the interpreter. Also applies encoded-character (RFC 5228
 * §2.4.2.4) to the script's strings when it is required. */
#ifndef TERN_SIEVE_VALIDATOR_H
#define TERN_SIEVE_VALIDATOR_H

#include "sieve-parser.h"

/* Validates ast in place. Returns 0 on success, -1 with *error_r
   "line N: text" (allocated from the tree's pool) on the first error. */
int sieve_validate(struct sieve_ast *ast, const char **error_r);

/* Parses and validates a script: the whole compile step. Returns 0 with
   *ast_r ready for sieve_execute(), or -1 with *error_r "line N: text";
   all memory comes from pool. limits may be NULL. */
int sieve_compile(pool_t pool, const void *data, size_t size,
		  const struct sieve_parser_limits *limits,
		  struct sieve_ast **ast_r, const char **error_r);

/* Like sieve_compile() but collects up to max_errors errors (0 = 10) and
   the warnings into diags (initialised by the caller, entries allocated
   from pool). Syntax errors are reported up to max_errors too (the parser
   skips to the end of a broken command); a script with syntax errors is
   not validated. */
int sieve_compile_diag(pool_t pool, const void *data, size_t size,
		       const struct sieve_parser_limits *limits, unsigned int max_errors,
		       struct sieve_ast **ast_r, sieve_diag_array_t *diags);

/* True if the script requires the extension (valid after validation). */
bool sieve_ast_requires(const struct sieve_ast *ast, const char *extension);

#endif
