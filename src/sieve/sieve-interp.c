/* Sieve interpreter core: walks the validated tree calling each command's
 * execute hook, collects actions with the implicit keep (RFC 5228
 * §2.10.2), duplicate suppression (§2.10.3), conflicts and the limits of
 * §2.10.5, and enforces the CPU time limit. The run-time services of
 * sieve-extension.h live here. */
#include "sieve-commands.h"
#include "sieve-run.h"

#include <stdarg.h>
#include <strings.h>
#include <time.h>

#define SIEVE_DEFAULT_MAX_ACTIONS 32
#define SIEVE_DEFAULT_MAX_REDIRECTS 4
#define SIEVE_DEFAULT_MAX_ADDRESSES 256
#define SIEVE_DEFAULT_MAX_CPU_MS 3000
#define SIEVE_DEFAULT_MAX_INCLUDE_DEPTH 10
#define SIEVE_DEFAULT_MAX_INCLUDES 255
#define SIEVE_DEFAULT_MAX_VARIABLES 255
#define SIEVE_DEFAULT_MAX_VARIABLE_SIZE 4096
#define SIEVE_DEFAULT_MAX_HEADER_EDITS 1024
#define SIEVE_DEFAULT_MAX_HEADER_SIZE 8192
/* the CPU clock is read every this many steps */
#define SIEVE_CPU_CHECK_INTERVAL 32

static const struct sieve_env empty_env;

static uint64_t cpu_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int sieve_run_error(struct sieve_run *run, const struct sieve_ast_node *node,
		    const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	const char *text = p_strdup_vprintf(run->pool, fmt, args);
	va_end(args);
	if (run->error == NULL || !run->error_final) {
		run->error = node == NULL ? text :
			p_strdup_printf(run->pool, "line %u: %s", node->line, text);
		if (run->script_name != NULL)
			run->error = p_strdup_printf(run->pool, "%s: %s", run->script_name,
						     run->error);
	}
	run->error_final = true;
	return -1;
}

void sieve_run_warning(struct sieve_run *run, const struct sieve_ast_node *node,
		       const char *fmt, ...)
{
	va_list args;

	if (run->result->warnings.count >= SIEVE_MAX_RUN_WARNINGS)
		return;
	va_start(args, fmt);
	const char *text = p_strdup_vprintf(run->pool, fmt, args);
	va_end(args);
	if (node != NULL)
		text = p_strdup_printf(run->pool, "line %u: %s", node->line, text);
	if (run->script_name != NULL)
		text = p_strdup_printf(run->pool, "%s: %s", run->script_name, text);
	array_push(&run->result->warnings, text);
}

const char *sieve_run_get_error(const struct sieve_run *run)
{
	return run->error;
}

/* RFC 5228 §2.10.6-style limit on work: the clock is the process's CPU
   time, so waiting on callbacks does not count. */
int sieve_run_check_cpu(struct sieve_run *run, const struct sieve_ast_node *node)
{
	if (++run->steps % SIEVE_CPU_CHECK_INTERVAL != 0)
		return 0;
	if (cpu_now_us() - run->cpu_start_us <= (uint64_t)run->limits.max_cpu_ms * 1000)
		return 0;
	return sieve_run_error(run, node, "CPU time limit exceeded (%u ms)",
			       run->limits.max_cpu_ms);
}

uint64_t sieve_run_cpu_left_us(struct sieve_run *run)
{
	uint64_t used = cpu_now_us() - run->cpu_start_us;
	uint64_t max = (uint64_t)run->limits.max_cpu_ms * 1000;
	return used >= max ? 0 : max - used;
}

void sieve_run_charge_cpu(struct sieve_run *run, uint64_t us)
{
	/* modular: cpu_now_us() - cpu_start_us grows by us */
	run->cpu_start_us -= us;
}

/* --- actions --- */

static bool action_is_keep(const struct sieve_action *action)
{
	/* fileinto "INBOX" stores where keep does (RFC 5228 §2.10.3) */
	return action->type == SIEVE_ACTION_KEEP ||
		(action->type == SIEVE_ACTION_FILEINTO && strcasecmp(action->target, "INBOX") == 0);
}

