/* Change notification for IDLE and NOTIFY (RFC 5465). One inotify
 * instance per process (the kernel allows only 128 per uid by default, and
 * all virtual users share one uid) watches each user's notification file
 * (bumped after every commit that changes a mailbox, the mailbox list or
 * the subscriptions, by any process) and the watched mailboxes'
 * directories (deliveries and changes by other programs). The process's
 * event loop reads it and wakes the views and user watchers concerned
 * through one eventfd each. Nothing polls: an idle session sleeps until
 * its fd becomes readable. */
#include "mail-storage-private.h"
#include "hash.h"
#include "ioloop.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#define NOTIFY_FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE)
#define NOTIFY_NEW_MASK (IN_CREATE | IN_MOVED_TO)
#define NOTIFY_CUR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

struct notify_watch {
	int wd;
	bool dir; /* a mailbox directory, not a notification file */
	ARRAY(struct mailbox *) views;
	ARRAY(struct mail_user *) users; /* mail_user_notify_fd() watchers */
};

/* A mailbox directory a user watcher follows (deliveries by other
   programs into a mailbox that no view has open). */
struct mail_user_dir_watch {
	int wd;
	char *name;
	bool dirty;
};

struct mail_user_watch {
	int fd; /* eventfd */
	int file_wd;
	bool signaled;
	ARRAY(struct mail_user_dir_watch) dirs;
};

struct notify_hub {
	int fd;
	struct io *io;
	struct hash_table *watches; /* wd -> struct notify_watch */
	unsigned int view_count;
};

static struct notify_hub *hub;

static void notify_view_wake(struct mailbox *box, bool disk)
{
	if (disk)
		box->disk_dirty = true;
	if (box->notify_signaled || box->notify_fd == -1)
		return;
	uint64_t one = 1;
	if (write(box->notify_fd, &one, sizeof(one)) == sizeof(one))
		box->notify_signaled = true;
}

static void notify_user_wake(struct mail_user *user, int dir_wd)
{
	struct mail_user_watch *uw = user->watch;
	for (unsigned int i = 0; i < uw->dirs.count; i++) {
		if (dir_wd == -2 || uw->dirs.v[i].wd == dir_wd)
			uw->dirs.v[i].dirty = true;
	}
	if (uw->signaled)
		return;
	uint64_t one = 1;
	if (write(uw->fd, &one, sizeof(one)) == sizeof(one))
		uw->signaled = true;
}

static void notify_wake_all(void)
{
	struct hash_iter iter;
	const void *key;
	void *value;
	hash_table_iter_init(hub->watches, &iter);
	while (hash_table_iter_next(&iter, &key, &value)) {
		struct notify_watch *w = value;
		for (unsigned int i = 0; i < w->views.count; i++)
			notify_view_wake(w->views.v[i], true);
		/* events were lost: every watched directory may have changed */
		for (unsigned int i = 0; i < w->users.count; i++)
			notify_user_wake(w->users.v[i], -2);
	}
}

static void notify_watch_free(struct notify_watch *w)
{
	array_free(&w->views);
	array_free(&w->users);
	free(w);
}

static void notify_hub_event(const struct inotify_event *ev)
{
	if ((ev->mask & IN_Q_OVERFLOW) != 0) {
		notify_wake_all();
		return;
	}
	struct notify_watch *w = hash_table_lookup(hub->watches, (void *)(intptr_t)ev->wd);
	if (w == NULL)
		return;
	for (unsigned int i = 0; i < w->views.count; i++)
		notify_view_wake(w->views.v[i], w->dir);
	for (unsigned int i = 0; i < w->users.count; i++)
		notify_user_wake(w->users.v[i], w->dir ? w->wd : -1);
	if ((ev->mask & IN_IGNORED) != 0) {
		/* the directory is gone (mailbox deleted): the wd may be
		   reused, so forget it; the views' next sync finds out */
		for (unsigned int i = 0; i < w->views.count; i++) {
			struct mailbox *box = w->views.v[i];
			for (unsigned int j = 0; j < N_ELEMENTS(box->notify_wds); j++) {
				if (box->notify_wds[j] == w->wd)
					box->notify_wds[j] = -1;
			}
		}
		for (unsigned int i = 0; i < w->users.count; i++) {
			struct mail_user_watch *uw = w->users.v[i]->watch;
			for (unsigned int j = 0; j < uw->dirs.count; j++) {
				if (uw->dirs.v[j].wd == w->wd)
					uw->dirs.v[j].wd = -1;
			}
		}
		hash_table_remove(hub->watches, (void *)(intptr_t)w->wd);
		notify_watch_free(w);
	}
}

static void notify_hub_read(void *context ATTR_UNUSED)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t ret = read(hub->fd, buf, sizeof(buf));
		if (ret <= 0) {
			if (ret < 0 && errno == EINTR)
				continue;
			return;
		}
		for (ssize_t off = 0; off < ret && hub != NULL; ) {
			const struct inotify_event *ev = (const void *)(buf + off);
			notify_hub_event(ev);
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
}

