/* Unit tests for mime-parser.c: tree shapes, exact offsets, sizes and line
 * counts (RFC 2046 §5.1.1: the line break before a boundary belongs to
 * it), limits, Content-* values, callbacks; every message parsed whole,
 * byte at a time and in random chunks with identical results. */
#include "test-common.h"
#include "test-mime-common.h"

struct parser_test {
	const char *name;
	const char *msg;
	const char *expected;
};

static const struct parser_test parser_tests[] = {
	{ "empty message", "",
	  "0:text/plain H0+0/0 B0+0/0 U" },
	{ "header and body", "Subject: x\n\nbody\n",
	  "0:text/plain H0+12/2 B12+5/1~14,6" },
	{ "crlf header and body", "Subject: x\r\n\r\nbody\r\nmore",
	  "0:text/plain H0+14/2 B14+10/1" },
	{ "no header at all", "\nbody\nx",
	  "0:text/plain H0+1/1 B1+6/1~2,7" },
	{ "header only, no blank line", "a: b\nc: d\n",
	  "0:text/plain H0+10/2 B10+0/0~12,0 U" },
	{ "header without final newline", "a: b",
	  "0:text/plain H0+4/0 B4+0/0 U" },
	{ "lone cr at end of header", "a: b\r",
	  "0:text/plain H0+5/0 B5+0/0 U" },
	{ "crlf blank line after lf lines", "a: b\n\r\nx",
	  "0:text/plain H0+7/2 B7+1/0~8,1" },
	{ "multipart crlf",
	  "From: a@b\r\nMIME-Version: 1.0\r\n"
	  "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	  "preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld\r\n"
	  "--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n"
	  "--XX--\r\nepilogue\r\n",
	  "0:multipart/mixed H0+78/4 B78+138/14 M | "
	  "1:text/plain H94+28/2 B122+12/1 | "
	  "1:message/rfc822 H142+32/2 B174+22/2 R | "
	  "2:text/plain H174+18/2 B192+4/0" },
	{ "multipart bare lf, boundary on the first body line",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n"
	  "Content-Type: text/html\n\nhtml\n\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+48/9~45,57 M | "
	  "1:text/plain H47+1/1 B48+1/0~2,1 | "
	  "1:text/html H54+25/2 B79+5/1~27,6" },
	{ "empty line before boundary is the body's",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n\n\n--b--",
	  "0:multipart/mixed H0+43/2 B43+12/4~45,16 M | "
	  "1:text/plain H47+1/1 B48+1/1~2,2" },
	{ "empty part between boundaries",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nx\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+17/5~45,22 M | "
	  "1:text/plain H47+0/0 B47+0/0 U | "
	  "1:text/plain H51+1/1 B52+1/0~2,1" },
	{ "part header cut by a boundary",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n--b--\nepi\n",
	  "0:multipart/mixed H0+43/2 B43+38/4~45,42 M | "
	  "1:text/html H47+23/0 B70+0/0 U" },
	{ "part header cut by a boundary, crlf",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nA: 1\r\nB: 2\r\n--b--",
	  "0:multipart/mixed H0+45/2 B45+22/3 M | "
	  "1:text/plain H50+10/1 B60+0/0 U" },
	{ "missing final boundary",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nline1\nline2\n",
	  "0:multipart/mixed H0+43/2 B43+17/4~45,21 M | "
	  "1:text/plain H47+1/1 B48+12/2~2,14" },
	{ "boundary line with trailing whitespace and junk",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b  \t\n\nx\n--b-- trailing\nepi",
	  "0:multipart/mixed H0+43/2 B43+28/4~45,32 M | "
	  "1:text/plain H50+1/1 B51+1/0~2,1" },
	{ "non-boundary dash lines",
	  "Content-Type: multipart/mixed; boundary=bb\n\n--bb\n\n-- sig\n--b\n-\n--bb--\n",
	  "0:multipart/mixed H0+44/2 B44+26/6~46,32 M | "
	  "1:text/plain H49+1/1 B50+12/2~2,14" },
	{ "boundary at end of input without newline",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--",
	  "0:multipart/mixed H0+43/2 B43+12/3~45,15 M | "
	  "1:text/plain H47+1/1 B48+1/0~2,1" },
	{ "open boundary then end of input: an empty last part",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n",
	  "0:multipart/mixed H0+43/2 B43+11/4~45,15 M | "
	  "1:text/plain H47+1/1 B48+1/0~2,1 | "
	  "1:text/plain H54+0/0 B54+0/0 U" },
	{ "open boundary without newline at end: no new part",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b",
	  "0:multipart/mixed H0+43/2 B43+10/3~45,13 M | "
	  "1:text/plain H47+1/1 B48+1/0~2,1" },
	{ "nested multipart with epilogues",
	  "Content-Type: multipart/mixed; boundary=o\n\n"
	  "--o\nContent-Type: multipart/alternative; boundary=i\n\n"
	  "pre\n--i\n\na\n--i\n\nb\n--i--\ninner epi\n--o--\nouter epi\n",
	  "0:multipart/mixed H0+43/2 B43+103/14~45,117 M | "
	  "1:multipart/alternative H47+49/2 B96+33/8~51,41 M | "
	  "2:text/plain H104+1/1 B105+1/0~2,1 | "
	  "2:text/plain H111+1/1 B112+1/0~2,1" },
	{ "outer boundary closes an inner multipart",
	  "Content-Type: multipart/mixed; boundary=o\n\n"
	  "--o\nContent-Type: multipart/alternative; boundary=i\n\n"
	  "--i\n\na\n--o\n\nc\n--o--\n",
	  "0:multipart/mixed H0+43/2 B43+73/10~45,83 M | "
	  "1:multipart/alternative H47+49/2 B96+6/2~51,8 M | "
	  "2:text/plain H100+1/1 B101+1/0~2,1 | "
	  "1:text/plain H107+1/1 B108+1/0~2,1" },
	{ "outer boundary in the inner preamble",
	  "Content-Type: multipart/mixed; boundary=o\n\n"
	  "--o\nContent-Type: multipart/alternative; boundary=i\n\n"
	  "pre\n--o--\n",
	  "0:multipart/mixed H0+43/2 B43+63/5~45,68 M | "
	  "1:multipart/alternative H47+49/2 B96+3/0~51,3 M" },
	{ "inner boundary has the outer one as prefix",
	  "Content-Type: multipart/mixed; boundary=ab\n\n"
	  "--ab\nContent-Type: multipart/mixed; boundary=abcd\n\n"
	  "--abcd\n\nx\n--abcd--\n--ab--\n",
	  "0:multipart/mixed H0+44/2 B44+77/8~46,85 M | "
	  "1:multipart/mixed H49+46/2 B95+19/4~48,23 M | "
	  "2:text/plain H102+1/1 B103+1/0~2,1" },
	{ "outer boundary has the inner one as prefix",
	  "Content-Type: multipart/mixed; boundary=abcd\n\n"
	  "--abcd\nContent-Type: multipart/mixed; boundary=ab\n\n"
	  "--ab\n\nx\n--abcd\n\ny\n--abcd--\n",
	  "0:multipart/mixed H0+46/2 B46+78/10~48,88 M | "
	  "1:multipart/mixed H53+44/2 B97+7/2~46,9 M | "
	  "2:text/plain H102+1/1 B103+1/0~2,1 | "
	  "1:text/plain H112+1/1 B113+1/0~2,1" },
	{ "same boundary nested: the newest wins",
	  "Content-Type: multipart/mixed; boundary=s\n\n"
	  "--s\nContent-Type: multipart/mixed; boundary=s\n\n"
	  "--s\n\nx\n--s--\n--s--\n",
	  "0:multipart/mixed H0+43/2 B43+66/8~45,74 M | "
	  "1:multipart/mixed H47+43/2 B90+13/4~45,17 M | "
	  "2:text/plain H94+1/1 B95+1/0~2,1" },
	{ "\"--b--\" is the open boundary \"b--\", not the end of \"b\"",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: multipart/mixed; boundary=\"b--\"\n\n"
	  "--b--\n\nx\n--b----\n",
	  "0:multipart/mixed H0+43/2 B43+68/7~45,75 M | "
	  "1:multipart/mixed H47+47/2 B94+17/4~49,21 M | "
	  "2:text/plain H100+1/1 B101+1/0~2,1" },
	{ "message/rfc822 containing a multipart",
	  "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=z\n\n--z\n\nx\n--z--\n",
	  "0:message/rfc822 H0+30/2 B30+56/6~32,62 R | "
	  "1:multipart/mixed H30+43/2 B73+13/4~45,17 M | "
	  "2:text/plain H77+1/1 B78+1/0~2,1" },
	{ "message/rfc822 part whose header is cut by a boundary",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: message/rfc822\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+39/3~45,42 M | "
	  "1:message/rfc822 H47+28/0 B75+0/0 R U | "
	  "2:text/plain H75+0/0 B75+0/0 U" },
	{ "message/rfc822 child header cut by a boundary",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: message/rfc822\n\nSubject: s\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+51/5~45,56 M | "
	  "1:message/rfc822 H47+30/2 B77+11/1~32,12 R | "
	  "2:text/plain H77+10/0 B87+0/0 U" },
	{ "message/rfc822 at end of input",
	  "Content-Type: message/rfc822\n",
	  "0:message/rfc822 H0+29/1 B29+0/0~30,0 R U | "
	  "1:text/plain H29+0/0 B29+0/0 U" },
	{ "message/global parsed, encoded one opaque",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: message/global\n\nA: b\n\nx\n"
	  "--b\nContent-Type: message/global\nContent-Transfer-Encoding: base64\n\nQTogYgoKeAo=\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+129/12~45,141 M | "
	  "1:message/global H47+30/2 B77+7/2~32,9 R | "
	  "2:text/plain H77+6/2 B83+1/0~8,1 | "
	  "1:message/global H89+64/3 B153+12/0~67,12" },
	{ "multipart/digest children default to message/rfc822",
	  "Content-Type: multipart/digest; boundary=d\n\n"
	  "--d\n\nSubject: one\n\n1\n--d\nContent-Type: text/plain\n\n2\n--d--\n",
	  "0:multipart/digest H0+44/2 B44+59/10~46,69 M | "
	  "1:message/rfc822 H48+1/1 B49+15/2~2,17 R | "
	  "2:text/plain H49+14/2 B63+1/0~16,1 | "
	  "1:text/plain H69+26/2 B95+1/0~28,1" },
	{ "multipart without boundary parameter",
	  "Content-Type: multipart/mixed\n\n--b\nx\n",
	  "0:multipart/mixed H0+31/2 B31+6/2~33,8 M" },
	{ "multipart whose boundary never appears",
	  "Content-Type: multipart/mixed; boundary=q\n\njust text\n",
	  "0:multipart/mixed H0+43/2 B43+10/1~45,11 M" },
	{ "Content-Type without MIME-Version counts",
	  "Content-Type: text/html\n\nx",
	  "0:text/html H0+25/2 B25+1/0~27,1" },
	{ "long boundary matches on its first 80 bytes",
	  "Content-Type: multipart/mixed; boundary="
	  "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890\"\n\n"
	  "--01234567890123456789012345678901234567890123456789012345678901234567890123456789xyz\n\nx\n"
	  "--01234567890123456789012345678901234567890123456789012345678901234567890123456789--\n",
	  "0:multipart/mixed H0+135/2 B135+174/4~137,178 M | "
	  "1:text/plain H221+1/1 B222+1/0~2,1" },
	{ "cr not part of a line ending stays in the body",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\r\n--b--\r\n",
	  "0:multipart/mixed H0+45/2 B45+18/4 M | "
	  "1:text/plain H50+2/1 B52+2/0" },
};

