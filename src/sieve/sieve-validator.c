/* Sieve validation: the generic signature check driven by the registered
 * command definitions (RFC 5228 §2.6-§2.7, §3.2), then each command's own
 * validate hook. Reports several errors per compile, each with its line. */
#include "sieve-validator.h"
#include "sieve-run.h"

#include <stdio.h>
#include <strings.h>

#define SIEVE_DEFAULT_MAX_ERRORS 10

struct sieve_validator_ext_context {
	const struct sieve_extension_def *ext;
	void *context;
};

struct sieve_validator {
	struct sieve_ast *ast;
	pool_t pool;
	sieve_diag_array_t *diags;
	unsigned int max_errors, error_count;
	/* the command before the one being validated in its block */
	const struct sieve_ast_node *prev_command;
	/* a non-require command was seen at the top level */
	bool commands_started;
	/* unknown command and test names already reported */
	ARRAY(const char *) unknown;
	/* sieve_compile_env_diag(): the caller's loader for compile-time
	   checks, and one state pointer per extension using it */
	const struct sieve_compile_env *cenv;
	ARRAY(struct sieve_validator_ext_context) ext_contexts;
};

bool sieve_ast_requires(const struct sieve_ast *ast, const char *extension)
{
	/* the list holds each known extension at most once, so this stays
	   short however many times a script repeats a require */
	for (unsigned int i = 0; i < ast->extensions.count; i++) {
		if (strcmp(ast->extensions.v[i], extension) == 0)
			return true;
	}
	return false;
}

struct sieve_ast *sieve_validator_get_ast(struct sieve_validator *validator)
{
	return validator->ast;
}

int sieve_validator_add_extension(struct sieve_validator *validator, const char *name)
{
	const struct sieve_extension_def *ext = sieve_extension_lookup(name);
	const char *error;

	if (ext == NULL)
		return -1;
	if (sieve_ast_requires(validator->ast, name))
		return 0;
	array_push(&validator->ast->extensions, ext->name);
	if (ext->require != NULL && ext->require(validator, &error) < 0)
		return -1;
	for (unsigned int i = 0; ext->implies != NULL && ext->implies[i] != NULL; i++) {
		if (sieve_validator_add_extension(validator, ext->implies[i]) < 0)
			return -1;
	}
	return 0;
}

void sieve_validator_skip_block(struct sieve_validator *validator,
				struct sieve_ast_node *node)
{
	node->skip_block = true;
}

static void validator_diag(struct sieve_validator *validator, unsigned int line,
			   bool warning, const char *text)
{
	struct sieve_diag diag = {
		.line = line, .warning = warning,
		.text = p_strdup_printf(validator->pool, "line %u: %s%s", line,
					warning ? "warning: " : "", text),
	};

	if (!warning)
		validator->error_count++;
	if (validator->diags != NULL && validator->diags->count < validator->max_errors * 2)
		array_push(validator->diags, diag);
}

static bool validator_unknown_first(struct sieve_validator *validator, const char *name)
{
	for (unsigned int i = 0; i < validator->unknown.count; i++) {
		if (strcasecmp(validator->unknown.v[i], name) == 0)
			return false;
	}
	/* bounded by the script's commands */
	array_push(&validator->unknown, name);
	return true;
}

void sieve_validator_warning(struct sieve_validator *validator,
			     const struct sieve_ast_node *node, const char *text)
{
	validator_diag(validator, node->line, true, text);
}

void sieve_validator_error(struct sieve_validator *validator,
			   const struct sieve_ast_node *node, const char *text)
{
	validator_diag(validator, node->line, false, text);
}

const struct sieve_compile_env *sieve_validator_compile_env(struct sieve_validator *validator)
{
	return validator->cenv;
}

