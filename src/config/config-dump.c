/* Writing settings back out: the config dump (all or only non-default
 * settings, in config-file syntax) and the Markdown settings reference. */
#include "config-private.h"

static bool config_value_needs_quotes(const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || value[0] == ' ' || value[0] == '\t' ||
	    value[len - 1] == ' ' || value[len - 1] == '\t')
		return true;
	return strpbrk(value, "#\"\\") != NULL;
}

void config_append_value(string_t *dest, const char *value)
{
	if (!config_value_needs_quotes(value)) {
		str_append(dest, value);
		return;
	}
	str_append_c(dest, '"');
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *value);
	}
	str_append_c(dest, '"');
}

/* Appends the settings of one block; when defaults is not NULL only those
   that differ from it. header is NULL for the top level; the block is left
   out when nothing in it is written, unless always is set. */
static void config_dump_block(string_t *dest, const struct setting_def *defs,
			      const char *header, const void *target,
			      const char *base_dir, const void *defaults,
			      const char *default_base_dir, bool always)
{
	string_t *lines = t_str_new(256);
	const char *indent = header == NULL ? "" : "  ";

	for (unsigned int i = 0; defs[i].key != NULL; i++) {
		const char *value = setting_format(&defs[i], target, base_dir);
		if (defaults != NULL &&
		    strcmp(value, setting_format(&defs[i], defaults,
						 default_base_dir)) == 0)
			continue;
		str_printfa(lines, "%s%s = ", indent, defs[i].key);
		config_append_value(lines, value);
		str_append_c(lines, '\n');
	}
	if (header == NULL) {
		str_append(dest, str_c(lines));
		return;
	}
	if (str_len(lines) == 0 && !always)
		return;
	str_printfa(dest, "%s%s {\n%s}\n", str_len(dest) > 0 ? "\n" : "",
		    header, str_c(lines));
}

/* What a listener would be if the config did not mention it. */
static const struct listener_settings *
config_listener_default(const struct tern_settings *defaults,
			const struct listener_settings *listener, bool *new_r)
{
	struct listener_settings *def;

	*new_r = false;
	for (unsigned int i = 0; i < defaults->listeners.count; i++) {
		if (strcmp(defaults->listeners.v[i]->name, listener->name) == 0)
			return defaults->listeners.v[i];
	}
	*new_r = true;
	def = t_new(struct listener_settings, 1);
	setting_apply_defaults(listener_setting_defs, def, t_pool());
	def->name = listener->name;
	def->protocol = config_listener_protocol_from_name(listener->name);
	def->tls = config_listener_tls_default(listener->name,
					       listener->protocol);
	return def;
}

static void config_dump_labelled(string_t *dest, const struct tern_settings *set,
				 const struct tern_settings *defaults)
{
	const char *dbase = defaults == NULL ? NULL : defaults->base_dir;
	const void *def;
	bool is_new;

	for (unsigned int i = 0; i < set->services.count; i++) {
		const struct service_settings *service = set->services.v[i];
		def = NULL;
		for (unsigned int j = 0; defaults != NULL &&
					 j < defaults->services.count; j++) {
			if (strcmp(defaults->services.v[j]->name,
				   service->name) == 0)
				def = defaults->services.v[j];
		}
		config_dump_block(dest, service_setting_defs,
				  t_strdup_printf("service %s", service->name),
				  service, set->base_dir, def, dbase,
				  defaults == NULL || def == NULL);
	}
	for (unsigned int i = 0; i < set->listeners.count; i++) {
		const struct listener_settings *listener = set->listeners.v[i];
		def = NULL;
		is_new = false;
		if (defaults != NULL)
			def = config_listener_default(defaults, listener, &is_new);
		config_dump_block(dest, listener_setting_defs,
				  t_strdup_printf("listener %s", listener->name),
				  listener, set->base_dir, def, dbase,
				  defaults == NULL || is_new);
	}
	/* the embedded default has no certificates: each one is new */
	struct tls_certificate_settings *cert_def = t_new(struct tls_certificate_settings, 1);
	setting_apply_defaults(certificate_setting_defs, cert_def, t_pool());
	for (unsigned int i = 0; i < set->certificates.count; i++) {
		const struct tls_certificate_settings *cert = set->certificates.v[i];
		config_dump_block(dest, certificate_setting_defs,
				  t_strdup_printf("certificate %s", cert->name),
				  cert, set->base_dir, defaults == NULL ? NULL : cert_def,
				  dbase, true);
	}
}

