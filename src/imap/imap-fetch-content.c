/* Contents of BODY[section] and BINARY[section] literals (RFC 9051 §6.4.5,
 * RFC 3516): which byte ranges of the message file a section is, and the
 * producer that reads those ranges in one sequential pass, in bounded
 * memory, turning them into the CRLF form, filtering header fields, or
 * decoding transfer encodings. */
#include "imap-fetch.h"
#include "istream.h"

/* ---- sections ---- */

const struct mime_part *imap_fetch_find_part(const struct imap_structure *s,
					     const uint32_t *path, unsigned int count)
{
	const struct mime_part *part = s->root;

	for (unsigned int i = 0; i < count && part != NULL; i++) {
		bool more = i + 1 < count;

		if (part->is_multipart) {
			part = part->children;
			for (uint32_t n = path[i]; n > 1 && part != NULL; n--)
				part = part->next;
		} else if (path[i] != 1 || (more && !imap_bodystructure_is_message(part))) {
			/* a leaf has only part 1, itself; only a message
			   part's numbers go deeper */
			part = NULL;
		}
		if (part != NULL && more && imap_bodystructure_is_message(part))
			part = part->children;
	}
	return part;
}

static void content_add(struct fetch_content *content, enum fetch_segment_type type,
			uint64_t start, uint64_t end)
{
	struct fetch_segment *seg;

	if (end <= start && type == FETCH_SEG_COPY)
		return;
	seg = array_append_space(&content->segments);
	seg->type = type;
	seg->start = start;
	seg->end = end;
}

static void content_init(struct fetch_content *content, pool_t pool, bool binary)
{
	memset(content, 0, sizeof(*content));
	array_init(&content->segments, pool, 4);
	content->binary = binary;
}

static uint64_t part_header_end(const struct mime_part *part)
{
	return part->header_offset + part->header_size;
}

static uint64_t part_end(const struct mime_part *part)
{
	return part->body_offset + part->body_size;
}

/* RFC 2046 §5.1.1: the line ending before a boundary line belongs to the
   boundary. So a part with an empty body whose header's empty line is
   directly followed by a boundary line has a header without that line
   ending (and so without its empty line), as other servers serve it.
   True if a boundary line follows the part; whether it follows the empty
   line directly (and not a line ending the boundary took) is seen when
   the header is read: content_trim_final_eol(). */
static bool part_header_loses_eol(const struct mime_part *part)
{
	uint64_t end = part_end(part);

	if (part->body_size != 0 || part->header_unterminated || part->header_size == 0)
		return false;
	for (const struct mime_part *p = part; p->parent != NULL; p = p->parent) {
		const struct mime_part *parent = p->parent;
		if (parent->is_multipart && (p->next != NULL || end < part_end(parent)))
			return true;
		if (part_end(parent) != end)
			return false;
	}
	return false;
}

/* A part's header as a COPY or FILTER segment; *size_r is its size when
   known without reading. */
static struct fetch_segment *content_add_header(struct fetch_content *content,
						enum fetch_segment_type type,
						const struct mime_part *part, int64_t *size_r)
{
	struct fetch_segment *seg;

	seg = array_append_space(&content->segments);
	seg->type = type;
	seg->start = part->header_offset;
	seg->end = part_header_end(part);
	seg->trim_final_eol = part_header_loses_eol(part);
	*size_r = seg->trim_final_eol || type != FETCH_SEG_COPY ? -1 :
		(int64_t)part->header_size_crlf;
	return seg;
}

/* HEADER, TEXT and HEADER.FIELDS of a message (the root, or a message
   part's child). */
static void content_msgtext(struct fetch_content *content, const struct mime_part *msg,
			    const struct fetch_item *item, uint64_t msg_size, int64_t *size_r)
{
	struct fetch_segment *seg;

	switch (item->section) {
	case SECTION_HEADER:
		(void)content_add_header(content, FETCH_SEG_COPY, msg, size_r);
		break;
	case SECTION_TEXT:
		if (msg->parent == NULL) {
			/* the root's body runs to the end of the file, also
			   when only its header was parsed */
			content_add(content, FETCH_SEG_COPY, msg->body_offset, UINT64_MAX);
			*size_r = msg_size > msg->header_size_crlf ?
				(int64_t)(msg_size - msg->header_size_crlf) : 0;
		} else {
			content_add(content, FETCH_SEG_COPY, msg->body_offset, part_end(msg));
			*size_r = (int64_t)msg->body_size_crlf;
		}
		break;
	case SECTION_HEADER_FIELDS:
	case SECTION_HEADER_FIELDS_NOT:
		seg = content_add_header(content, FETCH_SEG_FILTER, msg, size_r);
		seg->fields = item->fields;
		seg->exclude = item->section == SECTION_HEADER_FIELDS_NOT;
		/* HEADER.FIELDS of the message is answered whole; other
		   filters keep the header as it is */
		seg->add_missing_eoh = msg->parent == NULL && !seg->exclude;
		break;
	case SECTION_ALL:
	case SECTION_MIME:
		i_unreached();
	}
}

