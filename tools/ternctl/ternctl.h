/* ternctl's command table and the helpers its command files share. Each
 * command family (ternctl-<family>.c) exports one struct ternctl_command;
 * adding a family is one line in ternctl.c's table. */
#ifndef TERNCTL_H
#define TERNCTL_H

#include "lib.h"

/* Exit statuses (from sysexits.h where one fits). */
enum ternctl_exit {
	TERNCTL_EXIT_OK = 0,
	TERNCTL_EXIT_ERROR = 1,
	TERNCTL_EXIT_USAGE = 64,   /* EX_USAGE */
	TERNCTL_EXIT_NOUSER = 67,  /* EX_NOUSER */
};

struct ternctl_command {
	const char *name;
	/* One line per form, without the leading "ternctl ". */
	const char *usage;
	const char *summary;
	/* argv[0] is the command name. Returns an enum ternctl_exit. */
	int (*run)(const struct ternctl_command *cmd, int argc, char *argv[]);
};

extern const struct ternctl_command ternctl_cmd_pw;
extern const struct ternctl_command ternctl_cmd_user;
extern const struct ternctl_command ternctl_cmd_config;
extern const struct ternctl_command ternctl_cmd_index;
extern const struct ternctl_command ternctl_cmd_auth;
extern const struct ternctl_command ternctl_cmd_sieve;

struct tern_config;
/* The configuration file given with -c, or NULL for the default:
   /etc/tern/tern.conf if it exists, else the embedded default (whose data
   lives under ./var, as for make run). */
extern const char *ternctl_config_path;
/* Loads the configuration once. Returns 0, or -1 after printing why. */
int ternctl_config_get(const struct tern_config **config_r);

/* "ternctl: <message>" on stderr. */
void ternctl_error(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* Prints the message (if any) and cmd's usage to stderr; returns
   TERNCTL_EXIT_USAGE. */
int ternctl_usage_error(const struct ternctl_command *cmd, const char *fmt, ...)
	ATTR_PRINTF(2, 3);
/* Prints cmd's usage to stdout (for --help); returns TERNCTL_EXIT_OK. */
int ternctl_usage_print(const struct ternctl_command *cmd);

/* Reads a new password: from a terminal twice without echo, otherwise one
   line from stdin. Returns 0, or -1 after printing why (mismatch, empty,
   too long, EOF). The password is in temporary memory. */
int ternctl_read_new_password(const char **password_r);
/* Hashes password with scheme, printing errors. Returns 0 or -1. */
int ternctl_hash_password(const char *password, const char *scheme,
			  const char **hash_r);

#endif