void *sieve_validator_ext_context(struct sieve_validator *validator,
				  const struct sieve_extension_def *ext)
{
	for (unsigned int i = 0; i < validator->ext_contexts.count; i++) {
		if (validator->ext_contexts.v[i].ext == ext)
			return validator->ext_contexts.v[i].context;
	}
	return NULL;
}

void sieve_validator_set_ext_context(struct sieve_validator *validator,
				     const struct sieve_extension_def *ext, void *context)
{
	struct sieve_validator_ext_context ctx = { .ext = ext, .context = context };

	for (unsigned int i = 0; i < validator->ext_contexts.count; i++) {
		if (validator->ext_contexts.v[i].ext == ext) {
			validator->ext_contexts.v[i].context = context;
			return;
		}
	}
	array_push(&validator->ext_contexts, ctx);
}

bool sieve_validator_string_is_dynamic(struct sieve_validator *validator, const char *str)
{
	return sieve_ast_requires(validator->ast, "variables") && strstr(str, "${") != NULL;
}

/* "the header test", "the fileinto command" */
static const char *node_describe(const struct sieve_ast_node *node)
{
	/* only called once node->def is known */
	return t_strdup_printf("the %s %s", node->def->identifier,
			       (node->def->flags & SIEVE_CMD_FLAG_TEST) != 0 ? "test" : "command");
}

static const char *arg_describe(const struct sieve_ast_arg *arg)
{
	switch (arg->type) {
	case SIEVE_AST_ARG_NUMBER: return "a number";
	case SIEVE_AST_ARG_STRING: return "a string";
	case SIEVE_AST_ARG_STRING_LIST: return "a string list";
	case SIEVE_AST_ARG_TAG: return t_strdup_printf("tag ':%s'", arg->tag);
	}
	return "?";
}

static int validate_extension(struct sieve_validator *validator, const char *extension,
			      const char *what, const char **error_r)
{
	if (extension == NULL || sieve_ast_requires(validator->ast, extension))
		return 0;
	*error_r = t_strdup_printf("%s requires extension \"%s\" (missing require?)",
				   what, extension);
	return -1;
}

struct match_tag {
	const char *name;
	unsigned int group; /* 0 match type, 1 address part, 2 comparator */
	unsigned int value;
	const char *extension;
};

static const struct match_tag match_tags[] = {
	{ "is", 0, SIEVE_MATCH_IS, NULL },
	{ "contains", 0, SIEVE_MATCH_CONTAINS, NULL },
	{ "matches", 0, SIEVE_MATCH_MATCHES, NULL },
	{ "count", 0, SIEVE_MATCH_COUNT, "relational" },
	{ "value", 0, SIEVE_MATCH_VALUE, "relational" },
	{ "regex", 0, SIEVE_MATCH_REGEX, "regex" },
	{ "all", 1, SIEVE_ADDRESS_ALL, NULL },
	{ "localpart", 1, SIEVE_ADDRESS_LOCALPART, NULL },
	{ "domain", 1, SIEVE_ADDRESS_DOMAIN, NULL },
	{ "user", 1, SIEVE_ADDRESS_USER, "subaddress" },
	{ "detail", 1, SIEVE_ADDRESS_DETAIL, "subaddress" },
	{ "comparator", 2, 0, NULL },
};

static int validate_comparator(struct sieve_validator *validator, struct sieve_ast_node *node,
			       const struct sieve_ast_arg *next, const char **error_r)
{
	if (next == NULL || next->type != SIEVE_AST_ARG_STRING) {
		*error_r = "the :comparator tag needs a string argument";
		return -1;
	}
	if (sieve_comparator_lookup(next->strings[0], &node->comparator) == 0) {
		*error_r = t_strdup_printf("unknown comparator \"%s\"", next->strings[0]);
		return -1;
	}
	return validate_extension(validator, sieve_comparator_extension(node->comparator),
				  t_strdup_printf("comparator \"%s\"", next->strings[0]),
				  error_r);
}

