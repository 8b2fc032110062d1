/* SOCK_SEQPACKET message channels with fd passing (ipc-channel.h). */
#include "ipc-channel.h"
#include "array.h"
#include "ioloop.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

struct ipc_message {
	void *data;
	size_t size;
	int fd; /* our own duplicate, or -1 */
};

struct ipc_channel {
	int fd;
	struct io *io;
	ipc_channel_callback_t *cb;
	void *context;
	ARRAY(struct ipc_message) queue;
	unsigned int queue_head;
	unsigned char *buf;
	bool failed;
	bool *destroyed; /* set while in the callback */
};

int ipc_channel_pair(int fds_r[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds_r);
}

static void ipc_channel_update_io(struct ipc_channel *chan);

/* Returns 1 sent, 0 would block, -1 failed. */
static int ipc_channel_send_now(struct ipc_channel *chan, const void *data, size_t size,
				int fd)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = size };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t ret = sendmsg(chan->fd, &msg, MSG_NOSIGNAL);
		if (ret >= 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return 0;
		return -1;
	}
}

static void ipc_channel_fail(struct ipc_channel *chan)
{
	chan->failed = true;
	io_remove(&chan->io);
	chan->cb(chan, NULL, 0, -1, chan->context);
}

static void ipc_channel_flush(struct ipc_channel *chan)
{
	while (chan->queue_head < chan->queue.count) {
		struct ipc_message *m = &chan->queue.v[chan->queue_head];
		int ret = ipc_channel_send_now(chan, m->data, m->size, m->fd);
		if (ret == 0)
			break;
		free(m->data);
		if (m->fd >= 0)
			close(m->fd);
		chan->queue_head++;
		if (ret < 0) {
			ipc_channel_fail(chan);
			return;
		}
	}
	if (chan->queue_head == chan->queue.count) {
		chan->queue.count = 0;
		chan->queue_head = 0;
	}
}

static int ipc_channel_recv(struct ipc_channel *chan, size_t *size_r, int *fd_r)
{
	struct iovec iov = { .iov_base = chan->buf, .iov_len = IPC_CHANNEL_MAX_MESSAGE };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	ssize_t ret;

	*fd_r = -1;
	do {
		ret = recvmsg(chan->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(fd_r, CMSG_DATA(c), sizeof(int));
			/* a peer can only pass one: close any others */
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 1; i < n; i++) {
				int extra;
				memcpy(&extra, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(extra);
			}
		}
	}
	if (ret == 0 && *fd_r < 0)
		return -1; /* peer closed */
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		if (*fd_r >= 0)
			close(*fd_r);
		return -1;
	}
	*size_r = (size_t)ret;
	return 1;
}

static void ipc_channel_io(void *context)
{
	struct ipc_channel *chan = context;
	bool destroyed = false;

	chan->destroyed = &destroyed;
	if (chan->queue_head < chan->queue.count) {
		ipc_channel_flush(chan);
		if (destroyed || chan->failed) {
			if (!destroyed)
				chan->destroyed = NULL;
			return;
		}
	}
	/* a bounded batch, so one busy peer can't starve the others */
	for (unsigned int i = 0; i < 64; i++) {
		size_t size;
		int fd;
		int ret = ipc_channel_recv(chan, &size, &fd);
		if (ret == 0)
			break;
		if (ret < 0) {
			ipc_channel_fail(chan);
			if (!destroyed)
				chan->destroyed = NULL;
			return;
		}
		chan->cb(chan, chan->buf, size, fd, chan->context);
		if (destroyed)
			return;
		if (chan->failed) {
			chan->destroyed = NULL;
			return;
		}
	}
	chan->destroyed = NULL;
	ipc_channel_update_io(chan);
}

static void ipc_channel_update_io(struct ipc_channel *chan)
{
	if (chan->failed)
		return;
	io_set_condition(chan->io, chan->queue_head < chan->queue.count ?
			 IO_READ | IO_WRITE : IO_READ);
}

struct ipc_channel *ipc_channel_create(int fd, ipc_channel_callback_t *cb, void *context)
{
	struct ipc_channel *chan = i_zalloc(sizeof(*chan));

	chan->fd = fd;
	chan->cb = cb;
	chan->context = context;
	chan->buf = i_malloc(IPC_CHANNEL_MAX_MESSAGE);
	array_init(&chan->queue, system_pool, 4);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	chan->io = io_add(fd, IO_READ, ipc_channel_io, chan);
	return chan;
}

void ipc_channel_destroy(struct ipc_channel **_chan)
{
	struct ipc_channel *chan = *_chan;

	if (chan == NULL)
		return;
	*_chan = NULL;
	if (chan->destroyed != NULL)
		*chan->destroyed = true;
	io_remove(&chan->io);
	for (unsigned int i = chan->queue_head; i < chan->queue.count; i++) {
		free(chan->queue.v[i].data);
		if (chan->queue.v[i].fd >= 0)
			close(chan->queue.v[i].fd);
	}
	array_free(&chan->queue);
	close(chan->fd);
	free(chan->buf);
	free(chan);
}

int ipc_channel_send(struct ipc_channel *chan, const void *data, size_t size, int fd)
{
	if (chan->failed || size > IPC_CHANNEL_MAX_MESSAGE || size == 0)
		return -1;
	if (chan->queue_head == chan->queue.count) {
		int ret = ipc_channel_send_now(chan, data, size, fd);
		if (ret > 0)
			return 0;
		if (ret < 0)
			return -1;
	}
	if (chan->queue.count - chan->queue_head >= IPC_CHANNEL_MAX_QUEUED)
		return -1;
	struct ipc_message m = { .data = i_malloc(size), .size = size, .fd = -1 };
	memcpy(m.data, data, size);
	if (fd >= 0 && (m.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(m.data);
		return -1;
	}
	array_push(&chan->queue, m);
	ipc_channel_update_io(chan);
	return 0;
}

unsigned int ipc_channel_queued(const struct ipc_channel *chan)
{
	return chan->queue.count - chan->queue_head;
}