static bool action_is_duplicate(const struct sieve_action *a, const struct sieve_action *b)
{
	if (action_is_keep(a) && action_is_keep(b))
		return true;
	if (a->type != b->type || a->type == SIEVE_ACTION_KEEP)
		return false;
	switch (a->type) {
	case SIEVE_ACTION_REDIRECT:
		return strcasecmp(a->target, b->target) == 0;
	case SIEVE_ACTION_FILEINTO:
		return strcmp(a->target, b->target) == 0;
	case SIEVE_ACTION_NOTIFY:
		/* RFC 5435 §3.8: the same method twice is one notification */
		return strcmp(a->notify->method, b->notify->method) == 0;
	default:
		return false;
	}
}

static bool action_is_reject(enum sieve_action_type type)
{
	return type == SIEVE_ACTION_REJECT || type == SIEVE_ACTION_EREJECT;
}

static bool action_delivers(enum sieve_action_type type)
{
	return type == SIEVE_ACTION_KEEP || type == SIEVE_ACTION_FILEINTO ||
		type == SIEVE_ACTION_REDIRECT;
}

/* RFC 5429 §2.1: a reject cannot go with actions that deliver, nor with
   vacation (RFC 5230 §4.7); RFC 5230 §4.7: one vacation per run. */
static const char *action_conflict(const struct sieve_action *a, const struct sieve_action *b)
{
	if (action_is_reject(a->type) && action_is_reject(b->type))
		return "reject given more than once";
	if ((action_is_reject(a->type) && action_delivers(b->type)) ||
	    (action_is_reject(b->type) && action_delivers(a->type)))
		return "reject cannot be combined with keep, fileinto or redirect";
	if ((action_is_reject(a->type) && b->type == SIEVE_ACTION_VACATION) ||
	    (action_is_reject(b->type) && a->type == SIEVE_ACTION_VACATION))
		return "reject cannot be combined with vacation";
	if (a->type == SIEVE_ACTION_VACATION && b->type == SIEVE_ACTION_VACATION)
		return "vacation given more than once";
	return NULL;
}

/* A conflict with an action already carried out (Pigeonhole resolves
   these the same way): the message was delivered, so a reject after it
   can still refuse it to the sender; a response was sent, so another
   reject or vacation would be a second one and is dropped (the reject
   still cancelled the implicit keep: a discard). Returns 1 to add the new
   action, 0 to drop it, -1 if the conflict stands. */
static int action_conflict_executed(const struct sieve_action *old,
				    const struct sieve_action *new_action)
{
	bool old_responded = action_is_reject(old->type) || old->type == SIEVE_ACTION_VACATION;

	if (action_is_reject(new_action->type))
		return action_delivers(old->type) ? 1 : old_responded ? 0 : -1;
	if (new_action->type == SIEVE_ACTION_VACATION && old->type == SIEVE_ACTION_VACATION)
		return 0;
	/* a delivery or vacation after a reject already sent stays an error */
	return -1;
}

static int action_check_limits(struct sieve_run *run, const struct sieve_ast_node *node,
			       enum sieve_action_type type)
{
	if (++run->action_count > run->limits.max_actions)
		return sieve_run_error(run, node, "total number of actions exceeds policy limit (%u)",
				       run->limits.max_actions);
	if (type == SIEVE_ACTION_REDIRECT &&
	    ++run->redirect_count > run->limits.max_redirects)
		return sieve_run_error(run, node, "number of redirect actions exceeds policy limit (%u)",
				       run->limits.max_redirects);
	return 0;
}

