/* libFuzzer target for search-text.c and search-keys.c: builds a message's
 * searchable text all at once and through the incremental builder in
 * pseudo-random chunks, which must give the same text, within max_size,
 * valid UTF-8 without CR or NUL; then derives the SORT keys and runs the
 * search_text_*_has() matchers against naive versions, with needles from
 * the input (folded like a client's search key) and from the text itself
 * (which must match). The first byte picks max_size (two low bits) and
 * seeds the chunking and the needle's place. */
#include "lib.h"
#include "buffer.h"
#include "mime-charset.h"
#include "search-casemap.h"
#include "search-keys.h"
#include "search-subject.h"
#include "search-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* one run folds the message twice and scans it a few times: 32 KiB stays
   within a few milliseconds whatever the content */
#define FUZZ_MAX_INPUT (32 * 1024)
#define FUZZ_NEEDLE_MAX 16

static const size_t fuzz_max_sizes[] = { 64, 512, 4096, 0 };

struct fuzz_rand {
	uint32_t state;
};

static uint32_t fuzz_rand(struct fuzz_rand *r, uint32_t n)
{
	r->state = r->state * 1103515245 + 12345;
	return (r->state >> 16) % n;
}

static struct search_text *fuzz_build_chunked(pool_t pool, const uint8_t *msg, size_t size,
					      size_t max_size, struct fuzz_rand *r)
{
	struct search_text_builder *b = search_text_builder_create(pool, max_size);
	for (size_t pos = 0; pos < size; ) {
		/* mostly small chunks, sometimes a large one, sometimes empty */
		size_t n = fuzz_rand(r, 8) == 0 ? fuzz_rand(r, 4096) : fuzz_rand(r, 64);
		n = I_MIN(n, size - pos);
		search_text_builder_feed(b, msg + pos, n);
		pos += n;
	}
	struct search_text *text = search_text_builder_finish(b);
	search_text_builder_destroy(&b);
	search_text_builder_destroy(&b); /* accepts NULL */
	return text;
}

static bool fuzz_str_equal(const string_t *a, const string_t *b)
{
	return a->used == b->used && memcmp(a->data, b->data, a->used) == 0;
}

static bool fuzz_cstr_equal(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void fuzz_compare(const struct search_text *a, const struct search_text *b)
{
	if (!fuzz_str_equal(a->header, b->header))
		i_panic("chunking changed the header text:\n[%s]\n[%s]",
			str_c(a->header), str_c(b->header));
	if (!fuzz_str_equal(a->body, b->body))
		i_panic("chunking changed the body text:\n[%s]\n[%s]",
			str_c(a->body), str_c(b->body));
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		if (!fuzz_str_equal(a->fields[i], b->fields[i]))
			i_panic("chunking changed field %s", search_text_field_name(i));
	}
	if (a->truncated != b->truncated)
		i_panic("chunking changed truncated");
	const char *const raw_a[] = { a->date, a->message_id, a->in_reply_to, a->references,
				      a->subject, a->from, a->to, a->cc };
	const char *const raw_b[] = { b->date, b->message_id, b->in_reply_to, b->references,
				      b->subject, b->from, b->to, b->cc };
	for (unsigned int i = 0; i < N_ELEMENTS(raw_a); i++) {
		if (!fuzz_cstr_equal(raw_a[i], raw_b[i]))
			i_panic("chunking changed first value %u", i);
	}
}

/* Folded text: valid UTF-8, no CR or NUL; line-mode text has one line
   per value, each ending in LF unless the size limit cut it. */
static void fuzz_check_folded(const string_t *str, const char *what)
{
	if (!charset_utf8_is_valid(str->data, str->used))
		i_panic("%s is not valid UTF-8", what);
	if (memchr(str->data, '\r', str->used) != NULL ||
	    memchr(str->data, '\0', str->used) != NULL)
		i_panic("%s has CR or NUL", what);
}

