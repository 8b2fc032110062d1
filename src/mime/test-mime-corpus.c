/* Parses every message of tests/fixtures/mime (hand-written edge cases and
 * generated/, see generate.py) whole, byte at a time and in random chunks:
 * the trees must be identical, satisfy the structural invariants, start
 * each multipart child after a line with its parent's boundary, and match
 * tests/fixtures/mime/expected-structure.txt (regenerate it with
 * TEST_MIME_UPDATE_EXPECTED=1 after a deliberate change). Every header is
 * also decoded (encoded words, addresses, Content-* values) and every leaf
 * body transfer-decoded, so that the sanitizers see all of it. */
#include "test-common.h"
#include "test-mime-common.h"
#include "mime-address.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"

#include <dirent.h>
#include <strings.h>

#define EXPECTED_FILE "expected-structure.txt"

struct corpus_file {
	char *name; /* relative to the fixture directory */
	unsigned char *data;
	size_t size;
};

/* Not temporary memory: the test clears the temporary pool per file. */
static char *corpus_dir(void)
{
	const char *dir = getenv("TERN_SOURCE_DIR");

	if (dir == NULL)
		dir = TERN_SOURCE_DIR_DEFAULT;
	return i_strdup(t_strdup_printf("%s/tests/fixtures/mime", dir));
}

static int corpus_name_cmp(const void *a, const void *b)
{
	const struct corpus_file *f1 = a, *f2 = b;

	return strcmp(f1->name, f2->name);
}

static bool corpus_read(const char *path, struct corpus_file *file)
{
	FILE *f = fopen(path, "rb");
	buffer_t *buf = buffer_create(system_pool, 4096);
	unsigned char chunk[8192];
	size_t n;

	if (f == NULL) {
		buffer_free(&buf);
		return false;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buffer_append(buf, chunk, n);
	fclose(f);
	file->size = buf->used;
	file->data = i_malloc(buf->used + 1);
	memcpy(file->data, buf->data, buf->used);
	buffer_free(&buf);
	return true;
}

/* Reads the .eml files of dir/sub into files; returns the new count. */
static unsigned int corpus_load_dir(const char *dir, const char *sub,
				    struct corpus_file **files, unsigned int count)
{
	const char *path = sub[0] == '\0' ? dir : t_strdup_printf("%s/%s", dir, sub);
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL)
		return count;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		*files = i_realloc(*files, sizeof(**files) * (count + 1));
		struct corpus_file *file = &(*files)[count];
		file->name = i_strdup(sub[0] == '\0' ? de->d_name :
				      t_strdup_printf("%s/%s", sub, de->d_name));
		if (corpus_read(t_strdup_printf("%s/%s", path, de->d_name), file))
			count++;
		else
			free(file->name);
	}
	closedir(d);
	return count;
}

/* Each child of a multipart starts right after a line that begins with
   "--" and the parent's boundary (cut to 80 bytes, matched as prefix). */
static const char *corpus_check_boundaries(const struct mime_part *part,
					   const unsigned char *data)
{
	for (; part != NULL; part = part->next) {
		const char *error = corpus_check_boundaries(part->children, data);
		if (error != NULL)
			return error;
		if (!part->is_multipart || part->children == NULL)
			continue;
		const char *b = mime_param_get(part->content_type.params,
					       part->content_type.params_count, "boundary");
		if (b == NULL)
			return "multipart children without boundary";
		size_t blen = I_MIN(strlen(b), MIME_BOUNDARY_MAX_LEN);
		for (const struct mime_part *child = part->children; child != NULL;
		     child = child->next) {
			uint64_t pos = child->header_offset;
			if (pos < 1 || data[pos - 1] != '\n')
				return "child not at a line start";
			uint64_t start = pos - 1;
			while (start > part->body_offset && data[start - 1] != '\n')
				start--;
			if (pos - start < 2 + blen + 1 || memcmp(data + start, "--", 2) != 0 ||
			    memcmp(data + start + 2, b, blen) != 0)
				return "child not after its boundary line";
		}
	}
	return NULL;
}

static bool corpus_is_address_header(const char *name)
{
	static const char *const names[] = {
		"From", "To", "Cc", "Bcc", "Sender", "Reply-To", "Resent-From",
		"Resent-To", "Resent-Cc", "Return-Path",
	};
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

static void corpus_decode_field(const struct mime_header_field *field, void *context)
{
	pool_t pool = context;
	string_t *str = str_new(pool, 256);

	mime_encoded_word_decode(field->value, field->value_len, str);
	test_assert(charset_utf8_is_valid(str_data(str), str_len(str)));
	if (corpus_is_address_header(field->name)) {
		struct mime_address_list list = { NULL, NULL, 0 };
		mime_address_parse(pool, field->raw_value, field->raw_value_size, 0,
				   MIME_ADDRESS_FLAG_FILL_MISSING, &list);
		for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
			/* ENVELOPE needs these never NULL outside group markers */
			test_assert(a->domain == NULL || a->mailbox != NULL);
			if (a->name != NULL) {
				str_truncate(str, 0);
				mime_encoded_word_decode(a->name, strlen(a->name), str);
			}
		}
		str_truncate(str, 0);
		mime_address_write(str, list.head);
	}
}

