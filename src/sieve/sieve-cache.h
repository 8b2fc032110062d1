/* A cache of compiled Sieve scripts keyed by file path, modification time
 * and size, so delivery compiles a script once and runs the same
 * read-only tree for every message until the file changes. Compile errors
 * are cached too (a broken script is not recompiled per message). */
#ifndef TERN_SIEVE_CACHE_H
#define TERN_SIEVE_CACHE_H

#include "sieve-validator.h"

struct sieve_cache;

/* max_entries: scripts kept (least recently used go first; 0 = 64);
   limits: for compiling (NULL for the defaults, copied). */
struct sieve_cache *sieve_cache_create(unsigned int max_entries,
				       const struct sieve_parser_limits *limits);
/* All scripts must have been released. */
void sieve_cache_destroy(struct sieve_cache **cache);

/* The compiled script at path, recompiled if the file's mtime or size
   changed. Returns 1 with *ast_r (hold it with this reference until
   sieve_cache_release()), 0 if the file does not exist, -1 on a read or
   compile error with *error_r (compile errors "line N: text"; valid until
   the next call for this path). */
int sieve_cache_get(struct sieve_cache *cache, const char *path,
		    const struct sieve_ast **ast_r, const char **error_r);
/* Gives back a reference from sieve_cache_get(); *ast is set to NULL. */
void sieve_cache_release(struct sieve_cache *cache, const struct sieve_ast **ast);

/* Number of scripts held (tests, statistics). */
unsigned int sieve_cache_count(const struct sieve_cache *cache);

#endif
