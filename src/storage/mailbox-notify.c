/* Change notification for IDLE and NOTIFY. One inotify instance per
 * process (the kernel allows only 128 per uid by default, and all virtual
 * users share one uid) watches each user's notification file (bumped after
 * every commit that changes a mailbox, by any process) and the watched
 * mailboxes' directories (deliveries and changes by other programs). The
 * process's event loop reads it and wakes the views concerned through one
 * eventfd each. Nothing polls: an idle session sleeps until its fd
 * becomes readable. */
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
	}
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
		hash_table_remove(hub->watches, (void *)(intptr_t)w->wd);
		array_free(&w->views);
		free(w);
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
	while (hash_table_iter_next(&iter, &key, &value)) {
		struct notify_watch *w = value;
		array_free(&w->views);
		free(w);
	}
	hash_table_destroy(&hub->watches);
	io_remove(&hub->io);
	i_close_fd(&hub->fd);
	i_free(hub);
}

/* Adds box to the watch of path; returns the wd or -1. */
static int notify_watch_add(struct mailbox *box, const char *path, uint32_t mask, bool dir)
{
	int wd = inotify_add_watch(hub->fd, path, mask);
	if (wd < 0) {
		return mail_user_set_syscall_error(box->user, "inotify_add_watch", path, errno);
	}
	struct notify_watch *w = hash_table_lookup(hub->watches, (void *)(intptr_t)wd);
	if (w == NULL) {
		w = i_new(struct notify_watch, 1);
		w->wd = wd;
		w->dir = dir;
		array_init(&w->views, system_pool, 4);
		hash_table_insert(hub->watches, (void *)(intptr_t)wd, w);
	}
	array_push(&w->views, box);
	return wd;
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
	if (w->views.count > 0)
		return;
	(void)inotify_rm_watch(hub->fd, wd);
	hash_table_remove(hub->watches, (void *)(intptr_t)wd);
	array_free(&w->views);
	free(w);
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