static int notify_hub_get(struct mail_user *user)
{
	if (hub != NULL)
		return 0;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return mail_user_set_syscall_error(user, "inotify_init1", "", errno);
	hub = i_new(struct notify_hub, 1);
	hub->fd = fd;
	hub->watches = hash_table_create(system_pool, direct_hash, direct_cmp);
	hub->io = io_add(fd, IO_READ, notify_hub_read, NULL);
	return 0;
}

static void notify_hub_unref(void)
{
	if (hub == NULL || hub->view_count > 0)
		return;
	struct hash_iter iter;
	const void *key;
	void *value;
	hash_table_iter_init(hub->watches, &iter);
	while (hash_table_iter_next(&iter, &key, &value))
		notify_watch_free(value);
	hash_table_destroy(&hub->watches);
	io_remove(&hub->io);
	i_close_fd(&hub->fd);
	i_free(hub);
}

/* The watch of path (shared by everyone watching it). NULL on error. */
static struct notify_watch *notify_watch_get(struct mail_user *user, const char *path,
					     uint32_t mask, bool dir)
{
	int wd = inotify_add_watch(hub->fd, path, mask);
	if (wd < 0) {
		mail_user_set_syscall_error(user, "inotify_add_watch", path, errno);
		return NULL;
	}
	struct notify_watch *w = hash_table_lookup(hub->watches, (void *)(intptr_t)wd);
	if (w == NULL) {
		w = i_new(struct notify_watch, 1);
		w->wd = wd;
		w->dir = dir;
		array_init(&w->views, system_pool, 4);
		array_init(&w->users, system_pool, 2);
		hash_table_insert(hub->watches, (void *)(intptr_t)wd, w);
	}
	return w;
}

/* Adds box to the watch of path; returns the wd or -1. */
static int notify_watch_add(struct mailbox *box, const char *path, uint32_t mask, bool dir)
{
	struct notify_watch *w = notify_watch_get(box->user, path, mask, dir);
	if (w == NULL)
		return -1;
	array_push(&w->views, box);
	return w->wd;
}

/* Forgets the watch when nobody uses it any more. */
static void notify_watch_release(struct notify_watch *w)
{
	if (w->views.count > 0 || w->users.count > 0)
		return;
	(void)inotify_rm_watch(hub->fd, w->wd);
	hash_table_remove(hub->watches, (void *)(intptr_t)w->wd);
	notify_watch_free(w);
}

static void notify_watch_remove(struct mailbox *box, int wd)
{
	struct notify_watch *w = hash_table_lookup(hub->watches, (void *)(intptr_t)wd);
	if (w == NULL)
		return;
	for (unsigned int i = 0; i < w->views.count; i++) {
		if (w->views.v[i] == box) {
			array_delete(&w->views, i, 1);
			break;
		}
	}
	notify_watch_release(w);
}

static void notify_watch_remove_user(struct mail_user *user, int wd)
{
	struct notify_watch *w = hash_table_lookup(hub->watches, (void *)(intptr_t)wd);
	if (w == NULL)
		return;
	for (unsigned int i = 0; i < w->users.count; i++) {
		if (w->users.v[i] == user) {
			array_delete(&w->users, i, 1);
			break;
		}
	}
	notify_watch_release(w);
}

void mailbox_notify_deinit(struct mailbox *box)
{
	if (box->notify_fd == -1)
		return;
	for (unsigned int i = 0; i < N_ELEMENTS(box->notify_wds); i++) {
		if (box->notify_wds[i] != -1)
			notify_watch_remove(box, box->notify_wds[i]);
	}
	i_close_fd(&box->notify_fd);
	hub->view_count--;
	notify_hub_unref();
}

