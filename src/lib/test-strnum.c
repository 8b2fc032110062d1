/* Unit tests for strnum.c: integer parsing with overflow edges, sizes and
 * durations with units, and formatting round trips. */
#include "test-common.h"
#include "strnum.h"
#include "pool.h"

static void test_str_to_uint64(void)
{
	static const struct {
		const char *str;
		int ret;
		uint64_t num;
	} tests[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1 },
		{ "007", 0, 7 },
		{ "4294967296", 0, 4294967296ULL },
		{ "18446744073709551614", 0, 18446744073709551614ULL },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "000000000000000000000018446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -1, 0 },
		{ "18446744073709551620", -1, 0 },
		{ "28446744073709551615", -1, 0 },
		{ "184467440737095516150", -1, 0 },
		{ "99999999999999999999999999", -1, 0 },
		{ "", -1, 0 },
		{ " ", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ "1x", -1, 0 },
		{ "0x10", -1, 0 },
		{ "1.0", -1, 0 },
		{ "1e3", -1, 0 },
		{ "\xd9\xa1", -1, 0 }, /* ARABIC-INDIC DIGIT ONE */
	};

	test_begin("str_to_uint64");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		uint64_t num = 12345;
		int ret = str_to_uint64(tests[i].str, &num);
		if (ret != tests[i].ret || (ret == 0 && num != tests[i].num) ||
		    (ret < 0 && num != 12345)) {
			printf("  input: '%s' ret=%d num=%llu\n", tests[i].str, ret,
			       (unsigned long long)num);
			test_assert(false);
		}
	}
	test_end();
}

static void test_str_to_uint32(void)
{
	static const struct {
		const char *str;
		int ret;
		uint32_t num;
	} tests[] = {
		{ "0", 0, 0 },
		{ "4294967295", 0, UINT32_MAX },
		{ "4294967296", -1, 0 },
		{ "18446744073709551615", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "", -1, 0 },
		{ "-1", -1, 0 },
		{ "1x", -1, 0 },
	};

	test_begin("str_to_uint32 and str_to_uint");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		uint32_t num32 = 7;
		unsigned int num = 7;
		test_assert(str_to_uint32(tests[i].str, &num32) == tests[i].ret);
		test_assert(str_to_uint(tests[i].str, &num) == tests[i].ret);
		if (tests[i].ret == 0)
			test_assert(num32 == tests[i].num && num == tests[i].num);
		else
			test_assert(num32 == 7 && num == 7);
	}
	test_end();
}

static void test_str_to_int64(void)
{
	static const struct {
		const char *str;
		int ret;
		int64_t num;
	} tests[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "42", 0, 42 },
		{ "-42", 0, -42 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775808", -1, 0 },
		{ "-9223372036854775807", 0, -INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "-9223372036854775809", -1, 0 },
		{ "18446744073709551615", -1, 0 },
		{ "-18446744073709551616", -1, 0 },
		{ "", -1, 0 },
		{ "-", -1, 0 },
		{ "--1", -1, 0 },
		{ "+1", -1, 0 },
		{ " -1", -1, 0 },
		{ "- 1", -1, 0 },
		{ "1-", -1, 0 },
	};

	test_begin("str_to_int64");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		int64_t num = 12345;
		int ret = str_to_int64(tests[i].str, &num);
		if (ret != tests[i].ret || (ret == 0 && num != tests[i].num)) {
			printf("  input: '%s' ret=%d num=%lld\n", tests[i].str, ret,
			       (long long)num);
			test_assert(false);
		}
	}
	test_end();
}

static void test_str_parse_uint64(void)
{
	uint64_t num;
	const char *end;

	test_begin("str_parse_uint64");
	const char *s = "123abc";
	test_assert(str_parse_uint64(s, &num, &end) == 0 && num == 123 && end == s + 3);
	s = "18446744073709551615 rest";
	test_assert(str_parse_uint64(s, &num, &end) == 0 && num == UINT64_MAX && end == s + 20);
	s = "0";
	test_assert(str_parse_uint64(s, &num, &end) == 0 && num == 0 && *end == '\0');
	test_assert(str_parse_uint64("18446744073709551616", &num, &end) == -1);
	test_assert(str_parse_uint64("", &num, &end) == -1);
	test_assert(str_parse_uint64("abc", &num, &end) == -1);
	test_assert(str_parse_uint64(" 1", &num, &end) == -1);
	test_assert(str_parse_uint64("-1", &num, &end) == -1);
	test_end();
}