static int validate_relation(struct sieve_ast_node *node, const struct sieve_ast_arg *next,
			     const char **error_r)
{
	/* RFC 5231 §4: :count and :value take the relational operator */
	if (next == NULL || next->type != SIEVE_AST_ARG_STRING ||
	    sieve_relation_lookup(next->strings[0], &node->relation) == 0) {
		*error_r = "the :count and :value tags need a relational operator "
			"(\"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\")";
		return -1;
	}
	return 0;
}

/* RFC 5228 §2.7: the :comparator, match type and address part tags.
   Returns 1 if tag was one of them (*used_r: it consumed the next
   argument), 0 if not, -1 on error. */
static int validate_match_tag(struct sieve_validator *validator, struct sieve_ast_node *node,
			      const struct sieve_ast_arg *arg, const struct sieve_ast_arg *next,
			      bool *seen, bool *used_r, const char **error_r)
{
	static const enum sieve_command_flags need[] = {
		SIEVE_CMD_FLAG_MATCH_TYPE, SIEVE_CMD_FLAG_ADDRESS_PART, SIEVE_CMD_FLAG_COMPARATOR,
	};
	static const char *const what[] = { "match type", "address part", "comparator" };
	const struct match_tag *tag = NULL;

	*used_r = false;
	for (unsigned int i = 0; i < N_ELEMENTS(match_tags); i++) {
		if (strcasecmp(arg->tag, match_tags[i].name) == 0)
			tag = &match_tags[i];
	}
	if (tag == NULL || (node->def->flags & need[tag->group]) == 0)
		return 0;
	if (validate_extension(validator, tag->extension,
			       t_strdup_printf("tag ':%s'", tag->name), error_r) < 0)
		return -1;
	if (seen[tag->group]) {
		*error_r = t_strdup_printf("more than one %s given", what[tag->group]);
		return -1;
	}
	seen[tag->group] = true;
	if (tag->group == 0) {
		node->match_type = (enum sieve_match_type)tag->value;
		if (node->match_type == SIEVE_MATCH_COUNT || node->match_type == SIEVE_MATCH_VALUE) {
			*used_r = true;
			return validate_relation(node, next, error_r) < 0 ? -1 : 1;
		}
	} else if (tag->group == 1) {
		node->address_part = (enum sieve_address_part)tag->value;
	} else {
		*used_r = true;
		return validate_comparator(validator, node, next, error_r) < 0 ? -1 : 1;
	}
	return 1;
}

static bool arg_kind_ok(enum sieve_arg_kind kind, const struct sieve_ast_arg *arg)
{
	switch (kind) {
	case SIEVE_ARG_NONE:
		return false;
	case SIEVE_ARG_STRING:
		return arg->type == SIEVE_AST_ARG_STRING;
	case SIEVE_ARG_STRING_LIST:
		return arg->type == SIEVE_AST_ARG_STRING ||
			arg->type == SIEVE_AST_ARG_STRING_LIST;
	case SIEVE_ARG_NUMBER:
		return arg->type == SIEVE_AST_ARG_NUMBER;
	}
	return false;
}

static const char *arg_kind_name(enum sieve_arg_kind kind)
{
	return kind == SIEVE_ARG_STRING ? "a string" :
		kind == SIEVE_ARG_STRING_LIST ? "a string list" : "a number";
}

