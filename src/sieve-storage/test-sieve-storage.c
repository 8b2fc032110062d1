/* Unit tests of the Sieve script storage: templates, names, put/get/list,
 * quotas, the active symlink in Pigeonhole's layout, the regular-file
 * rescue, rename and delete. */
#include "test-common.h"
#include "sieve-storage.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_home[PATH_MAX];

static struct sieve_storage *test_storage(unsigned int max_scripts, uint64_t max_storage)
{
	struct sieve_storage_settings set = {
		.script_dir = t_strconcat(test_home, "/sieve", NULL),
		.active_path = t_strconcat(test_home, "/.dovecot.sieve", NULL),
		.max_scripts = max_scripts, .max_storage = max_storage,
		.max_script_size = 100,
	};
	return sieve_storage_create(&set);
}

static const char *test_readlink(void)
{
	static char buf[PATH_MAX];
	ssize_t len = readlink(t_strconcat(test_home, "/.dovecot.sieve", NULL), buf,
			       sizeof(buf) - 1);
	if (len < 0)
		return NULL;
	buf[len] = '\0';
	return buf;
}

static void test_expand(void)
{
	test_begin("expand");
	const char *error;
	test_assert_strcmp(sieve_storage_expand("%h/sieve", "a@b.c", "/home/a", &error),
			   "/home/a/sieve");
	test_assert_strcmp(sieve_storage_expand("~/.dovecot.sieve", "a", "/h", &error),
			   "/h/.dovecot.sieve");
	test_assert_strcmp(sieve_storage_expand("/s/%d/%n/%%", "a@b.c", NULL, &error),
			   "/s/b.c/a/%");
	test_assert_strcmp(sieve_storage_expand("sieve", "a", "/h", &error), "/h/sieve");
	test_assert(sieve_storage_expand("%h/x", "a", "", &error) == NULL);
	test_assert(sieve_storage_expand("/x/%q", "a", "/h", &error) == NULL);
	test_end();
}

