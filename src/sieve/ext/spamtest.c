/* The spamtest, spamtestplus and virustest extensions (RFC 5235): the
 * score from a header the caller names, scaled to 1..10 (spamtest), 0..100
 * (spamtestplus :percent) or 1..5 (virustest); "0" when the message was
 * not tested (§3.1-§3.3). */
#include "sieve-run.h"

#include <math.h>
#include <stdlib.h>

/* the first number in the header's value; 0 if none */
static int header_score(struct sieve_run *run, const struct sieve_ast_node *node,
			const char *header, double *score_r)
{
	const char *const *values;

	if (header == NULL)
		return 0;
	if (sieve_run_get_headers(run, node, header, &values) < 0)
		return -1;
	if (values[0] == NULL)
		return 0;
	for (const char *p = values[0]; *p != '\0'; p++) {
		if ((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') &&
						 p[1] >= '0' && p[1] <= '9')) {
			*score_r = strtod(p, NULL);
			return 1;
		}
	}
	return 0;
}

/* 1: the caller's score_get answered (*value_r set), 0: use the header
   rules, -1: error */
static int env_score(struct sieve_run *run, const struct sieve_ast_node *node,
		     enum sieve_score_kind kind, struct sieve_match *match)
{
	const struct sieve_env *env = run->env;
	const char *value, *error;
	int ret;

	if (env->score_get == NULL)
		return 0;
	ret = env->score_get(env->context, kind, &value, &error);
	if (ret < 0)
		return sieve_run_error(run, node, "spamtest: %s", error);
	if (sieve_run_match_value(match, ret == 0 ? "0" : value) < 0)
		return -1;
	return 1;
}

static int test_spamtest(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_env *env = run->env;
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[0]);
	bool percent = sieve_node_has_tag(node, "percent");
	double score = 0, max = env->spam_max > 0 ? env->spam_max : 10;
	long value = 0;
	int ret = env_score(run, node, percent ? SIEVE_SCORE_SPAM_PERCENT : SIEVE_SCORE_SPAM,
			    match);

	if (ret != 0)
		return ret < 0 ? -1 : sieve_run_match_end(&match);
	if ((ret = header_score(run, node, env->spam_header, &score)) < 0)
		return -1;
	if (ret > 0) {
		double ratio = score <= 0 ? 0 : score >= max ? 1 : score / max;

		/* 1 means "tested, not spam" (RFC 5235 §3.2) */
		value = percent ? lround(ratio * 100) : 1 + lround(ratio * 9);
	}
	if (sieve_run_match_value(match, t_strdup_printf("%ld", value)) < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static int test_virustest(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[0]);
	double score = 0;
	long value = 0;
	int ret = env_score(run, node, SIEVE_SCORE_VIRUS, match);

	if (ret != 0)
		return ret < 0 ? -1 : sieve_run_match_end(&match);
	if ((ret = header_score(run, node, run->env->virus_header, &score)) < 0)
		return -1;
	if (ret > 0)
		value = score < 1 ? 1 : score > 5 ? 5 : lround(score);
	if (sieve_run_match_value(match, t_strdup_printf("%ld", value)) < 0)
		return -1;
	return sieve_run_match_end(&match);
}

#define MATCH_TEST (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE)

static const struct sieve_command_def spamtest_commands[] = {
	{ .identifier = "spamtest", .flags = MATCH_TEST, .positional = { SIEVE_ARG_STRING },
	  .execute = test_spamtest },
	{ .identifier = NULL },
};

static const struct sieve_command_def virustest_commands[] = {
	{ .identifier = "virustest", .flags = MATCH_TEST, .positional = { SIEVE_ARG_STRING },
	  .execute = test_virustest },
	{ .identifier = NULL },
};

static const struct sieve_ext_tag spamtestplus_tags[] = {
	{ .command = "spamtest", .tag = { .name = "percent" } },
	{ .command = NULL },
};

static const char *const spamtestplus_implies[] = { "spamtest", NULL };

const struct sieve_extension_def sieve_ext_spamtest = {
	.name = "spamtest", .commands = spamtest_commands,
};

const struct sieve_extension_def sieve_ext_spamtestplus = {
	.name = "spamtestplus", .tags = spamtestplus_tags, .implies = spamtestplus_implies,
};

const struct sieve_extension_def sieve_ext_virustest = {
	.name = "virustest", .commands = virustest_commands,
};
