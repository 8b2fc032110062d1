/* The extension registry: built-in extensions register on first use,
 * others through sieve_extension_register(); command, test and tag lookup
 * for the validator (RFC 5228 §3.2: capability names are case-sensitive,
 * identifiers are not). */
#include "sieve-commands.h"

#include <strings.h>

/* Far more than the extensions there are; a fixed table keeps
   registration free of allocation. */
#define SIEVE_MAX_EXTENSIONS 96

extern const struct sieve_extension_def sieve_ext_base;

static const struct sieve_extension_def *extensions[SIEVE_MAX_EXTENSIONS];
static unsigned int extension_count;
static const char *extension_names[SIEVE_MAX_EXTENSIONS + 1];
static unsigned int extension_name_count;
static bool extensions_initialized;

static const struct sieve_extension_def *const builtin_extensions[] = {
	&sieve_ext_base,
	&sieve_ext_fileinto, &sieve_ext_reject, &sieve_ext_envelope,
	&sieve_ext_encoded_character,
	&sieve_ext_comparator_octet, &sieve_ext_comparator_casemap,
	&sieve_ext_comparator_numeric,
	&sieve_ext_copy, &sieve_ext_ereject,
	&sieve_ext_variables, &sieve_ext_imap4flags, &sieve_ext_relational,
	&sieve_ext_subaddress, &sieve_ext_body, &sieve_ext_regex,
	&sieve_ext_date, &sieve_ext_index, &sieve_ext_environment,
	&sieve_ext_ihave, &sieve_ext_mailbox, &sieve_ext_mboxmetadata,
	&sieve_ext_servermetadata, &sieve_ext_spamtest,
	&sieve_ext_spamtestplus, &sieve_ext_virustest, &sieve_ext_editheader,
	&sieve_ext_duplicate, &sieve_ext_vacation, &sieve_ext_vacation_seconds,
	&sieve_ext_include, &sieve_ext_enotify, &sieve_ext_mime,
	&sieve_ext_foreverypart, &sieve_ext_extracttext,
	&sieve_ext_special_use, &sieve_ext_imapsieve,
};

static int extension_add(const struct sieve_extension_def *def)
{
	const struct sieve_extension_def *owner;

	if (extension_count >= SIEVE_MAX_EXTENSIONS)
		return -1;
	if (def->name != NULL && sieve_extension_lookup(def->name) != NULL)
		return -1;
	for (unsigned int i = 0; def->commands != NULL &&
	     def->commands[i].identifier != NULL; i++) {
		const struct sieve_command_def *cmd = &def->commands[i];
		const struct sieve_command_def *old =
			sieve_command_lookup(cmd->identifier,
					     (cmd->flags & SIEVE_CMD_FLAG_TEST) != 0, &owner);

		if (old != NULL && (old->flags & SIEVE_CMD_FLAG_TEST) ==
				   (cmd->flags & SIEVE_CMD_FLAG_TEST))
			return -1;
	}
	extensions[extension_count++] = def;
	if (def->name != NULL && !def->hidden)
		extension_names[extension_name_count++] = def->name;
	return 0;
}

void sieve_extensions_init(void)
{
	if (extensions_initialized)
		return;
	extensions_initialized = true;
	for (unsigned int i = 0; i < N_ELEMENTS(builtin_extensions); i++) {
		if (extension_add(builtin_extensions[i]) < 0)
			i_panic("sieve: built-in extension %s registered twice",
				builtin_extensions[i]->name);
	}
}

int sieve_extension_register(const struct sieve_extension_def *def)
{
	sieve_extensions_init();
	return extension_add(def);
}

const struct sieve_extension_def *sieve_extension_lookup(const char *name)
{
	sieve_extensions_init();
	for (unsigned int i = 0; i < extension_count; i++) {
		if (extensions[i]->name != NULL && strcmp(extensions[i]->name, name) == 0)
			return extensions[i];
	}
	return NULL;
}

bool sieve_extension_is_known(const char *name)
{
	return sieve_extension_lookup(name) != NULL;
}

const char *const *sieve_extension_names(void)
{
	sieve_extensions_init();
	return extension_names;
}

const struct sieve_command_def *sieve_command_lookup(const char *identifier, bool is_test,
	const struct sieve_extension_def **ext_r)
{
	const struct sieve_command_def *found = NULL;

	sieve_extensions_init();
	for (unsigned int i = 0; i < extension_count; i++) {
		const struct sieve_command_def *cmds = extensions[i]->commands;

		for (unsigned int j = 0; cmds != NULL && cmds[j].identifier != NULL; j++) {
			if (strcasecmp(cmds[j].identifier, identifier) != 0)
				continue;
			/* the kind the script's position asks for wins; the
			   other is returned so the error can say why */
			if (found == NULL || ((cmds[j].flags & SIEVE_CMD_FLAG_TEST) != 0) == is_test) {
				found = &cmds[j];
				*ext_r = extensions[i]->name == NULL ? NULL : extensions[i];
			}
			if (((cmds[j].flags & SIEVE_CMD_FLAG_TEST) != 0) == is_test)
				return found;
		}
	}
	return found;
}

const struct sieve_tag_def *sieve_command_find_tag(const struct sieve_ast_node *node,
						   const char *name,
						   const char **ext_name_r)
{
	const struct sieve_command_def *def = node->def;

	for (unsigned int i = 0; def->tags != NULL && def->tags[i].name != NULL; i++) {
		if (strcasecmp(def->tags[i].name, name) == 0) {
			*ext_name_r = def->tags[i].extension != NULL ? def->tags[i].extension :
				node->ext == NULL ? NULL : node->ext->name;
			return &def->tags[i];
		}
	}
	for (unsigned int i = 0; i < extension_count; i++) {
		const struct sieve_ext_tag *tags = extensions[i]->tags;

		for (unsigned int j = 0; tags != NULL && tags[j].command != NULL; j++) {
			if (strcasecmp(tags[j].command, def->identifier) == 0 &&
			    strcasecmp(tags[j].tag.name, name) == 0) {
				*ext_name_r = tags[j].tag.extension != NULL ?
					tags[j].tag.extension : extensions[i]->name;
				return &tags[j].tag;
			}
		}
	}
	return NULL;
}

const struct sieve_ast_arg *sieve_node_arg(const struct sieve_ast_node *node,
					   unsigned int idx)
{
	return idx < node->positional_count ? node->positional[idx] : NULL;
}

const struct sieve_node_tag *sieve_node_tag(const struct sieve_ast_node *node,
					    const char *name)
{
	for (unsigned int i = 0; i < node->tag_count; i++) {
		if (strcasecmp(node->tags[i].def->name, name) == 0)
			return &node->tags[i];
	}
	return NULL;
}

const struct sieve_ast_arg *sieve_node_tag_value(const struct sieve_ast_node *node,
						 const char *name)
{
	const struct sieve_node_tag *tag = sieve_node_tag(node, name);

	return tag == NULL ? NULL : tag->value;
}
