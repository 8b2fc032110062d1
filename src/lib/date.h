/* Date formats of the mail protocols:
 *  - IMAP date-time  "21-Nov-2026 19:57:31 +0000" (RFC 9051 §9, INTERNALDATE, APPEND)
 *  - IMAP date       "21-Nov-2026" (SEARCH keys), also with a 1-digit day
 *  - RFC 5322 date   "Sat, 21 Nov 2026 19:57:31 +0000" (Date: header),
 *    parsed leniently: obsolete zones (UT, GMT, EST...; military letters),
 *    2-digit years (RFC 5322 §4.3), missing weekday or seconds,
 *    comments, extra whitespace.
 * Times are time_t (UTC); zone offsets are minutes east of UTC. */
#ifndef TERN_DATE_H
#define TERN_DATE_H

#include "lib.h"
#include <time.h>

/* Returns 0 and the UTC time and zone on success, -1 on malformed input. */
int imap_date_time_parse(const char *str, time_t *time_r, int *tz_offset_r);
/* Formats t as seen in zone tz_offset (minutes). Temporary memory. */
const char *imap_date_time_format(time_t t, int tz_offset);
/* Parses an IMAP date (no time); the result is 00:00:00 UTC of that day. */
int imap_date_parse(const char *str, time_t *time_r);
const char *imap_date_format(time_t t);

int rfc5322_date_parse(const char *str, time_t *time_r, int *tz_offset_r);
const char *rfc5322_date_format(time_t t, int tz_offset);

/* UTC time from broken-down fields without consulting the local zone. */
time_t utc_mktime(const struct tm *tm);

#endif
