/* Unit tests for mime-content-type.c: Content-Type (RFC 2045 §5) with its
 * defaults (RFC 2045 §5.2, RFC 2046 §5.1.5), parameters with RFC 2231
 * continuations and charsets, Content-Disposition, Content-Transfer-
 * Encoding and Content-Language values. */
#include "test-common.h"
#include "mime-content-type.h"

/* "type/subtype" then ";name=value" per parameter, "[charset'lang]" after
   an extended one; "!default" / "!invalid" flags. */
static const char *test_describe_ct(const struct mime_content_type *ct)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "%s/%s", ct->type, ct->subtype);
	for (unsigned int i = 0; i < ct->params_count; i++) {
		const struct mime_param *p = &ct->params[i];
		str_printfa(str, ";%s=%s", p->name, p->value);
		if (p->extended)
			str_printfa(str, "[%s'%s]", p->charset, p->language);
	}
	if (ct->defaulted)
		str_append(str, "!default");
	if (ct->invalid)
		str_append(str, "!invalid");
	return str_c(str);
}

static const char *test_parse_ct(const char *input, bool in_digest)
{
	struct mime_content_type ct;
	size_t len = strlen(input);
	/* no NUL after the value, so that over-reads show under ASan */
	char *copy = i_malloc(len + 1);

	memcpy(copy, input, len);
	(void)mime_content_type_parse(t_pool(), copy, len, in_digest, &ct);
	const char *result = test_describe_ct(&ct);
	free(copy);
	return result;
}

static void test_content_type(void)
{
	static const struct {
		const char *input, *output;
	} tests[] = {
		{ "text/plain", "text/plain" },
		{ "TEXT/Plain; charset=\"UTF-8\"", "TEXT/Plain;charset=UTF-8" },
		{ " text / html ; charset = utf-8 (Plain text)", "text/html;charset=utf-8" },
		{ "(comment) text/plain", "text/plain" },
		{ "text/plain;\r\n\tcharset=us-ascii;\r\n format=flowed",
		  "text/plain;charset=us-ascii;format=flowed" },
		{ "multipart/mixed; boundary=----=_Part_0_123.456",
		  "multipart/mixed;boundary=----=_Part_0_123.456" },
		{ "multipart/mixed; boundary=\"simple boundary\"",
		  "multipart/mixed;boundary=simple boundary" },
		{ "text/plain; name==?utf-8?b?Zm9v?=", "text/plain;name==?utf-8?b?Zm9v?=" },
		{ "text/plain; name=\"a \\\"q\\\" b\"", "text/plain;name=a \"q\" b" },
		{ "application/vnd.ms-excel", "application/vnd.ms-excel" },
		{ "text/plain;", "text/plain" },
		{ "text/plain;;charset=x", "text/plain;charset=x" },
		{ "text/plain; charset", "text/plain" },
		{ "text/plain; charset=", "text/plain;charset=" },
		{ "text/plain; a=1; A=2", "text/plain;a=1" },
		{ "text/plain; name=\"unterminated", "text/plain;name=unterminated" },
		{ "text/plain; junk here; charset=x", "text/plain;charset=x" },
		{ "text/plain; =x; charset=y", "text/plain;charset=y" },
		{ "text/plain; name=caf\xC3\xA9.txt", "text/plain;name=caf\xC3\xA9.txt" },
		/* invalid: the default */
		{ "text", "text/plain;charset=us-ascii!default!invalid" },
		{ "", "text/plain;charset=us-ascii!default!invalid" },
		{ "text/", "text/plain;charset=us-ascii!default!invalid" },
		{ "/plain", "text/plain;charset=us-ascii!default!invalid" },
		{ "text/plain garbage", "text/plain;charset=us-ascii!default!invalid" },
		{ "text/plain charset=utf-8", "text/plain;charset=us-ascii!default!invalid" },
		{ "text/pl\"ain", "text/plain;charset=us-ascii!default!invalid" },
		{ "(unterminated", "text/plain;charset=us-ascii!default!invalid" },
		/* RFC 2231 */
		{ "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
		  "application/x-stuff;title=This is ***fun***[us-ascii'en-us]" },
		{ "message/external-body; access-type=URL; URL*0=\"ftp://\";\r\n"
		  " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
		  "message/external-body;access-type=URL;"
		  "URL=ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar" },
		{ "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20;"
		  " title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
		  "application/x-stuff;title=This is even more ***fun*** isn't it![us-ascii'en]" },
		{ "x/y; n*1=b; n*0=a", "x/y;n=ab" },
		{ "x/y; n*0=a; n*2=c", "x/y;n*0=a;n*2=c" },
		{ "x/y; n*1=b", "x/y;n*1=b" },
		{ "x/y; n*0=a; n*=utf-8''b; n*1=c", "x/y;n=b[utf-8']" },
		{ "x/y; n=plain; n*0=a", "x/y;n=plain" },
		{ "x/y; N*0=a; n*1=b", "x/y;N=ab" },
		{ "x/y; f*0*=utf-8''%E2%82; f*1*=%AC.txt", "x/y;f=\xE2\x82\xAC.txt[utf-8']" },
		{ "x/y; f*=iso-8859-1''caf%E9", "x/y;f=caf\xC3\xA9[iso-8859-1']" },
		{ "x/y; f*=x-foo''a%FFb", "x/y;f=a\xEF\xBF\xBD" "b[x-foo']" },
		{ "x/y; f*=plain", "x/y;f=plain" },
		{ "x/y; f*0=a%20; f*1*=b%20c", "x/y;f=a%20b c[']" },
		{ "x/y; f*=''%41%zz", "x/y;f=A%zz[']" },
		{ "x/y; n*00=a", "x/y;n=a" },
		{ "x/y; n*a=b", "x/y;n*a=b" },
		{ "x/y; n**=b", "x/y;n**=b" },
	};

	test_begin("content type");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = test_parse_ct(tests[i].input, false);
		if (strcmp(got, tests[i].output) != 0)
			printf("  input: %s\n", tests[i].input);
		test_assert_strcmp(got, tests[i].output);
	}
	test_end();
}

