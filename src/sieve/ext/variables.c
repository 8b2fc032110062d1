/* The variables extension (RFC 5229): "${name}" expansion in strings, the
 * match variables ${0}..${9} (§3.2), the set command with its modifiers
 * (§4, and :encodeurl of RFC 5435 §6, :quoteregex of the regex draft) and
 * the string test (§5). Variable storage is per script scope, with the
 * global scope of include (RFC 6609 §3.4). */
#include "sieve-run.h"

#include <stdlib.h>
#include <strings.h>

/* RFC 5229 §3 variable-name = identifier ("." identifier)*; a number
   for match variables */
static bool var_name_valid(const char *name, size_t len, bool allow_number)
{
	bool start = true;

	if (len == 0)
		return false;
	if (name[0] >= '0' && name[0] <= '9') {
		for (size_t i = 0; i < len; i++) {
			if (name[i] < '0' || name[i] > '9')
				return false;
		}
		return allow_number && len <= 9;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (start)
				return false;
			start = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			   (!start && c >= '0' && c <= '9')) {
			start = false;
		} else {
			return false;
		}
	}
	return !start;
}

static struct sieve_var_scope *scope_create(struct sieve_run *run)
{
	struct sieve_var_scope *scope = p_new(run->pool, struct sieve_var_scope, 1);

	array_init(&scope->vars, run->pool, 8);
	return scope;
}

/* Linear: a scope holds at most max_variables (255 by default). */
static struct sieve_var *scope_find(const sieve_var_array_t *vars, const char *name)
{
	for (unsigned int i = 0; i < vars->count; i++) {
		if (strcasecmp(vars->v[i].name, name) == 0)
			return &vars->v[i];
	}
	return NULL;
}

/* The scope a name lives in and the name within it. */
static struct sieve_var_scope *var_scope(struct sieve_run *run, const char **name)
{
	if (strncasecmp(*name, "global.", 7) == 0) {
		*name += 7;
		if (run->global_scope == NULL)
			run->global_scope = scope_create(run);
		return run->global_scope;
	}
	if (run->scope == NULL)
		run->scope = scope_create(run);
	if (run->global_scope != NULL && array_is_created(&run->scope->globals) &&
	    scope_find(&run->scope->globals, *name) != NULL)
		return run->global_scope;
	return run->scope;
}

const char *sieve_run_var_get(struct sieve_run *run, const char *name)
{
	struct sieve_var_scope *scope = var_scope(run, &name);
	struct sieve_var *var = scope_find(&scope->vars, name);

	return var == NULL ? NULL : var->value;
}

/* Cuts value to the size limit at a UTF-8 character boundary. */
static const char *var_value_limit(struct sieve_run *run, const char *value)
{
	size_t len = strlen(value), max = run->limits.max_variable_size;

	if (len <= max)
		return p_strdup(run->pool, value);
	while (max > 0 && ((unsigned char)value[max] & 0xc0) == 0x80)
		max--;
	return p_strndup(run->pool, value, max);
}

int sieve_run_var_set(struct sieve_run *run, const struct sieve_ast_node *node,
		      const char *name, const char *value)
{
	struct sieve_var_scope *scope = var_scope(run, &name);
	struct sieve_var *var = scope_find(&scope->vars, name);

	if (var == NULL) {
		if (scope->vars.count >= run->limits.max_variables)
			return sieve_run_error(run, node, "too many variables (limit %u)",
					       run->limits.max_variables);
		var = array_append_space(&scope->vars);
		var->name = p_strdup(run->pool, name);
	}
	var->value = var_value_limit(run, value);
	return 0;
}

void sieve_variables_declare_global(struct sieve_run *run, const char *name)
{
	struct sieve_var *var;

	if (run->scope == NULL)
		run->scope = scope_create(run);
	if (run->global_scope == NULL)
		run->global_scope = scope_create(run);
	if (!array_is_created(&run->scope->globals))
		array_init(&run->scope->globals, run->pool, 4);
	if (scope_find(&run->scope->globals, name) != NULL ||
	    run->scope->globals.count >= run->limits.max_variables)
		return;
	var = array_append_space(&run->scope->globals);
	var->name = p_strdup(run->pool, name);
	var->value = "";
}

