/* The mime, foreverypart and extracttext extensions (RFC 5703): the :mime
 * family of tags on header, address and exists (§4), iteration over the
 * message's MIME parts with break (§3), and extracttext (§7). */
#include "sieve-run.h"
#include "mime-content-type.h"
#include "mime-parser.h"

#include <strings.h>

static int validate_mime_tags(struct sieve_validator *validator,
			      struct sieve_ast_node *node, const char **error_r)
{
	static const char *const options[] = { "type", "subtype", "contenttype", "param" };
	unsigned int n = 0;

	for (unsigned int i = 0; i < N_ELEMENTS(options); i++)
		n += sieve_node_has_tag(node, options[i]) ? 1 : 0;
	if ((n > 0 || sieve_node_has_tag(node, "anychild")) &&
	    !sieve_node_has_tag(node, "mime")) {
		*error_r = "the :anychild, :type, :subtype, :contenttype and :param tags "
			"need :mime";
		return -1;
	}
	if (n > 1) {
		*error_r = "only one of :type, :subtype, :contenttype and :param";
		return -1;
	}
	return 0;
}

/* RFC 5703 §4.2: the option picks a piece of a Content-Type (or for
   :param also Content-Disposition) value. */
int sieve_mime_match_header(struct sieve_run *run, const struct sieve_ast_node *node,
			    struct sieve_match *match, const char *name, const char *value)
{
	const struct sieve_ast_arg *params = sieve_node_tag_value(node, "param");
	bool type = sieve_node_has_tag(node, "type"), subtype = sieve_node_has_tag(node, "subtype");
	bool contenttype = sieve_node_has_tag(node, "contenttype");
	const struct mime_param *plist;
	unsigned int pcount;

	if (!type && !subtype && !contenttype && params == NULL)
		return sieve_run_match_value(match, value);
	if (strcasecmp(name, "content-type") == 0) {
		struct mime_content_type ct;

		if (mime_content_type_parse(run->pool, value, strlen(value), false, &ct) < 0)
			return 0;
		if (type || subtype || contenttype) {
			return sieve_run_match_value(match, type ? ct.type : subtype ? ct.subtype :
				p_strconcat(run->pool, ct.type, "/", ct.subtype, NULL));
		}
		plist = ct.params;
		pcount = ct.params_count;
	} else if (strcasecmp(name, "content-disposition") == 0 && params != NULL) {
		struct mime_content_disposition cd;

		if (mime_content_disposition_parse(run->pool, value, strlen(value), &cd) < 0)
			return 0;
		plist = cd.params;
		pcount = cd.params_count;
	} else {
		return 0;
	}
	if (params == NULL)
		return 0;
	const char *const *names;
	unsigned int count = sieve_run_strings(run, params, &names);
	for (unsigned int i = 0; i < count; i++) {
		const char *pvalue = mime_param_get(plist, pcount, names[i]);
		int ret;

		if (pvalue != NULL && (ret = sieve_run_match_value(match, pvalue)) != 0)
			return ret;
	}
	return 0;
}

/* --- foreverypart and break (RFC 5703 §3) --- */

static bool inside_foreverypart(const struct sieve_ast_node *node, const char *name)
{
	for (const struct sieve_ast_node *p = node->parent; p != NULL; p = p->parent) {
		if (p->def == NULL || strcasecmp(p->identifier, "foreverypart") != 0)
			continue;
		const struct sieve_ast_arg *pname = sieve_node_tag_value(p, "name");
		if (name == NULL || (pname != NULL && strcmp(pname->strings[0], name) == 0))
			return true;
	}
	return false;
}

static int validate_break(struct sieve_validator *validator,
			  struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *name = sieve_node_tag_value(node, "name");

	if (!inside_foreverypart(node, name == NULL ? NULL : name->strings[0])) {
		*error_r = name == NULL ? "break outside of foreverypart" :
			t_strdup_printf("break: no enclosing foreverypart named \"%s\"",
					name->strings[0]);
		return -1;
	}
	return 0;
}

static int exec_foreverypart(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_parsed_message *parsed = sieve_run_parse_message(run, node);
	unsigned int saved = run->current_part, first, end;
	int ret = 0;

	if (parsed == NULL)
		return -1;
	if (parsed->parts.count == 0)
		return 0;
	/* the parts below the current one (the message at the top) */
	first = saved == 0 ? 0 : saved - 1;
	unsigned int depth = parsed->parts.v[first].part->depth;
	for (end = first + 1; end < parsed->parts.count &&
	     parsed->parts.v[end].part->depth > depth; end++) ;
	if (end > first + 1)
		first++;
	else if (saved != 0)
		return 0;
	for (unsigned int i = first; i < end && ret == 0; i++) {
		run->current_part = i + 1;
		ret = sieve_run_block(run, node);
		if (run->breaking != NULL) {
			/* a break for us ends the loop; one for an outer
			   loop passes on */
			if (run->breaking == node)
				run->breaking = NULL;
			break;
		}
		if (run->stopped || run->returned)
			break;
	}
	run->current_part = saved;
	return ret;
}