int sieve_run_add_action(struct sieve_run *run, const struct sieve_ast_node *node,
			 const struct sieve_action *action)
{
	struct sieve_action new_action = *action;
	const char *conflict;

	new_action.line = node == NULL ? 0 : node->line;
	new_action.header_edits = run->result->header_edits.count;
	if (action->target != NULL)
		new_action.target = p_strdup(run->pool, action->target);
	if (action->type != SIEVE_ACTION_FILEINTO && action->type != SIEVE_ACTION_REDIRECT)
		new_action.copy = false;
	if (!new_action.copy && action->type != SIEVE_ACTION_VACATION &&
	    action->type != SIEVE_ACTION_NOTIFY)
		run->implicit_keep = false;
	for (unsigned int i = 0; i < run->result->actions.count; i++) {
		struct sieve_action *old = &run->result->actions.v[i];

		if ((conflict = action_conflict(old, &new_action)) != NULL) {
			int ret = i < run->result->executed_count ?
				action_conflict_executed(old, &new_action) : -1;

			if (ret < 0)
				return sieve_run_error(run, node, "%s", conflict);
			if (ret == 0)
				return 0;
			continue;
		}
		if (action_is_duplicate(old, &new_action)) {
			/* the stronger form wins: without :copy it cancelled
			   the implicit keep already */
			old->copy = old->copy && new_action.copy;
			/* RFC 5232 §5: with duplicate elimination the
			   last flag list wins */
			if (new_action.type == SIEVE_ACTION_KEEP ||
			    new_action.type == SIEVE_ACTION_FILEINTO)
				old->flags = new_action.flags;
			old->create = old->create || new_action.create;
			if (old->implicit && !new_action.implicit) {
				old->implicit = false;
				old->line = new_action.line;
			}
			/* keep and fileinto "INBOX" collapse into the keep */
			if (new_action.type == SIEVE_ACTION_KEEP && !new_action.implicit &&
			    old->type == SIEVE_ACTION_FILEINTO) {
				old->type = SIEVE_ACTION_KEEP;
				old->target = NULL;
			}
			return 0;
		}
	}
	if (!new_action.implicit && action_check_limits(run, node, action->type) < 0)
		return -1;
	array_push(&run->result->actions, new_action);
	return 0;
}

void sieve_run_cancel_implicit_keep(struct sieve_run *run)
{
	run->implicit_keep = false;
}

struct sieve_result *sieve_run_get_result(struct sieve_run *run)
{
	return run->result;
}

void sieve_run_mark_executed(struct sieve_run *run)
{
	run->result->executed_count = run->result->actions.count;
}

/* --- control (RFC 5228 §3) --- */

void sieve_run_stop(struct sieve_run *run)
{
	run->stopped = true;
}

bool sieve_run_is_stopped(const struct sieve_run *run)
{
	return run->stopped || run->returned || run->breaking != NULL;
}

void sieve_run_clear_stop(struct sieve_run *run)
{
	run->stopped = false;
	run->returned = false;
	run->breaking = NULL;
}

void sieve_run_resume(struct sieve_run *run)
{
	sieve_run_clear_stop(run);
}

bool sieve_run_implicit_keep(const struct sieve_run *run)
{
	return run->implicit_keep;
}

void sieve_run_clear_error(struct sieve_run *run)
{
	run->error = NULL;
	run->error_final = false;
}

void sieve_run_reset_result(struct sieve_run *run)
{
	array_clear(&run->result->actions);
	array_clear(&run->result->header_edits);
	array_clear(&run->result->duplicate_marks);
	array_clear(&run->result->warnings);
	run->result->executed_count = 0;
	run->implicit_keep = true;
	run->action_count = 0;
	run->redirect_count = 0;
	sieve_run_set_ext_context(run, &sieve_ext_imap4flags, NULL);
}

int sieve_run_test(struct sieve_run *run, const struct sieve_ast_node *test)
{
	if (sieve_run_check_cpu(run, test) < 0)
		return -1;
	if (test->def->execute == NULL)
		return 0;
	return test->def->execute(run, test);
}

static bool node_is_chain(const struct sieve_ast_node *cmd)
{
	return cmd->def == SIEVE_DEF_IF || cmd->def == SIEVE_DEF_ELSIF ||
		cmd->def == SIEVE_DEF_ELSE;
}

int sieve_run_block(struct sieve_run *run, const struct sieve_ast_node *block)
{
	/* an if/elsif chain already took a branch */
	bool chain_done = false;

	if (block->skip_block)
		return 0;
	for (unsigned int i = 0; i < block->block.count && !sieve_run_is_stopped(run); i++) {
		const struct sieve_ast_node *cmd = block->block.v[i];
		int ret;

		if (sieve_run_check_cpu(run, cmd) < 0)
			return -1;
		if (!node_is_chain(cmd)) {
			if (cmd->def->execute != NULL && cmd->def->execute(run, cmd) < 0)
				return -1;
			continue;
		}
		if (cmd->def == SIEVE_DEF_IF)
			chain_done = false;
		if (chain_done)
			continue;
		ret = cmd->def == SIEVE_DEF_ELSE ? 1 : sieve_run_test(run, cmd->tests.v[0]);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			chain_done = true;
			if (sieve_run_block(run, cmd) < 0)
				return -1;
		}
	}
	return 0;
}

