/* Reading Dovecot-format passwd-files: the whole file is parsed into a hash
 * table, and re-read when stat() shows a different inode, size or mtime.
 * Bad lines are logged with their number and skipped, never fatal. */
#include "auth-passwd-file.h"
#include "hash.h"
#include "log.h"
#include "strnum.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* user:password:uid:gid:gecos:home:shell:extra_fields */
enum passwd_field {
	PASSWD_FIELD_USER,
	PASSWD_FIELD_PASSWORD,
	PASSWD_FIELD_UID,
	PASSWD_FIELD_GID,
	PASSWD_FIELD_GECOS,
	PASSWD_FIELD_HOME,
	PASSWD_FIELD_SHELL,
	PASSWD_FIELD_EXTRA,
	PASSWD_FIELD_COUNT
};

struct passwd_entry {
	const char *name, *password, *home;
	uid_t uid;
	gid_t gid;
	const char *extra; /* space-separated, NULL if none */
};

struct passwd_file {
	char *path;
	/* loaded contents; NULL when not loaded (never read, or the last
	   read failed: then every lookup retries) */
	pool_t pool;
	struct hash_table *users;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned int load_count;
	unsigned int line_no; /* while parsing, for log messages */
};

struct passwd_file *passwd_file_open(const char *path)
{
	struct passwd_file *pf = i_new(struct passwd_file, 1);

	pf->path = i_strdup(path);
	return pf;
}

static void passwd_file_unload(struct passwd_file *pf)
{
	hash_table_destroy(&pf->users);
	pool_destroy(&pf->pool);
}

void passwd_file_close(struct passwd_file **_pf)
{
	struct passwd_file *pf = *_pf;

	if (pf == NULL)
		return;
	*_pf = NULL;
	passwd_file_unload(pf);
	i_free(pf->path);
	i_free(pf);
}

const char *passwd_file_get_path(const struct passwd_file *pf)
{
	return pf->path;
}

unsigned int passwd_file_get_load_count(const struct passwd_file *pf)
{
	return pf->load_count;
}

static void passwd_file_warn(struct passwd_file *pf, const char *error)
{
	log_warning(NULL, "passwd_file", "path=%s line=%u error=%s",
		    log_value(pf->path), pf->line_no, log_value(error));
}

static bool passwd_file_name_is_valid(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}

static bool line_is_blank(const char *line)
{
	for (; *line != '\0'; line++) {
		if (*line != ' ' && *line != '\t')
			return false;
	}
	return true;
}

/* Blank lines and comments (also indented ones) hold no user. */
static bool line_is_ignored(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '\0' || *line == '#';
}

/* Splits line in place at the first PASSWD_FIELD_COUNT-1 colons: the extra
   fields keep theirs (userdb_quota_rule=*:storage=1G). Missing fields are
   NULL. */
static void passwd_line_split(char *line, char *fields[PASSWD_FIELD_COUNT])
{
	unsigned int i = 0;

	fields[i++] = line;
	for (char *p = line; i < PASSWD_FIELD_COUNT && (p = strchr(p, ':')) != NULL; ) {
		*p++ = '\0';
		fields[i++] = p;
	}
	for (; i < PASSWD_FIELD_COUNT; i++)
		fields[i] = NULL;
}

static const char *field_or_null(const char *field)
{
	return field == NULL || field[0] == '\0' ? NULL : field;
}

/* Returns NULL on success, else the reason the line is skipped. */
static const char *passwd_file_parse_fields(struct passwd_file *pf,
					    char *const fields[PASSWD_FIELD_COUNT],
					    struct passwd_entry *e)
{
	const char *extra = fields[PASSWD_FIELD_EXTRA];

	e->name = fields[PASSWD_FIELD_USER];
	if (!passwd_file_name_is_valid(e->name))
		return "invalid user name";
	e->password = field_or_null(fields[PASSWD_FIELD_PASSWORD]);
	e->uid = AUTH_USER_NO_UID;
	e->gid = AUTH_USER_NO_GID;
	if (field_or_null(fields[PASSWD_FIELD_UID]) != NULL &&
	    auth_user_parse_uid(fields[PASSWD_FIELD_UID], &e->uid) < 0)
		return t_strdup_printf("user %s has invalid uid", e->name);
	if (field_or_null(fields[PASSWD_FIELD_GID]) != NULL &&
	    auth_user_parse_gid(fields[PASSWD_FIELD_GID], &e->gid) < 0)
		return t_strdup_printf("user %s has invalid gid", e->name);
	e->home = field_or_null(fields[PASSWD_FIELD_HOME]);
	if (extra != NULL && extra[0] == ':') {
		/* the old format: an empty field, then the mail location */
		e->extra = extra[1] == '\0' ? NULL :
			p_strdup_printf(pf->pool, "userdb_mail=%s", extra + 1);
	} else {
		e->extra = line_is_blank(extra == NULL ? "" : extra) ? NULL : extra;
	}
	return NULL;
}

static void passwd_file_parse_line(struct passwd_file *pf, char *line, size_t len)
{
	char *fields[PASSWD_FIELD_COUNT];
	struct passwd_entry *e;
	const char *error;

	if (len > PASSWD_FILE_MAX_LINE_LENGTH) {
		passwd_file_warn(pf, "line too long");
		return;
	}
	if (strlen(line) != len) {
		passwd_file_warn(pf, "NUL byte in line");
		return;
	}
	if (line_is_ignored(line))
		return;

	passwd_line_split(line, fields);
	e = p_new(pf->pool, struct passwd_entry, 1);
	if ((error = passwd_file_parse_fields(pf, fields, e)) != NULL) {
		passwd_file_warn(pf, error);
		return;
	}
	if (hash_table_lookup(pf->users, e->name) != NULL) {
		/* the first line wins, as in Dovecot */
		passwd_file_warn(pf, t_strdup_printf("user %s exists more than once",
						     e->name));
		return;
	}
	hash_table_insert(pf->users, e->name, e);
}

