/* The mailbox, mboxmetadata and servermetadata extensions (RFC 5490) and
 * special-use (RFC 8579): mailboxexists and :create (§3.1-§3.2),
 * metadata/metadataexists (§3.3-§3.4), servermetadata/servermetadataexists
 * (§4), specialuse_exists and :specialuse (RFC 8579 §4-§5). Mailboxes and
 * annotations are the caller's, asked through struct sieve_env. */
#include "sieve-run.h"
#include "mime-charset.h"

static int env_mailbox_exists(struct sieve_run *run, const struct sieve_ast_node *node,
			      const char *mailbox)
{
	const struct sieve_env *env = run->env;
	const char *error;
	int ret;

	if (env->mailbox_exists == NULL)
		return 0;
	if ((ret = env->mailbox_exists(env->context, mailbox, &error)) < 0)
		return sieve_run_error(run, node, "mailboxexists: %s", error);
	return ret;
}

static int test_mailboxexists(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *const *names;
	unsigned int count = sieve_run_strings(run, node->positional[0], &names);

	for (unsigned int i = 0; i < count; i++) {
		int ret = env_mailbox_exists(run, node, names[i]);

		if (ret <= 0)
			return ret;
	}
	return 1;
}

static int env_metadata(struct sieve_run *run, const struct sieve_ast_node *node,
			const char *mailbox, const char *entry, const char **value_r)
{
	const struct sieve_env *env = run->env;
	const char *error;
	int ret;

	if (env->metadata_get == NULL)
		return 0;
	if ((ret = env->metadata_get(env->context, mailbox, entry, value_r, &error)) < 0)
		return sieve_run_error(run, node, "metadata: %s", error);
	return ret;
}

/* metadata <mailbox> <annotation> <keys>, servermetadata <annotation> <keys> */
static int test_metadata(struct sieve_run *run, const struct sieve_ast_node *node)
{
	bool server = node->positional_count == 2;
	const char *mailbox = server ? NULL : sieve_run_string(run, node->positional[0]);
	const char *entry = sieve_run_string(run, node->positional[server ? 0 : 1]);
	struct sieve_match *match =
		sieve_run_match_begin(run, node, node->positional[server ? 1 : 2]);
	const char *value;
	int ret = env_metadata(run, node, mailbox, entry, &value);

	if (ret < 0 || (ret > 0 && sieve_run_match_value(match, value) < 0))
		return -1;
	return sieve_run_match_end(&match);
}

static int test_metadataexists(struct sieve_run *run, const struct sieve_ast_node *node)
{
	bool server = node->positional_count == 1;
	const char *mailbox = server ? NULL : sieve_run_string(run, node->positional[0]);
	const char *const *entries, *value;
	unsigned int count = sieve_run_strings(run, node->positional[server ? 0 : 1], &entries);

	if (!server && env_mailbox_exists(run, node, mailbox) <= 0)
		return run->error_final ? -1 : 0;
	for (unsigned int i = 0; i < count; i++) {
		int ret = env_metadata(run, node, mailbox, entries[i], &value);

		if (ret <= 0)
			return ret;
	}
	return 1;
}

bool sieve_specialuse_flag_valid(const char *flag)
{
	/* RFC 6154 §6: use-attr = "\\" atom (RFC 3501 §9 ATOM-CHAR) */
	if (flag[0] != '\\' || flag[1] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)flag + 1; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

/* RFC 8579 §5: specialuse_exists [<mailbox>] <flags> */
static int test_specialuse_exists(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_env *env = run->env;
	bool has_mailbox = node->positional_count == 2;
	const char *mailbox = has_mailbox ? sieve_run_string(run, node->positional[0]) : NULL;
	const char *const *flags, *error;
	unsigned int count = sieve_run_strings(run, node->positional[has_mailbox ? 1 : 0], &flags);

	if (env->specialuse_exists == NULL)
		return 0;
	for (unsigned int i = 0; i < count; i++) {
		if (!sieve_specialuse_flag_valid(flags[i]))
			return sieve_run_error(run, node, "specialuse_exists: invalid "
					       "special-use flag \"%s\"", flags[i]);
	}
	for (unsigned int i = 0; i < count; i++) {
		int ret = env->specialuse_exists(env->context, mailbox, flags[i], &error);

		if (ret < 0)
			return sieve_run_error(run, node, "specialuse_exists: %s", error);
		if (ret == 0)
			return 0;
	}
	return 1;
}

static int validate_specialuse_exists(struct sieve_validator *validator,
				      struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *flags = node->positional[node->positional_count - 1];

	if (node->positional_count == 2 && node->positional[0]->type != SIEVE_AST_ARG_STRING) {
		*error_r = "the mailbox of specialuse_exists must be a string";
		return -1;
	}
	for (unsigned int i = 0; i < flags->string_count; i++) {
		const char *flag = flags->strings[i];

		if (!sieve_validator_string_is_dynamic(validator, flag) &&
		    !sieve_specialuse_flag_valid(flag)) {
			*error_r = t_strdup_printf("specialuse_exists: invalid special-use "
						   "flag \"%s\"", flag);
			return -1;
		}
	}
	if (node->positional_count == 2) {
		const char *mailbox = node->positional[0]->strings[0];

		if (!sieve_validator_string_is_dynamic(validator, mailbox) &&
		    !charset_utf8_is_valid(mailbox, strlen(mailbox)))
			sieve_validator_warning(validator, node, "specialuse_exists: the "
						"mailbox name is not UTF-8 (no mailbox matches)");
	}
	return 0;
}

#define MATCH_TEST (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE)
#define S SIEVE_ARG_STRING
#define SL SIEVE_ARG_STRING_LIST

static const struct sieve_command_def mailbox_commands[] = {
	{ .identifier = "mailboxexists", .flags = SIEVE_CMD_FLAG_TEST, .positional = { SL },
	  .execute = test_mailboxexists },
	{ .identifier = NULL },
};

static const struct sieve_ext_tag mailbox_tags[] = {
	{ .command = "fileinto", .tag = { .name = "create" } },
	{ .command = NULL },
};

const struct sieve_extension_def sieve_ext_mailbox = {
	.name = "mailbox", .commands = mailbox_commands, .tags = mailbox_tags,
};

static const struct sieve_command_def mboxmetadata_commands[] = {
	{ .identifier = "metadata", .flags = MATCH_TEST, .positional = { S, S, SL },
	  .execute = test_metadata },
	{ .identifier = "metadataexists", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { S, SL }, .execute = test_metadataexists },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_mboxmetadata = {
	.name = "mboxmetadata", .commands = mboxmetadata_commands,
};

static const struct sieve_command_def servermetadata_commands[] = {
	{ .identifier = "servermetadata", .flags = MATCH_TEST, .positional = { S, SL },
	  .execute = test_metadata },
	{ .identifier = "servermetadataexists", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SL }, .execute = test_metadataexists },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_servermetadata = {
	.name = "servermetadata", .commands = servermetadata_commands,
};

static const struct sieve_command_def special_use_commands[] = {
	{ .identifier = "specialuse_exists", .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SL, SL }, .optional_positional = 1,
	  .validate = validate_specialuse_exists, .execute = test_specialuse_exists },
	{ .identifier = NULL },
};

static const struct sieve_ext_tag special_use_tags[] = {
	{ .command = "fileinto", .tag = { .name = "specialuse", .value = S } },
	{ .command = NULL },
};

const struct sieve_extension_def sieve_ext_special_use = {
	.name = "special-use", .commands = special_use_commands, .tags = special_use_tags,
};