static int validate_tag(struct sieve_validator *validator, struct sieve_ast_node *node,
			unsigned int *idx, bool *seen, const char **error_r)
{
	const struct sieve_ast_arg *arg = &node->args.v[*idx];
	const struct sieve_ast_arg *next =
		*idx + 1 < node->args.count ? &node->args.v[*idx + 1] : NULL;
	const char *ext_name;
	bool used;
	int ret;

	ret = validate_match_tag(validator, node, arg, next, seen, &used, error_r);
	if (ret != 0) {
		if (ret > 0 && used)
			(*idx)++;
		return ret < 0 ? -1 : 0;
	}
	const struct sieve_tag_def *tag = sieve_command_find_tag(node, arg->tag, &ext_name);
	if (tag == NULL) {
		*error_r = t_strdup_printf("unknown tagged argument ':%s' for %s (the "
					   "command's other arguments are not checked)",
					   arg->tag, node_describe(node));
		return -1;
	}
	if (validate_extension(validator, ext_name,
			       t_strdup_printf("tag ':%s'", tag->name), error_r) < 0)
		return -1;
	if (sieve_node_tag(node, tag->name) != NULL) {
		*error_r = t_strdup_printf("tag ':%s' given more than once", tag->name);
		return -1;
	}
	if (node->tag_count >= SIEVE_MAX_TAGS) {
		*error_r = "too many tagged arguments";
		return -1;
	}
	struct sieve_node_tag *ntag = &node->tags[node->tag_count++];
	ntag->def = tag;
	ntag->arg = arg;
	if (tag->value != SIEVE_ARG_NONE) {
		if (next == NULL || !arg_kind_ok(tag->value, next)) {
			*error_r = t_strdup_printf("tag ':%s' needs %s argument", tag->name,
						   arg_kind_name(tag->value));
			return -1;
		}
		ntag->value = next;
		(*idx)++;
	}
	return 0;
}

static unsigned int def_positional_count(const struct sieve_command_def *def)
{
	unsigned int n = 0;

	while (n < SIEVE_MAX_POSITIONAL && def->positional[n] != SIEVE_ARG_NONE)
		n++;
	return n;
}

static int validate_positional(struct sieve_ast_node *node, const struct sieve_ast_arg *arg,
			       unsigned int expected, const char **error_r)
{
	const struct sieve_command_def *def = node->def;
	bool any = (def->flags & SIEVE_CMD_FLAG_ANY_ARGS) != 0;

	if ((!any && node->positional_count >= expected) ||
	    node->positional_count >= SIEVE_MAX_POSITIONAL) {
		*error_r = t_strdup_printf("too many positional arguments for %s "
			"(it takes %u, found %s as argument %u)", node_describe(node),
			expected, arg_describe(arg), node->positional_count + 1);
		return -1;
	}
	if (!any && !arg_kind_ok(def->positional[node->positional_count], arg)) {
		const char *name = def->positional_names[node->positional_count];

		*error_r = t_strdup_printf("%s expects %s as argument %u%s, but %s was found",
			node_describe(node),
			arg_kind_name(def->positional[node->positional_count]),
			node->positional_count + 1,
			name == NULL ? "" : t_strdup_printf(" (%s)", name), arg_describe(arg));
		return -1;
	}
	node->positional[node->positional_count++] = arg;
	return 0;
}

/* RFC 5228 §2.6: tagged arguments, then positional ones. */
static int validate_arguments(struct sieve_validator *validator, struct sieve_ast_node *node,
			      const char **error_r)
{
	const struct sieve_command_def *def = node->def;
	unsigned int expected = def_positional_count(def);
	unsigned int min = expected - I_MIN(expected, def->optional_positional);
	bool seen[3] = { false, false, false };

	for (unsigned int i = 0; i < node->args.count; i++) {
		const struct sieve_ast_arg *arg = &node->args.v[i];

		if (arg->type == SIEVE_AST_ARG_TAG) {
			/* tags come before the positional arguments in every
			   command's syntax (RFC 5228 §2.6) */
			if (node->positional_count > 0) {
				/* a tag the command does not know at all is
				   reported as unknown wherever it stands */
				if (validate_tag(validator, node, &i, seen, error_r) < 0 &&
				    strncmp(*error_r, "unknown tagged", 14) == 0)
					return -1;
				*error_r = t_strdup_printf("unexpected tagged argument ':%s' after "
					"the positional arguments of %s", arg->tag,
					node_describe(node));
				return -1;
			}
			if (validate_tag(validator, node, &i, seen, error_r) < 0)
				return -1;
		} else if (validate_positional(node, arg, expected, error_r) < 0) {
			return -1;
		}
	}
	if ((def->flags & SIEVE_CMD_FLAG_ANY_ARGS) == 0 && node->positional_count < min) {
		*error_r = t_strdup_printf("%s requires %u positional argument%s, but %u %s "
			"specified", node_describe(node), min, min == 1 ? "" : "s",
			node->positional_count, node->positional_count == 1 ? "is" : "are");
		return -1;
	}
	if (!sieve_comparator_supports(node->comparator, node->match_type)) {
		*error_r = t_strdup_printf("comparator \"%s\" does not support this match type",
					   sieve_comparator_name(node->comparator));
		return -1;
	}
	if (node->match_type == SIEVE_MATCH_REGEX && node->positional_count > 0 &&
	    sieve_regex_validate_keys(validator, node,
				      node->positional[node->positional_count - 1], error_r) < 0)
		return -1;
	return 0;
}