static const char *var_lookup_ref(struct sieve_run *run, const char *name, size_t len)
{
	const char *value;

	if (name[0] >= '0' && name[0] <= '9') {
		unsigned int idx = 0;

		for (size_t i = 0; i < len; i++)
			idx = idx * 10 + (unsigned int)(name[i] - '0');
		return idx < run->match_count && run->match_values[idx] != NULL ?
			run->match_values[idx] : "";
	}
	value = sieve_run_var_get(run, t_strndup(name, len));
	return value == NULL ? "" : value;
}

/* RFC 5229 §3: one left-to-right pass; a reference that is not
   well-formed stays as written, an unknown variable is "". The result is
   bounded by the script's own string size plus the variable sizes. */
const char *sieve_variables_expand(struct sieve_run *run, const char *str)
{
	string_t *dest = str_new(run->pool, strlen(str) + 32);
	const char *p = str, *ref;

	while ((ref = strstr(p, "${")) != NULL) {
		const char *name = ref + 2, *end = strchr(name, '}');

		str_append_n(dest, p, (size_t)(ref - p));
		if (end == NULL || !var_name_valid(name, (size_t)(end - name), true)) {
			str_append_n(dest, ref, 2);
			p = ref + 2;
			continue;
		}
		if (str_len(dest) < SIEVE_VARIABLE_EXPAND_MAX)
			str_append(dest, var_lookup_ref(run, name, (size_t)(end - name)));
		p = end + 1;
	}
	str_append(dest, p);
	if (str_len(dest) > SIEVE_VARIABLE_EXPAND_MAX)
		str_truncate(dest, SIEVE_VARIABLE_EXPAND_MAX);
	return str_c(dest);
}

/* --- set and its modifiers (RFC 5229 §4.1) --- */

static const struct sieve_tag_def set_tags[] = {
	{ .name = "lower" }, { .name = "upper" },
	{ .name = "lowerfirst" }, { .name = "upperfirst" },
	{ .name = "quotewildcard" }, { .name = "length" },
	{ .name = "quoteregex", .extension = "regex" },
	{ .name = "encodeurl", .extension = "enotify" },
	{ .name = NULL },
};

struct modifier {
	const char *name;
	unsigned int precedence;
};

/* applied highest precedence first; one per precedence level */
static const struct modifier modifiers[] = {
	{ "lower", 40 }, { "upper", 40 },
	{ "lowerfirst", 30 }, { "upperfirst", 30 },
	{ "quotewildcard", 20 }, { "quoteregex", 20 },
	{ "encodeurl", 15 },
	{ "length", 10 },
};

static bool var_namespace_known(const struct sieve_ast *ast, const char *ns, size_t len)
{
	for (unsigned int i = 0; i < ast->extensions.count; i++) {
		const struct sieve_extension_def *ext = sieve_extension_lookup(ast->extensions.v[i]);

		if (ext != NULL && ext->variable_namespace != NULL &&
		    strlen(ext->variable_namespace) == len &&
		    strncasecmp(ext->variable_namespace, ns, len) == 0)
			return true;
	}
	return false;
}

/* RFC 5229 §3: a namespaced name ("ns.name") needs the extension that
   defines the namespace (struct sieve_extension_def.variable_namespace);
   RFC 6609 §3.5's "global" holds plain identifiers. */
static int var_namespace_check(struct sieve_validator *validator, const char *name,
			       const char **error_r)
{
	const char *dot = strchr(name, '.');

	if (dot == NULL)
		return 0;
	if (!var_namespace_known(sieve_validator_get_ast(validator), name,
				 (size_t)(dot - name))) {
		*error_r = t_strdup_printf("unknown variable namespace '%s' in '%s'",
					   t_strndup(name, (size_t)(dot - name)), name);
		return -1;
	}
	if ((size_t)(dot - name) == 6 && strncasecmp(name, "global", 6) == 0 &&
	    (strchr(dot + 1, '.') != NULL || !var_name_valid(dot + 1, strlen(dot + 1), false))) {
		*error_r = t_strdup_printf("invalid variable name '%s' in the global namespace",
					   name);
		return -1;
	}
	return 0;
}

