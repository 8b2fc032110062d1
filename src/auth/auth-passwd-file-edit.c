/* Safe passwd-file edits: lock, read, change the lines of one user, write a
 * temporary file, fsync, rename over the original, fsync the directory.
 * Everything else in the file is copied unchanged. */
#include "auth-passwd-file-edit.h"
#include "auth-passwd-file.h"
#include "buffer.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWD_FILE_USER_NAME_MAX 255
#define PASSWD_FILE_NEW_MODE 0640
#define PASSWD_FILE_DIR_MODE 0755

struct pwedit {
	const char *path;
	int lock_fd;
	buffer_t *data;  /* current contents; NULL when the file doesn't exist */
	struct stat st;  /* of the current file, when it exists */
};

/* One line of the file: its bytes (terminator included) and, for a user
   line, the name (up to the first ':'). */
struct pwline {
	const char *start;
	size_t len;
	size_t content_len; /* without "\n" or "\r\n" */
	size_t name_len;    /* 0 for comments and blank lines */
};

int passwd_file_user_name_check(const char *name, const char **error_r)
{
	if (name[0] == '\0') {
		*error_r = "user name is empty";
		return -1;
	}
	if (strlen(name) > PASSWD_FILE_USER_NAME_MAX) {
		*error_r = "user name is too long";
		return -1;
	}
	if (name[0] == '#') {
		*error_r = "user name can't begin with '#'";
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == ':' || *p <= ' ' || *p == 0x7f) {
			*error_r = "user name can't contain ':', spaces or control characters";
			return -1;
		}
	}
	return 0;
}

/* Password hashes and homes become fields: no ':' and no line breaks. */
static int pwedit_field_check(const char *what, const char *value, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == ':' || *p < ' ' || *p == 0x7f) {
			*error_r = t_strdup_printf("%s can't contain ':' or control characters",
						   what);
			return -1;
		}
	}
	return 0;
}

static bool pwline_next(const buffer_t *data, size_t *pos, struct pwline *line_r)
{
	const char *base = (const char *)data->data;

	if (*pos >= data->used)
		return false;
	const char *start = base + *pos;
	size_t left = data->used - *pos;
	const char *nl = memchr(start, '\n', left);
	line_r->start = start;
	line_r->len = nl == NULL ? left : (size_t)(nl - start) + 1;
	line_r->content_len = nl == NULL ? left : (size_t)(nl - start);
	if (line_r->content_len > 0 && start[line_r->content_len - 1] == '\r')
		line_r->content_len--;
	*pos += line_r->len;

	size_t i = 0;
	while (i < line_r->content_len && (start[i] == ' ' || start[i] == '\t'))
		i++;
	if (i == line_r->content_len || start[i] == '#') {
		line_r->name_len = 0;
		return true;
	}
	const char *colon = memchr(start, ':', line_r->content_len);
	line_r->name_len = colon == NULL ? line_r->content_len : (size_t)(colon - start);
	return true;
}

static bool pwline_is_user(const struct pwline *line, const char *user)
{
	size_t len = strlen(user);
	return line->name_len == len && len > 0 && memcmp(line->start, user, len) == 0;
}

