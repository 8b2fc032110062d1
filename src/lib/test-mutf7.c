/* Unit tests for modified UTF-7. */
#include "test-common.h"
#include "mutf7.h"

static void test_utf7_roundtrip(void)
{
	static const struct { const char *utf8, *utf7; } tests[] = {
		{ "INBOX", "INBOX" },
		{ "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		{ "&", "&-" },
		{ "A&B", "A&-B" },
		{ "Entwürfe", "Entw&APw-rfe" },
		{ "Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },
		{ "😀", "&2D3eAA-" },
		{ "a b", "a b" },
	};
	test_begin("utf7 round trip");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *s = t_str_new(64);
		test_assert(mutf7_encode(tests[i].utf8, strlen(tests[i].utf8), s) == 0);
		test_assert_strcmp(str_c(s), tests[i].utf7);
		string_t *u = t_str_new(64);
		test_assert(mutf7_decode(tests[i].utf7, strlen(tests[i].utf7), u) == 0);
		test_assert_strcmp(str_c(u), tests[i].utf8);
	}
	test_end();
}

static void test_utf7_invalid(void)
{
	static const char *const bad[] = {
		"&", "&-x&", "&AGE", "&AGE-&AGI-", "&AEE-", "&2D0-", "&3gA-", "&A!-",
		"\x80", "&ZeVnLIqe", "&-&", "a\tb",
	};
	test_begin("utf7 invalid");
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		string_t *u = t_str_new(64);
		if (mutf7_decode(bad[i], strlen(bad[i]), u) == 0)
			printf("  accepted: %s\n", bad[i]);
		test_assert(mutf7_decode(bad[i], strlen(bad[i]), u) < 0);
	}
	string_t *s = t_str_new(64);
	test_assert(mutf7_encode("\xc3\x28", 2, s) < 0);
	test_assert(mutf7_encode("\xed\xa0\x80", 3, s) < 0);
	test_assert(!utf8_is_valid_printable("a\x01"));
	test_assert(utf8_is_valid_printable("Entwürfe"));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = { test_utf7_roundtrip, test_utf7_invalid, NULL };
	return test_run(tests);
}
