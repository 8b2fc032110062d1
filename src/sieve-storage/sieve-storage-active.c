/* The active script: a symlink at the active path to script_dir/NAME.sieve,
 * relative when script_dir is below the symlink's directory (Pigeonhole's
 * "sieve/NAME.sieve"). Replaced atomically (new symlink, rename); a regular
 * file found there is first copied into the storage as "dovecot.orig". */
#include "sieve-storage-private.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum active_kind {
	ACTIVE_NONE,
	ACTIVE_SCRIPT,  /* a valid symlink into the storage */
	ACTIVE_REGULAR, /* a regular file */
};

static const char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return ".";
	return slash == path ? "/" : t_strndup(path, (size_t)(slash - path));
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
		sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Reads the active path: what is there and, for a symlink into the
   storage, the script's name. Returns 0 or -1. */
static int sieve_storage_active_get(struct sieve_storage *storage, enum active_kind *kind_r,
				    const char **name_r)
{
	const char *path = storage->set.active_path;
	struct stat st;
	*kind_r = ACTIVE_NONE;
	*name_r = NULL;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		sieve_storage_set_syserror(storage, "lstat", path);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		*kind_r = ACTIVE_REGULAR;
		return 0;
	}
	if (!S_ISLNK(st.st_mode))
		return 0;
	char target[PATH_MAX];
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len < 0) {
		sieve_storage_set_syserror(storage, "readlink", path);
		return -1;
	}
	target[len] = '\0';
	const char *full = target[0] == '/' ? target :
		t_strconcat(path_dirname(path), "/", target, NULL);
	const char *base = strrchr(full, '/') + 1;
	size_t blen = strlen(base), elen = strlen(SIEVE_STORAGE_FILE_EXT);
	/* like Pigeonhole, a link anywhere but into the storage is taken as
	   no active script: it isn't one ManageSieve can manage */
	if (blen <= elen || strcmp(base + blen - elen, SIEVE_STORAGE_FILE_EXT) != 0 ||
	    !same_dir(path_dirname(full), storage->set.script_dir))
		return 0;
	const char *name = t_strndup(base, blen - elen);
	if (!sieve_storage_name_is_valid(name) ||
	    stat(sieve_storage_script_path(storage, name), &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	*kind_r = ACTIVE_SCRIPT;
	*name_r = name;
	return 0;
}

int sieve_storage_active_name(struct sieve_storage *storage, pool_t pool,
			      const char **name_r)
{
	enum active_kind kind;
	const char *name;
	*name_r = NULL;
	if (sieve_storage_active_get(storage, &kind, &name) < 0)
		return -1;
	if (kind != ACTIVE_SCRIPT)
		return 0;
	*name_r = p_strdup(pool, name);
	return 1;
}

int sieve_storage_active_path(struct sieve_storage *storage, pool_t pool,
			      const char **path_r, const char **name_r)
{
	enum active_kind kind;
	const char *name;
	*path_r = NULL;
	*name_r = NULL;
	if (sieve_storage_active_get(storage, &kind, &name) < 0)
		return -1;
	switch (kind) {
	case ACTIVE_NONE:
		return 0;
	case ACTIVE_REGULAR:
		*path_r = p_strdup(pool, storage->set.active_path);
		return 1;
	case ACTIVE_SCRIPT:
		break;
	}
	*path_r = p_strdup(pool, sieve_storage_script_path(storage, name));
	*name_r = p_strdup(pool, name);
	return 1;
}

int sieve_storage_active_read(struct sieve_storage *storage, pool_t pool,
			      const char **data_r, size_t *size_r)
{
	const char *path, *name;
	int ret = sieve_storage_active_path(storage, t_pool(), &path, &name);
	if (ret <= 0)
		return ret;
	/* a script deleted between the two calls is no script */
	ret = sieve_storage_read_file(storage, path, pool, data_r, size_r);
	return ret < 0 ? -1 : ret;
}

/* The symlink's target: relative when the storage is below its directory. */
static const char *sieve_storage_link_target(struct sieve_storage *storage, const char *name)
{
	const char *dir = path_dirname(storage->set.active_path);
	const char *sdir = storage->set.script_dir;
	size_t len = strlen(dir);
	const char *file = t_strconcat(name, SIEVE_STORAGE_FILE_EXT, NULL);
	if (strncmp(sdir, dir, len) == 0 && sdir[len] == '/' && sdir[len + 1] != '\0')
		return t_strconcat(sdir + len + 1, "/", file, NULL);
	return t_strconcat(sdir, "/", file, NULL);
}

int sieve_storage_active_link(struct sieve_storage *storage, const char *name)
{
	const char *path = storage->set.active_path;
	const char *dir = path_dirname(path);
	const char *tmp = t_strdup_printf("%s/.%s.%ld.tmp", dir, strrchr(path, '/') + 1,
					  (long)getpid());
	if (sieve_storage_mkdir(storage, dir) < 0)
		return -1;
	(void)unlink(tmp);
	if (symlink(sieve_storage_link_target(storage, name), tmp) < 0) {
		sieve_storage_set_syserror(storage, "symlink", tmp);
		return -1;
	}
	/* rename() replaces the old link in one step: delivery sees the old
	   script or the new one, never none */
	if (rename(tmp, path) < 0) {
		sieve_storage_set_syserror(storage, "rename", path);
		(void)unlink(tmp);
		return -1;
	}
	return sieve_storage_fsync_dir(storage, dir);
}

/* A regular file at the active path becomes the script "dovecot.orig"
   before it is replaced, as Pigeonhole does, so nothing is lost. */
static int sieve_storage_rescue_regular(struct sieve_storage *storage)
{
	enum active_kind kind;
	const char *name, *data;
	size_t size;
	if (sieve_storage_active_get(storage, &kind, &name) < 0)
		return -1;
	if (kind != ACTIVE_REGULAR)
		return 0;
	if (sieve_storage_read_file(storage, storage->set.active_path, t_pool(),
				    &data, &size) <= 0)
		return -1;
	/* no quota: the script was there before */
	struct sieve_storage_settings saved = storage->set;
	storage->set.max_scripts = 0;
	storage->set.max_storage = 0;
	storage->set.max_script_size = 0;
	int ret = sieve_storage_put(storage, SIEVE_STORAGE_RESCUED_NAME, data, size);
	storage->set = saved;
	return ret;
}

int sieve_storage_activate(struct sieve_storage *storage, const char *name)
{
	struct stat st;
	if (!sieve_storage_name_is_valid(name) ||
	    stat(sieve_storage_script_path(storage, name), &st) < 0) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
					"Script does not exist.");
		return -1;
	}
	if (sieve_storage_rescue_regular(storage) < 0)
		return -1;
	return sieve_storage_active_link(storage, name);
}

int sieve_storage_deactivate(struct sieve_storage *storage)
{
	const char *path = storage->set.active_path;
	if (sieve_storage_rescue_regular(storage) < 0)
		return -1;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		sieve_storage_set_syserror(storage, "unlink", path);
		return -1;
	}
	return sieve_storage_fsync_dir(storage, path_dirname(path));
}