static struct mime_part *test_parse(pool_t pool, const char *msg, size_t size,
				    size_t chunk, uint32_t seed,
				    const struct mime_parser_limits *limits)
{
	struct mime_parser *parser = mime_parser_create(pool, limits);
	struct mime_part *root;

	test_mime_feed(parser, (const unsigned char *)msg, size, chunk, seed);
	root = mime_parser_finish(parser);
	mime_parser_destroy(&parser);
	return root;
}

/* Parses msg whole, byte at a time and in random chunks: every parse must
   satisfy the invariants and give the same description, returned. */
static const char *test_parse_all_ways(const char *msg, size_t size,
				       const struct mime_parser_limits *limits)
{
	static const size_t chunks[] = { SIZE_MAX, 1, 2, 3, 0, 0, 0 };
	pool_t pool = pool_create("test parts", 4096);
	const char *first = NULL;

	for (unsigned int i = 0; i < N_ELEMENTS(chunks); i++) {
		struct mime_part *root = test_parse(pool, msg, size, chunks[i], i * 7919,
						    limits);
		const char *error = test_mime_check(root, (const unsigned char *)msg, size);
		if (error != NULL) {
			printf("  invariant broken (chunk %zu): %s\n", chunks[i], error);
			test_assert(error == NULL);
		}
		string_t *desc = t_str_new(256);
		test_mime_describe(desc, root);
		if (first == NULL)
			first = str_c(desc);
		else
			test_assert_strcmp(str_c(desc), first);
	}
	pool_destroy(&pool);
	return first;
}

