/* fileinto (RFC 5228 §4.1), with the tags other extensions add to it:
 * :copy (RFC 3894), :flags (RFC 5232), :create (RFC 5490 §3.2) and
 * :specialuse (RFC 8579 §4). */
#include "sieve-run.h"
#include "mime-charset.h"

#include <strings.h>

static bool mailbox_name_valid(const char *mailbox)
{
	return mailbox[0] != '\0' && charset_utf8_is_valid(mailbox, strlen(mailbox));
}

static int validate_fileinto(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r)
{
	const char *mailbox = node->positional[0]->strings[0];
	const struct sieve_ast_arg *specialuse = sieve_node_tag_value(node, "specialuse");

	if (specialuse != NULL &&
	    !sieve_validator_string_is_dynamic(validator, specialuse->strings[0]) &&
	    !sieve_specialuse_flag_valid(specialuse->strings[0])) {
		*error_r = t_strdup_printf("fileinto: invalid special-use flag \"%s\"",
					   specialuse->strings[0]);
		return -1;
	}
	if (sieve_validator_string_is_dynamic(validator, mailbox))
		return 0;
	if (!mailbox_name_valid(mailbox)) {
		*error_r = "invalid mailbox name for fileinto (empty or not UTF-8)";
		return -1;
	}
	return 0;
}

static int exec_fileinto(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *specialuse = sieve_node_tag_value(node, "specialuse");
	struct sieve_action action = {
		.type = SIEVE_ACTION_FILEINTO,
		.target = sieve_run_string(run, node->positional[0]),
		.copy = sieve_node_has_tag(node, "copy"),
		.create = sieve_node_has_tag(node, "create"),
		.flags = sieve_imap4flags_for_action(run, node),
	};

	if (!mailbox_name_valid(action.target))
		return sieve_run_error(run, node, "fileinto: invalid folder name (%s)",
				       action.target[0] == '\0' ? "empty" : "not UTF-8");
	if (specialuse != NULL) {
		action.specialuse = sieve_run_string(run, specialuse);
		if (!sieve_specialuse_flag_valid(action.specialuse))
			return sieve_run_error(run, node, "fileinto: invalid special-use flag "
					       "\"%s\"", action.specialuse);
	}
	return sieve_run_add_action(run, node, &action);
}

static const struct sieve_command_def fileinto_commands[] = {
	{ .identifier = "fileinto", .positional = { SIEVE_ARG_STRING },
	  .validate = validate_fileinto, .execute = exec_fileinto },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_fileinto = {
	.name = "fileinto", .commands = fileinto_commands,
};
