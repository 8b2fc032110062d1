/* Fuzzes the date parsers (IMAP date-time and date from APPEND and
 * SEARCH, RFC 5322 Date: headers): no crash, and whatever parses formats
 * and parses back to the same time. */
#include "date.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str = t_strndup(data, size);
	time_t t, t2;
	int tz, tz2;
	if (imap_date_time_parse(str, &t, &tz) == 0) {
		if (imap_date_time_parse(imap_date_time_format(t, tz), &t2, &tz2) != 0 ||
		    t != t2 || tz != tz2)
			__builtin_trap();
	}
	if (imap_date_parse(str, &t) == 0)
		(void)imap_date_format(t);
	if (rfc5322_date_parse(str, &t, &tz) == 0) {
		if (rfc5322_date_parse(rfc5322_date_format(t, tz), &t2, &tz2) != 0 || t != t2)
			__builtin_trap();
	}
	t_pool_clear();
	return 0;
}
