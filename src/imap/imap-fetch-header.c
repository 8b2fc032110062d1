/* Header blocks for BODY[HEADER] and BODY[HEADER.FIELDS (...)]: finding
 * the end of the header, filtering fields (in memory, and streaming for
 * FETCH sections and BINARY's rewritten headers), and CRLF normalisation
 * (IMAP sizes and bytes are those of the CRLF form, RFC 9051 §2.2). */
#include "imap-fetch.h"

#include <strings.h>

size_t imap_header_block_size(const unsigned char *data, size_t size, bool eof)
{
	/* the header ends at the first empty line: "\n\n" or "\n\r\n" */
	if (size > 0 && data[0] == '\n')
		return 1;
	if (size > 1 && data[0] == '\r' && data[1] == '\n')
		return 2;
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return i + 2;
		if (data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n')
			return i + 3;
	}
	return eof ? size : 0;
}

uint64_t imap_crlf_size(const unsigned char *data, size_t size)
{
	uint64_t n = size;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			n++;
	}
	return n;
}

void imap_append_crlf(string_t *dest, const unsigned char *data, size_t size)
{
	size_t start = 0;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
			str_append_n(dest, data + start, i - start);
			str_append(dest, "\r\n");
			start = i + 1;
		}
	}
	str_append_n(dest, data + start, size - start);
}

static bool field_listed(const unsigned char *name, size_t len, const char *const *fields)
{
	for (unsigned int i = 0; fields[i] != NULL; i++) {
		if (strlen(fields[i]) == len && strncasecmp((const char *)name, fields[i], len) == 0)
			return true;
	}
	return false;
}

void imap_header_filter(const unsigned char *header, size_t size, const char *const *fields,
			bool exclude, string_t *dest)
{
	size_t pos = 0;
	while (pos < size) {
		/* a field is a line plus its continuation lines */
		size_t end = pos;
		do {
			const unsigned char *lf = memchr(header + end, '\n', size - end);
			end = lf == NULL ? size : (size_t)(lf - header) + 1;
		} while (end < size && (header[end] == ' ' || header[end] == '\t'));
		const unsigned char *line = header + pos;
		size_t line_len = end - pos;
		if (line_len == 1 || (line_len == 2 && line[0] == '\r'))
			break; /* the empty line ending the header */
		const unsigned char *colon = memchr(line, ':', line_len);
		if (colon != NULL) {
			size_t name_len = (size_t)(colon - line);
			while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
				name_len--;
			if (field_listed(line, name_len, fields) != exclude) {
				imap_append_crlf(dest, line, line_len);
				if (line[line_len - 1] != '\n')
					str_append(dest, "\r\n");
			}
		}
		pos = end;
	}
	str_append(dest, "\r\n");
}

/* ---- streaming filter ---- */

/* RFC 5322 §2.1.1 line length: a longer "name" is no name, as in
   src/mime's header parser. */
#define FILTER_NAME_MAX 1000

static const char *const binary_header_exclude[] = { "CONTENT-TRANSFER-ENCODING", NULL };
static const char binary_header_cte[] = "Content-Transfer-Encoding: binary\r\n";

static const char *const *filter_fields(const struct fetch_segment *seg, bool *exclude_r)
{
	if (seg->type == FETCH_SEG_BINARY_HEADER) {
		*exclude_r = true;
		return binary_header_exclude;
	}
	*exclude_r = seg->exclude;
	return seg->fields;
}

void imap_fetch_header_filter_begin(struct fetch_content *content)
{
	if (content->line == NULL)
		content->line = buffer_create(system_pool, 128);
	buffer_clear(content->line);
	content->at_line_start = true;
	content->in_line = false;
	content->collecting = false;
	content->field_included = false;
	content->header_ended = false;
	content->output_at_line_start = true;
}

