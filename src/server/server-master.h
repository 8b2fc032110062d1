/* The ternd master process: binds the configured listeners, spawns worker
 * processes (re-executing ternd once per role) that accept on them,
 * restarts workers that crash, drains on SIGTERM/SIGINT and reloads the
 * configuration on SIGHUP without dropping established connections. */
#ifndef TERN_SERVER_MASTER_H
#define TERN_SERVER_MASTER_H

#include "config.h"

struct master_options {
	const char *config_path; /* NULL: embedded default */
	const char *const *overrides;
	const char *exe_path;    /* this binary, for re-executing workers */
	/* services that have an engine in this build ("imap"); listeners of
	   other protocols are not started */
	const char *const *implemented_protocols;
	/* validates a loaded config beyond syntax (TLS files...); may be NULL */
	int (*check_config)(const struct tern_config *config, const char **error_r);
	/* appends data for the workers, which they find after the config
	   text and a NUL byte (the TLS files); may be NULL */
	int (*config_attach)(const struct tern_config *config, string_t *dest,
			     const char **error_r);
};

/* Runs the master until shutdown; takes ownership of config. Returns the
   process exit code. */
int master_run(const struct master_options *opts, struct tern_config *config);

/* Environment variables by which a worker learns its setup. */
#define MASTER_ENV_CONFIG_FD "TERN_CONFIG_FD"
#define MASTER_ENV_LISTEN_FDS "TERN_LISTEN_FDS"
/* login and mail workers: their end of the message channel to the
   master (src/ipc/ipc-channel.h) */
#define MASTER_ENV_CHANNEL_FD "TERN_MASTER_FD"
/* the auth worker: its end of the master's own master-protocol
   connection */
#define MASTER_ENV_AUTH_MASTER_FD "TERN_AUTH_MASTER_FD"
/* mail workers: the uid and gid to become right after exec */
#define MASTER_ENV_UID "TERN_UID"
#define MASTER_ENV_GID "TERN_GID"

#endif
