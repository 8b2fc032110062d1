/* Incremental RFC 5322 §2.2 header block parser: fields, folding, the
 * blank line, and the collection limits. */
#include "mime-header.h"
#include "mime-charset.h"

#define MIME_HEADER_DEFAULT_MAX_SIZE (1024 * 1024)
#define MIME_HEADER_DEFAULT_MAX_FIELDS 10000

enum header_state {
	HEADER_LINE_START,
	/* a line began with CR: the blank line if LF follows */
	HEADER_LINE_START_CR,
	HEADER_IN_LINE,
	HEADER_DONE,
};

struct mime_header_parser {
	struct mime_header_limits limits;
	enum header_state state;
	uint64_t offset;
	bool eof, blank_line, truncated;

	/* the field being read: open from its first byte until the first
	   byte of a line that does not continue it */
	bool field_open, field_skip, field_truncated, field_has_nul;
	uint64_t field_offset;
	buffer_t *raw;
	size_t collected;
	unsigned int field_count;

	struct mime_header_field field;
	string_t *name, *value;
};

static void header_set_limits(struct mime_header_parser *parser,
			      const struct mime_header_limits *limits)
{
	if (limits != NULL)
		parser->limits = *limits;
	if (parser->limits.max_size == 0)
		parser->limits.max_size = MIME_HEADER_DEFAULT_MAX_SIZE;
	if (parser->limits.max_fields == 0)
		parser->limits.max_fields = MIME_HEADER_DEFAULT_MAX_FIELDS;
}

struct mime_header_parser *mime_header_parser_create(const struct mime_header_limits *limits)
{
	struct mime_header_parser *parser = i_new(struct mime_header_parser, 1);

	parser->raw = buffer_create(system_pool, 256);
	parser->name = str_new(system_pool, 64);
	parser->value = str_new(system_pool, 256);
	mime_header_parser_reset(parser, 0, limits);
	return parser;
}

void mime_header_parser_destroy(struct mime_header_parser **_parser)
{
	struct mime_header_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	buffer_free(&parser->raw);
	str_free(&parser->name);
	str_free(&parser->value);
	i_free(parser);
}

void mime_header_parser_reset(struct mime_header_parser *parser, uint64_t start_offset,
			      const struct mime_header_limits *limits)
{
	header_set_limits(parser, limits);
	parser->state = HEADER_LINE_START;
	parser->offset = start_offset;
	parser->eof = parser->blank_line = parser->truncated = false;
	parser->field_open = false;
	parser->collected = 0;
	parser->field_count = 0;
	/* a huge field must not pin its memory for the next block */
	if (parser->raw->alloc > 64 * 1024) {
		buffer_free(&parser->raw);
		parser->raw = buffer_create(system_pool, 256);
	}
	buffer_clear(parser->raw);
}

void mime_header_parser_end(struct mime_header_parser *parser)
{
	parser->eof = true;
}

bool mime_header_parser_is_done(const struct mime_header_parser *parser)
{
	return parser->state == HEADER_DONE;
}

bool mime_header_parser_has_blank_line(const struct mime_header_parser *parser)
{
	return parser->blank_line;
}

bool mime_header_parser_is_truncated(const struct mime_header_parser *parser)
{
	return parser->truncated;
}

uint64_t mime_header_parser_get_offset(const struct mime_header_parser *parser)
{
	return parser->offset;
}

static void header_field_start(struct mime_header_parser *parser, uint64_t offset)
{
	parser->field_open = true;
	parser->field_offset = offset;
	parser->field_truncated = false;
	parser->field_has_nul = false;
	parser->field_skip = parser->field_count >= parser->limits.max_fields ||
		parser->collected >= parser->limits.max_size;
	if (parser->field_skip)
		parser->truncated = true;
	buffer_clear(parser->raw);
}

static void header_collect(struct mime_header_parser *parser,
			   const unsigned char *data, size_t size)
{
	if (memchr(data, '\0', size) != NULL)
		parser->field_has_nul = true;
	if (parser->field_skip || parser->field_truncated)
		return;
	size_t room = parser->limits.max_size - parser->collected;
	if (size > room) {
		size = room;
		parser->field_truncated = true;
		parser->truncated = true;
	}
	buffer_append(parser->raw, data, size);
	parser->collected += size;
}

/* Appends data with NULs replaced; with unfold, line breaks are dropped. */
static void header_append_clean(string_t *dest, const unsigned char *data,
				size_t size, bool unfold)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		bool is_break = unfold && (data[i] == '\n' ||
			(data[i] == '\r' && i + 1 < size && data[i + 1] == '\n'));
		if (data[i] != '\0' && !is_break)
			continue;
		str_append_n(dest, data + start, i - start);
		if (data[i] == '\0')
			str_append(dest, MIME_UTF8_REPLACEMENT);
		start = i + 1;
	}
	str_append_n(dest, data + start, size - start);
}

