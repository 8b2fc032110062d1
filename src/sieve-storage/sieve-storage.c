/* Sieve script storage: path templates, name validation (RFC 5804 §1.6),
 * listing, reading, durable writes with quota checks, delete and rename.
 * The active-script symlink is in sieve-storage-active.c. */
#include "sieve-storage-private.h"
#include "buffer.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int sieve_storage_expand_char(string_t *dest, char c, const char *user,
				     const char *home, const char **error_r)
{
	const char *at = strrchr(user, '@');
	switch (c) {
	case '%':
		str_append_c(dest, '%');
		return 0;
	case 'u':
		str_append(dest, user);
		return 0;
	case 'n':
		str_append_n(dest, user, at == NULL ? strlen(user) : (size_t)(at - user));
		return 0;
	case 'd':
		if (at != NULL)
			str_append(dest, at + 1);
		return 0;
	case 'h':
		if (home == NULL || home[0] == '\0') {
			*error_r = "the user has no home directory";
			return -1;
		}
		str_append(dest, home);
		return 0;
	}
	*error_r = t_strdup_printf("unknown %%%c in a Sieve path", c);
	return -1;
}

const char *sieve_storage_expand(const char *template, const char *user, const char *home,
				 const char **error_r)
{
	string_t *str = t_str_new(128);
	const char *p = template;
	/* user names that could leave the directory never get here: the
	   auth process and config_mail_home() refuse them */
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		if (sieve_storage_expand_char(str, 'h', user, home, error_r) < 0)
			return NULL;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p != '%') {
			str_append_c(str, *p);
			continue;
		}
		if (p[1] == '\0') {
			*error_r = "a Sieve path ends with %";
			return NULL;
		}
		if (sieve_storage_expand_char(str, *++p, user, home, error_r) < 0)
			return NULL;
	}
	if (str_c(str)[0] == '/')
		return str_c(str);
	if (home == NULL || home[0] != '/') {
		*error_r = "a relative Sieve path needs an absolute home directory";
		return NULL;
	}
	return t_strconcat(home, "/", str_c(str), NULL);
}

int sieve_storage_settings_get(const struct sieve_settings *set, const char *user,
			       const char *home, struct sieve_storage_settings *set_r,
			       const char **error_r)
{
	memset(set_r, 0, sizeof(*set_r));
	set_r->script_dir = sieve_storage_expand(set->script_dir, user, home, error_r);
	if (set_r->script_dir == NULL)
		return -1;
	set_r->active_path = sieve_storage_expand(set->script, user, home, error_r);
	if (set_r->active_path == NULL)
		return -1;
	set_r->max_scripts = set->quota_max_scripts;
	set_r->max_storage = set->quota_max_storage;
	set_r->max_script_size = set->max_script_size;
	return 0;
}

struct sieve_storage *sieve_storage_create(const struct sieve_storage_settings *set)
{
	pool_t pool = pool_create("sieve storage", 1024);
	struct sieve_storage *storage = p_new(pool, struct sieve_storage, 1);
	storage->pool = pool;
	storage->set = *set;
	/* trailing slashes would break the symlink comparisons */
	char *dir = p_strdup(pool, set->script_dir);
	for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
		dir[len - 1] = '\0';
	storage->set.script_dir = dir;
	storage->set.active_path = p_strdup(pool, set->active_path);
	storage->error_text = "";
	storage->internal_error = "";
	return storage;
}

void sieve_storage_destroy(struct sieve_storage **_storage)
{
	struct sieve_storage *storage = *_storage;
	if (storage == NULL)
		return;
	*_storage = NULL;
	free(storage->error_buf);
	pool_destroy(&storage->pool);
}

void sieve_storage_set_error(struct sieve_storage *storage, enum sieve_storage_error code,
			     const char *text)
{
	storage->error = code;
	free(storage->error_buf);
	storage->error_buf = i_strdup(text);
	storage->error_text = storage->error_buf;
	storage->internal_error = storage->error_buf;
}

