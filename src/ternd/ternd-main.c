/* ternd: command line, and the role this process runs as (master or
 * worker). */
#include "buffer.h"
#include "config.h"
#include "ioloop.h"
#include "log.h"
#include "server-master.h"
#include "ternd-setup.h"
#include "ternd-worker.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define TERND_SYSTEM_CONFIG "/etc/tern/tern.conf"

static const char *const implemented_protocols[] = { "imap", "pop3", "lmtp", "managesieve",
							       NULL };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ternd [-F] [-c FILE] [-o KEY=VALUE]... [--demo]\n"
		"       ternd --check [FILE]     validate a configuration and exit\n"
		"       ternd -n [-c FILE]       print the settings that differ from the defaults\n"
		"       ternd -a [-c FILE]       print all settings\n"
		"\n"
		"  -F, --foreground   stay in the foreground and log to stderr\n"
		"  -c, --config FILE  configuration file (default: " TERND_SYSTEM_CONFIG
		" if it exists, else the embedded default)\n"
		"  -o KEY=VALUE       override a setting, e.g. -o imap.max_line_length=1M\n"
		"      --demo         create a demo user on first start and print how to connect\n"
		"      --version      print the version\n");
}

/* Raise the fd limit: each connection is one fd */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		i_fatal("fork() failed: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	(void)setsid();
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

struct ternd_args {
	const char *config_path;
	ARRAY(const char *) overrides;
	bool foreground, demo, check, dump_changed, dump_all;
	const char *worker;
};

static int parse_args(int argc, char *argv[], struct ternd_args *args)
{
	static const struct option long_opts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "demo", no_argument, NULL, 'D' },
		{ "worker", required_argument, NULL, 'W' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	array_init(&args->overrides, system_pool, 4);
	while ((c = getopt_long(argc, argv, "Fc:o:nah", long_opts, NULL)) != -1) {
		switch (c) {
		case 'F': args->foreground = true; break;
		case 'c': args->config_path = optarg; break;
		case 'o': array_push(&args->overrides, optarg); break;
		case 'n': args->dump_changed = true; break;
		case 'a': args->dump_all = true; break;
		case 'C': args->check = true; break;
		case 'D': args->demo = true; break;
		case 'W': args->worker = optarg; break;
		case 'V': printf("ternd " TERN_VERSION "\n"); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (args->check && optind < argc)
		args->config_path = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return -1;
	}
	array_push(&args->overrides, NULL);
	if (args->config_path == NULL && access(TERND_SYSTEM_CONFIG, F_OK) == 0)
		args->config_path = TERND_SYSTEM_CONFIG;
	return 0;
}

static int run_master(struct ternd_args *args, char *argv0)
{
	struct tern_config *config;
	const char *error;
	if (config_load(args->config_path, args->overrides.v, &config, &error) < 0) {
		fprintf(stderr, "ternd: %s\n", error);
		return 78; /* EX_CONFIG */
	}
	if (args->check) {
		int ret = ternd_setup_check_config(config, &error);
		if (ret < 0)
			fprintf(stderr, "ternd: %s\n", error);
		else
			printf("%s: configuration OK\n", args->config_path == NULL ?
			       "(embedded default)" : args->config_path);
		config_free(&config);
		return ret < 0 ? 78 : 0;
	}
	if (args->dump_changed || args->dump_all) {
		string_t *str = str_new(system_pool, 4096);
		config_dump(config, args->dump_changed, str);
		fputs(str_c(str), stdout);
		str_free(&str);
		config_free(&config);
		return 0;
	}
	ternd_log_setup("master", config->set->log_target, args->foreground);
	if (ternd_setup_check_config(config, &error) < 0 ||
	    (args->demo && ternd_setup_demo(config, &error) < 0)) {
		log_error(NULL, "startup_failed", "error=%s", log_value(error));
		config_free(&config);
		return 1;
	}
	if (!args->foreground)
		daemonize();
	else
		setenv(TERND_ENV_FOREGROUND, "1", 1);
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		i_fatal("readlink(/proc/self/exe) failed: %s", strerror(errno));
	exe[len] = '\0';
	(void)argv0;
	struct master_options opts = {
		.config_path = args->config_path,
		.overrides = args->overrides.v,
		.exe_path = exe,
		.implemented_protocols = implemented_protocols,
		.check_config = ternd_setup_check_config,
		.config_attach = ternd_setup_tls_files,
	};
	ioloop_init();
	int ret = master_run(&opts, config);
	ioloop_deinit();
	return ret;
}

int main(int argc, char *argv[])
{
	struct ternd_args args;
	memset(&args, 0, sizeof(args));
	if (parse_args(argc, argv, &args) < 0)
		return 64;
	raise_fd_limit();
	umask(0027);
	int ret;
	if (args.worker != NULL) {
		ternd_log_setup(args.worker, "auto", getenv(TERND_ENV_FOREGROUND) != NULL);
		ret = ternd_worker_main(args.worker);
	} else {
		ret = run_master(&args, argv[0]);
	}
	array_free(&args.overrides);
	t_pool_clear();
	return ret;
}
