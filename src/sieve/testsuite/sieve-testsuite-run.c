/* The runner's side of a Sieve run: the environment callbacks (mailboxes,
 * metadata, duplicates, include loading from the test's included/ and
 * included-global/ directories), settings mapped onto the engine's limits,
 * compiling and running other scripts, and carrying out result actions
 * against the simulated store and outgoing queue. */
#include "sieve-testsuite-ext.h"
#include "sieve-extension.h"
#include "strnum.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- environment callbacks --- */

static int env_mailbox_exists(void *context, const char *mailbox, const char **error_r)
{
	return sieve_testsuite_mailbox_find(context, mailbox) != NULL ? 1 : 0;
}

static int env_metadata_get(void *context, const char *mailbox, const char *entry,
			    const char **value_r, const char **error_r)
{
	const char *value = sieve_testsuite_metadata_get(context, mailbox, entry);

	if (value == NULL)
		return 0;
	*value_r = value;
	return 1;
}

static int env_duplicate_check(void *context, const char *id, uint64_t period_secs,
			       const char **error_r)
{
	struct sieve_testsuite *ts = context;

	for (unsigned int i = 0; i < ts->duplicates.count; i++) {
		if (strcmp(ts->duplicates.v[i], id) == 0)
			return 1;
	}
	return 0;
}

static int env_include_load(void *context, enum sieve_include_location location,
			    const char *name, const struct sieve_ast **ast_r, const char **error_r)
{
	struct sieve_testsuite *ts = context;
	const char *dir = location == SIEVE_INCLUDE_GLOBAL ? "included-global/" : "included/";
	sieve_diag_array_t diags;
	struct sieve_ast *ast;
	const char *data;
	size_t size;
	int ret;

	ret = sieve_testsuite_read_file(ts, ts->pool, t_strconcat(dir, name, ".sieve", NULL),
					&data, &size, error_r);
	if (ret <= 0)
		return ret;
	array_init(&diags, ts->pool, 4);
	if (sieve_compile_diag(ts->pool, data, size, NULL, 0, &ast, &diags) < 0) {
		*error_r = diags.count > 0 ? diags.v[0].text : "compile failed";
		for (unsigned int i = 0; i < diags.count && !ts->compiling; i++) {
			if (!diags.v[i].warning)
				sieve_testsuite_error_add(ts, diags.v[i].text);
		}
		return -1;
	}
	ast->name = p_strdup(ts->pool, name);
	*ast_r = ast;
	return 1;
}

static int env_get_environment(void *context, const char *name, const char **value_r)
{
	struct sieve_testsuite *ts = context;

	if (strcmp(name, "domain") == 0)
		*value_r = "example.com";
	else if (strcmp(name, "host") == 0)
		*value_r = "localhost";
	else if (strcmp(name, "phase") == 0)
		*value_r = "during";
	else if (strcmp(name, "location") == 0)
		/* RFC 5183 §4.1: the runner evaluates scripts on stored test
		   messages, outside delivery: a message store */
		*value_r = "MS";
	else if (strcmp(name, "vnd.dovecot.default-mailbox") == 0)
		*value_r = "INBOX";
	else if (strcmp(name, "vnd.dovecot.username") == 0 && ts->username != NULL)
		*value_r = ts->username;
	else
		return 0;
	return 1;
}

/* "30d", "1h", "10s", "5" (seconds); 0 if unparsable */
static uint64_t setting_interval(const char *value)
{
	char *end;
	unsigned long long n = strtoull(value, &end, 10);

	while (*end == ' ')
		end++;
	switch (*end) {
	case 'd': return n * 86400;
	case 'h': return n * 3600;
	case 'm': return strncmp(end, "ms", 2) == 0 ? n / 1000 : n * 60;
	case 'w': return n * 7 * 86400;
	default: return n;
	}
}

