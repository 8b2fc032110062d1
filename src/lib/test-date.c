/* Unit tests for date.c: IMAP date-time and date (RFC 9051 §9), RFC 5322
 * §3.3 dates with the obsolete forms of §4.3, and utc_mktime(). */
#include "test-common.h"
#include "date.h"
#include "buffer.h"

/* Expected results are given as fields and converted with glibc's
   timegm(), an implementation independent of the one under test. */
struct date_expect {
	int year, month, day, hour, min, sec;
	int tz_offset;
};

static time_t expect_time(const struct date_expect *e)
{
	struct tm tm = {
		.tm_year = e->year - 1900, .tm_mon = e->month - 1, .tm_mday = e->day,
		.tm_hour = e->hour, .tm_min = e->min, .tm_sec = e->sec,
	};
	return timegm(&tm) - (time_t)e->tz_offset * 60;
}

static void test_utc_mktime(void)
{
	static const struct {
		struct date_expect date;
		time_t t;
	} tests[] = {
		{ { 1970, 1, 1, 0, 0, 0, 0 }, 0 },
		{ { 1969, 12, 31, 23, 59, 59, 0 }, -1 },
		{ { 2026, 11, 21, 19, 57, 31, 0 }, 1795291051 },
		{ { 2000, 2, 29, 12, 0, 0, 0 }, 951825600 },
		{ { 1900, 1, 1, 0, 0, 0, 0 }, -2208988800LL },
		{ { 9999, 12, 31, 23, 59, 59, 0 }, 253402300799LL },
		{ { 1, 1, 1, 0, 0, 0, 0 }, -62135596800LL },
		{ { 2038, 1, 19, 3, 14, 8, 0 }, 2147483648LL },
	};

	test_begin("utc_mktime");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const struct date_expect *e = &tests[i].date;
		struct tm tm = {
			.tm_year = e->year - 1900, .tm_mon = e->month - 1, .tm_mday = e->day,
			.tm_hour = e->hour, .tm_min = e->min, .tm_sec = e->sec,
		};
		test_assert(utc_mktime(&tm) == tests[i].t);
	}
	/* every ~day from year 1 to 9999 agrees with gmtime_r() */
	for (int64_t t = -62135596800LL; t < 253402300799LL; t += 86399 * 7 + 3601) {
		time_t tt = (time_t)t;
		struct tm tm;
		test_assert(gmtime_r(&tt, &tm) != NULL);
		if (utc_mktime(&tm) != tt) {
			test_assert(utc_mktime(&tm) == tt);
			break;
		}
	}
	/* month and day normalisation, as mktime() does */
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 12, .tm_mday = 1 };
	test_assert(utc_mktime(&tm) == expect_time(&(struct date_expect){ .year = 2027, .month = 1, .day = 1 }));
	tm = (struct tm){ .tm_year = 2026 - 1900, .tm_mon = -1, .tm_mday = 1 };
	test_assert(utc_mktime(&tm) == expect_time(&(struct date_expect){ .year = 2025, .month = 12, .day = 1 }));
	tm = (struct tm){ .tm_year = 2026 - 1900, .tm_mon = -13, .tm_mday = 1 };
	test_assert(utc_mktime(&tm) == expect_time(&(struct date_expect){ .year = 2024, .month = 12, .day = 1 }));
	tm = (struct tm){ .tm_year = 2024 - 1900, .tm_mon = 1, .tm_mday = 30 };
	test_assert(utc_mktime(&tm) == expect_time(&(struct date_expect){ .year = 2024, .month = 3, .day = 1 }));
	tm = (struct tm){ .tm_year = 2026 - 1900, .tm_mon = 0, .tm_mday = 0 };
	test_assert(utc_mktime(&tm) == expect_time(&(struct date_expect){ .year = 2025, .month = 12, .day = 31 }));
	test_end();
}

