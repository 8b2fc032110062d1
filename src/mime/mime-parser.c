/* Streaming MIME structure parser: line starts are checked for boundaries
 * (RFC 2046 §5.1.1), headers go through mime-header, and every offset is
 * taken from running counters (position, LFs, bare LFs) so that sizes and
 * line counts come out exact whatever the chunking. */
#include "mime-parser.h"
#include "array.h"

#include <strings.h>

/* "--" + a boundary + "--" + a little: enough of a line to decide whether
   it is a boundary line, since boundaries are at most 80 bytes. */
#define LINE_HEAD_MAX (2 + MIME_BOUNDARY_MAX_LEN + 4)

enum parser_state {
	STATE_HEADER,
	STATE_BODY,
	/* the rest of a boundary line, up to its LF */
	STATE_BOUNDARY_LINE,
	STATE_DONE,
};

enum content_header {
	CONTENT_TYPE,
	CONTENT_TRANSFER_ENCODING,
	CONTENT_ID,
	CONTENT_DESCRIPTION,
	CONTENT_MD5,
	CONTENT_DISPOSITION,
	CONTENT_LANGUAGE,
	CONTENT_LOCATION,
	CONTENT_HEADER_COUNT
};

static const char *const content_header_names[CONTENT_HEADER_COUNT] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-ID",
	"Content-Description", "Content-MD5", "Content-Disposition",
	"Content-Language", "Content-Location",
};

/* Counters at a position of the message. */
struct snap {
	uint64_t pos, lf, bare;
};

struct open_part {
	struct mime_part *part;
	struct snap header_start, body_start;
	struct mime_part **next_child;
	bool in_header;
};

struct boundary {
	struct boundary *next; /* older */
	struct mime_part *part;
	size_t len;
	char str[MIME_BOUNDARY_MAX_LEN + 1];
};

struct mime_parser {
	pool_t pool;
	struct mime_parser_limits limits;
	mime_parser_header_callback_t *header_callback;
	void *header_context;
	mime_parser_body_callback_t *body_callback;
	void *body_context;

	enum parser_state state;
	struct snap cur;
	unsigned char last_byte;
	bool at_line_start;
	/* length of the last line ending seen (1 LF, 2 CRLF), and whether it
	   may yet turn out to belong to a boundary line that follows */
	unsigned int last_term_len;
	bool term_stealable;

	struct mime_part *root;
	ARRAY(struct open_part) open;
	struct boundary *boundaries;
	unsigned int parts_count;
	bool overflow;

	unsigned char head[LINE_HEAD_MAX];
	unsigned int head_len;
	bool head_pending;

	struct mime_header_parser *header;
	size_t header_budget;
	bool header_ignore;
	string_t *content[CONTENT_HEADER_COUNT];
	bool content_seen[CONTENT_HEADER_COUNT];
	bool mime_version;

	bool boundary_is_end;
	/* body bytes held back: a CR or a line ending that may still turn
	   out to belong to the next boundary */
	unsigned char held[2];
	unsigned int held_len;
};

static struct open_part *parser_top(struct mime_parser *parser)
{
	i_assert(parser->open.count > 0);
	return &parser->open.v[parser->open.count - 1];
}

static struct mime_part *parser_part(struct mime_parser *parser)
{
	return parser_top(parser)->part;
}

static bool parser_checking(const struct mime_parser *parser)
{
	return parser->boundaries != NULL && !parser->overflow &&
		(parser->state == STATE_HEADER || parser->state == STATE_BODY);
}

/* The counters before the last t bytes, a line ending of length t. */
static struct snap snap_back(struct snap s, unsigned int t)
{
	if (t == 0)
		return s;
	s.pos -= t;
	s.lf--;
	if (t == 1)
		s.bare--;
	return s;
}

