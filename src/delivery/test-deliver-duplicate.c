/* Unit tests of the duplicate database: records and expiry, namespaces,
 * persistence across open/close, uncommitted changes dropped, damaged
 * lines skipped, the entry bound. */
#include "test-common.h"
#include "deliver-duplicate.h"

#include <stdio.h>
#include <unistd.h>

static char db_path[256];

static void db_reset(void)
{
	snprintf(db_path, sizeof(db_path), "/tmp/test-deliver-dup.%d", (int)getpid());
	(void)unlink(db_path);
}

static void test_duplicate_mark_expire(void)
{
	test_begin("duplicate mark, exists, expiry, namespaces");
	db_reset();
	struct deliver_duplicate *dup;
	const char *error;
	test_assert(deliver_duplicate_open(db_path, 1000, &dup, &error) == 0);
	test_assert(!deliver_duplicate_exists(dup, "vacation", "bob", 3, 1000));
	deliver_duplicate_mark(dup, "vacation", "bob", 3, 2000);
	test_assert(deliver_duplicate_exists(dup, "vacation", "bob", 3, 1999));
	test_assert(!deliver_duplicate_exists(dup, "vacation", "bob", 3, 2000));
	test_assert(!deliver_duplicate_exists(dup, "redirect", "bob", 3, 1000));
	test_assert(deliver_duplicate_commit(dup, &error) == 0);
	deliver_duplicate_close(&dup);
	test_assert(dup == NULL);
	/* persisted; and an expired entry is dropped at open */
	test_assert(deliver_duplicate_open(db_path, 1500, &dup, &error) == 0);
	test_assert(deliver_duplicate_exists(dup, "vacation", "bob", 3, 1500));
	/* not committed: lost */
	deliver_duplicate_mark(dup, "duplicate", "x", 1, 5000);
	deliver_duplicate_close(&dup);
	test_assert(deliver_duplicate_open(db_path, 2500, &dup, &error) == 0);
	test_assert(deliver_duplicate_count(dup) == 0);
	test_assert(!deliver_duplicate_exists(dup, "duplicate", "x", 1, 2500));
	deliver_duplicate_close(&dup);
	(void)unlink(db_path);
	test_end();
}

static void test_duplicate_damaged(void)
{
	test_begin("duplicate damaged file");
	db_reset();
	FILE *f = fopen(db_path, "w");
	fputs("garbage line\nabc 123\n"
	      "0000000000000000000000000000000000000000000000000000000000000000 99999\n"
	      "1111", f);
	fclose(f);
	struct deliver_duplicate *dup;
	const char *error;
	test_assert(deliver_duplicate_open(db_path, 1000, &dup, &error) == 0);
	test_assert(deliver_duplicate_count(dup) == 1);
	deliver_duplicate_mark(dup, "k", "v", 1, 3000);
	test_assert(deliver_duplicate_commit(dup, &error) == 0);
	/* the lock moved to the new file: a second commit works too */
	deliver_duplicate_mark(dup, "k", "w", 1, 3000);
	test_assert(deliver_duplicate_commit(dup, &error) == 0);
	deliver_duplicate_close(&dup);
	test_assert(deliver_duplicate_open(db_path, 1000, &dup, &error) == 0);
	test_assert(deliver_duplicate_count(dup) == 3);
	test_assert(deliver_duplicate_exists(dup, "k", "w", 1, 1000));
	deliver_duplicate_close(&dup);
	(void)unlink(db_path);
	test_end();
}

static void test_duplicate_bounded(void)
{
	test_begin("duplicate entry limit");
	db_reset();
	struct deliver_duplicate *dup;
	const char *error;
	test_assert(deliver_duplicate_open(db_path, 0, &dup, &error) == 0);
	for (unsigned int i = 0; i < DELIVER_DUPLICATE_MAX_ENTRIES + 50; i++)
		deliver_duplicate_mark(dup, "n", &i, sizeof(i), (time_t)(100 + i));
	test_assert(deliver_duplicate_count(dup) == DELIVER_DUPLICATE_MAX_ENTRIES);
	/* the soonest-expiring went first */
	unsigned int first = 0, last = DELIVER_DUPLICATE_MAX_ENTRIES + 49;
	test_assert(!deliver_duplicate_exists(dup, "n", &first, sizeof(first), 0));
	test_assert(deliver_duplicate_exists(dup, "n", &last, sizeof(last), 0));
	test_assert(deliver_duplicate_commit(dup, &error) == 0);
	deliver_duplicate_close(&dup);
	(void)unlink(db_path);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_duplicate_mark_expire, test_duplicate_damaged, test_duplicate_bounded, NULL
	};
	return test_run(tests);
}
