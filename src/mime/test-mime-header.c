/* Unit tests for mime-header.c: RFC 5322 §2.2 fields, folding, bare LF,
 * whitespace before the colon, 8-bit and NUL bytes, lines without colon,
 * missing blank line, limits; every input also fed byte at a time. */
#include "test-common.h"
#include "mime-header.h"

struct header_test {
	const char *input;
	size_t input_len; /* 0: strlen */
	/* each field as "name=value@offset+size" plus flags: !nocolon,
	   !trunc, !nul, !nonl; separated by ';' */
	const char *fields;
	size_t block_size;
	bool blank_line;
};

static const struct header_test header_tests[] = {
	{ "A: b\r\nC: d\r\n\r\nbody", 0, "A=b@0+6;C=d@6+6", 14, true },
	{ "Subject: a\r\n b\r\n\tc\r\n\r\n", 0, "Subject=a b\tc@0+20", 22, true },
	{ "A: 1\nB:2\n\nbody\n", 0, "A=1@0+5;B=2@5+4", 10, true },
	{ "Subject  \t: x\n\n", 0, "Subject=x@0+14", 15, true },
	{ "Subject: caf\xC3\xA9 \xE9t\xE9\n\n", 0,
	  "Subject=caf\xC3\xA9 \xE9t\xE9@0+19", 20, true },
	{ "X: a\0b\nY: c\n\n", 13, "X=a\xEF\xBF\xBD" "b@0+7!nul;Y=c@7+5", 13, true },
	{ "N\0me: v\n\n", 9, "N\xEF\xBF\xBDme=v@0+8!nul", 9, true },
	{ "garbage line\nA: b\n\n", 0, "=garbage line@0+13!nocolon;A=b@13+5", 19, true },
	{ "A: b\n", 0, "A=b@0+5", 5, false },
	{ "A: b", 0, "A=b@0+4!nonl", 4, false },
	{ "A: b\n c", 0, "A=b c@0+7!nonl", 7, false },
	{ "A:\nB:   \n\n", 0, "A=@0+3;B=@3+6", 10, true },
	{ " X: y\n\n", 0, " X=y@0+6", 7, true },
	{ "\n", 0, "", 1, true },
	{ "\r\n", 0, "", 2, true },
	{ "\r\nA: b\n", 0, "", 2, true },
	{ "", 0, "", 0, false },
	{ "\rX: y\n\n", 0, "\rX=y@0+6", 7, true },
	{ "A: b\r", 0, "A=b\r@0+5!nonl", 5, false },
	{ "A: b\n\r", 0, "A=b@0+5;=\r@5+1!nocolon!nonl", 6, false },
	{ "A: b\r\r\n\r\n", 0, "A=b\r@0+7", 9, true },
	{ "A: x\r\n \r\n\r\n", 0, "A=x @0+9", 11, true },
	{ "Re: a:b:c\n\n", 0, "Re=a:b:c@0+10", 11, true },
	{ ": novalue\n\n", 0, "=novalue@0+10", 11, true },
};

static void test_collect_field(const struct mime_header_field *field, void *context)
{
	string_t *str = context;

	if (str_len(str) > 0)
		str_append_c(str, ';');
	str_printfa(str, "%s=", field->name);
	str_append_n(str, field->value, field->value_len);
	str_printfa(str, "@%llu+%llu", (unsigned long long)field->offset,
		    (unsigned long long)field->size);
	if (field->no_colon)
		str_append(str, "!nocolon");
	if (field->truncated)
		str_append(str, "!trunc");
	if (field->has_nul)
		str_append(str, "!nul");
	if (field->no_newline)
		str_append(str, "!nonl");
	/* the field's bytes are the message's */
	if (!field->truncated && field->full_size != field->size)
		str_append(str, "!BADSIZE");
}

/* Feeds the input chunk bytes at a time; returns the block size. */
static size_t test_parse_chunked(const unsigned char *input, size_t size, size_t chunk,
				 const struct mime_header_limits *limits, string_t *out,
				 bool *blank_r)
{
	struct mime_header_parser *parser = mime_header_parser_create(limits);
	const struct mime_header_field *field;
	size_t pos = 0, end = 0, used;
	int ret;

	while (!mime_header_parser_is_done(parser)) {
		end = I_MIN(size, end + chunk);
		if (end == size)
			mime_header_parser_end(parser);
		while ((ret = mime_header_parser_parse(parser, input + pos, end - pos,
						       &used, &field)) > 0) {
			pos += used;
			if (field == NULL)
				break;
			test_collect_field(field, out);
		}
		if (ret == 0) {
			test_assert(used == end - pos);
			pos += used;
		}
	}
	*blank_r = mime_header_parser_has_blank_line(parser);
	test_assert(mime_header_parser_get_offset(parser) == pos);
	mime_header_parser_destroy(&parser);
	return pos;
}