static unsigned int setting_uint(struct sieve_testsuite *ts, const char *name)
{
	const char *value = sieve_testsuite_setting_get(ts, name);

	return value == NULL ? 0 : (unsigned int)strtoul(value, NULL, 10);
}

/* The status header settings are "Name: regex"; the engine takes the name
   and reads the header's first number. */
static const char *setting_header_name(struct sieve_testsuite *ts, const char *name)
{
	const char *value = sieve_testsuite_setting_get(ts, name), *colon;

	if (value == NULL)
		return NULL;
	colon = strchr(value, ':');
	return colon == NULL ? value : p_strndup(ts->pool, value, colon - value);
}

/* Pigeonhole's sieve_<ext>_status_header, _status_type, _max_header,
   _max_value and _text_value<N>: NULL when not (or badly) configured, as
   the test then always yields "0". */
static const struct sieve_score_config *
setting_score(struct sieve_testsuite *ts, const char *ext, struct sieve_score_config *cfg)
{
	const char *type = sieve_testsuite_setting_get(ts, t_strdup_printf("sieve_%s_status_type", ext));
	const char *max_value = sieve_testsuite_setting_get(ts, t_strdup_printf("sieve_%s_max_value", ext));
	char *end;

	memset(cfg, 0, sizeof(*cfg));
	cfg->status_header = sieve_testsuite_setting_get(ts, t_strdup_printf("sieve_%s_status_header", ext));
	cfg->max_header = sieve_testsuite_setting_get(ts, t_strdup_printf("sieve_%s_max_header", ext));
	if (cfg->status_header == NULL)
		return NULL;
	if (type == NULL || strcmp(type, "score") == 0)
		cfg->status_type = SIEVE_SCORE_STATUS_SCORE;
	else if (strcmp(type, "strlen") == 0)
		cfg->status_type = SIEVE_SCORE_STATUS_STRLEN;
	else if (strcmp(type, "text") == 0)
		cfg->status_type = SIEVE_SCORE_STATUS_TEXT;
	else
		return NULL;
	if (cfg->status_type == SIEVE_SCORE_STATUS_TEXT) {
		for (unsigned int i = 0; i < N_ELEMENTS(cfg->text_values); i++) {
			cfg->text_values[i] = sieve_testsuite_setting_get(ts,
				t_strdup_printf("sieve_%s_text_value%u", ext, i));
		}
		cfg->max_header = NULL;
		return cfg;
	}
	/* exactly one of the two maximums */
	if ((cfg->max_header == NULL) == (max_value == NULL))
		return NULL;
	if (max_value != NULL) {
		cfg->max_value = strtod(max_value, &end);
		if (*end != '\0' || cfg->max_value <= 0)
			return NULL;
	}
	return cfg;
}

static bool setting_bool(struct sieve_testsuite *ts, const char *name)
{
	const char *value = sieve_testsuite_setting_get(ts, name);

	return value != NULL && (strcasecmp(value, "yes") == 0 || strcmp(value, "1") == 0 ||
				 strcasecmp(value, "true") == 0);
}