/* Does node's command take a tag called name? */
static bool node_has_tag_name(const struct sieve_ast_node *node, const char *name)
{
	static const enum sieve_command_flags need[] = {
		SIEVE_CMD_FLAG_MATCH_TYPE, SIEVE_CMD_FLAG_ADDRESS_PART, SIEVE_CMD_FLAG_COMPARATOR,
	};
	const char *ext_name;

	for (unsigned int i = 0; i < N_ELEMENTS(match_tags); i++) {
		if (strcasecmp(name, match_tags[i].name) == 0 &&
		    (node->def->flags & need[match_tags[i].group]) != 0)
			return true;
	}
	return sieve_command_find_tag(node, name, &ext_name) != NULL;
}

/* A command that takes no test but got one: mostly a typo. The "test" is
   really the next command when the ';' is missing ("keep\nredirect ..."),
   or a tag without its ':' ("address matches ..."). */
static const char *structure_spurious_test(const struct sieve_ast_node *node)
{
	const struct sieve_ast_node *test = node->tests.v[0];
	const struct sieve_command_def *def;
	const struct sieve_extension_def *ext;

	if (!node->test_list && node_has_tag_name(node, test->identifier)) {
		return t_strdup_printf("missing colon before the ':%s' tag of %s",
				       test->identifier, node_describe(node));
	}
	if (!node->test_list && (node->def->flags & SIEVE_CMD_FLAG_TEST) == 0 &&
	    ((def = sieve_command_lookup(test->identifier, true, &ext)) == NULL ||
	     (def->flags & SIEVE_CMD_FLAG_TEST) == 0)) {
		return t_strdup_printf("missing semicolon after %s (line %u) before "
				       "'%s'", node_describe(node), node->line, test->identifier);
	}
	return t_strdup_printf("%s accepts no sub-tests, but tests are specified",
			       node_describe(node));
}

static int validate_structure(struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_command_def *def = node->def;

	switch (def->tests) {
	case SIEVE_TESTS_NONE:
		if (node->tests.count > 0) {
			*error_r = structure_spurious_test(node);
			return -1;
		}
		break;
	case SIEVE_TESTS_ONE:
		if (node->tests.count != 1 || node->test_list) {
			*error_r = t_strdup_printf("%s requires one sub-test, but %s is specified",
				node_describe(node), node->tests.count == 0 ? "none" : "a list of tests");
			return -1;
		}
		break;
	case SIEVE_TESTS_LIST:
		if (!node->test_list) {
			*error_r = t_strdup_printf("%s requires a list of sub-tests, but %s is "
				"specified", node_describe(node),
				node->tests.count == 0 ? "none" : "a single test");
			return -1;
		}
		break;
	}
	if ((def->flags & SIEVE_CMD_FLAG_BLOCK_OPTIONAL) != 0)
		return 0;
	if ((def->flags & SIEVE_CMD_FLAG_BLOCK) != 0 && !node->has_block) {
		*error_r = t_strdup_printf("%s requires a command block, but it is missing",
					   node_describe(node));
		return -1;
	}
	if ((def->flags & SIEVE_CMD_FLAG_BLOCK) == 0 && node->has_block) {
		*error_r = t_strdup_printf("%s does not accept a command block, but one is "
					   "specified", node_describe(node));
		return -1;
	}
	return 0;
}

