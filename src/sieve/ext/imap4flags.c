/* The imap4flags extension (RFC 5232): setflag, addflag and removeflag on
 * the internal flags variable or a named one (§3), the hasflag test (§4),
 * and :flags on keep and fileinto (§5); actions without :flags carry the
 * internal variable's flags at the time they run. */
#include "sieve-run.h"

#include <strings.h>

/* flags kept per variable; more are silently dropped */
#define SIEVE_MAX_FLAGS 64

struct imap4flags_context {
	const char *internal; /* space-separated flag list */
};

static struct imap4flags_context *imap4flags_get(struct sieve_run *run)
{
	struct imap4flags_context *ctx = sieve_run_ext_context(run, &sieve_ext_imap4flags);

	if (ctx == NULL) {
		const struct sieve_message *msg = sieve_run_get_message(run);
		const char *const *flags, *error;

		ctx = p_new(sieve_run_pool(run), struct imap4flags_context, 1);
		ctx->internal = "";
		/* a stored message starts with its own flags */
		if (msg->v->get_flags != NULL &&
		    msg->v->get_flags(msg->context, &flags, &error) == 0 && flags != NULL) {
			string_t *str = str_new(sieve_run_pool(run), 64);

			for (unsigned int i = 0; flags[i] != NULL; i++) {
				if (i > 0)
					str_append_c(str, ' ');
				str_append(str, flags[i]);
			}
			ctx->internal = str_c(str);
		}
		sieve_run_set_ext_context(run, &sieve_ext_imap4flags, ctx);
	}
	return ctx;
}

typedef ARRAY(const char *) flag_array_t;

static bool flags_contain(const flag_array_t *flags, const char *flag, size_t len)
{
	for (unsigned int i = 0; i < flags->count; i++) {
		if (strlen(flags->v[i]) == len && strncasecmp(flags->v[i], flag, len) == 0)
			return true;
	}
	return false;
}

/* RFC 5232 §3: a flag list string holds flags separated by spaces */
static void flags_add_string(pool_t pool, flag_array_t *flags, const char *str)
{
	while (*str != '\0') {
		size_t len;

		while (*str == ' ')
			str++;
		len = strcspn(str, " ");
		if (len > 0 && !flags_contain(flags, str, len) && flags->count < SIEVE_MAX_FLAGS)
			array_push(flags, p_strndup(pool, str, len));
		str += len;
	}
}

static const char *flags_join(const flag_array_t *flags)
{
	string_t *dest = t_str_new(64);

	for (unsigned int i = 0; i < flags->count; i++) {
		if (i > 0)
			str_append_c(dest, ' ');
		str_append(dest, flags->v[i]);
	}
	return str_c(dest);
}

static const char *flags_get_var(struct sieve_run *run, const char *var)
{
	const char *value;

	if (var == NULL)
		return imap4flags_get(run)->internal;
	value = sieve_run_var_get(run, var);
	return value == NULL ? "" : value;
}

static int flags_set_var(struct sieve_run *run, const struct sieve_ast_node *node,
			 const char *var, const char *value)
{
	if (var == NULL) {
		imap4flags_get(run)->internal = p_strdup(sieve_run_pool(run), value);
		return 0;
	}
	return sieve_run_var_set(run, node, var, value);
}

static int validate_flag_command(struct sieve_validator *validator,
				 struct sieve_ast_node *node, const char **error_r)
{
	if (node->positional_count == 2 &&
	    node->positional[0]->type != SIEVE_AST_ARG_STRING) {
		*error_r = t_strdup_printf("the variable name of '%s' must be a string",
					   node->def->identifier);
		return -1;
	}
	if (node->positional_count == 2 &&
	    !sieve_ast_requires(sieve_validator_get_ast(validator), "variables")) {
		*error_r = t_strdup_printf("'%s' with a variable name needs "
					   "require \"variables\"", node->def->identifier);
		return -1;
	}
	return 0;
}