/* Appends raw header bytes to dest in CRLF form. */
static void filter_output(struct fetch_content *content, const unsigned char *data, size_t size,
			  bool prev_cr, buffer_t *dest)
{
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && !(i > 0 ? data[i - 1] == '\r' : prev_cr))
			buffer_append_c(dest, '\r');
		buffer_append_c(dest, data[i] == '\0' && !content->binary ? 0x80 : data[i]);
	}
	if (size > 0)
		content->output_at_line_start = data[size - 1] == '\n';
}

/* The collected start of a line decides whether its field is included. */
static void filter_decide(struct fetch_content *content, const struct fetch_segment *seg,
			  bool has_colon, buffer_t *dest)
{
	const unsigned char *line = content->line->data;
	size_t name_len = 0;
	bool exclude, listed = false;
	const char *const *fields = filter_fields(seg, &exclude);

	if (has_colon) {
		name_len = content->line->used - 1;
		while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
			name_len--;
	}
	for (unsigned int i = 0; name_len > 0 && fields[i] != NULL; i++) {
		if (strlen(fields[i]) == name_len &&
		    strncasecmp((const char *)line, fields[i], name_len) == 0)
			listed = true;
	}
	content->field_included = listed != exclude;
	content->collecting = false;
	if (content->field_included)
		filter_output(content, line, content->line->used, false, dest);
	buffer_clear(content->line);
}

static void filter_end_of_header(struct fetch_content *content, const struct fetch_segment *seg,
				 buffer_t *dest)
{
	if (seg->type == FETCH_SEG_BINARY_HEADER)
		buffer_append(dest, binary_header_cte, sizeof(binary_header_cte) - 1);
	buffer_append(dest, "\r\n", 2);
	content->header_ended = true;
}

/* A line being collected: is it the empty line, or where is its colon? */
static void filter_collect(struct fetch_content *content, const struct fetch_segment *seg,
			   unsigned char c, buffer_t *dest)
{
	buffer_append_c(content->line, c);
	if (c == '\n') {
		size_t len = content->line->used;
		if (len == 1 || (len == 2 && content->line->data[0] == '\r')) {
			buffer_clear(content->line);
			content->collecting = false;
			filter_end_of_header(content, seg, dest);
			return;
		}
		filter_decide(content, seg, false, dest);
		content->at_line_start = true;
	} else if (c == ':') {
		filter_decide(content, seg, true, dest);
	} else if (content->line->used > FILTER_NAME_MAX) {
		filter_decide(content, seg, false, dest);
	}
}

void imap_fetch_header_filter_feed(struct fetch_content *content, const struct fetch_segment *seg,
				   const unsigned char *data, size_t size, buffer_t *dest)
{
	for (size_t i = 0; i < size && !content->header_ended; i++) {
		unsigned char c = data[i];
		bool prev_cr = i > 0 ? data[i - 1] == '\r' : content->prev_cr;

		if (content->at_line_start) {
			content->at_line_start = false;
			if ((c == ' ' || c == '\t') && content->in_line) {
				/* a continuation line of the same field */
			} else {
				content->in_line = true;
				content->collecting = true;
				buffer_clear(content->line);
			}
		}
		if (content->collecting) {
			filter_collect(content, seg, c, dest);
			continue;
		}
		if (content->field_included)
			filter_output(content, &c, 1, prev_cr, dest);
		if (c == '\n')
			content->at_line_start = true;
	}
}

void imap_fetch_header_filter_end(struct fetch_content *content, const struct fetch_segment *seg,
				  buffer_t *dest)
{
	if (content->header_ended)
		return;
	if (content->collecting && content->line->used > 0)
		filter_decide(content, seg, false, dest);
	if (seg->add_missing_eoh) {
		/* one CRLF, which ends an unterminated last line or is the
		   empty line, as other servers do it */
		buffer_append(dest, "\r\n", 2);
	} else if (seg->type == FETCH_SEG_BINARY_HEADER) {
		if (!content->output_at_line_start)
			buffer_append(dest, "\r\n", 2);
		filter_end_of_header(content, seg, dest);
	}
	/* else as it was: no empty line, the last line unterminated */
}
