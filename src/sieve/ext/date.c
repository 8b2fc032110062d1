/* The date and index extensions (RFC 5260): the date test on a header's
 * RFC 5322 date and currentdate on the run's "now" (§4-§5), with :zone and
 * :originalzone and the date parts of §4.2; :index and :last (§6) on
 * header, address and date select one occurrence of a field (applied in
 * sieve_run_get_headers()). */
#include "sieve-run.h"
#include "date.h"

#include <limits.h>
#include <strings.h>

static const char *const date_parts[] = {
	"year", "month", "day", "date", "julian", "hour", "minute", "second",
	"time", "iso8601", "std11", "zone", "weekday",
};

static int date_part_index(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(date_parts); i++) {
		if (strcasecmp(date_parts[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* RFC 5260 §4.1: "+hhmm" or "-hhmm" */
static int zone_parse(const char *zone, int *minutes_r)
{
	if (strlen(zone) != 5 || (zone[0] != '+' && zone[0] != '-'))
		return -1;
	for (unsigned int i = 1; i < 5; i++) {
		if (zone[i] < '0' || zone[i] > '9')
			return -1;
	}
	int hours = (zone[1] - '0') * 10 + (zone[2] - '0');
	int mins = (zone[3] - '0') * 10 + (zone[4] - '0');
	if (hours > 23 || mins > 59)
		return -1;
	*minutes_r = (zone[0] == '-' ? -1 : 1) * (hours * 60 + mins);
	return 0;
}

static int validate_date_common(struct sieve_validator *validator,
				struct sieve_ast_node *node, const struct sieve_ast_arg *part,
				const char **error_r)
{
	const struct sieve_ast_arg *zone = sieve_node_tag_value(node, "zone");
	int minutes;

	if (zone != NULL && sieve_node_has_tag(node, "originalzone")) {
		*error_r = "only one of :zone and :originalzone";
		return -1;
	}
	if (zone != NULL && !sieve_validator_string_is_dynamic(validator, zone->strings[0]) &&
	    zone_parse(zone->strings[0], &minutes) < 0) {
		*error_r = t_strdup_printf("invalid time zone \"%s\"", zone->strings[0]);
		return -1;
	}
	if (!sieve_validator_string_is_dynamic(validator, part->strings[0]) &&
	    date_part_index(part->strings[0]) < 0) {
		*error_r = t_strdup_printf("unknown date part \"%s\"", part->strings[0]);
		return -1;
	}
	return sieve_index_validate(node, error_r);
}

int sieve_index_validate(const struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *index = sieve_node_tag_value(node, "index");

	if (sieve_node_has_tag(node, "last") && index == NULL) {
		*error_r = "the :last tag needs :index (RFC 5260 §6)";
		return -1;
	}
	if (index != NULL && index->number == 0) {
		*error_r = "the :index tag counts from 1";
		return -1;
	}
	return 0;
}

static int validate_date(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r)
{
	if (sieve_validate_header_names(node->positional[0], error_r) < 0)
		return -1;
	return validate_date_common(validator, node, node->positional[1], error_r);
}

static int validate_currentdate(struct sieve_validator *validator,
				struct sieve_ast_node *node, const char **error_r)
{
	return validate_date_common(validator, node, node->positional[0], error_r);
}

static int local_zone(const struct sieve_env *env, time_t t)
{
	struct tm tm;

	if (env->local_zone_set)
		return env->local_zone;
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

/* RFC 5260 §4.2 */
static const char *date_part_format(int part, time_t t, int zone)
{
	time_t local = t + (time_t)zone * 60;
	struct tm tm;
	int az = zone < 0 ? -zone : zone;
	const char *zstr = t_strdup_printf("%c%02d%02d", zone < 0 ? '-' : '+', az / 60, az % 60);

	if (gmtime_r(&local, &tm) == NULL)
		return NULL;
	switch (part) {
	case 0: return t_strdup_printf("%04d", tm.tm_year + 1900);
	case 1: return t_strdup_printf("%02d", tm.tm_mon + 1);
	case 2: return t_strdup_printf("%02d", tm.tm_mday);
	case 3: return t_strdup_printf("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				       tm.tm_mday);
	case 4: /* Modified Julian Day: day 0 is 1858-11-17 */
		return t_strdup_printf("%lld", (long long)(local / 86400 -
			(local < 0 && local % 86400 != 0 ? 1 : 0)) + 40587);
	case 5: return t_strdup_printf("%02d", tm.tm_hour);
	case 6: return t_strdup_printf("%02d", tm.tm_min);
	case 7: return t_strdup_printf("%02d", tm.tm_sec);
	case 8: return t_strdup_printf("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	case 9: return t_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
				       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				       tm.tm_hour, tm.tm_min, tm.tm_sec,
				       zone < 0 ? '-' : '+', az / 60, az % 60);
	case 10: return rfc5322_date_format(t, zone);
	case 11: return zstr;
	case 12: return t_strdup_printf("%d", tm.tm_wday);
	}
	return NULL;
}

static int date_zone(struct sieve_run *run, const struct sieve_ast_node *node,
		     time_t t, int original, int *zone_r)
{
	const struct sieve_ast_arg *zone = sieve_node_tag_value(node, "zone");

	if (zone != NULL) {
		const char *str = sieve_run_string(run, zone);

		if (zone_parse(str, zone_r) < 0)
			return sieve_run_error(run, node, "invalid time zone \"%s\"", str);
		return 0;
	}
	*zone_r = sieve_node_has_tag(node, "originalzone") ? original :
		local_zone(run->env, t);
	return 0;
}

static int date_match(struct sieve_run *run, const struct sieve_ast_node *node,
		      struct sieve_match *match, const char *part_name, time_t t,
		      int original_zone)
{
	int part = date_part_index(part_name), zone;
	const char *value;

	if (part < 0)
		return sieve_run_error(run, node, "unknown date part \"%s\"", part_name);
	if (date_zone(run, node, t, original_zone, &zone) < 0)
		return -1;
	value = date_part_format(part, t, zone);
	return value == NULL ? 0 : sieve_run_match_value(match, value);
}

static int test_date(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *name = sieve_run_string(run, node->positional[0]);
	const char *part = sieve_run_string(run, node->positional[1]);
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[2]);
	const char *const *values;
	int ret = 0;

	if (sieve_run_get_headers(run, node, name, &values) < 0)
		return -1;
	for (; *values != NULL && ret == 0; values++) {
		const char *value = *values;
		time_t t;
		int zone;

		/* RFC 5260 §4: Received carries its date after the last ';' */
		if (strcasecmp(name, "received") == 0 && strrchr(value, ';') != NULL)
			value = strrchr(value, ';') + 1;
		if (rfc5322_date_parse(value, &t, &zone) < 0)
			continue;
		ret = date_match(run, node, match, part, t, zone);
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static int test_currentdate(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *part = sieve_run_string(run, node->positional[0]);
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	time_t now = run->env->now != 0 ? run->env->now : time(NULL);

	if (date_match(run, node, match, part, now, local_zone(run->env, now)) < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static const struct sieve_tag_def date_tags[] = {
	{ .name = "zone", .value = SIEVE_ARG_STRING },
	{ .name = "originalzone" },
	{ .name = NULL },
};

static const struct sieve_tag_def currentdate_tags[] = {
	{ .name = "zone", .value = SIEVE_ARG_STRING },
	{ .name = NULL },
};

#define MATCH_TEST (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE)

static const struct sieve_command_def date_commands[] = {
	{ .identifier = "date", .flags = MATCH_TEST,
	  .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING, SIEVE_ARG_STRING_LIST },
	  .tags = date_tags, .validate = validate_date, .execute = test_date },
	{ .identifier = "currentdate", .flags = MATCH_TEST,
	  .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING_LIST },
	  .tags = currentdate_tags, .validate = validate_currentdate,
	  .execute = test_currentdate },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_date = {
	.name = "date", .commands = date_commands,
};

#define INDEX_TAGS(cmd) \
	{ .command = cmd, .tag = { .name = "index", .value = SIEVE_ARG_NUMBER } }, \
	{ .command = cmd, .tag = { .name = "last" } }

static const struct sieve_ext_tag index_tags[] = {
	INDEX_TAGS("header"), INDEX_TAGS("address"), INDEX_TAGS("date"),
	{ .command = NULL },
};

const struct sieve_extension_def sieve_ext_index = {
	.name = "index", .tags = index_tags,
};