static void test_content_type_defaults(void)
{
	struct mime_content_type ct;

	test_begin("content type defaults");
	test_assert(mime_content_type_parse(t_pool(), NULL, 0, false, &ct) < 0);
	test_assert_strcmp(test_describe_ct(&ct), "text/plain;charset=us-ascii!default");
	test_assert(mime_content_type_parse(t_pool(), NULL, 0, true, &ct) < 0);
	test_assert_strcmp(test_describe_ct(&ct), "message/rfc822!default");
	test_assert_strcmp(test_parse_ct("bad", true), "message/rfc822!default!invalid");
	test_assert_strcmp(test_parse_ct("text/html", true), "text/html");
	test_assert(mime_content_type_parse(t_pool(), "Multipart/Digest", 16, false, &ct) == 0);
	test_assert(mime_content_type_is(&ct, "multipart", "digest") &&
		    mime_content_type_is(&ct, "MULTIPART", NULL) &&
		    !mime_content_type_is(&ct, "multipart", "mixed"));

	/* the extended value keeps its RFC 2231 form in raw_value */
	test_assert(mime_content_type_parse(t_pool(), "a/b; f*0*=utf-8'de'%E2%82; f*1=\" x\"",
					    36, false, &ct) == 0);
	test_assert(ct.params_count == 1);
	test_assert_strcmp(ct.params[0].raw_value, "utf-8'de'%E2%82%20x");
	test_assert_strcmp(ct.params[0].language, "de");
	test_assert_strcmp(mime_param_get(ct.params, ct.params_count, "F"), "\xEF\xBF\xBD x");

	/* parameter count is bounded */
	string_t *many = t_str_new(8192);
	str_append(many, "a/b");
	for (unsigned int i = 0; i < 500; i++)
		str_printfa(many, "; p%u=%u", i, i);
	test_assert(mime_content_type_parse(t_pool(), str_data(many), str_len(many),
					    false, &ct) == 0);
	test_assert(ct.params_count == MIME_PARAMS_MAX);
	test_end();
}

static void test_content_disposition(void)
{
	static const struct {
		const char *input, *output;
	} tests[] = {
		{ "attachment; filename=\"a b.pdf\"", "attachment;filename=a b.pdf" },
		{ "inline", "inline" },
		{ "INLINE ; size=123", "INLINE;size=123" },
		{ "attachment filename=x.pdf", "attachment" },
		{ "attachment;\r\n filename*=UTF-8''%E2%82%AC.pdf",
		  "attachment;filename=\xE2\x82\xAC.pdf" },
		{ "", "(null)" },
		{ "; filename=x", "(null)" },
	};

	test_begin("content disposition");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct mime_content_disposition cd;
		string_t *str = t_str_new(64);
		int ret = mime_content_disposition_parse(t_pool(), tests[i].input,
							 strlen(tests[i].input), &cd);
		test_assert((ret == 0) == (cd.type != NULL));
		str_append(str, cd.type == NULL ? "(null)" : cd.type);
		for (unsigned int j = 0; j < cd.params_count; j++)
			str_printfa(str, ";%s=%s", cd.params[j].name, cd.params[j].value);
		test_assert_strcmp(str_c(str), tests[i].output);
	}
	test_end();
}

static void test_small_values(void)
{
	static const struct {
		const char *input, *output;
	} cte_tests[] = {
		{ "base64", "base64" },
		{ " Base64 ", "Base64" },
		{ "quoted-printable (comment)", "quoted-printable" },
		{ "8bit\r\n ", "8bit" },
		{ "base64 x", NULL },
		{ "", NULL },
		{ "\"base64\"", NULL },
	};

	test_begin("transfer encoding and language values");
	for (unsigned int i = 0; i < N_ELEMENTS(cte_tests); i++) {
		const char *got = mime_content_transfer_encoding_parse(
			t_pool(), cte_tests[i].input, strlen(cte_tests[i].input));
		test_assert_strcmp(got, cte_tests[i].output);
	}
	const char *const *langs = mime_content_language_parse(t_pool(), "en, de-CH", 9);
	test_assert(langs != NULL);
	test_assert_strcmp(langs[0], "en");
	test_assert_strcmp(langs[1], "de-CH");
	test_assert(langs[2] == NULL);
	langs = mime_content_language_parse(t_pool(), " en (English)", 13);
	test_assert(langs != NULL && langs[1] == NULL);
	test_assert_strcmp(langs[0], "en");
	test_assert(mime_content_language_parse(t_pool(), "", 0) == NULL);
	test_assert(mime_content_language_parse(t_pool(), ",", 1) == NULL);
	string_t *many = t_str_new(1024);
	for (unsigned int i = 0; i < 100; i++)
		str_append(many, "en,");
	langs = mime_content_language_parse(t_pool(), str_data(many), str_len(many));
	unsigned int count = 0;
	while (langs[count] != NULL)
		count++;
	test_assert(count == 64);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_content_type,
		test_content_type_defaults,
		test_content_disposition,
		test_small_values,
		NULL
	};
	return test_run(tests);
}
