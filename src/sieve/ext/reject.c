/* reject and ereject (RFC 5429): refuse the message with a reason. The
 * conflicts with keep, fileinto, redirect and vacation (§2.1) are checked
 * where actions are added. */
#include "sieve-run.h"

#include <strings.h>

static int exec_reject(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_action action = {
		.type = strcasecmp(node->def->identifier, "reject") == 0 ?
			SIEVE_ACTION_REJECT : SIEVE_ACTION_EREJECT,
		.target = sieve_run_string(run, node->positional[0]),
	};

	return sieve_run_add_action(run, node, &action);
}

static const struct sieve_command_def reject_commands[] = {
	{ .identifier = "reject", .positional = { SIEVE_ARG_STRING }, .execute = exec_reject },
	{ .identifier = NULL },
};

static const struct sieve_command_def ereject_commands[] = {
	{ .identifier = "ereject", .positional = { SIEVE_ARG_STRING }, .execute = exec_reject },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_reject = {
	.name = "reject", .commands = reject_commands,
};

const struct sieve_extension_def sieve_ext_ereject = {
	.name = "ereject", .commands = ereject_commands,
};