static int validate_node(struct sieve_validator *validator, struct sieve_ast_node *node,
			 bool is_test);

/* RFC 5229 §3: variable references in the node's strings name known
   namespaces and match variables in range */
static int validate_variable_refs(struct sieve_validator *validator,
				  const struct sieve_ast_node *node, const char **error_r)
{
	if (!sieve_ast_requires(validator->ast, "variables"))
		return 0;
	for (unsigned int i = 0; i < node->args.count; i++) {
		const struct sieve_ast_arg *arg = &node->args.v[i];

		for (unsigned int j = 0; j < arg->string_count; j++) {
			if (sieve_variables_validate_string(validator, arg->strings[j],
							    error_r) < 0)
				return -1;
		}
	}
	return 0;
}

/* Validates every child even after an error, so one compile reports
   several; returns -1 if any failed. */
static int validate_children(struct sieve_validator *validator, struct sieve_ast_node *node)
{
	int ret = 0;

	for (unsigned int i = 0; i < node->tests.count; i++) {
		if (validate_node(validator, node->tests.v[i], true) < 0)
			ret = -1;
	}
	if (node->skip_block)
		return ret;
	for (unsigned int i = 0; i < node->block.count; i++) {
		if (validator->error_count >= validator->max_errors)
			return -1;
		validator->prev_command = i == 0 ? NULL : node->block.v[i - 1];
		if (validate_node(validator, node->block.v[i], false) < 0)
			ret = -1;
	}
	return ret;
}

/* Checks node against its definition. Returns 0, -1 after reporting
   errors (the children are still checked, for more errors), or -2 when
   node is not a known command or test here (its children are not). */
static int validate_def(struct sieve_validator *validator, struct sieve_ast_node *node,
			bool is_test)
{
	const struct sieve_extension_def *ext;
	const struct sieve_command_def *def = sieve_command_lookup(node->identifier, is_test, &ext);
	const char *error = NULL, *error2 = NULL;

	if (def == NULL) {
		/* once per name: a misspelt command is usually misspelt
		   everywhere */
		if (validator_unknown_first(validator, node->identifier)) {
			validator_diag(validator, node->line, false, t_strdup_printf(
				"unknown %s '%s' (reported once)", is_test ? "test" : "command",
				node->identifier));
		}
		return -2;
	}
	if (((def->flags & SIEVE_CMD_FLAG_TEST) != 0) != is_test) {
		validator_diag(validator, node->line, false, t_strdup_printf(
			"cannot use %s '%s' as a %s", is_test ? "command" : "test",
			def->identifier, is_test ? "test" : "command"));
		return -2;
	}
	if (validate_extension(validator, ext == NULL ? NULL : ext->name,
			       t_strdup_printf("'%s'", def->identifier), &error) < 0) {
		validator_diag(validator, node->line, false, error);
		return -2;
	}
	node->def = def;
	node->ext = ext;
	if (validate_arguments(validator, node, &error) < 0) {
		/* a stray test is often why the arguments are short: "fileinto
		   true;" gets the one error about the test, "address matches
		   ..." both (the missing colon and the arguments) */
		bool too_few = strstr(error, " positional argument") != NULL &&
			strstr(error, " requires ") != NULL;

		if (def->tests == SIEVE_TESTS_NONE && validate_structure(node, &error2) < 0 &&
		    too_few && strncmp(error2, "missing colon", 13) != 0)
			error = NULL;
		if (error != NULL)
			validator_diag(validator, node->line, false, error);
		if (error2 != NULL)
			validator_diag(validator, node->line, false, error2);
		return -1;
	}
	if (validate_structure(node, &error) < 0 ||
	    (def->validate != NULL && def->validate(validator, node, &error) < 0) ||
	    validate_variable_refs(validator, node, &error) < 0) {
		if (error != NULL)
			validator_diag(validator, node->line, false, error);
		return -1;
	}
	return 0;
}

