/* Unit tests for sieve-match.c: comparators (RFC 4790 §9) and the :is,
 * :contains and :matches match types (RFC 5228 §2.7.1), including
 * escapes, '?' on UTF-8 and patterns that would be exponential for a
 * naive backtracking matcher. */
#include "test-common.h"
#include "buffer.h"
#include "sieve-match.h"

struct match_test {
	enum sieve_comparator cmp;
	enum sieve_match_type type;
	const char *value, *key;
	bool expected;
};

#define CASE SIEVE_COMPARATOR_ASCII_CASEMAP
#define OCT SIEVE_COMPARATOR_OCTET
#define NUM SIEVE_COMPARATOR_ASCII_NUMERIC
#define IS SIEVE_MATCH_IS
#define CON SIEVE_MATCH_CONTAINS
#define MAT SIEVE_MATCH_MATCHES

static const struct match_test match_tests[] = {
	{ CASE, IS, "Hello", "hELLO", true },
	{ OCT, IS, "Hello", "hELLO", false },
	{ OCT, IS, "Hello", "Hello", true },
	{ CASE, IS, "", "", true },
	{ CASE, IS, "a", "", false },
	{ CASE, IS, "\xc3\xa9", "\xc3\x89", false }, /* only ASCII folds */
	{ CASE, CON, "Hello World", "O w", true },
	{ OCT, CON, "Hello World", "O w", false },
	{ CASE, CON, "abc", "", true },
	{ CASE, CON, "", "", true },
	{ CASE, CON, "ab", "abc", false },
	{ CASE, MAT, "", "", true },
	{ CASE, MAT, "", "*", true },
	{ CASE, MAT, "", "?", false },
	{ CASE, MAT, "abc", "a*", true },
	{ CASE, MAT, "abc", "*C", true },
	{ OCT, MAT, "abc", "*C", false },
	{ CASE, MAT, "abc", "a?c", true },
	{ CASE, MAT, "abc", "a??c", false },
	{ CASE, MAT, "abc", "???", true },
	{ CASE, MAT, "abc", "*?*?*?*", true },
	{ CASE, MAT, "abc", "*?*?*?*?", false },
	{ CASE, MAT, "a*c", "a\\*c", true },
	{ CASE, MAT, "abc", "a\\*c", false },
	{ CASE, MAT, "a?c", "a\\?c", true },
	{ CASE, MAT, "abc", "a\\?c", false },
	{ CASE, MAT, "a\\c", "a\\\\c", true },
	{ CASE, MAT, "abc", "\\a\\b\\c", true },
	{ CASE, MAT, "x\\", "x\\", true }, /* a final lone backslash is literal */
	{ CASE, MAT, "****", "\\*\\**", true },
	{ CASE, MAT, "****", "\\*\\*\\*\\*\\*", false },
	{ CASE, MAT, "*a*b*", "\\*?\\*?\\*", true },
	{ CASE, MAT, "x??? y???z", "x*\\?\\??z", true },
	{ CASE, MAT, "x??? y???z", "*\\?\\?\\?z", true },
	{ CASE, MAT, "x??? y???", "*\\?\\?\\?z", false },
	{ CASE, MAT, "mississippi", "*sip*", true },
	{ CASE, MAT, "mississippi", "m*iss*ppi", true },
	{ CASE, MAT, "mississippi", "m*iss*ppix", false },
	{ CASE, MAT, "\xe2\x98\xba", "?", true }, /* one character, three octets */
	{ CASE, MAT, "x\xe2\x98\xbay", "x?y", true },
	{ CASE, MAT, "\xff\xfe", "??", true },
	{ NUM, IS, "42", "042", true },
	{ NUM, IS, "42abc", "42", true },
	{ NUM, IS, "42", "43", false },
	{ NUM, IS, "abc", "", true },
	{ NUM, IS, "abc", "0", false },
	{ NUM, IS, "99999999999999999999999", "099999999999999999999999", true },
	{ NUM, IS, "99999999999999999999998", "99999999999999999999999", false },
};

static void test_match(void)
{
	test_begin("sieve match types");
	for (unsigned int i = 0; i < N_ELEMENTS(match_tests); i++) {
		const struct match_test *t = &match_tests[i];
		bool got = sieve_match(t->cmp, t->type, t->value, t->key);

		if (got != t->expected)
			printf("  case %u: '%s' vs '%s'\n", i, t->value, t->key);
		test_assert(got == t->expected);
	}
	test_end();
}

static void test_match_pathological(void)
{
	string_t *value = t_str_new(20000), *key = t_str_new(2000);

	test_begin("sieve :matches stays polynomial");
	for (unsigned int i = 0; i < 10000; i++)
		str_append_c(value, 'a');
	for (unsigned int i = 0; i < 500; i++)
		str_append(key, "*a");
	str_append(key, "*b");
	test_assert(!sieve_match(CASE, MAT, str_c(value), str_c(key)));
	str_append_c(value, 'b');
	test_assert(sieve_match(CASE, MAT, str_c(value), str_c(key)));
	t_pool_clear();
	test_end();
}

static void test_comparator_lookup(void)
{
	enum sieve_comparator cmp;

	test_begin("sieve comparator lookup");
	test_assert(sieve_comparator_lookup("i;octet", &cmp) == 1 && cmp == OCT);
	test_assert(sieve_comparator_lookup("I;ASCII-CASEMAP", &cmp) == 1 && cmp == CASE);
	test_assert(sieve_comparator_lookup("i;ascii-numeric", &cmp) == 1 && cmp == NUM);
	test_assert(sieve_comparator_lookup("i;unicode-casemap", &cmp) == 0);
	test_assert(sieve_comparator_supports(NUM, IS));
	test_assert(!sieve_comparator_supports(NUM, MAT));
	test_assert(sieve_comparator_supports(OCT, CON));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_match, test_match_pathological, test_comparator_lookup, NULL,
	};
	return test_run(tests);
}
