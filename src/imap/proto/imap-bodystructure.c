/* BODY / BODYSTRUCTURE writing (RFC 9051 §7.5.2, RFC 3501 §7.4.2) and the
 * one-pass structure parser that collects the envelopes of the message
 * and of its message/rfc822 parts. Values are written the way IMAP
 * servers conventionally share (Dovecot's), so that clients caching
 * structures across servers see the same bytes. */
#include "imap-bodystructure.h"
#include "imap-quote.h"

#include <strings.h>

struct imap_structure_parser {
	struct imap_structure *s;
	struct mime_parser *parser;
	/* the part whose envelope is being collected */
	const struct mime_part *env_part;
	struct imap_envelope *env;
	bool header_done;
	bool finished;
};

static bool part_wants_envelope(const struct mime_part *part)
{
	return part->parent == NULL || part->parent->is_message;
}

static void structure_header_callback(struct mime_part *part,
				      const struct mime_header_field *field,
				      void *context)
{
	struct imap_structure_parser *parser = context;

	if (field == NULL) {
		if (part->parent == NULL)
			parser->header_done = true;
		return;
	}
	if (!part_wants_envelope(part))
		return;
	if (parser->env_part != part) {
		struct imap_structure_envelope *e = array_append_space(&parser->s->envelopes);
		e->part = part;
		e->envelope = p_new(parser->s->pool, struct imap_envelope, 1);
		parser->env_part = part;
		parser->env = e->envelope;
	}
	imap_envelope_add_field(parser->s->pool, parser->env, field);
}

struct imap_structure_parser *
imap_structure_parser_create(pool_t pool, const struct mime_parser_limits *limits,
			     bool header_only)
{
	struct imap_structure_parser *parser = i_new(struct imap_structure_parser, 1);

	parser->s = p_new(pool, struct imap_structure, 1);
	parser->s->pool = pool;
	parser->s->header_only = header_only;
	array_init(&parser->s->envelopes, pool, 4);
	parser->parser = mime_parser_create(pool, limits);
	mime_parser_set_header_callback(parser->parser, structure_header_callback, parser);
	return parser;
}

void imap_structure_parser_destroy(struct imap_structure_parser **_parser)
{
	struct imap_structure_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	mime_parser_destroy(&parser->parser);
	i_free(parser);
}

void imap_structure_parser_feed(struct imap_structure_parser *parser,
				const void *data, size_t size)
{
	i_assert(!parser->finished);
	mime_parser_feed(parser->parser, data, size);
}

bool imap_structure_parser_is_header_done(const struct imap_structure_parser *parser)
{
	return parser->header_done;
}

struct imap_structure *imap_structure_parser_finish(struct imap_structure_parser *parser)
{
	if (!parser->finished) {
		parser->s->root = mime_parser_finish(parser->parser);
		parser->finished = true;
	}
	return parser->s;
}

struct imap_structure *imap_structure_parse(pool_t pool, const void *data, size_t size,
					    const struct mime_parser_limits *limits)
{
	struct imap_structure_parser *parser =
		imap_structure_parser_create(pool, limits, false);
	struct imap_structure *s;

	imap_structure_parser_feed(parser, data, size);
	s = imap_structure_parser_finish(parser);
	imap_structure_parser_destroy(&parser);
	return s;
}

/* Pre-order is the order of (header offset, depth). */
static int envelope_cmp(const struct mime_part *a, const struct mime_part *b)
{
	if (a->header_offset != b->header_offset)
		return a->header_offset < b->header_offset ? -1 : 1;
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return 0;
}