static int validate_node(struct sieve_validator *validator, struct sieve_ast_node *node,
			 bool is_test)
{
	int ret;

	ret = validate_def(validator, node, is_test);
	if (ret == -2)
		return -1;
	if (!is_test && node->parent == validator->ast->root && node->def != SIEVE_DEF_REQUIRE)
		validator->commands_started = true;
	/* only where the definition allows them: a block or test the
	   command must not have was reported above */
	if (node->def->tests == SIEVE_TESTS_NONE && node->tests.count > 0)
		return -1;
	if ((node->def->flags & (SIEVE_CMD_FLAG_BLOCK | SIEVE_CMD_FLAG_BLOCK_OPTIONAL)) == 0 &&
	    node->has_block)
		return -1;
	return validate_children(validator, node) < 0 ? -1 : ret;
}

/* RFC 5228 §3.2: require only at the top, before any other command, and
   only of extensions this build has. */
int sieve_validate_require(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	if (node->parent != validator->ast->root || validator->commands_started) {
		*error_r = "require commands can only be placed at the top level, before any "
			"other command";
		return -1;
	}
	*error_r = NULL;
	for (unsigned int i = 0; i < arg->string_count; i++) {
		const char *name = arg->strings[i], *error = NULL;
		const struct sieve_extension_def *ext;

		if (!sieve_extension_is_known(name)) {
			error = sieve_command_lookup(name, false, &ext) != NULL ?
				t_strdup_printf("unsupported extension \"%s\" (it is a command "
						"every script has)", name) :
				t_strdup_printf("unsupported extension \"%s\"", name);
		} else if (sieve_validator_add_extension(validator, name) < 0) {
			error = t_strdup_printf("extension \"%s\" cannot be used here", name);
		}
		if (error == NULL)
			continue;
		/* each bad name is an error of its own */
		if (*error_r != NULL)
			validator_diag(validator, node->line, false, *error_r);
		*error_r = error;
	}
	return *error_r == NULL ? 0 : -1;
}

/* RFC 5228 §3.1: elsif and else only right after if or elsif. */
int sieve_validate_elsif(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_node *prev = validator->prev_command;

	if (prev == NULL || prev->def == NULL ||
	    (prev->def != SIEVE_DEF_IF && prev->def != SIEVE_DEF_ELSIF)) {
		*error_r = t_strdup_printf("'%s' must follow 'if' or 'elsif'",
					   node->def->identifier);
		return -1;
	}
	return 0;
}

/* An extension that is only usable with another one (extracttext inside
   foreverypart loops, RFC 5703 §7) refuses a script not requiring both. */
static void validator_check_needs(struct sieve_validator *validator,
				  const struct sieve_ast_node *last_require)
{
	const struct sieve_ast *ast = validator->ast;

	for (unsigned int i = 0; i < ast->extensions.count; i++) {
		const struct sieve_extension_def *ext = sieve_extension_lookup(ast->extensions.v[i]);

		for (unsigned int j = 0; ext != NULL && ext->needs != NULL &&
		     ext->needs[j] != NULL; j++) {
			if (!sieve_ast_requires(ast, ext->needs[j])) {
				validator_diag(validator, last_require->line, false, t_strdup_printf(
					"the %s extension cannot be used without the %s extension",
					ext->name, ext->needs[j]));
			}
		}
	}
}