static void test_str_is_numeric(void)
{
	test_begin("str_is_numeric");
	test_assert(str_is_numeric("0"));
	test_assert(str_is_numeric("0123456789"));
	test_assert(str_is_numeric("99999999999999999999999999999"));
	test_assert(!str_is_numeric(""));
	test_assert(!str_is_numeric(" "));
	test_assert(!str_is_numeric("1 "));
	test_assert(!str_is_numeric("-1"));
	test_assert(!str_is_numeric("1a"));
	test_end();
}

#define KB 1024ULL
#define MB (1024ULL * KB)
#define GB (1024ULL * MB)
#define TB (1024ULL * GB)

static void test_str_parse_size(void)
{
	static const struct {
		const char *str;
		int ret;
		uint64_t bytes;
	} tests[] = {
		{ "0", 0, 0 },
		{ "100", 0, 100 },
		{ "64k", 0, 64 * KB },
		{ "64K", 0, 64 * KB },
		{ "64kB", 0, 64 * KB },
		{ "64KiB", 0, 64 * KB },
		{ "10 M", 0, 10 * MB },
		{ "10M", 0, 10 * MB },
		{ "10 MB", 0, 10 * MB },
		{ "10mb", 0, 10 * MB },
		{ "1GiB", 0, GB },
		{ "1 G", 0, GB },
		{ "2T", 0, 2 * TB },
		{ "100B", 0, 100 },
		{ " 5k ", 0, 5 * KB },
		{ "0k", 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "16777215T", 0, 16777215 * TB },
		{ "16777216T", -1, 0 },
		{ "17179869184G", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "18014398509481984k", -1, 0 },
		{ "", -1, 0 },
		{ " ", -1, 0 },
		{ "k", -1, 0 },
		{ "-1", -1, 0 },
		{ "-1k", -1, 0 },
		{ "1x", -1, 0 },
		{ "1kk", -1, 0 },
		{ "1 k B x", -1, 0 },
		{ "1iB", -1, 0 },
		{ "1.5M", -1, 0 },
		{ "1P", -1, 0 },
	};

	test_begin("str_parse_size");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		uint64_t bytes = 12345;
		int ret = str_parse_size(tests[i].str, &bytes);
		if (ret != tests[i].ret || (ret == 0 && bytes != tests[i].bytes)) {
			printf("  input: '%s' ret=%d bytes=%llu\n", tests[i].str, ret,
			       (unsigned long long)bytes);
			test_assert(false);
		}
	}
	test_end();
}

#define SEC 1000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static void test_str_parse_duration_ms(void)
{
	static const struct {
		const char *str;
		int ret;
		uint64_t msecs;
	} tests[] = {
		{ "0", 0, 0 },
		{ "30", 0, 30 * SEC },
		{ "250ms", 0, 250 },
		{ "250 msecs", 0, 250 },
		{ "30s", 0, 30 * SEC },
		{ "30 secs", 0, 30 * SEC },
		{ "1 second", 0, SEC },
		{ "5m", 0, 5 * MIN },
		{ "5 mins", 0, 5 * MIN },
		{ "5 MINUTES", 0, 5 * MIN },
		{ "1 minute", 0, MIN },
		{ "2h", 0, 2 * HOUR },
		{ "2 hours", 0, 2 * HOUR },
		{ "1d", 0, DAY },
		{ "1 day", 0, DAY },
		{ "7 days", 0, 7 * DAY },
		{ " 1d ", 0, DAY },
		{ "18446744073709551615ms", 0, UINT64_MAX },
		{ "18446744073709551s", 0, 18446744073709551ULL * SEC },
		{ "18446744073709552s", -1, 0 },
		{ "213503982335d", -1, 0 },
		{ "18446744073709551616ms", -1, 0 },
		{ "", -1, 0 },
		{ " ", -1, 0 },
		{ "s", -1, 0 },
		{ "-1", -1, 0 },
		{ "-1s", -1, 0 },
		{ "1x", -1, 0 },
		{ "1 s s", -1, 0 },
		{ "1.5s", -1, 0 },
		{ "1 sec onds", -1, 0 },
		{ "1 weeks", -1, 0 },
		{ "1hourss", -1, 0 },
	};

	test_begin("str_parse_duration_ms");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		uint64_t msecs = 12345;
		int ret = str_parse_duration_ms(tests[i].str, &msecs);
		if (ret != tests[i].ret || (ret == 0 && msecs != tests[i].msecs)) {
			printf("  input: '%s' ret=%d msecs=%llu\n", tests[i].str, ret,
			       (unsigned long long)msecs);
			test_assert(false);
		}
	}
	test_end();
}