static void test_header_table(void)
{
	test_begin("header fields");
	for (unsigned int i = 0; i < N_ELEMENTS(header_tests); i++) {
		const struct header_test *t = &header_tests[i];
		size_t len = t->input_len != 0 ? t->input_len : strlen(t->input);
		string_t *whole = t_str_new(128);
		size_t size = mime_header_parse_block(t->input, len, NULL,
						      test_collect_field, whole);

		if (strcmp(str_c(whole), t->fields) != 0 || size != t->block_size)
			printf("  case %u\n", i);
		test_assert_strcmp(str_c(whole), t->fields);
		test_assert(size == t->block_size);
		for (size_t chunk = 1; chunk <= 4; chunk++) {
			string_t *out = t_str_new(128);
			bool blank;
			size = test_parse_chunked((const unsigned char *)t->input, len,
						  chunk, NULL, out, &blank);
			test_assert_strcmp(str_c(out), t->fields);
			test_assert(size == t->block_size);
			if (blank != t->blank_line || size != t->block_size)
				printf("  case %u chunk %zu\n", i, chunk);
			test_assert(blank == t->blank_line);
		}
	}
	test_end();
}

static void test_header_raw_values(void)
{
	static const char input[] = "Subject : a\r\n b\r\n\r\n";
	struct mime_header_parser *parser = mime_header_parser_create(NULL);
	const struct mime_header_field *field;
	size_t used;

	test_begin("header raw values");
	mime_header_parser_reset(parser, 1000, NULL);
	test_assert(mime_header_parser_parse(parser, input, sizeof(input) - 1,
					     &used, &field) == 1);
	test_assert(field != NULL && used == 17);
	test_assert_strcmp(field->name, "Subject");
	test_assert(field->raw_value_size == 6 &&
		    memcmp(field->raw_value, " a\r\n b", 6) == 0);
	test_assert(field->full_size == 17 && memcmp(field->full, input, 17) == 0);
	test_assert(field->offset == 1000 && field->size == 17);
	test_assert_strcmp(field->value, "a b");
	test_assert(mime_header_parser_parse(parser, input + used, 2, &used, &field) == 1);
	test_assert(field == NULL && used == 2);
	/* after the end nothing more is consumed */
	test_assert(mime_header_parser_parse(parser, "X: y\n", 5, &used, &field) == 1);
	test_assert(field == NULL && used == 0);
	test_assert(mime_header_parser_get_offset(parser) == 1019);
	mime_header_parser_destroy(&parser);
	test_end();
}

static void test_header_limits(void)
{
	static const char input[] =
		"A: 1\nB: 2\nC: 3\nD: 4\n\nbody";
	struct mime_header_limits limits = { .max_fields = 2 };
	string_t *out = t_str_new(128);
	bool blank;

	test_begin("header limits");
	size_t size = test_parse_chunked((const unsigned char *)input, sizeof(input) - 1,
					 1, &limits, out, &blank);
	test_assert_strcmp(str_c(out), "A=1@0+5;B=2@5+5");
	test_assert(size == 21 && blank);

	/* a field crossing max_size is cut, the later ones skipped */
	limits = (struct mime_header_limits){ .max_size = 12 };
	str_truncate(out, 0);
	size = test_parse_chunked((const unsigned char *)input, sizeof(input) - 1,
				  3, &limits, out, &blank);
	test_assert_strcmp(str_c(out), "A=1@0+5;B=2@5+5;C=@10+5!trunc");
	test_assert(size == 21);

	/* an overlong line: bounded memory, exact offsets */
	string_t *big = t_str_new(300000);
	str_append(big, "X-Long: ");
	for (unsigned int i = 0; i < 200000; i++)
		str_append_c(big, (char)('a' + i % 26));
	str_append(big, "\nY: z\n\n");
	limits = (struct mime_header_limits){ .max_size = 1000 };
	str_truncate(out, 0);
	struct mime_header_parser *parser = mime_header_parser_create(&limits);
	const struct mime_header_field *field;
	size_t pos = 0, used;
	unsigned int fields = 0;
	mime_header_parser_end(parser);
	while (mime_header_parser_parse(parser, str_data(big) + pos, str_len(big) - pos,
					&used, &field) > 0) {
		pos += used;
		if (field == NULL)
			break;
		fields++;
		test_assert(field->truncated && field->full_size == 1000 &&
			    field->size == 200009);
		test_assert_strcmp(field->name, "X-Long");
	}
	test_assert(fields == 1 && pos == str_len(big));
	test_assert(mime_header_parser_is_truncated(parser));
	mime_header_parser_destroy(&parser);

	/* a name past MIME_HEADER_NAME_MAX_LEN makes a line without colon */
	str_truncate(big, 0);
	for (unsigned int i = 0; i <= MIME_HEADER_NAME_MAX_LEN; i++)
		str_append_c(big, 'n');
	str_append(big, ": v\n\n");
	str_truncate(out, 0);
	size = mime_header_parse_block(str_data(big), str_len(big), NULL,
				       test_collect_field, out);
	test_assert(size == str_len(big));
	test_assert(strncmp(str_c(out), "=nnnn", 5) == 0 &&
		    strstr(str_c(out), "!nocolon") != NULL);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_header_table,
		test_header_raw_values,
		test_header_limits,
		NULL
	};
	return test_run(tests);
}
