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
   "type/subtype" exactly; a type that begins or ends with '/' or has more
   than one matches nothing. A part whose Content-Type is invalid has no
   type (RFC 2045 §5.2 would make it text/plain, but it is not text the
   sender meant): only "" matches it. */
static bool content_type_matches(const struct mime_content_type *ct, const char *want)
{
	const char *slash = strchr(want, '/');

	if (want[0] == '\0')
		return true;
	if (ct->invalid)
		return false;
	if (slash == NULL)
		return strcasecmp(ct->type, want) == 0;
	if (slash == want || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return false;
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

/* A piece of the raw message as a string, NULs as spaces. */
static const char *body_raw_string(struct sieve_run *run, const unsigned char *data,
				   size_t size)
{
	char *text = p_strndup(run->pool, data, size);

	for (size_t i = 0; i < size; i++) {
		if (text[i] == '\0')
			text[i] = ' ';
	}
	return text;
}

/* Start of the line that ends just before pos (pos is after its LF). */
static size_t line_start_before(const unsigned char *data, size_t start, size_t pos)
{
	if (pos > start && data[pos - 1] == '\n')
		pos--;
	while (pos > start && data[pos - 1] != '\n')
		pos--;
	return pos;
}

/* Drops the line break that ends [start, end) (it belongs to the boundary
   that follows, RFC 2046 §5.1.1). */
static size_t strip_line_break(const unsigned char *data, size_t start, size_t end)
{
	if (end > start && data[end - 1] == '\n')
		end--;
	if (end > start && data[end - 1] == '\r')
		end--;
	return end;
}

/* RFC 5173 §5.2: a multipart's prologue and epilogue are searched, as two
   strings; its boundaries and parts are not. */
static int body_match_multipart(struct sieve_run *run, struct sieve_match *match,
				const struct sieve_parsed_message *parsed,
				const struct mime_part *mp)
{
	const unsigned char *d = parsed->data;
	size_t start = (size_t)mp->body_offset, end = start + (size_t)mp->body_size;
	const struct mime_part *last = mp->children;
	size_t pos;
	int ret;

	if (mp->children == NULL)
		return sieve_run_match_value(match, body_raw_string(run, d + start, end - start));
	/* the prologue ends where the first delimiter line starts */
	pos = (size_t)mp->children->header_offset;
	if (pos < start || pos > end)
		return 0;
	pos = line_start_before(d, start, pos);
	pos = pos == start ? start : strip_line_break(d, start, pos);
	ret = sieve_run_match_value(match, body_raw_string(run, d + start, pos - start));
	if (ret != 0)
		return ret;
	/* the epilogue follows the close-delimiter line after the last part */
	while (last->next != NULL)
		last = last->next;
	pos = (size_t)(last->body_offset + last->body_size);
	while (pos < end && (d[pos] == '\r' || d[pos] == '\n'))
		pos++;
	if (pos + 1 >= end || d[pos] != '-' || d[pos + 1] != '-')
		return 0;
	while (pos < end && d[pos] != '\n')
		pos++;
	if (pos >= end)
		return 0;
	pos++;
	return sieve_run_match_value(match, body_raw_string(run, d + pos, end - pos));
}

/* RFC 5173 §5.2: of a message/rfc822 part only the header of the enclosed
   message is searched, as one string (without the blank line that ends
   it). */
static int body_match_message_header(struct sieve_run *run, struct sieve_match *match,
				     const struct sieve_parsed_message *parsed,
				     const struct mime_part *mp)
{
	const unsigned char *d = parsed->data;
	const struct mime_part *child = mp->children;
	size_t start, end;

	if (child == NULL)
		return 0;
	start = (size_t)child->header_offset;
	end = start + (size_t)child->header_size;
	if (end > parsed->size || start > end)
		return 0;
	if (!child->header_unterminated) {
		if (end > start && d[end - 1] == '\n')
			end--;
		if (end > start && d[end - 1] == '\r')
			end--;
	}
	return sieve_run_match_value(match, body_raw_string(run, d + start, end - start));
}

/* Whether the part's Content-Transfer-Encoding is one we can undo: an
   unknown or malformed one (the MIME parser takes the latter as 7bit)
   leaves content that cannot be recovered (RFC 2045 §6.4). */
static bool part_encoding_known(struct sieve_run *run, struct sieve_msg_part *part)
{
	const char *const *cte;

	if (part->part->encoding == MIME_ENCODING_UNKNOWN)
		return false;
	if (part->part->encoding_name != NULL)
		return true;
	cte = sieve_msg_part_headers(run, part, "Content-Transfer-Encoding");
	return cte[0] == NULL ||
		mime_content_transfer_encoding_parse(run->pool, cte[0], strlen(cte[0])) != NULL;
}

/* A leaf part's decoded content; empty when it cannot be decoded. */
static const char *body_leaf_text(struct sieve_run *run, struct sieve_msg_part *part,
				  bool plain)
{
	if (!part_encoding_known(run, part))
		return "";
	return plain ? sieve_msg_part_plain_text(run, part) : sieve_msg_part_text(run, part);
}

static int body_match_part(struct sieve_run *run, struct sieve_match *match,
			   const struct sieve_parsed_message *parsed,
			   struct sieve_msg_part *part, bool plain)
{
	if (part->part->is_multipart && !part->part->truncated)
		return plain ? 0 : body_match_multipart(run, match, parsed, part->part);
	if (part->part->is_message && !part->part->truncated)
		return plain ? 0 : body_match_message_header(run, match, parsed, part->part);
	return sieve_run_match_value(match, body_leaf_text(run, part, plain));
}

static int body_match_raw(struct sieve_run *run, const struct sieve_ast_node *node,
			  struct sieve_match *match, const struct sieve_parsed_message *parsed)
{
	const struct sieve_msg_part *root = &parsed->parts.v[0];
	size_t offset = (size_t)root->part->body_offset;

	return sieve_run_match_value(match, body_raw_string(run, parsed->data + offset,
							    parsed->size - offset));
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
	/* RFC 5173 §5.3: :text is the text an implementation can extract;
	   XHTML is HTML */
	static const char *const text_types[] = { "text", "application/xhtml+xml" };
	const char *const *types = text_types;
	unsigned int type_count = N_ELEMENTS(text_types);
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

			if (part_wanted(part, types, type_count))
				ret = body_match_part(run, match, parsed, part, content == NULL);
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
