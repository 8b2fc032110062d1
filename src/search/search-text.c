/* Building a message's searchable text from the MIME parser's callbacks:
 * header fields as they complete, and the raw bodies of leaf parts, which
 * are decoded per part and converted to UTF-8 when the part ends. */
#include "search-text.h"
#include "search-casemap.h"
#include "mime-address.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"
#include "mime-parser.h"

#include <strings.h>

/* first values kept for sorting and threading are cut at this length */
#define SEARCH_TEXT_RAW_VALUE_MAX (64 * 1024)

struct search_text_builder {
	pool_t pool;
	size_t max_size;
	struct mime_parser *parser;
	struct search_text *text;

	/* the leaf part whose body is being collected, and its decoded bytes */
	struct mime_part *part;
	bool part_wanted;
	struct mime_decoder *decoder;
	buffer_t *decoded;
	/* decoded bytes of the part that are kept (fixed when it starts, so
	   the text doesn't depend on how the message arrived in chunks) */
	size_t part_limit;
	string_t *scratch;
};

static const char *const field_names[SEARCH_TEXT_FIELD_COUNT] = {
	"from", "to", "cc", "bcc", "subject",
};

const char *search_text_field_name(enum search_text_field field)
{
	return field_names[field];
}

bool search_text_field_lookup(const char *header_name, enum search_text_field *field_r)
{
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		if (strcasecmp(header_name, field_names[i]) == 0) {
			*field_r = i;
			return true;
		}
	}
	return false;
}

static size_t text_used(const struct search_text *text)
{
	return text->header->used + text->body->used;
}

static size_t text_room(struct search_text_builder *b)
{
	size_t used = text_used(b->text);
	return used >= b->max_size ? 0 : b->max_size - used;
}

/* Appends folded text to dest, cutting it when the budget is spent. */
static void text_append_folded(struct search_text_builder *b, string_t *dest,
			       const void *data, size_t size, bool line)
{
	size_t room = text_room(b);
	if (room == 0) {
		b->text->truncated = true;
		return;
	}
	size_t start = dest->used;
	search_casemap_append(dest, data, size, line);
	if (dest->used - start > room) {
		/* cut at a character boundary */
		size_t cut = start + room;
		while (cut > start && (dest->data[cut] & 0xC0) == 0x80)
			cut--;
		buffer_set_used_size(dest, cut);
		b->text->truncated = true;
	}
}

static void text_keep_raw(struct search_text_builder *b, const char **dest,
			  const struct mime_header_field *field)
{
	if (*dest == NULL) {
		size_t len = field->value_len < SEARCH_TEXT_RAW_VALUE_MAX ?
			field->value_len : SEARCH_TEXT_RAW_VALUE_MAX;
		*dest = p_strndup(b->pool, field->value, len);
	}
}

static void text_keep_first(struct search_text_builder *b, const struct mime_header_field *field,
			    const char *decoded)
{
	struct search_text *t = b->text;
	const char *name = field->name;
	if (strcasecmp(name, "date") == 0)
		text_keep_raw(b, &t->date, field);
	else if (strcasecmp(name, "message-id") == 0)
		text_keep_raw(b, &t->message_id, field);
	else if (strcasecmp(name, "in-reply-to") == 0)
		text_keep_raw(b, &t->in_reply_to, field);
	else if (strcasecmp(name, "references") == 0)
		text_keep_raw(b, &t->references, field);
	else if (strcasecmp(name, "from") == 0)
		text_keep_raw(b, &t->from, field);
	else if (strcasecmp(name, "to") == 0)
		text_keep_raw(b, &t->to, field);
	else if (strcasecmp(name, "cc") == 0)
		text_keep_raw(b, &t->cc, field);
	else if (strcasecmp(name, "subject") == 0 && t->subject == NULL)
		t->subject = p_strdup(b->pool, decoded);
}

