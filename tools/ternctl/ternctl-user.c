/* ternctl user: add, delete, list users and set passwords in a
 * passwd-file, through the locked, atomic edits of auth-passwd-file-edit. */
#include "ternctl.h"
#include "auth-password.h"
#include "auth-passwd-file-edit.h"
#include "config.h"
#include "pool.h"

#include <getopt.h>
#include <openssl/rand.h>

#define TERNCTL_RANDOM_PASSWORD_LEN 16

struct user_args {
	const char *passwd_file;
	const char *home;
	const char *scheme;
	/* positional arguments after the subcommand */
	char **args;
	int count;
};

struct user_subcommand {
	const char *name;
	int min_args, max_args;
	int (*run)(const struct user_args *args);
};

/* A password of letters and digits, unbiased (rejection sampling). */
static const char *user_random_password(void)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const unsigned int limit = 256 - 256 % (sizeof(chars) - 1);
	char *pw = t_malloc(TERNCTL_RANDOM_PASSWORD_LEN + 1);
	unsigned int len = 0;

	while (len < TERNCTL_RANDOM_PASSWORD_LEN) {
		unsigned char rnd[32];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			i_fatal("RAND_bytes() failed");
		for (size_t i = 0; i < sizeof(rnd) && len < TERNCTL_RANDOM_PASSWORD_LEN; i++) {
			if (rnd[i] < limit)
				pw[len++] = chars[rnd[i] % (sizeof(chars) - 1)];
		}
	}
	pw[len] = '\0';
	return pw;
}