const struct imap_envelope *imap_structure_get_envelope(const struct imap_structure *s,
							const struct mime_part *part)
{
	unsigned int lo = 0, hi = s->envelopes.count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct imap_structure_envelope *e = &s->envelopes.v[mid];
		int cmp = envelope_cmp(e->part, part);

		if (cmp == 0)
			return e->part == part ? e->envelope : NULL;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool imap_bodystructure_is_message(const struct mime_part *part)
{
	return part->is_message && part->children != NULL;
}

/* ---- writing ---- */

/* RFC 9051 §7.5.2 requires at least one part in a multipart: one that
   has none (no boundary, or a boundary that never appears) gets an empty
   text/plain part, as other servers write it. */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODYSTRUCTURE \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"

static void append_str(string_t *dest, const char *str)
{
	imap_append_string(dest, str, strlen(str));
}

static void append_param_name(string_t *dest, const struct mime_param *param)
{
	if (param->extended)
		append_str(dest, t_strconcat(param->name, "*", NULL));
	else
		append_str(dest, param->name);
}

/* ("name" "value" ...), NIL for none; default_charset adds the charset
   text parts have when they say nothing (RFC 2045 §5.2). */
static void write_params(string_t *dest, const struct mime_param *params, unsigned int count,
			 bool default_charset)
{
	bool seen_charset = false;

	if (count == 0 && !default_charset) {
		str_append(dest, "NIL");
		return;
	}
	str_append_c(dest, '(');
	for (unsigned int i = 0; i < count; i++) {
		if (i > 0)
			str_append_c(dest, ' ');
		if (strcasecmp(params[i].name, "charset") == 0)
			seen_charset = true;
		append_param_name(dest, &params[i]);
		str_append_c(dest, ' ');
		append_str(dest, params[i].raw_value != NULL ? params[i].raw_value :
			   params[i].value);
	}
	if (default_charset && !seen_charset) {
		if (count > 0)
			str_append_c(dest, ' ');
		str_append(dest, "\"charset\" \"us-ascii\"");
	}
	str_append_c(dest, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void write_extension_common(string_t *dest, const struct mime_part *part)
{
	const struct mime_content_disposition *cd = &part->disposition;

	str_append_c(dest, ' ');
	if (cd->type == NULL) {
		str_append(dest, "NIL");
	} else {
		str_append_c(dest, '(');
		append_str(dest, cd->type);
		str_append_c(dest, ' ');
		write_params(dest, cd->params, cd->params_count, false);
		str_append_c(dest, ')');
	}
	str_append_c(dest, ' ');
	if (part->languages == NULL || part->languages[0] == NULL) {
		str_append(dest, "NIL");
	} else {
		str_append_c(dest, '(');
		for (unsigned int i = 0; part->languages[i] != NULL; i++) {
			if (i > 0)
				str_append_c(dest, ' ');
			append_str(dest, part->languages[i]);
		}
		str_append_c(dest, ')');
	}
	str_append_c(dest, ' ');
	imap_append_nstring(dest, part->location);
}

static void write_part(const struct imap_structure *s, const struct mime_part *part,
		       bool extended, string_t *dest);

static void write_multipart(const struct imap_structure *s, const struct mime_part *part,
			    bool extended, string_t *dest)
{
	const struct mime_content_type *ct = &part->content_type;

	if (part->children == NULL)
		str_append(dest, extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY);
	for (const struct mime_part *child = part->children; child != NULL;
	     child = child->next) {
		str_append_c(dest, '(');
		write_part(s, child, extended, dest);
		str_append_c(dest, ')');
	}
	str_append_c(dest, ' ');
	append_str(dest, ct->subtype);
	if (!extended)
		return;
	str_append_c(dest, ' ');
	write_params(dest, ct->params, ct->params_count, false);
	write_extension_common(dest, part);
}

/* A part a limit kept from being parsed as the multipart or message its
   type says: its body is opaque, so it is reported as such. */
static bool part_is_opaque_container(const struct mime_part *part)
{
	const struct mime_content_type *ct = &part->content_type;

	return mime_content_type_is(ct, "multipart", NULL) ||
		mime_content_type_is(ct, "message", "rfc822") ||
		(mime_content_type_is(ct, "message", "global") &&
		 mime_encoding_is_identity(part->encoding));
}

/* "type" "subtype" params; returns whether the part is text. */
static bool write_leaf_type(const struct mime_part *part, string_t *dest)
{
	const struct mime_content_type *ct = &part->content_type;
	bool text = false;

	if (imap_bodystructure_is_message(part)) {
		str_append(dest, "\"message\" ");
		append_str(dest, mime_content_type_is(ct, "message", "global") ?
			   "global" : "rfc822");
	} else if (part->truncated && part_is_opaque_container(part)) {
		str_append(dest, "\"application\" \"octet-stream\"");
	} else {
		text = part->is_text;
		append_str(dest, ct->type);
		str_append_c(dest, ' ');
		append_str(dest, ct->subtype);
	}
	str_append_c(dest, ' ');
	write_params(dest, ct->params, ct->params_count, text);
	return text;
}

static void write_leaf(const struct imap_structure *s, const struct mime_part *part,
		       bool extended, string_t *dest)
{
	bool text = write_leaf_type(part, dest);

	str_append_c(dest, ' ');
	imap_append_nstring(dest, part->content_id);
	str_append_c(dest, ' ');
	imap_append_nstring(dest, part->description);
	str_append_c(dest, ' ');
	if (part->encoding_name != NULL)
		append_str(dest, part->encoding_name);
	else
		str_append(dest, "\"7bit\"");
	str_printfa(dest, " %llu", (unsigned long long)part->body_size_crlf);
	if (text) {
		str_printfa(dest, " %u", part->body_lines);
	} else if (imap_bodystructure_is_message(part)) {
		const struct mime_part *child = part->children;

		str_append(dest, " (");
		imap_envelope_write(imap_structure_get_envelope(s, child), dest);
		str_append(dest, ") (");
		write_part(s, child, extended, dest);
		str_printfa(dest, ") %u", part->body_lines);
	}
	if (!extended)
		return;
	str_append_c(dest, ' ');
	imap_append_nstring(dest, part->md5);
	write_extension_common(dest, part);
}

static void write_part(const struct imap_structure *s, const struct mime_part *part,
		       bool extended, string_t *dest)
{
	if (part->is_multipart)
		write_multipart(s, part, extended, dest);
	else
		write_leaf(s, part, extended, dest);
}

void imap_bodystructure_write(const struct imap_structure *s, const struct mime_part *part,
			      bool extended, string_t *dest)
{
	write_part(s, part, extended, dest);
}