/* "NAME: value\n" in canonical form, appended to dest. */
static void text_append_field(struct search_text_builder *b, string_t *dest,
			      const struct mime_header_field *field, const char *decoded,
			      size_t decoded_len)
{
	text_append_folded(b, dest, field->name, strlen(field->name), true);
	text_append_folded(b, dest, ": ", 2, true);
	text_append_folded(b, dest, decoded, decoded_len, true);
	text_append_folded(b, dest, "\n", 1, false);
}

static const char *const address_fields[] = {
	"from", "to", "cc", "bcc", "sender", "reply-to",
	"resent-from", "resent-to", "resent-cc", "resent-bcc", "resent-sender",
};

static bool text_is_address_field(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(address_fields); i++) {
		if (strcasecmp(name, address_fields[i]) == 0)
			return true;
	}
	return false;
}

/* Address fields are searched in a normalised form, "name <local@domain>,
   ..." with names decoded, so that comments, folding and quoting in the
   header don't hide an address (as other servers match them). */
static void text_decode_addresses(struct search_text_builder *b,
				  const struct mime_header_field *field)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	pool_t pool = pool_create("search addresses", 1024);
	mime_address_parse(pool, field->value, field->value_len, 1000, 0, &list);
	for (struct mime_address *a = list.head; a != NULL; a = a->next) {
		if (a->name != NULL && mime_encoded_word_has_words(a->name, strlen(a->name))) {
			string_t *name = str_new(pool, 64);
			mime_encoded_word_decode(a->name, strlen(a->name), name);
			a->name = str_c(name);
		}
	}
	if (list.head != NULL)
		mime_address_write(b->scratch, list.head);
	pool_destroy(&pool);
}

static void text_header_field(struct search_text_builder *b, struct mime_part *part,
			      const struct mime_header_field *field)
{
	bool top = part->parent == NULL;
	bool embedded = !top && part->parent->is_message;
	if ((!top && !embedded) || field->no_colon)
		return;
	str_truncate(b->scratch, 0);
	if (text_is_address_field(field->name))
		text_decode_addresses(b, field);
	else
		mime_encoded_word_decode(field->value, field->value_len, b->scratch);
	const char *decoded = str_c(b->scratch);
	size_t decoded_len = str_len(b->scratch);
	if (embedded) {
		text_append_field(b, b->text->body, field, decoded, decoded_len);
		return;
	}
	text_keep_first(b, field, decoded);
	text_append_field(b, b->text->header, field, decoded, decoded_len);
	enum search_text_field f;
	if (search_text_field_lookup(field->name, &f)) {
		string_t *dest = b->text->fields[f];
		text_append_folded(b, dest, decoded, decoded_len, true);
		text_append_folded(b, dest, "\n", 1, false);
	}
}

/* Text parts, and leaf message/ parts (delivery reports and the like,
   which are text); not multiparts, nor anything binary. */
static bool text_part_is_wanted(const struct mime_part *part)
{
	if (part->is_multipart && !part->truncated)
		return false;
	if (part->is_message && !part->truncated)
		return false;
	const char *type = part->content_type.type;
	return part->is_text || (type != NULL && strcasecmp(type, "message") == 0);
}

static void text_part_end(struct search_text_builder *b)
{
	if (b->part == NULL)
		return;
	if (b->part_wanted) {
		(void)mime_decoder_finish(b->decoder, b->decoded);
		str_truncate(b->scratch, 0);
		(void)charset_to_utf8(mime_part_get_charset(b->part), b->decoded->data,
				      b->decoded->used, b->scratch);
		string_t *body = b->text->body;
		if (body->used > 0 && body->data[body->used - 1] != '\n')
			text_append_folded(b, body, "\n", 1, false);
		text_append_folded(b, body, str_data(b->scratch), str_len(b->scratch), false);
		mime_decoder_destroy(&b->decoder);
	}
	buffer_clear(b->decoded);
	b->part = NULL;
}

