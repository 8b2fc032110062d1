/* Saving a message that arrived as binary content (an IMAP APPEND with a
 * literal8, RFC 3516 §4.4): the bytes are spooled to an unlinked file
 * while the MIME parser notes each part's Content-Transfer-Encoding
 * fields; at the end, every leaf part declared "binary" is rewritten as
 * base64 (its CTE fields replaced, its body encoded in 76-column lines)
 * and the result goes through the ordinary save path. So what is stored
 * is a valid 7bit/8bit message: BODY[] never has to carry NULs, and
 * BINARY[] still gives the client its original bytes back. */
#include "mail-storage-private.h"
#include "base64.h"
#include "mime-header.h"
#include "mime-parser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define BINARY_READ_CHUNK (64 * 1024)
/* base64 line length (RFC 2045 §6.8: at most 76) */
#define BINARY_B64_LINE 76

struct cte_field {
	const struct mime_part *part;
	uint64_t offset, size;
};

struct mail_save_binary {
	pool_t pool;
	int fd;
	uint64_t size;
	struct mime_parser *parser;
	ARRAY(struct cte_field) ctes;
};

static void binary_header_cb(struct mime_part *part, const struct mime_header_field *field,
			     void *context)
{
	struct mail_save_binary *b = context;
	if (field == NULL || strcasecmp(field->name, "Content-Transfer-Encoding") != 0)
		return;
	struct cte_field cte = { .part = part, .offset = field->offset, .size = field->size };
	array_push(&b->ctes, cte);
}

struct mail_save_binary *mail_save_binary_create(struct mail_user *user)
{
	const char *path = t_strdup_printf("%s/.binary-append-XXXXXX", user->home);
	char *tmpl = p_strdup(t_pool(), path);
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		mail_user_set_syscall_error(user, "mkstemp", path, errno);
		return NULL;
	}
	/* nothing else needs the name: the space goes when fd closes */
	(void)unlink(tmpl);
	pool_t pool = pool_create("binary append", 4096);
	struct mail_save_binary *b = p_new(pool, struct mail_save_binary, 1);
	b->pool = pool;
	b->fd = fd;
	b->parser = mime_parser_create(pool, NULL);
	mime_parser_set_header_callback(b->parser, binary_header_cb, b);
	array_init(&b->ctes, pool, 4);
	return b;
}

void mail_save_binary_destroy(struct mail_save_binary **_b)
{
	struct mail_save_binary *b = *_b;
	if (b == NULL)
		return;
	*_b = NULL;
	mime_parser_destroy(&b->parser);
	if (b->fd >= 0)
		(void)close(b->fd);
	pool_destroy(&b->pool);
}

int mail_save_binary_write(struct mail_save *save, const void *data, size_t size)
{
	struct mail_save_binary *b = save->binary;
	const unsigned char *p = data;
	for (size_t done = 0; done < size; ) {
		ssize_t ret = pwrite(b->fd, p + done, size - done, (off_t)(b->size + done));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return mail_user_set_syscall_error(save->user, "pwrite", "(binary spool)",
							   ret < 0 ? errno : ENOSPC);
		done += (size_t)ret;
	}
	mime_parser_feed(b->parser, data, size);
	b->size += size;
	return 0;
}

/* Reads exactly n spool bytes at from (the spool is a regular file that
   holds them all: a short read can only be an error). Returns 0 or -1. */
static int binary_pread(struct mail_save *save, void *dest, size_t n, uint64_t from)
{
	for (size_t done = 0; done < n; ) {
		ssize_t ret = pread(save->binary->fd, (unsigned char *)dest + done, n - done,
				    (off_t)(from + done));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return mail_user_set_syscall_error(save->user, "pread", "(binary spool)",
							   ret < 0 ? errno : EIO);
		done += (size_t)ret;
	}
	return 0;
}

/* Copies spool bytes [from, to) into the save. */
static int binary_copy(struct mail_save *save, uint64_t from, uint64_t to, buffer_t *buf)
{
	while (from < to) {
		size_t n = to - from < BINARY_READ_CHUNK ? (size_t)(to - from) : BINARY_READ_CHUNK;
		buffer_clear(buf);
		void *dest = buffer_append_space(buf, n);
		if (binary_pread(save, dest, n, from) < 0 ||
		    mail_save_write_content(save, dest, n) < 0)
			return -1;
		from += n;
	}
	return 0;
}