void sieve_storage_set_syserror(struct sieve_storage *storage, const char *func,
				const char *path)
{
	int err = errno;
	storage->error = SIEVE_STORAGE_ERROR_TEMP;
	free(storage->error_buf);
	storage->error_buf = i_strdup(t_strdup_printf("%s(%s) failed: %s", func, path,
						      strerror(err)));
	storage->error_text = "Internal error occurred. Refer to server log for more information.";
	storage->internal_error = storage->error_buf;
}

enum sieve_storage_error sieve_storage_get_error(const struct sieve_storage *storage,
						 const char **text_r)
{
	*text_r = storage->error_text;
	return storage->error;
}

const char *sieve_storage_get_internal_error(const struct sieve_storage *storage)
{
	return storage->internal_error;
}

/* Decodes one UTF-8 sequence at p. Returns its length, or 0 if invalid
   (overlong, surrogate, past U+10FFFF, truncated). */
static unsigned int utf8_decode(const unsigned char *p, uint32_t *cp_r)
{
	unsigned int len;
	uint32_t cp, min;
	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (unsigned int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return len;
}

bool sieve_storage_name_is_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > SIEVE_STORAGE_MAX_NAME_LENGTH || name[0] == '.')
		return false;
	const unsigned char *p = (const unsigned char *)name;
	while (*p != '\0') {
		uint32_t cp;
		unsigned int n = utf8_decode(p, &cp);
		/* RFC 5804 §1.6: no controls (C0, DEL, C1), no line or
		   paragraph separators; '/' would leave the directory */
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029 || cp == '/')
			return false;
		p += n;
	}
	return true;
}

const char *sieve_storage_script_path(struct sieve_storage *storage, const char *name)
{
	return t_strconcat(storage->set.script_dir, "/", name, SIEVE_STORAGE_FILE_EXT, NULL);
}

bool sieve_storage_check_name(struct sieve_storage *storage, const char *name)
{
	if (sieve_storage_name_is_valid(name))
		return true;
	sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_BAD_NAME, "Invalid script name.");
	return false;
}

static int script_cmp(const void *a, const void *b)
{
	const struct sieve_storage_script *sa = a, *sb = b;
	return strcmp(sa->name, sb->name);
}

/* The script name of a directory entry, or NULL for anything else
   (tmp/, hidden files, other suffixes, names a client couldn't use). */
static const char *script_name_from_file(const char *file)
{
	size_t len = strlen(file), ext = strlen(SIEVE_STORAGE_FILE_EXT);
	if (len <= ext || strcmp(file + len - ext, SIEVE_STORAGE_FILE_EXT) != 0)
		return NULL;
	const char *name = t_strndup(file, len - ext);
	return sieve_storage_name_is_valid(name) ? name : NULL;
}

int sieve_storage_list(struct sieve_storage *storage, pool_t pool,
		       const struct sieve_storage_script **scripts_r, unsigned int *count_r)
{
	ARRAY(struct sieve_storage_script) scripts;
	const char *active = NULL;
	array_init(&scripts, pool, 8);
	*scripts_r = NULL;
	*count_r = 0;
	if (sieve_storage_active_name(storage, t_pool(), &active) < 0)
		return -1;
	DIR *dir = opendir(storage->set.script_dir);
	if (dir == NULL) {
		if (errno == ENOENT)
			return 0;
		sieve_storage_set_syserror(storage, "opendir", storage->set.script_dir);
		return -1;
	}
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		const char *name = script_name_from_file(d->d_name);
		struct stat st;
		if (name == NULL ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		struct sieve_storage_script *s = array_append_space(&scripts);
		s->name = p_strdup(pool, name);
		s->size = (uint64_t)st.st_size;
		s->active = active != NULL && strcmp(active, name) == 0;
	}
	closedir(dir);
	if (scripts.count > 0)
		qsort(scripts.v, scripts.count, sizeof(scripts.v[0]), script_cmp);
	*scripts_r = scripts.v;
	*count_r = scripts.count;
	return 0;
}