static void text_header_callback(struct mime_part *part, const struct mime_header_field *field,
				 void *context)
{
	struct search_text_builder *b = context;
	/* an embedded message's header comes after the previous part's text */
	if (b->part != NULL && part != b->part)
		text_part_end(b);
	if (field != NULL)
		text_header_field(b, part, field);
}

static void text_body_callback(struct mime_part *part, const unsigned char *data, size_t size,
			       void *context)
{
	struct search_text_builder *b = context;
	if (part != b->part) {
		text_part_end(b);
		b->part = part;
		b->part_wanted = text_part_is_wanted(part);
		if (b->part_wanted)
			b->decoder = mime_decoder_create(part->encoding);
		/* room for the converted text even from UTF-16 or CRLF lines,
		   which shrink by half */
		b->part_limit = 2 * text_room(b) + 16;
	}
	if (!b->part_wanted)
		return;
	/* decoded bytes beyond the limit could never be kept; the cut is a
	   prefix of the decoded stream, whatever the chunks (so the rest is
	   still decoded, one chunk at a time, to know whether there was any) */
	mime_decoder_decode(b->decoder, data, size, b->decoded);
	if (b->decoded->used > b->part_limit) {
		buffer_set_used_size(b->decoded, b->part_limit);
		b->text->truncated = true;
	}
}

struct search_text_builder *search_text_builder_create(pool_t pool, size_t max_size)
{
	struct search_text_builder *b = i_new(struct search_text_builder, 1);
	b->pool = pool;
	b->max_size = max_size == 0 ? SEARCH_TEXT_DEFAULT_MAX_SIZE : max_size;
	b->text = p_new(pool, struct search_text, 1);
	b->text->header = str_new(pool, 1024);
	b->text->body = str_new(pool, 4096);
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++)
		b->text->fields[i] = str_new(pool, 64);
	b->decoded = buffer_create(system_pool, 4096);
	b->scratch = str_new(system_pool, 4096);
	b->parser = mime_parser_create(pool, NULL);
	mime_parser_set_header_callback(b->parser, text_header_callback, b);
	mime_parser_set_body_callback(b->parser, text_body_callback, b);
	return b;
}

void search_text_builder_destroy(struct search_text_builder **_b)
{
	struct search_text_builder *b = *_b;
	if (b == NULL)
		return;
	*_b = NULL;
	mime_parser_destroy(&b->parser);
	mime_decoder_destroy(&b->decoder);
	buffer_free(&b->decoded);
	str_free(&b->scratch);
	i_free(b);
}

void search_text_builder_feed(struct search_text_builder *b, const void *data, size_t size)
{
	mime_parser_feed(b->parser, data, size);
}

struct search_text *search_text_builder_finish(struct search_text_builder *b)
{
	(void)mime_parser_finish(b->parser);
	text_part_end(b);
	return b->text;
}

struct search_text *search_text_build(pool_t pool, const void *data, size_t size,
				      size_t max_size)
{
	struct search_text_builder *b = search_text_builder_create(pool, max_size);
	search_text_builder_feed(b, data, size);
	struct search_text *text = search_text_builder_finish(b);
	search_text_builder_destroy(&b);
	return text;
}

bool search_text_body_has(const char *text, size_t len, const char *needle)
{
	size_t nlen = strlen(needle);
	return nlen == 0 || memmem(text, len, needle, nlen) != NULL;
}

bool search_text_field_has(const char *text, size_t len, const char *needle)
{
	size_t nlen = strlen(needle);
	if (nlen == 0)
		return len > 0;
	return memmem(text, len, needle, nlen) != NULL;
}

bool search_text_header_has(const char *text, size_t len, const char *name,
			    const char *needle)
{
	size_t name_len = strlen(name), nlen = strlen(needle);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) >= name_len + 2 && memcmp(p, name, name_len) == 0 &&
		    p[name_len] == ':' && p[name_len + 1] == ' ') {
			const char *value = p + name_len + 2;
			if (nlen == 0 || memmem(value, (size_t)(eol - value), needle, nlen) != NULL)
				return true;
		}
		p = eol + 1;
	}
	return false;
}