static void test_parser_structures(void)
{
	bool dump = getenv("TEST_MIME_DUMP") != NULL;

	test_begin("parser structures");
	for (unsigned int i = 0; i < N_ELEMENTS(parser_tests); i++) {
		const struct parser_test *t = &parser_tests[i];
		const char *got = test_parse_all_ways(t->msg, strlen(t->msg), NULL);
		if (dump)
			printf("%s:\n  %s\n", t->name, got);
		if (strcmp(got, t->expected) != 0)
			printf("  case: %s\n", t->name);
		test_assert_strcmp(got, t->expected);
	}
	test_end();
}

struct limit_test {
	const char *name;
	struct mime_parser_limits limits;
	const char *msg;
	const char *expected;
};

static const char nested_msg[] =
	"Content-Type: multipart/mixed; boundary=1\n\n"
	"--1\nContent-Type: multipart/mixed; boundary=2\n\n"
	"--2\nContent-Type: message/rfc822\n\nSubject: s\n\nbody\n"
	"--2--\n--1\n\nlast\n--1--\n";

static const struct limit_test limit_tests[] = {
	{ "max_depth 1: the inner multipart is a leaf", { .max_depth = 1 }, nested_msg,
	  "0:multipart/mixed H0+43/2 B43+120/14~45,134 M | "
	  "1:multipart/mixed H47+43/2 B90+56/6~45,62 T | "
	  "1:text/plain H151+1/1 B152+4/0~2,4" },
	{ "max_depth 2: the message part is a leaf", { .max_depth = 2 }, nested_msg,
	  "0:multipart/mixed H0+43/2 B43+120/14~45,134 M | "
	  "1:multipart/mixed H47+43/2 B90+57/7~45,64 M | "
	  "2:message/rfc822 H94+30/2 B124+16/2~32,18 T | "
	  "1:text/plain H151+1/1 B152+4/0~2,4" },
	{ "max_parts 2: the rest stays in the second part", { .max_parts = 2 }, nested_msg,
	  "0:multipart/mixed H0+43/2 B43+120/14~45,134 M | "
	  "1:multipart/mixed H47+43/2 B90+73/11~45,84 M T" },
	{ "max_parts 3: no room for the message's child", { .max_parts = 3 }, nested_msg,
	  "0:multipart/mixed H0+43/2 B43+120/14~45,134 M | "
	  "1:multipart/mixed H47+43/2 B90+73/11~45,84 M | "
	  "2:message/rfc822 H94+30/2 B124+39/8~32,47 T" },
	{ "max_parts 4: end boundaries are no longer seen either", { .max_parts = 4 },
	  nested_msg,
	  "0:multipart/mixed H0+43/2 B43+120/14~45,134 M | "
	  "1:multipart/mixed H47+43/2 B90+73/11~45,84 M | "
	  "2:message/rfc822 H94+30/2 B124+39/8~32,47 R | "
	  "3:text/plain H124+12/2 B136+27/6~14,33 T" },
	{ "max_parts 3: a cut message header's child takes the last place",
	  { .max_parts = 3 },
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: message/rfc822\n--b\n\nx\n--b--\n",
	  "0:multipart/mixed H0+43/2 B43+46/6~45,52 M T | "
	  "1:message/rfc822 H47+28/0 B75+0/0 R U | "
	  "2:text/plain H75+0/0 B75+0/0 U" },
	{ "max_header_size: fields dropped, sizes exact", { .max_header_size = 10 },
	  nested_msg,
	  "0:text/plain H0+43/2 B43+120/14~45,134" },
};