static void test_str_format_size(void)
{
	static const struct {
		uint64_t bytes;
		const char *str;
	} tests[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ KB, "1k" },
		{ 64 * KB, "64k" },
		{ 1536, "1536" },
		{ 1536 * KB, "1536k" },
		{ 10 * MB, "10M" },
		{ GB, "1G" },
		{ 3 * TB, "3T" },
		{ 2048 * TB, "2048T" },
		{ UINT64_MAX, "18446744073709551615" },
		{ UINT64_MAX - 1023, "18014398509481983k" },
	};

	test_begin("str_format_size");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *s = str_format_size(tests[i].bytes);
		test_assert_strcmp(s, tests[i].str);
		uint64_t bytes;
		test_assert(str_parse_size(s, &bytes) == 0 && bytes == tests[i].bytes);
	}
	/* round trips over every power of two and its neighbours */
	for (unsigned int shift = 0; shift < 64; shift++) {
		uint64_t values[] = { 1ULL << shift, (1ULL << shift) - 1, (1ULL << shift) + 1,
				      (1ULL << shift) * 3 };
		for (unsigned int i = 0; i < N_ELEMENTS(values); i++) {
			uint64_t bytes;
			test_assert(str_parse_size(str_format_size(values[i]), &bytes) == 0);
			test_assert(bytes == values[i]);
		}
	}
	test_end();
}

static void test_str_format_duration_ms(void)
{
	static const struct {
		uint64_t msecs;
		const char *str;
	} tests[] = {
		{ 0, "0ms" },
		{ 1, "1ms" },
		{ 250, "250ms" },
		{ 1500, "1500ms" },
		{ SEC, "1s" },
		{ 30 * SEC, "30s" },
		{ 90 * SEC, "90s" },
		{ 5 * MIN, "5m" },
		{ 90 * MIN, "90m" },
		{ 2 * HOUR, "2h" },
		{ 36 * HOUR, "36h" },
		{ DAY, "1d" },
		{ 400 * DAY, "400d" },
		{ UINT64_MAX, "18446744073709551615ms" },
	};

	test_begin("str_format_duration_ms");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *s = str_format_duration_ms(tests[i].msecs);
		test_assert_strcmp(s, tests[i].str);
		uint64_t msecs;
		test_assert(str_parse_duration_ms(s, &msecs) == 0 && msecs == tests[i].msecs);
	}
	for (uint64_t v = 1; v < UINT64_MAX / 7; v = v * 7 + 3) {
		uint64_t msecs;
		test_assert(str_parse_duration_ms(str_format_duration_ms(v), &msecs) == 0);
		test_assert(msecs == v);
		if (v > UINT64_MAX / 1000)
			continue;
		test_assert(str_parse_duration_ms(str_format_duration_ms(v * 1000), &msecs) == 0);
		test_assert(msecs == v * 1000);
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_str_to_uint64,
		test_str_to_uint32,
		test_str_to_int64,
		test_str_parse_uint64,
		test_str_is_numeric,
		test_str_parse_size,
		test_str_parse_duration_ms,
		test_str_format_size,
		test_str_format_duration_ms,
		NULL
	};
	return test_run(tests);
}
