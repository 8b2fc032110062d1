/* Unit tests for passwd-file reading (fields, extra fields, malformed
 * lines, reload on change, limits) and editing (comments preserved,
 * atomic replace, permissions, name checks). */
#include "test-common.h"
#include "auth-passwd-file.h"
#include "auth-passwd-file-edit.h"
#include "buffer.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_dir[] = "/tmp/test-passwd-file.XXXXXX";

static const char *test_path(const char *name)
{
	return t_strdup_printf("%s/%s", test_dir, name);
}

static void write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	i_assert(fd >= 0);
	i_assert(write(fd, data, size) == (ssize_t)size);
	i_close_fd(&fd);
}

static const char *read_file(const char *path)
{
	string_t *str = t_str_new(256);
	char buf[1024];
	int fd = open(path, O_RDONLY);
	ssize_t ret;

	i_assert(fd >= 0);
	while ((ret = read(fd, buf, sizeof(buf))) > 0)
		str_append_n(str, buf, (size_t)ret);
	i_close_fd(&fd);
	return str_c(str);
}

static const char *extra_joined(const struct auth_user *u)
{
	string_t *str = t_str_new(64);
	for (unsigned int i = 0; i < u->extra.count; i++) {
		if (i > 0)
			str_append_c(str, '|');
		str_append(str, u->extra.v[i]);
	}
	return str_c(str);
}

static const char parse_contents[] =
	"# a comment: user0:{PLAIN}x\n"
	"\n"
	"   \n"
	"user1:{PLAIN}pass1:1000:1001:Gecos Name:/home/user1:/bin/sh:userdb_quota_rule=*:storage=1G nologin  allow_nets=127.0.0.0/8\n"
	"user2@example.com:{PLAIN}pass2\n"
	"user3:{PLAIN}p3:::::\n"
	"user4\n"
	"user5:{PLAIN}p5:1001:1002::/home/u5::\n"
	"olduser:{PLAIN}x:1:1::/home/o:::maildir:~/Maildir\n"
	"crlf:{PLAIN}c::::/home/crlf::k=v\r\n"
	"bad name:{PLAIN}x\n"
	":{PLAIN}noname\n"
	"baduid:{PLAIN}x:no-such-user-tern-test:1\n"
	"badgid:{PLAIN}x:1:4294967295\n"
	"user1:{PLAIN}duplicate\n"
	"rootname:{PLAIN}x:root:root\n"
	"last:{PLAIN}nonl";

