/* Unit tests for search-text.c: which parts of a message become searchable
 * text and in what form - decoded headers, fields, text parts in their
 * charsets and encodings, embedded messages, binary parts left out, the
 * size bound, and chunked feeding giving the same result. */
#include "test-common.h"
#include "search-text.h"

static const char msg_multi[] =
	"From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <jm@example.org>\r\n"
	"To: a@example.com, b@example.com\r\n"
	"Subject: =?utf-8?q?ab?= =?utf-8?q?cd?= Report\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"xx\"\r\n"
	"\r\n"
	"preamble words\r\n"
	"--xx\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Gr=FC=DFe, the invo=\r\n"
	"ice is here\r\n"
	"--xx\r\n"
	"Content-Type: application/pdf\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"c2VjcmV0YmluYXJ5\r\n"
	"--xx\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner subject\r\n"
	"\r\n"
	"inner body\r\n"
	"--xx\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"PGI+eHlsb2dyYXBoPC9iPg==\r\n"
	"--xx--\r\n"
	"epilogue words\r\n";

static bool has(const string_t *s, const char *needle)
{
	return strstr(str_c((string_t *)s), needle) != NULL;
}

static void test_text_parts(void)
{
	test_begin("text parts");
	pool_t pool = pool_create("test", 1024);
	struct search_text *t = search_text_build(pool, msg_multi, sizeof(msg_multi) - 1, 0);
	test_assert(has(t->fields[SEARCH_TEXT_FROM], "J\xC3\x9C" "RGEN M\xC3\x9C" "LLER") ||
		    has(t->fields[SEARCH_TEXT_FROM], "JU\xCC\x88RGEN MU\xCC\x88LLER"));
	test_assert(has(t->fields[SEARCH_TEXT_SUBJECT], "ABCD REPORT"));
	test_assert(has(t->header, "SUBJECT: ABCD REPORT\n"));
	test_assert(has(t->header, "TO: A@EXAMPLE.COM, B@EXAMPLE.COM\n"));
	test_assert(has(t->body, "THE INVOICE IS HERE"));
	test_assert(has(t->body, "GR\xC3\x9C\xC3\x9F" "E") || has(t->body, "GRU\xCC\x88"));
	test_assert(has(t->body, "SUBJECT: INNER SUBJECT\n"));
	test_assert(has(t->body, "INNER BODY"));
	test_assert(has(t->body, "<B>XYLOGRAPH</B>"));
	test_assert(!has(t->body, "SECRETBINARY"));
	test_assert(!has(t->body, "C2VJCMV0"));
	test_assert(!has(t->body, "PREAMBLE"));
	test_assert(!has(t->body, "EPILOGUE"));
	test_assert(!has(t->body, "\r"));
	test_assert_strcmp(t->message_id, "<m1@example.org>");
	test_assert_strcmp(t->subject, "abcd Report");
	test_assert_strcmp(t->date, "Mon, 7 Feb 1994 21:52:25 -0800");
	test_assert(!t->truncated);
	pool_destroy(&pool);
	test_end();
}

static void test_text_chunked(void)
{
	test_begin("chunked feeding");
	pool_t pool = pool_create("test", 1024);
	struct search_text *whole = search_text_build(pool, msg_multi, sizeof(msg_multi) - 1, 0);
	for (size_t chunk = 1; chunk < 40; chunk += 3) {
		struct search_text_builder *b = search_text_builder_create(pool, 0);
		for (size_t i = 0; i < sizeof(msg_multi) - 1; i += chunk) {
			size_t n = sizeof(msg_multi) - 1 - i < chunk ? sizeof(msg_multi) - 1 - i : chunk;
			search_text_builder_feed(b, msg_multi + i, n);
		}
		struct search_text *t = search_text_builder_finish(b);
		test_assert_strcmp(str_c(t->body), str_c(whole->body));
		test_assert_strcmp(str_c(t->header), str_c(whole->header));
		search_text_builder_destroy(&b);
	}
	pool_destroy(&pool);
	test_end();
}

static void test_text_plain_and_limits(void)
{
	test_begin("plain message, limits");
	pool_t pool = pool_create("test", 1024);
	const char plain[] = "Subject: hi\nX-Weird: a =?bogus?q?x?= b\n\nline1\r\nline2\n";
	struct search_text *t = search_text_build(pool, plain, sizeof(plain) - 1, 0);
	test_assert_strcmp(str_c(t->body), "LINE1\nLINE2\n");
	test_assert(has(t->header, "X-WEIRD: A"));
	/* no header at all */
	t = search_text_build(pool, "\r\nbody only", 11, 0);
	test_assert_strcmp(str_c(t->body), "BODY ONLY");
	test_assert_strcmp(str_c(t->header), "");
	/* the bound: text is cut and flagged */
	string_t *big = t_str_new(100000);
	str_append(big, "Subject: x\r\n\r\n");
	for (int i = 0; i < 10000; i++)
		str_append(big, "abcdefghi\n");
	t = search_text_build(pool, str_data(big), str_len(big), 5000);
	test_assert(t->truncated);
	test_assert(str_len(t->header) + str_len(t->body) <= 5000);
	/* an encoded word that decodes to a line break stays on one line */
	const char nl[] = "Subject: =?utf-8?q?a=0Ab?=\r\n\r\n";
	t = search_text_build(pool, nl, sizeof(nl) - 1, 0);
	test_assert_strcmp(str_c(t->fields[SEARCH_TEXT_SUBJECT]), "A B\n");
	pool_destroy(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_text_parts, test_text_chunked, test_text_plain_and_limits, NULL,
	};
	return test_run(tests);
}
