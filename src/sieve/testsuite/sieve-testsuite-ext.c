/* The vnd.dovecot.testsuite Sieve extension as Tern's runner implements it:
 * test blocks with test_fail, test_set of the message and envelope, the
 * result commands and tests (test_result_execute/reset/action/print),
 * scripts compiled and run from inside a test (test_script_compile/run,
 * test_error, test_binary_save/load, test_multiscript), settings
 * (test_config_*), the mail store (test_mailbox_create, test_message,
 * test_imap_metadata_set). Behaviour follows Pigeonhole's testsuite
 * documentation; the code is Tern's own. */
#include "sieve-testsuite-ext.h"
#include "sieve-extension.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The runner passes itself as the environment's context, to the file's
   run and to every script run inside it. */
static struct sieve_testsuite *ext_ts(struct sieve_run *run)
{
	return sieve_run_get_env(run)->context;
}

static const char *node_string(struct sieve_run *run, const struct sieve_ast_node *node,
			       unsigned int idx)
{
	const struct sieve_ast_arg *arg = sieve_node_arg(node, idx);

	return arg == NULL ? NULL : sieve_run_string(run, arg);
}

static const char *tag_string(struct sieve_run *run, const struct sieve_ast_node *node,
			      const char *tag)
{
	const struct sieve_ast_arg *arg = sieve_node_tag_value(node, tag);

	return arg == NULL ? NULL : sieve_run_string(run, arg);
}

/* --- test "name" { ... } and test_fail --- */

static int validate_test(struct sieve_validator *validator, struct sieve_ast_node *node,
			 const char **error_r)
{
	for (const struct sieve_ast_node *p = node->parent; p != NULL; p = p->parent) {
		if (p->identifier != NULL && strcasecmp(p->identifier, "test") == 0) {
			*error_r = "tests cannot be nested: test command must be issued at top-level";
			return -1;
		}
	}
	return 0;
}

static int exec_test(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	int ret;

	sieve_testsuite_test_begin(ts, node_string(run, node, 0));
	ret = sieve_run_block(run, node);
	if (ret < 0) {
		/* pigeonhole ends the whole file at a runtime error, so do we */
		sieve_testsuite_test_fail(ts, t_strdup_printf("runtime error: %s",
			sieve_run_get_error(run)));
		sieve_testsuite_test_end(ts);
		ts->aborted = true;
		return -1;
	}
	/* test_fail, or a "stop" in the block, ends only this test */
	if (sieve_run_is_stopped(run))
		sieve_run_resume(run);
	sieve_testsuite_test_end(ts);
	return 0;
}

static int exec_test_fail(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const char *reason = node_string(run, node, 0);

	if (ts->test_name == NULL) {
		/* outside a test block: the file as a whole fails */
		sieve_testsuite_test_begin(ts, "(top level)");
		sieve_testsuite_test_fail(ts, reason);
		sieve_testsuite_test_end(ts);
	} else {
		sieve_testsuite_test_fail(ts, reason);
	}
	sieve_run_stop(run);
	return 0;
}

/* --- test_set, test_config_* --- */

static int exec_test_set(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const char *object = node_string(run, node, 0);
	const char *value = node_string(run, node, 1);

	if (strcasecmp(object, "message") == 0) {
		sieve_testsuite_set_message(ts, value, strlen(value));
		sieve_run_set_message(run, &ts->sieve_msg);
		return 0;
	}
	if (strncasecmp(object, "envelope.", 9) == 0 &&
	    sieve_testsuite_set_envelope(ts, object + 9, value) == 0) {
		sieve_run_set_message(run, &ts->sieve_msg);
		return 0;
	}
	return sieve_run_error(run, node, "test_set: unknown testsuite object '%s'", object);
}

static int validate_test_set(struct sieve_validator *validator, struct sieve_ast_node *node,
			     const char **error_r)
{
	const struct sieve_ast_arg *arg = sieve_node_arg(node, 0);
	const char *object = arg->strings[0];

	if (strcasecmp(object, "message") != 0 && strncasecmp(object, "envelope.", 9) != 0) {
		*error_r = t_strdup_printf("unknown testsuite object '%s'", object);
		return -1;
	}
	return 0;
}

