/* Unit tests for the compiled-script cache: reuse while the file is
 * unchanged, recompiling after a change, cached compile errors, missing
 * files, eviction of unreferenced entries only. */
#include "test-common.h"
#include "sieve-cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char test_dir[64];

static const char *write_script(const char *name, const char *text)
{
	const char *path = t_strdup_printf("%s/%s", test_dir, name);
	FILE *f = fopen(path, "w");

	i_assert(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_sieve_cache_reuse(void)
{
	struct sieve_cache *cache = sieve_cache_create(0, NULL);
	const struct sieve_ast *ast1, *ast2, *ast3;
	const char *error, *path = write_script("a.sieve", "keep;");

	test_begin("sieve cache reuse and change");
	test_assert(sieve_cache_get(cache, path, &ast1, &error) == 1);
	test_assert(sieve_cache_get(cache, path, &ast2, &error) == 1);
	test_assert(ast1 == ast2);
	sieve_cache_release(cache, &ast2);
	test_assert(ast2 == NULL);
	/* a different size is a different script, even within the same
	   second; the old tree stays valid while referenced */
	write_script("a.sieve", "discard; ");
	test_assert(sieve_cache_get(cache, path, &ast3, &error) == 1);
	test_assert(ast3 != ast1);
	test_assert(ast1->root->block.count == 1);
	test_assert_strcmp(ast3->root->block.v[0]->identifier, "discard");
	sieve_cache_release(cache, &ast1);
	sieve_cache_release(cache, &ast3);
	test_assert(sieve_cache_count(cache) == 1);
	sieve_cache_destroy(&cache);
	test_assert(cache == NULL);
	test_end();
}

static void test_sieve_cache_errors(void)
{
	struct sieve_cache *cache = sieve_cache_create(0, NULL);
	const struct sieve_ast *ast;
	const char *error, *path = write_script("bad.sieve", "keep;\nbogus;\n");

	test_begin("sieve cache errors");
	test_assert(sieve_cache_get(cache, path, &ast, &error) == -1);
	test_assert_strcmp(error, "line 2: unknown command 'bogus'");
	test_assert(sieve_cache_get(cache, path, &ast, &error) == -1);
	test_assert(sieve_cache_count(cache) == 1);
	test_assert(sieve_cache_get(cache, t_strdup_printf("%s/none.sieve", test_dir),
				    &ast, &error) == 0);
	sieve_cache_destroy(&cache);
	test_end();
}

static void test_sieve_cache_eviction(void)
{
	struct sieve_cache *cache = sieve_cache_create(2, NULL);
	const struct sieve_ast *a, *b, *c;
	const char *error;
	const char *pa = write_script("e1.sieve", "keep;");
	const char *pb = write_script("e2.sieve", "keep;");
	const char *pc = write_script("e3.sieve", "keep;");

	test_begin("sieve cache eviction");
	test_assert(sieve_cache_get(cache, pa, &a, &error) == 1);
	test_assert(sieve_cache_get(cache, pb, &b, &error) == 1);
	test_assert(sieve_cache_get(cache, pc, &c, &error) == 1);
	/* all three referenced: none could go */
	test_assert(sieve_cache_count(cache) == 3);
	sieve_cache_release(cache, &a);
	test_assert(sieve_cache_count(cache) == 2);
	sieve_cache_release(cache, &b);
	sieve_cache_release(cache, &c);
	test_assert(sieve_cache_count(cache) == 2);
	sieve_cache_destroy(&cache);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_sieve_cache_reuse,
		test_sieve_cache_errors,
		test_sieve_cache_eviction,
		NULL
	};
	int ret;

	snprintf(test_dir, sizeof(test_dir), "/tmp/test-sieve-cache.XXXXXX");
	i_assert(mkdtemp(test_dir) != NULL);
	ret = test_run(tests);
	(void)system(t_strdup_printf("rm -rf '%s'", test_dir));
	return ret;
}