static void test_parser_limits(void)
{
	bool dump = getenv("TEST_MIME_DUMP") != NULL;

	test_begin("parser limits");
	for (unsigned int i = 0; i < N_ELEMENTS(limit_tests); i++) {
		const struct limit_test *t = &limit_tests[i];
		const char *got = test_parse_all_ways(t->msg, strlen(t->msg), &t->limits);
		if (dump)
			printf("%s:\n  %s\n", t->name, got);
		test_assert_strcmp(got, t->expected);
	}

	/* a deep nest of message/rfc822 parts stops at the default depth */
	string_t *deep = t_str_new(4096);
	for (unsigned int i = 0; i < 300; i++)
		str_append(deep, "Content-Type: message/rfc822\n\n");
	str_append(deep, "body\n");
	pool_t pool = pool_create("test parts", 4096);
	struct mime_part *root = mime_parse(pool, str_data(deep), str_len(deep), NULL);
	test_assert(test_mime_check(root, str_data(deep), str_len(deep)) == NULL);
	test_assert(mime_part_count(root) == MIME_PARSER_DEFAULT_MAX_DEPTH + 1);
	struct mime_part *part = root;
	while (part->children != NULL)
		part = part->children;
	test_assert(part->depth == MIME_PARSER_DEFAULT_MAX_DEPTH && part->truncated);
	pool_destroy(&pool);
	test_end();
}

