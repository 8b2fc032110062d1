/* The spamtest, spamtestplus and virustest verdicts (RFC 5235) from the
 * headers a scanner added, as the sieve block configures them: a header
 * with an optional regular expression picking the value, read as a score
 * against a maximum, as the length of a string ("*****"), or as one of a
 * list of texts. The engine reads the result as one number in a header
 * of its own (deliver-sieve.c serves it), so the rules live here. */
#include "deliver-private.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <strings.h>

struct deliver_spam_config {
	const char *type, *status_header, *max_header, *max_value, *text_values;
	/* the top of the test's scale (10 or 5) and the default maximum */
	unsigned int top;
	double default_max;
};

/* The value of "Header[: regex]" in the message: group 1 of the regex
   (or its whole match), or the whole value. Returns 1 with *value_r, 0
   when the header is missing or doesn't match, -1 for a bad regex. */
static int deliver_spam_header_value(struct deliver_message *msg, const char *spec,
				     const char **value_r)
{
	const char *colon = strchr(spec, ':');
	const char *name = colon == NULL ? spec : t_strndup(spec, (size_t)(colon - spec));
	const char *value = deliver_message_get_first(msg, name);
	if (value == NULL)
		return 0;
	if (colon == NULL) {
		*value_r = value;
		return 1;
	}
	const char *re = colon + 1;
	while (*re == ' ' || *re == '\t')
		re++;
	regex_t preg;
	regmatch_t m[2];
	if (regcomp(&preg, re, REG_EXTENDED) != 0)
		return -1;
	int ret = regexec(&preg, value, N_ELEMENTS(m), m, 0) == 0 ? 1 : 0;
	regfree(&preg);
	if (ret == 0)
		return 0;
	unsigned int g = m[1].rm_so >= 0 ? 1 : 0;
	*value_r = t_strndup(value + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
	return 1;
}

/* text type: the N of the "N:text" item equal to value, or 0 */
static unsigned int deliver_spam_text_value(const char *items, const char *value,
					    unsigned int top)
{
	char *copy = t_strdup_printf("%s", items);
	while (*value == ' ' || *value == '\t')
		value++;
	size_t len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
		char *end;
		long n = strtol(tok, &end, 10);
		if (*end != ':' || n < 1 || n > (long)top)
			continue;
		const char *text = end + 1;
		while (*text == ' ')
			text++;
		size_t tlen = strlen(text);
		while (tlen > 0 && text[tlen - 1] == ' ')
			tlen--;
		if (tlen == len && strncasecmp(text, value, len) == 0)
			return (unsigned int)n;
	}
	return 0;
}

/* The maximum score: max_header's number, else max_value, else the
   default. */
static double deliver_spam_max(struct deliver_message *msg, const struct deliver_spam_config *c)
{
	const char *value;
	if (c->max_header[0] != '\0' &&
	    deliver_spam_header_value(msg, c->max_header, &value) > 0) {
		char *end;
		double max = strtod(value, &end);
		if (end != value && max > 0)
			return max;
	}
	if (c->max_value[0] != '\0')
		return strtod(c->max_value, NULL);
	return c->default_max;
}

/* The verdict on the test's scale: 1..top, or 0 when not tested. */
static unsigned int deliver_spam_verdict(struct deliver_ctx *ctx,
					 const struct deliver_spam_config *c)
{
	const char *value;
	if (c->status_header[0] == '\0' ||
	    deliver_spam_header_value(ctx->msg, c->status_header, &value) <= 0)
		return 0;
	if (strcmp(c->type, "text") == 0)
		return deliver_spam_text_value(c->text_values, value, c->top);
	double score;
	if (strcmp(c->type, "strlen") == 0) {
		score = (double)strlen(value);
	} else {
		char *end;
		score = strtod(value, &end);
		if (end == value || !isfinite(score))
			return 0;
	}
	double max = deliver_spam_max(ctx->msg, c);
	double ratio = score <= 0 ? 0 : score >= max ? 1 : score / max;
	/* RFC 5235 §3.2: 1 is "tested, not spam", top is certain */
	return 1 + (unsigned int)lround(ratio * (c->top - 1));
}

void deliver_spamtest_prepare(struct deliver_ctx *ctx)
{
	const struct sieve_settings *set = &ctx->set->sieve;
	const struct deliver_spam_config spam = {
		.type = set->spamtest_status_type, .status_header = set->spamtest_status_header,
		.max_header = set->spamtest_max_header, .max_value = set->spamtest_max_value,
		.text_values = set->spamtest_text_values, .top = 10, .default_max = 10,
	};
	const struct deliver_spam_config virus = {
		.type = set->virustest_status_type, .status_header = set->virustest_status_header,
		.max_header = set->virustest_max_header, .max_value = set->virustest_max_value,
		.text_values = set->virustest_text_values, .top = 5, .default_max = 5,
	};
	ctx->spam_verdict = deliver_spam_verdict(ctx, &spam);
	ctx->virus_verdict = deliver_spam_verdict(ctx, &virus);
}
