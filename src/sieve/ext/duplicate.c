/* The duplicate test (RFC 7352): has a message with this id (Message-ID,
 * another header's value, or :uniqueid) been seen within the period? The
 * caller's database answers (sieve_env.duplicate_check); the id is
 * recorded through result->duplicate_marks once the run succeeds. */
#include "sieve-run.h"

#include <strings.h>

/* RFC 7352 §3.4 leaves the default period to the implementation */
#define SIEVE_DUPLICATE_DEFAULT_PERIOD (7 * 24 * 3600)

static int validate_duplicate(struct sieve_validator *validator,
			      struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *header = sieve_node_tag_value(node, "header");

	if (header != NULL && sieve_node_has_tag(node, "uniqueid")) {
		*error_r = "only one of :header and :uniqueid";
		return -1;
	}
	if (header != NULL)
		return sieve_validate_header_names(header, error_r);
	return 0;
}

static int duplicate_value(struct sieve_run *run, const struct sieve_ast_node *node,
			   const char **value_r)
{
	const struct sieve_ast_arg *uniqueid = sieve_node_tag_value(node, "uniqueid");
	const struct sieve_ast_arg *header = sieve_node_tag_value(node, "header");
	const char *const *values;

	if (uniqueid != NULL) {
		*value_r = sieve_run_string(run, uniqueid);
		return 1;
	}
	if (sieve_run_get_headers(run, node, header == NULL ? "message-id" :
				  sieve_run_string(run, header), &values) < 0)
		return -1;
	if (values[0] == NULL)
		return 0;
	*value_r = sieve_header_value_prepare(run->pool, values[0]);
	return 1;
}

static int test_duplicate(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *handle = sieve_node_tag_value(node, "handle");
	const struct sieve_ast_arg *seconds = sieve_node_tag_value(node, "seconds");
	const struct sieve_env *env = run->env;
	const char *value, *id, *error;
	struct sieve_duplicate_mark mark;
	int ret = duplicate_value(run, node, &value);

	/* RFC 7352 §3.1: no id (missing header) means not a duplicate */
	if (ret <= 0)
		return ret;
	id = p_strconcat(run->pool, handle == NULL ? "" : sieve_run_string(run, handle),
			 "\n", value, NULL);
	mark.id = id;
	mark.period_secs = seconds != NULL ? seconds->number : SIEVE_DUPLICATE_DEFAULT_PERIOD;
	mark.last = sieve_node_has_tag(node, "last");
	/* the same id twice in one run: the first test's answer */
	for (unsigned int i = 0; i < run->result->duplicate_marks.count; i++) {
		if (strcmp(run->result->duplicate_marks.v[i].id, id) == 0)
			return run->result->duplicate_marks.v[i].seen ? 1 : 0;
	}
	ret = 0;
	if (env->duplicate_check != NULL &&
	    (ret = env->duplicate_check(env->context, id, mark.period_secs, &error)) < 0)
		return sieve_run_error(run, node, "duplicate: %s", error);
	mark.seen = ret > 0;
	array_push(&run->result->duplicate_marks, mark);
	return ret > 0 ? 1 : 0;
}

static const struct sieve_tag_def duplicate_tags[] = {
	{ .name = "handle", .value = SIEVE_ARG_STRING },
	{ .name = "header", .value = SIEVE_ARG_STRING },
	{ .name = "uniqueid", .value = SIEVE_ARG_STRING },
	{ .name = "seconds", .value = SIEVE_ARG_NUMBER },
	{ .name = "last" },
	{ .name = NULL },
};

static const struct sieve_command_def duplicate_commands[] = {
	{ .identifier = "duplicate", .flags = SIEVE_CMD_FLAG_TEST, .tags = duplicate_tags,
	  .validate = validate_duplicate, .execute = test_duplicate },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_duplicate = {
	.name = "duplicate", .commands = duplicate_commands,
};
