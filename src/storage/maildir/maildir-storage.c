/* The Maildir driver's table and its file-level operations: the mail
 * home's Maildir++ tree (folders, their cur/ new/ tmp/), discovering
 * folders when an index is created, opening, linking and removing message
 * files, and the cur/ mtime that tells the index whether it is current. */
#include "maildir-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

const char *maildir_path(struct mail_user *user, const char *dir)
{
	const char *root = maildir_user_get(user)->root;
	return dir[0] == '\0' ? root : t_strdup_printf("%s/%s", root, dir);
}

const char *maildir_subdir(struct mail_user *user, const char *dir, const char *sub)
{
	return t_strdup_printf("%s/%s", maildir_path(user, dir), sub);
}

const char *maildir_message_path(struct mail_user *user, const char *dir,
				 const char *filename, const char *fileinfo)
{
	if (fileinfo == NULL)
		return t_strdup_printf("%s/cur/%s", maildir_path(user, dir), filename);
	return t_strdup_printf("%s/cur/%s:%s", maildir_path(user, dir), filename, fileinfo);
}

int64_t maildir_disk_stamp(struct mail_user *user, const char *dir)
{
	struct stat st;
	if (stat(maildir_subdir(user, dir, "cur"), &st) < 0)
		return 0;
	/* with whole-second timestamps a change later in the same second
	   would go unnoticed: such a recent stamp can't be trusted yet */
	if (st.st_mtim.tv_nsec == 0 && time(NULL) - st.st_mtim.tv_sec < 2)
		return 0;
	return maildir_stat_stamp(&st);
}

int maildir_sync_dir(struct mail_user *user, const char *dir)
{
	const char *path = maildir_subdir(user, dir, "cur");
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mail_user_set_syscall_error(user, "open", path, errno);
	if (fsync(fd) < 0) {
		int err = errno;
		i_close_fd(&fd);
		return mail_user_set_syscall_error(user, "fsync", path, err);
	}
	i_close_fd(&fd);
	return 0;
}

static const char *maildir_dir_name(struct mail_user *user, const char *name)
{
	return maildir_name_to_dir(name);
}

static bool maildir_dir_exists(struct mail_user *user, const char *dir)
{
	struct stat st;
	return stat(maildir_subdir(user, dir, "cur"), &st) == 0 && S_ISDIR(st.st_mode);
}

static int maildir_mkdir(struct mail_user *user, const char *path, bool *created_r)
{
	if (mkdir(path, 0700) == 0) {
		*created_r = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return mail_user_set_syscall_error(user, "mkdir", path, errno);
}

/* Returns 1 if the location was created, 0 if it existed, -1. */
static int maildir_dir_create(struct mail_user *user, const char *dir)
{
	const char *path = maildir_path(user, dir);
	bool created = false, sub_created = false;
	if (maildir_mkdir(user, path, &created) < 0)
		return -1;
	static const char *const subs[] = { "cur", "new", "tmp" };
	for (unsigned int i = 0; i < N_ELEMENTS(subs); i++) {
		if (maildir_mkdir(user, t_strdup_printf("%s/%s", path, subs[i]), &sub_created) < 0)
			return -1;
	}
	if (dir[0] != '\0') {
		/* Maildir++: marks a folder (e.g. for deliver/quota tools) */
		const char *marker = t_strdup_printf("%s/maildirfolder", path);
		int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return mail_user_set_syscall_error(user, "open", marker, errno);
		i_close_fd(&fd);
	}
	return created ? 1 : 0;
}

/* Removes the files in path (not recursing) and then path itself. */
static int maildir_remove_files(struct mail_user *user, const char *path, bool rmdir_too)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : mail_user_set_syscall_error(user, "opendir", path, errno);
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			ret = mail_user_set_syscall_error(user, "unlink",
				t_strdup_printf("%s/%s", path, de->d_name), errno);
			break;
		}
	}
	closedir(d);
	if (ret == 0 && rmdir_too && rmdir(path) < 0 && errno != ENOENT) {
		/* something we don't know lives there: leave it */
		log_warning(&user->log, "maildir_rmdir_failed", "path=%s error=%s",
			    log_value(path), log_value(strerror(errno)));
	}
	return ret;
}

