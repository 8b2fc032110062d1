/* The include extension (RFC 6609): include runs another script (:personal
 * or :global, :once, :optional) with its own variables but the same
 * result; return leaves the current script; global shares variables
 * (§3.4). Scripts come compiled from the caller (sieve_env.include_load);
 * nesting depth, total count and cycles are checked here. */
#include "sieve-run.h"

#include <strings.h>

struct include_entry {
	enum sieve_include_location location;
	const char *name;
};

struct include_context {
	ARRAY(struct include_entry) stack;  /* scripts running now */
	ARRAY(struct include_entry) done;   /* every script included */
};

static struct include_context *include_get(struct sieve_run *run)
{
	struct include_context *ctx = sieve_run_ext_context(run, &sieve_ext_include);

	if (ctx == NULL) {
		ctx = p_new(run->pool, struct include_context, 1);
		array_init(&ctx->stack, run->pool, 4);
		array_init(&ctx->done, run->pool, 4);
		sieve_run_set_ext_context(run, &sieve_ext_include, ctx);
	}
	return ctx;
}

static bool entries_contain(const struct include_entry *v, unsigned int count,
			    enum sieve_include_location location, const char *name)
{
	for (unsigned int i = 0; i < count; i++) {
		if (v[i].location == location && strcmp(v[i].name, name) == 0)
			return true;
	}
	return false;
}

static int validate_include(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const char *name = node->positional[0]->strings[0];

	if (sieve_node_has_tag(node, "personal") && sieve_node_has_tag(node, "global")) {
		*error_r = "include takes only one of :personal and :global";
		return -1;
	}
	/* RFC 6609 §3.2: a script name, not a path */
	if (!sieve_validator_string_is_dynamic(validator, name) &&
	    (name[0] == '\0' || strchr(name, '/') != NULL)) {
		*error_r = t_strdup_printf("include: invalid script name \"%s\"", name);
		return -1;
	}
	return 0;
}

static int include_run(struct sieve_run *run, const struct sieve_ast_node *node,
		       struct include_context *ctx, const struct include_entry *entry,
		       const struct sieve_ast *ast)
{
	struct sieve_var_scope *saved_scope = run->scope;
	const char *saved_name = run->script_name;
	int ret;

	array_push(&ctx->stack, *entry);
	array_push(&ctx->done, *entry);
	run->scope = NULL;
	run->script_name = entry->name;
	ret = sieve_run_script(run, ast);
	run->scope = saved_scope;
	run->script_name = saved_name;
	ctx->stack.count--;
	return ret;
}

static int exec_include(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct include_context *ctx = include_get(run);
	const struct sieve_env *env = run->env;
	struct include_entry entry = {
		.location = sieve_node_has_tag(node, "global") ?
			SIEVE_INCLUDE_GLOBAL : SIEVE_INCLUDE_PERSONAL,
		.name = p_strdup(run->pool, sieve_run_string(run, node->positional[0])),
	};
	const struct sieve_ast *ast;
	const char *error = "no script loader";
	int ret;

	if (sieve_node_has_tag(node, "once") &&
	    entries_contain(ctx->done.v, ctx->done.count, entry.location, entry.name))
		return 0;
	/* RFC 6609 §3.2: a script including itself, directly or not */
	if (entries_contain(ctx->stack.v, ctx->stack.count, entry.location, entry.name))
		return sieve_run_error(run, node, "include loop: \"%s\" is already running",
				       entry.name);
	if (ctx->stack.count >= run->limits.max_include_depth)
		return sieve_run_error(run, node, "includes nested too deep (limit %u)",
				       run->limits.max_include_depth);
	if (ctx->done.count >= run->limits.max_includes)
		return sieve_run_error(run, node, "too many includes (limit %u)",
				       run->limits.max_includes);
	ret = env->include_load == NULL ? 0 :
		env->include_load(env->context, entry.location, entry.name, &ast, &error);
	if (ret < 0)
		return sieve_run_error(run, node, "include \"%s\": %s", entry.name, error);
	if (ret == 0) {
		if (sieve_node_has_tag(node, "optional"))
			return 0;
		return sieve_run_error(run, node, "included script \"%s\" does not exist",
				       entry.name);
	}
	return include_run(run, node, ctx, &entry, ast);
}

static int exec_return(struct sieve_run *run, const struct sieve_ast_node *node)
{
	run->returned = true;
	return 0;
}

static int validate_global(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	if (!sieve_ast_requires(sieve_validator_get_ast(validator), "variables")) {
		*error_r = "global needs require \"variables\"";
		return -1;
	}
	return 0;
}

static int exec_global(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *names = node->positional[0];

	for (unsigned int i = 0; i < names->string_count; i++)
		sieve_variables_declare_global(run, names->strings[i]);
	return 0;
}

static const struct sieve_tag_def include_tags[] = {
	{ .name = "personal" },
	{ .name = "global" },
	{ .name = "once" },
	{ .name = "optional" },
	{ .name = NULL },
};

static const struct sieve_command_def include_commands[] = {
	{ .identifier = "include", .positional = { SIEVE_ARG_STRING }, .tags = include_tags,
	  .validate = validate_include, .execute = exec_include },
	{ .identifier = "return", .execute = exec_return },
	{ .identifier = "global", .positional = { SIEVE_ARG_STRING_LIST },
	  .validate = validate_global, .execute = exec_global },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_include = {
	.name = "include", .commands = include_commands,
};
