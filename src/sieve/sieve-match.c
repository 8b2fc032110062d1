/* Comparators (RFC 4790) and Sieve match types (RFC 5228 §2.7.1). */
#include "sieve-match.h"

#include <strings.h>

struct comparator_info {
	const char *name;
	const char *extension;
};

static const struct comparator_info comparators[] = {
	[SIEVE_COMPARATOR_ASCII_CASEMAP] = { "i;ascii-casemap", NULL },
	[SIEVE_COMPARATOR_OCTET] = { "i;octet", NULL },
	[SIEVE_COMPARATOR_ASCII_NUMERIC] = { "i;ascii-numeric", "comparator-i;ascii-numeric" },
};

int sieve_comparator_lookup(const char *name, enum sieve_comparator *cmp_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(comparators); i++) {
		/* RFC 4790 §3.1: comparator names are case-insensitive */
		if (strcasecmp(comparators[i].name, name) == 0) {
			*cmp_r = (enum sieve_comparator)i;
			return 1;
		}
	}
	return 0;
}

const char *sieve_comparator_name(enum sieve_comparator cmp)
{
	return comparators[cmp].name;
}

const char *sieve_comparator_extension(enum sieve_comparator cmp)
{
	return comparators[cmp].extension;
}

bool sieve_comparator_supports(enum sieve_comparator cmp, enum sieve_match_type type)
{
	return cmp != SIEVE_COMPARATOR_ASCII_NUMERIC ||
		(type != SIEVE_MATCH_CONTAINS && type != SIEVE_MATCH_MATCHES &&
		 type != SIEVE_MATCH_REGEX);
}

static inline unsigned char cmp_fold(enum sieve_comparator cmp, unsigned char c)
{
	if (cmp == SIEVE_COMPARATOR_ASCII_CASEMAP && c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

/* RFC 4790 §9.1: the value of the leading digits; a string without a
   leading digit is "positive infinity", equal only to another such. */
static bool numeric_equals(const char *a, const char *b)
{
	bool a_inf = !(*a >= '0' && *a <= '9'), b_inf = !(*b >= '0' && *b <= '9');

	if (a_inf || b_inf)
		return a_inf && b_inf;
	/* compare digit strings without converting, so no overflow */
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	size_t alen = strspn(a, "0123456789"), blen = strspn(b, "0123456789");
	return alen == blen && memcmp(a, b, alen) == 0;
}

static bool match_is(enum sieve_comparator cmp, const char *value, const char *key)
{
	if (cmp == SIEVE_COMPARATOR_OCTET)
		return strcmp(value, key) == 0;
	if (cmp == SIEVE_COMPARATOR_ASCII_NUMERIC)
		return numeric_equals(value, key);
	return strcasecmp(value, key) == 0;
}

static bool match_contains(enum sieve_comparator cmp, const char *value, const char *key)
{
	size_t vlen = strlen(value), klen = strlen(key);

	if (klen > vlen)
		return false;
	for (size_t i = 0; i + klen <= vlen; i++) {
		size_t j = 0;
		while (j < klen && cmp_fold(cmp, (unsigned char)value[i + j]) ==
				   cmp_fold(cmp, (unsigned char)key[j]))
			j++;
		if (j == klen)
			return true;
	}
	return false;
}

/* Length of the UTF-8 character starting at p ('?' matches one character,
   RFC 5228 §2.7.1); invalid bytes count as one character each. */
static size_t utf8_char_len(const unsigned char *p)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xf0 && p[0] < 0xf8 ? 4 :
		p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 1;

	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 1;
	}
	return len;
}

static int numeric_compare(const char *a, const char *b)
{
	bool a_inf = !(*a >= '0' && *a <= '9'), b_inf = !(*b >= '0' && *b <= '9');

	if (a_inf || b_inf)
		return a_inf == b_inf ? 0 : a_inf ? 1 : -1;
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	size_t alen = strspn(a, "0123456789"), blen = strspn(b, "0123456789");
	if (alen != blen)
		return alen < blen ? -1 : 1;
	int ret = memcmp(a, b, alen);
	return ret < 0 ? -1 : ret > 0 ? 1 : 0;
}