static void test_parser_content_values(void)
{
	static const char msg[] =
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed;\r\n boundary=\"=_b\"; foo=bar\r\n\r\n"
		"--=_b\r\n"
		"Content-Type: text/plain; charset=\"ISO-8859-1\"; format=flowed\r\n"
		"Content-Transfer-Encoding: Quoted-Printable\r\n"
		"Content-ID: <id1@x>  \r\n"
		"Content-Description: a\r\n  description\r\n"
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
		"Content-Disposition: attachment;\r\n filename*0*=utf-8''%E2%82%AC;\r\n filename*1=\" rate.txt\"\r\n"
		"Content-Language: en, de-CH\r\n"
		"Content-Location: http://example.com/x\r\n"
		"Content-Type: text/html\r\n"
		"\r\n"
		"caf=E9\r\n"
		"--=_b\r\n"
		"Content-Type: application/x-thing; name=a.bin\r\n"
		"Content-Transfer-Encoding: x-uuencode\r\n"
		"\r\n"
		"begin\r\n"
		"--=_b--\r\n";
	pool_t pool = pool_create("test parts", 4096);
	struct mime_part *root = mime_parse(pool, msg, sizeof(msg) - 1, NULL);
	struct mime_part *p1 = root->children, *p2 = p1->next;

	test_begin("parser content values");
	test_assert(root->is_mime && root->is_multipart && root->children_count == 2);
	test_assert_strcmp(mime_param_get(root->content_type.params,
					  root->content_type.params_count, "boundary"), "=_b");
	test_assert_strcmp(p1->content_type.type, "text");
	test_assert_strcmp(p1->content_type.subtype, "plain");
	test_assert(p1->is_text && !p1->content_type.defaulted);
	test_assert_strcmp(mime_part_get_charset(p1), "ISO-8859-1");
	test_assert_strcmp(p1->encoding_name, "Quoted-Printable");
	test_assert(p1->encoding == MIME_ENCODING_QUOTED_PRINTABLE);
	test_assert_strcmp(p1->content_id, "<id1@x>");
	test_assert_strcmp(p1->description, "a  description");
	test_assert_strcmp(p1->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	test_assert_strcmp(p1->location, "http://example.com/x");
	test_assert_strcmp(p1->disposition.type, "attachment");
	test_assert(p1->disposition.params_count == 1);
	test_assert_strcmp(p1->disposition.params[0].name, "filename");
	test_assert_strcmp(p1->disposition.params[0].value, "\xE2\x82\xAC rate.txt");
	test_assert(p1->languages != NULL);
	test_assert_strcmp(p1->languages[0], "en");
	test_assert_strcmp(p1->languages[1], "de-CH");
	test_assert(p1->languages[2] == NULL);
	test_assert(p2->encoding == MIME_ENCODING_UNKNOWN);
	test_assert_strcmp(p2->encoding_name, "x-uuencode");
	test_assert_strcmp(mime_param_get(p2->content_type.params,
					  p2->content_type.params_count, "name"), "a.bin");
	test_assert(!p2->is_text);
	pool_destroy(&pool);

	/* without MIME-Version or Content-Type the Content-* headers are
	   ignored (RFC 2045 §4) */
	static const char non_mime[] =
		"Content-Transfer-Encoding: base64\nContent-ID: <x>\n\nQUJD\n";
	pool = pool_create("test parts", 1024);
	root = mime_parse(pool, non_mime, sizeof(non_mime) - 1, NULL);
	test_assert(!root->is_mime && root->encoding == MIME_ENCODING_7BIT &&
		    root->encoding_name == NULL && root->content_id == NULL);
	test_assert(root->content_type.defaulted && root->is_text);
	test_assert_strcmp(mime_part_get_charset(root), "us-ascii");

	/* an invalid Content-Type is text/plain; charset=us-ascii */
	static const char invalid[] = "MIME-Version: 1.0\nContent-Type: text\n\nx";
	root = mime_parse(pool, invalid, sizeof(invalid) - 1, NULL);
	test_assert(root->is_mime && root->content_type.defaulted &&
		    root->content_type.invalid && root->is_text);
	test_assert_strcmp(root->content_type.params[0].value, "us-ascii");
	pool_destroy(&pool);
	test_end();
}

struct callback_ctx {
	string_t *log;
	buffer_t *bodies[8];
	struct mime_part *parts[8];
	unsigned int count;
};

static void test_header_cb(struct mime_part *part, const struct mime_header_field *field,
			   void *context)
{
	struct callback_ctx *ctx = context;

	if (field == NULL)
		str_printfa(ctx->log, "[end %u]", part->depth);
	else {
		str_printfa(ctx->log, "[%s@%llu+%llu]", field->name,
			    (unsigned long long)field->offset,
			    (unsigned long long)field->size);
	}
}

static void test_body_cb(struct mime_part *part, const unsigned char *data, size_t size,
			 void *context)
{
	struct callback_ctx *ctx = context;
	unsigned int i;

	for (i = 0; i < ctx->count; i++) {
		if (ctx->parts[i] == part)
			break;
	}
	if (i == ctx->count) {
		i_assert(ctx->count < N_ELEMENTS(ctx->parts));
		ctx->parts[i] = part;
		ctx->bodies[i] = t_str_new(64);
		ctx->count++;
	}
	buffer_append(ctx->bodies[i], data, size);
}

static void test_parser_callbacks(void)
{
	static const char msg[] =
		"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nX-A: 1\r\n\r\nline1\r\nline2\r\r\n\r\n--b\r\n\r\nno CR at end\r\r"
		"\n--b\r\nContent-Type: message/rfc822\r\n\r\nH: v\r\n\r\ninner\n\n--b--\r\n";

	test_begin("parser callbacks");
	for (size_t chunk = 0; chunk < 8; chunk++) {
		struct callback_ctx ctx = { .log = t_str_new(256) };
		pool_t pool = pool_create("test parts", 4096);
		struct mime_parser *parser = mime_parser_create(pool, NULL);

		mime_parser_set_header_callback(parser, test_header_cb, &ctx);
		mime_parser_set_body_callback(parser, test_body_cb, &ctx);
		test_mime_feed(parser, (const unsigned char *)msg, sizeof(msg) - 1,
			       chunk == 7 ? SIZE_MAX : chunk, (uint32_t)chunk);
		struct mime_part *root = mime_parser_finish(parser);
		mime_parser_destroy(&parser);

		test_assert_strcmp(str_c(ctx.log),
			"[Subject@0+12][Content-Type@12+43][end 0]"
			"[X-A@62+8][end 1][end 1]"
			"[Content-Type@116+30][end 1][H@148+6][end 2]");
		test_assert(ctx.count == 3);
		for (unsigned int i = 0; i < ctx.count; i++) {
			struct mime_part *part = ctx.parts[i];
			test_assert(part->children == NULL);
			test_assert(ctx.bodies[i]->used == part->body_size &&
				    memcmp(ctx.bodies[i]->data, msg + part->body_offset,
					   part->body_size) == 0);
		}
		/* the line break before a boundary is never body data */
		test_assert(ctx.count == 3 && ctx.bodies[0]->used == 15 &&
			    ctx.bodies[1]->used == 13 && ctx.bodies[2]->used == 6);
		test_assert(root->children->body_size == 15);
		pool_destroy(&pool);
	}
	test_end();
}

static void test_parser_nuls_and_8bit(void)
{
	static const char msg[] =
		"Subject: caf\xC3\xA9 \0nul\nContent-Type: multipart/mixed; boundary=b\n\n"
		"--b\n\nbin\0ary\n--b\n\nplain\n--b--\n";
	pool_t pool = pool_create("test parts", 4096);
	const char *desc = test_parse_all_ways(msg, sizeof(msg) - 1, NULL);
	struct mime_part *root = mime_parse(pool, msg, sizeof(msg) - 1, NULL);

	test_begin("parser NULs and 8-bit");
	test_assert(desc != NULL);
	test_assert(root->has_nuls && root->is_multipart);
	test_assert(root->children->has_nuls && !root->children->next->has_nuls);
	test_assert(root->children->body_size == 7);
	pool_destroy(&pool);
	test_end();
}

static void test_parser_huge_header(void)
{
	struct mime_parser_limits limits = { .max_header_size = 4096 };
	string_t *msg = t_str_new(300000);
	unsigned int i;

	str_append(msg, "Subject: ");
	for (i = 0; i < 100000; i++)
		str_append_c(msg, 'x');
	str_append(msg, "\nX-Folded: a\n");
	for (i = 0; i < 1000; i++)
		str_append(msg, " continued line\n");
	str_append(msg, "Content-Type: text/html\n\nbody\n");

	test_begin("parser huge header");
	const char *desc = test_parse_all_ways(str_c(msg), str_len(msg), &limits);
	pool_t pool = pool_create("test parts", 4096);
	struct mime_part *root = mime_parse(pool, str_data(msg), str_len(msg), &limits);
	test_assert(root->header_truncated);
	/* Content-Type came after the limit: the part stays text/plain */
	test_assert(mime_content_type_is(&root->content_type, "text", "plain"));
	test_assert(root->body_size == 5 && root->body_lines == 1);
	test_assert(root->header_size == str_len(msg) - 5);
	test_assert(desc != NULL);
	root = mime_parse(pool, str_data(msg), str_len(msg), NULL);
	test_assert(!root->header_truncated);
	test_assert(mime_content_type_is(&root->content_type, "text", "html"));
	pool_destroy(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_parser_structures,
		test_parser_limits,
		test_parser_content_values,
		test_parser_callbacks,
		test_parser_nuls_and_8bit,
		test_parser_huge_header,
		NULL
	};
	return test_run(tests);
}
