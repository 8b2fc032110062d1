/* A small unit test harness. Each test binary runs its test functions with
 * test_run() and prints one line per test plus a final "N passed, M failed"
 * line; the exit status is 0 only when nothing failed.
 *
 *   static void test_foo(void) {
 *       test_begin("foo");
 *       test_assert(1 + 1 == 2);
 *       test_assert_strcmp(a, "b");
 *       test_end();
 *   }
 *   int main(void) { static void (*const tests[])(void) = { test_foo, NULL };
 *                    return test_run(tests); }
 */
#ifndef TERN_TEST_COMMON_H
#define TERN_TEST_COMMON_H

#include "lib.h"

void test_begin(const char *name);
void test_end(void);
void test_assert_failed(const char *expr, const char *file, unsigned int line);
void test_assert_failed_str(const char *expr, const char *got, const char *expected,
			    const char *file, unsigned int line);
int test_run(void (*const tests[])(void));

#define test_assert(expr)                                                     \
	do {                                                                  \
		if (!(expr))                                                  \
			test_assert_failed(#expr, __FILE__, __LINE__);        \
	} while (0)

#define test_assert_strcmp(got, expected)                                     \
	do {                                                                  \
		const char *tg_ = (got), *te_ = (expected);                   \
		if ((tg_ == NULL) != (te_ == NULL) ||                         \
		    (tg_ != NULL && strcmp(tg_, te_) != 0))                   \
			test_assert_failed_str(#got, tg_, te_, __FILE__,      \
					       __LINE__);                     \
	} while (0)

#endif
