/* The table of Sieve commands and tests the validator knows, with their
 * signatures (RFC 5228 §2.6: positional arguments, tagged arguments, test
 * and block placement), and the registry of extensions a script may
 * require (RFC 5228 §3.2). Extensions will move to ext/<name>/; for now
 * they are rows of these tables. */
#ifndef TERN_SIEVE_COMMANDS_H
#define TERN_SIEVE_COMMANDS_H

#include "sieve-ast.h"

enum sieve_command_id {
	SIEVE_CMD_REQUIRE,
	SIEVE_CMD_IF,
	SIEVE_CMD_ELSIF,
	SIEVE_CMD_ELSE,
	SIEVE_CMD_STOP,
	SIEVE_CMD_KEEP,
	SIEVE_CMD_DISCARD,
	SIEVE_CMD_REDIRECT,
	SIEVE_CMD_FILEINTO,
	SIEVE_CMD_REJECT,
	SIEVE_CMD_EREJECT,
	SIEVE_TEST_ADDRESS,
	SIEVE_TEST_ENVELOPE,
	SIEVE_TEST_HEADER,
	SIEVE_TEST_EXISTS,
	SIEVE_TEST_SIZE,
	SIEVE_TEST_ALLOF,
	SIEVE_TEST_ANYOF,
	SIEVE_TEST_NOT,
	SIEVE_TEST_TRUE,
	SIEVE_TEST_FALSE,

	SIEVE_COMMAND_COUNT
};

enum sieve_arg_kind {
	SIEVE_ARG_NONE = 0,
	SIEVE_ARG_STRING,
	SIEVE_ARG_STRING_LIST, /* a single string is accepted too */
	SIEVE_ARG_NUMBER,
};

struct sieve_tag_def {
	const char *name;
	/* the argument the tag takes, or SIEVE_ARG_NONE */
	enum sieve_arg_kind value;
	/* extension the script must require to use the tag; NULL for none */
	const char *extension;
};

enum sieve_command_flags {
	/* takes the :comparator, match-type and address-part tags of
	   RFC 5228 §2.7 */
	SIEVE_CMD_FLAG_COMPARATOR = 0x01,
	SIEVE_CMD_FLAG_MATCH_TYPE = 0x02,
	SIEVE_CMD_FLAG_ADDRESS_PART = 0x04,
	/* is a test (else a command) */
	SIEVE_CMD_FLAG_TEST = 0x08,
	/* needs a block (if, elsif, else) */
	SIEVE_CMD_FLAG_BLOCK = 0x10,
};

enum sieve_test_args {
	SIEVE_TESTS_NONE = 0,
	SIEVE_TESTS_ONE,  /* exactly one test, not in parentheses */
	SIEVE_TESTS_LIST, /* a "( ... )" test list */
};

struct sieve_validator;

struct sieve_command_def {
	const char *identifier;
	enum sieve_command_id id;
	enum sieve_command_flags flags;
	/* extension to require first; NULL for the base language */
	const char *extension;
	enum sieve_arg_kind positional[SIEVE_MAX_POSITIONAL];
	const struct sieve_tag_def *tags; /* NULL-name terminated, or NULL */
	enum sieve_test_args tests;
	/* command-specific checks after the generic signature check;
	   returns -1 with an error (without the line prefix) */
	int (*validate)(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r);
};

/* Finds a command or test by identifier (case-insensitive). */
const struct sieve_command_def *sieve_command_lookup(const char *identifier);
/* True if name is an extension this build implements. */
bool sieve_extension_is_known(const char *name);
/* The names of the implemented extensions, NULL-terminated (for the
   ManageSieve SIEVE capability). */
const char *const *sieve_extension_names(void);
/* Index of the tag in def->tags, -1 if it has no such tag. */
int sieve_command_find_tag(const struct sieve_command_def *def, const char *name);

/* for the table in sieve-commands.c: command-specific validation in
   sieve-validator.c */
int sieve_validate_require(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r);
int sieve_validate_elsif(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r);
int sieve_validate_redirect(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r);
int sieve_validate_fileinto(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r);
int sieve_validate_address(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r);
int sieve_validate_envelope(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r);
int sieve_validate_header(struct sieve_validator *validator,
			  struct sieve_ast_node *node, const char **error_r);
int sieve_validate_size(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r);

#endif