static int notify_watch_paths(struct mailbox *box)
{
	struct mail_user *user = box->user;
	/* the file must exist to be watched */
	int wfd = open(user->notify_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (wfd >= 0)
		i_close_fd(&wfd);
	const char *new_dir, *cur_dir;
	user->v->notify_paths(user, box->dir, &new_dir, &cur_dir);
	if ((box->notify_wds[0] = notify_watch_add(box, user->notify_path,
						   NOTIFY_FILE_MASK, false)) < 0 ||
	    (box->notify_wds[1] = notify_watch_add(box, new_dir, NOTIFY_NEW_MASK, true)) < 0 ||
	    (box->notify_wds[2] = notify_watch_add(box, cur_dir, NOTIFY_CUR_MASK, true)) < 0)
		return -1;
	return 0;
}

int mailbox_notify_fd(struct mailbox *box)
{
	mail_user_clear_error(box->user);
	if (box->notify_fd != -1)
		return box->notify_fd;
	if (notify_hub_get(box->user) < 0)
		return -1;
	box->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (box->notify_fd < 0) {
		int err = errno;
		notify_hub_unref();
		return mail_user_set_syscall_error(box->user, "eventfd", "", err);
	}
	hub->view_count++;
	for (unsigned int i = 0; i < N_ELEMENTS(box->notify_wds); i++)
		box->notify_wds[i] = -1;
	if (notify_watch_paths(box) < 0) {
		mailbox_notify_deinit(box);
		return -1;
	}
	return box->notify_fd;
}

void mailbox_notify_clear(struct mailbox *box)
{
	if (box->notify_fd == -1)
		return;
	uint64_t count;
	if (read(box->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warning(&box->user->log, "notify_read_failed", "error=%s", strerror(errno));
	box->notify_signaled = false;
}

/* --- a user's watcher (NOTIFY) --- */

void mail_user_notify_unwatch_mailboxes(struct mail_user *user)
{
	struct mail_user_watch *uw = user->watch;
	if (uw == NULL)
		return;
	for (unsigned int i = 0; i < uw->dirs.count; i++) {
		if (uw->dirs.v[i].wd != -1)
			notify_watch_remove_user(user, uw->dirs.v[i].wd);
		i_free(uw->dirs.v[i].name);
	}
	array_clear(&uw->dirs);
}

void mail_user_notify_deinit(struct mail_user *user)
{
	struct mail_user_watch *uw = user->watch;
	if (uw == NULL)
		return;
	mail_user_notify_unwatch_mailboxes(user);
	array_free(&uw->dirs);
	if (uw->file_wd != -1)
		notify_watch_remove_user(user, uw->file_wd);
	i_close_fd(&uw->fd);
	i_free(user->watch);
	hub->view_count--;
	notify_hub_unref();
}

int mail_user_notify_fd(struct mail_user *user)
{
	mail_user_clear_error(user);
	if (user->watch != NULL)
		return user->watch->fd;
	if (notify_hub_get(user) < 0)
		return -1;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		notify_hub_unref();
		return mail_user_set_syscall_error(user, "eventfd", "", err);
	}
	struct mail_user_watch *uw = user->watch = i_new(struct mail_user_watch, 1);
	uw->fd = fd;
	uw->file_wd = -1;
	array_init(&uw->dirs, system_pool, 4);
	hub->view_count++;
	/* the file must exist to be watched */
	int wfd = open(user->notify_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (wfd >= 0)
		i_close_fd(&wfd);
	struct notify_watch *w = notify_watch_get(user, user->notify_path, NOTIFY_FILE_MASK, false);
	if (w == NULL) {
		mail_user_notify_deinit(user);
		return -1;
	}
	array_push(&w->users, user);
	uw->file_wd = w->wd;
	return fd;
}

int mail_user_notify_watch_mailbox(struct mail_user *user, const char *name)
{
	mail_user_clear_error(user);
	if (user->watch == NULL && mail_user_notify_fd(user) < 0)
		return -1;
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, mailbox_name_canonical(name), t_pool(), &mb);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret == 0 || !mb.selectable || mb.dir == NULL)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	const char *new_dir, *cur_dir;
	user->v->notify_paths(user, mb.dir, &new_dir, &cur_dir);
	struct notify_watch *w = notify_watch_get(user, new_dir, NOTIFY_NEW_MASK, true);
	if (w == NULL)
		return -1;
	struct mail_user_watch *uw = user->watch;
	for (unsigned int i = 0; i < uw->dirs.count; i++) {
		if (uw->dirs.v[i].wd == w->wd)
			return 0;
	}
	array_push(&w->users, user);
	struct mail_user_dir_watch *dw = array_append_space(&uw->dirs);
	dw->wd = w->wd;
	dw->name = i_strdup(mb.name);
	return 0;
}

void mail_user_notify_clear(struct mail_user *user)
{
	struct mail_user_watch *uw = user->watch;
	if (uw == NULL)
		return;
	uint64_t count;
	if (read(uw->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warning(&user->log, "notify_read_failed", "error=%s", strerror(errno));
	uw->signaled = false;
	/* files other programs put into a watched mailbox reach the index
	   (and so every watcher, through the notification file) here */
	for (unsigned int i = 0; i < uw->dirs.count; i++) {
		if (!uw->dirs.v[i].dirty)
			continue;
		uw->dirs.v[i].dirty = false;
		struct index_mailbox mb;
		if (index_mailbox_lookup(user->db, uw->dirs.v[i].name, t_pool(), &mb) > 0 &&
		    mb.selectable &&
		    mailbox_sync_disk(user, &mb, MAIL_DISK_SYNC_NEW | MAIL_DISK_SYNC_CUR) < 0) {
			log_warning(&user->log, "notify_sync_failed", "mailbox=%s",
				    log_value(uw->dirs.v[i].name));
		}
	}
}