static void test_passwd_file_parse(void)
{
	const char *path = test_path("parse");
	pool_t pool = pool_create("test", 1024);
	struct passwd_file *pf;
	struct auth_user *u;
	const char *error;

	test_begin("passwd-file parse");
	write_file(path, parse_contents, sizeof(parse_contents) - 1);
	pf = passwd_file_open(path);
	test_assert(passwd_file_get_load_count(pf) == 0);

	test_assert(passwd_file_lookup(pf, "user1", pool, &u, &error) == 1);
	test_assert_strcmp(u->name, "user1");
	test_assert_strcmp(u->password, "{PLAIN}pass1");
	test_assert(u->uid == 1000 && u->gid == 1001);
	test_assert_strcmp(u->home, "/home/user1");
	test_assert_strcmp(extra_joined(u),
		"userdb_quota_rule=*:storage=1G|nologin|allow_nets=127.0.0.0/8");
	test_assert_strcmp(auth_user_extra_get(u, "nologin"), "");
	test_assert_strcmp(auth_user_extra_get(u, "allow_nets"), "127.0.0.0/8");
	test_assert_strcmp(auth_user_extra_get(u, "userdb_quota_rule"), "*:storage=1G");
	test_assert(auth_user_extra_get(u, "allow") == NULL);
	test_assert(auth_user_extra_get(u, "nolog") == NULL);

	test_assert(passwd_file_lookup(pf, "user2@example.com", pool, &u, &error) == 1);
	test_assert_strcmp(u->password, "{PLAIN}pass2");
	test_assert(u->uid == AUTH_USER_NO_UID && u->gid == AUTH_USER_NO_GID);
	test_assert(u->home == NULL && u->extra.count == 0);
	test_assert(passwd_file_lookup(pf, "user2", pool, &u, &error) == 0);
	test_assert(u == NULL);
	test_assert(passwd_file_lookup(pf, "USER1", pool, &u, &error) == 0);

	test_assert(passwd_file_lookup(pf, "user3", pool, &u, &error) == 1);
	test_assert(u->home == NULL && u->extra.count == 0);
	test_assert(passwd_file_lookup(pf, "user4", pool, &u, &error) == 1);
	test_assert(u->password == NULL);
	test_assert(passwd_file_lookup(pf, "user5", pool, &u, &error) == 1);
	test_assert(u->uid == 1001 && u->gid == 1002 && u->extra.count == 0);
	test_assert_strcmp(u->home, "/home/u5");
	test_assert(passwd_file_lookup(pf, "olduser", pool, &u, &error) == 1);
	test_assert_strcmp(extra_joined(u), "userdb_mail=maildir:~/Maildir");
	test_assert(passwd_file_lookup(pf, "crlf", pool, &u, &error) == 1);
	test_assert_strcmp(u->password, "{PLAIN}c");
	test_assert_strcmp(u->home, "/home/crlf");
	test_assert_strcmp(extra_joined(u), "k=v");
	test_assert(passwd_file_lookup(pf, "last", pool, &u, &error) == 1);
	test_assert_strcmp(u->password, "{PLAIN}nonl");
	test_assert(passwd_file_lookup(pf, "rootname", pool, &u, &error) == 1);
	test_assert(u->uid == 0 && u->gid == 0);

	/* malformed lines are skipped, comments aren't users */
	test_assert(passwd_file_lookup(pf, "bad", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "bad name", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "baduid", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "badgid", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "# a comment", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "user0", pool, &u, &error) == 0);
	/* a duplicate doesn't replace the first line */
	test_assert(passwd_file_lookup(pf, "user1", pool, &u, &error) == 1);
	test_assert_strcmp(u->password, "{PLAIN}pass1");

	test_assert(passwd_file_get_load_count(pf) == 1);
	passwd_file_close(&pf);
	test_assert(pf == NULL);
	passwd_file_close(&pf);
	test_end();
	pool_destroy(&pool);
}

static void test_passwd_file_bad_input(void)
{
	const char *path = test_path("bad");
	pool_t pool = pool_create("test", 1024);
	struct auth_user *u;
	const char *error;

	test_begin("passwd-file bad input");
	string_t *str = t_str_new(PASSWD_FILE_MAX_LINE_LENGTH + 256);
	str_append(str, "a:{PLAIN}a\nlong:");
	for (unsigned int i = 0; i < PASSWD_FILE_MAX_LINE_LENGTH; i++)
		str_append_c(str, 'x');
	static const char nul_line[] = "\nnul:{PLAIN}x\0y\nb:{PLAIN}b\n";
	str_append_n(str, nul_line, sizeof(nul_line) - 1);
	write_file(path, str_data(str), str_len(str));

	struct passwd_file *pf = passwd_file_open(path);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == 1);
	test_assert(passwd_file_lookup(pf, "b", pool, &u, &error) == 1);
	test_assert(passwd_file_lookup(pf, "long", pool, &u, &error) == 0);
	test_assert(passwd_file_lookup(pf, "nul", pool, &u, &error) == 0);

	/* too large (sparse, so it costs no disk) */
	int fd = open(path, O_WRONLY);
	test_assert(fd >= 0 && ftruncate(fd, PASSWD_FILE_MAX_SIZE + 1) == 0);
	i_close_fd(&fd);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == -1);
	test_assert(strstr(error, "larger") != NULL);

	/* a directory */
	passwd_file_close(&pf);
	pf = passwd_file_open(test_dir);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == -1);
	passwd_file_close(&pf);

	/* missing */
	pf = passwd_file_open(test_path("missing"));
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == -1);
	test_assert(strstr(error, "missing") != NULL);
	passwd_file_close(&pf);
	unlink(path);
	test_end();
	pool_destroy(&pool);
}

