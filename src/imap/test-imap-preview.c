/* Unit tests of the preview builder (RFC 8970): part choice, decoding,
 * HTML to text, quoted lines, whitespace and the 200-character cut, each
 * message fed whole and one byte at a time. */
#include "test-common.h"
#include "imap-preview.h"

struct preview_case {
	const char *message;
	const char *preview;
};

static const struct preview_case preview_cases[] = {
	{ "Subject: x\n\nHello   world\n\n", "Hello world" },
	{ "Subject: x\r\n\r\n", "" },
	{ "", "" },
	{ "Subject: no body", "" },
	{ "Content-Type: text/plain; charset=iso-8859-1\n"
	  "Content-Transfer-Encoding: quoted-printable\nMIME-Version: 1.0\n\n"
	  "Gr=FC=DFe, caf=\n=E9\n", "Gr\xc3\xbc\xc3\x9f" "e, caf\xc3\xa9" },
	{ "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
	  "SGVsbG8g\nd29ybGQ=\n", "Hello world" },
	{ "MIME-Version: 1.0\nContent-Type: text/html\n\n"
	  "<html><head><style>x{}</style></head><body><p>A&amp;B</p><br/>"
	  "<script>no</script>&#x41;&#66;<!-- c --></body></html>", "A&B AB" },
	{ "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n"
	  "--b\nContent-Type: text/html\n\n<b>html</b>\n--b\nContent-Type: text/plain\n\n"
	  "plain\n--b--\n", "plain" },
	{ "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\nContent-Disposition: attachment\n\nattached\n"
	  "--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner text\n--b--\n", "" },
	{ "Subject: q\n\nreply\n> quoted\n  > more\nend\n", "reply end" },
	{ "Subject: q\n\n> all quoted\n", "> all quoted" },
	{ "Subject: c\n\na\x01\x7f" "b\xc2\xa0" "c\xe2\x80\x83" "d\n", "a b c d" },
	{ "MIME-Version: 1.0\nContent-Type: text/html\n\n&unknown; &#0; &#xD800; &lt", "&unknown; \xef\xbf\xbd \xef\xbf\xbd &lt" },
};

static void test_preview_cases(void)
{
	test_begin("preview cases");
	for (unsigned int i = 0; i < N_ELEMENTS(preview_cases); i++) {
		const struct preview_case *c = &preview_cases[i];
		pool_t pool = pool_create("test", 1024);
		test_assert_strcmp(imap_preview_build(pool, c->message, strlen(c->message)),
				   c->preview);
		struct imap_preview_builder *b = imap_preview_builder_create();
		for (size_t j = 0; c->message[j] != '\0'; j++)
			imap_preview_builder_feed(b, c->message + j, 1);
		test_assert_strcmp(imap_preview_builder_finish(b, pool), c->preview);
		imap_preview_builder_destroy(&b);
		pool_destroy(&pool);
	}
	test_end();
}

static void test_preview_cut(void)
{
	test_begin("preview cut at 200 characters");
	string_t *text = t_str_new(2048);
	for (unsigned int i = 0; i < 300; i++)
		str_append(text, "\xe2\x82\xac ");
	string_t *out = t_str_new(1024);
	imap_preview_from_text(out, str_c(text), str_len(text), false);
	/* 100 euro signs and the 99 spaces between them, then no room for
	   a space and another sign */
	test_assert(str_len(out) == 100 * 3 + 99);
	str_truncate(out, 0);
	imap_preview_from_text(out, "x", 1, true);
	test_assert_strcmp(str_c(out), "x");
	test_end();
}

static void test_preview_done_early(void)
{
	test_begin("preview done after the first text/plain");
	const char *msg = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain\n\nfirst\n--b\nContent-Type: text/plain\n\nsecond\n";
	struct imap_preview_builder *b = imap_preview_builder_create();
	imap_preview_builder_feed(b, msg, strlen(msg));
	test_assert(imap_preview_builder_is_done(b));
	pool_t pool = pool_create("test", 1024);
	test_assert_strcmp(imap_preview_builder_finish(b, pool), "first");
	imap_preview_builder_destroy(&b);
	pool_destroy(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_preview_cases, test_preview_cut, test_preview_done_early, NULL
	};
	return test_run(tests);
}
