/* The message preview of RFC 8970: which part it comes from, and turning
 * that part's text (plain or HTML) into one short line of UTF-8. */
#include "imap-preview.h"
#include "mime-charset.h"
#include "mime-parser.h"

#include <strings.h>

/* Decoded bytes kept of the chosen parts: enough for 200 characters after
   quoted lines, markup and whitespace are gone. An HTML head with a big
   style sheet can use the whole HTML budget; the preview is then empty. */
#define PREVIEW_PLAIN_MAX (16 * 1024)
#define PREVIEW_HTML_MAX (128 * 1024)

enum preview_kind {
	PREVIEW_NONE,
	PREVIEW_PLAIN,
	PREVIEW_HTML,
};

struct imap_preview_builder {
	pool_t pool;
	struct mime_parser *parser;
	/* the leaf whose body is being fed, and what it is to us */
	const struct mime_part *part;
	enum preview_kind kind;
	struct mime_decoder *decoder;
	/* decoded bytes of the first text/plain and text/html parts */
	buffer_t *plain, *html;
	const char *plain_charset, *html_charset;
	bool have_plain, have_html;
	bool done;
};

/* A part the reader sees as the message's text: a text/plain or
   text/html leaf that isn't an attachment, outside attached messages. */
static enum preview_kind preview_part_kind(const struct mime_part *part)
{
	if (!part->is_text || part->is_multipart || part->is_message)
		return PREVIEW_NONE;
	if (part->disposition.type != NULL &&
	    strcasecmp(part->disposition.type, "attachment") == 0)
		return PREVIEW_NONE;
	for (const struct mime_part *p = part->parent; p != NULL; p = p->parent) {
		if (p->is_message)
			return PREVIEW_NONE;
	}
	const char *subtype = part->content_type.subtype;
	if (subtype == NULL || strcasecmp(subtype, "plain") == 0)
		return PREVIEW_PLAIN;
	if (strcasecmp(subtype, "html") == 0)
		return PREVIEW_HTML;
	return PREVIEW_NONE;
}

static buffer_t *preview_dest(struct imap_preview_builder *b)
{
	return b->kind == PREVIEW_PLAIN ? b->plain : b->html;
}

static void preview_part_end(struct imap_preview_builder *b)
{
	if (b->kind == PREVIEW_NONE)
		return;
	buffer_t *dest = preview_dest(b);
	(void)mime_decoder_finish(b->decoder, dest);
	mime_decoder_destroy(&b->decoder);
	if (b->kind == PREVIEW_PLAIN) {
		/* the preferred kind: nothing later changes the preview,
		   unless it is blank and an HTML alternative follows */
		const unsigned char *p = dest->data;
		for (size_t i = 0; i < dest->used && !b->done; i++)
			b->done = p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n';
		if (dest->used > PREVIEW_PLAIN_MAX)
			buffer_set_used_size(dest, PREVIEW_PLAIN_MAX);
	} else if (dest->used > PREVIEW_HTML_MAX) {
		buffer_set_used_size(dest, PREVIEW_HTML_MAX);
	}
	b->kind = PREVIEW_NONE;
}

static void preview_part_begin(struct imap_preview_builder *b, const struct mime_part *part)
{
	b->part = part;
	enum preview_kind kind = preview_part_kind(part);
	if ((kind == PREVIEW_PLAIN && b->have_plain) || (kind == PREVIEW_HTML && b->have_html))
		kind = PREVIEW_NONE;
	b->kind = kind;
	if (kind == PREVIEW_NONE)
		return;
	const char *charset = p_strdup(b->pool, mime_part_get_charset(part));
	if (kind == PREVIEW_PLAIN) {
		b->have_plain = true;
		b->plain_charset = charset;
	} else {
		b->have_html = true;
		b->html_charset = charset;
	}
	b->decoder = mime_decoder_create(part->encoding);
}

static void preview_body_callback(struct mime_part *part, const unsigned char *data,
				  size_t size, void *context)
{
	struct imap_preview_builder *b = context;
	if (b->done)
		return;
	if (part != b->part) {
		preview_part_end(b);
		if (b->done)
			return;
		preview_part_begin(b, part);
	}
	if (b->kind == PREVIEW_NONE)
		return;
	buffer_t *dest = preview_dest(b);
	size_t max = b->kind == PREVIEW_PLAIN ? PREVIEW_PLAIN_MAX : PREVIEW_HTML_MAX;
	if (dest->used >= max)
		return;
	mime_decoder_decode(b->decoder, data, size, dest);
}

struct imap_preview_builder *imap_preview_builder_create(void)
{
	struct imap_preview_builder *b = i_new(struct imap_preview_builder, 1);
	b->pool = pool_create("preview", 1024);
	b->plain = buffer_create(system_pool, 1024);
	b->html = buffer_create(system_pool, 1024);
	/* the defaults bound the parse; the preview only needs the first
	   text part, so deep or huge structures don't matter */
	b->parser = mime_parser_create(b->pool, NULL);
	mime_parser_set_body_callback(b->parser, preview_body_callback, b);
	return b;
}

void imap_preview_builder_destroy(struct imap_preview_builder **_b)
{
	struct imap_preview_builder *b = *_b;
	if (b == NULL)
		return;
	*_b = NULL;
	mime_parser_destroy(&b->parser);
	mime_decoder_destroy(&b->decoder);
	buffer_free(&b->plain);
	buffer_free(&b->html);
	pool_destroy(&b->pool);
	i_free(b);
}

void imap_preview_builder_feed(struct imap_preview_builder *b, const void *data, size_t size)
{
	if (!b->done)
		mime_parser_feed(b->parser, data, size);
}

bool imap_preview_builder_is_done(const struct imap_preview_builder *b)
{
	return b->done;
}

/* Appends the preview of one decoded part; false if it had no text. */
static bool preview_from_part(string_t *dest, const buffer_t *data, const char *charset,
			      bool html)
{
	string_t *utf8 = str_new(system_pool, data->used + 16);
	(void)charset_to_utf8(charset, data->data, data->used, utf8);
	size_t start = str_len(dest);
	imap_preview_from_text(dest, str_c(utf8), str_len(utf8), html);
	str_free(&utf8);
	return str_len(dest) > start;
}

const char *imap_preview_builder_finish(struct imap_preview_builder *b, pool_t pool)
{
	if (!b->done)
		(void)mime_parser_finish(b->parser);
	preview_part_end(b);
	string_t *str = t_str_new(IMAP_PREVIEW_MAX_CHARS * 2);
	/* a text/plain alternative that is all quotes or blanks gives way to
	   the HTML one */
	if (!(b->have_plain && preview_from_part(str, b->plain, b->plain_charset, false)) &&
	    b->have_html)
		(void)preview_from_part(str, b->html, b->html_charset, true);
	return p_strdup(pool, str_c(str));
}

const char *imap_preview_build(pool_t pool, const void *data, size_t size)
{
	struct imap_preview_builder *b = imap_preview_builder_create();
	imap_preview_builder_feed(b, data, size);
	const char *preview = imap_preview_builder_finish(b, pool);
	imap_preview_builder_destroy(&b);
	return preview;
}
