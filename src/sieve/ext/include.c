/* The include extension (RFC 6609): include runs another script (:personal
 * or :global, :once, :optional) with its own variables but the same
 * result; return leaves the current script; global shares variables
 * (§3.4). Scripts come compiled from the caller (sieve_env.include_load);
 * nesting depth, total count and cycles are checked here, at compile time
 * when the caller gives a loader then (sieve_compile_env_diag()), else at
 * run time. A script name is a constant string: variables are not expanded
 * in it (RFC 6609 §3.2), so a name with a variable reference is a compile
 * error. */
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

/* RFC 6609 §3.2 names a script, not a path: no "/"; and as a script
   name (RFC 5804 §1.6) valid UTF-8 without the control characters
   U+0000-001F, U+007F-009F and the separators U+2028, U+2029. */
static bool include_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0' || strchr(name, '/') != NULL)
		return false;
	while (*p != '\0') {
		unsigned int cp, len;

		if (*p < 0x80) {
			cp = *p;
			len = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			len = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			len = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			len = 4;
		} else {
			return false;
		}
		for (unsigned int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			return false;
		p += len;
	}
	return true;
}

/* Compile-time include resolution (struct sieve_compile_env): the chain
   of scripts being checked and every script seen, per compile. */
struct include_check {
	const struct sieve_compile_env *cenv;
	unsigned int max_depth, max_includes;
	ARRAY(struct include_entry) stack;
	ARRAY(struct include_entry) seen;
};

static const char *include_resolve(struct sieve_validator *validator,
				   const struct sieve_ast_node *top, struct include_check *chk,
				   const struct include_entry *entry,
				   const struct sieve_ast_node *node);

/* The includes with constant names in a compiled script's commands
   (blocks included). Returns the first failure's text or NULL. */
static const char *include_check_nodes(struct sieve_validator *validator,
				       const struct sieve_ast_node *top,
				       struct include_check *chk, const struct sieve_ast *ast,
				       const struct sieve_ast_node *node, const char *script)
{
	for (unsigned int i = 0; i < node->block.count; i++) {
		const struct sieve_ast_node *child = node->block.v[i];
		const char *error;

		if (child->def != NULL && child->ext == &sieve_ext_include &&
		    strcasecmp(child->identifier, "include") == 0 && child->positional[0] != NULL) {
			const char *name = child->positional[0]->strings[0];
			struct include_entry entry = {
				.location = sieve_node_has_tag(child, "global") ?
					SIEVE_INCLUDE_GLOBAL : SIEVE_INCLUDE_PERSONAL,
				.name = name,
			};

			if (!include_name_valid(name))
				continue;
			error = include_resolve(validator, top, chk, &entry, child);
			if (error != NULL) {
				/* the failing level's own error; this level's
				   failure is the caller's to report */
				sieve_validator_error(validator, top, t_strdup_printf(
					"included script '%s', line %u: %s", script,
					child->line, error));
				return t_strdup_printf("failed to compile included script '%s'",
						       script);
			}
		}
		if (child->has_block && !child->skip_block) {
			error = include_check_nodes(validator, top, chk, ast, child, script);
			if (error != NULL)
				return error;
		}
	}
	return NULL;
}

static const char *include_resolve(struct sieve_validator *validator,
				   const struct sieve_ast_node *top, struct include_check *chk,
				   const struct include_entry *entry,
				   const struct sieve_ast_node *node)
{
	const struct sieve_ast *ast;
	const char *error = "no script loader";
	int ret;

	/* RFC 6609 §3.2: :once skips a script included before (or running:
	   a script may include itself :once) */
	if (sieve_node_has_tag(node, "once") &&
	    (entries_contain(chk->seen.v, chk->seen.count, entry->location, entry->name) ||
	     entries_contain(chk->stack.v, chk->stack.count, entry->location, entry->name)))
		return NULL;

	/* RFC 6609 §3.2: a script including itself, directly or not */
	if (entries_contain(chk->stack.v, chk->stack.count, entry->location, entry->name))
		return t_strdup_printf("circular include of script '%s'", entry->name);
	if (chk->stack.count >= chk->max_depth)
		return t_strdup_printf("includes nested too deep (limit %u)", chk->max_depth);
	if (!entries_contain(chk->seen.v, chk->seen.count, entry->location, entry->name)) {
		if (chk->seen.count >= chk->max_includes)
			return t_strdup_printf("too many included scripts (limit %u)",
					       chk->max_includes);
		array_push(&chk->seen, *entry);
	}
	ret = chk->cenv->include_load(chk->cenv->context, entry->location, entry->name,
				      &ast, &error);
	if (ret < 0)
		return t_strdup_printf("failed to compile included script '%s': %s",
				       entry->name, error);
	if (ret == 0) {
		if (sieve_node_has_tag(node, "optional"))
			return NULL;
		error = t_strdup_printf("included script '%s' does not exist", entry->name);
		if (!chk->cenv->missing_include_is_warning)
			return error;
		sieve_validator_warning(validator, top, error);
		return NULL;
	}
	array_push(&chk->stack, *entry);
	error = include_check_nodes(validator, top, chk, ast, ast->root, entry->name);
	chk->stack.count--;
	return error;
}

static struct include_check *include_check_get(struct sieve_validator *validator,
					       const struct sieve_compile_env *cenv)
{
	struct include_check *chk = sieve_validator_ext_context(validator, &sieve_ext_include);
	pool_t pool = sieve_validator_get_ast(validator)->pool;

	if (chk == NULL) {
		chk = p_new(pool, struct include_check, 1);
		chk->cenv = cenv;
		chk->max_depth = cenv->max_include_depth == 0 ? 10 : cenv->max_include_depth;
		chk->max_includes = cenv->max_includes == 0 ? 255 : cenv->max_includes;
		array_init(&chk->stack, pool, 4);
		array_init(&chk->seen, pool, 8);
		sieve_validator_set_ext_context(validator, &sieve_ext_include, chk);
	}
	return chk;
}

static int validate_include(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_compile_env *cenv = sieve_validator_compile_env(validator);
	const char *name = node->positional[0]->strings[0];

	if (sieve_node_has_tag(node, "personal") && sieve_node_has_tag(node, "global")) {
		*error_r = "include takes only one of :personal and :global";
		return -1;
	}
	/* RFC 6609 §3.2: the name MUST be a constant string (RFC 5229 §3) */
	if (sieve_validator_string_is_dynamic(validator, name)) {
		*error_r = t_strdup_printf("include: the script name \"%s\" must be a "
					   "constant string, variables are not expanded in it",
					   name);
		return -1;
	}
	if (!include_name_valid(name)) {
		*error_r = t_strdup_printf("include: invalid script name \"%s\"", name);
		return -1;
	}
	if (cenv != NULL && cenv->include_load != NULL) {
		struct include_entry entry = {
			.location = sieve_node_has_tag(node, "global") ?
				SIEVE_INCLUDE_GLOBAL : SIEVE_INCLUDE_PERSONAL,
			.name = p_strdup(sieve_validator_get_ast(validator)->pool, name),
		};

		*error_r = include_resolve(validator, node, include_check_get(validator, cenv),
					   &entry, node);
		if (*error_r != NULL)
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
		/* constant (validate_include): never expanded */
		.name = p_strdup(run->pool, node->positional[0]->strings[0]),
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
	.variable_namespace = "global",
};
