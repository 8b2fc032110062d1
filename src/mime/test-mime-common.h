/* Helpers shared by the mime unit tests: a one-line description of a part
 * tree (so that expected trees are table entries), deterministic chunked
 * feeding, and the structural invariants every parse must satisfy. */
#ifndef TERN_TEST_MIME_COMMON_H
#define TERN_TEST_MIME_COMMON_H

#include "mime-parser.h"

/* One entry per part in pre-order, separated by " | ":
   "depth:type/subtype H<offset>+<size>/<lines> B<offset>+<size>/<lines>"
   then "~<header_crlf>,<body_crlf>" when a CRLF size differs, then flags:
   M multipart, R message, T truncated, U header without blank line. */
static inline void test_mime_describe(string_t *dest, const struct mime_part *part)
{
	for (; part != NULL; part = part->next) {
		if (str_len(dest) > 0)
			str_append(dest, " | ");
		str_printfa(dest, "%u:%s/%s H%llu+%llu/%u B%llu+%llu/%u", part->depth,
			    part->content_type.type, part->content_type.subtype,
			    (unsigned long long)part->header_offset,
			    (unsigned long long)part->header_size, part->header_lines,
			    (unsigned long long)part->body_offset,
			    (unsigned long long)part->body_size, part->body_lines);
		if (part->header_size_crlf != part->header_size ||
		    part->body_size_crlf != part->body_size) {
			str_printfa(dest, "~%llu,%llu",
				    (unsigned long long)part->header_size_crlf,
				    (unsigned long long)part->body_size_crlf);
		}
		if (part->is_multipart)
			str_append(dest, " M");
		if (part->is_message)
			str_append(dest, " R");
		if (part->truncated)
			str_append(dest, " T");
		if (part->header_unterminated)
			str_append(dest, " U");
		test_mime_describe(dest, part->children);
	}
}

/* Counts LFs and bare LFs in data[start, end). */
static inline void test_mime_count(const unsigned char *data, uint64_t start, uint64_t end,
				   uint64_t *lf_r, uint64_t *bare_r)
{
	*lf_r = *bare_r = 0;
	for (uint64_t i = start; i < end; i++) {
		if (data[i] != '\n')
			continue;
		(*lf_r)++;
		if (i == 0 || data[i - 1] != '\r')
			(*bare_r)++;
	}
}

/* Checks the invariants of a part tree over the message it came from;
   returns NULL or a description of the first violation. */
static inline const char *test_mime_check_part(const struct mime_part *part,
					       const unsigned char *data, size_t size)
{
	uint64_t lf, bare, end = part->body_offset + part->body_size;

	if (part->body_offset != part->header_offset + part->header_size)
		return "body does not follow header";
	if (end > size)
		return "part past the end";
	test_mime_count(data, part->header_offset, part->body_offset, &lf, &bare);
	if (lf != part->header_lines || part->header_size_crlf != part->header_size + bare)
		return "header lines/crlf size";
	test_mime_count(data, part->body_offset, end, &lf, &bare);
	if (lf != part->body_lines || part->body_size_crlf != part->body_size + bare)
		return "body lines/crlf size";
	if (part->is_multipart && part->is_message)
		return "multipart and message";
	if (part->is_message && (part->children == NULL || part->children->next != NULL))
		return "message part without exactly one child";
	if (!part->is_multipart && !part->is_message && part->children != NULL)
		return "leaf with children";
	if (part->is_message && part->children->header_offset != part->body_offset)
		return "message child not at body start";
	/* the child of a message part ends with it, except that when the
	   child's header was cut by a boundary its last line ending belongs
	   to the message part */
	if (part->is_message &&
	    (part->children->body_offset + part->children->body_size > end ||
	     end - (part->children->body_offset + part->children->body_size) >
	     (part->children->header_unterminated ? 2U : 0U)))
		return "message child does not end with the body";

	uint64_t prev_end = part->body_offset;
	unsigned int count = 0;
	for (const struct mime_part *child = part->children; child != NULL;
	     child = child->next) {
		if (child->parent != part || child->depth != part->depth + 1)
			return "bad parent link";
		if (child->header_offset < prev_end)
			return "children overlap or go backwards";
		prev_end = child->body_offset + child->body_size;
		if (prev_end > end)
			return "child past its parent";
		const char *error = test_mime_check_part(child, data, size);
		if (error != NULL)
			return error;
		count++;
	}
	if (count != part->children_count)
		return "children_count";
	return NULL;
}

static inline const char *test_mime_check(const struct mime_part *root,
					  const unsigned char *data, size_t size)
{
	if (root->header_offset != 0 || root->body_offset + root->body_size != size)
		return "root does not cover the message";
	return test_mime_check_part(root, data, size);
}

/* Feeds data in chunks: chunk == 0 uses pseudo-random sizes from seed. */
/* The root rebuilt from its header block alone must have the parser's
   header numbers (mime_part_from_header_block()). NULL or an error. */
static inline const char *test_mime_check_header_block(const struct mime_part *root,
							const unsigned char *data)
{
	if (root->header_offset != 0 || root->header_truncated)
		return NULL;
	struct mime_part *hb = mime_part_from_header_block(t_pool(), data,
							   (size_t)root->header_size);
	if (hb->header_size != root->header_size ||
	    hb->header_size_crlf != root->header_size_crlf ||
	    hb->header_lines != root->header_lines ||
	    hb->header_unterminated != root->header_unterminated)
		return t_strdup_printf("header block: size %llu/%llu crlf %llu/%llu lines %u/%u "
				       "unterminated %d/%d",
				       (unsigned long long)hb->header_size,
				       (unsigned long long)root->header_size,
				       (unsigned long long)hb->header_size_crlf,
				       (unsigned long long)root->header_size_crlf,
				       hb->header_lines, root->header_lines,
				       hb->header_unterminated, root->header_unterminated);
	return NULL;
}

static inline void test_mime_feed(struct mime_parser *parser, const unsigned char *data,
				  size_t size, size_t chunk, uint32_t seed)
{
	size_t pos = 0;

	while (pos < size) {
		size_t n = chunk;
		if (n == 0) {
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % 97;
		}
		if (n > size - pos)
			n = size - pos;
		mime_parser_feed(parser, data + pos, n);
		pos += n;
	}
}

#endif