/* passdb and userdb blocks are never in the embedded default: always
   dumped whole */
static void config_dump_auth_dbs(string_t *dest, const struct tern_settings *set)
{
	for (unsigned int i = 0; i < set->passdbs.count; i++) {
		config_dump_block(dest, auth_db_setting_defs,
				  t_strdup_printf("passdb %s", set->passdbs.v[i]->name),
				  set->passdbs.v[i], set->base_dir, NULL, NULL, true);
	}
	for (unsigned int i = 0; i < set->userdbs.count; i++) {
		config_dump_block(dest, auth_db_setting_defs,
				  t_strdup_printf("userdb %s", set->userdbs.v[i]->name),
				  set->userdbs.v[i], set->base_dir, NULL, NULL, true);
	}
	/* imapsieve_mailbox blocks aren't in the embedded default either */
	for (unsigned int i = 0; array_is_created(&set->imapsieve_mailboxes) &&
	     i < set->imapsieve_mailboxes.count; i++) {
		const struct imapsieve_mailbox_settings *mb = set->imapsieve_mailboxes.v[i];
		config_dump_block(dest, config_block_imapsieve_mailbox.defs,
				  t_strdup_printf("imapsieve_mailbox %s", mb->label),
				  mb, set->base_dir, NULL, NULL, true);
	}
}

void config_dump(const struct tern_config *config, bool non_default_only,
		 string_t *dest)
{
	const struct tern_settings *set = config->set, *dset = NULL;
	struct tern_config *defaults = NULL;
	string_t *out = t_str_new(4096);

	if (non_default_only) {
		defaults = config_load_embedded();
		dset = defaults->set;
	}
	for (unsigned int i = 0; config_blocks[i] != NULL; i++) {
		const struct config_block_def *def = config_blocks[i];
		if (def->labelled)
			continue;
		config_dump_block(out, def->defs, def->name,
				  (const char *)set + def->offset, set->base_dir,
				  dset == NULL ? NULL :
				  (const char *)dset + def->offset,
				  dset == NULL ? NULL : dset->base_dir,
				  dset == NULL);
	}
	config_dump_labelled(out, set, dset);
	config_dump_auth_dbs(out, set);
	str_append_n(dest, str_data(out), str_len(out));
	config_free(&defaults);
}

/* ---- Markdown reference ---- */

static void config_doc_append_cell(string_t *dest, const char *text)
{
	for (; *text != '\0'; text++) {
		if (*text == '|')
			str_append_c(dest, '\\');
		str_append_c(dest, *text);
	}
}

static void config_doc_block(string_t *dest, const struct config_block_def *block)
{
	const char *prefix;

	if (block->name == NULL) {
		str_append(dest, "## Top level\n\n");
		prefix = "";
	} else if (block->labelled) {
		str_printfa(dest, "## `%s NAME { }`\n\n", block->name);
		prefix = t_strdup_printf("%s.NAME.", block->name);
	} else {
		str_printfa(dest, "## `%s { }`\n\n", block->name);
		prefix = t_strdup_printf("%s.", block->name);
	}
	str_printfa(dest, "%s\n\n", block->description);
	str_append(dest, "| Setting | Type | Default | Description |\n"
			 "|---|---|---|---|\n");
	for (const struct setting_def *def = block->defs; def->key != NULL; def++) {
		str_printfa(dest, "| `%s%s` | ", prefix, def->key);
		config_doc_append_cell(dest, setting_type_describe(def));
		str_append(dest, " | ");
		if (def->default_value == NULL)
			str_append(dest, "derived");
		else if (def->default_value[0] == '\0')
			str_append(dest, "empty");
		else
			str_printfa(dest, "`%s`", def->default_value);
		str_append(dest, " | ");
		config_doc_append_cell(dest, def->description);
		str_append(dest, " |\n");
	}
	str_append_c(dest, '\n');
}

void config_doc_markdown(string_t *dest)
{
	for (unsigned int i = 0; config_blocks[i] != NULL; i++)
		config_doc_block(dest, config_blocks[i]);
	str_append(dest, "## Embedded default\n\n"
		   "Without a config file Tern runs with the defaults above "
		   "and these services and listeners; a config file is "
		   "applied on top of them.\n\n```\n");
	str_append(dest, config_embedded_default);
	str_append(dest, "```\n");
}
