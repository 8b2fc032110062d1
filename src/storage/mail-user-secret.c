/* Per-user secrets: random keys kept by name in a small file in the mail
 * home ("tern-secrets", mode 0600, one "name<TAB>hex" line each), such as
 * URLAUTH's mailbox access keys (RFC 4467 §7). Changes are made under an
 * exclusive lock on a lock file and replace the file atomically (written
 * to a temporary file, fsynced, renamed, the directory fsynced), so a
 * reader never sees half a file and a key handed out survives a crash. */
#include "mail-storage-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAIL_SECRET_FILENAME "tern-secrets"
#define MAIL_SECRET_LOCK_FILENAME "tern-secrets.lock"
/* a user with 10,000 mailboxes (MAIL_USER_MAILBOXES_MAX) and some
   deleted ones still fits */
#define MAIL_SECRET_MAX_ENTRIES 20000
#define MAIL_SECRET_MAX_NAME 128
#define MAIL_SECRET_MAX_FILE_SIZE \
	(MAIL_SECRET_MAX_ENTRIES * (MAIL_SECRET_MAX_NAME + 2 + MAIL_USER_SECRET_SIZE * 2))

struct mail_secret_entry {
	const char *name;
	const char *hex;
};
typedef ARRAY(struct mail_secret_entry) mail_secret_entries_t;

static const char *mail_secret_path(struct mail_user *user, const char *filename)
{
	return t_strdup_printf("%s/%s", user->home, filename);
}

static bool mail_secret_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAIL_SECRET_MAX_NAME)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	}
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool mail_secret_hex_decode(const char *hex, unsigned char *secret_r)
{
	if (strlen(hex) != MAIL_USER_SECRET_SIZE * 2)
		return false;
	for (unsigned int i = 0; i < MAIL_USER_SECRET_SIZE; i++) {
		int hi = hex_digit(hex[i * 2]), lo = hex_digit(hex[i * 2 + 1]);
		if (hi < 0 || lo < 0)
			return false;
		secret_r[i] = (unsigned char)(hi * 16 + lo);
	}
	return true;
}

/* Reads the file into entries (temporary memory). A missing file is an
   empty one; lines that don't parse are dropped. Returns 0 or -1. */
static int mail_secret_read(struct mail_user *user, mail_secret_entries_t *entries)
{
	const char *path = mail_secret_path(user, MAIL_SECRET_FILENAME);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	array_init(entries, t_pool(), 16);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return mail_user_set_syscall_error(user, "open", path, errno);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		(void)close(fd);
		return mail_user_set_syscall_error(user, "fstat", path, err);
	}
	if (st.st_size > MAIL_SECRET_MAX_FILE_SIZE) {
		(void)close(fd);
		return mail_user_set_internal_error(user, "secrets", "file too large");
	}
	char *data = t_malloc((size_t)st.st_size + 1);
	ssize_t got = 0;
	while (got < st.st_size) {
		ssize_t ret = read(fd, data + got, (size_t)(st.st_size - got));
		if (ret <= 0) {
			if (ret < 0 && errno == EINTR)
				continue;
			break;
		}
		got += ret;
	}
	(void)close(fd);
	data[got] = '\0';
	for (char *line = data, *next; *line != '\0'; line = next) {
		char *lf = strchr(line, '\n');
		next = lf == NULL ? line + strlen(line) : lf + 1;
		if (lf != NULL)
			*lf = '\0';
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		struct mail_secret_entry entry = { .name = line, .hex = tab + 1 };
		unsigned char tmp[MAIL_USER_SECRET_SIZE];
		if (mail_secret_name_is_valid(entry.name) && mail_secret_hex_decode(entry.hex, tmp))
			array_push(entries, entry);
	}
	return 0;
}