static int exec_test_config_set(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);

	if (sieve_testsuite_setting_set(ts, node_string(run, node, 0), node_string(run, node, 1)) < 0)
		return sieve_run_error(run, node, "test_config_set: too many settings");
	return 0;
}

static int exec_test_config_unset(struct sieve_run *run, const struct sieve_ast_node *node)
{
	(void)sieve_testsuite_setting_set(ext_ts(run), node_string(run, node, 0), NULL);
	return 0;
}

static int exec_test_config_reload(struct sieve_run *run, const struct sieve_ast_node *node)
{
	/* the engine reads ts->env through a pointer: updating it is the
	   reload, whichever extension is named */
	struct sieve_testsuite *ts = ext_ts(run);

	sieve_testsuite_env_update(ts);
	sieve_run_set_limits(run, &ts->limits);
	return 0;
}

/* --- mail store --- */

static int exec_test_mailbox_create(struct sieve_run *run, const struct sieve_ast_node *node)
{
	if (sieve_testsuite_mailbox_create(ext_ts(run), node_string(run, node, 0)) == NULL)
		return sieve_run_error(run, node, "test_mailbox_create: too many mailboxes");
	return 0;
}

static int exec_test_imap_metadata_set(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const char *mailbox = tag_string(run, node, "mailbox");

	if (sieve_testsuite_metadata_set(ts, mailbox, node_string(run, node, 0),
					 node_string(run, node, 1)) < 0) {
		return sieve_run_error(run, node, "test_imap_metadata_set: "
				       "no mailbox '%s' or too many entries", mailbox);
	}
	return 0;
}

/* test_message :smtp N / :folder "box" N: makes a sent or stored message
   the one under test. As a test it says whether the message exists; as a
   command a missing message fails the test. */
static int test_message_select(struct sieve_run *run, const struct sieve_ast_node *node,
			       const char **reason_r)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const struct sieve_ast_arg *idx_arg = sieve_node_arg(node, 0);
	uint64_t idx = idx_arg == NULL ? 0 : idx_arg->number;
	const char *folder = tag_string(run, node, "folder");

	if (folder == NULL) {
		if (idx >= ts->sent.count) {
			*reason_r = t_strdup_printf("no outgoing SMTP message with index %llu",
						    (unsigned long long)idx);
			return 0;
		}
		const struct sieve_testsuite_sent *sent = &ts->sent.v[idx];
		sieve_testsuite_use_mail(ts, sent->msg, sent->envelope_from, sent->envelope_to);
	} else {
		struct sieve_testsuite_mailbox *box = sieve_testsuite_mailbox_find(ts, folder);

		if (box == NULL || idx >= box->mails.count) {
			*reason_r = t_strdup_printf("no message in folder '%s' with index %llu",
						    folder, (unsigned long long)idx);
			return 0;
		}
		sieve_testsuite_use_mail(ts, box->mails.v[idx].msg, NULL, NULL);
		ts->current_mail = &box->mails.v[idx];
	}
	sieve_run_set_message(run, &ts->sieve_msg);
	return 1;
}

static int exec_test_message(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *reason;

	ext_ts(run)->current_mail = NULL;
	if (test_message_select(run, node, &reason) > 0)
		return 0;
	sieve_testsuite_test_fail(ext_ts(run), reason);
	sieve_run_stop(run);
	return 0;
}

static int exec_tst_test_message(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *reason;

	ext_ts(run)->current_mail = NULL;
	return test_message_select(run, node, &reason);
}

static int validate_test_message(struct sieve_validator *validator, struct sieve_ast_node *node,
				 const char **error_r)
{
	bool smtp = sieve_node_has_tag(node, "smtp"), folder = sieve_node_has_tag(node, "folder");

	if (smtp == folder) {
		*error_r = "the test_message command requires either the :smtp or the :folder tag";
		return -1;
	}
	return 0;
}

static int exec_test_message_print(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_testsuite_message *msg = ext_ts(run)->msg;

	printf("\n--MESSAGE:\n%.*s\n--\n", (int)msg->size, (const char *)msg->data);
	return 0;
}

/* --- the result --- */