static int user_add(const struct user_args *args)
{
	const char *name = args->args[0], *password, *hash, *error;
	bool generated = args->count < 2;
	int ret;

	if (passwd_file_user_name_check(name, &error) < 0) {
		ternctl_error("invalid user name '%s': %s", name, error);
		return TERNCTL_EXIT_USAGE;
	}
	password = generated ? user_random_password() : args->args[1];
	if (password[0] == '\0') {
		ternctl_error("empty password");
		return TERNCTL_EXIT_USAGE;
	}
	if (ternctl_hash_password(password, args->scheme, &hash) < 0)
		return TERNCTL_EXIT_ERROR;
	ret = passwd_file_edit_add(args->passwd_file, name, hash, args->home, &error);
	if (ret < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	if (ret == 0) {
		ternctl_error("user %s already exists in %s", name, args->passwd_file);
		return TERNCTL_EXIT_ERROR;
	}
	/* the only place the generated password is ever shown */
	if (generated)
		printf("%s\n", password);
	return TERNCTL_EXIT_OK;
}

static int user_del(const struct user_args *args)
{
	const char *error;
	int ret = passwd_file_edit_delete(args->passwd_file, args->args[0], &error);

	if (ret < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	if (ret == 0) {
		ternctl_error("no such user: %s", args->args[0]);
		return TERNCTL_EXIT_NOUSER;
	}
	return TERNCTL_EXIT_OK;
}

static int user_list(const struct user_args *args)
{
	const char *const *users, *error;
	unsigned int count;

	if (passwd_file_edit_list(args->passwd_file, t_pool(), &users, &count,
				  &error) < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	for (unsigned int i = 0; i < count; i++)
		printf("%s\n", users[i]);
	return TERNCTL_EXIT_OK;
}

/* Returns 1 if user is in the file, 0 if not, -1 on error (printed). */
static int user_exists(const char *passwd_file, const char *user)
{
	const char *const *users, *error;
	unsigned int count;

	if (passwd_file_edit_list(passwd_file, t_pool(), &users, &count, &error) < 0) {
		ternctl_error("%s", error);
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(users[i], user) == 0)
			return 1;
	}
	return 0;
}

static int user_passwd(const struct user_args *args)
{
	const char *name = args->args[0], *password, *hash, *error;
	int ret;

	/* don't ask for a password we can't use */
	if ((ret = user_exists(args->passwd_file, name)) <= 0) {
		if (ret == 0)
			ternctl_error("no such user: %s", name);
		return ret == 0 ? TERNCTL_EXIT_NOUSER : TERNCTL_EXIT_ERROR;
	}
	if (args->count >= 2)
		password = args->args[1];
	else if (ternctl_read_new_password(&password) < 0)
		return TERNCTL_EXIT_ERROR;
	if (password[0] == '\0') {
		ternctl_error("empty password");
		return TERNCTL_EXIT_USAGE;
	}
	if (ternctl_hash_password(password, args->scheme, &hash) < 0)
		return TERNCTL_EXIT_ERROR;
	ret = passwd_file_edit_set_password(args->passwd_file, name, hash, &error);
	if (ret < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	if (ret == 0) {
		ternctl_error("no such user: %s", name);
		return TERNCTL_EXIT_NOUSER;
	}
	return TERNCTL_EXIT_OK;
}

static const struct user_subcommand user_subcommands[] = {
	{ .name = "add", .min_args = 1, .max_args = 2, .run = user_add },
	{ .name = "del", .min_args = 1, .max_args = 1, .run = user_del },
	{ .name = "list", .min_args = 0, .max_args = 0, .run = user_list },
	{ .name = "passwd", .min_args = 1, .max_args = 2, .run = user_passwd },
};

/* Parses the options (anywhere on the line; "--" ends them). Returns -1
   for --help, 0 ok, or an exit status > 0. */
static int user_parse_options(const struct ternctl_command *cmd, int argc,
			      char *argv[], struct user_args *args)
{
	static const struct option long_options[] = {
		{ "passwd-file", required_argument, NULL, 'f' },
		{ "home", required_argument, NULL, 'H' },
		{ "scheme", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f': args->passwd_file = optarg; break;
		case 'H': args->home = optarg; break;
		case 's': args->scheme = optarg; break;
		case 'h': return -1;
		default: return ternctl_usage_error(cmd, NULL);
		}
	}
	args->args = argv + optind;
	args->count = argc - optind;
	return 0;
}

static int cmd_user_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	struct user_args args = { .scheme = NULL };
	int ret = user_parse_options(cmd, argc, argv, &args);

	if (ret != 0)
		return ret < 0 ? ternctl_usage_print(cmd) : ret;
	if (args.count == 0)
		return ternctl_usage_error(cmd, "missing subcommand");
	const char *sub = args.args[0];
	args.args++;
	args.count--;
	for (size_t i = 0; i < N_ELEMENTS(user_subcommands); i++) {
		const struct user_subcommand *s = &user_subcommands[i];
		if (strcmp(s->name, sub) != 0)
			continue;
		if (args.count < s->min_args || args.count > s->max_args)
			return ternctl_usage_error(cmd, "wrong number of arguments for 'user %s'",
						   sub);
		if (args.passwd_file == NULL || args.scheme == NULL) {
			/* from the configuration, like the server */
			const struct tern_config *config;
			if (ternctl_config_get(&config) < 0)
				return TERNCTL_EXIT_ERROR;
			if (args.passwd_file == NULL)
				args.passwd_file = config->set->auth.passwd_file;
			if (args.scheme == NULL)
				args.scheme = config->set->auth.default_scheme;
		}
		if (args.home != NULL && s->run != user_add)
			return ternctl_usage_error(cmd, "--home is only for 'user add'");
		if (!password_scheme_is_known(args.scheme))
			return ternctl_usage_error(cmd, "unknown password scheme '%s' "
						   "(see ternctl pw -l)", args.scheme);
		return s->run(&args);
	}
	return ternctl_usage_error(cmd, "unknown subcommand 'user %s'", sub);
}

const struct ternctl_command ternctl_cmd_user = {
	.name = "user",
	.usage = "user add NAME [PASSWORD] [--passwd-file PATH] [--home DIR] [-s SCHEME]\n"
		 "user del NAME [--passwd-file PATH]\n"
		 "user list [--passwd-file PATH]\n"
		 "user passwd NAME [PASSWORD] [--passwd-file PATH] [-s SCHEME]\n"
		 "(the passwd-file and scheme default to auth.passwd_file and\n"
		 " auth.default_scheme of the configuration)",
	.summary = "manage passwd-file users (add without a password prints a "
		   "generated one; passwd without one asks for it)",
	.run = cmd_user_run,
};
