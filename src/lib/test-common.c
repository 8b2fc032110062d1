/* Unit test harness implementation. */
#include "test-common.h"
#include "pool.h"

static const char *test_name;
static unsigned int test_failures_in_test;
static unsigned int tests_passed, tests_failed;

void test_begin(const char *name)
{
	test_name = name;
	test_failures_in_test = 0;
}

void test_assert_failed(const char *expr, const char *file, unsigned int line)
{
	printf("  assertion failed: %s (%s:%u)\n", expr, file, line);
	test_failures_in_test++;
}

void test_assert_failed_str(const char *expr, const char *got, const char *expected,
			    const char *file, unsigned int line)
{
	printf("  assertion failed: %s = '%s', expected '%s' (%s:%u)\n", expr,
	       got == NULL ? "(null)" : got, expected == NULL ? "(null)" : expected,
	       file, line);
	test_failures_in_test++;
}

void test_end(void)
{
	if (test_failures_in_test == 0) {
		tests_passed++;
		printf("ok   %s\n", test_name);
	} else {
		tests_failed++;
		printf("FAIL %s\n", test_name);
	}
	test_name = NULL;
	t_pool_clear();
}

int test_run(void (*const tests[])(void))
{
	for (unsigned int i = 0; tests[i] != NULL; i++)
		tests[i]();
	printf("%u passed, %u failed\n", tests_passed, tests_failed);
	fflush(stdout);
	return tests_failed == 0 ? 0 : 1;
}
