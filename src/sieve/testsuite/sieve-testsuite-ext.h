/* The vnd.dovecot.testsuite extension and the parts of the runner that work
 * inside a Sieve run: carrying out the result (store, send), compiling and
 * running other scripts, the compiled-script store, and the sieve_env
 * built from the settings a test file sets. */
#ifndef TERN_SIEVE_TESTSUITE_EXT_H
#define TERN_SIEVE_TESTSUITE_EXT_H

#include "sieve-testsuite.h"

struct sieve_run;
struct sieve_ast_node;
struct sieve_extension_def;

extern const struct sieve_extension_def sieve_testsuite_extension;

/* Rebuilds ts->env and ts->limits from the settings (test_config_reload). */
void sieve_testsuite_env_update(struct sieve_testsuite *ts);

/* Compiles path (relative to the test directory); the errors replace
   ts->errors. Returns 1 with *ast_r, 0 if it failed (*ast_r NULL). */
int sieve_testsuite_script_compile(struct sieve_testsuite *ts, const char *path,
				   struct sieve_ast **ast_r);
/* Runs count scripts in sequence on the message under test and adds their
   actions to run's result (as the scripts before and after a user's
   script). Returns 1, or 0 if one failed (errors in ts->errors). */
int sieve_testsuite_script_run(struct sieve_testsuite *ts, struct sieve_run *run,
			       const struct sieve_ast_node *node,
			       struct sieve_ast *const *scripts, unsigned int count);

/* Carries out the actions of run's result not carried out yet: stores,
   and sends redirects, rejects, vacation replies, notifications. 0, or -1
   with the errors in ts->errors. */
int sieve_testsuite_result_execute(struct sieve_testsuite *ts, struct sieve_run *run);
/* The action names test_result_action matches: keep, store, redirect,
   reject, ereject, discard, vacation, notify. */
const char *sieve_testsuite_action_name(const struct sieve_action *action);

int sieve_testsuite_binary_save(struct sieve_testsuite *ts, const char *name,
				struct sieve_ast *ast);
struct sieve_ast *sieve_testsuite_binary_load(struct sieve_testsuite *ts, const char *name);

/* Runs a whole .svtest file: prints a line per test and a summary.
   Returns 0 if every test passed (with expect_failure: if every test
   failed), -1 otherwise. */
int sieve_testsuite_run_file(const char *path, bool expect_failure, bool verbose);
/* Compiles one script (path relative to the current directory) and prints
   its errors as test_error sees them; 0 if it compiled. */
int sieve_testsuite_compile_only(const char *path);

#endif