static int mail_secret_fsync_dir(struct mail_user *user)
{
	int fd = open(user->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return mail_user_set_syscall_error(user, "open", user->home, errno);
	int ret = fsync(fd);
	int err = errno;
	(void)close(fd);
	return ret < 0 ? mail_user_set_syscall_error(user, "fsync", user->home, err) : 0;
}

/* Replaces the file with entries: temporary file, fsync, rename, fsync
   of the directory. Returns 0 or -1. */
static int mail_secret_write(struct mail_user *user, const mail_secret_entries_t *entries)
{
	const char *path = mail_secret_path(user, MAIL_SECRET_FILENAME);
	const char *tmp_path = t_strdup_printf("%s.tmp.%ld", path, (long)getpid());
	string_t *data = t_str_new(entries->count * 100 + 1);

	for (unsigned int i = 0; i < entries->count; i++)
		str_printfa(data, "%s\t%s\n", entries->v[i].name, entries->v[i].hex);
	(void)unlink(tmp_path);
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return mail_user_set_syscall_error(user, "open", tmp_path, errno);
	size_t done = 0;
	while (done < str_len(data)) {
		ssize_t ret = write(fd, str_data(data) + done, str_len(data) - done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		done += (size_t)ret;
	}
	int err = errno;
	if (done < str_len(data) || fsync(fd) < 0) {
		if (done == str_len(data))
			err = errno;
		(void)close(fd);
		(void)unlink(tmp_path);
		return mail_user_set_syscall_error(user, "write", tmp_path, err);
	}
	if (close(fd) < 0 || rename(tmp_path, path) < 0) {
		err = errno;
		(void)unlink(tmp_path);
		return mail_user_set_syscall_error(user, "rename", path, err);
	}
	return mail_secret_fsync_dir(user);
}

/* Takes the lock for a change; returns the lock fd or -1. */
static int mail_secret_lock(struct mail_user *user)
{
	const char *path = mail_secret_path(user, MAIL_SECRET_LOCK_FILENAME);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return mail_user_set_syscall_error(user, "open", path, errno);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = errno;
			(void)close(fd);
			return mail_user_set_syscall_error(user, "flock", path, err);
		}
	}
	return fd;
}

static const struct mail_secret_entry *
mail_secret_find(const mail_secret_entries_t *entries, const char *name)
{
	for (unsigned int i = 0; i < entries->count; i++) {
		if (strcmp(entries->v[i].name, name) == 0)
			return &entries->v[i];
	}
	return NULL;
}

/* Under the lock: the key, or a new one stored first. */
static int mail_secret_create_locked(struct mail_user *user, const char *name,
				     unsigned char secret_r[MAIL_USER_SECRET_SIZE])
{
	mail_secret_entries_t entries;

	if (mail_secret_read(user, &entries) < 0)
		return -1;
	const struct mail_secret_entry *entry = mail_secret_find(&entries, name);
	if (entry != NULL) {
		(void)mail_secret_hex_decode(entry->hex, secret_r);
		return 1;
	}
	if (entries.count >= MAIL_SECRET_MAX_ENTRIES)
		return mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many keys.");
	struct mail_secret_entry new_entry = {
		.name = name, .hex = mail_random_hex(MAIL_USER_SECRET_SIZE),
	};
	array_push(&entries, new_entry);
	if (mail_secret_write(user, &entries) < 0)
		return -1;
	(void)mail_secret_hex_decode(new_entry.hex, secret_r);
	return 1;
}

int mail_user_secret_get(struct mail_user *user, const char *name, bool create,
			 unsigned char secret_r[MAIL_USER_SECRET_SIZE])
{
	mail_secret_entries_t entries;

	mail_user_clear_error(user);
	if (!mail_secret_name_is_valid(name))
		return mail_user_set_error(user, MAIL_ERROR_PARAMS, "Invalid key name.");
	/* the file is only ever replaced whole: read without the lock */
	if (mail_secret_read(user, &entries) < 0)
		return -1;
	const struct mail_secret_entry *entry = mail_secret_find(&entries, name);
	if (entry != NULL) {
		(void)mail_secret_hex_decode(entry->hex, secret_r);
		return 1;
	}
	if (!create)
		return 0;
	int lock_fd = mail_secret_lock(user);
	if (lock_fd < 0)
		return -1;
	int ret = mail_secret_create_locked(user, name, secret_r);
	(void)close(lock_fd);
	return ret;
}

int mail_user_secret_reset(struct mail_user *user, const char *prefix)
{
	mail_secret_entries_t entries;
	size_t prefix_len = strlen(prefix);

	mail_user_clear_error(user);
	int lock_fd = mail_secret_lock(user);
	if (lock_fd < 0)
		return -1;
	int ret = mail_secret_read(user, &entries);
	unsigned int kept = 0;
	for (unsigned int i = 0; ret == 0 && i < entries.count; i++) {
		if (strncmp(entries.v[i].name, prefix, prefix_len) != 0)
			entries.v[kept++] = entries.v[i];
	}
	if (ret == 0 && kept != entries.count) {
		entries.count = kept;
		ret = mail_secret_write(user, &entries);
	}
	(void)close(lock_fd);
	return ret;
}
