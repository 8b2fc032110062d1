/* The regex match type (draft-ietf-sieve-regex-01): ":regex" keys are
 * POSIX extended regular expressions, case-insensitive under
 * i;ascii-casemap; groups fill the match variables. Back-references are
 * refused so that matching stays polynomial, patterns whose repetitions
 * would make regcomp() huge too, and a match gets only the CPU time the
 * script has left (regex-bounded.h). */
#include "sieve-run.h"
#include "regex-bounded.h"

#include <regex.h>

/* longest pattern accepted */
#define SIEVE_REGEX_MAX_PATTERN 1024
/* the most elements a pattern may expand to. glibc's regcomp() copies
   the tree under a repetition ("x+" is "xx*", "x{n,m}" m copies of x,
   m - n of them optional and nested, which costs it (m - n)^2 in its
   closures: "[a-z]{1,9900}" took 1.2 GB), so a short pattern like
   "((a{100}){100}){100}" or "x++++..." would otherwise take gigabytes.
   At the limit regcomp() takes about 30 MB and tens of milliseconds. */
#define SIEVE_REGEX_MAX_NODES 100000
/* (m - n)^2 / this counts as elements too */
#define SIEVE_REGEX_OPTIONAL_DIVISOR 32
#define SIEVE_REGEX_MAX_DEPTH 64

/* The end of the bracket expression starting at p ('['). */
static const char *regex_bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char kind = p[1];
			const char *end = p + 2;
			while (*end != '\0' && !(end[0] == kind && end[1] == ']'))
				end++;
			if (*end == '\0')
				return end;
			p = end + 2;
			continue;
		}
		p++;
	}
	return *p == ']' ? p + 1 : p;
}

/* How many elements a repetition at p makes of an atom of size elements
   (size when there is none); moves *p past it. */
static uint64_t regex_repeat_size(const char **_p, uint64_t size)
{
	const char *p = *_p;
	for (;;) {
		if (*p == '*' || *p == '?') {
			p++;
		} else if (*p == '+') {
			size *= 2;
			p++;
		} else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
			/* {n}: n copies; {n,m}: m, m - n of them optional;
			   {n,}: n and a starred one */
			uint64_t min = 0, max;
			const char *q = p + 1;
			while (*q >= '0' && *q <= '9' && min <= SIEVE_REGEX_MAX_NODES)
				min = min * 10 + (uint64_t)(*q++ - '0');
			max = min;
			if (*q == ',') {
				q++;
				if (*q >= '0' && *q <= '9') {
					max = 0;
					while (*q >= '0' && *q <= '9' && max <= SIEVE_REGEX_MAX_NODES)
						max = max * 10 + (uint64_t)(*q++ - '0');
				} else {
					max = min + 1;
				}
			}
			while (*q >= '0' && *q <= '9')
				q++;
			if (*q != '}')
				break; /* not a repetition: regcomp() judges it */
			uint64_t copies = max > min ? max : min;
			uint64_t optional = max > min ? max - min : 0;
			size = size * (copies > 0 ? copies : 1) +
				size * optional * optional / SIEVE_REGEX_OPTIONAL_DIVISOR;
			p = q + 1;
		} else {
			break;
		}
		if (size > SIEVE_REGEX_MAX_NODES)
			size = SIEVE_REGEX_MAX_NODES + 1;
	}
	*_p = p;
	return size;
}

/* An estimate of what regcomp() makes of the ERE key, in elements: each
   atom counts once per copy the repetitions around it make, plus the
   nesting of optional copies. */
static uint64_t regex_expanded_size(const char *key)
{
	uint64_t sum[SIEVE_REGEX_MAX_DEPTH + 1] = { 0 };
	unsigned int depth = 0;
	const char *p = key;
	while (*p != '\0') {
		uint64_t atom;
		if (*p == '(') {
			if (depth == SIEVE_REGEX_MAX_DEPTH)
				return UINT64_MAX;
			sum[++depth] = 0;
			p++;
			continue;
		}
		if (*p == ')' && depth > 0) {
			atom = sum[depth--] + 1;
			p++;
		} else if (*p == '[') {
			atom = 1;
			p = regex_bracket_end(p);
		} else if (*p == '\\' && p[1] != '\0') {
			atom = 1;
			p += 2;
		} else {
			atom = 1;
			p++;
		}
		sum[depth] += regex_repeat_size(&p, atom);
		if (sum[depth] > SIEVE_REGEX_MAX_NODES)
			return UINT64_MAX;
	}
	uint64_t total = 0;
	for (unsigned int i = 0; i <= depth; i++)
		total += sum[i];
	return total;
}