static int mkdir_parents(const char *dir, const char **error_r)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return 0;
	char *copy = t_strdup(dir);
	const char *parent = dirname(copy);
	if (strcmp(parent, dir) != 0 && mkdir_parents(parent, error_r) < 0)
		return -1;
	if (mkdir(dir, PASSWD_FILE_DIR_MODE) < 0 && errno != EEXIST) {
		*error_r = t_strdup_printf("mkdir(%s) failed: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *path_dirname(const char *path)
{
	return t_strdup(dirname(t_strdup(path)));
}

static int pwedit_read(struct pwedit *ctx, const char **error_r)
{
	int fd = open(ctx->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	ctx->data = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("open(%s) failed: %s", ctx->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &ctx->st) < 0 || !S_ISREG(ctx->st.st_mode) ||
	    ctx->st.st_size > PASSWD_FILE_MAX_SIZE) {
		*error_r = t_strdup_printf("%s: not a regular file of at most %u bytes",
					   ctx->path, PASSWD_FILE_MAX_SIZE);
		i_close_fd(&fd);
		return -1;
	}
	ctx->data = buffer_create(t_pool(), (size_t)ctx->st.st_size + 1);
	for (;;) {
		unsigned char buf[8192];
		ssize_t ret = read(fd, buf, sizeof(buf));
		if (ret == 0)
			break;
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 || ctx->data->used + (size_t)ret > PASSWD_FILE_MAX_SIZE) {
			*error_r = ret < 0 ?
				t_strdup_printf("read(%s) failed: %s", ctx->path, strerror(errno)) :
				t_strdup_printf("%s grew too large", ctx->path);
			i_close_fd(&fd);
			return -1;
		}
		buffer_append(ctx->data, buf, (size_t)ret);
	}
	i_close_fd(&fd);
	return 0;
}

/* Locks the file and reads it. With create, the directory is made first;
   without, a missing directory just means a missing file. */
static int pwedit_begin(struct pwedit *ctx, const char *path, bool create,
			const char **error_r)
{
	const char *lock_path = t_strdup_printf("%s.lock", path);

	memset(ctx, 0, sizeof(*ctx));
	ctx->path = path;
	ctx->lock_fd = -1;
	if (create && mkdir_parents(path_dirname(path), error_r) < 0)
		return -1;
	ctx->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (ctx->lock_fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		*error_r = t_strdup_printf("open(%s) failed: %s", lock_path, strerror(errno));
		return -1;
	}
	while (flock(ctx->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			*error_r = t_strdup_printf("flock(%s) failed: %s", lock_path,
						   strerror(errno));
			i_close_fd(&ctx->lock_fd);
			return -1;
		}
	}
	return pwedit_read(ctx, error_r);
}

static void pwedit_end(struct pwedit *ctx)
{
	/* closing drops the flock */
	i_close_fd(&ctx->lock_fd);
}

static int fsync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		*error_r = t_strdup_printf("fsync(%s) failed: %s", dir, strerror(errno));
		if (fd >= 0)
			i_close_fd(&fd);
		return -1;
	}
	i_close_fd(&fd);
	return 0;
}

/* Gives the new file the old one's mode and owner, so that a root-run
   ternctl doesn't lock a server out of a root:mail 0640 file. */