/* --- run state --- */

const struct sieve_message *sieve_run_get_message(struct sieve_run *run)
{
	return run->msg;
}

void sieve_run_set_message(struct sieve_run *run, const struct sieve_message *msg)
{
	run->msg = msg;
	run->parsed = NULL;
	sieve_run_set_ext_context(run, &sieve_ext_imap4flags, NULL);
	run->current_part = 0;
	array_clear(&run->overlays);
	run->size_delta = 0;
}

const struct sieve_env *sieve_run_get_env(struct sieve_run *run)
{
	return run->env;
}

pool_t sieve_run_pool(struct sieve_run *run)
{
	return run->pool;
}

void *sieve_run_ext_context(struct sieve_run *run, const struct sieve_extension_def *ext)
{
	for (unsigned int i = 0; i < run->ext_contexts.count; i++) {
		if (run->ext_contexts.v[i].ext == ext)
			return run->ext_contexts.v[i].context;
	}
	return NULL;
}

void sieve_run_set_ext_context(struct sieve_run *run, const struct sieve_extension_def *ext,
			       void *context)
{
	struct sieve_run_ext_context *ctx;

	for (unsigned int i = 0; i < run->ext_contexts.count; i++) {
		if (run->ext_contexts.v[i].ext == ext) {
			run->ext_contexts.v[i].context = context;
			return;
		}
	}
	ctx = array_append_space(&run->ext_contexts);
	ctx->ext = ext;
	ctx->context = context;
}

bool sieve_run_requires(const struct sieve_run *run, const char *extension)
{
	return run->ast != NULL && sieve_ast_requires(run->ast, extension);
}

const char *sieve_run_string(struct sieve_run *run, const struct sieve_ast_arg *arg)
{
	const char *str = arg->strings[0];

	if (!run->variables || strchr(str, '$') == NULL)
		return str;
	return sieve_variables_expand(run, str);
}

unsigned int sieve_run_strings(struct sieve_run *run, const struct sieve_ast_arg *arg,
			       const char *const **strings_r)
{
	if (!run->variables) {
		*strings_r = arg->strings;
		return arg->string_count;
	}
	const char **strings = p_new(run->pool, const char *, arg->string_count + 1);
	for (unsigned int i = 0; i < arg->string_count; i++) {
		strings[i] = strchr(arg->strings[i], '$') == NULL ? arg->strings[i] :
			sieve_variables_expand(run, arg->strings[i]);
	}
	*strings_r = strings;
	return arg->string_count;
}

/* --- running a script --- */

static void run_limits_init(struct sieve_run *run, const struct sieve_exec_limits *limits)
{
	if (limits != NULL)
		run->limits = *limits;
	else
		memset(&run->limits, 0, sizeof(run->limits));
#define DEFAULT(field, value) if (run->limits.field == 0) run->limits.field = value
	DEFAULT(max_actions, SIEVE_DEFAULT_MAX_ACTIONS);
	DEFAULT(max_redirects, SIEVE_DEFAULT_MAX_REDIRECTS);
	DEFAULT(max_addresses, SIEVE_DEFAULT_MAX_ADDRESSES);
	DEFAULT(max_cpu_ms, SIEVE_DEFAULT_MAX_CPU_MS);
	DEFAULT(max_include_depth, SIEVE_DEFAULT_MAX_INCLUDE_DEPTH);
	DEFAULT(max_includes, SIEVE_DEFAULT_MAX_INCLUDES);
	DEFAULT(max_variables, SIEVE_DEFAULT_MAX_VARIABLES);
	DEFAULT(max_variable_size, SIEVE_DEFAULT_MAX_VARIABLE_SIZE);
	DEFAULT(max_header_edits, SIEVE_DEFAULT_MAX_HEADER_EDITS);
	DEFAULT(max_header_size, SIEVE_DEFAULT_MAX_HEADER_SIZE);
#undef DEFAULT
}

