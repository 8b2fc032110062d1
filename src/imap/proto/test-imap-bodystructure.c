/* Unit tests for BODY/BODYSTRUCTURE: leaves, multiparts, message/rfc822
 * with envelope, extension data, placeholders, and the same structure
 * whether the message is fed whole or one byte at a time. Expected
 * strings were checked against Dovecot 2.3. */
#include "test-common.h"
#include "imap-bodystructure.h"

static const char *structure_of(const char *msg, bool extended)
{
	pool_t pool = pool_create("test bodystructure", 4096);
	struct imap_structure *s = imap_structure_parse(pool, msg, strlen(msg), NULL);
	string_t *str = t_str_new(512);

	imap_bodystructure_write(s, s->root, extended, str);
	pool_destroy(&pool);
	return str_c(str);
}

static const struct {
	const char *msg, *body, *bodystructure;
} tests[] = {
	{ "Subject: x\r\n\r\nhello\r\nworld\r\n",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL" },
	/* bare LFs count as CRLF in sizes */
	{ "Subject: x\n\nhello\nworld\n",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL" },
	{ "MIME-Version: 1.0\r\nContent-Type: image/png; name=a.png\r\n"
	  "Content-Transfer-Encoding: base64\r\nContent-ID: <id@x>\r\n"
	  "Content-Description: desc\r\nContent-MD5: abc=\r\n"
	  "Content-Disposition: attachment; filename=\"a.png\"\r\n"
	  "Content-Language: en, de\r\nContent-Location: http://x/a.png\r\n\r\nAAAA\r\n",
	  "\"image\" \"png\" (\"name\" \"a.png\") \"<id@x>\" \"desc\" \"base64\" 6",
	  "\"image\" \"png\" (\"name\" \"a.png\") \"<id@x>\" \"desc\" \"base64\" 6 \"abc=\" "
	  "(\"attachment\" (\"filename\" \"a.png\")) (\"en\" \"de\") \"http://x/a.png\"" },
	{ "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain; charset=utf-8\n\nhi\n"
	  "--b\nContent-Type: message/rfc822\n\nSubject: inner\nFrom: a@b\n\nbody\n--b--\n",
	  "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 0)"
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 33 (NIL \"inner\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	  "\"7bit\" 4 0) 3) \"mixed\"",
	  "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 0 NIL NIL NIL NIL)"
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 33 (NIL \"inner\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	  "\"7bit\" 4 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") "
	  "NIL NIL NIL" },
	/* a multipart without its boundary gets a placeholder part */
	{ "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nno parts\n",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\"",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
	  "\"mixed\" NIL NIL NIL NIL" },
};

static void test_imap_bodystructure_write(void)
{
	test_begin("imap_bodystructure_write");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		test_assert_strcmp(structure_of(tests[i].msg, false), tests[i].body);
		test_assert_strcmp(structure_of(tests[i].msg, true), tests[i].bodystructure);
	}
	test_end();
}

static void test_imap_bodystructure_byte_at_a_time(void)
{
	test_begin("imap_bodystructure byte at a time");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		pool_t pool = pool_create("test bodystructure", 4096);
		struct imap_structure_parser *parser =
			imap_structure_parser_create(pool, NULL, false);
		for (const char *p = tests[i].msg; *p != '\0'; p++)
			imap_structure_parser_feed(parser, p, 1);
		struct imap_structure *s = imap_structure_parser_finish(parser);
		string_t *str = t_str_new(512);
		imap_bodystructure_write(s, s->root, true, str);
		test_assert_strcmp(str_c(str), tests[i].bodystructure);
		imap_structure_parser_destroy(&parser);
		pool_destroy(&pool);
	}
	test_end();
}

int main(void)
{
	static void (*const tests_run[])(void) = {
		test_imap_bodystructure_write,
		test_imap_bodystructure_byte_at_a_time,
		NULL
	};
	return test_run(tests_run);
}
