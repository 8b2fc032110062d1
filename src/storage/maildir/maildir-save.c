/* Saving into a Maildir: the content streams through a small buffer into
 * tmp/ (counting the CRLF size on the way), is fsynced, and is renamed
 * into cur/ with its final name "<base>,S=<size>,W=<crlf size>:2,<flags>"
 * (the core then fsyncs cur/), before the core commits the index row. */
#include "maildir-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAILDIR_SAVE_BUFFER_SIZE (64 * 1024)
#define MAILDIR_SAVE_CREATE_TRIES 10

struct maildir_save {
	struct mail_save save;
	int fd;
	const char *tmp_name; /* base name in tmp/ */
	const char *tmp_path; /* where the temporary file is now */
	const char *cur_path; /* after commit_file */
	unsigned char *buf;
	size_t buf_used;
	uint64_t psize, bare_lfs;
	bool last_cr;
};

struct mail_save *maildir_save_alloc(struct mail_user *user)
{
	pool_t pool = pool_create("maildir save", 1024);
	struct maildir_save *ms = p_new(pool, struct maildir_save, 1);
	ms->save.pool = pool;
	ms->save.user = user;
	ms->fd = -1;
	return &ms->save;
}

int maildir_save_begin(struct mail_save *save)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	struct mail_user *user = save->user;
	const char *tmp_dir = maildir_subdir(user, save->dir, "tmp");
	for (unsigned int i = 0; i < MAILDIR_SAVE_CREATE_TRIES; i++) {
		const char *name = maildir_filename_generate(user);
		const char *path = t_strdup_printf("%s/%s", tmp_dir, name);
		ms->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (ms->fd >= 0) {
			ms->tmp_name = p_strdup(save->pool, name);
			ms->tmp_path = p_strdup(save->pool, path);
			ms->buf = p_malloc(save->pool, MAILDIR_SAVE_BUFFER_SIZE);
			return 0;
		}
		if (errno != EEXIST)
			return mail_user_set_syscall_error(user, "open", path, errno);
	}
	return mail_user_set_internal_error(user, "save", "no unique temporary file name");
}

static int maildir_save_flush(struct maildir_save *ms)
{
	size_t off = 0;
	while (off < ms->buf_used) {
		ssize_t ret = write(ms->fd, ms->buf + off, ms->buf_used - off);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return mail_user_set_syscall_error(ms->save.user, "write", ms->tmp_path, errno);
		}
		off += (size_t)ret;
	}
	ms->buf_used = 0;
	return 0;
}

int maildir_save_write(struct mail_save *save, const void *data, size_t size)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	const unsigned char *p = data;
	if (size == 0)
		return 0;
	ms->bare_lfs += maildir_count_bare_lf(p, size, ms->last_cr);
	ms->last_cr = p[size - 1] == '\r';
	ms->psize += size;
	while (size > 0) {
		size_t n = I_MIN(size, MAILDIR_SAVE_BUFFER_SIZE - ms->buf_used);
		memcpy(ms->buf + ms->buf_used, p, n);
		ms->buf_used += n;
		p += n;
		size -= n;
		if (ms->buf_used == MAILDIR_SAVE_BUFFER_SIZE && maildir_save_flush(ms) < 0)
			return -1;
	}
	return 0;
}

int maildir_save_prepare(struct mail_save *save)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	struct mail_user *user = save->user;
	if (maildir_save_flush(ms) < 0)
		return -1;
	/* other Maildir tools take the internal date from the mtime */
	struct timespec times[2] = {
		{ .tv_sec = save->msg.internal_date, .tv_nsec = 0 },
		{ .tv_sec = save->msg.internal_date, .tv_nsec = 0 },
	};
	if (futimens(ms->fd, times) < 0)
		return mail_user_set_syscall_error(user, "futimens", ms->tmp_path, errno);
	if (fsync(ms->fd) < 0)
		return mail_user_set_syscall_error(user, "fsync", ms->tmp_path, errno);
	int fd = ms->fd;
	ms->fd = -1;
	if (close(fd) < 0)
		return mail_user_set_syscall_error(user, "close", ms->tmp_path, errno);
	save->msg.psize = ms->psize;
	save->msg.size = ms->psize + ms->bare_lfs;
	return 0;
}

int maildir_save_commit_file(struct mail_save *save, const char *dir)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	struct mail_user *user = save->user;
	/* the mailbox may have been renamed since we began: tmp/ moved along */
	const char *tmp_path = t_strdup_printf("%s/%s", maildir_subdir(user, dir, "tmp"),
					       ms->tmp_name);
	ms->tmp_path = p_strdup(save->pool, tmp_path);
	const char *base = p_strdup_printf(save->pool, "%s,S=%llu,W=%llu", ms->tmp_name,
					   (unsigned long long)save->msg.psize,
					   (unsigned long long)save->msg.size);
	const char *info = maildir_info_set_flags(save->pool, NULL, save->msg.flags);
	const char *cur_path = maildir_message_path(user, dir, base, info);
	if (rename(tmp_path, cur_path) < 0)
		return mail_user_set_syscall_error(user, "rename", tmp_path, errno);
	ms->tmp_path = NULL;
	ms->cur_path = p_strdup(save->pool, cur_path);
	save->msg.filename = base;
	save->msg.fileinfo = info;
	return 0;
}

void maildir_save_revert_file(struct mail_save *save)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	if (ms->cur_path != NULL && unlink(ms->cur_path) < 0 && errno != ENOENT) {
		log_error(&save->user->log, "save_revert_failed", "path=%s error=%s",
			  log_value(ms->cur_path), log_value(strerror(errno)));
	}
	ms->cur_path = NULL;
}

void maildir_save_free(struct mail_save *save)
{
	struct maildir_save *ms = (struct maildir_save *)save;
	i_close_fd(&ms->fd);
	if (ms->tmp_path != NULL && unlink(ms->tmp_path) < 0 && errno != ENOENT) {
		log_warning(&save->user->log, "save_cleanup_failed", "path=%s error=%s",
			    log_value(ms->tmp_path), log_value(strerror(errno)));
	}
	pool_t pool = save->pool;
	pool_destroy(&pool);
}