void sieve_testsuite_env_update(struct sieve_testsuite *ts)
{
	struct sieve_env *env = &ts->env;
	const char *value;

	env->context = ts;
	env->get_environment = env_get_environment;
	env->mailbox_exists = env_mailbox_exists;
	env->metadata_get = env_metadata_get;
	env->duplicate_check = env_duplicate_check;
	env->include_load = env_include_load;
	env->subaddress_delimiter = sieve_testsuite_setting_get(ts, "recipient_delimiter");
	if (env->subaddress_delimiter == NULL)
		env->subaddress_delimiter = sieve_testsuite_setting_get(ts, "sieve_subaddress_sep");
	env->spam_header = setting_header_name(ts, "sieve_spamtest_status_header");
	value = sieve_testsuite_setting_get(ts, "sieve_spamtest_max_value");
	env->spam_max = value == NULL ? 0 : strtod(value, NULL);
	env->virus_header = setting_header_name(ts, "sieve_virustest_status_header");
	ts->user_addresses[0] = sieve_testsuite_setting_get(ts, "sieve_user_email");
	env->user_addresses = ts->user_addresses;
	env->vacation_use_original_recipient =
		setting_bool(ts, "sieve_vacation_use_original_recipient");
	env->vacation_dont_check_recipient =
		setting_bool(ts, "sieve_vacation_dont_check_recipient");
	env->spam_score = setting_score(ts, "spamtest", &ts->spam_score);
	env->virus_score = setting_score(ts, "virustest", &ts->virus_score);
	value = sieve_testsuite_setting_get(ts, "sieve_vacation_min_period");
	env->vacation_min_period = value == NULL ? 0 : setting_interval(value);
	value = sieve_testsuite_setting_get(ts, "sieve_vacation_max_period");
	env->vacation_max_period = value == NULL ? 0 : setting_interval(value);

	ts->limits.max_variable_size = setting_uint(ts, "sieve_variables_max_variable_size");
	ts->limits.max_variables = setting_uint(ts, "sieve_variables_max_scope_size");
	ts->limits.max_includes = setting_uint(ts, "sieve_include_max_includes");
	ts->limits.max_include_depth = setting_uint(ts, "sieve_include_max_nesting_depth");
	ts->limits.max_actions = setting_uint(ts, "sieve_max_actions");
	ts->limits.max_redirects = setting_uint(ts, "sieve_max_redirects");
	ts->limits.max_cpu_ms = setting_uint(ts, "sieve_max_cpu_time") * 1000;
	ts->limits.max_header_size = setting_uint(ts, "sieve_editheader_max_header_size");
	env->editheader_protected = sieve_header_name_list_parse(ts->pool,
		sieve_testsuite_setting_get(ts, "sieve_editheader_protected"));
	env->editheader_forbid_add = sieve_header_name_list_parse(ts->pool,
		sieve_testsuite_setting_get(ts, "sieve_editheader_forbid_add"));
	env->editheader_forbid_delete = sieve_header_name_list_parse(ts->pool,
		sieve_testsuite_setting_get(ts, "sieve_editheader_forbid_delete"));
}

void sieve_testsuite_compile_env(struct sieve_testsuite *ts, struct sieve_compile_env *cenv_r)
{
	memset(cenv_r, 0, sizeof(*cenv_r));
	cenv_r->context = ts;
	cenv_r->include_load = env_include_load;
	cenv_r->max_includes = ts->limits.max_includes;
	cenv_r->max_include_depth = ts->limits.max_include_depth;
	cenv_r->max_variables = ts->limits.max_variables;
	cenv_r->max_header_size = ts->limits.max_header_size;
}

/* --- other scripts --- */

/* "line 3: unknown command" -> "unknown command": test_error patterns are
   written against the bare message. */
static const char *error_text(const char *text)
{
	uint64_t line;
	const char *p = text;

	if (strncmp(p, "line ", 5) == 0 &&
	    str_parse_uint64(p + 5, &line, &p) == 0 && strncmp(p, ": ", 2) == 0)
		return p + 2;
	return text;
}

int sieve_testsuite_script_compile(struct sieve_testsuite *ts, const char *path,
				   struct sieve_ast **ast_r)
{
	sieve_diag_array_t diags;
	const char *data, *error;
	size_t size;
	int ret;

	*ast_r = NULL;
	sieve_testsuite_errors_clear(ts);
	ret = sieve_testsuite_read_file(ts, ts->pool, path, &data, &size, &error);
	if (ret <= 0) {
		sieve_testsuite_error_add(ts, ret == 0 ?
			t_strdup_printf("script '%s' not found", path) : error);
		return 0;
	}
	struct sieve_compile_env cenv;

