/* A user's Sieve scripts on disk, in Pigeonhole's file layout so that users
 * moving from Dovecot keep their scripts: <script_dir>/NAME.sieve, and the
 * active script as a symlink (by default ~/.dovecot.sieve ->
 * sieve/NAME.sieve). A regular file in the symlink's place is run by
 * delivery but is not a managed script; activating or deactivating a
 * script first copies it into the storage as "dovecot.orig", as Pigeonhole
 * does. Writes are durable (temporary file, fsync, rename, directory
 * fsync). No protocol and no Sieve knowledge: ManageSieve, ternctl and
 * delivery share it. */
#ifndef TERN_SIEVE_STORAGE_H
#define TERN_SIEVE_STORAGE_H

#include "lib.h"
#include "pool.h"

struct sieve_settings;

/* Longest script name in bytes (the file name gets ".sieve"). */
#define SIEVE_STORAGE_MAX_NAME_LENGTH 200
/* Scripts larger than this are never read into memory, whatever the
   settings say (an administrator may have put one there by hand). */
#define SIEVE_STORAGE_MAX_READ_SIZE (16 * 1024 * 1024)
/* Pigeonhole's name for a regular file rescued from the active path */
#define SIEVE_STORAGE_RESCUED_NAME "dovecot.orig"

struct sieve_storage_settings {
	const char *script_dir;  /* absolute */
	const char *active_path; /* absolute */
	unsigned int max_scripts; /* 0: no limit */
	uint64_t max_storage;     /* bytes of all scripts; 0: no limit */
	uint64_t max_script_size; /* 0: no limit */
};

enum sieve_storage_error {
	SIEVE_STORAGE_ERROR_NONE,
	SIEVE_STORAGE_ERROR_NOTFOUND,
	SIEVE_STORAGE_ERROR_EXISTS,
	SIEVE_STORAGE_ERROR_ACTIVE,      /* deleting the active script */
	SIEVE_STORAGE_ERROR_BAD_NAME,
	SIEVE_STORAGE_ERROR_QUOTA_SIZE,  /* one script too large */
	SIEVE_STORAGE_ERROR_QUOTA_SCRIPTS,
	SIEVE_STORAGE_ERROR_QUOTA_STORAGE,
	SIEVE_STORAGE_ERROR_TEMP,        /* I/O or permission trouble */
};

struct sieve_storage_script {
	const char *name;
	uint64_t size;
	bool active;
};

struct sieve_storage;

/* Expands a path template: %h home, %u user, %n its local part, %d its
   domain, %% a '%'; a leading "~/" is %h/. A relative result is taken
   under home. Returns NULL (with *error_r) when it needs a home and there
   is none, or has an unknown %-sequence. Temporary memory. */
const char *sieve_storage_expand(const char *template, const char *user, const char *home,
				 const char **error_r);
/* The storage settings of a user from the sieve.* settings. Returns 0, or
   -1 with *error_r. Strings in temporary memory. */
int sieve_storage_settings_get(const struct sieve_settings *set, const char *user,
			       const char *home, struct sieve_storage_settings *set_r,
			       const char **error_r);

/* Nothing is touched on disk until a write. The settings are copied. */
struct sieve_storage *sieve_storage_create(const struct sieve_storage_settings *set);
void sieve_storage_destroy(struct sieve_storage **storage);

/* The last failure: its code, a text safe to show a client, and (for
   TEMP) the detail for the log. */
enum sieve_storage_error sieve_storage_get_error(const struct sieve_storage *storage,
						 const char **text_r);
const char *sieve_storage_get_internal_error(const struct sieve_storage *storage);

/* RFC 5804 §1.6 (UTF-8 without control characters, U+2028 or U+2029),
   and what the file layout needs: not empty, no '/', no leading '.', at
   most SIEVE_STORAGE_MAX_NAME_LENGTH bytes. */
bool sieve_storage_name_is_valid(const char *name);

/* Every script, sorted by name, from pool. Returns 0 or -1. */
int sieve_storage_list(struct sieve_storage *storage, pool_t pool,
		       const struct sieve_storage_script **scripts_r, unsigned int *count_r);
/* A script's content (NUL-terminated) from pool. Returns 1, 0 if there is
   no such script (error NOTFOUND set), -1 on error. */
int sieve_storage_get(struct sieve_storage *storage, const char *name, pool_t pool,
		      const char **data_r, size_t *size_r);
/* Whether a script of size bytes could be stored as name now (replacing
   one of that name). Returns 1 if so, 0 with a QUOTA_* error, -1 on
   error. */
int sieve_storage_havespace(struct sieve_storage *storage, const char *name, uint64_t size);
/* Stores (or replaces) a script, after the quota checks, durably; an
   active script being replaced stays active. Returns 0 or -1. */
int sieve_storage_put(struct sieve_storage *storage, const char *name,
		      const void *data, size_t size);
/* Makes name the active script (the symlink replaced atomically).
   Returns 0 or -1 (NOTFOUND). */
int sieve_storage_activate(struct sieve_storage *storage, const char *name);
/* No script is active any more. Returns 0 or -1. */
int sieve_storage_deactivate(struct sieve_storage *storage);
/* Returns 0, or -1 (NOTFOUND, ACTIVE). */
int sieve_storage_delete(struct sieve_storage *storage, const char *name);
/* Renames a script; the active one stays active. Returns 0, or -1
   (NOTFOUND, EXISTS). */
int sieve_storage_rename(struct sieve_storage *storage, const char *old_name,
			 const char *new_name);

/* The active script's name from pool: 1, or 0 when none is active (no
   symlink, a symlink into another directory or to a missing script, or a
   regular file, which has no name), -1 on error. */
int sieve_storage_active_name(struct sieve_storage *storage, pool_t pool,
			      const char **name_r);
/* For delivery: the file to run, the active script or a regular file at
   the active path, and its name (NULL for a regular file), from pool.
   Returns 1, 0 when no script is active, -1 on error. */
int sieve_storage_active_path(struct sieve_storage *storage, pool_t pool,
			      const char **path_r, const char **name_r);
/* For delivery: the content of that file (NUL-terminated), from pool.
   Returns 1, 0 when no script is active, -1 on error. */
int sieve_storage_active_read(struct sieve_storage *storage, pool_t pool,
			      const char **data_r, size_t *size_r);

#endif