void sieve_run_set_limits(struct sieve_run *run, const struct sieve_exec_limits *limits)
{
	run_limits_init(run, limits);
}

int sieve_run_script(struct sieve_run *run, const struct sieve_ast *ast)
{
	const struct sieve_ast *old_ast = run->ast;
	bool old_variables = run->variables;
	int ret;

	run->ast = ast;
	run->variables = sieve_ast_requires(ast, "variables");
	ret = sieve_run_block(run, ast->root);
	run->returned = false;
	run->ast = old_ast;
	run->variables = old_variables;
	return ret;
}

static void result_add_implicit_keep(struct sieve_run *run)
{
	struct sieve_action keep = {
		.type = SIEVE_ACTION_KEEP, .implicit = true,
		.flags = run->error != NULL ? NULL : sieve_imap4flags_implicit(run),
		.header_edits = run->result->header_edits.count,
	};

	for (unsigned int i = 0; i < run->result->actions.count; i++) {
		struct sieve_action *old = &run->result->actions.v[i];

		if (action_is_keep(old)) {
			/* an implicit keep carried over from an earlier
			   script of a sequence takes the later edits too */
			if (old->implicit)
				old->header_edits = keep.header_edits;
			return;
		}
	}
	array_push(&run->result->actions, keep);
}

static void run_finish(struct sieve_run *run, int ret)
{
	if (ret < 0) {
		/* RFC 5228 §2.10.6: on a runtime error, keep the message */
		array_clear(&run->result->actions);
		array_clear(&run->result->header_edits);
		array_clear(&run->result->duplicate_marks);
		result_add_implicit_keep(run);
	} else if (run->implicit_keep) {
		result_add_implicit_keep(run);
	} else {
		bool delivers = false;

		for (unsigned int i = 0; i < run->result->actions.count; i++) {
			if (run->result->actions.v[i].type != SIEVE_ACTION_VACATION &&
			    run->result->actions.v[i].type != SIEVE_ACTION_NOTIFY)
				delivers = true;
		}
		if (!delivers) {
			struct sieve_action discard = { .type = SIEVE_ACTION_DISCARD };
			array_push(&run->result->actions, discard);
		}
	}
}

int sieve_execute_multi(const struct sieve_ast *const *asts, unsigned int count,
			const struct sieve_message *msg, const struct sieve_env *env,
			const struct sieve_exec_limits *limits, pool_t pool,
			struct sieve_result **result_r, const char **error_r)
{
	struct sieve_run run = {
		.msg = msg, .env = env == NULL ? &empty_env : env, .pool = pool,
		.implicit_keep = true, .cpu_start_us = cpu_now_us(),
	};
	int ret = 0;

	run_limits_init(&run, limits);
	run.result = p_new(pool, struct sieve_result, 1);
	array_init(&run.result->actions, pool, 4);
	array_init(&run.result->header_edits, pool, 1);
	array_init(&run.result->duplicate_marks, pool, 1);
	array_init(&run.result->warnings, pool, 1);
	array_init(&run.ext_contexts, pool, 4);
	array_init(&run.overlays, pool, 1);
	run.tmp_pool = pool_create("sieve execute", 4096);

	for (unsigned int i = 0; i < count && ret == 0; i++) {
		if (i > 0 && !run.implicit_keep)
			break;
		/* each script has its own variables and stop */
		run.scope = NULL;
		sieve_run_clear_stop(&run);
		ret = sieve_run_script(&run, asts[i]);
	}
	pool_destroy(&run.tmp_pool);
	run_finish(&run, ret);
	if (ret < 0)
		*error_r = run.error;
	*result_r = run.result;
	return ret;
}

int sieve_execute_env(const struct sieve_ast *ast, const struct sieve_message *msg,
		      const struct sieve_env *env, const struct sieve_exec_limits *limits,
		      pool_t pool, struct sieve_result **result_r, const char **error_r)
{
	return sieve_execute_multi(&ast, 1, msg, env, limits, pool, result_r, error_r);
}

int sieve_execute(const struct sieve_ast *ast, const struct sieve_message *msg,
		  const struct sieve_exec_limits *limits, pool_t pool,
		  struct sieve_result **result_r, const char **error_r)
{
	return sieve_execute_env(ast, msg, NULL, limits, pool, result_r, error_r);
}
