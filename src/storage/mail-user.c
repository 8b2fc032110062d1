/* A user's storage: opening the mail home and its index, the driver, the
 * error state every storage call reports through, write transactions and
 * the change-notification file that wakes sessions in other processes. */
#include "mail-storage-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* held while a new user's index and default mailboxes are made */
#define MAIL_SETUP_LOCK_FILENAME "tern-setup.lock"
#define MAIL_NOTIFY_FILENAME "tern-notify"

static const struct {
	const char *name;
	enum mailbox_special_use special_use;
} mail_special_folders[] = {
	{ "Drafts", MAILBOX_SPECIAL_DRAFTS },
	{ "Sent", MAILBOX_SPECIAL_SENT },
	{ "Trash", MAILBOX_SPECIAL_TRASH },
	{ "Junk", MAILBOX_SPECIAL_JUNK },
	{ "Archive", MAILBOX_SPECIAL_ARCHIVE },
};

uint64_t mail_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *mail_random_hex(unsigned int bytes)
{
	unsigned char buf[32];
	i_assert(bytes <= sizeof(buf));
	size_t got = 0;
	while (got < bytes) {
		ssize_t ret = getrandom(buf + got, bytes - got, 0);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			i_fatal("getrandom() failed: %s", strerror(errno));
		}
		got += (size_t)ret;
	}
	char *hex = t_malloc(bytes * 2 + 1);
	for (unsigned int i = 0; i < bytes; i++)
		snprintf(hex + i * 2, 3, "%02x", buf[i]);
	return hex;
}

void mail_user_clear_error(struct mail_user *user)
{
	user->error = MAIL_ERROR_NONE;
	i_free(user->error_text);
}

int mail_user_set_error(struct mail_user *user, enum mail_error error, const char *text)
{
	user->error = error;
	free(user->error_text);
	user->error_text = i_strdup(text);
	return -1;
}

int mail_user_set_internal_error(struct mail_user *user, const char *event,
				 const char *detail)
{
	const char *id = mail_random_hex(4);
	log_error(&user->log, "storage_error", "id=%s event=%s error=%s", id, event,
		  log_value(detail));
	return mail_user_set_error(user, MAIL_ERROR_TEMP,
				   t_strdup_printf("Internal error occurred (id %s).", id));
}

int mail_user_set_syscall_error(struct mail_user *user, const char *func,
				const char *path, int err)
{
	if (err == ENOSPC || err == EDQUOT) {
		log_warning(&user->log, "storage_full", "func=%s path=%s error=%s", func,
			    log_value(path), log_value(strerror(err)));
		return mail_user_set_error(user, MAIL_ERROR_OVERQUOTA, "Not enough disk space.");
	}
	return mail_user_set_internal_error(user, func, t_strdup_printf(
		"%s(%s) failed: %s", func, path, strerror(err)));
}

int mail_user_set_index_error(struct mail_user *user, const char *what)
{
	const char *detail = t_strdup_printf("%s: %s", what, index_db_get_error(user->db));
	switch (index_db_get_error_code(user->db)) {
	case INDEX_ERROR_BUSY:
		log_warning(&user->log, "index_busy", "error=%s", log_value(detail));
		return mail_user_set_error(user, MAIL_ERROR_INUSE,
					   "Mailbox is busy, try again later.");
	case INDEX_ERROR_FULL:
		log_warning(&user->log, "index_full", "error=%s", log_value(detail));
		return mail_user_set_error(user, MAIL_ERROR_OVERQUOTA, "Not enough disk space.");
	case INDEX_ERROR_CORRUPT:
		mail_user_set_internal_error(user, "index_corrupt", detail);
		user->error = MAIL_ERROR_CORRUPT;
		return -1;
	default:
		return mail_user_set_internal_error(user, "index", detail);
	}
}

enum mail_error mail_user_get_error(struct mail_user *user, const char **text_r)
{
	*text_r = user->error_text == NULL ? "" : user->error_text;
	return user->error;
}

