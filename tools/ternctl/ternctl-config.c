/* ternctl config: check a configuration file, or print it (all settings
 * or those that differ from the defaults), as the server would load it. */
#include "ternctl.h"
#include "buffer.h"
#include "config.h"

#include <getopt.h>

static int cmd_config_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	if (argc < 2)
		return ternctl_usage_error(cmd, "missing subcommand");
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return ternctl_usage_print(cmd);
	bool non_default = false;
	if (strcmp(sub, "check") == 0) {
		if (argc > 3)
			return ternctl_usage_error(cmd, "too many arguments");
		if (argc == 3)
			ternctl_config_path = argv[2];
	} else if (strcmp(sub, "dump") == 0) {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "-n") == 0)
				non_default = true;
			else
				return ternctl_usage_error(cmd, "unknown option '%s'", argv[i]);
		}
	} else {
		return ternctl_usage_error(cmd, "unknown subcommand 'config %s'", sub);
	}
	const struct tern_config *config;
	if (ternctl_config_get(&config) < 0)
		return TERNCTL_EXIT_ERROR;
	if (strcmp(sub, "check") == 0) {
		printf("%s: configuration OK\n", config->path == NULL ?
		       "(embedded default)" : config->path);
		return TERNCTL_EXIT_OK;
	}
	string_t *str = t_str_new(4096);
	config_dump(config, non_default, str);
	fputs(str_c(str), stdout);
	return TERNCTL_EXIT_OK;
}

const struct ternctl_command ternctl_cmd_config = {
	.name = "config",
	.usage = "config check [FILE]\n"
		 "config dump [-n]",
	.summary = "check the configuration, or print it (-n: only what differs "
		   "from the defaults)",
	.run = cmd_config_run,
};