/* Splits the collected bytes into name and value. */
static void header_field_build(struct mime_header_parser *parser, bool no_newline)
{
	struct mime_header_field *field = &parser->field;
	const unsigned char *raw = parser->raw->data;
	size_t len = parser->raw->used, colon, name_end;

	memset(field, 0, sizeof(*field));
	field->full = raw;
	field->full_size = len;
	if (len > 0 && raw[len - 1] == '\n') {
		len--;
		if (len > 0 && raw[len - 1] == '\r')
			len--;
	}

	for (colon = 0; colon < len; colon++) {
		if (raw[colon] == ':' || raw[colon] == '\n')
			break;
	}
	name_end = colon;
	while (name_end > 0 && (raw[name_end - 1] == ' ' || raw[name_end - 1] == '\t'))
		name_end--;

	str_truncate(parser->name, 0);
	if (colon < len && raw[colon] == ':' && name_end <= MIME_HEADER_NAME_MAX_LEN) {
		header_append_clean(parser->name, raw, name_end, false);
		field->raw_value = raw + colon + 1;
		field->raw_value_size = len - colon - 1;
	} else {
		field->no_colon = true;
		field->raw_value = raw;
		field->raw_value_size = len;
	}
	str_truncate(parser->value, 0);
	header_append_clean(parser->value, field->raw_value, field->raw_value_size, true);
	size_t skip = 0;
	while (skip < str_len(parser->value) &&
	       (parser->value->data[skip] == ' ' || parser->value->data[skip] == '\t'))
		skip++;

	field->name = str_c(parser->name);
	field->value = str_c(parser->value) + skip;
	field->value_len = str_len(parser->value) - skip;
	field->offset = parser->field_offset;
	field->size = parser->offset - parser->field_offset;
	field->truncated = parser->field_truncated;
	field->has_nul = parser->field_has_nul;
	field->no_newline = no_newline;
}

/* Closes the open field. Returns true if it is to be returned. */
static bool header_field_finish(struct mime_header_parser *parser, bool no_newline)
{
	parser->field_open = false;
	if (parser->field_skip)
		return false;
	parser->field_count++;
	header_field_build(parser, no_newline);
	return true;
}

/* At the first byte of a line (or at the end of input there). Returns 1
   with a finished field or the end of the block, 0 to go on. */
static int header_line_start(struct mime_header_parser *parser,
			     const unsigned char *data, size_t size, size_t *pos,
			     const struct mime_header_field **field_r)
{
	if (*pos == size) {
		/* only reached at end of input */
		if (parser->field_open && header_field_finish(parser, false)) {
			*field_r = &parser->field;
			return 1;
		}
		parser->state = HEADER_DONE;
		return 1;
	}
	unsigned char c = data[*pos];
	if (parser->field_open) {
		if (c == ' ' || c == '\t') {
			parser->state = HEADER_IN_LINE;
			return 0;
		}
		if (header_field_finish(parser, false)) {
			*field_r = &parser->field;
			return 1;
		}
	}
	if (c == '\n') {
		(*pos)++;
		parser->offset++;
		parser->blank_line = true;
		parser->state = HEADER_DONE;
		return 1;
	}
	if (c == '\r') {
		(*pos)++;
		parser->offset++;
		parser->state = HEADER_LINE_START_CR;
		return 0;
	}
	header_field_start(parser, parser->offset);
	parser->state = HEADER_IN_LINE;
	return 0;
}

static int header_after_cr(struct mime_header_parser *parser,
			   const unsigned char *data, size_t size, size_t *pos,
			   const struct mime_header_field **field_r)
{
	static const unsigned char cr = '\r';

	if (*pos < size && data[*pos] == '\n') {
		(*pos)++;
		parser->offset++;
		parser->blank_line = true;
		parser->state = HEADER_DONE;
		return 1;
	}
	/* a line that starts with a lone CR is a (broken) field */
	header_field_start(parser, parser->offset - 1);
	header_collect(parser, &cr, 1);
	parser->state = HEADER_IN_LINE;
	if (*pos == size) {
		/* only reached at end of input */
		parser->state = HEADER_LINE_START;
		if (header_field_finish(parser, true)) {
			*field_r = &parser->field;
			return 1;
		}
	}
	return 0;
}

static int header_in_line(struct mime_header_parser *parser,
			  const unsigned char *data, size_t size, size_t *pos,
			  const struct mime_header_field **field_r)
{
	if (*pos == size) {
		/* only reached at end of input */
		parser->state = HEADER_LINE_START;
		if (header_field_finish(parser, true)) {
			*field_r = &parser->field;
			return 1;
		}
		return 0;
	}
	const unsigned char *lf = memchr(data + *pos, '\n', size - *pos);
	size_t n = lf == NULL ? size - *pos : (size_t)(lf - (data + *pos)) + 1;

	header_collect(parser, data + *pos, n);
	*pos += n;
	parser->offset += n;
	if (lf != NULL)
		parser->state = HEADER_LINE_START;
	return 0;
}

int mime_header_parser_parse(struct mime_header_parser *parser,
			     const void *_data, size_t size, size_t *used_r,
			     const struct mime_header_field **field_r)
{
	const unsigned char *data = _data;
	size_t pos = 0;
	int ret = 0;

	*field_r = NULL;
	while (parser->state != HEADER_DONE && ret == 0) {
		if (pos == size && !parser->eof)
			break;
		switch (parser->state) {
		case HEADER_LINE_START:
			ret = header_line_start(parser, data, size, &pos, field_r);
			break;
		case HEADER_LINE_START_CR:
			ret = header_after_cr(parser, data, size, &pos, field_r);
			break;
		case HEADER_IN_LINE:
			ret = header_in_line(parser, data, size, &pos, field_r);
			break;
		case HEADER_DONE:
			i_unreached();
		}
	}
	*used_r = pos;
	return parser->state == HEADER_DONE ? 1 : ret;
}

size_t mime_header_parse_block(const void *data, size_t size,
			       const struct mime_header_limits *limits,
			       mime_header_callback_t *callback, void *context)
{
	struct mime_header_parser *parser = mime_header_parser_create(limits);
	const struct mime_header_field *field;
	size_t pos = 0, used;

	mime_header_parser_end(parser);
	while (mime_header_parser_parse(parser, (const unsigned char *)data + pos,
					size - pos, &used, &field) > 0) {
		pos += used;
		if (field == NULL)
			break;
		callback(field, context);
	}
	mime_header_parser_destroy(&parser);
	return pos;
}