static void testsuite_result_reset(struct sieve_testsuite *ts, struct sieve_run *run)
{
	sieve_run_reset_result(run);
	ts->executed_actions = 0;
	ts->implicit_kept = false;
}

static int exec_test_result_reset(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);

	testsuite_result_reset(ts, run);
	/* the outgoing queue starts over too: the next test reads its first
	   message as test_message :smtp 0 */
	array_clear(&ts->sent);
	return 0;
}

static int exec_tst_result_execute(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);

	sieve_testsuite_errors_clear(ts);
	return sieve_testsuite_result_execute(ts, run) < 0 ? 0 : 1;
}

static int exec_test_result_print(struct sieve_run *run, const struct sieve_ast_node *node)
{
	string_t *str = t_str_new(256);

	sieve_result_write(str, sieve_run_get_result(run));
	printf("\n--RESULT:\n%s--\n", str_c(str));
	return 0;
}

/* test_result_action [:index N] <keys>: the names of the actions so far
   ("keep" for a keep, implicit or not). */
static int exec_tst_result_action(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const struct sieve_result *result = sieve_run_get_result(run);
	const struct sieve_ast_arg *index_arg = sieve_node_tag_value(node, "index");
	struct sieve_match *match;
	unsigned int n = 0;
	int ret = 0;

	match = sieve_run_match_begin(run, node, sieve_node_arg(node, 0));
	for (unsigned int i = 0; i < result->actions.count && ret == 0; i++) {
		const struct sieve_action *action = &result->actions.v[i];

		if (action->type == SIEVE_ACTION_DISCARD)
			continue;
		n++;
		if (index_arg != NULL && index_arg->number != n)
			continue;
		ret = sieve_run_match_value(match, sieve_testsuite_action_name(action));
	}
	if (ret < 0) {
		(void)sieve_run_match_end(&match);
		return -1;
	}
	return sieve_run_match_end(&match);
}

/* --- other scripts --- */

static int exec_tst_script_compile(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);

	return sieve_testsuite_script_compile(ts, node_string(run, node, 0), &ts->script) > 0 ? 1 : 0;
}

static int exec_tst_script_run(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	bool append = sieve_node_has_tag(node, "append_result");

	if (ts->script == NULL)
		return 0;
	if (!append)
		testsuite_result_reset(ts, run);
	return sieve_testsuite_script_run(ts, run, node, &ts->script, 1);
}

static int exec_tst_multiscript(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const char *const *names;
	unsigned int count = sieve_run_strings(run, sieve_node_arg(node, 0), &names);
	struct sieve_ast **scripts = t_new(struct sieve_ast *, count + 1);

	for (unsigned int i = 0; i < count; i++) {
		if (sieve_testsuite_script_compile(ts, names[i], &scripts[i]) <= 0)
			return 0;
	}
	testsuite_result_reset(ts, run);
	if (sieve_testsuite_script_run(ts, run, node, scripts, count) <= 0)
		return 0;
	sieve_testsuite_errors_clear(ts);
	return sieve_testsuite_result_execute(ts, run) < 0 ? 0 : 1;
}

static int exec_tst_test_error(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const struct sieve_ast_arg *index_arg = sieve_node_tag_value(node, "index");
	struct sieve_match *match = sieve_run_match_begin(run, node, sieve_node_arg(node, 0));
	int ret = 0;

	for (unsigned int i = 0; i < ts->errors.count && ret == 0; i++) {
		if (index_arg != NULL && index_arg->number != i + 1)
			continue;
		ret = sieve_run_match_value(match, ts->errors.v[i]);
	}
	if (ret < 0) {
		(void)sieve_run_match_end(&match);
		return -1;
	}
	return sieve_run_match_end(&match);
}

static int exec_test_binary_save(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);

	if (ts->script == NULL)
		return sieve_run_error(run, node, "test_binary_save: no compiled script");
	return sieve_testsuite_binary_save(ts, node_string(run, node, 0), ts->script) < 0 ?
		sieve_run_error(run, node, "test_binary_save: too many binaries") : 0;
}

static int exec_test_binary_load(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_testsuite *ts = ext_ts(run);
	const char *name = node_string(run, node, 0);

	if ((ts->script = sieve_testsuite_binary_load(ts, name)) == NULL) {
		sieve_testsuite_test_fail(ts, t_strdup_printf("failed to load binary %s", name));
		sieve_run_stop(run);
	}
	return 0;
}

