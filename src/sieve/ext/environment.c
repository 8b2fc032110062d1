/* The environment extension (RFC 5183) and imapsieve's environment items
 * (RFC 6785 §3.1-§3.2): values come from the caller; the engine answers
 * the ones it knows itself (name, version, location, phase). */
#include "sieve-run.h"

#include <strings.h>

static const char *environment_builtin(const struct sieve_env *env, const char *name)
{
	if (strcasecmp(name, "name") == 0)
		return "Tern Sieve";
	if (strcasecmp(name, "version") == 0)
		return TERN_VERSION;
	/* RFC 5183 §4.1: "MDA" while delivering; RFC 6785 §3.2: "MS" for
	   IMAP events */
	if (strcasecmp(name, "location") == 0)
		return env->imap_event ? "MS" : "MDA";
	if (strcasecmp(name, "phase") == 0)
		return env->imap_event ? "post" : "during";
	return NULL;
}

int sieve_environment_get(struct sieve_run *run, const char *name, const char **value_r)
{
	const struct sieve_env *env = run->env;

	/* imap.* items exist only with imapsieve and an IMAP event */
	if (strncasecmp(name, "imap.", 5) == 0 &&
	    (!env->imap_event || !sieve_run_requires(run, "imapsieve")))
		return 0;
	if (env->get_environment != NULL &&
	    env->get_environment(env->context, name, value_r) > 0)
		return 1;
	*value_r = environment_builtin(env, name);
	return *value_r == NULL ? 0 : 1;
}

static int test_environment(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *name = sieve_run_string(run, node->positional[0]);
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	const char *value;
	int ret = sieve_environment_get(run, name, &value);

	/* RFC 5183 §4: an item the implementation does not know makes the
	   test false, whatever the match type (even :count "eq" "0") */
	if (ret > 0 && sieve_run_match_value(match, value) < 0)
		ret = -1;
	int matched = sieve_run_match_end(&match);
	return ret <= 0 ? ret : matched;
}

static const struct sieve_command_def environment_commands[] = {
	{ .identifier = "environment",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING_LIST },
	  .execute = test_environment },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_environment = {
	.name = "environment", .commands = environment_commands,
};

/* RFC 6785: a script requiring imapsieve can run on IMAP events; the
   trigger is the IMAP side's, the items are above. */
static const char *const imapsieve_implies[] = { "environment", NULL };

const struct sieve_extension_def sieve_ext_imapsieve = {
	.name = "imapsieve", .implies = imapsieve_implies,
};
