/* ternctl pw: hash a password for a passwd-file (like doveadm pw), test a
 * hash against a password, list the schemes; and reading new passwords
 * from a terminal (no echo, asked twice) or from stdin, for every command
 * that sets one. */
#include "ternctl.h"
#include "auth-password.h"
#include "auth-request.h"
#include "pool.h"
#include "strnum.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#define TERNCTL_PASSWORD_MAX AUTH_REQUEST_MAX_PASSWORD_LEN

static struct termios ternctl_saved_termios;

static void ternctl_tty_restore_signal(int signo)
{
	/* don't leave the terminal without echo after ^C */
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &ternctl_saved_termios);
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Reads one line without its terminator. Returns 1, 0 at EOF, -1 if the
   line is too long (the rest of it is consumed). */
static int ternctl_read_line(char *buf, size_t size)
{
	if (fgets(buf, (int)size, stdin) == NULL)
		return 0;
	size_t len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
	} else if (!feof(stdin)) {
		int c;
		while ((c = getchar()) != EOF && c != '\n')
			;
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 1;
}

static int ternctl_read_tty_password(const char *prompt, char *buf, size_t size)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = ternctl_tty_restore_signal };
	struct sigaction old_sa[N_ELEMENTS(signals)];
	struct termios noecho;
	int ret;

	if (tcgetattr(STDIN_FILENO, &ternctl_saved_termios) < 0) {
		ternctl_error("tcgetattr() failed: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < N_ELEMENTS(signals); i++)
		sigaction(signals[i], &sa, &old_sa[i]);
	noecho = ternctl_saved_termios;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	/* echo off before the prompt: what is typed after seeing it is
	   neither shown nor thrown away (TCSAFLUSH drops only what was typed
	   before) */
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	fputs(prompt, stderr);
	fflush(stderr);
	ret = ternctl_read_line(buf, size);
	(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &ternctl_saved_termios);
	for (size_t i = 0; i < N_ELEMENTS(signals); i++)
		sigaction(signals[i], &old_sa[i], NULL);
	fputc('\n', stderr);
	return ret;
}

static int ternctl_read_password_checked(char *buf1, char *buf2, size_t size)
{
	bool tty = isatty(STDIN_FILENO) != 0;
	int ret;

	ret = tty ? ternctl_read_tty_password("New password: ", buf1, size) :
		ternctl_read_line(buf1, size);
	if (ret <= 0) {
		ternctl_error(ret < 0 ? "password longer than %u bytes" :
			      "no password given", TERNCTL_PASSWORD_MAX);
		return -1;
	}
	if (buf1[0] == '\0') {
		ternctl_error("empty password");
		return -1;
	}
	if (!tty)
		return 0;
	ret = ternctl_read_tty_password("Retype new password: ", buf2, size);
	if (ret <= 0 || strcmp(buf1, buf2) != 0) {
		ternctl_error("passwords don't match");
		return -1;
	}
	return 0;
}

int ternctl_read_new_password(const char **password_r)
{
	/* room for the limit, one more byte to notice a longer line, \n, NUL */
	char buf1[TERNCTL_PASSWORD_MAX + 3], buf2[TERNCTL_PASSWORD_MAX + 3];
	int ret = ternctl_read_password_checked(buf1, buf2, sizeof(buf1));

	if (ret == 0 && strlen(buf1) > TERNCTL_PASSWORD_MAX) {
		ternctl_error("password longer than %u bytes", TERNCTL_PASSWORD_MAX);
		ret = -1;
	}
	if (ret == 0)
		*password_r = t_strdup(buf1);
	explicit_bzero(buf1, sizeof(buf1));
	explicit_bzero(buf2, sizeof(buf2));
	return ret;
}

int ternctl_hash_password(const char *password, const char *scheme,
			  const char **hash_r)
{
	const char *error;

	if (strlen(password) > TERNCTL_PASSWORD_MAX) {
		ternctl_error("password longer than %u bytes", TERNCTL_PASSWORD_MAX);
		return -1;
	}
	if (password_generate(password, scheme, t_pool(), hash_r, &error) < 0) {
		ternctl_error("%s", error);
		return -1;
	}
	return 0;
}

/* One password for -t: from a terminal once without echo, else a line of
   stdin. Returns 0, or -1 after printing why. */
static int ternctl_read_password_once(const char **password_r)
{
	char buf[TERNCTL_PASSWORD_MAX + 3];
	int ret = isatty(STDIN_FILENO) != 0 ?
		ternctl_read_tty_password("Enter password to verify: ", buf,
					  sizeof(buf)) :
		ternctl_read_line(buf, sizeof(buf));

	if (ret <= 0 || strlen(buf) > TERNCTL_PASSWORD_MAX) {
		ternctl_error(ret == 0 ? "no password given" :
			      "password longer than %u bytes", TERNCTL_PASSWORD_MAX);
		ret = -1;
	} else {
		*password_r = t_strdup(buf);
		ret = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

struct pw_args {
	const char *scheme, *password, *test_hash;
	struct password_generate_params params;
	bool list, reverse_verify;
};

static void cmd_pw_list(void)
{
	const char *const *schemes = password_schemes_list();

	for (unsigned int i = 0; schemes[i] != NULL; i++)
		printf("%s%s", i == 0 ? "" : " ", schemes[i]);
	printf("\n");
}

/* Like doveadm pw -t: "<hash> (verified)" and 0, or 1 with the reason. */
static int cmd_pw_test(const struct pw_args *args)
{
	const char *password = args->password, *error;

	if (password == NULL && ternctl_read_password_once(&password) < 0)
		return TERNCTL_EXIT_ERROR;
	int ret = password_verify(password, args->test_hash, args->params.user,
				  &error);
	if (ret < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	if (ret == 0) {
		ternctl_error("password mismatch");
		return TERNCTL_EXIT_ERROR;
	}
	printf("%s (verified)\n", args->test_hash);
	return TERNCTL_EXIT_OK;
}

static int cmd_pw_generate(const struct ternctl_command *cmd,
			   const struct pw_args *args)
{
	const char *password = args->password, *hash, *error;

	if (!password_scheme_is_known(args->scheme))
		return ternctl_usage_error(cmd, "unknown password scheme '%s' "
					   "(see ternctl pw -l)", args->scheme);
	if (!password_scheme_can_generate(args->scheme))
		return ternctl_usage_error(cmd, "scheme %s can only verify existing "
					   "hashes (ternctl pw -t)", args->scheme);
	if (password == NULL && ternctl_read_new_password(&password) < 0)
		return TERNCTL_EXIT_ERROR;
	if (password[0] == '\0')
		return ternctl_usage_error(cmd, "empty password");
	if (strlen(password) > TERNCTL_PASSWORD_MAX) {
		ternctl_error("password longer than %u bytes", TERNCTL_PASSWORD_MAX);
		return TERNCTL_EXIT_ERROR;
	}
	if (password_generate_full(password, args->scheme, &args->params,
				   t_pool(), &hash, &error) < 0) {
		ternctl_error("%s", error);
		return TERNCTL_EXIT_ERROR;
	}
	if (args->reverse_verify &&
	    password_verify(password, hash, args->params.user, &error) != 1) {
		ternctl_error("reverse verification of the new hash failed%s%s",
			      error == NULL ? "" : ": ", error == NULL ? "" : error);
		return TERNCTL_EXIT_ERROR;
	}
	printf("%s\n", hash);
	return TERNCTL_EXIT_OK;
}

static int cmd_pw_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "password", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "test", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'V' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pw_args args = { .scheme = PASSWORD_SCHEME_DEFAULT };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:r:u:t:Vlh", long_options, NULL)) != -1) {
		switch (c) {
		case 's': args.scheme = optarg; break;
		case 'p': args.password = optarg; break;
		case 'u': args.params.user = optarg; break;
		case 't': args.test_hash = optarg; break;
		case 'V': args.reverse_verify = true; break;
		case 'l': args.list = true; break;
		case 'r':
			if (str_to_uint(optarg, &args.params.rounds) < 0 ||
			    args.params.rounds == 0)
				return ternctl_usage_error(cmd, "invalid rounds '%s'",
							   optarg);
			break;
		case 'h': return ternctl_usage_print(cmd);
		default: return ternctl_usage_error(cmd, NULL);
		}
	}
	if (optind != argc)
		return ternctl_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (args.list) {
		cmd_pw_list();
		return TERNCTL_EXIT_OK;
	}
	if (args.test_hash != NULL)
		return cmd_pw_test(&args);
	return cmd_pw_generate(cmd, &args);
}

const struct ternctl_command ternctl_cmd_pw = {
	.name = "pw",
	.usage = "pw [-s SCHEME] [-r ROUNDS] [-u USER] [-V] [-p PASSWORD]\n"
		 "pw -t HASH [-u USER] [-p PASSWORD]\n"
		 "pw -l",
	.summary = "hash a password for a passwd-file or SQL table (default "
		   PASSWORD_SCHEME_DEFAULT "; -r sets the cost, -V verifies "
		   "the result), test a hash against a password (-t), or list "
		   "the schemes (-l)",
	.run = cmd_pw_run,
};
