/* Parsing and formatting of IMAP date-time and date (RFC 9051 §9) and of
 * RFC 5322 §3.3 dates, including the obsolete syntax of RFC 5322 §4.3.
 * All arithmetic is in UTC: the local time zone is never consulted. */
#include "date.h"
#include "pool.h"

#include <strings.h>

/* Largest zone offset expressible as +hhmm: +9959. */
#define DATE_MAX_TZ_MINUTES (99 * 60 + 59)
/* Nesting of RFC 5322 comments beyond any real use. */
#define DATE_MAX_COMMENT_DEPTH 64

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};
static const char *const weekday_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* The broken-down date fields the parsers fill in. */
struct date_fields {
	int year, month, day; /* month 1-12 */
	int hour, min, sec;
	int tz_offset; /* minutes east of UTC */
};

static bool date_is_leap_year(int64_t year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int date_days_in_month(int64_t year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && date_is_leap_year(year))
		return 29;
	return days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date; month is 1-12 and
   day is counted linearly, so an out-of-range day rolls over. The year is
   shifted to start in March so that the leap day comes last. */
static int64_t date_days_from_civil(int64_t year, int64_t month, int64_t day)
{
	year -= month <= 2 ? 1 : 0;
	int64_t era = (year >= 0 ? year : year - 399) / 400;
	int64_t yoe = year - era * 400;                              /* [0, 399] */
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

time_t utc_mktime(const struct tm *tm)
{
	/* normalise the month like mktime() does; the other fields are
	   counted linearly */
	int64_t month = tm->tm_mon;
	int64_t year = (int64_t)tm->tm_year + 1900 + month / 12;
	month %= 12;
	if (month < 0) {
		month += 12;
		year--;
	}
	int64_t days = date_days_from_civil(year, month + 1, tm->tm_mday);
	return (time_t)(days * 86400 + (int64_t)tm->tm_hour * 3600 +
			(int64_t)tm->tm_min * 60 + tm->tm_sec);
}

static bool date_fields_valid(const struct date_fields *f)
{
	return f->month >= 1 && f->month <= 12 && f->day >= 1 &&
	       f->day <= date_days_in_month(f->year, f->month) &&
	       f->hour >= 0 && f->hour < 24 && f->min >= 0 && f->min < 60 &&
	       /* 60 is a leap second; it counts as the next day's 00:00:00 */
	       f->sec >= 0 && f->sec <= 60 &&
	       f->tz_offset >= -DATE_MAX_TZ_MINUTES && f->tz_offset <= DATE_MAX_TZ_MINUTES;
}

static time_t date_fields_to_time(const struct date_fields *f)
{
	struct tm tm = {
		.tm_year = f->year - 1900, .tm_mon = f->month - 1, .tm_mday = f->day,
		.tm_hour = f->hour, .tm_min = f->min, .tm_sec = f->sec,
	};
	return utc_mktime(&tm) - (time_t)f->tz_offset * 60;
}

/* Breaks t, as seen in zone tz_offset, into tm. Times outside the years
   0000-9999 are clamped so that every formatted year has four digits. */
static void date_time_to_tm(time_t t, int tz_offset, struct tm *tm_r)
{
	const int64_t min_t = date_days_from_civil(0, 1, 1) * 86400;
	const int64_t max_t = date_days_from_civil(10000, 1, 1) * 86400 - 1;
	int64_t local = t;

	if (local < min_t)
		local = min_t;
	if (local > max_t)
		local = max_t;
	local += (int64_t)tz_offset * 60;
	local = local < min_t ? min_t : (local > max_t ? max_t : local);
	time_t lt = (time_t)local;
	if (gmtime_r(&lt, tm_r) == NULL)
		i_unreached();
}

/* Offsets that cannot be written as +hhmm are a caller bug, but the time
   stays right if they are shown as UTC. */
static int date_tz_sanitize(int tz_offset)
{
	if (tz_offset < -DATE_MAX_TZ_MINUTES || tz_offset > DATE_MAX_TZ_MINUTES)
		return 0;
	return tz_offset;
}

static char date_tz_sign(int tz_offset)
{
	return tz_offset < 0 ? '-' : '+';
}

static int date_tz_hhmm(int tz_offset)
{
	int abs_offset = tz_offset < 0 ? -tz_offset : tz_offset;
	return abs_offset / 60 * 100 + abs_offset % 60;
}

/* Reads exactly n digits (n ≤ 4). */
static int date_parse_digits(const char **p, unsigned int n, int *num_r)
{
	int num = 0;
	for (unsigned int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		num = num * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*num_r = num;
	return 0;
}

/* Reads min..max digits (max ≤ 4); returns how many were read, or -1. */
static int date_parse_digits_range(const char **p, unsigned int min, unsigned int max,
				   int *num_r)
{
	unsigned int n = 0;
	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9')
		n++;
	if (n < min || ((*p)[n] >= '0' && (*p)[n] <= '9'))
		return -1;
	if (date_parse_digits(p, n, num_r) < 0)
		return -1;
	return (int)n;
}

/* Matches a 3-letter month abbreviation case-insensitively (RFC 9051 §9
   date-month; ABNF literals ignore case). Returns 1-12 or -1. */
static int date_parse_month_abbr(const char **p)
{
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(*p, month_names[i], 3) == 0) {
			*p += 3;
			return i + 1;
		}
	}
	return -1;
}

/* "+hhmm" or "-hhmm" with minutes below 60. */
static int date_parse_numeric_zone(const char **p, int *tz_offset_r)
{
	int sign = **p == '+' ? 1 : (**p == '-' ? -1 : 0);
	int hhmm;

	if (sign == 0)
		return -1;
	(*p)++;
	if (date_parse_digits(p, 4, &hhmm) < 0 || hhmm % 100 >= 60)
		return -1;
	*tz_offset_r = sign * (hhmm / 100 * 60 + hhmm % 100);
	return 0;
}

int imap_date_time_parse(const char *str, time_t *time_r, int *tz_offset_r)
{
	struct date_fields f;
	const char *p = str;

	/* RFC 9051 §9 date-day-fixed = (SP DIGIT) / 2DIGIT; a bare single
	   digit is accepted too, as sent by some clients */
	bool space_padded = *p == ' ';
	if (space_padded)
		p++;
	if (date_parse_digits_range(&p, 1, space_padded ? 1 : 2, &f.day) < 0 ||
	    *p++ != '-' ||
	    (f.month = date_parse_month_abbr(&p)) < 0 || *p++ != '-' ||
	    date_parse_digits(&p, 4, &f.year) < 0 || *p++ != ' ' ||
	    date_parse_digits(&p, 2, &f.hour) < 0 || *p++ != ':' ||
	    date_parse_digits(&p, 2, &f.min) < 0 || *p++ != ':' ||
	    date_parse_digits(&p, 2, &f.sec) < 0 || *p++ != ' ' ||
	    date_parse_numeric_zone(&p, &f.tz_offset) < 0 || *p != '\0')
		return -1;
	if (!date_fields_valid(&f))
		return -1;
	*time_r = date_fields_to_time(&f);
	*tz_offset_r = f.tz_offset;
	return 0;
}

const char *imap_date_time_format(time_t t, int tz_offset)
{
	struct tm tm;

	tz_offset = date_tz_sanitize(tz_offset);
	date_time_to_tm(t, tz_offset, &tm);
	return t_strdup_printf("%2d-%.3s-%04d %02d:%02d:%02d %c%04d", tm.tm_mday,
			       month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			       tm.tm_min, tm.tm_sec, date_tz_sign(tz_offset),
			       date_tz_hhmm(tz_offset));
}

int imap_date_parse(const char *str, time_t *time_r)
{
	struct date_fields f = { .hour = 0 };
	const char *p = str;

	/* RFC 9051 §9 date-text = date-day "-" date-month "-" date-year,
	   date-day = 1*2DIGIT */
	if (date_parse_digits_range(&p, 1, 2, &f.day) < 0 || *p++ != '-' ||
	    (f.month = date_parse_month_abbr(&p)) < 0 || *p++ != '-' ||
	    date_parse_digits(&p, 4, &f.year) < 0 || *p != '\0')
		return -1;
	if (!date_fields_valid(&f))
		return -1;
	*time_r = date_fields_to_time(&f);
	return 0;
}

const char *imap_date_format(time_t t)
{
	struct tm tm;

	date_time_to_tm(t, 0, &tm);
	return t_strdup_printf("%d-%.3s-%04d", tm.tm_mday, month_names[tm.tm_mon],
			       tm.tm_year + 1900);
}

const char *rfc5322_date_format(time_t t, int tz_offset)
{
	struct tm tm;

	tz_offset = date_tz_sanitize(tz_offset);
	date_time_to_tm(t, tz_offset, &tm);
	return t_strdup_printf("%.3s, %d %.3s %04d %02d:%02d:%02d %c%04d",
			       weekday_names[tm.tm_wday], tm.tm_mday,
			       month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			       tm.tm_min, tm.tm_sec, date_tz_sign(tz_offset),
			       date_tz_hhmm(tz_offset));
}

/* RFC 5322 parsing: a cursor skipping CFWS between tokens. */

static bool date_is_wsp(char c)
{
	/* folding (CRLF followed by WSP) is taken as plain whitespace */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool date_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skips whitespace and comments (RFC 5322 §3.2.2 CFWS; comments nest and
   may contain quoted-pairs). Fails on an unterminated comment. */
static int date_skip_cfws(const char **p)
{
	const char *s = *p;
	unsigned int depth = 0;

	for (; *s != '\0'; s++) {
		if (depth == 0 && date_is_wsp(*s))
			continue;
		if (*s == '(') {
			if (++depth > DATE_MAX_COMMENT_DEPTH)
				return -1;
		} else if (depth == 0) {
			break;
		} else if (*s == ')') {
			depth--;
		} else if (*s == '\\' && s[1] != '\0') {
			s++;
		}
	}
	if (depth > 0)
		return -1;
	*p = s;
	return 0;
}

/* Reads a word of letters into its length; returns the length (0 if none). */
static size_t date_word_len(const char *p)
{
	size_t len = 0;
	while (date_is_alpha(p[len]))
		len++;
	return len;
}

/* True if word (len letters, ≥ 3) is a case-insensitive prefix of name,
   so "Nov", "November" and "Sept" are all accepted. */
static bool date_word_matches(const char *word, size_t len, const char *name)
{
	return len >= 3 && len <= strlen(name) && strncasecmp(word, name, len) == 0;
}

/* Skips an optional day-of-week ("Sat," RFC 5322 §3.3; the comma is
   sometimes missing in practice). Its value is not checked against the
   date: mismatches are common and harmless. */
static int rfc5322_skip_weekday(const char **p)
{
	size_t len = date_word_len(*p);
	if (len == 0)
		return 0;
	for (unsigned int i = 0; i < N_ELEMENTS(weekday_names); i++) {
		if (date_word_matches(*p, len, weekday_names[i])) {
			*p += len;
			if (date_skip_cfws(p) < 0)
				return -1;
			if (**p == ',')
				(*p)++;
			return date_skip_cfws(p);
		}
	}
	return -1;
}

static int rfc5322_parse_month(const char **p, int *month_r)
{
	size_t len = date_word_len(*p);
	for (int i = 0; i < 12; i++) {
		if (date_word_matches(*p, len, month_names[i])) {
			*p += len;
			*month_r = i + 1;
			return 0;
		}
	}
	return -1;
}

/* RFC 5322 §4.3: 2-digit years 00-49 are 2000-2049, 50-99 and all
   3-digit years count from 1900. */
static int rfc5322_parse_year(const char **p, int *year_r)
{
	int n = date_parse_digits_range(p, 2, 4, year_r);
	if (n < 0)
		return -1;
	if (n == 2)
		*year_r += *year_r < 50 ? 2000 : 1900;
	else if (n == 3)
		*year_r += 1900;
	return 0;
}

/* time-of-day = hour ":" minute [ ":" second ]; the obsolete forms allow
   CFWS around each number (RFC 5322 §4.3). A 1-digit hour is accepted. */
static int rfc5322_parse_time(const char **p, struct date_fields *f)
{
	if (date_parse_digits_range(p, 1, 2, &f->hour) < 0 ||
	    date_skip_cfws(p) < 0 || *(*p)++ != ':' || date_skip_cfws(p) < 0 ||
	    date_parse_digits(p, 2, &f->min) < 0 || date_skip_cfws(p) < 0)
		return -1;
	f->sec = 0;
	if (**p != ':')
		return 0;
	(*p)++;
	if (date_skip_cfws(p) < 0 || date_parse_digits(p, 2, &f->sec) < 0 ||
	    date_skip_cfws(p) < 0)
		return -1;
	return 0;
}

/* RFC 5322 §4.3 obs-zone names; military letters and names we don't know
   ("CET", "MET") carry no reliable offset and count as +0000 ("-0000"
   semantics: UTC, local zone unknown). */
static int rfc5322_zone_name_offset(const char *name, size_t len)
{
	static const struct { const char *name; int offset; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 * 60 }, { "EDT", -4 * 60 },
		{ "CST", -6 * 60 }, { "CDT", -5 * 60 },
		{ "MST", -7 * 60 }, { "MDT", -6 * 60 },
		{ "PST", -8 * 60 }, { "PDT", -7 * 60 },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(zones); i++) {
		if (strlen(zones[i].name) == len && strncasecmp(name, zones[i].name, len) == 0)
			return zones[i].offset;
	}
	return 0;
}

/* Zone abbreviations are at most 5 letters ("CHADT"); a longer word is
   not a zone but junk. */
#define DATE_MAX_ZONE_NAME_LEN 5

/* zone = numeric "+hhmm"/"-hhmm", optionally followed by a zone name
   ("+0100 CET"); or an obsolete/unknown zone name; or nothing (+0000). */
static int rfc5322_parse_zone(const char **p, int *tz_offset_r)
{
	bool numeric = **p == '+' || **p == '-';

	*tz_offset_r = 0;
	if (numeric && (date_parse_numeric_zone(p, tz_offset_r) < 0 ||
			date_skip_cfws(p) < 0))
		return -1;
	size_t len = date_word_len(*p);
	if (len > DATE_MAX_ZONE_NAME_LEN)
		return -1;
	/* after a numeric zone the name is only a comment-like hint */
	if (!numeric && len > 0)
		*tz_offset_r = rfc5322_zone_name_offset(*p, len);
	*p += len;
	return 0;
}

int rfc5322_date_parse(const char *str, time_t *time_r, int *tz_offset_r)
{
	struct date_fields f;
	const char *p = str;

	if (date_skip_cfws(&p) < 0 || rfc5322_skip_weekday(&p) < 0 ||
	    date_parse_digits_range(&p, 1, 2, &f.day) < 0 || date_skip_cfws(&p) < 0 ||
	    rfc5322_parse_month(&p, &f.month) < 0 || date_skip_cfws(&p) < 0 ||
	    rfc5322_parse_year(&p, &f.year) < 0 || date_skip_cfws(&p) < 0 ||
	    rfc5322_parse_time(&p, &f) < 0 || date_skip_cfws(&p) < 0 ||
	    rfc5322_parse_zone(&p, &f.tz_offset) < 0 || date_skip_cfws(&p) < 0 ||
	    *p != '\0')
		return -1;
	if (!date_fields_valid(&f))
		return -1;
	*time_r = date_fields_to_time(&f);
	*tz_offset_r = f.tz_offset;
	return 0;
}