static int sieve_validate_diag(struct sieve_ast *ast, unsigned int max_errors,
			       const struct sieve_compile_env *cenv, sieve_diag_array_t *diags)
{
	struct sieve_validator validator = {
		.ast = ast, .pool = ast->pool, .diags = diags,
		.max_errors = max_errors == 0 ? SIEVE_DEFAULT_MAX_ERRORS : max_errors,
		.cenv = cenv,
	};
	struct sieve_ast_node *root = ast->root;
	const char *error;
	unsigned int i;

	array_init(&validator.unknown, ast->pool, 4);
	array_init(&validator.ext_contexts, ast->pool, 2);
	sieve_extensions_init();
	/* the requires first: encoded-character changes the strings the
	   other commands are checked with */
	for (i = 0; i < root->block.count; i++) {
		if (strcasecmp(root->block.v[i]->identifier, "require") != 0)
			break;
		validator.prev_command = i == 0 ? NULL : root->block.v[i - 1];
		(void)validate_node(&validator, root->block.v[i], false);
	}
	if (i > 0)
		validator_check_needs(&validator, root->block.v[i - 1]);
	if (validator.error_count == 0 && sieve_ast_requires(ast, "encoded-character")) {
		bool failed = false;

		/* one error per top-level command at most, then the next */
		for (unsigned int j = i; j < root->block.count; j++) {
			if (sieve_encoded_character_decode(ast->pool, root->block.v[j],
							   &error) < 0) {
				/* error already has its "line N: " */
				struct sieve_diag diag = { .text = error };

				(void)sscanf(error, "line %u:", &diag.line);
				array_push(diags, diag);
				failed = true;
				if (diags->count >= validator.max_errors)
					break;
			}
		}
		if (failed)
			return -1;
	}
	for (; i < root->block.count; i++) {
		if (validator.error_count >= validator.max_errors)
			break;
		validator.prev_command = i == 0 ? NULL : root->block.v[i - 1];
		(void)validate_node(&validator, root->block.v[i], false);
	}
	return validator.error_count > 0 ? -1 : 0;
}

static const char *diag_first_error(const sieve_diag_array_t *diags)
{
	for (unsigned int i = 0; i < diags->count; i++) {
		if (!diags->v[i].warning)
			return diags->v[i].text;
	}
	return "compile failed";
}

int sieve_validate(struct sieve_ast *ast, const char **error_r)
{
	sieve_diag_array_t diags;

	array_init(&diags, ast->pool, 2);
	if (sieve_validate_diag(ast, 1, NULL, &diags) < 0) {
		*error_r = diag_first_error(&diags);
		return -1;
	}
	return 0;
}

int sieve_compile_env_diag(pool_t pool, const void *data, size_t size,
			   const struct sieve_parser_limits *limits, unsigned int max_errors,
			   const struct sieve_compile_env *cenv, struct sieve_ast **ast_r,
			   sieve_diag_array_t *diags)
{
	struct sieve_ast *ast;

	if (sieve_parse_diag(pool, data, size, limits, max_errors, &ast, diags) < 0)
		return -1;
	if (sieve_validate_diag(ast, max_errors, cenv, diags) < 0)
		return -1;
	*ast_r = ast;
	return 0;
}

int sieve_compile_diag(pool_t pool, const void *data, size_t size,
		       const struct sieve_parser_limits *limits, unsigned int max_errors,
		       struct sieve_ast **ast_r, sieve_diag_array_t *diags)
{
	return sieve_compile_env_diag(pool, data, size, limits, max_errors, NULL, ast_r, diags);
}

int sieve_compile(pool_t pool, const void *data, size_t size,
		  const struct sieve_parser_limits *limits,
		  struct sieve_ast **ast_r, const char **error_r)
{
	sieve_diag_array_t diags;

	array_init(&diags, pool, 2);
	if (sieve_compile_diag(pool, data, size, limits, 1, ast_r, &diags) < 0) {
		*error_r = diag_first_error(&diags);
		return -1;
	}
	return 0;
}