static int exec_flag_command(struct sieve_run *run, const struct sieve_ast_node *node)
{
	bool has_var = node->positional_count == 2;
	const char *var = has_var ? node->positional[0]->strings[0] : NULL;
	const struct sieve_ast_arg *list = node->positional[has_var ? 1 : 0];
	const char *const *strings;
	unsigned int count = sieve_run_strings(run, list, &strings);
	const char *cmd = node->def->identifier;
	flag_array_t flags, remove;

	array_init(&flags, run->tmp_pool, 8);
	if (strcasecmp(cmd, "setflag") != 0)
		flags_add_string(run->tmp_pool, &flags, flags_get_var(run, var));
	if (strcasecmp(cmd, "removeflag") == 0) {
		array_init(&remove, run->tmp_pool, 8);
		for (unsigned int i = 0; i < count; i++)
			flags_add_string(run->tmp_pool, &remove, strings[i]);
		for (unsigned int i = flags.count; i-- > 0; ) {
			if (flags_contain(&remove, flags.v[i], strlen(flags.v[i])))
				array_delete(&flags, i, 1);
		}
	} else {
		for (unsigned int i = 0; i < count; i++)
			flags_add_string(run->tmp_pool, &flags, strings[i]);
	}
	return flags_set_var(run, node, var, flags_join(&flags));
}

static int test_hasflag(struct sieve_run *run, const struct sieve_ast_node *node)
{
	bool has_vars = node->positional_count == 2;
	struct sieve_match *match =
		sieve_run_match_begin(run, node, node->positional[has_vars ? 1 : 0]);
	const char *const *vars = NULL;
	unsigned int var_count = has_vars ?
		sieve_run_strings(run, node->positional[0], &vars) : 1;
	int ret = 0;

	for (unsigned int i = 0; i < var_count && ret == 0; i++) {
		flag_array_t flags;

		array_init(&flags, run->tmp_pool, 8);
		flags_add_string(run->tmp_pool, &flags,
				 flags_get_var(run, has_vars ? vars[i] : NULL));
		for (unsigned int j = 0; j < flags.count && ret == 0; j++)
			ret = sieve_run_match_value(match, flags.v[j]);
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static const char *const *flags_to_list(struct sieve_run *run, const char *str)
{
	flag_array_t flags;

	array_init(&flags, run->pool, 8);
	flags_add_string(run->pool, &flags, str);
	if (flags.count == 0)
		return NULL;
	array_push(&flags, NULL);
	return flags.v;
}

const char *const *sieve_imap4flags_for_action(struct sieve_run *run,
					       const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *arg;

	if (!sieve_run_requires(run, "imap4flags"))
		return NULL;
	arg = sieve_node_tag_value(node, "flags");
	if (arg == NULL)
		return sieve_imap4flags_implicit(run);

	const char *const *strings;
	unsigned int count = sieve_run_strings(run, arg, &strings);
	flag_array_t flags;

	array_init(&flags, run->pool, 8);
	for (unsigned int i = 0; i < count; i++)
		flags_add_string(run->pool, &flags, strings[i]);
	if (flags.count == 0)
		return NULL;
	array_push(&flags, NULL);
	return flags.v;
}

const char *const *sieve_imap4flags_implicit(struct sieve_run *run)
{
	/* set once a script used imap4flags (the run may be over) */
	struct imap4flags_context *ctx = sieve_run_ext_context(run, &sieve_ext_imap4flags);

	return ctx == NULL ? NULL : flags_to_list(run, ctx->internal);
}

#define SL SIEVE_ARG_STRING_LIST

static const struct sieve_command_def imap4flags_commands[] = {
	{ .identifier = "setflag", .positional = { SL, SL }, .optional_positional = 1,
	  .validate = validate_flag_command, .execute = exec_flag_command },
	{ .identifier = "addflag", .positional = { SL, SL }, .optional_positional = 1,
	  .validate = validate_flag_command, .execute = exec_flag_command },
	{ .identifier = "removeflag", .positional = { SL, SL }, .optional_positional = 1,
	  .validate = validate_flag_command, .execute = exec_flag_command },
	{ .identifier = "hasflag",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SL, SL }, .optional_positional = 1, .execute = test_hasflag },
	{ .identifier = NULL },
};

static const struct sieve_ext_tag imap4flags_tags[] = {
	{ .command = "keep", .tag = { .name = "flags", .value = SL } },
	{ .command = "fileinto", .tag = { .name = "flags", .value = SL } },
	{ .command = NULL },
};

const struct sieve_extension_def sieve_ext_imap4flags = {
	.name = "imap4flags", .commands = imap4flags_commands, .tags = imap4flags_tags,
};