static int pwedit_set_perms(struct pwedit *ctx, int fd, const char **error_r)
{
	mode_t mode = ctx->data == NULL ? PASSWD_FILE_NEW_MODE :
		(ctx->st.st_mode & 07777);
	struct stat st;

	if (fchmod(fd, mode) < 0 || fstat(fd, &st) < 0) {
		*error_r = t_strdup_printf("fchmod() failed: %s", strerror(errno));
		return -1;
	}
	if (ctx->data != NULL &&
	    (st.st_uid != ctx->st.st_uid || st.st_gid != ctx->st.st_gid) &&
	    fchown(fd, ctx->st.st_uid, ctx->st.st_gid) < 0) {
		*error_r = t_strdup_printf("can't keep owner %ld:%ld of %s: %s",
					   (long)ctx->st.st_uid, (long)ctx->st.st_gid,
					   ctx->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int pwedit_commit(struct pwedit *ctx, const buffer_t *new_data,
			 const char **error_r)
{
	char *tmp_path = t_strdup_printf("%s.tmp.XXXXXX", ctx->path);
	int fd = mkostemp(tmp_path, O_CLOEXEC);

	if (fd < 0) {
		*error_r = t_strdup_printf("mkstemp(%s) failed: %s", tmp_path,
					   strerror(errno));
		return -1;
	}
	if (pwedit_set_perms(ctx, fd, error_r) < 0)
		goto fail;
	if (i_write_full(fd, new_data->data, new_data->used) < 0 || fsync(fd) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %s", tmp_path,
					   strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = t_strdup_printf("close(%s) failed: %s", tmp_path,
					   strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp_path, ctx->path) < 0) {
		*error_r = t_strdup_printf("rename(%s, %s) failed: %s", tmp_path,
					   ctx->path, strerror(errno));
		goto fail;
	}
	return fsync_dir(path_dirname(ctx->path), error_r);
fail:
	if (fd >= 0)
		i_close_fd(&fd);
	(void)unlink(tmp_path);
	return -1;
}

static bool pwedit_has_user(const struct pwedit *ctx, const char *user)
{
	struct pwline line;
	size_t pos = 0;

	while (ctx->data != NULL && pwline_next(ctx->data, &pos, &line)) {
		if (pwline_is_user(&line, user))
			return true;
	}
	return false;
}

int passwd_file_edit_add(const char *path, const char *user, const char *password,
			 const char *home, const char **error_r)
{
	struct pwedit ctx;
	int ret;

	if (passwd_file_user_name_check(user, error_r) < 0 ||
	    pwedit_field_check("password", password, error_r) < 0 ||
	    (home != NULL && pwedit_field_check("home", home, error_r) < 0))
		return -1;
	if (pwedit_begin(&ctx, path, true, error_r) < 0) {
		pwedit_end(&ctx);
		return -1;
	}
	if (pwedit_has_user(&ctx, user)) {
		ret = 0;
	} else {
		buffer_t *out = buffer_create(t_pool(), (ctx.data == NULL ? 0 :
						ctx.data->used) + 256);
		if (ctx.data != NULL) {
			buffer_append(out, ctx.data->data, ctx.data->used);
			if (out->used > 0 && out->data[out->used - 1] != '\n')
				buffer_append_c(out, '\n');
		}
		string_t *str = out;
		str_printfa(str, "%s:%s::::%s::\n", user, password,
			    home == NULL ? "" : home);
		ret = pwedit_commit(&ctx, out, error_r) < 0 ? -1 : 1;
	}
	pwedit_end(&ctx);
	return ret;
}

int passwd_file_edit_delete(const char *path, const char *user, const char **error_r)
{
	struct pwedit ctx;
	struct pwline line;
	size_t pos = 0;
	bool found = false;
	int ret;

	if (pwedit_begin(&ctx, path, false, error_r) < 0) {
		pwedit_end(&ctx);
		return -1;
	}
	buffer_t *out = buffer_create(t_pool(), ctx.data == NULL ? 16 : ctx.data->used + 1);
	while (ctx.data != NULL && pwline_next(ctx.data, &pos, &line)) {
		if (pwline_is_user(&line, user))
			found = true;
		else
			buffer_append(out, line.start, line.len);
	}
	ret = !found ? 0 : pwedit_commit(&ctx, out, error_r) < 0 ? -1 : 1;
	pwedit_end(&ctx);
	return ret;
}

/* Writes line with its password field replaced. */
static void pwline_set_password(const struct pwline *line, const char *password,
				buffer_t *out)
{
	/* the fields after the password start at the second ':' */
	const char *rest = NULL;
	if (line->name_len < line->content_len) {
		const char *pw_start = line->start + line->name_len + 1;
		size_t pw_left = line->content_len - line->name_len - 1;
		rest = memchr(pw_start, ':', pw_left);
	}
	buffer_append(out, line->start, line->name_len);
	buffer_append_c(out, ':');
	buffer_append(out, password, strlen(password));
	if (rest != NULL)
		buffer_append(out, rest, (size_t)(line->start + line->content_len - rest));
	/* the line terminator as it was */
	buffer_append(out, line->start + line->content_len,
		      line->len - line->content_len);
}

int passwd_file_edit_set_password(const char *path, const char *user,
				  const char *password, const char **error_r)
{
	struct pwedit ctx;
	struct pwline line;
	size_t pos = 0;
	bool found = false;
	int ret;

	if (pwedit_field_check("password", password, error_r) < 0)
		return -1;
	if (pwedit_begin(&ctx, path, false, error_r) < 0) {
		pwedit_end(&ctx);
		return -1;
	}
	buffer_t *out = buffer_create(t_pool(), ctx.data == NULL ? 16 :
				      ctx.data->used + strlen(password) + 1);
	while (ctx.data != NULL && pwline_next(ctx.data, &pos, &line)) {
		if (!found && pwline_is_user(&line, user)) {
			found = true;
			pwline_set_password(&line, password, out);
		} else {
			buffer_append(out, line.start, line.len);
		}
	}
	ret = !found ? 0 : pwedit_commit(&ctx, out, error_r) < 0 ? -1 : 1;
	pwedit_end(&ctx);
	return ret;
}

int passwd_file_edit_list(const char *path, pool_t pool,
			  const char *const **users_r, unsigned int *count_r,
			  const char **error_r)
{
	struct pwedit ctx = { .path = path, .lock_fd = -1 };
	ARRAY(const char *) users;
	struct pwline line;
	size_t pos = 0;

	/* no lock: renames make every version of the file complete */
	if (pwedit_read(&ctx, error_r) < 0)
		return -1;
	array_init(&users, pool, 16);
	struct hash_table *seen = hash_table_create(system_pool, str_hash, str_cmp);
	while (ctx.data != NULL && pwline_next(ctx.data, &pos, &line)) {
		if (line.name_len == 0)
			continue;
		const char *name = p_strndup(pool, line.start, line.name_len);
		if (hash_table_lookup(seen, name) != NULL)
			continue;
		hash_table_insert(seen, name, (void *)name);
		array_push(&users, name);
	}
	hash_table_destroy(&seen);
	*count_r = users.count;
	array_push(&users, NULL);
	*users_r = users.v;
	return 0;
}