/* Decodes every header and leaf body of the tree. */
static void corpus_decode_parts(struct mime_part *root, const unsigned char *data,
				pool_t pool)
{
	for (struct mime_part *part = root; part != NULL; part = mime_part_next(part)) {
		(void)mime_header_parse_block(data + part->header_offset,
					      part->header_size, NULL,
					      corpus_decode_field, pool);
		if (part->children != NULL)
			continue;
		buffer_t *out = buffer_create(pool, part->body_size + 16);
		(void)mime_decode(part->encoding, data + part->body_offset,
				  part->body_size, out);
		if (part->is_text) {
			string_t *utf8 = str_new(pool, out->used + 16);
			(void)charset_to_utf8(mime_part_get_charset(part), out->data,
					      out->used, utf8);
			test_assert(charset_utf8_is_valid(str_data(utf8), str_len(utf8)));
		}
	}
}

/* Parses one file every way; returns its description (in pool). */
static const char *corpus_parse_file(const struct corpus_file *file, pool_t pool)
{
	static const size_t chunks[] = { SIZE_MAX, 1, 0, 0 };
	const char *first = NULL;

	for (unsigned int i = 0; i < N_ELEMENTS(chunks); i++) {
		struct mime_parser *parser = mime_parser_create(pool, NULL);
		test_mime_feed(parser, file->data, file->size, chunks[i], i * 31337u);
		struct mime_part *root = mime_parser_finish(parser);
		mime_parser_destroy(&parser);

		const char *error = test_mime_check(root, file->data, file->size);
		if (error == NULL)
			error = corpus_check_boundaries(root, file->data);
		if (error == NULL)
			error = test_mime_check_header_block(root, file->data);
		if (error != NULL) {
			printf("  %s: %s\n", file->name, error);
			test_assert(error == NULL);
		}
		string_t *desc = str_new(pool, 1024);
		test_mime_describe(desc, root);
		if (first == NULL) {
			first = str_c(desc);
			corpus_decode_parts(root, file->data, pool);
		} else if (strcmp(first, str_c(desc)) != 0) {
			printf("  %s: chunking changed the tree\n", file->name);
			test_assert(false);
		}
	}
	return first;
}

/* Returns the expected description of name from the expected file
   content, or NULL. */
static const char *corpus_expected(const char *expected, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = expected; line != NULL && *line != '\0'; ) {
		const char *end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (strncmp(line, name, len) == 0 && line[len] == '\t')
			return t_strndup(line + len + 1, (size_t)(end - line - len - 1));
		line = *end == '\0' ? NULL : end + 1;
	}
	return NULL;
}

static void test_corpus(void)
{
	char *dir = corpus_dir();
	struct corpus_file *files = NULL, expected_file;
	unsigned int count = corpus_load_dir(dir, "", &files, 0);
	bool update = getenv("TEST_MIME_UPDATE_EXPECTED") != NULL;
	string_t *new_expected = str_new(system_pool, 65536);

	count = corpus_load_dir(dir, "generated", &files, count);
	if (count > 0)
		qsort(files, count, sizeof(*files), corpus_name_cmp);

	test_begin("mime corpus");
	/* at least the 60 hand-written and 150 generated messages */
	test_assert(count >= 210);
	bool have_expected = corpus_read(t_strdup_printf("%s/%s", dir, EXPECTED_FILE),
					 &expected_file);
	test_assert(have_expected || update);
	unsigned int mismatches = 0;
	for (unsigned int i = 0; i < count; i++) {
		pool_t pool = pool_create("corpus", 65536);
		const char *desc = corpus_parse_file(&files[i], pool);
		str_printfa(new_expected, "%s\t%s\n", files[i].name, desc);
		if (have_expected && !update) {
			const char *want = corpus_expected((const char *)expected_file.data,
							   files[i].name);
			if (want == NULL || strcmp(want, desc) != 0) {
				if (mismatches++ < 5)
					printf("  %s:\n    got  %s\n    want %s\n", files[i].name,
					       desc, want == NULL ? "(none)" : want);
				test_assert(want != NULL && strcmp(want, desc) == 0);
			}
		}
		pool_destroy(&pool);
		t_pool_clear();
	}
	if (update) {
		FILE *f = fopen(t_strdup_printf("%s/%s", dir, EXPECTED_FILE), "wb");
		test_assert(f != NULL);
		if (f != NULL) {
			fwrite(str_data(new_expected), 1, str_len(new_expected), f);
			fclose(f);
		}
	}
	if (have_expected)
		free(expected_file.data);
	str_free(&new_expected);
	for (unsigned int i = 0; i < count; i++) {
		free(files[i].name);
		free(files[i].data);
	}
	free(files);
	free(dir);
	charset_deinit();
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_corpus,
		NULL
	};
	return test_run(tests);
}