static const struct {
	const char *str;
	struct date_expect date;
} imap_date_time_valid[] = {
	{ "21-Nov-2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "17-Jul-1996 02:44:25 -0700", { 1996, 7, 17, 2, 44, 25, -420 } },
	{ " 1-Feb-1994 21:52:25 -0800", { 1994, 2, 1, 21, 52, 25, -480 } },
	{ "1-Feb-1994 21:52:25 -0800", { 1994, 2, 1, 21, 52, 25, -480 } },
	{ "01-feb-1994 21:52:25 -0800", { 1994, 2, 1, 21, 52, 25, -480 } },
	{ "01-FEB-1994 21:52:25 +0530", { 1994, 2, 1, 21, 52, 25, 330 } },
	{ "29-Feb-2000 12:00:00 +0000", { 2000, 2, 29, 12, 0, 0, 0 } },
	{ "29-Feb-2024 00:00:00 +0100", { 2024, 2, 29, 0, 0, 0, 60 } },
	{ "31-Dec-9999 23:59:59 +0000", { 9999, 12, 31, 23, 59, 59, 0 } },
	{ "01-Jan-1900 00:00:00 +0000", { 1900, 1, 1, 0, 0, 0, 0 } },
	{ "01-Jan-1970 00:00:00 +0000", { 1970, 1, 1, 0, 0, 0, 0 } },
	{ "31-Dec-1969 23:59:59 +0000", { 1969, 12, 31, 23, 59, 59, 0 } },
	{ "01-Jan-1970 00:00:00 +0100", { 1970, 1, 1, 0, 0, 0, 60 } },
	{ "30-Jun-2015 23:59:60 +0000", { 2015, 7, 1, 0, 0, 0, 0 } },
	{ "01-Jan-2026 00:00:00 +9959", { 2026, 1, 1, 0, 0, 0, 5999 } },
	{ "01-Jan-2026 00:00:00 -9959", { 2026, 1, 1, 0, 0, 0, -5999 } },
	{ "01-Jan-2026 00:00:00 -0000", { 2026, 1, 1, 0, 0, 0, 0 } },
	{ "13-Feb-1969 23:32:54 -0330", { 1969, 2, 13, 23, 32, 54, -210 } },
};

static const char *const imap_date_time_invalid[] = {
	"",
	" ",
	"29-Feb-1900 00:00:00 +0000",
	"29-Feb-2023 00:00:00 +0000",
	"31-Apr-2026 00:00:00 +0000",
	"32-Jan-2026 00:00:00 +0000",
	"00-Jan-2026 00:00:00 +0000",
	"21-Foo-2026 19:57:31 +0000",
	"21-November-2026 19:57:31 +0000",
	"21-Nov-26 19:57:31 +0000",
	"21-Nov-02026 19:57:31 +0000",
	"21-Nov-2026 24:00:00 +0000",
	"21-Nov-2026 23:60:00 +0000",
	"21-Nov-2026 23:59:61 +0000",
	"21-Nov-2026 9:57:31 +0000",
	"21-Nov-2026 19:57 +0000",
	"21-Nov-2026 19:57:31 +0060",
	"21-Nov-2026 19:57:31 +00000",
	"21-Nov-2026 19:57:31 +000",
	"21-Nov-2026 19:57:31 0000",
	"21-Nov-2026 19:57:31 GMT",
	"21-Nov-2026 19:57:31",
	"21-Nov-2026 19:57:31 ",
	"21-Nov-2026  19:57:31 +0000",
	"21-Nov-2026\t19:57:31 +0000",
	"21-Nov-2026 19:57:31 +0000 ",
	" 21-Nov-2026 19:57:31 +0000",
	"  1-Nov-2026 19:57:31 +0000",
	"\"21-Nov-2026 19:57:31 +0000\"",
	"121-Nov-2026 19:57:31 +0000",
	"21 Nov 2026 19:57:31 +0000",
	"21-Nov-2026 19:57:31 +0000\r\n",
	"21-Nov-2026 1a:57:31 +0000",
	"-1-Nov-2026 19:57:31 +0000",
};

static void test_imap_date_time_parse(void)
{
	test_begin("imap_date_time_parse");
	for (unsigned int i = 0; i < N_ELEMENTS(imap_date_time_valid); i++) {
		time_t t = 12345;
		int tz = 12345;
		int ret = imap_date_time_parse(imap_date_time_valid[i].str, &t, &tz);
		if (ret != 0 || t != expect_time(&imap_date_time_valid[i].date) ||
		    tz != imap_date_time_valid[i].date.tz_offset) {
			printf("  input: '%s' ret=%d t=%lld tz=%d\n", imap_date_time_valid[i].str,
			       ret, (long long)t, tz);
			test_assert(false);
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(imap_date_time_invalid); i++) {
		time_t t;
		int tz;
		if (imap_date_time_parse(imap_date_time_invalid[i], &t, &tz) != -1) {
			printf("  accepted: '%s'\n", imap_date_time_invalid[i]);
			test_assert(false);
		}
	}
	time_t t;
	int tz;
	test_assert(imap_date_time_parse("21-Nov-2026 19:57:31 +0000", &t, &tz) == 0 &&
		    t == 1795291051 && tz == 0);
	test_end();
}

static void test_imap_date_time_format(void)
{
	static const struct {
		time_t t;
		int tz_offset;
		const char *str;
	} tests[] = {
		{ 1795291051, 0, "21-Nov-2026 19:57:31 +0000" },
		{ 1795291051, 60, "21-Nov-2026 20:57:31 +0100" },
		{ 1795291051, -300, "21-Nov-2026 14:57:31 -0500" },
		{ 1795291051, 330, "22-Nov-2026 01:27:31 +0530" },
		{ 1795291051, -210, "21-Nov-2026 16:27:31 -0330" },
		{ 1795291051, -30, "21-Nov-2026 19:27:31 -0030" },
		{ 1793569200, 0, " 1-Nov-2026 21:40:00 +0000" },
		{ 0, 0, " 1-Jan-1970 00:00:00 +0000" },
		{ 0, -60, "31-Dec-1969 23:00:00 -0100" },
		{ -1, 0, "31-Dec-1969 23:59:59 +0000" },
		{ -2208988800LL, 0, " 1-Jan-1900 00:00:00 +0000" },
		{ 951825600, 0, "29-Feb-2000 12:00:00 +0000" },
		{ 253402300799LL, 0, "31-Dec-9999 23:59:59 +0000" },
		{ 1795291051, 5999, "25-Nov-2026 23:56:31 +9959" },
		{ 1795291051, -5999, "17-Nov-2026 15:58:31 -9959" },
		/* out of range: clamped so the year keeps four digits */
		{ 253402300800LL, 0, "31-Dec-9999 23:59:59 +0000" },
		{ 253402300799LL, 60, "31-Dec-9999 23:59:59 +0100" },
		{ INT64_MAX, 0, "31-Dec-9999 23:59:59 +0000" },
		{ INT64_MIN, 0, " 1-Jan-0000 00:00:00 +0000" },
		{ INT64_MIN, -60, " 1-Jan-0000 00:00:00 -0100" },
		/* an offset that cannot be written is shown as UTC */
		{ 1795291051, 6000, "21-Nov-2026 19:57:31 +0000" },
		{ 1795291051, -100000, "21-Nov-2026 19:57:31 +0000" },
	};

	test_begin("imap_date_time_format");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++)
		test_assert_strcmp(imap_date_time_format(tests[i].t, tests[i].tz_offset), tests[i].str);
	test_end();
}

static const int round_trip_zones[] = {
	0, 60, -60, 330, -210, 5999, -5999, 1, -1, 59, 600, -480,
};

static void test_imap_date_time_round_trip(void)
{
	test_begin("imap_date_time round trip");
	unsigned int failures = 0;
	for (int64_t t = -2208988800LL; t < 253402300799LL - 200000; t += 8640013 * 7) {
		for (unsigned int z = 0; z < N_ELEMENTS(round_trip_zones); z++) {
			time_t t2;
			int tz2;
			const char *s = imap_date_time_format((time_t)t, round_trip_zones[z]);
			if (imap_date_time_parse(s, &t2, &tz2) != 0 || t2 != t ||
			    tz2 != round_trip_zones[z]) {
				if (failures++ < 5)
					printf("  round trip failed: %lld %d '%s'\n",
					       (long long)t, round_trip_zones[z], s);
			}
		}
		t_pool_clear();
	}
	test_assert(failures == 0);
	test_end();
}

static void test_imap_date(void)
{
	static const struct {
		const char *str;
		struct date_expect date;
		const char *formatted;
	} valid[] = {
		{ "1-Feb-1994", { .year = 1994, .month = 2, .day = 1 }, "1-Feb-1994" },
		{ "01-Feb-1994", { .year = 1994, .month = 2, .day = 1 }, "1-Feb-1994" },
		{ "21-nov-2026", { .year = 2026, .month = 11, .day = 21 }, "21-Nov-2026" },
		{ "21-NOV-2026", { .year = 2026, .month = 11, .day = 21 }, "21-Nov-2026" },
		{ "29-Feb-2000", { .year = 2000, .month = 2, .day = 29 }, "29-Feb-2000" },
		{ "31-Dec-1969", { .year = 1969, .month = 12, .day = 31 }, "31-Dec-1969" },
		{ "31-Dec-9999", { .year = 9999, .month = 12, .day = 31 }, "31-Dec-9999" },
		{ "1-Jan-0001", { .year = 1, .month = 1, .day = 1 }, "1-Jan-0001" },
	};
	static const char *const invalid[] = {
		"", " 1-Feb-1994", "1-Feb-94", "1-Feb-1994 ", "29-Feb-2023",
		"29-Feb-2100", "1-February-1994", "001-Feb-1994", "1 Feb 1994",
		"\"1-Feb-1994\"", "1-Feb-1994 00:00:00 +0000", "0-Feb-1994",
		"31-Jun-2026", "1-Fe-1994", "1--1994", "-Feb-1994",
	};
	static const struct {
		time_t t;
		const char *str;
	} formats[] = {
		{ 0, "1-Jan-1970" },
		{ 1795291051, "21-Nov-2026" },
		{ 1793574000, "1-Nov-2026" },
		{ -1, "31-Dec-1969" },
		{ 951825600, "29-Feb-2000" },
	};

	test_begin("imap_date");
	for (unsigned int i = 0; i < N_ELEMENTS(valid); i++) {
		time_t t = 1;
		test_assert(imap_date_parse(valid[i].str, &t) == 0);
		test_assert(t == expect_time(&valid[i].date));
		test_assert_strcmp(imap_date_format(t), valid[i].formatted);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(invalid); i++) {
		time_t t;
		if (imap_date_parse(invalid[i], &t) != -1) {
			printf("  accepted: '%s'\n", invalid[i]);
			test_assert(false);
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(formats); i++)
		test_assert_strcmp(imap_date_format(formats[i].t), formats[i].str);
	test_end();
}

static const struct {
	const char *str;
	struct date_expect date;
} rfc5322_valid[] = {
	{ "Sat, 21 Nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "21 Nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	/* RFC 5322 Appendix A examples */
	{ "Fri, 21 Nov 1997 09:55:06 -0600", { 1997, 11, 21, 9, 55, 6, -360 } },
	{ "Tue, 1 Jul 2003 10:52:37 +0200", { 2003, 7, 1, 10, 52, 37, 120 } },
	{ "Thu, 13 Feb 1969 23:32:54 -0330", { 1969, 2, 13, 23, 32, 54, -210 } },
	{ "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
	  "               -0330 (Newfoundland Time)", { 1969, 2, 13, 23, 32, 0, -210 } },
	{ "21 Nov 97 09:55:06 GMT", { 1997, 11, 21, 9, 55, 6, 0 } },
	{ "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600", { 1997, 11, 21, 9, 55, 6, -360 } },
	/* RFC 5322 §4.3 years */
	{ "1 Jan 00 00:00:00 +0000", { 2000, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 49 00:00:00 +0000", { 2049, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 50 00:00:00 +0000", { 1950, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 99 00:00:00 +0000", { 1999, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 100 00:00:00 +0000", { 2000, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 126 00:00:00 +0000", { 2026, 1, 1, 0, 0, 0, 0 } },
	{ "1 Jan 0049 00:00:00 +0000", { 49, 1, 1, 0, 0, 0, 0 } },
	/* RFC 5322 §4.3 obsolete zones */
	{ "1 Jan 2026 12:00:00 UT", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 GMT", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 EST", { 2026, 1, 1, 12, 0, 0, -300 } },
	{ "1 Jan 2026 12:00:00 EDT", { 2026, 1, 1, 12, 0, 0, -240 } },
	{ "1 Jan 2026 12:00:00 CST", { 2026, 1, 1, 12, 0, 0, -360 } },
	{ "1 Jan 2026 12:00:00 CDT", { 2026, 1, 1, 12, 0, 0, -300 } },
	{ "1 Jan 2026 12:00:00 MST", { 2026, 1, 1, 12, 0, 0, -420 } },
	{ "1 Jan 2026 12:00:00 MDT", { 2026, 1, 1, 12, 0, 0, -360 } },
	{ "1 Jan 2026 12:00:00 PST", { 2026, 1, 1, 12, 0, 0, -480 } },
	{ "1 Jan 2026 12:00:00 pdt", { 2026, 1, 1, 12, 0, 0, -420 } },
	/* military letters and unknown names: no reliable offset */
	{ "1 Jan 2026 12:00:00 Z", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 A", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 m", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 Y", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 CET", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 -0000", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00", { 2026, 1, 1, 12, 0, 0, 0 } },
	{ "1 Jan 2026 12:00:00 +0100 (CET)", { 2026, 1, 1, 12, 0, 0, 60 } },
	{ "1 Jan 2026 12:00:00 +0100 CET", { 2026, 1, 1, 12, 0, 0, 60 } },
	{ "1 Jan 2026 12:00:00 -0500 (EST)", { 2026, 1, 1, 12, 0, 0, -300 } },
	{ "1 Jan 2026 12:00:00 +9959", { 2026, 1, 1, 12, 0, 0, 5999 } },
	{ "1 Jan 2026 12:00:00 -9959", { 2026, 1, 1, 12, 0, 0, -5999 } },
	/* whitespace, comments, case and spelling variants */
	{ "  Sat,  21  Nov  2026  19:57:31  +0000  ", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "\tSat,\t21\tNov\t2026\t19:57:31\t+0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Sat, 21 Nov 2026 19:57:31 +0000\r\n", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Sat , 21 Nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Sat 21 Nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "sat, 21 nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Saturday, 21 November 2026 19:57 +0000", { 2026, 11, 21, 19, 57, 0, 0 } },
	{ "Tues, 1 Sept 2026 10:00:00 +0000", { 2026, 9, 1, 10, 0, 0, 0 } },
	{ "(x) Sat, (y) 21 (z) Nov (w) 2026 (v) 19:57:31 (u) +0000 (t)",
	  { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Sat, 21 Nov 2026 19:57:31 +0000 (a (nested (comment)) \\) here)",
	  { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Sat, 21 Nov 2026 9:05:01 +0000", { 2026, 11, 21, 9, 5, 1, 0 } },
	/* the weekday is not checked against the date */
	{ "Mon, 21 Nov 2026 19:57:31 +0000", { 2026, 11, 21, 19, 57, 31, 0 } },
	{ "Wed, 31 Dec 2025 23:59:60 +0000", { 2026, 1, 1, 0, 0, 0, 0 } },
	{ "Thu, 29 Feb 2024 12:00:00 -1200", { 2024, 2, 29, 12, 0, 0, -720 } },
	{ "Fri, 1 Jan 1960 00:00:00 -0800", { 1960, 1, 1, 0, 0, 0, -480 } },
	{ "Fri, 31 Dec 9999 23:59:59 +0000", { 9999, 12, 31, 23, 59, 59, 0 } },
};

static const char *const rfc5322_invalid[] = {
	"",
	"   ",
	"Sat,",
	"Sat, 21 Nov 2026",
	"Foo, 21 Nov 2026 19:57:31 +0000",
	"Sa, 21 Nov 2026 19:57:31 +0000",
	"Sat, 32 Nov 2026 19:57:31 +0000",
	"Sat, 31 Nov 2026 19:57:31 +0000",
	"Sat, 0 Nov 2026 19:57:31 +0000",
	"Sat, 29 Feb 2100 19:57:31 +0000",
	"Sat, 29 Feb 2023 19:57:31 +0000",
	"Sat, 123 Nov 2026 19:57:31 +0000",
	"Sat, 21 Nox 2026 19:57:31 +0000",
	"Sat, 21 No 2026 19:57:31 +0000",
	"Sat, 21 Novembers 2026 19:57:31 +0000",
	"Sat, 21 Nov 12026 19:57:31 +0000",
	"Sat, 21 Nov 6 19:57:31 +0000",
	"Sat, 21 Nov 19:57:31 +0000",
	"Sat, 21 Nov 2026 24:00:00 +0000",
	"Sat, 21 Nov 2026 19:60:00 +0000",
	"Sat, 21 Nov 2026 19:57:61 +0000",
	"Sat, 21 Nov 2026 123:57:31 +0000",
	"Sat, 21 Nov 2026 19:5:31 +0000",
	"Sat, 21 Nov 2026 19:57:3 +0000",
	"Sat, 21 Nov 2026 1957 +0000",
	"Sat, 21 Nov 2026 19:57:31 +0060",
	"Sat, 21 Nov 2026 19:57:31 +01000",
	"Sat, 21 Nov 2026 19:57:31 +100",
	"Sat, 21 Nov 2026 19:57:31 +",
	"Sat, 21 Nov 2026 19:57:31 +0000 +0000",
	"Sat, 21 Nov 2026 19:57:31 +0000 junkjunk",
	"Sat, 21 Nov 2026 19:57:31 Europe",
	"Sat, 21 Nov 2026 19:57:31 +0000 (unterminated",
	"Sat, 21 Nov 2026 19:57:31 +0000 (a (b)",
	"Sat, 21 Nov 2026 19:57:31 +0000 )",
	"Sat, 21 Nov 2026 19:57:31 +0000 (\\",
	"Sat, 21 Nov 2026 19:57:31 +0000 x y",
	"2026-11-21T19:57:31Z",
	"Nov 21 2026 19:57:31 +0000",
	"Sat Nov 21 19:57:31 2026",
	"Sat, 21 Nov 2026 19:57:31 +0000\x01",
	"Sat, -1 Nov 2026 19:57:31 +0000",
};

static void test_rfc5322_date_parse(void)
{
	test_begin("rfc5322_date_parse");
	for (unsigned int i = 0; i < N_ELEMENTS(rfc5322_valid); i++) {
		time_t t = 12345;
		int tz = 12345;
		int ret = rfc5322_date_parse(rfc5322_valid[i].str, &t, &tz);
		if (ret != 0 || t != expect_time(&rfc5322_valid[i].date) ||
		    tz != rfc5322_valid[i].date.tz_offset) {
			printf("  input: '%s' ret=%d t=%lld tz=%d\n", rfc5322_valid[i].str,
			       ret, (long long)t, tz);
			test_assert(false);
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(rfc5322_invalid); i++) {
		time_t t;
		int tz;
		if (rfc5322_date_parse(rfc5322_invalid[i], &t, &tz) != -1) {
			printf("  accepted: '%s'\n", rfc5322_invalid[i]);
			test_assert(false);
		}
	}
	time_t t;
	int tz;
	test_assert(rfc5322_date_parse("Fri, 21 Nov 1997 09:55:06 -0600", &t, &tz) == 0 &&
		    t == 880127706 && tz == -360);
	test_end();
}

static void test_rfc5322_comment_nesting(void)
{
	test_begin("rfc5322_date_parse comment nesting");
	string_t *str = t_str_new(512);
	str_append(str, "Sat, 21 Nov 2026 19:57:31 +0000 ");
	for (unsigned int i = 0; i < 40; i++)
		str_append_c(str, '(');
	for (unsigned int i = 0; i < 40; i++)
		str_append_c(str, ')');
	time_t t;
	int tz;
	test_assert(rfc5322_date_parse(str_c(str), &t, &tz) == 0);
	/* absurd nesting is refused rather than counted forever */
	str_truncate(str, 0);
	str_append(str, "Sat, 21 Nov 2026 19:57:31 +0000 ");
	for (unsigned int i = 0; i < 10000; i++)
		str_append_c(str, '(');
	for (unsigned int i = 0; i < 10000; i++)
		str_append_c(str, ')');
	test_assert(rfc5322_date_parse(str_c(str), &t, &tz) == -1);
	test_end();
}

static void test_rfc5322_date_format(void)
{
	static const struct {
		time_t t;
		int tz_offset;
		const char *str;
	} tests[] = {
		{ 1795291051, 0, "Sat, 21 Nov 2026 19:57:31 +0000" },
		{ 880127706, -360, "Fri, 21 Nov 1997 09:55:06 -0600" },
		{ 1057049557, 120, "Tue, 1 Jul 2003 10:52:37 +0200" },
		{ -27723426, -210, "Thu, 13 Feb 1969 23:32:54 -0330" },
		{ 0, 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
		{ 951825600, 0, "Tue, 29 Feb 2000 12:00:00 +0000" },
		{ 253402300799LL, 0, "Fri, 31 Dec 9999 23:59:59 +0000" },
		{ 1795291051, 6000, "Sat, 21 Nov 2026 19:57:31 +0000" },
	};

	test_begin("rfc5322_date_format");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++)
		test_assert_strcmp(rfc5322_date_format(tests[i].t, tests[i].tz_offset), tests[i].str);
	test_end();
}

static void test_rfc5322_date_round_trip(void)
{
	test_begin("rfc5322_date round trip");
	unsigned int failures = 0;
	for (int64_t t = -2208988800LL; t < 253402300799LL - 200000; t += 8640017 * 5) {
		for (unsigned int z = 0; z < N_ELEMENTS(round_trip_zones); z++) {
			time_t t2;
			int tz2;
			const char *s = rfc5322_date_format((time_t)t, round_trip_zones[z]);
			if (rfc5322_date_parse(s, &t2, &tz2) != 0 || t2 != t ||
			    tz2 != round_trip_zones[z]) {
				if (failures++ < 5)
					printf("  round trip failed: %lld %d '%s'\n",
					       (long long)t, round_trip_zones[z], s);
			}
		}
		t_pool_clear();
	}
	test_assert(failures == 0);
	test_end();
}

static void test_leap_years(void)
{
	static const struct { int year; bool leap; } years[] = {
		{ 1600, true }, { 1700, false }, { 1800, false }, { 1900, false },
		{ 1996, true }, { 1999, false }, { 2000, true }, { 2004, true },
		{ 2023, false }, { 2024, true }, { 2100, false }, { 2400, true },
	};

	test_begin("leap years");
	for (unsigned int i = 0; i < N_ELEMENTS(years); i++) {
		const char *s = t_strdup_printf("29-Feb-%04d", years[i].year);
		time_t t;
		test_assert((imap_date_parse(s, &t) == 0) == years[i].leap);
		s = t_strdup_printf("29 Feb %04d 00:00 +0000", years[i].year);
		int tz;
		test_assert((rfc5322_date_parse(s, &t, &tz) == 0) == years[i].leap);
		/* 1 March is one day after 28 February either way */
		time_t feb28, mar1;
		test_assert(imap_date_parse(t_strdup_printf("28-Feb-%04d", years[i].year), &feb28) == 0);
		test_assert(imap_date_parse(t_strdup_printf("1-Mar-%04d", years[i].year), &mar1) == 0);
		test_assert(mar1 - feb28 == (years[i].leap ? 2 : 1) * 86400);
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_utc_mktime,
		test_imap_date_time_parse,
		test_imap_date_time_format,
		test_imap_date_time_round_trip,
		test_imap_date,
		test_rfc5322_date_parse,
		test_rfc5322_comment_nesting,
		test_rfc5322_date_format,
		test_rfc5322_date_round_trip,
		test_leap_years,
		NULL
	};
	/* the results must not depend on the local zone */
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	return test_run(tests);
}