static void parser_advance(struct mime_parser *parser, const unsigned char *data, size_t n)
{
	const unsigned char *p = data, *end = data + n, *lf;

	if (n == 0)
		return;
	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		unsigned char prev = lf > data ? lf[-1] : parser->last_byte;
		parser->cur.lf++;
		parser->last_term_len = prev == '\r' ? 2 : 1;
		if (prev != '\r')
			parser->cur.bare++;
		p = lf + 1;
	}
	parser->cur.pos += n;
	parser->last_byte = data[n - 1];
	parser->at_line_start = data[n - 1] == '\n';
}

/* ---- parts ---- */

static void part_set_sizes(uint64_t *size_r, uint64_t *crlf_r, uint32_t *lines_r,
			   struct snap start, struct snap end)
{
	*size_r = end.pos - start.pos;
	*crlf_r = *size_r + (end.bare - start.bare);
	/* IMAP line counts are 32-bit; a 4G-line body saturates */
	*lines_r = end.lf - start.lf > UINT32_MAX ? UINT32_MAX :
		(uint32_t)(end.lf - start.lf);
}

static void parser_reset_header(struct mime_parser *parser, uint64_t offset)
{
	struct mime_header_limits limits = {
		.max_size = parser->header_budget > 0 ? parser->header_budget : 1,
		.max_fields = parser->limits.max_header_fields,
	};

	parser->header_ignore = parser->header_budget == 0;
	mime_header_parser_reset(parser->header, offset, &limits);
	for (unsigned int i = 0; i < CONTENT_HEADER_COUNT; i++) {
		str_truncate(parser->content[i], 0);
		parser->content_seen[i] = false;
	}
	parser->mime_version = false;
}

/* Opens a new part at s: the root, or a child of the innermost part. */
static struct mime_part *parser_open_part(struct mime_parser *parser, struct snap s)
{
	struct mime_part *part = p_new(parser->pool, struct mime_part, 1);
	struct open_part *op;

	part->header_offset = part->body_offset = s.pos;
	if (parser->open.count > 0) {
		op = parser_top(parser);
		part->parent = op->part;
		part->depth = op->part->depth + 1;
		*op->next_child = part;
		op->next_child = &part->next;
		op->part->children_count++;
	}
	parser->parts_count++;
	op = array_append_space(&parser->open);
	op->part = part;
	op->header_start = op->body_start = s;
	op->next_child = &part->children;
	op->in_header = true;

	parser_reset_header(parser, s.pos);
	parser->state = STATE_HEADER;
	parser->term_stealable = false;
	return part;
}

static void parser_close_part(struct mime_parser *parser, struct snap end)
{
	struct open_part *op = parser_top(parser);
	struct mime_part *part = op->part;

	i_assert(!op->in_header);
	part_set_sizes(&part->body_size, &part->body_size_crlf, &part->body_lines,
		       op->body_start, end);
	parser->open.count--;
}

/* ---- header ---- */

static void parser_record_field(struct mime_parser *parser, struct mime_part *part,
				const struct mime_header_field *field)
{
	if (field->has_nul)
		part->has_nuls = true;
	if (strncasecmp(field->name, "Content-", 8) != 0) {
		if (strcasecmp(field->name, "MIME-Version") == 0)
			parser->mime_version = true;
		return;
	}
	for (unsigned int i = 0; i < CONTENT_HEADER_COUNT; i++) {
		if (strcasecmp(field->name, content_header_names[i]) != 0)
			continue;
		/* the first of each counts, as in other servers */
		if (!parser->content_seen[i]) {
			parser->content_seen[i] = true;
			str_append_n(parser->content[i], field->value, field->value_len);
		}
		return;
	}
}

static void parser_handle_field(struct mime_parser *parser,
				const struct mime_header_field *field)
{
	struct mime_part *part = parser_part(parser);

	if (parser->header_ignore) {
		part->header_truncated = true;
		return;
	}
	parser->header_budget -= I_MIN(parser->header_budget, field->full_size);
	parser_record_field(parser, part, field);
	if (parser->header_callback != NULL)
		parser->header_callback(part, field, parser->header_context);
}