int sieve_variables_validate_assignment(struct sieve_validator *validator, const char *name,
					const char **error_r)
{
	if (!var_name_valid(name, strlen(name), false)) {
		*error_r = t_strdup_printf("invalid variable name \"%s\"", name);
		return -1;
	}
	if (strlen(name) > SIEVE_VARIABLE_NAME_MAX) {
		*error_r = t_strdup_printf("variable name too long (limit %u characters)",
					   SIEVE_VARIABLE_NAME_MAX);
		return -1;
	}
	return var_namespace_check(validator, name, error_r);
}

int sieve_variables_validate_string(struct sieve_validator *validator, const char *str,
				    const char **error_r)
{
	for (const char *p = strstr(str, "${"); p != NULL; p = strstr(p + 2, "${")) {
		const char *start = p + 2, *end = start;

		while ((*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z') ||
		       (*end >= '0' && *end <= '9') || *end == '_' || *end == '.')
			end++;
		/* not a reference: the text stays as it is (RFC 5229 §3) */
		if (*end != '}' || !var_name_valid(start, (size_t)(end - start), true))
			continue;
		const char *name = t_strndup(start, (size_t)(end - start));
		if (name[0] >= '0' && name[0] <= '9') {
			if (strtoul(name, NULL, 10) > SIEVE_MATCH_VARIABLE_MAX) {
				*error_r = t_strdup_printf("match variable ${%s} out of range "
					"(limit %u)", name, SIEVE_MATCH_VARIABLE_MAX);
				return -1;
			}
		} else if (var_namespace_check(validator, name, error_r) < 0) {
			return -1;
		}
	}
	return 0;
}

/* With a compile environment, the distinct names a script assigns are
   counted against the scope limit (reported once) */
static int var_count_check(struct sieve_validator *validator, const char *name,
			   const char **error_r)
{
	const struct sieve_compile_env *cenv = sieve_validator_compile_env(validator);
	array_str_t *names = sieve_validator_ext_context(validator, &sieve_ext_variables);
	pool_t pool = sieve_validator_get_ast(validator)->pool;
	unsigned int max;

	if (cenv == NULL || strchr(name, '.') != NULL)
		return 0;
	max = cenv->max_variables == 0 ? 255 : cenv->max_variables;
	if (names == NULL) {
		names = p_new(pool, array_str_t, 1);
		array_init(names, pool, 16);
		sieve_validator_set_ext_context(validator, &sieve_ext_variables, names);
	}
	for (unsigned int i = 0; i < names->count; i++) {
		if (strcasecmp(names->v[i], name) == 0)
			return 0;
	}
	/* one past the limit marks "reported" and stops the growth */
	if (names->count > max)
		return 0;
	array_push(names, p_strdup(pool, name));
	if (names->count <= max)
		return 0;
	*error_r = t_strdup_printf("too many variables in one script (limit %u)", max);
	return -1;
}

static int validate_set(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r)
{
	const char *name = node->positional[0]->strings[0];

	if (sieve_variables_validate_assignment(validator, name, error_r) < 0 ||
	    var_count_check(validator, name, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < N_ELEMENTS(modifiers); i++) {
		for (unsigned int j = i + 1; j < N_ELEMENTS(modifiers); j++) {
			if (modifiers[i].precedence == modifiers[j].precedence &&
			    sieve_node_has_tag(node, modifiers[i].name) &&
			    sieve_node_has_tag(node, modifiers[j].name)) {
				*error_r = t_strdup_printf("modifiers :%s and :%s cannot be "
					"used together", modifiers[i].name, modifiers[j].name);
				return -1;
			}
		}
	}
	return 0;
}

/* Length of the UTF-8 character at p (1 for a stray byte). */
static size_t utf8_char_len(const unsigned char *p)
{
	size_t len = 1;

	while ((p[len] & 0xc0) == 0x80 && len < 4)
		len++;
	return len;
}

/* The escaping modifiers stop before a character whose escaped form would
   pass max (the variable size limit), so the value is never cut inside an
   escape ("\*", "%E4%B8%83") - a half escape would mean something else. */
static const char *quote_chars(const char *value, const char *special, size_t max)
{
	string_t *dest = t_str_new(strlen(value) * 2 + 1);

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0';) {
		size_t len = utf8_char_len(p);
		bool quote = len == 1 && strchr(special, *p) != NULL;

		if (str_len(dest) + len + (quote ? 1 : 0) > max)
			break;
		if (quote)
			str_append_c(dest, '\\');
		str_append_n(dest, p, len);
		p += len;
	}
	return str_c(dest);
}

static const char *encode_url(const char *value, size_t max)
{
	/* RFC 5435 §6: percent-encode all but the RFC 3986 unreserved set */
	string_t *dest = t_str_new(strlen(value) * 3 + 1);

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0';) {
		size_t len = utf8_char_len(p);
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (str_len(dest) + (plain ? 1 : len * 3) > max)
			break;
		for (size_t i = 0; i < len; i++, p++) {
			if (plain)
				str_append_c(dest, (char)*p);
			else
				str_printfa(dest, "%%%02X", *p);
		}
	}
	return str_c(dest);
}

