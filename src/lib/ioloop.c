/* epoll event loop with a timer heap and signalfd-delivered signals. */
#include "ioloop.h"
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 128

struct io {
	int fd;
	enum io_condition cond;
	/* Registered with epoll. An io with no condition is unregistered:
	   epoll reports hangups even for an empty event mask, which would
	   wake a paused connection forever. */
	bool registered;
	io_callback_t *cb;
	void *context;
	bool removed;
};

struct timeout {
	unsigned int msecs;
	uint64_t next_run;
	unsigned int heap_idx;
	bool once;
	io_callback_t *cb;
	void *context;
};

struct signal_handler {
	signal_callback_t *cb;
	void *context;
};

struct ioloop {
	int epfd;
	bool running;
	/* inside run_timeouts(), which runs the timeouts due at pass_now_ms */
	bool in_timeouts;
	uint64_t pass_now_ms;
	uint64_t now_ms;
	time_t now;
	/* min-heap of timeouts by next_run */
	struct timeout **heap;
	unsigned int heap_count, heap_alloc;
	/* io structs freed at the end of the iteration, so that a callback
	   removing another io does not leave a dangling pointer in the
	   current epoll batch */
	struct io **dead_ios;
	unsigned int dead_count, dead_alloc;
	int signal_fd;
	struct io *signal_io;
	sigset_t signal_mask;
	struct signal_handler signals[_NSIG];
};

static struct ioloop *loop;

static void ioloop_update_time(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	loop->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	loop->now = time(NULL);
}

void ioloop_init(void)
{
	i_assert(loop == NULL);
	loop = i_zalloc(sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		i_fatal("epoll_create1() failed: %s", strerror(errno));
	loop->signal_fd = -1;
	sigemptyset(&loop->signal_mask);
	ioloop_update_time();
}

void ioloop_deinit(void)
{
	if (loop == NULL)
		return;
	io_remove(&loop->signal_io);
	i_close_fd(&loop->signal_fd);
	for (unsigned int i = 0; i < loop->dead_count; i++)
		free(loop->dead_ios[i]);
	free(loop->dead_ios);
	free(loop->heap);
	i_close_fd(&loop->epfd);
	free(loop);
	loop = NULL;
}

uint64_t ioloop_now_ms(void)
{
	return loop->now_ms;
}

time_t ioloop_time(void)
{
	return loop->now;
}

/* --- io --- */

static uint32_t io_epoll_events(enum io_condition cond)
{
	uint32_t ev = 0;
	if ((cond & IO_READ) != 0)
		ev |= EPOLLIN | EPOLLRDHUP;
	if ((cond & IO_WRITE) != 0)
		ev |= EPOLLOUT;
	return ev;
}

struct io *io_add(int fd, enum io_condition cond, io_callback_t *cb, void *context)
{
	struct io *io = i_zalloc(sizeof(*io));
	io->fd = fd;
	io->cond = cond;
	io->cb = cb;
	io->context = context;
	io->cond = 0;
	io_set_condition(io, cond);
	return io;
}

void io_set_condition(struct io *io, enum io_condition cond)
{
	if (io->cond == cond && io->registered == (cond != 0))
		return;
	io->cond = cond;
	if (cond == 0) {
		if (io->registered && epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL) < 0)
			i_panic("epoll_ctl(DEL, %d) failed: %s", io->fd, strerror(errno));
		io->registered = false;
		return;
	}
	struct epoll_event ev = { .events = io_epoll_events(cond), .data.ptr = io };
	int op = io->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) < 0)
		i_panic("epoll_ctl(%s, %d) failed: %s", io->registered ? "MOD" : "ADD",
			io->fd, strerror(errno));
	io->registered = true;
}

enum io_condition io_get_condition(const struct io *io)
{
	return io->cond;
}

void io_remove(struct io **_io)
{
	struct io *io = *_io;
	if (io == NULL)
		return;
	*_io = NULL;
	/* the fd may already be closed, in which case epoll dropped it */
	if (io->registered)
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->removed = true;
	if (loop->dead_count == loop->dead_alloc) {
		loop->dead_alloc = loop->dead_alloc == 0 ? 16 : loop->dead_alloc * 2;
		loop->dead_ios = i_realloc(loop->dead_ios, sizeof(*loop->dead_ios) * loop->dead_alloc);
	}
	loop->dead_ios[loop->dead_count++] = io;
}

/* --- timeouts (binary min-heap) --- */

static void heap_swap(unsigned int a, unsigned int b)
{
	struct timeout *t = loop->heap[a];
	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->heap_idx = a;
	loop->heap[b]->heap_idx = b;
}

static void heap_up(unsigned int i)
{
	while (i > 0) {
		unsigned int parent = (i - 1) / 2;
		if (loop->heap[parent]->next_run <= loop->heap[i]->next_run)
			break;
		heap_swap(i, parent);
		i = parent;
	}
}

static void heap_down(unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;
		if (l < loop->heap_count && loop->heap[l]->next_run < loop->heap[m]->next_run)
			m = l;
		if (r < loop->heap_count && loop->heap[r]->next_run < loop->heap[m]->next_run)
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
}

static void heap_insert(struct timeout *to)
{
	if (loop->heap_count == loop->heap_alloc) {
		loop->heap_alloc = loop->heap_alloc == 0 ? 64 : loop->heap_alloc * 2;
		loop->heap = i_realloc(loop->heap, sizeof(*loop->heap) * loop->heap_alloc);
	}
	to->heap_idx = loop->heap_count;
	loop->heap[loop->heap_count++] = to;
	heap_up(to->heap_idx);
}

