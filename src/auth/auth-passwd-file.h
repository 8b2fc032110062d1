/* passwd-file passdb/userdb in Dovecot's format, one user per line:
 *   user:password:uid:gid:(gecos):home:(shell):extra_fields
 * Trailing fields may be missing; "#" comment lines and blank lines are
 * skipped; extra_fields is a space-separated list of "key=value" or "key".
 * The file is read into memory and re-read when it changes on disk, so
 * edits (ternctl user add) take effect at the next lookup. */
#ifndef TERN_AUTH_PASSWD_FILE_H
#define TERN_AUTH_PASSWD_FILE_H

#include "auth-user.h"

/* Files larger than this are refused (every lookup then fails). */
#define PASSWD_FILE_MAX_SIZE (64 * 1024 * 1024)
/* Longer lines are logged and skipped. */
#define PASSWD_FILE_MAX_LINE_LENGTH (64 * 1024)

struct passwd_file;

/* Does no I/O: the file is read at the first lookup. */
struct passwd_file *passwd_file_open(const char *path);
/* Accepts NULL; *pf becomes NULL. */
void passwd_file_close(struct passwd_file **pf);
const char *passwd_file_get_path(const struct passwd_file *pf);

/* Looks up user by its exact name ("name" or "name@domain"). Costs one
   stat() when the file hasn't changed since the last lookup, else re-reads
   it (malformed lines are logged with their line number and skipped).
   *user_r and its strings are allocated from pool. Returns 1 found, 0 no
   such user, -1 when the file can't be read (missing, too large, I/O
   error; *error_r says why). */
int passwd_file_lookup(struct passwd_file *pf, const char *user, pool_t pool,
		       struct auth_user **user_r, const char **error_r);

/* Calls cb for every user name in the file (in no particular order),
   after re-reading it if it changed. Returns 0, or -1 as lookups do. */
int passwd_file_iterate(struct passwd_file *pf, void (*cb)(const char *user, void *context),
			void *context, const char **error_r);

/* Number of times the file has been (re)read; for tests and diagnostics. */
unsigned int passwd_file_get_load_count(const struct passwd_file *pf);

#endif
