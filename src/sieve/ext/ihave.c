/* The ihave extension (RFC 5463): the ihave test, true when every named
 * extension is available, which also makes them usable in the script
 * (§4); the block of an "if ihave" naming an unknown one is not
 * validated and never runs. Extensions that change how the rest of the
 * script's strings are read (encoded-character, variables) cannot be
 * enabled by ihave: the test is false for them (§4). And the error
 * command (§5). */
#include "sieve-run.h"

#include <strings.h>

/* RFC 5463 §4: ihave MUST NOT enable extensions that change how the
   script's strings are interpreted; the test fails for them. */
static bool ihave_allowed(const char *name)
{
	return strcmp(name, "encoded-character") != 0 && strcmp(name, "variables") != 0;
}

static int validate_ihave(struct sieve_validator *validator,
			  struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];
	bool all_known = true;

	for (unsigned int i = 0; i < arg->string_count; i++) {
		if (!ihave_allowed(arg->strings[i]) ||
		    sieve_validator_add_extension(validator, arg->strings[i]) < 0)
			all_known = false;
	}
	if (!all_known && node->parent != NULL && node->parent->tests.count == 1 &&
	    node->parent->tests.v[0] == node)
		sieve_validator_skip_block(validator, node->parent);
	return 0;
}

static int test_ihave(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	/* RFC 5463 §4: the argument is not subject to variable expansion */
	for (unsigned int i = 0; i < arg->string_count; i++) {
		if (!ihave_allowed(arg->strings[i]) ||
		    !sieve_extension_is_known(arg->strings[i]))
			return 0;
	}
	return 1;
}

static int exec_error(struct sieve_run *run, const struct sieve_ast_node *node)
{
	return sieve_run_error(run, node, "%s", sieve_run_string(run, node->positional[0]));
}

static const struct sieve_command_def ihave_commands[] = {
	{ .identifier = "ihave", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SIEVE_ARG_STRING_LIST }, .validate = validate_ihave,
	  .execute = test_ihave },
	{ .identifier = "error", .positional = { SIEVE_ARG_STRING }, .execute = exec_error },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_ihave = {
	.name = "ihave", .commands = ihave_commands,
};