int sieve_storage_read_file(struct sieve_storage *storage, const char *path, pool_t pool,
			    const char **data_r, size_t *size_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP) {
			sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
						"Script does not exist.");
			return 0;
		}
		sieve_storage_set_syserror(storage, "open", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SIEVE_STORAGE_MAX_READ_SIZE) {
		if (!S_ISREG(st.st_mode) || st.st_size > SIEVE_STORAGE_MAX_READ_SIZE)
			errno = EFBIG;
		sieve_storage_set_syserror(storage, "fstat", path);
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size, done = 0;
	char *data = p_malloc(pool, size + 1);
	while (done < size) {
		ssize_t ret = read(fd, data + done, size - done);
		if (ret <= 0) {
			if (ret == 0)
				break; /* shrank meanwhile: what is there */
			sieve_storage_set_syserror(storage, "read", path);
			close(fd);
			return -1;
		}
		done += (size_t)ret;
	}
	close(fd);
	data[done] = '\0';
	*data_r = data;
	*size_r = done;
	return 1;
}

int sieve_storage_get(struct sieve_storage *storage, const char *name, pool_t pool,
		      const char **data_r, size_t *size_r)
{
	if (!sieve_storage_name_is_valid(name)) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
					"Script does not exist.");
		return 0;
	}
	return sieve_storage_read_file(storage, sieve_storage_script_path(storage, name),
				       pool, data_r, size_r);
}

int sieve_storage_havespace(struct sieve_storage *storage, const char *name, uint64_t size)
{
	const struct sieve_storage_settings *set = &storage->set;
	if (!sieve_storage_check_name(storage, name))
		return -1;
	if (set->max_script_size > 0 && size > set->max_script_size) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_QUOTA_SIZE, t_strdup_printf(
			"Script is too large (max %llu bytes).",
			(unsigned long long)set->max_script_size));
		return 0;
	}
	if (set->max_scripts == 0 && set->max_storage == 0)
		return 1;
	const struct sieve_storage_script *scripts;
	unsigned int count, others = 0;
	uint64_t total = size;
	if (sieve_storage_list(storage, t_pool(), &scripts, &count) < 0)
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		/* a replaced script's old size doesn't count */
		if (strcmp(scripts[i].name, name) == 0)
			continue;
		others++;
		total += scripts[i].size;
	}
	if (set->max_scripts > 0 && others + 1 > set->max_scripts) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_QUOTA_SCRIPTS, t_strdup_printf(
			"The maximum number of scripts is reached (max %u scripts).",
			set->max_scripts));
		return 0;
	}
	if (set->max_storage > 0 && total > set->max_storage) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_QUOTA_STORAGE, t_strdup_printf(
			"Not enough space for the script (max %llu bytes in all).",
			(unsigned long long)set->max_storage));
		return 0;
	}
	return 1;
}

int sieve_storage_mkdir(struct sieve_storage *storage, const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	/* a user who never got mail has no home yet: create the parents,
	   private like the mail home itself */
	const char *slash = strrchr(path, '/');
	if (errno == ENOENT && slash != NULL && slash != path) {
		if (sieve_storage_mkdir(storage, t_strndup(path, (size_t)(slash - path))) < 0)
			return -1;
		if (mkdir(path, 0700) == 0 || errno == EEXIST)
			return 0;
	}
	sieve_storage_set_syserror(storage, "mkdir", path);
	return -1;
}