static void fuzz_check_text(const struct search_text *text, size_t max_size)
{
	size_t limit = max_size == 0 ? SEARCH_TEXT_DEFAULT_MAX_SIZE : max_size;
	if (text->header->used + text->body->used > limit)
		i_panic("text over max_size: %zu + %zu > %zu", text->header->used,
			text->body->used, limit);
	fuzz_check_folded(text->header, "header");
	fuzz_check_folded(text->body, "body");
	if (!text->truncated && text->header->used > 0 &&
	    text->header->data[text->header->used - 1] != '\n')
		i_panic("header text does not end in LF");
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		const string_t *f = text->fields[i];
		fuzz_check_folded(f, search_text_field_name(i));
		if (!text->truncated && f->used > 0 && f->data[f->used - 1] != '\n')
			i_panic("field %s does not end in LF", search_text_field_name(i));
		enum search_text_field field;
		if (!search_text_field_lookup(search_text_field_name(i), &field) || field != i)
			i_panic("field name lookup");
	}
	const char *const raw[] = { text->date, text->message_id, text->in_reply_to,
				    text->references, text->from, text->to, text->cc };
	for (unsigned int i = 0; i < N_ELEMENTS(raw); i++) {
		if (raw[i] != NULL && strlen(raw[i]) > 64 * 1024)
			i_panic("first value %u longer than its cap", i);
	}
	if (text->subject != NULL &&
	    !charset_utf8_is_valid(text->subject, strlen(text->subject)))
		i_panic("decoded subject is not valid UTF-8");
}

/* --- matchers against naive versions --- */

static bool naive_contains(const char *text, size_t len, const char *needle)
{
	size_t nlen = strlen(needle);
	for (size_t i = 0; i + nlen <= len; i++) {
		if (memcmp(text + i, needle, nlen) == 0)
			return true;
	}
	return false;
}

static bool naive_header_has(const char *text, size_t len, const char *name,
			     const char *needle)
{
	size_t name_len = strlen(name);
	for (size_t start = 0; start < len; ) {
		size_t end = start;
		while (end < len && text[end] != '\n')
			end++;
		size_t line_len = end - start;
		if (line_len >= name_len + 2 && memcmp(text + start, name, name_len) == 0 &&
		    text[start + name_len] == ':' && text[start + name_len + 1] == ' ' &&
		    naive_contains(text + start + name_len + 2, line_len - name_len - 2, needle))
			return true;
		start = end + 1;
	}
	return false;
}

static void fuzz_match(const struct search_text *text, const char *line_needle,
		       const char *text_needle, const char *name)
{
	const string_t *body = text->body, *header = text->header;
	if (search_text_body_has((const char *)body->data, body->used, text_needle) !=
	    naive_contains((const char *)body->data, body->used, text_needle))
		i_panic("search_text_body_has() differs from a naive scan");
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		const string_t *f = text->fields[i];
		bool expected = line_needle[0] == '\0' ? f->used > 0 :
			naive_contains((const char *)f->data, f->used, line_needle);
		if (search_text_field_has((const char *)f->data, f->used, line_needle) != expected)
			i_panic("search_text_field_has() differs from a naive scan");
	}
	if (search_text_header_has((const char *)header->data, header->used, name, line_needle) !=
	    naive_header_has((const char *)header->data, header->used, name, line_needle))
		i_panic("search_text_header_has(%s, %s) differs from a naive scan", name,
			line_needle);
}

/* A piece of a folded text, cut at character boundaries and within one
   line: searching for it must find it. */
static const char *fuzz_piece(pool_t pool, const string_t *str, struct fuzz_rand *r)
{
	if (str->used == 0)
		return "";
	size_t start = fuzz_rand(r, (uint32_t)str->used), end;
	while (start > 0 && (str->data[start] & 0xC0) == 0x80)
		start--;
	for (end = start; end < str->used && end - start < FUZZ_NEEDLE_MAX; end++) {
		if (str->data[end] == '\n')
			break;
	}
	while (end > start && end < str->used && (str->data[end] & 0xC0) == 0x80)
		end--;
	return p_strndup(pool, str->data + start, end - start);
}

/* Every top-level From/To/Cc/Bcc/Subject value is also a header line of
   its name; each value line of a field is looked up in the header. */
static void fuzz_check_fields_in_header(pool_t pool, const struct search_text *text)
{
	const string_t *header = text->header;
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		const char *name = search_casemap(pool, search_text_field_name(i));
		const char *p = str_c(text->fields[i]), *eol;
		for (; (eol = strchr(p, '\n')) != NULL; p = eol + 1) {
			const char *value = p_strndup(pool, p, (size_t)(eol - p));
			if (!search_text_header_has((const char *)header->data, header->used,
						    name, value))
				i_panic("field value [%s] not in the header as %s", value, name);
		}
	}
}