static void test_names(void)
{
	test_begin("names");
	test_assert(sieve_storage_name_is_valid("vacation"));
	test_assert(sieve_storage_name_is_valid("Ferien \xc3\xa4 2024"));
	test_assert(!sieve_storage_name_is_valid(""));
	test_assert(!sieve_storage_name_is_valid(".hidden"));
	test_assert(!sieve_storage_name_is_valid("a/b"));
	test_assert(!sieve_storage_name_is_valid("a\tb"));
	test_assert(!sieve_storage_name_is_valid("a\x7f"));
	test_assert(!sieve_storage_name_is_valid("a\xc2\x85"));     /* U+0085 */
	test_assert(!sieve_storage_name_is_valid("a\xe2\x80\xa8")); /* U+2028 */
	test_assert(!sieve_storage_name_is_valid("a\xff"));
	test_assert(!sieve_storage_name_is_valid("\xc0\xaf"));      /* overlong */
	char longname[SIEVE_STORAGE_MAX_NAME_LENGTH + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	test_assert(!sieve_storage_name_is_valid(longname));
	test_end();
}

static void test_put_get_list(void)
{
	test_begin("put, get, list, quota");
	struct sieve_storage *storage = test_storage(2, 50);
	const struct sieve_storage_script *scripts;
	unsigned int count;
	const char *data, *text;
	size_t size;
	test_assert(sieve_storage_list(storage, t_pool(), &scripts, &count) == 0 && count == 0);
	test_assert(sieve_storage_put(storage, "b", "keep;\r\n", 7) == 0);
	test_assert(sieve_storage_put(storage, "a", "discard;\r\n", 10) == 0);
	test_assert(sieve_storage_list(storage, t_pool(), &scripts, &count) == 0 && count == 2);
	test_assert_strcmp(scripts[0].name, "a");
	test_assert(scripts[0].size == 10 && !scripts[0].active);
	test_assert(sieve_storage_get(storage, "b", t_pool(), &data, &size) == 1);
	test_assert(size == 7 && strcmp(data, "keep;\r\n") == 0);
	test_assert(sieve_storage_get(storage, "c", t_pool(), &data, &size) == 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_NOTFOUND);
	/* a third script: MAXSCRIPTS; replacing one is fine */
	test_assert(sieve_storage_put(storage, "c", "keep;", 5) < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_QUOTA_SCRIPTS);
	test_assert(sieve_storage_havespace(storage, "a", 40) == 1);
	test_assert(sieve_storage_havespace(storage, "a", 44) == 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_QUOTA_STORAGE);
	test_assert(sieve_storage_havespace(storage, "a", 101) == 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_QUOTA_SIZE);
	test_assert(sieve_storage_havespace(storage, "a/b", 1) < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_BAD_NAME);
	/* the temporary files are gone, the directory is private */
	struct stat st;
	test_assert(stat(t_strconcat(test_home, "/sieve", NULL), &st) == 0 &&
		    (st.st_mode & 0777) == 0700);
	test_assert(rmdir(t_strconcat(test_home, "/sieve/tmp", NULL)) == 0);
	sieve_storage_destroy(&storage);
	test_assert(storage == NULL);
	test_end();
}

static void test_active(void)
{
	test_begin("active symlink, rename, delete");
	struct sieve_storage *storage = test_storage(0, 0);
	const char *name, *path, *data, *text;
	size_t size;
	test_assert(sieve_storage_active_name(storage, t_pool(), &name) == 0);
	test_assert(sieve_storage_active_read(storage, t_pool(), &data, &size) == 0);
	test_assert(sieve_storage_activate(storage, "nope") < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_NOTFOUND);
	test_assert(sieve_storage_activate(storage, "a") == 0);
	/* Pigeonhole's layout: a relative link into sieve/ */
	test_assert_strcmp(test_readlink(), "sieve/a.sieve");
	test_assert(sieve_storage_active_name(storage, t_pool(), &name) == 1);
	test_assert_strcmp(name, "a");
	test_assert(sieve_storage_active_read(storage, t_pool(), &data, &size) == 1);
	test_assert_strcmp(data, "discard;\r\n");
	test_assert(sieve_storage_delete(storage, "a") < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_ACTIVE);
	/* an active script renamed stays active */
	test_assert(sieve_storage_rename(storage, "a", "b") < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_EXISTS);
	test_assert(sieve_storage_rename(storage, "a", "renamed") == 0);
	test_assert_strcmp(test_readlink(), "sieve/renamed.sieve");
	test_assert(sieve_storage_rename(storage, "a", "x") < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_NOTFOUND);
	/* replacing the active script keeps it active */
	test_assert(sieve_storage_put(storage, "renamed", "stop;", 5) == 0);
	test_assert(sieve_storage_active_path(storage, t_pool(), &path, &name) == 1);
	test_assert_strcmp(name, "renamed");
	test_assert(sieve_storage_delete(storage, "b") == 0);
	test_assert(sieve_storage_delete(storage, "b") < 0);
	test_assert(sieve_storage_get_error(storage, &text) == SIEVE_STORAGE_ERROR_NOTFOUND);
	test_assert(sieve_storage_deactivate(storage) == 0);
	test_assert(test_readlink() == NULL);
	test_assert(sieve_storage_deactivate(storage) == 0);
	test_assert(sieve_storage_delete(storage, "renamed") == 0);
	sieve_storage_destroy(&storage);
	test_end();
}

static void test_regular_file(void)
{
	test_begin("regular file at the active path");
	struct sieve_storage *storage = test_storage(0, 0);
	const char *active = t_strconcat(test_home, "/.dovecot.sieve", NULL);
	const char *name, *path, *data;
	size_t size;
	FILE *f = fopen(active, "w");
	test_assert(f != NULL);
	fputs("keep;\n", f);
	fclose(f);
	/* run at delivery, but not a managed script */
	test_assert(sieve_storage_active_name(storage, t_pool(), &name) == 0);
	test_assert(sieve_storage_active_path(storage, t_pool(), &path, &name) == 1);
	test_assert_strcmp(path, active);
	test_assert(name == NULL);
	test_assert(sieve_storage_active_read(storage, t_pool(), &data, &size) == 1);
	test_assert_strcmp(data, "keep;\n");
	test_assert(sieve_storage_put(storage, "new", "stop;", 5) == 0);
	test_assert(sieve_storage_activate(storage, "new") == 0);
	test_assert_strcmp(test_readlink(), "sieve/new.sieve");
	test_assert(sieve_storage_get(storage, "dovecot.orig", t_pool(), &data, &size) == 1);
	test_assert_strcmp(data, "keep;\n");
	/* a symlink elsewhere is no managed active script */
	test_assert(unlink(active) == 0 && symlink("/etc/hostname", active) == 0);
	test_assert(sieve_storage_active_name(storage, t_pool(), &name) == 0);
	sieve_storage_destroy(&storage);
	test_end();
}

static void test_absolute_link(void)
{
	test_begin("script_dir outside the link's directory");
	struct sieve_storage_settings set = {
		.script_dir = t_strconcat(test_home, "/other/scripts/", NULL),
		.active_path = t_strconcat(test_home, "/sub/active.sieve", NULL),
	};
	struct sieve_storage *storage = sieve_storage_create(&set);
	const char *name;
	char buf[PATH_MAX];
	test_assert(mkdir(t_strconcat(test_home, "/other", NULL), 0700) == 0);
	test_assert(sieve_storage_put(storage, "x", "keep;", 5) == 0);
	test_assert(sieve_storage_activate(storage, "x") == 0);
	ssize_t len = readlink(set.active_path, buf, sizeof(buf) - 1);
	test_assert(len > 0);
	buf[len < 0 ? 0 : len] = '\0';
	test_assert_strcmp(buf, t_strconcat(test_home, "/other/scripts/x.sieve", NULL));
	test_assert(sieve_storage_active_name(storage, t_pool(), &name) == 1);
	test_assert_strcmp(name, "x");
	sieve_storage_destroy(&storage);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_expand, test_names, test_put_get_list, test_active, test_regular_file,
		test_absolute_link, NULL,
	};
	snprintf(test_home, sizeof(test_home), "/tmp/test-sieve-storage.XXXXXX");
	if (mkdtemp(test_home) == NULL)
		return 1;
	int ret = test_run(tests);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_home);
	if (system(cmd) != 0)
		ret = 1;
	return ret;
}
