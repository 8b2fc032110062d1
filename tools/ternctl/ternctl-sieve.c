/* ternctl sieve: users' Sieve scripts from the command line, in the same
 * storage ManageSieve uses (src/sieve-storage): check a script file, store
 * one for a user, activate one, list them. Run as root, it acts with the
 * user's uid and gid, so the files belong to the user as delivery expects. */
#include "ternctl.h"
#include "auth-passwd-file.h"
#include "auth-user.h"
#include "config.h"
#include "sieve-storage.h"
#include "sieve-validator.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a script file, at most max_size bytes. Returns 0 or -1 (printed). */
static int sieve_read_file(const char *path, uint64_t max_size, const char **data_r,
			   size_t *size_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		ternctl_error("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max_size) {
		ternctl_error("%s: larger than sieve.max_script_size (%llu bytes)", path,
			      (unsigned long long)max_size);
		close(fd);
		return -1;
	}
	string_t *str = t_str_new((size_t)st.st_size + 1);
	char buf[8192];
	ssize_t ret;
	while ((ret = read(fd, buf, sizeof(buf))) > 0 && str_len(str) <= max_size)
		str_append_n(str, buf, (size_t)ret);
	close(fd);
	if (ret < 0 || str_len(str) > max_size) {
		ternctl_error("%s: %s", path, ret < 0 ? strerror(errno) : "file grew too large");
		return -1;
	}
	*data_r = str_c(str);
	*size_r = str_len(str);
	return 0;
}

/* Compiles a script; prints "what: line N: text" when it doesn't. */
static int sieve_check(const char *what, const char *data, size_t size, uint64_t max_size)
{
	struct sieve_parser_limits limits = { .lexer.max_script_size = (size_t)max_size };
	struct sieve_ast *ast;
	const char *error;
	pool_t pool = pool_create("ternctl sieve", 4096);
	int ret = sieve_compile(pool, data, size, &limits, &ast, &error);
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", what, error);
	pool_destroy(&pool);
	return ret < 0 ? -1 : 0;
}

/* The user's storage, as that user when we are root. */
static int sieve_open_user(const struct tern_settings *set, const char *name,
			   struct sieve_storage **storage_r)
{
	const char *error;
	struct auth_user *au;
	struct passwd_file *pf = passwd_file_open(set->auth.passwd_file);
	int ret = passwd_file_lookup(pf, name, t_pool(), &au, &error);
	passwd_file_close(&pf);
	if (ret <= 0) {
		if (ret < 0)
			ternctl_error("%s", error);
		else
			ternctl_error("no such user: %s", name);
		return ret < 0 ? TERNCTL_EXIT_ERROR : TERNCTL_EXIT_NOUSER;
	}
	const char *home = config_mail_home(set, au->name, au->home);
	struct sieve_storage_settings sset;
	if (home == NULL ||
	    sieve_storage_settings_get(&set->sieve, au->name, home, &sset, &error) < 0) {
		ternctl_error("%s: %s", name, home == NULL ? "no home" : error);
		return TERNCTL_EXIT_ERROR;
	}
	if (geteuid() == 0 && au->uid != AUTH_USER_NO_UID && au->uid != 0) {
		gid_t gid = au->gid != AUTH_USER_NO_GID ? au->gid : (gid_t)au->uid;
		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(au->uid) < 0) {
			ternctl_error("can't become uid %u: %s", (unsigned int)au->uid,
				      strerror(errno));
			return TERNCTL_EXIT_ERROR;
		}
	}
	*storage_r = sieve_storage_create(&sset);
	return TERNCTL_EXIT_OK;
}

static int sieve_storage_failed(struct sieve_storage **storage)
{
	const char *text;
	if (sieve_storage_get_error(*storage, &text) == SIEVE_STORAGE_ERROR_TEMP)
		text = sieve_storage_get_internal_error(*storage);
	ternctl_error("%s", text);
	sieve_storage_destroy(storage);
	return TERNCTL_EXIT_ERROR;
}