/* --- the extension --- */

static const struct sieve_tag_def test_message_tags[] = {
	{ .name = "smtp" },
	{ .name = "folder", .value = SIEVE_ARG_STRING },
	{ .name = NULL }
};
static const struct sieve_tag_def index_tags[] = {
	{ .name = "index", .value = SIEVE_ARG_NUMBER },
	{ .name = NULL }
};
static const struct sieve_tag_def script_run_tags[] = {
	{ .name = "append_result" },
	{ .name = NULL }
};
static const struct sieve_tag_def config_reload_tags[] = {
	{ .name = "extension", .value = SIEVE_ARG_STRING },
	{ .name = NULL }
};
static const struct sieve_tag_def metadata_set_tags[] = {
	{ .name = "mailbox", .value = SIEVE_ARG_STRING },
	{ .name = NULL }
};

#define S SIEVE_ARG_STRING
#define SL SIEVE_ARG_STRING_LIST
#define N SIEVE_ARG_NUMBER
#define TEST_FLAGS (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE)

static const struct sieve_command_def testsuite_commands[] = {
	{ .identifier = "test", .flags = SIEVE_CMD_FLAG_BLOCK, .positional = { S },
	  .validate = validate_test, .execute = exec_test },
	{ .identifier = "test_fail", .positional = { S }, .execute = exec_test_fail },
	{ .identifier = "test_set", .positional = { S, S }, .validate = validate_test_set,
	  .execute = exec_test_set },
	{ .identifier = "test_config_set", .positional = { S, S }, .execute = exec_test_config_set },
	{ .identifier = "test_config_unset", .positional = { S }, .execute = exec_test_config_unset },
	{ .identifier = "test_config_reload", .tags = config_reload_tags,
	  .execute = exec_test_config_reload },
	{ .identifier = "test_mailbox_create", .positional = { S },
	  .execute = exec_test_mailbox_create },
	{ .identifier = "test_imap_metadata_set", .positional = { S, S }, .tags = metadata_set_tags,
	  .execute = exec_test_imap_metadata_set },
	{ .identifier = "test_message", .positional = { N }, .tags = test_message_tags,
	  .validate = validate_test_message, .execute = exec_test_message },
	{ .identifier = "test_message", .flags = SIEVE_CMD_FLAG_TEST, .positional = { N },
	  .tags = test_message_tags, .validate = validate_test_message,
	  .execute = exec_tst_test_message },
	{ .identifier = "test_message_print", .execute = exec_test_message_print },
	{ .identifier = "test_result_reset", .execute = exec_test_result_reset },
	{ .identifier = "test_result_print", .execute = exec_test_result_print },
	{ .identifier = "test_result_execute", .flags = SIEVE_CMD_FLAG_TEST,
	  .execute = exec_tst_result_execute },
	{ .identifier = "test_result_action", .flags = TEST_FLAGS, .positional = { SL },
	  .tags = index_tags, .execute = exec_tst_result_action },
	{ .identifier = "test_script_compile", .flags = SIEVE_CMD_FLAG_TEST, .positional = { S },
	  .execute = exec_tst_script_compile },
	{ .identifier = "test_script_run", .flags = SIEVE_CMD_FLAG_TEST, .tags = script_run_tags,
	  .execute = exec_tst_script_run },
	{ .identifier = "test_multiscript", .flags = SIEVE_CMD_FLAG_TEST, .positional = { SL },
	  .execute = exec_tst_multiscript },
	{ .identifier = "test_error", .flags = TEST_FLAGS, .positional = { SL },
	  .tags = index_tags, .execute = exec_tst_test_error },
	{ .identifier = "test_binary_save", .positional = { S }, .execute = exec_test_binary_save },
	{ .identifier = "test_binary_load", .positional = { S }, .execute = exec_test_binary_load },
	{ .identifier = NULL }
};

const struct sieve_extension_def sieve_testsuite_extension = {
	.name = "vnd.dovecot.testsuite",
	.commands = testsuite_commands,
	.hidden = true,
};
