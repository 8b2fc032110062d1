/* Unit tests for search-casemap.c: i;unicode-casemap canonical forms
 * (RFC 5051), the ASCII fast path against the general path, line and text
 * mode line-break handling, invalid UTF-8 and long non-ASCII runs. */
#include "test-common.h"
#include "search-casemap.h"

static const char *fold(const char *in, bool line)
{
	string_t *dest = t_str_new(64);
	search_casemap_append(dest, in, strlen(in), line);
	return str_c(dest);
}

static void test_casemap_ascii(void)
{
	test_begin("casemap ascii");
	test_assert_strcmp(fold("Hello, World 123!", false), "HELLO, WORLD 123!");
	test_assert_strcmp(fold("", false), "");
	test_assert_strcmp(fold("a\r\nb\rc\nd", false), "A\nB C\nD");
	test_assert_strcmp(fold("a\r\nb\rc\nd", true), "A  B C D");
	test_assert_strcmp(fold("tab\tkept", true), "TAB\tKEPT");
	test_end();
}

static void test_casemap_unicode(void)
{
	test_begin("casemap unicode");
	/* titlecase, then NFKD: é -> E + U+0301 */
	test_assert_strcmp(fold("caf\xC3\xA9", false), "CAFE\xCC\x81");
	/* precomposed and decomposed input fold the same */
	test_assert_strcmp(fold("cafe\xCC\x81", false), fold("CAF\xC3\x89", false));
	/* Müller / MÜLLER */
	test_assert_strcmp(fold("M\xC3\xBCller", false), fold("M\xC3\x9CLLER", false));
	/* Cyrillic: привет == ПРИВЕТ */
	test_assert_strcmp(fold("\xD0\xBF\xD1\x80\xD0\xB8", false),
			   fold("\xD0\x9F\xD0\xA0\xD0\x98", false));
	/* dz digraph: titlecase U+01C5 for both U+01C4 and U+01C6, NFKD D + z-caron */
	test_assert_strcmp(fold("\xC7\x86", false), fold("\xC7\x84", false));
	/* compatibility decomposition: the fi ligature becomes "fi" */
	test_assert_strcmp(fold("\xEF\xAC\x81", false), "fi");
	/* full-width A -> A */
	test_assert_strcmp(fold("\xEF\xBD\x81", false), "A");
	test_end();
}

static void test_casemap_invalid(void)
{
	test_begin("casemap invalid utf-8");
	test_assert_strcmp(fold("a\xFF" "b", false), "A\xEF\xBF\xBD" "B");
	test_assert_strcmp(fold("\xC3", false), "\xEF\xBF\xBD");
	test_assert_strcmp(fold("x\xE2\x82", false), "X\xEF\xBF\xBD\xEF\xBF\xBD");
	string_t *dest = t_str_new(16);
	search_casemap_append(dest, "a\0b", 3, false);
	test_assert(str_len(dest) == 3 && memcmp(str_data(dest), "A B", 3) == 0);
	test_end();
}

static void test_casemap_long_runs(void)
{
	test_begin("casemap long non-ascii runs");
	/* 3000 x "é" precomposed and decomposed (e + U+0301) fold identically,
	   whatever the internal run cuts */
	string_t *a = t_str_new(8000), *b = t_str_new(8000);
	for (int i = 0; i < 3000; i++) {
		str_append(a, "\xC3\xA9");
		str_append(b, "\xC3\x89");
	}
	const char *fa = fold(str_c(a), false), *fb = fold(str_c(b), false);
	test_assert_strcmp(fa, fb);
	test_assert(strlen(fa) == 3000 * 3);
	/* a base followed by many combining marks in non-canonical order */
	string_t *c = t_str_new(8000), *d = t_str_new(8000);
	for (int i = 0; i < 600; i++) {
		/* U+0323 (class 220) then U+0307 (230): canonical order */
		str_append(c, "\xD0\xB0\xCC\xA3\xCC\x87");
		/* reversed: NFKD reorders to the same */
		str_append(d, "\xD0\xB0\xCC\x87\xCC\xA3");
	}
	test_assert_strcmp(fold(str_c(c), false), fold(str_c(d), false));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_casemap_ascii, test_casemap_unicode, test_casemap_invalid,
		test_casemap_long_runs, NULL,
	};
	return test_run(tests);
}