static int cmd_sieve_check(const struct tern_settings *set, char *argv[])
{
	const char *data;
	size_t size;
	if (sieve_read_file(argv[0], set->sieve.max_script_size, &data, &size) < 0)
		return TERNCTL_EXIT_ERROR;
	if (sieve_check(argv[0], data, size, set->sieve.max_script_size) < 0)
		return TERNCTL_EXIT_ERROR;
	printf("%s: OK\n", argv[0]);
	return TERNCTL_EXIT_OK;
}

static int cmd_sieve_put(const struct tern_settings *set, char *argv[])
{
	struct sieve_storage *storage;
	const char *data;
	size_t size;
	/* read before becoming the user: the file may be the admin's */
	if (sieve_read_file(argv[2], set->sieve.max_script_size, &data, &size) < 0 ||
	    sieve_check(argv[2], data, size, set->sieve.max_script_size) < 0)
		return TERNCTL_EXIT_ERROR;
	if (!sieve_storage_name_is_valid(argv[1])) {
		ternctl_error("invalid script name: %s", argv[1]);
		return TERNCTL_EXIT_ERROR;
	}
	int ret = sieve_open_user(set, argv[0], &storage);
	if (ret != TERNCTL_EXIT_OK)
		return ret;
	if (sieve_storage_put(storage, argv[1], data, size) < 0)
		return sieve_storage_failed(&storage);
	sieve_storage_destroy(&storage);
	return TERNCTL_EXIT_OK;
}

static int cmd_sieve_activate(const struct tern_settings *set, char *argv[])
{
	struct sieve_storage *storage;
	const char *data;
	size_t size;
	int ret = sieve_open_user(set, argv[0], &storage);
	if (ret != TERNCTL_EXIT_OK)
		return ret;
	/* delivery must never find a script that doesn't compile */
	if (sieve_storage_get(storage, argv[1], t_pool(), &data, &size) <= 0)
		return sieve_storage_failed(&storage);
	if (sieve_check(argv[1], data, size, set->sieve.max_script_size) < 0) {
		sieve_storage_destroy(&storage);
		return TERNCTL_EXIT_ERROR;
	}
	if (sieve_storage_activate(storage, argv[1]) < 0)
		return sieve_storage_failed(&storage);
	sieve_storage_destroy(&storage);
	return TERNCTL_EXIT_OK;
}

static int cmd_sieve_list(const struct tern_settings *set, char *argv[])
{
	struct sieve_storage *storage;
	const struct sieve_storage_script *scripts;
	unsigned int count;
	int ret = sieve_open_user(set, argv[0], &storage);
	if (ret != TERNCTL_EXIT_OK)
		return ret;
	if (sieve_storage_list(storage, t_pool(), &scripts, &count) < 0)
		return sieve_storage_failed(&storage);
	for (unsigned int i = 0; i < count; i++) {
		printf("%s%s\t%llu\n", scripts[i].name, scripts[i].active ? "\tACTIVE" : "",
		       (unsigned long long)scripts[i].size);
	}
	sieve_storage_destroy(&storage);
	return TERNCTL_EXIT_OK;
}

static int cmd_sieve_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	static const struct {
		const char *name;
		int args;
		int (*run)(const struct tern_settings *set, char *argv[]);
	} subs[] = {
		{ "check", 1, cmd_sieve_check },
		{ "put", 3, cmd_sieve_put },
		{ "activate", 2, cmd_sieve_activate },
		{ "list", 1, cmd_sieve_list },
	};
	const struct tern_config *config;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return ternctl_usage_print(cmd);
	for (unsigned int i = 0; argc >= 2 && i < N_ELEMENTS(subs); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		if (argc - 2 != subs[i].args)
			return ternctl_usage_error(cmd, NULL);
		if (ternctl_config_get(&config) < 0)
			return TERNCTL_EXIT_ERROR;
		return subs[i].run(config->set, argv + 2);
	}
	return ternctl_usage_error(cmd, NULL);
}

const struct ternctl_command ternctl_cmd_sieve = {
	.name = "sieve",
	.usage = "sieve check FILE\n"
		 "sieve put USER NAME FILE\n"
		 "sieve activate USER NAME\n"
		 "sieve list USER",
	.summary = "check Sieve scripts, and store, activate and list a user's scripts",
	.run = cmd_sieve_run,
};