	array_init(&diags, ts->pool, 4);
	sieve_testsuite_compile_env(ts, &cenv);
	ts->compiling = true;
	ret = sieve_compile_env_diag(ts->pool, data, size, NULL,
				     SIEVE_TESTSUITE_MAX_COMPILE_ERRORS, &cenv, ast_r, &diags);
	ts->compiling = false;
	for (unsigned int i = 0; i < diags.count; i++) {
		if (!diags.v[i].warning)
			sieve_testsuite_error_add(ts, error_text(diags.v[i].text));
	}
	if (ret < 0) {
		/* Pigeonhole's error handler ends a failed compile with one
		   more message ("validation failed"): test_error counts it */
		sieve_testsuite_error_add(ts, "script compilation failed");
		*ast_r = NULL;
		return 0;
	}
	return 1;
}

static int script_result_merge(struct sieve_run *run, const struct sieve_ast_node *node,
			       const struct sieve_result *result)
{
	struct sieve_result *outer = sieve_run_get_result(run);
	unsigned int edits = 0;
	bool implicit_keep = false;

	for (unsigned int i = 0; i < result->actions.count; i++) {
		const struct sieve_action *action = &result->actions.v[i];

		/* the scripts' header edits, in order, so each action (which
		   takes the edits made before it) sees the same header */
		for (; edits < action->header_edits && edits < result->header_edits.count; edits++)
			array_push(&outer->header_edits, result->header_edits.v[edits]);
		if (action->implicit) {
			implicit_keep = true;
			continue;
		}
		if (action->type == SIEVE_ACTION_DISCARD)
			continue;
		if (sieve_run_add_action(run, node, action) < 0)
			return -1;
	}
	for (; edits < result->header_edits.count; edits++)
		array_push(&outer->header_edits, result->header_edits.v[edits]);
	if (!implicit_keep)
		sieve_run_cancel_implicit_keep(run);
	return 0;
}

int sieve_testsuite_script_run(struct sieve_testsuite *ts, struct sieve_run *run,
			       const struct sieve_ast_node *node,
			       struct sieve_ast *const *scripts, unsigned int count)
{
	struct sieve_result *result;
	const char *error;

	sieve_testsuite_errors_clear(ts);
	/* several scripts run as one sequence on one result, the way
	   delivery runs the administrator's scripts around the user's */
	if (sieve_execute_multi((const struct sieve_ast *const *)scripts, count,
				&ts->sieve_msg, &ts->env, &ts->limits, ts->pool, &result,
				&error) < 0) {
		sieve_testsuite_error_add(ts, error_text(error));
		return 0;
	}
	if (script_result_merge(run, node, result) < 0) {
		sieve_testsuite_error_add(ts, error_text(sieve_run_get_error(run)));
		return 0;
	}
	/* the run went on past these; Pigeonhole's error handler counts them */
	for (unsigned int i = 0; i < result->warnings.count; i++)
		sieve_testsuite_error_add(ts, error_text(result->warnings.v[i]));
	return 1;
}

/* --- compiled-script store (test_binary_save/load) --- */

int sieve_testsuite_binary_save(struct sieve_testsuite *ts, const char *name,
				struct sieve_ast *ast)
{
	for (unsigned int i = 0; i < ts->binaries.count; i++) {
		if (strcmp(ts->binaries.v[i].name, name) == 0) {
			ts->binaries.v[i].ast = ast;
			return 0;
		}
	}
	if (ts->binaries.count >= SIEVE_TESTSUITE_MAX_SETTINGS)
		return -1;
	struct sieve_testsuite_binary *bin = array_append_space(&ts->binaries);
	bin->name = p_strdup(ts->pool, name);
	bin->ast = ast;
	return 0;
}

struct sieve_ast *sieve_testsuite_binary_load(struct sieve_testsuite *ts, const char *name)
{
	for (unsigned int i = 0; i < ts->binaries.count; i++) {
		if (strcmp(ts->binaries.v[i].name, name) == 0)
			return ts->binaries.v[i].ast;
	}
	return NULL;
}