static int maildir_dir_delete(struct mail_user *user, const char *dir)
{
	i_assert(dir[0] != '\0');
	const char *path = maildir_path(user, dir);
	static const char *const subs[] = { "cur", "new", "tmp" };
	for (unsigned int i = 0; i < N_ELEMENTS(subs); i++) {
		if (maildir_remove_files(user, t_strdup_printf("%s/%s", path, subs[i]), true) < 0)
			return -1;
	}
	return maildir_remove_files(user, path, true);
}

static int maildir_dir_rename(struct mail_user *user, const char *old_dir, const char *new_dir)
{
	const char *old_path = maildir_path(user, old_dir), *new_path = maildir_path(user, new_dir);
	i_assert(old_dir[0] != '\0' && new_dir[0] != '\0');
	if (rename(old_path, new_path) < 0)
		return mail_user_set_syscall_error(user, "rename", old_path, errno);
	return 0;
}

static void maildir_notify_paths(struct mail_user *user, const char *dir,
				 const char **new_dir_r, const char **cur_dir_r)
{
	*new_dir_r = maildir_subdir(user, dir, "new");
	*cur_dir_r = maildir_subdir(user, dir, "cur");
}

static int maildir_message_open(struct mail_user *user, const char *dir,
				const struct index_message *msg, int *fd_r)
{
	const char *path = maildir_message_path(user, dir, msg->filename, msg->fileinfo);
	*fd_r = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd_r >= 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return mail_user_set_syscall_error(user, "open", path, errno);
}

/* Copies content when a hard link isn't possible (another filesystem). */
static int maildir_copy_contents(struct mail_user *user, const char *src, const char *dest_dir,
				 const char *tmp_name, const char *dest)
{
	const char *tmp = t_strdup_printf("%s/%s", maildir_subdir(user, dest_dir, "tmp"),
					  tmp_name);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : mail_user_set_syscall_error(user, "open", src, errno);
	int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int err = errno;
		i_close_fd(&in);
		return mail_user_set_syscall_error(user, "open", tmp, err);
	}
	char buf[65536];
	ssize_t n;
	int ret = 1;
	while ((n = read(in, buf, sizeof(buf))) > 0 && ret > 0) {
		for (ssize_t off = 0; off < n && ret > 0; ) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				ret = mail_user_set_syscall_error(user, "write", tmp, errno);
			off += w > 0 ? w : 0;
		}
	}
	if (ret > 0 && n < 0)
		ret = mail_user_set_syscall_error(user, "read", src, errno);
	if (ret > 0 && fsync(out) < 0)
		ret = mail_user_set_syscall_error(user, "fsync", tmp, errno);
	i_close_fd(&in);
	i_close_fd(&out);
	if (ret > 0 && rename(tmp, dest) < 0)
		ret = mail_user_set_syscall_error(user, "rename", tmp, errno);
	if (ret < 0)
		(void)unlink(tmp);
	return ret;
}

