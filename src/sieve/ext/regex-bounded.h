/* regexec() under a CPU budget (ext/regex.c). glibc's matcher is
 * polynomial but not linear in the value: "(.*)@(.*)\.(com|net)" took
 * 17 s on a 100 kB header, and a message's sender chooses the value. A
 * long value is matched in a child process that the kernel stops once it
 * has used the CPU time the script has left. */
#ifndef TERN_SIEVE_REGEX_BOUNDED_H
#define TERN_SIEVE_REGEX_BOUNDED_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

/* values up to this long are matched in the process itself (tens of
   milliseconds at worst) */
#define SIEVE_REGEX_INLINE_MAX 4096

/* Matches value against re with up to nmatch groups. Returns 1 (matched,
   groups filled), 0 (no match), -1 (the budget ran out), -2 (a system
   call failed: *error_r). *child_us_r is the CPU time a child spent (0
   when matched in the process). */
int sieve_regexec_bounded(const regex_t *re, const char *value, size_t nmatch,
			  regmatch_t *groups, uint64_t budget_us, uint64_t *child_us_r,
			  const char **error_r);

#endif