int imap_fetch_content_section(struct fetch_content *content, pool_t pool,
			       const struct imap_structure *s, const struct fetch_item *item,
			       uint64_t msg_size, int64_t *size_r)
{
	const struct mime_part *part;

	content_init(content, pool, false);
	*size_r = 0;
	if (item->part_count == 0) {
		if (item->section == SECTION_ALL) {
			content_add(content, FETCH_SEG_COPY, 0, UINT64_MAX);
			*size_r = (int64_t)msg_size;
		} else {
			content_msgtext(content, s->root, item, msg_size, size_r);
		}
		return 1;
	}
	part = imap_fetch_find_part(s, item->part, item->part_count);
	if (part == NULL)
		return 0;
	switch (item->section) {
	case SECTION_ALL:
		content_add(content, FETCH_SEG_COPY, part->body_offset, part_end(part));
		*size_r = (int64_t)part->body_size_crlf;
		return 1;
	case SECTION_MIME:
		/* a message part's MIME header is its own header, as other
		   servers answer */
		(void)content_add_header(content, FETCH_SEG_COPY, part, size_r);
		return 1;
	default:
		break;
	}
	if (!imap_bodystructure_is_message(part))
		return 0;
	content_msgtext(content, part->children, item, msg_size, size_r);
	return 1;
}

/* ---- BINARY ---- */

struct binary_ctx {
	struct fetch_content *content;
	uint64_t copy_start;
};

static void binary_copy_to(struct binary_ctx *ctx, uint64_t end)
{
	if (end > ctx->copy_start)
		content_add(ctx->content, FETCH_SEG_COPY, ctx->copy_start, end);
	ctx->copy_start = I_MAX(ctx->copy_start, end);
}

static bool encoding_is_converted(enum mime_encoding encoding)
{
	return encoding == MIME_ENCODING_BASE64 || encoding == MIME_ENCODING_QUOTED_PRINTABLE;
}

/* RFC 3516 §4.2: the part's content with every transfer encoding inside
   it undone; the headers of decoded parts say "binary". The parts between
   the decoded ones (boundaries, headers of identity parts) are copied. */
static int binary_add_part(struct binary_ctx *ctx, const struct mime_part *part,
			   bool include_hdr)
{
	bool converted = encoding_is_converted(part->encoding);

	if (part->encoding == MIME_ENCODING_UNKNOWN)
		return -1;
	/* a header without its empty line has no body to decode and no
	   place to say so: it stays as it is */
	if (include_hdr && converted && !part->header_unterminated) {
		binary_copy_to(ctx, part->header_offset);
		content_add(ctx->content, FETCH_SEG_BINARY_HEADER, part->header_offset,
			    part_header_end(part));
	} else if (include_hdr) {
		binary_copy_to(ctx, part_header_end(part));
	}
	ctx->copy_start = part_header_end(part);
	if (part->children != NULL) {
		for (const struct mime_part *child = part->children; child != NULL;
		     child = child->next) {
			if (binary_add_part(ctx, child, true) < 0)
				return -1;
		}
		binary_copy_to(ctx, part_end(part));
		return 0;
	}
	if (part->body_size > 0) {
		if (converted) {
			content_add(ctx->content, FETCH_SEG_DECODE, part->body_offset,
				    part_end(part));
			ctx->content->segments.v[ctx->content->segments.count - 1].encoding =
				part->encoding;
		} else {
			content_add(ctx->content, FETCH_SEG_COPY, part->body_offset,
				    part_end(part));
		}
	}
	ctx->copy_start = part_end(part);
	return 0;
}

int imap_fetch_content_binary(struct fetch_content *content, pool_t pool,
			      const struct imap_structure *s, const struct fetch_item *item)
{
	struct binary_ctx ctx = { .content = content };
	const struct mime_part *part = s->root;

	content_init(content, pool, true);
	if (item->part_count > 0) {
		part = imap_fetch_find_part(s, item->part, item->part_count);
		if (part == NULL)
			return 0;
	}
	ctx.copy_start = part->header_offset;
	if (binary_add_part(&ctx, part, item->part_count == 0) < 0)
		return -1;
	/* Only a decoded body makes a header say "binary": a multipart or
	   message part with an encoding (not allowed, RFC 2046 §5.1.1,
	   §5.2.1) isn't decoded, so its header stays as it is, as other
	   servers send it. */
	bool decoded = false;
	for (unsigned int i = 0; i < content->segments.count; i++)
		decoded = decoded || content->segments.v[i].type == FETCH_SEG_DECODE;
	for (unsigned int i = 0; i < content->segments.count && !decoded; i++)
		content->segments.v[i].type = FETCH_SEG_COPY;
	return 1;
}

