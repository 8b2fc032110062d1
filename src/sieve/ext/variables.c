/* The variables extension (RFC 5229): "${name}" expansion in strings, the
 * match variables ${0}..${9} (§3.2), the set command with its modifiers
 * (§4, and :encodeurl of RFC 5435 §6, :quoteregex of the regex draft) and
 * the string test (§5). Variable storage is per script scope, with the
 * global scope of include (RFC 6609 §3.4). */
#include "sieve-run.h"

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

static int validate_set(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r)
{
	const char *name = node->positional[0]->strings[0];

	if (!var_name_valid(name, strlen(name), false)) {
		*error_r = t_strdup_printf("invalid variable name \"%s\"", name);
		return -1;
	}
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

static const char *quote_chars(const char *value, const char *special)
{
	string_t *dest = t_str_new(strlen(value) * 2 + 1);

	for (; *value != '\0'; value++) {
		if (strchr(special, *value) != NULL)
			str_append_c(dest, '\\');
		str_append_c(dest, *value);
	}
	return str_c(dest);
}

static const char *encode_url(const char *value)
{
	/* RFC 5435 §6: percent-encode all but the RFC 3986 unreserved set */
	string_t *dest = t_str_new(strlen(value) * 3 + 1);

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			str_append_c(dest, (char)*p);
		else
			str_printfa(dest, "%%%02X", *p);
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

static const char *apply_modifier(const char *name, const char *value)
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
		return quote_chars(value, "*?\\");
	} else if (strcmp(name, "quoteregex") == 0) {
		return quote_chars(value, "*?\\.^$|+()[]{}");
	} else if (strcmp(name, "encodeurl") == 0) {
		return encode_url(value);
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
				value = apply_modifier(modifiers[i].name, value);
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