/* The unfolded value of a recorded header with trailing whitespace cut,
   allocated from the pool; NULL if absent. */
static const char *parser_content_value(struct mime_parser *parser, enum content_header h)
{
	string_t *str = parser->content[h];
	size_t len = str_len(str);

	if (!parser->content_seen[h])
		return NULL;
	while (len > 0 && (str->data[len - 1] == ' ' || str->data[len - 1] == '\t'))
		len--;
	return p_strndup(parser->pool, str->data, len);
}

static void parser_apply_content(struct mime_parser *parser, struct mime_part *part)
{
	bool in_digest = part->parent != NULL && part->parent->is_digest;
	string_t *str;

	part->is_mime = parser->mime_version || parser->content_seen[CONTENT_TYPE] ||
		(part->parent != NULL && part->parent->is_multipart);
	if (!part->is_mime) {
		/* RFC 2045 §4: without MIME-Version the Content-* headers
		   mean nothing */
		(void)mime_content_type_parse(parser->pool, NULL, 0, in_digest,
					      &part->content_type);
		return;
	}
	str = parser->content[CONTENT_TYPE];
	(void)mime_content_type_parse(parser->pool,
		parser->content_seen[CONTENT_TYPE] ? str->data : NULL,
		str_len(str), in_digest, &part->content_type);
	part->encoding_name = parser_content_value(parser, CONTENT_TRANSFER_ENCODING);
	if (part->encoding_name != NULL) {
		part->encoding_name = mime_content_transfer_encoding_parse(
			parser->pool, part->encoding_name, strlen(part->encoding_name));
	}
	part->encoding = mime_encoding_from_name(part->encoding_name);
	part->content_id = parser_content_value(parser, CONTENT_ID);
	part->description = parser_content_value(parser, CONTENT_DESCRIPTION);
	part->md5 = parser_content_value(parser, CONTENT_MD5);
	part->location = parser_content_value(parser, CONTENT_LOCATION);
	if (parser->content_seen[CONTENT_DISPOSITION]) {
		str = parser->content[CONTENT_DISPOSITION];
		(void)mime_content_disposition_parse(parser->pool, str->data,
						     str_len(str), &part->disposition);
	}
	if (parser->content_seen[CONTENT_LANGUAGE]) {
		str = parser->content[CONTENT_LANGUAGE];
		part->languages = mime_content_language_parse(parser->pool, str->data,
							      str_len(str));
	}
}

static void parser_push_boundary(struct mime_parser *parser, struct mime_part *part)
{
	const struct mime_content_type *ct = &part->content_type;
	const char *value = mime_param_get(ct->params, ct->params_count, "boundary");

	if (value == NULL || value[0] == '\0')
		return;
	struct boundary *b = i_new(struct boundary, 1);
	b->part = part;
	b->len = I_MIN(strlen(value), MIME_BOUNDARY_MAX_LEN);
	memcpy(b->str, value, b->len);
	b->next = parser->boundaries;
	parser->boundaries = b;
}

/* Decides what the part's body is, from its Content-Type and the limits. */
static void parser_classify(struct mime_parser *parser, struct mime_part *part)
{
	const struct mime_content_type *ct = &part->content_type;
	bool deep = part->depth >= parser->limits.max_depth;

	part->is_text = mime_content_type_is(ct, "text", NULL);
	if (mime_content_type_is(ct, "multipart", NULL)) {
		if (deep)
			part->truncated = true;
		else {
			part->is_multipart = true;
			part->is_digest = mime_content_type_is(ct, "multipart", "digest");
		}
	} else if (mime_content_type_is(ct, "message", "rfc822") ||
		   (mime_content_type_is(ct, "message", "global") &&
		    mime_encoding_is_identity(part->encoding))) {
		/* RFC 6532 §3.5 lets message/global be encoded; then its
		   body is opaque here */
		if (deep || parser->parts_count >= parser->limits.max_parts)
			part->truncated = true;
		else
			part->is_message = true;
	}
}

