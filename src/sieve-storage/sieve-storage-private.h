/* What the files of the script storage share. */
#ifndef TERN_SIEVE_STORAGE_PRIVATE_H
#define TERN_SIEVE_STORAGE_PRIVATE_H

#include "sieve-storage.h"

#define SIEVE_STORAGE_FILE_EXT ".sieve"

struct sieve_storage {
	pool_t pool;
	struct sieve_storage_settings set;
	enum sieve_storage_error error;
	const char *error_text, *internal_error;
	char *error_buf;
};

void sieve_storage_set_error(struct sieve_storage *storage, enum sieve_storage_error code,
			     const char *text);
/* TEMP, from errno */
void sieve_storage_set_syserror(struct sieve_storage *storage, const char *func,
				const char *path);
/* BAD_NAME unless valid */
bool sieve_storage_check_name(struct sieve_storage *storage, const char *name);
const char *sieve_storage_script_path(struct sieve_storage *storage, const char *name);
int sieve_storage_read_file(struct sieve_storage *storage, const char *path, pool_t pool,
			    const char **data_r, size_t *size_r);
int sieve_storage_mkdir(struct sieve_storage *storage, const char *path);
int sieve_storage_fsync_dir(struct sieve_storage *storage, const char *path);
/* Points the active symlink to name's script, atomically. 0 or -1. */
int sieve_storage_active_link(struct sieve_storage *storage, const char *name);

#endif
