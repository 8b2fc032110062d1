/* The spamtest, spamtestplus and virustest extensions (RFC 5235): the
 * score from a header the caller names (or a regex group in it, a score,
 * a run of characters or a text, struct sieve_score_config), scaled to
 * 1..10 (spamtest), 0..100 (spamtestplus :percent) or 1..5 (virustest);
 * "0" when the message was not tested (§3.1-§3.3). */
#include "sieve-run.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

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

/* A "Name" or "Name: regex" spec: the header's first value, or the regex's
   first group in it. 1 with *value_r, 0 if missing / not matching, -1 on
   error (a bad regex is the configuration's fault: reported). */
static int score_header_value(struct sieve_run *run, const struct sieve_ast_node *node,
			      const char *spec, const char **value_r)
{
	const char *const *values;
	const char *p = spec, *name, *regex;
	regmatch_t groups[2];
	regex_t re;
	int ret;

	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	while (*p != ':' && *p != '\0' && *p != ' ' && *p != '\t')
		p++;
	name = t_strndup(name, p - name);
	while (*p == ' ' || *p == '\t')
		p++;
	regex = NULL;
	if (*p == ':') {
		for (p++; *p == ' ' || *p == '\t'; p++) ;
		regex = p;
	} else if (*p != '\0') {
		return sieve_run_error(run, node, "invalid score header specification \"%s\"",
				       spec);
	}
	if (sieve_run_get_headers(run, node, name, &values) < 0)
		return -1;
	if (values[0] == NULL)
		return 0;
	*value_r = sieve_header_value_prepare(run->pool, values[0]);
	if (regex == NULL || *regex == '\0')
		return 1;
	if (regcomp(&re, regex, REG_EXTENDED) != 0)
		return sieve_run_error(run, node, "invalid score header regex \"%s\"", regex);
	ret = regexec(&re, *value_r, 2, groups, 0) == 0 && groups[1].rm_so >= 0 ? 1 : 0;
	if (ret > 0) {
		*value_r = t_strndup(*value_r + groups[1].rm_so,
				     groups[1].rm_eo - groups[1].rm_so);
	}
	regfree(&re);
	return ret;
}

/* "[+-]digits[.digits]" with a few digits each side, as filters write
   scores. */
static bool score_parse_decimal(const char *str, double *value_r)
{
	char *end;

	if (*str == '\0' || strlen(str) > 16)
		return false;
	*value_r = strtod(str, &end);
	return *end == '\0' && isfinite(*value_r);
}

/* The status as a ratio of the maximum, 0..1; -1 when not tested. */
static int score_config_ratio(struct sieve_run *run, const struct sieve_ast_node *node,
			      const struct sieve_score_config *cfg, unsigned int max_text,
			      double *ratio_r)
{
	const char *status, *max_str;
	double status_value = 0, max = cfg->max_value;
	int ret;

	*ratio_r = -1;
	if (cfg->status_type != SIEVE_SCORE_STATUS_TEXT && cfg->max_header != NULL) {
		if ((ret = score_header_value(run, node, cfg->max_header, &max_str)) <= 0)
			return ret;
		if (!score_parse_decimal(max_str, &max))
			return 0;
	} else if (cfg->status_type == SIEVE_SCORE_STATUS_TEXT) {
		max = max_text;
	}
	if (max <= 0)
		return 0;
	if ((ret = score_header_value(run, node, cfg->status_header, &status)) <= 0)
		return ret;
	switch (cfg->status_type) {
	case SIEVE_SCORE_STATUS_SCORE:
		if (!score_parse_decimal(status, &status_value))
			return 0;
		break;
	case SIEVE_SCORE_STATUS_STRLEN:
		/* one character repeated: its count */
		for (size_t i = 0; status[i] != '\0'; i++) {
			if (status[i] != status[0])
				return 0;
		}
		status_value = strlen(status);
		break;
	case SIEVE_SCORE_STATUS_TEXT: {
		unsigned int i;

		for (i = 0; i <= max_text; i++) {
			if (cfg->text_values[i] != NULL && strcmp(cfg->text_values[i], status) == 0)
				break;
		}
		if (i > max_text)
			return 0;
		status_value = i;
		break;
	}
	}
	*ratio_r = status_value <= 0 ? 0 : status_value >= max ? 1 : status_value / max;
	return 0;
}

/* The test's value from the configured rules: "0" not tested, else
   spamtest 1..10, :percent 0..100, virustest 1..5. */
static int score_config_value(struct sieve_run *run, const struct sieve_ast_node *node,
			      const struct sieve_score_config *cfg, enum sieve_score_kind kind,
			      const char **value_r)
{
	double ratio;
	int value;

	if (score_config_ratio(run, node, cfg, kind == SIEVE_SCORE_VIRUS ? 5 : 10, &ratio) < 0)
		return -1;
	if (ratio < 0) {
		*value_r = "0";
		return 0;
	}
	/* the small epsilon keeps exact steps (4.0 of 5.0 is 8) from
	   rounding down through float error */
	if (kind == SIEVE_SCORE_SPAM_PERCENT)
		value = (int)(ratio * 100 + 0.001);
	else if (kind == SIEVE_SCORE_VIRUS)
		value = (int)(ratio * 4 + 1.001);
	else
		value = (int)(ratio * 9 + 1.001);
	*value_r = t_strdup_printf("%d", value);
	return 0;
}

/* 1: the caller's score_get answered (*value_r set), 0: use the header
   rules, -1: error */
static int env_score(struct sieve_run *run, const struct sieve_ast_node *node,
		     enum sieve_score_kind kind, struct sieve_match *match)
{
	const struct sieve_env *env = run->env;
	const struct sieve_score_config *cfg =
		kind == SIEVE_SCORE_VIRUS ? env->virus_score : env->spam_score;
	const char *value, *error;
	int ret;

	if (env->score_get == NULL) {
		if (cfg == NULL)
			return 0;
		if (score_config_value(run, node, cfg, kind, &value) < 0 ||
		    sieve_run_match_value(match, value) < 0)
			return -1;
		return 1;
	}
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