/* ---- producing ---- */

int imap_fetch_content_open(struct fetch_content *content, struct mailbox *box, uint32_t uid)
{
	uint64_t phys_size;
	int ret;

	i_assert(content->input == NULL);
	if (content->mem != NULL) {
		content->input = i_stream_create_from_data(content->mem, content->mem_size);
	} else {
		ret = mailbox_open_message(box, uid, &content->input, &phys_size);
		if (ret <= 0)
			return ret;
	}
	content->pos = 0;
	content->seg_idx = 0;
	content->seg_started = false;
	content->prev_cr = false;
	content->converted = false;
	return 1;
}

void imap_fetch_content_close(struct fetch_content *content)
{
	i_stream_destroy(&content->input);
	mime_decoder_destroy(&content->decoder);
	if (content->line != NULL)
		buffer_free(&content->line);
	if (content->decoded != NULL)
		buffer_free(&content->decoded);
}

/* The scratch buffer for decoded bytes, emptied. */
static buffer_t *content_decoded_buffer(struct fetch_content *content)
{
	if (content->decoded == NULL)
		content->decoded = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 64);
	buffer_clear(content->decoded);
	return content->decoded;
}

/* Appends data in CRLF form; NULs become 0x80 unless keep_nuls. */
static void append_crlf(bool *prev_cr, bool keep_nuls, const unsigned char *data, size_t size,
			buffer_t *dest)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		unsigned char c = data[i];
		if (c == '\n') {
			if (!(i > 0 ? data[i - 1] == '\r' : *prev_cr)) {
				buffer_append(dest, data + start, i - start);
				buffer_append_c(dest, '\r');
				start = i;
			}
		} else if (c == '\0' && !keep_nuls) {
			buffer_append(dest, data + start, i - start);
			buffer_append_c(dest, 0x80);
			start = i + 1;
		}
	}
	buffer_append(dest, data + start, size - start);
	if (size > 0)
		*prev_cr = data[size - 1] == '\r';
}

/* Decoded bytes: base64 gives them as they are; quoted-printable's hard
   line breaks are CRLF (RFC 2045 §6.7), whatever the file used. */
static void content_append_decoded(struct fetch_content *content, const struct fetch_segment *seg,
				   const buffer_t *decoded, buffer_t *dest)
{
	if (seg->encoding == MIME_ENCODING_QUOTED_PRINTABLE)
		append_crlf(&content->out_prev_cr, true, decoded->data, decoded->used, dest);
	else
		buffer_append(dest, decoded->data, decoded->used);
}

static void content_segment_begin(struct fetch_content *content, const struct fetch_segment *seg)
{
	switch (seg->type) {
	case FETCH_SEG_COPY:
		break;
	case FETCH_SEG_DECODE:
		mime_decoder_destroy(&content->decoder);
		content->decoder = mime_decoder_create(seg->encoding);
		content->out_prev_cr = false;
		content->converted = true;
		break;
	case FETCH_SEG_BINARY_HEADER:
	case FETCH_SEG_FILTER:
		imap_fetch_header_filter_begin(content);
		break;
	}
}

static void content_segment_feed(struct fetch_content *content, const struct fetch_segment *seg,
				 const unsigned char *data, size_t size, buffer_t *dest)
{
	buffer_t *decoded;

	switch (seg->type) {
	case FETCH_SEG_COPY:
		append_crlf(&content->prev_cr, content->binary, data, size, dest);
		return;
	case FETCH_SEG_DECODE:
		decoded = content_decoded_buffer(content);
		mime_decoder_decode(content->decoder, data, size, decoded);
		content_append_decoded(content, seg, decoded, dest);
		break;
	case FETCH_SEG_FILTER:
	case FETCH_SEG_BINARY_HEADER:
		imap_fetch_header_filter_feed(content, seg, data, size, dest);
		break;
	}
	if (size > 0)
		content->prev_cr = data[size - 1] == '\r';
}

