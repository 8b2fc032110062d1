/* Running one .svtest file: the whole file is one Sieve script run with
 * the vnd.dovecot.testsuite extension registered; the test blocks in it
 * report themselves, and this adds the file-level outcome (a compile
 * error, a runtime error that ended the file) and the summary line. */
#include "sieve-testsuite-ext.h"
#include "sieve-extension.h"

#include <stdio.h>
#include <stdlib.h>

static int testsuite_compile_file(struct sieve_testsuite *ts, const char *path,
				  struct sieve_ast **ast_r)
{
	sieve_diag_array_t diags;
	const char *data, *error;
	size_t size;
	int ret;

	/* the test directory is the file's own: read it by its base name */
	const char *slash = strrchr(path, '/');

	ret = sieve_testsuite_read_file(ts, ts->pool, slash == NULL ? path : slash + 1,
					&data, &size, &error);
	if (ret <= 0) {
		printf("ERROR %s: %s\n", path, ret == 0 ? "file not found" : error);
		return -1;
	}
	array_init(&diags, ts->pool, 4);
	ret = sieve_compile_diag(ts->pool, data, size, NULL, 0, ast_r, &diags);
	for (unsigned int i = 0; i < diags.count; i++) {
		if (!diags.v[i].warning || ts->verbose)
			printf("%s %s\n", diags.v[i].warning ? "WARNING" : "ERROR", diags.v[i].text);
	}
	return ret < 0 ? -1 : 0;
}

static void testsuite_file_fail(struct sieve_testsuite *ts, const char *reason)
{
	sieve_testsuite_test_begin(ts, "(file)");
	sieve_testsuite_test_fail(ts, reason);
	sieve_testsuite_test_end(ts);
}

int sieve_testsuite_run_file(const char *path, bool expect_failure, bool verbose)
{
	struct sieve_testsuite *ts = sieve_testsuite_create(path);
	struct sieve_result *result;
	struct sieve_ast *ast;
	const char *error;
	bool ok;

	ts->verbose = verbose;
	ts->username = getenv("USER");
	(void)sieve_extension_register(&sieve_testsuite_extension);
	sieve_testsuite_message_init(ts, &ts->sieve_msg);
	sieve_testsuite_env_update(ts);

	if (testsuite_compile_file(ts, path, &ast) < 0)
		testsuite_file_fail(ts, "failed to compile the test script");
	else if (sieve_execute_env(ast, &ts->sieve_msg, &ts->env, &ts->limits, ts->pool,
				   &result, &error) < 0 && !ts->aborted)
		testsuite_file_fail(ts, t_strdup_printf("script execution aborted: %s", error));

	if (expect_failure) {
		ok = ts->fail_count > 0 && ts->fail_count >= ts->test_count;
		printf("%s: %u of %u tests failed (all expected to fail)\n",
		       ok ? "PASS" : "FAIL", ts->fail_count, ts->test_count);
	} else {
		ok = ts->fail_count == 0;
		printf("%s: %u of %u tests passed\n", ok ? "PASS" : "FAIL",
		       ts->test_count - ts->fail_count, ts->test_count);
	}
	sieve_testsuite_destroy(&ts);
	return ok ? 0 : -1;
}
