/* The body test (RFC 5173): matches the message body, :raw (undecoded,
 * §5.1), :content with content types (§5.2: each matching leaf part,
 * transfer encoding undone and converted to UTF-8) or :text (the default,
 * §5.3: the text parts). The MIME structure comes from the caller's raw
 * message (sieve_run_parse_message()). */
#include "sieve-run.h"
#include "mime-parser.h"

#include <strings.h>

static const struct sieve_tag_def body_tags[] = {
	{ .name = "raw" },
	{ .name = "content", .value = SIEVE_ARG_STRING_LIST },
	{ .name = "text" },
	{ .name = NULL },
};

static int validate_body(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r)
{
	unsigned int transforms = sieve_node_has_tag(node, "raw") +
		sieve_node_has_tag(node, "content") + sieve_node_has_tag(node, "text");

	if (transforms > 1) {
		*error_r = "body takes only one of :raw, :content and :text";
		return -1;
	}
	return 0;
}

/* RFC 5173 §5.2: "" matches every type, "type" every subtype of it,
   "type/subtype" exactly. */
static bool content_type_matches(const struct mime_content_type *ct, const char *want)
{
	const char *slash = strchr(want, '/');

	if (want[0] == '\0')
		return true;
	if (slash == NULL)
		return strcasecmp(ct->type, want) == 0;
	return strlen(ct->type) == (size_t)(slash - want) &&
		strncasecmp(ct->type, want, (size_t)(slash - want)) == 0 &&
		strcasecmp(ct->subtype, slash + 1) == 0;
}

static bool part_wanted(const struct sieve_msg_part *part, const char *const *types,
			unsigned int type_count)
{
	const struct mime_content_type *ct = &part->part->content_type;

	for (unsigned int i = 0; i < type_count; i++) {
		if (content_type_matches(ct, types[i]))
			return true;
	}
	return false;
}

static int body_match_raw(struct sieve_run *run, const struct sieve_ast_node *node,
			  struct sieve_match *match, const struct sieve_parsed_message *parsed)
{
	const struct sieve_msg_part *root = &parsed->parts.v[0];
	const unsigned char *body = parsed->data + root->part->body_offset;
	size_t size = parsed->size - (size_t)root->part->body_offset;
	char *text = p_strndup(run->pool, body, size);

	/* NULs would end the string early */
	for (size_t i = 0; i < size; i++) {
		if (text[i] == '\0')
			text[i] = ' ';
	}
	return sieve_run_match_value(match, text);
}

static bool message_has_body(const struct sieve_parsed_message *parsed)
{
	const unsigned char *d = parsed->data;
	size_t body = (size_t)parsed->parts.v[0].part->body_offset;

	if (body < parsed->size)
		return true;
	/* nothing after the header: a body only if the header ended with
	   the empty line */
	return (body >= 2 && d[body - 1] == '\n' &&
		(d[body - 2] == '\n' || (body >= 3 && d[body - 2] == '\r' && d[body - 3] == '\n'))) ||
		(body >= 1 && d[0] == '\n') || (body >= 2 && d[0] == '\r' && d[1] == '\n');
}

static int test_body(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_parsed_message *parsed = sieve_run_parse_message(run, node);
	const struct sieve_ast_arg *content = sieve_node_tag_value(node, "content");
	static const char *const text_types[] = { "text" };
	const char *const *types = text_types;
	unsigned int type_count = 1;
	struct sieve_match *match;
	int ret = 0;

	if (parsed == NULL)
		return -1;
	match = sieve_run_match_begin(run, node, node->positional[0]);
	/* RFC 5173 §5: a message without a body (no empty line after the
	   header) has no body parts: every body test is false, even for "" */
	if (parsed->parts.count == 0 || !message_has_body(parsed)) {
		sieve_run_match_end(&match);
		return 0;
	}
	/* RFC 5173 updates RFC 5229: body never sets match variables (a body
	   can be large; the suite checks ${0} stays as it was) */
	run->match_values_off = true;
	if (sieve_node_has_tag(node, "raw")) {
		ret = body_match_raw(run, node, match, parsed);
	} else {
		if (content != NULL)
			type_count = sieve_run_strings(run, content, &types);
		for (unsigned int i = 0; i < parsed->parts.count && ret == 0; i++) {
			struct sieve_msg_part *part = &parsed->parts.v[i];

			if (part->part->is_multipart || part->part->is_message ||
			    !part_wanted(part, types, type_count))
				continue;
			ret = sieve_run_match_value(match, content != NULL ?
				sieve_msg_part_text(run, part) : sieve_msg_part_plain_text(run, part));
		}
	}
	run->match_values_off = false;
	if (ret < 0) {
		sieve_run_match_end(&match);
		return -1;
	}
	return sieve_run_match_end(&match);
}

static const struct sieve_command_def body_commands[] = {
	{ .identifier = "body",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SIEVE_ARG_STRING_LIST }, .tags = body_tags,
	  .validate = validate_body, .execute = test_body },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_body = {
	.name = "body", .commands = body_commands,
};
