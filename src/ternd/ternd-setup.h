/* First-start setup and configuration checks done by the ternd master:
 * the data directory, a self-signed certificate when none is configured,
 * and for `make run` a demo user with a random password. */
#ifndef TERN_TERND_SETUP_H
#define TERN_TERND_SETUP_H

#include "config.h"

/* Creates base_dir and, when allowed and missing, the self-signed
   certificate; then checks that the TLS files load. */
int ternd_setup_check_config(const struct tern_config *config, const char **error_r);
struct tls_context;
/* The TLS context of the tls settings and certificate blocks, from the
   files (files == NULL) or from their contents as ternd_setup_tls_files()
   read them. */
int ternd_setup_tls_context(const struct tern_settings *set, const unsigned char *files,
			    size_t files_size, struct tls_context **ctx_r, const char **error_r);
/* Appends the contents of the TLS files to dest for the workers (the
   master's config_attach), checking that they make a context. */
int ternd_setup_tls_files(const struct tern_config *config, string_t *dest,
			  const char **error_r);
/* Ensures user "demo" exists in the passwd-file (creating it with a random
   password kept in base_dir/demo-password), and prints how to connect. */
int ternd_setup_demo(const struct tern_config *config, const char **error_r);

/* Set by a foreground master for its workers. */
#define TERND_ENV_FOREGROUND "TERN_FOREGROUND"

/* Logs to the target the log_target setting names; "auto" is stderr in
   the foreground and syslog otherwise. */
void ternd_log_setup(const char *service, const char *target_setting, bool foreground);

#endif