/* data has size+1 bytes; lines are terminated in place. */
static void passwd_file_parse(struct passwd_file *pf, char *data, size_t size)
{
	char *p = data, *end = data + size;

	pf->line_no = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl == NULL ? end : nl;
		size_t len = (size_t)(line_end - p);

		pf->line_no++;
		*line_end = '\0';
		if (len > 0 && p[len - 1] == '\r')
			p[--len] = '\0';
		passwd_file_parse_line(pf, p, len);
		p = line_end + 1;
	}
}

/* Reads all of fd into pool memory with one spare byte at the end. */
static int passwd_file_read(struct passwd_file *pf, int fd, off_t st_size,
			    char **data_r, size_t *size_r, const char **error_r)
{
	size_t alloc = (size_t)st_size + 1, used = 0;
	char *data = i_malloc(alloc + 1);

	for (;;) {
		if (used == alloc) {
			/* the file grew while we read it */
			if (alloc > PASSWD_FILE_MAX_SIZE)
				break;
			data = i_realloc(data, alloc * 2 + 1);
			alloc *= 2;
		}
		ssize_t ret = read(fd, data + used, alloc - used);
		if (ret == 0)
			break;
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			*error_r = t_strdup_printf("read(%s) failed: %s", pf->path,
						   strerror(errno));
			free(data);
			return -1;
		}
		used += (size_t)ret;
	}
	if (used > PASSWD_FILE_MAX_SIZE) {
		*error_r = t_strdup_printf("%s is larger than %u bytes", pf->path,
					   PASSWD_FILE_MAX_SIZE);
		free(data);
		return -1;
	}
	*data_r = p_memdup(pf->pool, data, used + 1);
	*size_r = used;
	free(data);
	return 0;
}

static int passwd_file_load(struct passwd_file *pf, const char **error_r)
{
	struct stat st;
	char *data;
	size_t size;
	int fd;

	passwd_file_unload(pf);
	fd = open(pf->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %s", pf->path,
					   strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %s", pf->path,
					   strerror(errno));
		i_close_fd(&fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PASSWD_FILE_MAX_SIZE) {
		*error_r = !S_ISREG(st.st_mode) ?
			t_strdup_printf("%s is not a regular file", pf->path) :
			t_strdup_printf("%s is larger than %u bytes", pf->path,
					PASSWD_FILE_MAX_SIZE);
		i_close_fd(&fd);
		return -1;
	}
	pf->pool = pool_create("passwd-file", (size_t)st.st_size + 4096);
	if (passwd_file_read(pf, fd, st.st_size, &data, &size, error_r) < 0) {
		i_close_fd(&fd);
		pool_destroy(&pf->pool);
		return -1;
	}
	i_close_fd(&fd);
	pf->users = hash_table_create(pf->pool, str_hash, str_cmp);
	passwd_file_parse(pf, data, size);
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	pf->size = st.st_size;
	pf->mtime = st.st_mtim;
	pf->load_count++;
	return 0;
}

/* Makes sure the loaded contents match the file on disk. */
static int passwd_file_sync(struct passwd_file *pf, const char **error_r)
{
	struct stat st;

	if (stat(pf->path, &st) < 0) {
		/* fail closed: users of a deleted file must not log in */
		passwd_file_unload(pf);
		*error_r = t_strdup_printf("stat(%s) failed: %s", pf->path,
					   strerror(errno));
		return -1;
	}
	if (pf->pool != NULL && st.st_ino == pf->ino && st.st_dev == pf->dev &&
	    st.st_size == pf->size && st.st_mtim.tv_sec == pf->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == pf->mtime.tv_nsec)
		return 0;
	return passwd_file_load(pf, error_r);
}

static void passwd_entry_split_extra(const char *extra, struct auth_user *u,
				     pool_t pool)
{
	const char *p = extra;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (p > start)
			array_push(&u->extra, p_strndup(pool, start, (size_t)(p - start)));
	}
}

static struct auth_user *passwd_entry_export(const struct passwd_entry *e,
					     pool_t pool)
{
	struct auth_user *u = p_new(pool, struct auth_user, 1);

	u->name = p_strdup(pool, e->name);
	u->password = e->password == NULL ? NULL : p_strdup(pool, e->password);
	u->home = e->home == NULL ? NULL : p_strdup(pool, e->home);
	u->uid = e->uid;
	u->gid = e->gid;
	array_init(&u->extra, pool, 4);
	if (e->extra != NULL)
		passwd_entry_split_extra(e->extra, u, pool);
	return u;
}

int passwd_file_iterate(struct passwd_file *pf, void (*cb)(const char *user, void *context),
			void *context, const char **error_r)
{
	struct hash_iter iter;
	const void *key;
	void *value;

	if (passwd_file_sync(pf, error_r) < 0)
		return -1;
	hash_table_iter_init(pf->users, &iter);
	while (hash_table_iter_next(&iter, &key, &value))
		cb(((const struct passwd_entry *)value)->name, context);
	return 0;
}

int passwd_file_lookup(struct passwd_file *pf, const char *user, pool_t pool,
		       struct auth_user **user_r, const char **error_r)
{
	const struct passwd_entry *e;

	*user_r = NULL;
	if (passwd_file_sync(pf, error_r) < 0)
		return -1;
	e = hash_table_lookup(pf->users, user);
	if (e == NULL)
		return 0;
	*user_r = passwd_entry_export(e, pool);
	return 1;
}
