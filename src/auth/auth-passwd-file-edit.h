/* Editing passwd-files (for ternctl) safely while a server reads them: an
 * exclusive flock() on "<file>.lock" serialises editors, and every change
 * is a new file written beside the old one, fsynced and renamed over it,
 * so readers see either the old or the new file, never a partial one.
 * Comments, blank lines and other users' lines are kept byte for byte.
 * A missing file holds no users; adding creates it (mode 0640) and its
 * directory. */
#ifndef TERN_AUTH_PASSWD_FILE_EDIT_H
#define TERN_AUTH_PASSWD_FILE_EDIT_H

#include "pool.h"

/* Returns 0 if name can be a passwd-file user name, else -1 with the
   reason: empty, ':', whitespace or control characters, a leading '#',
   longer than 255 bytes. */
int passwd_file_user_name_check(const char *name, const char **error_r);

/* Adds "user:password::::home::" (home may be NULL). Returns 1 added, 0 when
   the user already exists, -1 on error. */
int passwd_file_edit_add(const char *path, const char *user, const char *password,
			 const char *home, const char **error_r);
/* Removes every line of user. Returns 1 removed, 0 no such user, -1. */
int passwd_file_edit_delete(const char *path, const char *user, const char **error_r);
/* Replaces the password field of user's (first) line, keeping the other
   fields. Returns 1 changed, 0 no such user, -1. */
int passwd_file_edit_set_password(const char *path, const char *user,
				  const char *password, const char **error_r);
/* The user names in file order (duplicates once), as a NULL-terminated
   array from pool. Returns 0 or -1. */
int passwd_file_edit_list(const char *path, pool_t pool,
			  const char *const **users_r, unsigned int *count_r,
			  const char **error_r);

#endif
