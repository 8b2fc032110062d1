/* Header blocks for BODY[HEADER] and BODY[HEADER.FIELDS (...)]: finding
 * the end of the header, filtering fields, and CRLF normalisation (IMAP
 * sizes and bytes are those of the CRLF form, RFC 9051 §2.2). */
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