static unsigned int utf8_length(const char *value)
{
	unsigned int n = 0;

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static const char *apply_modifier(const char *name, const char *value, size_t max)
{
	char *copy = t_strdup(value);

	if (strcmp(name, "lower") == 0 || strcmp(name, "upper") == 0) {
		for (char *p = copy; *p != '\0'; p++) {
			if (name[0] == 'l' && *p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
			else if (name[0] == 'u' && *p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		}
	} else if (strcmp(name, "lowerfirst") == 0) {
		if (copy[0] >= 'A' && copy[0] <= 'Z')
			copy[0] = (char)(copy[0] - 'A' + 'a');
	} else if (strcmp(name, "upperfirst") == 0) {
		if (copy[0] >= 'a' && copy[0] <= 'z')
			copy[0] = (char)(copy[0] - 'a' + 'A');
	} else if (strcmp(name, "quotewildcard") == 0) {
		return quote_chars(value, "*?\\", max);
	} else if (strcmp(name, "quoteregex") == 0) {
		return quote_chars(value, "*?\\.^$|+()[]{}", max);
	} else if (strcmp(name, "encodeurl") == 0) {
		return encode_url(value, max);
	} else if (strcmp(name, "length") == 0) {
		return t_strdup_printf("%u", utf8_length(value));
	}
	return copy;
}

const char *sieve_variables_apply_modifiers(struct sieve_run *run,
					    const struct sieve_ast_node *node,
					    const char *value)
{
	static const unsigned int levels[] = { 40, 30, 20, 15, 10 };

	for (unsigned int l = 0; l < N_ELEMENTS(levels); l++) {
		for (unsigned int i = 0; i < N_ELEMENTS(modifiers); i++) {
			if (modifiers[i].precedence == levels[l] &&
			    sieve_node_has_tag(node, modifiers[i].name))
				value = apply_modifier(modifiers[i].name, value,
						       run->limits.max_variable_size);
		}
	}
	return p_strdup(run->pool, value);
}

static int exec_set(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *value = sieve_run_string(run, node->positional[1]);

	value = sieve_variables_apply_modifiers(run, node, value);
	return sieve_run_var_set(run, node, node->positional[0]->strings[0], value);
}

/* RFC 5229 §5: with :count, empty strings are not counted. */
static int test_string(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	const char *const *sources;
	unsigned int count = sieve_run_strings(run, node->positional[0], &sources);
	int ret = 0;

	for (unsigned int i = 0; i < count && ret == 0; i++) {
		if (node->match_type == SIEVE_MATCH_COUNT && sources[i][0] == '\0')
			continue;
		ret = sieve_run_match_value(match, sources[i]);
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static const struct sieve_command_def variables_commands[] = {
	{ .identifier = "set", .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING },
	  .tags = set_tags, .validate = validate_set, .execute = exec_set },
	{ .identifier = "string",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SIEVE_ARG_STRING_LIST, SIEVE_ARG_STRING_LIST },
	  .execute = test_string },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_variables = {
	.name = "variables", .commands = variables_commands,
};
