/* The syntax tree of a Sieve script (RFC 5228 §8.2 grammar): commands with
 * arguments, tests and blocks. The parser builds it; the validator
 * resolves each node to its command definition and fills the "validated"
 * fields the interpreter reads. All memory belongs to the tree's pool. */
#ifndef TERN_SIEVE_AST_H
#define TERN_SIEVE_AST_H

#include "array.h"
#include "buffer.h"
#include "sieve-match.h"

enum sieve_ast_arg_type {
	SIEVE_AST_ARG_NUMBER,
	SIEVE_AST_ARG_STRING,      /* a single string: strings has one entry */
	SIEVE_AST_ARG_STRING_LIST, /* "[ ... ]": one or more entries */
	SIEVE_AST_ARG_TAG,
};

struct sieve_ast_arg {
	enum sieve_ast_arg_type type;
	unsigned int line, column;
	uint64_t number;
	const char *tag; /* without the ':' */
	const char **strings;
	unsigned int string_count;
};

struct sieve_command_def;
struct sieve_ast_node;
typedef ARRAY(struct sieve_ast_node *) sieve_ast_node_array_t;
typedef ARRAY(struct sieve_ast_arg) sieve_ast_arg_array_t;

/* Most positional arguments any base command or test takes. */
#define SIEVE_MAX_POSITIONAL 4
/* Tags one command may carry. */
#define SIEVE_MAX_TAGS 16

struct sieve_tag_def;
struct sieve_extension_def;

/* A tagged argument of a validated node. */
struct sieve_node_tag {
	const struct sieve_tag_def *def;
	/* the tag itself, and its value (NULL for tags without one) */
	const struct sieve_ast_arg *arg, *value;
};

/* One command, or one test (the grammar is the same). */
struct sieve_ast_node {
	const char *identifier;
	unsigned int line, column;
	struct sieve_ast_node *parent;
	sieve_ast_arg_array_t args;
	/* tests: one test argument, or a "( ... )" test list (test_list) */
	sieve_ast_node_array_t tests;
	bool test_list;
	/* the "{ ... }" block after a command (has_block) */
	sieve_ast_node_array_t block;
	bool has_block;

	/* set by the validator */
	const struct sieve_command_def *def;
	const struct sieve_ast_arg *positional[SIEVE_MAX_POSITIONAL];
	unsigned int positional_count;
	/* the extension defining the command (NULL: base language) */
	const struct sieve_extension_def *ext;
	struct sieve_node_tag tags[SIEVE_MAX_TAGS];
	unsigned int tag_count;
	enum sieve_comparator comparator;
	enum sieve_match_type match_type;
	/* for :count and :value (RFC 5231) */
	enum sieve_relation relation;
	enum sieve_address_part address_part;
	/* the block is not validated and never run (if ihave "unknown") */
	bool skip_block;
};

struct sieve_ast {
	pool_t pool;
	/* the script's top level: a block without identifier */
	struct sieve_ast_node *root;
	/* extensions the script requires, each once (set by the
	   validator) */
	array_str_t extensions;
	/* the script's name (include, diagnostics); NULL if none */
	const char *name;
};

struct sieve_ast *sieve_ast_create(pool_t pool);
/* Adds a command to a block (parent NULL = top level) or a test. */
struct sieve_ast_node *sieve_ast_node_create(struct sieve_ast *ast, const char *identifier,
					     unsigned int line, unsigned int column);
/* Appends a canonical re-printing of node's children, one command per
   line ("if header :is \"a\" [\"b\", \"c\"] { keep; }"), to dest; used by
   tests and for diagnostics. */
void sieve_ast_write(string_t *dest, const struct sieve_ast_node *node);
/* Writes one string as a quoted Sieve string. */
void sieve_ast_write_string(string_t *dest, const char *str);

#endif
