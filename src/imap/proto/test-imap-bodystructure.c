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

static const struct {
	const char *msg, *bodystructure;
} more_tests[] = {
	/* RFC 2231 extended values keep their encoded form under "name*";
	   text parts get the default charset after their own parameters */
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain; format=flowed\r\n"
	  "Content-Disposition: attachment; filename*=utf-8''caf%C3%A9.txt\r\n\r\nx",
	  "\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL "
	  "\"7bit\" 1 0 NIL (\"attachment\" (\"filename*\" \"utf-8''caf%C3%A9.txt\")) NIL NIL" },
	/* a disposition without parameters; 8-bit values become literals */
	{ "MIME-Version: 1.0\nContent-Type: image/gif\nContent-Disposition: inline\n"
	  "Content-Description: caf\xc3\xa9\n\nGIF",
	  "\"image\" \"gif\" NIL NIL {5}\r\ncaf\xc3\xa9 \"7bit\" 3 NIL (\"inline\" NIL) NIL NIL" },
	/* without MIME-Version or Content-Type the Content-* fields mean
	   nothing (RFC 2045 §4) */
	{ "Content-Transfer-Encoding: base64\nContent-ID: <x>\n\nAAAA\n",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL" },
	/* message/global is a message (RFC 9051 §9 media-message) */
	{ "MIME-Version: 1.0\nContent-Type: message/global\n\nSubject: s\n\nb\n",
	  "\"message\" \"global\" NIL NIL NIL \"7bit\" 17 (NIL \"s\" NIL NIL NIL NIL NIL NIL "
	  "NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL "
	  "NIL NIL) 3 NIL NIL NIL NIL" },
	/* an invalid Content-Type is the default (RFC 2045 §5.2) */
	{ "MIME-Version: 1.0\nContent-Type: invalid\n\nx",
	  "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL" },
};

static void test_imap_bodystructure_more(void)
{
	test_begin("imap_bodystructure parameters, dispositions, defaults");
	for (unsigned int i = 0; i < N_ELEMENTS(more_tests); i++)
		test_assert_strcmp(structure_of(more_tests[i].msg, true), more_tests[i].bodystructure);
	test_end();
}

/* Past the depth limit a multipart is an opaque leaf; its parameters
   stay. */
static void test_imap_bodystructure_opaque(void)
{
	static const char msg[] =
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=a\n\n"
		"--a\nContent-Type: multipart/alternative; boundary=b\n\n"
		"--b\n\ninner\n--b--\n--a--\n";
	static const struct mime_parser_limits limits = { .max_depth = 1 };
	pool_t pool = pool_create("test bodystructure", 4096);
	struct imap_structure *s = imap_structure_parse(pool, msg, strlen(msg), &limits);
	string_t *str = t_str_new(256);

	test_begin("imap_bodystructure opaque part past the depth limit");
	imap_bodystructure_write(s, s->root, true, str);
	test_assert_strcmp(str_c(str),
		"(\"application\" \"octet-stream\" (\"boundary\" \"b\") NIL NIL \"7bit\" 19 "
		"NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"a\") NIL NIL NIL");
	pool_destroy(&pool);
	test_end();
}

/* The envelopes of message parts are found by part. */
static void test_imap_structure_envelopes(void)
{
	static const char msg[] =
		"Subject: outer\nMIME-Version: 1.0\nContent-Type: multipart/digest; boundary=d\n\n"
		"--d\n\nSubject: one\n\n1\n--d\n\nSubject: two\n\n2\n--d--\n";
	pool_t pool = pool_create("test bodystructure", 4096);
	struct imap_structure *s = imap_structure_parse(pool, msg, strlen(msg), NULL);
	const struct mime_part *one = s->root->children, *two = one->next;

	test_begin("imap_structure envelopes");
	test_assert_strcmp(imap_structure_get_envelope(s, s->root)->subject, "outer");
	test_assert_strcmp(imap_structure_get_envelope(s, one->children)->subject, "one");
	test_assert_strcmp(imap_structure_get_envelope(s, two->children)->subject, "two");
	test_assert(imap_structure_get_envelope(s, one) == NULL);
	pool_destroy(&pool);
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
		test_imap_bodystructure_more,
		test_imap_bodystructure_opaque,
		test_imap_structure_envelopes,
		test_imap_bodystructure_byte_at_a_time,
		NULL
	};
	return test_run(tests_run);
}
