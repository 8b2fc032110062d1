/* Unit tests for mime-encoded-word.c (RFC 2047 words, RFC 2231 §4 values)
 * and mime-charset.c (iconv conversion, UTF-8 validation). */
#include "test-common.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"

static void test_encoded_word_decode(void)
{
	static const struct {
		const char *input, *output;
	} tests[] = {
		{ "plain text", "plain text" },
		{ "=?utf-8?q?caf=C3=A9?=", "caf\xC3\xA9" },
		{ "=?UTF-8?B?Y2Fmw6k=?=", "caf\xC3\xA9" },
		{ "=?utf-8?b?Y2Fmw6k?=", "caf\xC3\xA9" },
		{ "=?iso-8859-1?q?caf=E9?=", "caf\xC3\xA9" },
		{ "=?ISO-8859-1?Q?=80?=", "\xE2\x82\xAC" },
		{ "=?windows-1252?q?=93quoted=94?=", "\xE2\x80\x9Cquoted\xE2\x80\x9D" },
		{ "=?koi8-r?b?8NLJ18XU?=", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82" },
		{ "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
		  "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88" },
		{ "=?euc-jp?b?xvzL3Ljs?=", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" },
		{ "=?shift_jis?q?=83e=83X=83g?=", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88" },
		{ "a =?utf-8?q?b?= c", "a b c" },
		{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
		{ "=?utf-8?q?a?=\t \t=?utf-8?q?b?=", "ab" },
		{ "=?utf-8?q?a?=  x  =?utf-8?q?b?=", "a  x  b" },
		{ "=?utf-8?q?a_b?=", "a b" },
		{ "=?utf-8?q?a b?=", "a b" },
		{ "=?utf-8?q?=3F?=", "?" },
		{ "=?utf-8*en?q?hi?=", "hi" },
		{ "=?utf-8*en-US?B?aGk=?=", "hi" },
		/* a character split over two words survives */
		{ "=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "\xC3\xA9" },
		{ "=?utf-8?q?=C3?= =?UTF-8?Q?=A9?=", "\xC3\xA9" },
		{ "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xC3\xA9\xC3\xA9" },
		{ "foo=?utf-8?q?bar?=baz", "foobarbaz" },
		/* malformed words stay */
		{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
		{ "=?utf-8?q?abc", "=?utf-8?q?abc" },
		{ "=??q?a?=", "=??q?a?=" },
		{ "=?utf-8?q?a?b?=", "=?utf-8?q?a?b?=" },
		{ "=?utf 8?q?a?=", "=?utf 8?q?a?=" },
		{ "=?", "=?" },
		{ "=?utf-8?q?bad=ZZ?=", "bad=ZZ" },
		{ "=?utf-8?b?!!!?=", "" },
		/* unknown charsets and invalid bytes become U+FFFD */
		{ "=?x-unknown?q?abc=E9?=", "abc\xEF\xBF\xBD" },
		{ "=?utf-8?q?=FF?=", "\xEF\xBF\xBD" },
		{ "caf\xC3\xA9", "caf\xC3\xA9" },
		{ "caf\xE9", "caf\xEF\xBF\xBD" },
		{ "=?utf-8?q?x?= raw \xE9 =?utf-8?q?y?=", "x raw \xEF\xBF\xBD y" },
		{ "=?us-ascii?q?caf=C3=A9?=", "caf\xC3\xA9" },
	};

	test_begin("encoded word decode");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(64);
		mime_encoded_word_decode(tests[i].input, strlen(tests[i].input), str);
		test_assert_strcmp(str_c(str), tests[i].output);
		test_assert(charset_utf8_is_valid(str_data(str), str_len(str)));
		/* decoding cannot depend on what follows the input */
		char *copy = i_malloc(strlen(tests[i].input) + 1);
		memcpy(copy, tests[i].input, strlen(tests[i].input));
		str_truncate(str, 0);
		mime_encoded_word_decode(copy, strlen(tests[i].input), str);
		test_assert_strcmp(str_c(str), tests[i].output);
		free(copy);
	}
	test_assert(mime_encoded_word_has_words("x =?a?q?b?= y", 13));
	test_assert(!mime_encoded_word_has_words("x =?a?q?b? y", 12));
	test_assert(!mime_encoded_word_has_words("", 0));
	test_end();
}

static void test_q_and_percent(void)
{
	buffer_t *buf = t_str_new(64);

	test_begin("Q and percent decoding");
	mime_encoded_word_q_decode("a=3Db_c=zz=4", 12, buf);
	test_assert_strcmp(str_c(buf), "a=b c=zz=4");
	str_truncate(buf, 0);
	mime_rfc2231_percent_decode("%E2%82%ACx%2%zz_%41", 19, buf);
	test_assert_strcmp(str_c(buf), "\xE2\x82\xACx%2%zz_A");

	const char *charset, *language, *text;
	test_assert(mime_rfc2231_split(t_pool(), "utf-8'en'%E2%82%AC", &charset,
				       &language, &text) == 0);
	test_assert_strcmp(charset, "utf-8");
	test_assert_strcmp(language, "en");
	test_assert_strcmp(text, "%E2%82%AC");
	test_assert(mime_rfc2231_split(t_pool(), "''x", &charset, &language, &text) == 0);
	test_assert_strcmp(charset, "");
	test_assert_strcmp(text, "x");
	test_assert(mime_rfc2231_split(t_pool(), "utf-8'x", &charset, &language, &text) < 0);

	str_truncate(buf, 0);
	test_assert(mime_rfc2231_to_utf8("iso-8859-1", "\xE9", 1, buf) == 0);
	test_assert_strcmp(str_c(buf), "\xC3\xA9");
	str_truncate(buf, 0);
	test_assert(mime_rfc2231_to_utf8("", "a\xE9", 2, buf) == 0);
	test_assert_strcmp(str_c(buf), "a\xEF\xBF\xBD");
	str_truncate(buf, 0);
	test_assert(mime_rfc2231_to_utf8("nonexistent-charset", "ab", 2, buf) < 0);
	test_assert_strcmp(str_c(buf), "ab");
	test_end();
}

static void test_charset(void)
{
	string_t *str = t_str_new(64);

	test_begin("charset conversion");
	test_assert(charset_is_utf8("UTF-8") && charset_is_utf8("us-ascii") &&
		    charset_is_utf8("utf8") && !charset_is_utf8("latin1"));
	test_assert(charset_is_known("iso-8859-15") && charset_is_known("Big5") &&
		    charset_is_known("utf-8") && !charset_is_known("x-no-such") &&
		    !charset_is_known("utf-8//translit") && !charset_is_known(""));
	test_assert(charset_to_utf8("ISO-8859-15", "\xA4", 1, str) == 0);
	test_assert_strcmp(str_c(str), "\xE2\x82\xAC");
	str_truncate(str, 0);
	test_assert(charset_to_utf8("x-no-such", "a\xFF" "b", 3, str) < 0);
	test_assert_strcmp(str_c(str), "a\xEF\xBF\xBD" "b");
	/* invalid input: each bad sequence is one U+FFFD, and conversion
	   goes on after it */
	str_truncate(str, 0);
	test_assert(charset_to_utf8("shift_jis", "a\x83", 2, str) == 0);
	test_assert_strcmp(str_c(str), "a\xEF\xBF\xBD");
	str_truncate(str, 0);
	test_assert(charset_to_utf8("utf-16le", "a\0\0\xD8" "b\0", 6, str) == 0);
	test_assert(strncmp(str_c(str), "a", 1) == 0 &&
		    strstr(str_c(str), "\xEF\xBF\xBD") != NULL &&
		    charset_utf8_is_valid(str_data(str), str_len(str)));
	/* long input goes through the 4 KiB output buffer in rounds */
	string_t *big = t_str_new(20000), *out = t_str_new(40000);
	for (unsigned int i = 0; i < 10000; i++)
		str_append_c(big, '\xE9');
	test_assert(charset_to_utf8("latin1", str_data(big), str_len(big), out) == 0);
	test_assert(str_len(out) == 20000);
	charset_deinit();
	test_end();
}

static void test_utf8_validation(void)
{
	static const struct {
		const char *input;
		size_t len;
		const char *output;
		size_t output_len;
	} tests[] = {
		{ "abc", 3, "abc", 3 },
		{ "a\0b", 3, "a\0b", 3 },
		{ "\xC3\xA9", 2, "\xC3\xA9", 2 },
		{ "\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80", 4 },
		{ "\xF4\x8F\xBF\xBF", 4, "\xF4\x8F\xBF\xBF", 4 },
		/* overlong, surrogate, past U+10FFFF: each byte replaced */
		{ "\xC0\x80", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6 },
		{ "\xE0\x80\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 9 },
		{ "\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 9 },
		{ "\xF4\x90\x80\x80", 4,
		  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 12 },
		/* a truncated sequence is one replacement (maximal subpart) */
		{ "\xE2\x82", 2, "\xEF\xBF\xBD", 3 },
		{ "\xE2\x82x", 3, "\xEF\xBF\xBDx", 4 },
		{ "\xF0\x9F\x98", 3, "\xEF\xBF\xBD", 3 },
		{ "\x80\xBF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6 },
		{ "\xFF\xFE", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6 },
	};

	test_begin("UTF-8 validation");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(32);
		bool valid = tests[i].len == tests[i].output_len &&
			memcmp(tests[i].input, tests[i].output, tests[i].len) == 0;

		charset_utf8_append_valid(str, tests[i].input, tests[i].len);
		test_assert(str_len(str) == tests[i].output_len &&
			    memcmp(str_data(str), tests[i].output, tests[i].output_len) == 0);
		test_assert(charset_utf8_is_valid(tests[i].input, tests[i].len) == valid);
		test_assert(charset_utf8_is_valid(str_data(str), str_len(str)));
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_encoded_word_decode,
		test_q_and_percent,
		test_charset,
		test_utf8_validation,
		NULL
	};
	int ret = test_run(tests);
	charset_deinit();
	return ret;
}
