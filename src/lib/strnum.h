/* Safe number parsing: no sign surprises, no overflow, no trailing junk
 * unless asked for. Also the human units used in configuration: sizes
 * ("64k", "10M", "1G") and durations ("30s", "5m", "2h", "1d", "250ms"). */
#ifndef TERN_STRNUM_H
#define TERN_STRNUM_H

#include "lib.h"

/* Parse a whole string of decimal digits. Return 0 on success, -1 on empty
   input, non-digits or overflow. */
int str_to_uint64(const char *str, uint64_t *num_r);
int str_to_uint32(const char *str, uint32_t *num_r);
int str_to_uint(const char *str, unsigned int *num_r);
/* Accepts an optional leading '-'. */
int str_to_int64(const char *str, int64_t *num_r);
/* Parses leading digits; *end_r points past them. Fails on no digits or
   overflow. */
int str_parse_uint64(const char *str, uint64_t *num_r, const char **end_r);
/* Parses "n" or "n" followed by a unit k/K, m/M, g/G, t/T (powers of 1024),
   optionally followed by "B"/"iB"; spaces between are allowed. */
int str_parse_size(const char *str, uint64_t *bytes_r);
/* Parses "n" with unit ms, s, m, h, d (also "secs", "mins", "hours",
   "days" and their singulars); a bare number is seconds. Result in ms. */
int str_parse_duration_ms(const char *str, uint64_t *msecs_r);
/* Formats sizes and durations back into the shortest exact unit form. */
const char *str_format_size(uint64_t bytes);
const char *str_format_duration_ms(uint64_t msecs);
/* True if str is entirely decimal digits (and non-empty). */
bool str_is_numeric(const char *str);

#endif