int sieve_comparator_compare(enum sieve_comparator cmp, const char *a, const char *b)
{
	int ret;

	switch (cmp) {
	case SIEVE_COMPARATOR_ASCII_NUMERIC:
		return numeric_compare(a, b);
	case SIEVE_COMPARATOR_OCTET:
		ret = strcmp(a, b);
		break;
	case SIEVE_COMPARATOR_ASCII_CASEMAP:
	default:
		ret = strcasecmp(a, b);
		break;
	}
	return ret < 0 ? -1 : ret > 0 ? 1 : 0;
}

bool sieve_relation_holds(enum sieve_relation rel, int cmp_result)
{
	switch (rel) {
	case SIEVE_RELATION_GT: return cmp_result > 0;
	case SIEVE_RELATION_GE: return cmp_result >= 0;
	case SIEVE_RELATION_LT: return cmp_result < 0;
	case SIEVE_RELATION_LE: return cmp_result <= 0;
	case SIEVE_RELATION_EQ: return cmp_result == 0;
	case SIEVE_RELATION_NE: return cmp_result != 0;
	}
	return false;
}

int sieve_relation_lookup(const char *name, enum sieve_relation *rel_r)
{
	static const char *const names[] = { "gt", "ge", "lt", "le", "eq", "ne" };

	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(names[i], name) == 0) {
			*rel_r = (enum sieve_relation)i;
			return 1;
		}
	}
	return 0;
}

static void capture_set(struct sieve_match_capture *cap, unsigned int idx,
			size_t start, size_t len)
{
	if (cap == NULL || idx >= SIEVE_MATCH_MAX_CAPTURES)
		return;
	cap->start[idx] = start;
	cap->len[idx] = len;
	if (cap->count < idx + 1)
		cap->count = idx + 1;
}

/* Glob match with a single backtrack point, the last '*' seen: on a
   mismatch the star takes one more character. This is exact for patterns
   of '*', '?' and literals and bounded by O(n*m). */
static bool match_matches(enum sieve_comparator cmp, const char *value, const char *key,
			  struct sieve_match_capture *cap)
{
	const unsigned char *v0 = (const unsigned char *)value, *v = v0;
	const unsigned char *k = (const unsigned char *)key;
	const unsigned char *star_k = NULL, *star_v = NULL;
	/* wildcard index (capture ${n+1}) of the current star, and the next */
	unsigned int star_wi = 0, wi = 0;

	while (*v != '\0') {
		if (*k == '*') {
			star_k = ++k;
			star_v = v;
			star_wi = wi++;
			capture_set(cap, star_wi + 1, (size_t)(v - v0), 0);
			continue;
		}
		if (*k == '?') {
			size_t clen = utf8_char_len(v);

			capture_set(cap, ++wi, (size_t)(v - v0), clen);
			k++;
			v += clen;
			continue;
		}
		const unsigned char *lit = k;
		if (*lit == '\\' && lit[1] != '\0')
			lit++;
		if (*lit != '\0' && cmp_fold(cmp, *lit) == cmp_fold(cmp, *v)) {
			k = lit + 1;
			v++;
			continue;
		}
		if (star_k == NULL)
			return false;
		k = star_k;
		star_v += utf8_char_len(star_v);
		v = star_v;
		wi = star_wi + 1;
		if (cap != NULL && star_wi + 1 < SIEVE_MATCH_MAX_CAPTURES) {
			cap->len[star_wi + 1] = (size_t)(star_v - v0) - cap->start[star_wi + 1];
			/* later wildcards are matched anew */
			cap->count = I_MIN(cap->count, star_wi + 2);
		}
	}
	while (*k == '*') {
		capture_set(cap, ++wi, (size_t)(v - v0), 0);
		k++;
	}
	return *k == '\0';
}

bool sieve_match_wildcards(enum sieve_comparator cmp, const char *value, const char *key,
			   struct sieve_match_capture *cap_r)
{
	memset(cap_r, 0, sizeof(*cap_r));
	capture_set(cap_r, 0, 0, strlen(value));
	return match_matches(cmp, value, key, cap_r);
}

bool sieve_match(enum sieve_comparator cmp, enum sieve_match_type type,
		 const char *value, const char *key)
{
	switch (type) {
	case SIEVE_MATCH_IS:
		return match_is(cmp, value, key);
	case SIEVE_MATCH_CONTAINS:
		return match_contains(cmp, value, key);
	case SIEVE_MATCH_MATCHES:
		return match_matches(cmp, value, key, NULL);
	default:
		return false;
	}
}