static int exec_break(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *name = sieve_node_tag_value(node, "name");

	for (const struct sieve_ast_node *p = node->parent; p != NULL; p = p->parent) {
		if (p->def == NULL || strcasecmp(p->identifier, "foreverypart") != 0)
			continue;
		const struct sieve_ast_arg *pname = sieve_node_tag_value(p, "name");
		if (name == NULL || (pname != NULL &&
				     strcmp(pname->strings[0], name->strings[0]) == 0)) {
			run->breaking = p;
			return 0;
		}
	}
	return 0;
}

/* --- extracttext (RFC 5703 §7) --- */

static int validate_extracttext(struct sieve_validator *validator,
				struct sieve_ast_node *node, const char **error_r)
{
	if (!sieve_ast_requires(sieve_validator_get_ast(validator), "variables")) {
		*error_r = "extracttext needs require \"variables\"";
		return -1;
	}
	if (!inside_foreverypart(node, NULL)) {
		*error_r = "extracttext outside of foreverypart";
		return -1;
	}
	return 0;
}

static int exec_extracttext(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *first = sieve_node_tag_value(node, "first");
	struct sieve_parsed_message *parsed = sieve_run_parse_message(run, node);
	struct sieve_msg_part *part;
	const char *text = "";

	if (parsed == NULL)
		return -1;
	if (run->current_part != 0) {
		part = &parsed->parts.v[run->current_part - 1];
		/* only text parts have text (RFC 5703 §7) */
		if (!part->part->is_multipart && !part->part->is_message &&
		    strcasecmp(part->part->content_type.type, "text") == 0)
			text = sieve_msg_part_text(run, part);
	}
	if (first != NULL) {
		/* RFC 5703 §7: :first counts characters */
		uint64_t chars = 0;
		size_t len = 0;

		for (; text[len] != '\0'; len++) {
			if (((unsigned char)text[len] & 0xc0) != 0x80 && chars++ == first->number)
				break;
		}
		text = p_strndup(run->pool, text, len);
	}
	text = sieve_variables_apply_modifiers(run, node, text);
	return sieve_run_var_set(run, node, node->positional[0]->strings[0], text);
}

static const struct sieve_tag_def name_tags[] = {
	{ .name = "name", .value = SIEVE_ARG_STRING },
	{ .name = NULL },
};

static const struct sieve_tag_def extracttext_tags[] = {
	{ .name = "first", .value = SIEVE_ARG_NUMBER },
	{ .name = "lower" }, { .name = "upper" },
	{ .name = "lowerfirst" }, { .name = "upperfirst" },
	{ .name = "quotewildcard" }, { .name = "length" },
	{ .name = "quoteregex", .extension = "regex" },
	{ .name = "encodeurl", .extension = "enotify" },
	{ .name = NULL },
};

static const struct sieve_command_def foreverypart_commands[] = {
	{ .identifier = "foreverypart", .flags = SIEVE_CMD_FLAG_BLOCK, .tags = name_tags,
	  .execute = exec_foreverypart },
	{ .identifier = "break", .tags = name_tags, .validate = validate_break,
	  .execute = exec_break },
	{ .identifier = NULL },
};

static const struct sieve_command_def extracttext_commands[] = {
	{ .identifier = "extracttext", .positional = { SIEVE_ARG_STRING },
	  .tags = extracttext_tags, .validate = validate_extracttext,
	  .execute = exec_extracttext },
	{ .identifier = NULL },
};

#define MIME_TAGS(cmd) \
	{ .command = cmd, .tag = { .name = "mime" } }, \
	{ .command = cmd, .tag = { .name = "anychild" } }
#define OPTION_TAGS(cmd) \
	{ .command = cmd, .tag = { .name = "type" } }, \
	{ .command = cmd, .tag = { .name = "subtype" } }, \
	{ .command = cmd, .tag = { .name = "contenttype" } }, \
	{ .command = cmd, .tag = { .name = "param", .value = SIEVE_ARG_STRING_LIST } }

static const struct sieve_ext_tag mime_tags[] = {
	MIME_TAGS("header"), MIME_TAGS("address"), MIME_TAGS("exists"),
	OPTION_TAGS("header"),
	{ .command = NULL },
};

static int mime_require(struct sieve_validator *validator, const char **error_r)
{
	return 0;
}

const struct sieve_extension_def sieve_ext_mime = {
	.name = "mime", .tags = mime_tags, .require = mime_require,
};

const struct sieve_extension_def sieve_ext_foreverypart = {
	.name = "foreverypart", .commands = foreverypart_commands,
};

const struct sieve_extension_def sieve_ext_extracttext = {
	.name = "extracttext", .commands = extracttext_commands,
};

/* called by the validator for header, address and exists nodes */
int sieve_mime_validate_node(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r)
{
	return validate_mime_tags(validator, node, error_r);
}