int sieve_storage_fsync_dir(struct sieve_storage *storage, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		sieve_storage_set_syserror(storage, "fsync", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Writes data to a new file in script_dir/tmp/ and syncs it. Returns 0
   with *tmp_path_r, or -1. */
static int sieve_storage_write_tmp(struct sieve_storage *storage, const char *name,
				   const void *data, size_t size, const char **tmp_path_r)
{
	const char *tmpdir = t_strconcat(storage->set.script_dir, "/tmp", NULL);
	if (sieve_storage_mkdir(storage, storage->set.script_dir) < 0 ||
	    sieve_storage_mkdir(storage, tmpdir) < 0)
		return -1;
	static unsigned int counter;
	const char *path = t_strdup_printf("%s/%ld.%u.%ld.sieve", tmpdir, (long)getpid(),
					   ++counter, (long)time(NULL));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sieve_storage_set_syserror(storage, "open", path);
		return -1;
	}
	if (i_write_full(fd, data, size) < 0 || fsync(fd) < 0) {
		sieve_storage_set_syserror(storage, "write", path);
		close(fd);
		(void)unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		sieve_storage_set_syserror(storage, "close", path);
		(void)unlink(path);
		return -1;
	}
	*tmp_path_r = path;
	(void)name;
	return 0;
}

int sieve_storage_put(struct sieve_storage *storage, const char *name,
		      const void *data, size_t size)
{
	const char *tmp_path;
	if (sieve_storage_havespace(storage, name, size) <= 0)
		return -1;
	if (sieve_storage_write_tmp(storage, name, data, size, &tmp_path) < 0)
		return -1;
	/* rename() replaces atomically: the symlink of an active script
	   keeps pointing to the name, now with the new content */
	const char *path = sieve_storage_script_path(storage, name);
	if (rename(tmp_path, path) < 0) {
		sieve_storage_set_syserror(storage, "rename", path);
		(void)unlink(tmp_path);
		return -1;
	}
	return sieve_storage_fsync_dir(storage, storage->set.script_dir);
}

int sieve_storage_delete(struct sieve_storage *storage, const char *name)
{
	const char *active;
	if (!sieve_storage_name_is_valid(name)) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
					"Script does not exist.");
		return -1;
	}
	int ret = sieve_storage_active_name(storage, t_pool(), &active);
	if (ret < 0)
		return -1;
	if (ret > 0 && strcmp(active, name) == 0) {
		/* RFC 5804 §2.10: the active script can't be deleted */
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_ACTIVE,
					"Active script cannot be deleted.");
		return -1;
	}
	const char *path = sieve_storage_script_path(storage, name);
	if (unlink(path) < 0) {
		if (errno == ENOENT) {
			sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
						"Script does not exist.");
			return -1;
		}
		sieve_storage_set_syserror(storage, "unlink", path);
		return -1;
	}
	return sieve_storage_fsync_dir(storage, storage->set.script_dir);
}

int sieve_storage_rename(struct sieve_storage *storage, const char *old_name,
			 const char *new_name)
{
	const char *active;
	if (!sieve_storage_name_is_valid(old_name)) {
		sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
					"Script does not exist.");
		return -1;
	}
	if (!sieve_storage_check_name(storage, new_name))
		return -1;
	int ret = sieve_storage_active_name(storage, t_pool(), &active);
	if (ret < 0)
		return -1;
	const char *old_path = sieve_storage_script_path(storage, old_name);
	const char *new_path = sieve_storage_script_path(storage, new_name);
	/* link() never replaces: an existing new_name is ALREADYEXISTS, and
	   the script exists under one of its names at every moment */
	if (link(old_path, new_path) < 0) {
		if (errno == EEXIST)
			sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_EXISTS,
						"A script with that name already exists.");
		else if (errno == ENOENT)
			sieve_storage_set_error(storage, SIEVE_STORAGE_ERROR_NOTFOUND,
						"Script does not exist.");
		else
			sieve_storage_set_syserror(storage, "link", new_path);
		return -1;
	}
	/* RFC 5804 §2.11.1: the active script stays active */
	if (ret > 0 && strcmp(active, old_name) == 0 &&
	    sieve_storage_active_link(storage, new_name) < 0) {
		(void)unlink(new_path);
		return -1;
	}
	if (unlink(old_path) < 0) {
		sieve_storage_set_syserror(storage, "unlink", old_path);
		return -1;
	}
	return sieve_storage_fsync_dir(storage, storage->set.script_dir);
}
