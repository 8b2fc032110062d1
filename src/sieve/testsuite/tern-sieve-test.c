/* tern-sieve-test: runs one Pigeonhole-style .svtest file (a Sieve script
 * using the vnd.dovecot.testsuite extension) and prints PASS/FAIL per
 * test block and a summary; exits 0 only if every test passed. */
#include "sieve-testsuite-ext.h"

#include "sieve-extension.h"

#include <stdio.h>
#include <string.h>

static void usage(void)
{
	fprintf(stderr, "usage: tern-sieve-test [-v] [-F] FILE.svtest\n"
		"       tern-sieve-test -c FILE.sieve\n"
		"  -c  only compile a script and print its errors and warnings\n"
		"  -v  print the errors scripts report\n"
		"  -F  expect every test to fail (robustness cases)\n");
}

int main(int argc, char *argv[])
{
	bool verbose = false, expect_failure = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[i], "-F") == 0)
			expect_failure = true;
		else if (strcmp(argv[i], "-c") == 0 && i + 2 == argc)
			return sieve_testsuite_compile_only(argv[i + 1]) < 0 ? 1 : 0;
		else {
			usage();
			return 2;
		}
	}
	if (i + 1 != argc) {
		usage();
		return 2;
	}
	return sieve_testsuite_run_file(argv[i], expect_failure, verbose) < 0 ? 1 : 0;
}