static void heap_delete(struct timeout *to)
{
	unsigned int i = to->heap_idx;
	i_assert(i < loop->heap_count && loop->heap[i] == to);
	loop->heap_count--;
	if (i != loop->heap_count) {
		loop->heap[i] = loop->heap[loop->heap_count];
		loop->heap[i]->heap_idx = i;
		heap_down(i);
		heap_up(i);
	}
}

static struct timeout *timeout_add_full(unsigned int msecs, bool once, io_callback_t *cb, void *context)
{
	struct timeout *to = i_zalloc(sizeof(*to));
	to->msecs = msecs;
	to->once = once;
	to->cb = cb;
	to->context = context;
	/* from the real time: after a callback that ran long, the loop's
	   cached time would make the timeout fire early */
	ioloop_update_time();
	to->next_run = loop->now_ms + msecs;
	/* one added by a timeout callback waits for the next iteration, even
	   with 0 ms, so that I/O gets its turn in between */
	if (loop->in_timeouts && to->next_run <= loop->pass_now_ms)
		to->next_run = loop->pass_now_ms + 1;
	heap_insert(to);
	return to;
}

struct timeout *timeout_add(unsigned int msecs, io_callback_t *cb, void *context)
{
	return timeout_add_full(msecs, false, cb, context);
}

struct timeout *timeout_add_once(unsigned int msecs, io_callback_t *cb, void *context)
{
	return timeout_add_full(msecs, true, cb, context);
}

void timeout_reset(struct timeout *to)
{
	ioloop_update_time();
	to->next_run = loop->now_ms + to->msecs;
	heap_down(to->heap_idx);
	heap_up(to->heap_idx);
}

void timeout_remove(struct timeout **_to)
{
	struct timeout *to = *_to;
	if (to == NULL)
		return;
	*_to = NULL;
	heap_delete(to);
	free(to);
}

static void run_timeouts(void)
{
	/* Only run timeouts due at the start of this pass (timeout_add_full()
	   puts the ones callbacks add after it). */
	uint64_t now = loop->now_ms;
	loop->in_timeouts = true;
	loop->pass_now_ms = now;
	while (loop->heap_count > 0 && loop->heap[0]->next_run <= now) {
		struct timeout *to = loop->heap[0];
		if (to->once) {
			heap_delete(to);
			io_callback_t *cb = to->cb;
			void *ctx = to->context;
			free(to);
			cb(ctx);
		} else {
			to->next_run = now + (to->msecs == 0 ? 1 : to->msecs);
			heap_down(0);
			to->cb(to->context);
		}
	}
	loop->in_timeouts = false;
}

static int next_timeout_msecs(void)
{
	if (loop->heap_count == 0)
		return -1;
	uint64_t next = loop->heap[0]->next_run;
	if (next <= loop->now_ms)
		return 0;
	uint64_t diff = next - loop->now_ms;
	return diff > INT32_MAX ? INT32_MAX : (int)diff;
}

/* --- signals --- */

static void signal_fd_input(void *context ATTR_UNUSED)
{
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t ret = read(loop->signal_fd, &si, sizeof(si));
		if (ret != (ssize_t)sizeof(si))
			break;
		struct signal_handler *h = &loop->signals[si.ssi_signo];
		if (h->cb != NULL)
			h->cb((int)si.ssi_signo, h->context);
	}
}

static void signal_update_fd(void)
{
	if (sigprocmask(SIG_BLOCK, &loop->signal_mask, NULL) < 0)
		i_fatal("sigprocmask() failed: %s", strerror(errno));
	int fd = signalfd(loop->signal_fd, &loop->signal_mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		i_fatal("signalfd() failed: %s", strerror(errno));
	if (loop->signal_fd == -1) {
		loop->signal_fd = fd;
		loop->signal_io = io_add(fd, IO_READ, signal_fd_input, NULL);
	}
}

void signal_add(int signo, signal_callback_t *cb, void *context)
{
	i_assert(signo > 0 && signo < _NSIG);
	loop->signals[signo].cb = cb;
	loop->signals[signo].context = context;
	sigaddset(&loop->signal_mask, signo);
	signal_update_fd();
}

void signal_remove(int signo)
{
	loop->signals[signo].cb = NULL;
	sigdelset(&loop->signal_mask, signo);
	sigset_t unblock;
	sigemptyset(&unblock);
	sigaddset(&unblock, signo);
	(void)sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	signal_update_fd();
}

void ioloop_signals_reset(void)
{
	sigset_t all;
	sigfillset(&all);
	for (int i = 1; i < _NSIG; i++) {
		if (i != SIGKILL && i != SIGSTOP)
			(void)signal(i, SIG_DFL);
	}
	(void)sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/* --- running --- */

static void free_dead_ios(void)
{
	for (unsigned int i = 0; i < loop->dead_count; i++)
		free(loop->dead_ios[i]);
	loop->dead_count = 0;
}

void ioloop_run_once(int timeout_msecs)
{
	struct epoll_event events[MAX_EVENTS];
	int wait = next_timeout_msecs();
	if (timeout_msecs >= 0 && (wait < 0 || timeout_msecs < wait))
		wait = timeout_msecs;
	int n = epoll_wait(loop->epfd, events, MAX_EVENTS, wait);
	if (n < 0 && errno != EINTR)
		i_fatal("epoll_wait() failed: %s", strerror(errno));
	ioloop_update_time();
	for (int i = 0; i < n; i++) {
		struct io *io = events[i].data.ptr;
		if (io->removed)
			continue;
		io->cb(io->context);
	}
	run_timeouts();
	free_dead_ios();
	t_pool_clear();
}

void ioloop_run(void)
{
	loop->running = true;
	while (loop->running)
		ioloop_run_once(-1);
}

void ioloop_stop(void)
{
	loop->running = false;
}