/* 57 input bytes make one 76-column base64 line; chunks are whole lines,
   so no padding can appear before the end */
#define BINARY_B64_IN_LINE (BINARY_B64_LINE / 4 * 3)
#define BINARY_B64_IN_CHUNK (BINARY_B64_IN_LINE * 256)

/* Writes spool bytes [from, to) base64-encoded in CRLF-terminated lines
   (no line ending after the last: the part's own delimiter follows). */
static int binary_encode(struct mail_save *save, uint64_t from, uint64_t to)
{
	unsigned char in[BINARY_B64_IN_CHUNK];
	buffer_t *out = buffer_create(system_pool, sizeof(in) / 3 * 4 + 600);
	int result = 0;
	bool first = true;
	while (from < to && result == 0) {
		size_t n = to - from < sizeof(in) ? (size_t)(to - from) : sizeof(in);
		if ((result = binary_pread(save, in, n, from)) < 0)
			break;
		buffer_clear(out);
		for (size_t i = 0; i < n; i += BINARY_B64_IN_LINE) {
			if (!first)
				buffer_append(out, "\r\n", 2);
			first = false;
			size_t len = n - i < BINARY_B64_IN_LINE ? n - i : BINARY_B64_IN_LINE;
			base64_encode(in + i, len, out);
		}
		result = mail_save_write_content(save, out->data, out->used);
		from += n;
	}
	buffer_free(&out);
	return result;
}

static int cte_cmp(const void *p1, const void *p2)
{
	const struct cte_field *a = p1, *b = p2;
	return a->offset < b->offset ? -1 : a->offset > b->offset ? 1 : 0;
}

/* A leaf part whose content is declared binary (and was not made opaque
   by a limit): its body is what gets encoded. */
static bool binary_part_converts(const struct mime_part *part)
{
	return part->encoding == MIME_ENCODING_BINARY && part->children == NULL &&
		!part->is_multipart && !part->is_message;
}

int mail_save_binary_finish(struct mail_save *save)
{
	struct mail_save_binary *b = save->binary;
	(void)mime_parser_finish(b->parser);
	/* the fields of converted parts, in file order; each part's body
	   follows its header, so one pass over the spool does it */
	ARRAY(struct cte_field) todo;
	array_init(&todo, b->pool, b->ctes.count);
	for (unsigned int i = 0; i < b->ctes.count; i++) {
		if (binary_part_converts(b->ctes.v[i].part))
			array_push(&todo, b->ctes.v[i]);
	}
	qsort(todo.v, todo.count, sizeof(*todo.v), cte_cmp);
	buffer_t *buf = buffer_create(system_pool, BINARY_READ_CHUNK);
	uint64_t pos = 0;
	int ret = 0;
	for (unsigned int i = 0; i < todo.count && ret == 0; i++) {
		const struct cte_field *cte = &todo.v[i];
		const struct mime_part *part = cte->part;
		if (cte->offset < pos)
			continue;
		ret = binary_copy(save, pos, cte->offset, buf);
		/* the first CTE field becomes base64, repeated ones go */
		bool first_field = i == 0 || todo.v[i - 1].part != part;
		if (ret == 0 && first_field)
			ret = mail_save_write_content(save, "Content-Transfer-Encoding: base64\r\n", 35);
		pos = cte->offset + cte->size;
		/* the part's other fields, then its body, once per part */
		bool last_field = i + 1 == todo.count || todo.v[i + 1].part != part;
		if (ret == 0 && last_field && pos <= part->body_offset) {
			ret = binary_copy(save, pos, part->body_offset, buf);
			if (ret == 0)
				ret = binary_encode(save, part->body_offset,
						    part->body_offset + part->body_size);
			pos = part->body_offset + part->body_size;
		}
	}
	if (ret == 0)
		ret = binary_copy(save, pos, b->size, buf);
	buffer_free(&buf);
	return ret;
}