void mail_user_release_memory(struct mail_user *user)
{
	index_db_release(user->db);
	i_close_fd(&user->notify_fd);
}

bool mail_user_storage_is_current(struct mail_user *user)
{
	return index_db_is_current(user->db);
}

const char *mail_user_get_name(const struct mail_user *user)
{
	return user->username;
}

int mail_user_begin_write(struct mail_user *user)
{
	if (index_db_begin_write(user->db) < 0)
		return mail_user_set_index_error(user, "begin");
	return 0;
}

int mail_user_commit(struct mail_user *user)
{
	if (index_db_commit(user->db) < 0) {
		mail_user_own_changes_committed(user, false);
		return mail_user_set_index_error(user, "commit");
	}
	mail_user_own_changes_committed(user, true);
	return 0;
}

void mail_user_rollback(struct mail_user *user)
{
	index_db_rollback(user->db);
	mail_user_own_changes_committed(user, false);
}

int64_t mail_own_change_begin(struct mail_user *user, const char *dir)
{
	return user->v->disk_stamp(user, dir);
}

void mail_own_change_end(struct mail_user *user, const char *dir, int64_t before,
			 struct index_change *ch)
{
	/* if the stamp was current before our change, nobody else changed
	   the files meanwhile, so the new stamp is current too */
	if (before != 0 && before == index_change_get_disk_stamp(ch))
		index_change_set_disk_stamp(ch, user->v->disk_stamp(user, dir));
}

void mail_user_notify_changed(struct mail_user *user)
{
	if (user->notify_fd == -1) {
		user->notify_fd = open(user->notify_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (user->notify_fd == -1) {
			log_warning(&user->log, "notify_failed", "path=%s error=%s",
				    log_value(user->notify_path), log_value(strerror(errno)));
			return;
		}
	}
	/* a one-byte write is an IN_MODIFY for every watcher; nothing needs
	   to be durable here */
	if (pwrite(user->notify_fd, "x", 1, 0) < 0) {
		log_warning(&user->log, "notify_failed", "path=%s error=%s",
			    log_value(user->notify_path), log_value(strerror(errno)));
	}
}

static int mail_mkdir_parents(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return -1;
	if (mail_mkdir_parents(t_strndup(path, (size_t)(slash - path)), mode) < 0)
		return -1;
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* A new index: INBOX and (optionally) the special-use folders, keeping
   any that the driver found on disk. */
static int mail_user_create_defaults(struct mail_user *user, bool special_folders)
{
	if (mail_user_begin_write(user) < 0)
		return -1;
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, "INBOX", t_pool(), &mb);
	if (ret == 0)
		ret = mailbox_create_locked(user, "INBOX", MAILBOX_SPECIAL_NONE) < 0 ? -1 : 1;
	if (ret >= 0)
		ret = index_subscription_set(user->db, "INBOX", true);
	for (unsigned int i = 0; ret >= 0 && special_folders &&
	     i < N_ELEMENTS(mail_special_folders); i++) {
		const char *name = mail_special_folders[i].name;
		ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
		if (ret == 0) {
			ret = mailbox_create_locked(user, name, mail_special_folders[i].special_use);
		} else if (ret > 0 && mb.special_use == 0) {
			ret = index_mailbox_set_special_use(user->db, mb.id,
							    mail_special_folders[i].special_use);
		}
		if (ret >= 0)
			ret = index_subscription_set(user->db, name, true);
	}
	if (ret < 0) {
		if (user->error == MAIL_ERROR_NONE)
			mail_user_set_index_error(user, "create default mailboxes");
		mail_user_rollback(user);
		return -1;
	}
	return mail_user_commit(user);
}

static const struct mail_storage_vfuncs *mail_storage_find_driver(const char *name)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, maildir_storage_vfuncs.name) == 0)
		return &maildir_storage_vfuncs;
	return NULL;
}

/* Serialises the setup of a new user's storage between processes: the
   index and its default mailboxes are made in separate transactions, and
   a session opening the index in between must not find it without INBOX.
   Returns the locked fd, or -1 (then the caller goes on unserialised). */
