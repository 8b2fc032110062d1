/* Unit tests for sequence sets. */
#include "test-common.h"
#include "imap-seqset.h"
#include "buffer.h"

static const char *resolved(const char *set, uint32_t max)
{
	imap_seq_ranges_t r;
	if (imap_seqset_parse(set, t_pool(), &r) < 0)
		return "ERR";
	imap_seqset_resolve(&r, max);
	string_t *s = t_str_new(64);
	imap_seqset_write(&r, s);
	return str_c(s);
}

static void test_seqset_parse(void)
{
	test_begin("seqset parse and resolve");
	test_assert_strcmp(resolved("1", 10), "1");
	test_assert_strcmp(resolved("1:5,7", 10), "1:5,7");
	test_assert_strcmp(resolved("5:1", 10), "1:5");
	test_assert_strcmp(resolved("*", 10), "10");
	test_assert_strcmp(resolved("8:*", 10), "8:10");
	test_assert_strcmp(resolved("15:*", 10), "10:15");
	test_assert_strcmp(resolved("*:3", 10), "3:10");
	test_assert_strcmp(resolved("3,1,2,5:6,4", 10), "1:6");
	test_assert_strcmp(resolved("1:3,2:8", 10), "1:8");
	test_assert_strcmp(resolved("*", 0), "");
	test_assert_strcmp(resolved("1:*", 0), "1");
	/* the largest number is a number, not "*" (imaptest search-sets) */
	test_assert_strcmp(resolved("4294967295", 10), "4294967295");
	test_assert_strcmp(resolved("4294967294", 10), "4294967294");
	test_assert_strcmp(resolved("4294967296", 10), "ERR");
	test_assert_strcmp(resolved("0", 10), "ERR");
	test_assert_strcmp(resolved("01", 10), "ERR");
	test_assert_strcmp(resolved("", 10), "ERR");
	test_assert_strcmp(resolved("1,", 10), "ERR");
	test_assert_strcmp(resolved("1::2", 10), "ERR");
	test_assert_strcmp(resolved("a", 10), "ERR");
	test_assert_strcmp(resolved("1:2:3", 10), "ERR");
	test_assert(imap_seqset_is_saved("$") && !imap_seqset_is_saved("$1"));
	test_end();
}

static void test_seqset_ops(void)
{
	test_begin("seqset count, contains, from_sorted");
	imap_seq_ranges_t r;
	test_assert(imap_seqset_parse("1:3,10,20:*", t_pool(), &r) == 0);
	imap_seqset_resolve(&r, 25);
	test_assert(imap_seqset_count(&r) == 3 + 1 + 6);
	test_assert(imap_seqset_contains(&r, 2) && imap_seqset_contains(&r, 10) &&
		    imap_seqset_contains(&r, 25) && !imap_seqset_contains(&r, 4) &&
		    !imap_seqset_contains(&r, 26));
	static const uint32_t nums[] = { 1, 2, 3, 5, 7, 8, 4000000000u };
	imap_seqset_from_sorted(nums, N_ELEMENTS(nums), t_pool(), &r);
	string_t *s = t_str_new(64);
	imap_seqset_write(&r, s);
	test_assert_strcmp(str_c(s), "1:3,5,7:8,4000000000");
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = { test_seqset_parse, test_seqset_ops, NULL };
	return test_run(tests);
}