static int regex_compile(regex_t *re, const char *key, enum sieve_comparator cmp,
			 const char **error_r)
{
	char errbuf[128];
	int ret;

	if (strlen(key) > SIEVE_REGEX_MAX_PATTERN) {
		*error_r = t_strdup_printf("regular expression longer than the limit of %u "
					   "bytes", SIEVE_REGEX_MAX_PATTERN);
		return -2;
	}
	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
			*error_r = "back-references are not supported in :regex";
			return -1;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
	}
	if (regex_expanded_size(key) > SIEVE_REGEX_MAX_NODES) {
		*error_r = t_strdup_printf("regular expression too complex: its repetitions "
					   "expand it past %u elements", SIEVE_REGEX_MAX_NODES);
		return -2;
	}
	ret = regcomp(re, key, REG_EXTENDED |
		      (cmp == SIEVE_COMPARATOR_ASCII_CASEMAP ? REG_ICASE : 0));
	if (ret != 0) {
		(void)regerror(ret, re, errbuf, sizeof(errbuf));
		*error_r = t_strdup_printf("invalid regular expression \"%s\": %s", key, errbuf);
		return -1;
	}
	return 0;
}

/* Called for every node with a :regex match type through the validator's
   generic hook below: the key list is checked when it is constant. */
int sieve_regex_validate_keys(struct sieve_validator *validator,
			      const struct sieve_ast_node *node,
			      const struct sieve_ast_arg *keys, const char **error_r)
{
	regex_t re;

	if (node->comparator == SIEVE_COMPARATOR_ASCII_NUMERIC) {
		*error_r = "comparator i;ascii-numeric cannot be used with :regex";
		return -1;
	}
	for (unsigned int i = 0; i < keys->string_count; i++) {
		if (sieve_validator_string_is_dynamic(validator, keys->strings[i]))
			continue;
		if (regex_compile(&re, keys->strings[i], node->comparator, error_r) < 0)
			return -1;
		regfree(&re);
	}
	return 0;
}

int sieve_regex_match(struct sieve_run *run, const struct sieve_ast_node *node,
		      const char *value, const char *key, struct sieve_match_capture *cap)
{
	regmatch_t groups[SIEVE_MATCH_MAX_CAPTURES];
	const char *error;
	regex_t re;
	int ret;

	/* a key made at run time (variables) that is no valid regex
	   matches nothing; the script goes on (constant keys were checked
	   when compiling) */
	ret = regex_compile(&re, key, node->comparator, &error);
	if (ret == -2) /* a resource limit ends the run like the others */
		return sieve_run_error(run, node, "%s", error);
	if (ret < 0) {
		sieve_run_warning(run, node, "%s", error);
		return 0;
	}
	/* the value may be long and chosen by the sender: the match gets
	   the CPU time the script has left */
	uint64_t left_us = sieve_run_cpu_left_us(run), child_us;
	ret = left_us == 0 ? -1 :
		sieve_regexec_bounded(&re, value, N_ELEMENTS(groups), groups, left_us,
				      &child_us, &error);
	regfree(&re);
	if (left_us > 0)
		sieve_run_charge_cpu(run, child_us);
	if (ret == -1) {
		return sieve_run_error(run, node, "CPU time limit exceeded (%u ms)",
				       run->limits.max_cpu_ms);
	}
	if (ret == -2)
		return sieve_run_error(run, node, "regular expression match failed: %s", error);
	if (ret == 0)
		return 0;
	memset(cap, 0, sizeof(*cap));
	for (unsigned int i = 0; i < N_ELEMENTS(groups); i++) {
		if (groups[i].rm_so < 0) {
			cap->start[i] = 0;
			cap->len[i] = 0;
		} else {
			cap->start[i] = (size_t)groups[i].rm_so;
			cap->len[i] = (size_t)(groups[i].rm_eo - groups[i].rm_so);
		}
		cap->count = i + 1;
	}
	return 1;
}

const struct sieve_extension_def sieve_ext_regex = {
	.name = "regex",
};