static int mail_user_setup_lock(struct mail_user *user)
{
	const char *path = t_strdup_printf("%s/%s", user->home, MAIL_SETUP_LOCK_FILENAME);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		i_close_fd(&fd);
		return -1;
	}
	return fd;
}

static int mail_user_open_locked(struct mail_user *user, bool special_folders, int *lock_fd,
				 const char **error_r)
{
	const char *path = t_strdup_printf("%s/%s", user->home, MAIL_INDEX_FILENAME);
	struct stat st;
	/* a first login takes the setup lock before the index exists */
	if (stat(path, &st) < 0 && errno == ENOENT)
		*lock_fd = mail_user_setup_lock(user);
	bool created;
	if (index_db_open(path, &user->db, &created, error_r) < 0)
		return -1;
	if (user->v->user_init(user, created) < 0)
		return -1;
	if (created)
		return mail_user_create_defaults(user, special_folders);
	/* INBOX always exists once the setup is done: without it another
	   process is still setting up (wait for it), or died doing so */
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, "INBOX", t_pool(), &mb);
	if (ret != 0)
		return ret < 0 ? mail_user_set_index_error(user, "look up INBOX") : 0;
	if (*lock_fd < 0)
		*lock_fd = mail_user_setup_lock(user);
	return mail_user_create_defaults(user, special_folders);
}

static int mail_user_open(struct mail_user *user, bool special_folders, const char **error_r)
{
	if (mail_mkdir_parents(user->home, 0700) < 0) {
		*error_r = t_strdup_printf("mkdir(%s) failed: %s", user->home, strerror(errno));
		return -1;
	}
	int lock_fd = -1;
	*error_r = NULL;
	int ret = mail_user_open_locked(user, special_folders, &lock_fd, error_r);
	if (lock_fd >= 0)
		i_close_fd(&lock_fd);
	if (ret < 0 && *error_r == NULL) {
		const char *text;
		mail_user_get_error(user, &text);
		*error_r = t_strdup_printf("initializing storage failed: %s", text);
	}
	return ret < 0 ? -1 : 0;
}

int mail_user_init(const struct mail_user_settings *set, struct mail_user **user_r,
		   const char **error_r)
{
	const struct mail_storage_vfuncs *v = mail_storage_find_driver(set->driver);
	if (v == NULL) {
		*error_r = t_strdup_printf("unknown mail driver '%s'", set->driver);
		return -1;
	}
	if (set->home == NULL || set->home[0] != '/') {
		*error_r = "mail home must be an absolute path";
		return -1;
	}
	pool_t pool = pool_create("mail user", 1024);
	struct mail_user *user = p_new(pool, struct mail_user, 1);
	user->pool = pool;
	user->v = v;
	user->notify_fd = -1;
	user->text_index_on_demand = set->text_index_on_demand;
	user->cache_on_demand = set->cache_on_demand;
	user->username = p_strdup(pool, set->username == NULL ? "" : set->username);
	size_t len = strlen(set->home);
	while (len > 1 && set->home[len - 1] == '/')
		len--;
	user->home = p_strndup(pool, set->home, len);
	user->notify_path = p_strdup_printf(pool, "%s/%s", user->home, MAIL_NOTIFY_FILENAME);
	user->log.user = user->username;

	if (mail_user_open(user, set->create_special_folders, error_r) < 0) {
		*error_r = t_strdup(*error_r);
		mail_user_deinit(&user);
		return -1;
	}
	*user_r = user;
	return 0;
}

void mail_user_deinit(struct mail_user **_user)
{
	struct mail_user *user = *_user;
	if (user == NULL)
		return;
	*_user = NULL;
	mail_user_notify_deinit(user);
	mail_user_own_changes_free(user);
	if (user->v->user_deinit != NULL && user->driver_context != NULL)
		user->v->user_deinit(user);
	index_db_close(&user->db);
	i_close_fd(&user->notify_fd);
	i_free(user->error_text);
	pool_destroy(&user->pool);
}