static void test_passwd_file_reload(void)
{
	const char *path = test_path("reload");
	pool_t pool = pool_create("test", 1024);
	struct auth_user *u;
	const char *error;

	test_begin("passwd-file reload on change");
	write_file(path, "a:{PLAIN}1\n", 11);
	struct passwd_file *pf = passwd_file_open(path);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == 1);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == 1);
	test_assert(passwd_file_lookup(pf, "b", pool, &u, &error) == 0);
	test_assert(passwd_file_get_load_count(pf) == 1);

	/* an editor adds a user: seen at the next lookup */
	test_assert(passwd_file_edit_add(path, "b", "{PLAIN}2", NULL, &error) == 1);
	test_assert(passwd_file_lookup(pf, "b", pool, &u, &error) == 1);
	test_assert(passwd_file_get_load_count(pf) == 2);

	/* same size, rewritten in place with an older mtime: still seen */
	struct stat st;
	test_assert(stat(path, &st) == 0);
	const char *contents = read_file(path);
	char *changed = t_strdup(contents);
	changed[strlen("a:{PLAIN}")] = '9';
	write_file(path, changed, strlen(changed));
	struct timespec times[2] = { st.st_atim, { .tv_sec = st.st_mtim.tv_sec - 10 } };
	test_assert(utimensat(AT_FDCWD, path, times, 0) == 0);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == 1);
	test_assert_strcmp(u->password, "{PLAIN}9");
	test_assert(passwd_file_get_load_count(pf) == 3);

	/* deleted: fail closed rather than serve stale users */
	test_assert(unlink(path) == 0);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == -1);
	write_file(path, "c:{PLAIN}3\n", 11);
	test_assert(passwd_file_lookup(pf, "c", pool, &u, &error) == 1);
	test_assert(passwd_file_lookup(pf, "a", pool, &u, &error) == 0);
	passwd_file_close(&pf);
	unlink(path);
	unlink(t_strdup_printf("%s.lock", path));
	test_end();
	pool_destroy(&pool);
}

static const char edit_contents[] =
	"# users\r\n"
	"alice:{PLAIN}a:1000:1000::/home/alice::nologin\r\n"
	"\n"
	"  # indented comment\n"
	"bob:{PLAIN}b\n"
	"carol\n"
	"bob:{PLAIN}dup:::::\n"
	"dave:{PLAIN}d:1:2";

static void test_passwd_file_edit(void)
{
	const char *path = test_path("edit");
	const char *error;

	test_begin("passwd-file edit");
	write_file(path, edit_contents, sizeof(edit_contents) - 1);
	chmod(path, 0604);

	test_assert(passwd_file_edit_set_password(path, "alice", "{PLAIN}A", &error) == 1);
	test_assert(passwd_file_edit_set_password(path, "carol", "{PLAIN}C", &error) == 1);
	test_assert(passwd_file_edit_set_password(path, "bob", "{PLAIN}B", &error) == 1);
	test_assert(passwd_file_edit_set_password(path, "dave", "{PLAIN}D", &error) == 1);
	test_assert(passwd_file_edit_set_password(path, "nobody", "{PLAIN}x", &error) == 0);
	test_assert_strcmp(read_file(path),
		"# users\r\n"
		"alice:{PLAIN}A:1000:1000::/home/alice::nologin\r\n"
		"\n"
		"  # indented comment\n"
		"bob:{PLAIN}B\n"
		"carol:{PLAIN}C\n"
		"bob:{PLAIN}dup:::::\n"
		"dave:{PLAIN}D:1:2");

	/* appending to a file without a final newline */
	test_assert(passwd_file_edit_add(path, "eve", "{PLAIN}e", "/home/eve", &error) == 1);
	test_assert(passwd_file_edit_add(path, "alice", "{PLAIN}x", NULL, &error) == 0);
	test_assert(passwd_file_edit_delete(path, "bob", &error) == 1);
	test_assert(passwd_file_edit_delete(path, "bob", &error) == 0);
	test_assert_strcmp(read_file(path),
		"# users\r\n"
		"alice:{PLAIN}A:1000:1000::/home/alice::nologin\r\n"
		"\n"
		"  # indented comment\n"
		"carol:{PLAIN}C\n"
		"dave:{PLAIN}D:1:2\n"
		"eve:{PLAIN}e::::/home/eve::\n");

	/* mode kept across the rename */
	struct stat st;
	test_assert(stat(path, &st) == 0 && (st.st_mode & 07777) == 0604);

	const char *const *users;
	unsigned int count;
	test_assert(passwd_file_edit_list(path, t_pool(), &users, &count, &error) == 0);
	test_assert(count == 4);
	test_assert_strcmp(users[0], "alice");
	test_assert_strcmp(users[1], "carol");
	test_assert_strcmp(users[2], "dave");
	test_assert_strcmp(users[3], "eve");
	test_assert(users[4] == NULL);

	/* the reader agrees */
	struct passwd_file *pf = passwd_file_open(path);
	struct auth_user *u;
	test_assert(passwd_file_lookup(pf, "eve", t_pool(), &u, &error) == 1);
	test_assert_strcmp(u->home, "/home/eve");
	test_assert(passwd_file_lookup(pf, "bob", t_pool(), &u, &error) == 0);
	passwd_file_close(&pf);
	test_end();
}