static void content_segment_end(struct fetch_content *content, const struct fetch_segment *seg,
				buffer_t *dest)
{
	buffer_t *decoded;

	switch (seg->type) {
	case FETCH_SEG_COPY:
		break;
	case FETCH_SEG_DECODE:
		decoded = content_decoded_buffer(content);
		(void)mime_decoder_finish(content->decoder, decoded);
		content_append_decoded(content, seg, decoded, dest);
		break;
	case FETCH_SEG_FILTER:
	case FETCH_SEG_BINARY_HEADER:
		imap_fetch_header_filter_end(content, seg, dest);
		break;
	}
}

/* Skips the file to offset. Returns false at end of file. */
static bool content_skip_to(struct fetch_content *content, uint64_t offset)
{
	while (content->pos < offset) {
		size_t size;
		const unsigned char *data = i_stream_get_data(content->input, &size);

		if (size == 0) {
			if (i_stream_read(content->input) == -1 &&
			    i_stream_get_data_size(content->input) == 0)
				return false;
			continue;
		}
		size_t n = (size_t)I_MIN((uint64_t)size, offset - content->pos);
		content->prev_cr = data[n - 1] == '\r';
		i_stream_skip(content->input, n);
		content->pos += n;
	}
	return true;
}

/* A trim_final_eol range is fed up to its last two bytes, then those
   together, without their line ending if the next byte starts a boundary
   line ("--"): see part_header_loses_eol(). */
static const unsigned char *
content_trim_final_eol(struct fetch_content *content, const struct fetch_segment *seg,
		       const unsigned char *data, size_t *size, size_t *feed_r)
{
	uint64_t left = seg->end - content->pos;

	if (left > 2) {
		*size = *feed_r = (size_t)I_MIN((uint64_t)*size, left - 2);
		return data;
	}
	/* see the byte after the range */
	while (i_stream_get_data_size(content->input) <= left) {
		if (i_stream_read(content->input) <= 0)
			break;
	}
	data = i_stream_get_data(content->input, size);
	size_t n = (size_t)I_MIN((uint64_t)*size, left);
	size_t feed = n;
	if (*size > left && data[left] == '-' && feed > 0 && data[feed - 1] == '\n') {
		feed--;
		if (feed > 0 && data[feed - 1] == '\r')
			feed--;
	}
	*size = n;
	*feed_r = feed;
	return data;
}

/* Feeds the current segment from the file. Returns 1 if fed, 0 at the
   segment's end. */
static int content_feed_more(struct fetch_content *content, const struct fetch_segment *seg,
			     buffer_t *dest)
{
	size_t size;
	const unsigned char *data;

	if (content->pos >= seg->end)
		return 0;
	data = i_stream_get_data(content->input, &size);
	if (size == 0) {
		if (i_stream_read(content->input) == -1 &&
		    i_stream_get_data_size(content->input) == 0)
			return 0;
		data = i_stream_get_data(content->input, &size);
	}
	size = (size_t)I_MIN((uint64_t)size, seg->end - content->pos);
	size = I_MIN(size, (size_t)FETCH_CONTENT_CHUNK);
	size_t feed = size;
	if (seg->trim_final_eol)
		data = content_trim_final_eol(content, seg, data, &size, &feed);
	content_segment_feed(content, seg, data, feed, dest);
	i_stream_skip(content->input, size);
	content->pos += size;
	return 1;
}

int imap_fetch_content_read(struct fetch_content *content, buffer_t *dest)
{
	size_t start_used = dest->used;

	while (content->seg_idx < content->segments.count) {
		const struct fetch_segment *seg = &content->segments.v[content->seg_idx];

		if (!content->seg_started) {
			(void)content_skip_to(content, seg->start);
			content_segment_begin(content, seg);
			content->seg_started = true;
		}
		if (content_feed_more(content, seg, dest) == 0) {
			content_segment_end(content, seg, dest);
			content->seg_idx++;
			content->seg_started = false;
		}
		if (i_stream_get_error(content->input) != 0)
			return -1;
		if (dest->used - start_used >= FETCH_CONTENT_CHUNK)
			return 1;
	}
	return 0;
}

int imap_fetch_content_measure(struct fetch_content *content, struct mailbox *box,
			       uint32_t uid, uint64_t *size_r, bool *has_nuls_r)
{
	buffer_t *buf;
	int ret = imap_fetch_content_open(content, box, uid);

	*size_r = 0;
	*has_nuls_r = false;
	if (ret <= 0)
		return ret;
	buf = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	do {
		buffer_clear(buf);
		ret = imap_fetch_content_read(content, buf);
		*size_r += buf->used;
		if (!*has_nuls_r && memchr(buf->data, '\0', buf->used) != NULL)
			*has_nuls_r = true;
	} while (ret > 0);
	imap_fetch_content_close(content);
	buffer_free(&buf);
	return ret < 0 ? -1 : 1;
}