static int maildir_copy_file(struct mail_user *user, const char *src_dir,
			     const struct index_message *msg, const char *dest_dir,
			     uint32_t flags, pool_t pool, const char **filename_r,
			     const char **fileinfo_r)
{
	const char *src = maildir_message_path(user, src_dir, msg->filename, msg->fileinfo);
	const char *unique = maildir_filename_generate(user);
	const char *base = p_strdup_printf(pool, "%s,S=%llu,W=%llu", unique,
					   (unsigned long long)msg->psize,
					   (unsigned long long)msg->size);
	const char *info = maildir_info_set_flags(pool, NULL, flags);
	const char *dest = maildir_message_path(user, dest_dir, base, info);
	*filename_r = base;
	*fileinfo_r = info;
	if (link(src, dest) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
		return mail_user_set_syscall_error(user, "link", src, errno);
	return maildir_copy_contents(user, src, dest_dir, unique, dest);
}

static int maildir_expunge_file(struct mail_user *user, const char *dir,
				const struct index_message *msg)
{
	const char *path = maildir_message_path(user, dir, msg->filename, msg->fileinfo);
	if (unlink(path) < 0 && errno != ENOENT)
		return mail_user_set_syscall_error(user, "unlink", path, errno);
	return 0;
}

static int maildir_discover_add(struct mail_user *user, const char *name, const char *dir)
{
	struct index_mailbox mb;
	int64_t id;
	/* Maildir++ has ".a.b" without ".a" at times: parents are \Noselect */
	for (const char *p = strchr(name, MAILBOX_HIERARCHY_SEP); p != NULL;
	     p = strchr(p + 1, MAILBOX_HIERARCHY_SEP)) {
		const char *parent = t_strndup(name, (size_t)(p - name));
		int ret = index_mailbox_lookup(user->db, parent, t_pool(), &mb);
		if (ret < 0 || (ret == 0 && index_mailbox_create(user->db, parent, NULL, 0, &id) < 0))
			return mail_user_set_index_error(user, "add mailbox");
	}
	int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
	if (ret == 0)
		ret = index_mailbox_create(user->db, name, dir, 0, &id);
	else if (ret > 0)
		ret = index_mailbox_reset(user->db, mb.id, dir);
	if (ret < 0)
		return mail_user_set_index_error(user, "add mailbox");
	return 0;
}

/* A new index over an existing Maildir (first login after a migration,
   or a lost index): the folders on disk become mailboxes, their messages
   are indexed when first opened. */
static int maildir_discover_folders(struct mail_user *user)
{
	const char *root = maildir_user_get(user)->root;
	DIR *d = opendir(root);
	if (d == NULL)
		return mail_user_set_syscall_error(user, "opendir", root, errno);
	ARRAY(const char *) names;
	array_init(&names, t_pool(), 16);
	ARRAY(const char *) dirs;
	array_init(&dirs, t_pool(), 16);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name;
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || !maildir_dir_exists(user, de->d_name))
			continue;
		if (maildir_dir_to_name(de->d_name, &name) < 0 || strcmp(name, "INBOX") == 0) {
			log_warning(&user->log, "maildir_folder_skipped", "dir=%s",
				    log_value(de->d_name));
			continue;
		}
		array_push(&names, t_strdup(name));
		array_push(&dirs, t_strdup(de->d_name));
	}
	closedir(d);
	if (names.count == 0)
		return 0;
	if (mail_user_begin_write(user) < 0)
		return -1;
	for (unsigned int i = 0; i < names.count; i++) {
		if (maildir_discover_add(user, names.v[i], dirs.v[i]) < 0) {
			mail_user_rollback(user);
			return -1;
		}
	}
	return mail_user_commit(user);
}

static const char *maildir_hostname_escape(pool_t pool)
{
	char host[256];
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* '/' and ':' can't be in a file name part (Maildir convention) */
	string_t *str = str_new(pool, 64);
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			str_append(str, "\\057");
		else if (*p == ':')
			str_append(str, "\\072");
		else
			str_append_c(str, *p);
	}
	return str_c(str);
}

static int maildir_user_init(struct mail_user *user, bool index_created)
{
	struct maildir_user *mu = p_new(user->pool, struct maildir_user, 1);
	mu->root = p_strdup_printf(user->pool, "%s/%s", user->home, MAILDIR_ROOT_NAME);
	mu->hostname = maildir_hostname_escape(user->pool);
	user->driver_context = mu;
	if (!index_created)
		return maildir_dir_create(user, "") < 0 ? -1 : 0;
	/* a new index: INBOX is created with it (and so is the root, when it
	   is new, which lets the index trust the empty cur/ from the start) */
	struct stat st;
	if (stat(mu->root, &st) < 0)
		return errno == ENOENT ? 0 : mail_user_set_syscall_error(user, "stat", mu->root, errno);
	return maildir_discover_folders(user);
}

static void maildir_user_deinit(struct mail_user *user)
{
	user->driver_context = NULL;
}

const struct mail_storage_vfuncs maildir_storage_vfuncs = {
	.name = "maildir",
	.user_init = maildir_user_init,
	.user_deinit = maildir_user_deinit,
	.mailbox_dir_name = maildir_dir_name,
	.mailbox_dir_exists = maildir_dir_exists,
	.mailbox_dir_create = maildir_dir_create,
	.mailbox_dir_delete = maildir_dir_delete,
	.mailbox_dir_rename = maildir_dir_rename,
	.disk_stamp = maildir_disk_stamp,
	.sync_disk = maildir_sync_disk,
	.mirror_flags = maildir_mirror_flags,
	.notify_paths = maildir_notify_paths,
	.message_open = maildir_message_open,
	.save_alloc = maildir_save_alloc,
	.save_begin = maildir_save_begin,
	.save_write = maildir_save_write,
	.save_prepare = maildir_save_prepare,
	.save_commit_file = maildir_save_commit_file,
	.save_revert_file = maildir_save_revert_file,
	.save_free = maildir_save_free,
	.copy_file = maildir_copy_file,
	.expunge_file = maildir_expunge_file,
	.sync_dir = maildir_sync_dir,
};