static void test_passwd_file_edit_create(void)
{
	const char *path = test_path("sub/dir/users");
	const char *error, *const *users;
	unsigned int count;
	struct stat st;

	test_begin("passwd-file edit creates file");
	/* a missing file holds no users and isn't created by reads */
	test_assert(passwd_file_edit_list(path, t_pool(), &users, &count, &error) == 0);
	test_assert(count == 0 && users[0] == NULL);
	test_assert(passwd_file_edit_delete(path, "x", &error) == 0);
	test_assert(passwd_file_edit_set_password(path, "x", "{PLAIN}x", &error) == 0);
	test_assert(stat(test_path("sub"), &st) < 0);

	test_assert(passwd_file_edit_add(path, "x@example.com", "{PLAIN}x", NULL, &error) == 1);
	test_assert(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	test_assert_strcmp(read_file(path), "x@example.com:{PLAIN}x::::::\n");
	test_assert(stat(t_strdup_printf("%s.lock", path), &st) == 0);
	test_end();
}

static void test_passwd_file_edit_invalid(void)
{
	static const char *const bad_names[] = {
		"", "a:b", "a b", "a\tb", "a\nb", "\x01x", "#x", "x\x7f",
	};
	const char *path = test_path("invalid");
	const char *error;

	test_begin("passwd-file edit refuses bad input");
	for (size_t i = 0; i < N_ELEMENTS(bad_names); i++) {
		test_assert(passwd_file_user_name_check(bad_names[i], &error) == -1);
		test_assert(passwd_file_edit_add(path, bad_names[i], "{PLAIN}x", NULL,
						 &error) == -1);
	}
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	test_assert(passwd_file_user_name_check(long_name, &error) == -1);
	test_assert(passwd_file_user_name_check("user@example.com", &error) == 0);
	test_assert(passwd_file_edit_add(path, "u", "{PLAIN}a:b", NULL, &error) == -1);
	test_assert(passwd_file_edit_add(path, "u", "{PLAIN}a\nb", NULL, &error) == -1);
	test_assert(passwd_file_edit_add(path, "u", "{PLAIN}x", "/a:b", &error) == -1);
	test_assert(passwd_file_edit_set_password(path, "u", "x:y", &error) == -1);
	test_assert(access(path, F_OK) < 0);
	test_end();
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_passwd_file_parse,
		test_passwd_file_bad_input,
		test_passwd_file_reload,
		test_passwd_file_edit,
		test_passwd_file_edit_create,
		test_passwd_file_edit_invalid,
		NULL,
	};

	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	int ret = test_run(tests);
	(void)nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