/* Ends the innermost part's header at s. With terminated (a blank line
   was read), its body begins at s: a message part opens its child there,
   a multipart pushes its boundary. */
static void parser_end_header(struct mime_parser *parser, struct snap s, bool terminated)
{
	struct open_part *op = parser_top(parser);
	struct mime_part *part = op->part;

	op->in_header = false;
	part_set_sizes(&part->header_size, &part->header_size_crlf,
		       &part->header_lines, op->header_start, s);
	part->body_offset = s.pos;
	op->body_start = s;
	part->header_unterminated = !terminated;
	if (mime_header_parser_is_truncated(parser->header))
		part->header_truncated = true;

	parser_apply_content(parser, part);
	parser_classify(parser, part);
	if (parser->header_callback != NULL)
		parser->header_callback(part, NULL, parser->header_context);

	parser->term_stealable = false;
	parser->held_len = 0;
	if (part->is_message) {
		/* the child exists even when empty: IMAP needs the
		   envelope and body of every message/rfc822 part */
		(void)parser_open_part(parser, s);
		if (!terminated) {
			parser_top(parser)->in_header = false;
			parser_end_header(parser, s, false);
			parser_close_part(parser, s);
		}
		return;
	}
	if (part->is_multipart && terminated)
		parser_push_boundary(parser, part);
	parser->state = STATE_BODY;
}

/* Delivers what the header parser still holds, at the end of the header
   without a blank line. */
static void parser_drain_header(struct mime_parser *parser)
{
	const struct mime_header_field *field;
	size_t used;

	mime_header_parser_end(parser->header);
	while (mime_header_parser_parse(parser->header, NULL, 0, &used, &field) > 0 &&
	       field != NULL)
		parser_handle_field(parser, field);
}

static size_t parser_consume_header(struct mime_parser *parser,
				    const unsigned char *data, size_t size)
{
	const struct mime_header_field *field;
	size_t pos = 0, used;
	int ret;

	for (;;) {
		ret = mime_header_parser_parse(parser->header, data + pos, size - pos,
					       &used, &field);
		parser_advance(parser, data + pos, used);
		pos += used;
		if (used > 0 && parser->at_line_start)
			parser->term_stealable = true;
		if (ret == 0)
			return pos;
		if (field == NULL)
			break;
		parser_handle_field(parser, field);
	}
	parser_end_header(parser, parser->cur, true);
	return pos;
}

/* ---- body ---- */

static bool part_is_leaf(const struct mime_part *part)
{
	return !part->is_multipart && !part->is_message;
}

static void parser_emit(struct mime_parser *parser, struct mime_part *part,
			const unsigned char *data, size_t size)
{
	if (size > 0)
		parser->body_callback(part, data, size, parser->body_context);
}

static void parser_flush_held(struct mime_parser *parser, struct mime_part *part)
{
	unsigned char held[2];
	unsigned int len = parser->held_len;

	memcpy(held, parser->held, len);
	parser->held_len = 0;
	parser_emit(parser, part, held, len);
}

/* Passes a leaf's body bytes (one line or part of one) to the callback,
   holding back a line ending until the next line shows that it is not
   a boundary's. */