static void fuzz_matchers(pool_t pool, const struct search_text *text, const uint8_t *msg,
			  size_t size, struct fuzz_rand *r)
{
	/* a needle from the input, folded as a client's search key is */
	size_t start = size == 0 ? 0 : fuzz_rand(r, (uint32_t)size);
	size_t len = fuzz_rand(r, FUZZ_NEEDLE_MAX + 1);
	len = I_MIN(len, size - start);
	string_t *line_needle = str_new(pool, 64), *text_needle = str_new(pool, 64);
	search_casemap_append(line_needle, msg + start, len, true);
	search_casemap_append(text_needle, msg + start, len, false);
	const char *names[] = { "SUBJECT", "FROM", "X-MAILER", "", str_c(line_needle) };
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++)
		fuzz_match(text, str_c(line_needle), str_c(text_needle), names[i]);
	fuzz_match(text, "", "", "SUBJECT");

	/* pieces of the text itself are found */
	const char *piece = fuzz_piece(pool, text->body, r);
	if (!search_text_body_has((const char *)text->body->data, text->body->used, piece))
		i_panic("body piece [%s] not found", piece);
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		const string_t *f = text->fields[i];
		piece = fuzz_piece(pool, f, r);
		if (f->used > 0 && !search_text_field_has((const char *)f->data, f->used, piece))
			i_panic("field piece [%s] not found", piece);
	}
	if (!text->truncated)
		fuzz_check_fields_in_header(pool, text);
}

/* --- sort keys --- */

static void fuzz_check_key(const char *key, const char *what)
{
	if (key == NULL || !charset_utf8_is_valid(key, strlen(key)))
		i_panic("key %s missing or not valid UTF-8", what);
}

static void fuzz_keys(pool_t pool, const struct search_text *text)
{
	struct search_keys keys;
	bool reply;
	search_keys_from_text(pool, text, &keys);
	if (keys.has_sent_date && (keys.sent_tz < -5999 || keys.sent_tz > 5999))
		i_panic("zone offset past +-9959");
	fuzz_check_key(keys.from_addr, "from_addr");
	fuzz_check_key(keys.to_addr, "to_addr");
	fuzz_check_key(keys.cc_addr, "cc_addr");
	fuzz_check_key(keys.from_display, "from_display");
	fuzz_check_key(keys.to_display, "to_display");
	fuzz_check_key(keys.subject, "subject");
	if ((text->from == NULL && (keys.from_addr[0] != '\0' || keys.from_display[0] != '\0')) ||
	    (text->to == NULL && (keys.to_addr[0] != '\0' || keys.to_display[0] != '\0')) ||
	    (text->cc == NULL && keys.cc_addr[0] != '\0'))
		i_panic("address key without the field");
	const char *base = search_subject_base(pool, text->subject, &reply);
	if (strcmp(keys.subject, search_casemap(pool, base)) != 0 ||
	    keys.subject_is_reply != reply)
		i_panic("subject key is not the folded base subject");
	if (keys.message_id != text->message_id || keys.in_reply_to != text->in_reply_to ||
	    keys.references != text->references)
		i_panic("thread keys are not the raw values");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t max_size = fuzz_max_sizes[data[0] & 3];
	struct fuzz_rand r = { .state = data[0] >> 2 };
	const uint8_t *msg = data + 1;
	size_t msg_size = I_MIN(size - 1, FUZZ_MAX_INPUT);
	pool_t pool = pool_create("fuzz search text", 16384);

	struct search_text *whole = search_text_build(pool, msg, msg_size, max_size);
	struct search_text *chunked = fuzz_build_chunked(pool, msg, msg_size, max_size, &r);
	fuzz_compare(whole, chunked);
	fuzz_check_text(whole, max_size);
	fuzz_matchers(pool, whole, msg, msg_size, &r);
	fuzz_keys(pool, whole);

	/* a builder given up half way frees everything */
	struct search_text_builder *b = search_text_builder_create(pool, max_size);
	search_text_builder_feed(b, msg, msg_size / 2);
	search_text_builder_destroy(&b);

	pool_destroy(&pool);
	t_pool_clear();
	return 0;
}
