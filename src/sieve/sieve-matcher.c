/* Matching at run time (RFC 5228 §2.7): one test's values against its key
 * list with the node's comparator and match type, including the relational
 * :count/:value (RFC 5231 §4), :regex (draft-ietf-sieve-regex) and the
 * match variables of RFC 5229 §3.2. */
#include "sieve-run.h"

#include <stdio.h>

struct sieve_match {
	struct sieve_run *run;
	const struct sieve_ast_node *node;
	const char *const *keys;
	unsigned int key_count;
	uint64_t count;
	bool matched;
};

struct sieve_match *sieve_run_match_begin(struct sieve_run *run,
					  const struct sieve_ast_node *node,
					  const struct sieve_ast_arg *keys)
{
	struct sieve_match *match = p_new(run->pool, struct sieve_match, 1);

	match->run = run;
	match->node = node;
	match->key_count = sieve_run_strings(run, keys, &match->keys);
	return match;
}

void sieve_match_split_keys(struct sieve_match *match)
{
	ARRAY(const char *) keys;

	if (match->node->match_type == SIEVE_MATCH_COUNT)
		return;
	array_init(&keys, match->run->pool, match->key_count + 4);
	for (unsigned int i = 0; i < match->key_count; i++) {
		const char *p = match->keys[i];

		/* bounded by the keys' length */
		while (*p != '\0') {
			const char *end = strchr(p, ' ');
			size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

			if (len > 0)
				array_push(&keys, p_strndup(match->run->pool, p, len));
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	array_push(&keys, NULL);
	match->keys = keys.v;
	match->key_count = keys.count - 1;
}

void sieve_run_set_match_values(struct sieve_run *run, const char *value,
				const struct sieve_match_capture *cap)
{
	if (!run->variables || run->match_values_off)
		return;
	for (unsigned int i = 0; i < SIEVE_MATCH_MAX_CAPTURES; i++) {
		run->match_values[i] = i >= cap->count ? NULL :
			p_strndup(run->pool, value + cap->start[i], cap->len[i]);
	}
	run->match_count = cap->count;
}

static int match_one(struct sieve_match *match, const char *value, const char *key)
{
	const struct sieve_ast_node *node = match->node;
	struct sieve_match_capture cap;
	int ret;

	switch (node->match_type) {
	case SIEVE_MATCH_MATCHES:
		if (!sieve_match_wildcards(node->comparator, value, key, &cap))
			return 0;
		sieve_run_set_match_values(match->run, value, &cap);
		return 1;
	case SIEVE_MATCH_VALUE:
		return sieve_relation_holds(node->relation,
			sieve_comparator_compare(node->comparator, value, key)) ? 1 : 0;
	case SIEVE_MATCH_REGEX:
		ret = sieve_regex_match(match->run, node, value, key, &cap);
		if (ret > 0)
			sieve_run_set_match_values(match->run, value, &cap);
		return ret;
	default:
		return sieve_match(node->comparator, node->match_type, value, key) ? 1 : 0;
	}
}

int sieve_run_match_value(struct sieve_match *match, const char *value)
{
	if (match->node->match_type == SIEVE_MATCH_COUNT) {
		match->count++;
		return 0;
	}
	for (unsigned int i = 0; i < match->key_count; i++) {
		int ret = match_one(match, value, match->keys[i]);

		if (ret != 0) {
			if (ret > 0)
				match->matched = true;
			return ret;
		}
	}
	return 0;
}

int sieve_run_match_end(struct sieve_match **_match)
{
	struct sieve_match *match = *_match;
	int ret = match->matched ? 1 : 0;

	*_match = NULL;
	if (match->node->match_type == SIEVE_MATCH_COUNT) {
		char count[32];

		/* RFC 5231 §4.1: the number of values, compared as a
		   decimal string with the comparator */
		(void)snprintf(count, sizeof(count), "%llu", (unsigned long long)match->count);
		for (unsigned int i = 0; i < match->key_count && ret == 0; i++) {
			if (sieve_relation_holds(match->node->relation,
				sieve_comparator_compare(match->node->comparator,
							 count, match->keys[i])))
				ret = 1;
		}
	}
	return ret;
}