static void parser_body_emit(struct mime_parser *parser, struct mime_part *part,
			     const unsigned char *data, size_t size, bool checking)
{
	unsigned int hold = 0;

	if (parser->body_callback == NULL || !part_is_leaf(part) || size == 0)
		return;
	if (!checking) {
		parser_flush_held(parser, part);
		parser_emit(parser, part, data, size);
		return;
	}
	if (parser->held_len == 1 && parser->held[0] == '\r' && data[0] == '\n') {
		parser->held[1] = '\n';
		parser->held_len = 2;
		if (--size == 0)
			return;
		data++;
	}
	parser_flush_held(parser, part);
	if (size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n')
		hold = 2;
	else if (size >= 1 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		hold = 1;
	parser_emit(parser, part, data, size - hold);
	memcpy(parser->held + parser->held_len, data + size - hold, hold);
	parser->held_len += hold;
}

static size_t parser_consume_body(struct mime_parser *parser,
				  const unsigned char *data, size_t size)
{
	struct mime_part *part = parser_part(parser);
	bool checking = parser_checking(parser);

	if (checking) {
		const unsigned char *lf = memchr(data, '\n', size);
		if (lf != NULL)
			size = (size_t)(lf - data) + 1;
	}
	if (memchr(data, '\0', size) != NULL)
		part->has_nuls = true;
	parser_advance(parser, data, size);
	parser_body_emit(parser, part, data, size, checking);
	if (parser->at_line_start)
		parser->term_stealable = true;
	return size;
}

/* ---- boundaries ---- */

/* Finds the boundary a line head starts with: the longest match, the
   newest of equal ones, and an exact match ends the search (a line
   "--foo--" may close "foo" or be the boundary "foo--"). */
static struct boundary *parser_match_boundary(struct mime_parser *parser, bool *end_r)
{
	const unsigned char *line = parser->head + 2, *lf;
	size_t avail = parser->head_len - 2, find = avail;
	struct boundary *best = NULL;
	bool dashes = false;

	if (parser->head_len < 2 || parser->head[0] != '-' || parser->head[1] != '-')
		return NULL;
	if ((lf = memchr(line, '\n', avail)) != NULL) {
		find = (size_t)(lf - line);
		if (find > 0 && line[find - 1] == '\r')
			find--;
		dashes = find > 2 && line[find - 1] == '-' && line[find - 2] == '-';
	}
	for (struct boundary *b = parser->boundaries; b != NULL; b = b->next) {
		if (b->len > find || memcmp(b->str, line, b->len) != 0 ||
		    (best != NULL && best->len >= b->len))
			continue;
		best = b;
		if (b->len == find || (dashes && b->len + 2 == find))
			break;
	}
	if (best != NULL) {
		*end_r = avail >= best->len + 2 && line[best->len] == '-' &&
			line[best->len + 1] == '-';
	}
	return best;
}

static void parser_remove_boundaries(struct mime_parser *parser, struct boundary *until)
{
	while (parser->boundaries != until) {
		struct boundary *b = parser->boundaries;
		parser->boundaries = b->next;
		i_free(b);
	}
}

/* A boundary line of b starts at the current position: the parts inside
   b's multipart end before the line ending that precedes it. */
static void parser_boundary_found(struct mime_parser *parser, struct boundary *b, bool end)
{
	unsigned int t = parser->term_stealable ? parser->last_term_len : 0;
	struct snap cut = snap_back(parser->cur, t);
	struct snap outer_end = cut;

	if (parser->state == STATE_HEADER) {
		/* the header ends without its blank line; its last line
		   ending goes to the parent (only this part and what it
		   opens end before it) */
		parser_drain_header(parser);
		parser_end_header(parser, cut, false);
		parser_close_part(parser, cut);
		outer_end = parser->cur;
	}
	while (parser_part(parser) != b->part)
		parser_close_part(parser, outer_end);
	parser->held_len = 0;
	parser_remove_boundaries(parser, end ? b->next : b);
	parser->boundary_is_end = end;
	parser->state = STATE_BOUNDARY_LINE;
}

static size_t parser_consume_boundary_line(struct mime_parser *parser,
					   const unsigned char *data, size_t size)
{
	const unsigned char *lf = memchr(data, '\n', size);

	if (lf != NULL)
		size = (size_t)(lf - data) + 1;
	parser_advance(parser, data, size);
	if (lf == NULL)
		return size;
	struct mime_part *part = parser_part(parser);
	if (parser->boundary_is_end || parser->boundaries == NULL ||
	    parser->boundaries->part != part) {
		/* epilogue */
		parser->state = STATE_BODY;
		parser->term_stealable = false;
	} else if (parser->parts_count >= parser->limits.max_parts) {
		/* the empty child of a message part whose header the
		   boundary cut took the last place */
		parser->overflow = true;
		part->truncated = true;
		parser->state = STATE_BODY;
		parser->term_stealable = false;
	} else {
		(void)parser_open_part(parser, parser->cur);
	}
	return size;
}

static size_t parser_consume(struct mime_parser *parser, const unsigned char *data,
			     size_t size)
{
	switch (parser->state) {
	case STATE_HEADER:
		if (parser_checking(parser)) {
			const unsigned char *lf = memchr(data, '\n', size);
			if (lf != NULL)
				size = (size_t)(lf - data) + 1;
		}
		return parser_consume_header(parser, data, size);
	case STATE_BODY:
		return parser_consume_body(parser, data, size);
	case STATE_BOUNDARY_LINE:
		return parser_consume_boundary_line(parser, data, size);
	case STATE_DONE:
		break;
	}
	i_unreached();
}

static void parser_consume_all(struct mime_parser *parser, const unsigned char *data,
			       size_t size)
{
	while (size > 0) {
		size_t n = parser_consume(parser, data, size);
		data += n;
		size -= n;
	}
}

/* The line head is complete (or the input ended): a boundary or text. */
static void parser_decide_head(struct mime_parser *parser)
{
	bool end = false;
	struct boundary *b = parser_match_boundary(parser, &end);

	parser->head_pending = false;
	if (b != NULL && parser->parts_count >= parser->limits.max_parts) {
		/* no more parts: the rest stays in this one */
		parser->overflow = true;
		parser_part(parser)->truncated = true;
		b = NULL;
	}
	if (b != NULL)
		parser_boundary_found(parser, b, end);
	parser_consume_all(parser, parser->head, parser->head_len);
}

static size_t parser_collect_head(struct mime_parser *parser, const unsigned char *data,
				  size_t size)
{
	size_t n = I_MIN(size, LINE_HEAD_MAX - parser->head_len);
	const unsigned char *lf = memchr(data, '\n', n);

	if (lf != NULL)
		n = (size_t)(lf - data) + 1;
	memcpy(parser->head + parser->head_len, data, n);
	parser->head_len += n;
	if (lf != NULL || parser->head_len == LINE_HEAD_MAX)
		parser_decide_head(parser);
	return n;
}

/* ---- API ---- */

struct mime_parser *mime_parser_create(pool_t pool, const struct mime_parser_limits *limits)
{
	struct mime_parser *parser = i_new(struct mime_parser, 1);

	parser->pool = pool;
	if (limits != NULL)
		parser->limits = *limits;
	if (parser->limits.max_depth == 0)
		parser->limits.max_depth = MIME_PARSER_DEFAULT_MAX_DEPTH;
	if (parser->limits.max_parts == 0)
		parser->limits.max_parts = MIME_PARSER_DEFAULT_MAX_PARTS;
	if (parser->limits.max_header_size == 0)
		parser->limits.max_header_size = MIME_PARSER_DEFAULT_MAX_HEADER_SIZE;
	if (parser->limits.max_header_fields == 0)
		parser->limits.max_header_fields = MIME_PARSER_DEFAULT_MAX_HEADER_FIELDS;
	parser->header_budget = parser->limits.max_header_size;
	parser->header = mime_header_parser_create(NULL);
	for (unsigned int i = 0; i < CONTENT_HEADER_COUNT; i++)
		parser->content[i] = str_new(system_pool, 64);
	array_init(&parser->open, system_pool, 8);
	parser->at_line_start = true;
	parser->root = parser_open_part(parser, parser->cur);
	return parser;
}

void mime_parser_destroy(struct mime_parser **_parser)
{
	struct mime_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	parser_remove_boundaries(parser, NULL);
	mime_header_parser_destroy(&parser->header);
	for (unsigned int i = 0; i < CONTENT_HEADER_COUNT; i++)
		str_free(&parser->content[i]);
	array_free(&parser->open);
	i_free(parser);
}

void mime_parser_set_header_callback(struct mime_parser *parser,
				     mime_parser_header_callback_t *callback,
				     void *context)
{
	parser->header_callback = callback;
	parser->header_context = context;
}

void mime_parser_set_body_callback(struct mime_parser *parser,
				   mime_parser_body_callback_t *callback,
				   void *context)
{
	parser->body_callback = callback;
	parser->body_context = context;
}

void mime_parser_feed(struct mime_parser *parser, const void *_data, size_t size)
{
	const unsigned char *data = _data;
	size_t n;

	i_assert(parser->state != STATE_DONE);
	while (size > 0) {
		if (parser->head_pending)
			n = parser_collect_head(parser, data, size);
		else if (parser->at_line_start && data[0] == '-' &&
			 parser_checking(parser)) {
			parser->head_pending = true;
			parser->head_len = 0;
			continue;
		} else {
			n = parser_consume(parser, data, size);
		}
		data += n;
		size -= n;
	}
}

struct mime_part *mime_parser_finish(struct mime_parser *parser)
{
	if (parser->state == STATE_DONE)
		return parser->root;
	if (parser->head_pending)
		parser_decide_head(parser);
	if (parser->state == STATE_HEADER) {
		parser_drain_header(parser);
		parser_end_header(parser, parser->cur, false);
	}
	if (parser->held_len > 0 && parser->open.count > 0)
		parser_flush_held(parser, parser_part(parser));
	while (parser->open.count > 0)
		parser_close_part(parser, parser->cur);
	parser->state = STATE_DONE;
	return parser->root;
}

struct mime_part *mime_parse(pool_t pool, const void *data, size_t size,
			     const struct mime_parser_limits *limits)
{
	struct mime_parser *parser = mime_parser_create(pool, limits);
	struct mime_part *root;

	mime_parser_feed(parser, data, size);
	root = mime_parser_finish(parser);
	mime_parser_destroy(&parser);
	return root;
}

struct mime_part *mime_part_from_header_block(pool_t pool, const unsigned char *header,
					      size_t size)
{
	struct mime_part *part = p_new(pool, struct mime_part, 1);
	uint64_t lf = 0, bare = 0;

	for (const unsigned char *p = header, *end = header + size;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		lf++;
		if (p == header || p[-1] != '\r')
			bare++;
	}
	part->header_size = size;
	part->header_size_crlf = size + bare;
	part->header_lines = lf > UINT32_MAX ? UINT32_MAX : (uint32_t)lf;
	part->body_offset = size;
	/* the blank line that ends a header is its last line: "\n" or
	   "\r\n" at the start of the block or after another line's LF */
	bool blank = (size >= 1 && header[size - 1] == '\n') &&
		((size >= 2 && header[size - 2] == '\n') ||
		 (size >= 3 && header[size - 2] == '\r' && header[size - 3] == '\n') ||
		 size == 1 || (size == 2 && header[0] == '\r'));
	part->header_unterminated = !blank;
	part->content_type.type = "text";
	part->content_type.subtype = "plain";
	part->content_type.defaulted = true;
	part->is_text = true;
	return part;
}

const char *mime_part_get_charset(const struct mime_part *part)
{
	const struct mime_content_type *ct = &part->content_type;
	const char *charset = mime_param_get(ct->params, ct->params_count, "charset");

	return charset != NULL && charset[0] != '\0' ? charset : "us-ascii";
}

struct mime_part *mime_part_next(struct mime_part *part)
{
	if (part->children != NULL)
		return part->children;
	while (part != NULL && part->next == NULL)
		part = part->parent;
	return part == NULL ? NULL : part->next;
}

unsigned int mime_part_count(const struct mime_part *part)
{
	unsigned int count = 1;

	for (const struct mime_part *child = part->children; child != NULL;
	     child = child->next)
		count += mime_part_count(child);
	return count;
}
