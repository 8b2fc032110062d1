/* ternctl: the Tern admin tool. main() dispatches on the first argument
 * through the command table below; each family lives in its own file. */
#include "ternctl.h"
#include "log.h"
#include "pool.h"
#include "config.h"

#include <unistd.h>

#include <stdarg.h>

static const struct ternctl_command *const ternctl_commands[] = {
	&ternctl_cmd_pw,
	&ternctl_cmd_user,
	&ternctl_cmd_config,
	&ternctl_cmd_index,
	&ternctl_cmd_auth,
	&ternctl_cmd_sieve,
	NULL,
};

#define TERNCTL_SYSTEM_CONFIG "/etc/tern/tern.conf"

const char *ternctl_config_path;

int ternctl_config_get(const struct tern_config **config_r)
{
	static struct tern_config *config;
	const char *error;
	if (config == NULL) {
		const char *path = ternctl_config_path;
		if (path == NULL && access(TERNCTL_SYSTEM_CONFIG, F_OK) == 0)
			path = TERNCTL_SYSTEM_CONFIG;
		if (config_load(path, NULL, &config, &error) < 0) {
			ternctl_error("%s", error);
			return -1;
		}
	}
	*config_r = config;
	return 0;
}

void ternctl_error(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fputs("ternctl: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	va_end(args);
}

static void ternctl_usage_write(FILE *f, const struct ternctl_command *cmd)
{
	const char *p = cmd->usage;

	fputs("usage:", f);
	/* every line of the usage is one form of the command */
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);
		fprintf(f, "\n  ternctl %.*s", (int)len, p);
		p += len + (nl == NULL ? 0 : 1);
	}
	fputc('\n', f);
}

int ternctl_usage_error(const struct ternctl_command *cmd, const char *fmt, ...)
{
	if (fmt != NULL) {
		va_list args;
		va_start(args, fmt);
		fputs("ternctl: ", stderr);
		vfprintf(stderr, fmt, args);
		fputc('\n', stderr);
		va_end(args);
	}
	ternctl_usage_write(stderr, cmd);
	return TERNCTL_EXIT_USAGE;
}

int ternctl_usage_print(const struct ternctl_command *cmd)
{
	printf("%s\n\n", cmd->summary);
	ternctl_usage_write(stdout, cmd);
	return TERNCTL_EXIT_OK;
}

static void ternctl_main_usage(FILE *f)
{
	fputs("usage: ternctl [-c CONFIG] COMMAND [ARGS]\n\ncommands:\n", f);
	for (unsigned int i = 0; ternctl_commands[i] != NULL; i++) {
		fprintf(f, "  %-8s %s\n", ternctl_commands[i]->name,
			ternctl_commands[i]->summary);
	}
	fputs("\n'ternctl COMMAND --help' describes a command.\n", f);
}

int main(int argc, char *argv[])
{
	log_init("ternctl", LOG_TARGET_STDERR, LOG_LEVEL_WARNING);
	/* global options come before the command */
	while (argc >= 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--config") == 0)) {
		ternctl_config_path = argv[2];
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		ternctl_main_usage(stderr);
		return TERNCTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		ternctl_main_usage(stdout);
		return TERNCTL_EXIT_OK;
	}
	for (unsigned int i = 0; ternctl_commands[i] != NULL; i++) {
		if (strcmp(ternctl_commands[i]->name, argv[1]) == 0) {
			int ret = ternctl_commands[i]->run(ternctl_commands[i],
							   argc - 1, argv + 1);
			t_pool_clear();
			return ret;
		}
	}
	ternctl_error("unknown command '%s'", argv[1]);
	ternctl_main_usage(stderr);
	return TERNCTL_EXIT_USAGE;
}
