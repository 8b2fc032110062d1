/* Unit tests for the event loop: timers, fd watches, signals. */
#include "test-common.h"
#include "ioloop.h"

#include <signal.h>
#include <unistd.h>

static char order[16];
static unsigned int order_len;

static void mark(void *context)
{
	order[order_len++] = *(const char *)context;
}

static void test_timeouts_order(void)
{
	test_begin("timeouts run in deadline order");
	ioloop_init();
	order_len = 0;
	static const char a = 'a', b = 'b', c = 'c';
	timeout_add_once(30, mark, (void *)&c);
	timeout_add_once(10, mark, (void *)&a);
	timeout_add_once(20, mark, (void *)&b);
	struct timeout *removed = timeout_add_once(15, mark, (void *)&c);
	timeout_remove(&removed);
	test_assert(removed == NULL);
	uint64_t start = ioloop_now_ms();
	while (order_len < 3 && ioloop_now_ms() - start < 2000)
		ioloop_run_once(-1);
	test_assert(order_len == 3 && memcmp(order, "abc", 3) == 0);
	test_assert(ioloop_now_ms() - start >= 30);
	ioloop_deinit();
	test_end();
}

static unsigned int repeat_count;
static void repeat_cb(void *context ATTR_UNUSED)
{
	repeat_count++;
}

static void test_repeating_timeout(void)
{
	test_begin("repeating timeout");
	ioloop_init();
	repeat_count = 0;
	struct timeout *to = timeout_add(5, repeat_cb, NULL);
	uint64_t start = ioloop_now_ms();
	while (repeat_count < 3 && ioloop_now_ms() - start < 2000)
		ioloop_run_once(-1);
	test_assert(repeat_count == 3);
	timeout_remove(&to);
	ioloop_deinit();
	test_end();
}

static int io_fired;
static void io_cb(void *context)
{
	int fd = *(int *)context;
	char buf[16];
	if (read(fd, buf, sizeof(buf)) > 0)
		io_fired++;
}

static void test_io_pipe(void)
{
	test_begin("io on a pipe, condition changes");
	ioloop_init();
	int fds[2];
	test_assert(pipe(fds) == 0);
	io_fired = 0;
	struct io *io = io_add(fds[0], IO_READ, io_cb, &fds[0]);
	test_assert(write(fds[1], "x", 1) == 1);
	ioloop_run_once(1000);
	test_assert(io_fired == 1);
	/* no condition: not woken even though data is there */
	io_set_condition(io, 0);
	test_assert(write(fds[1], "y", 1) == 1);
	ioloop_run_once(50);
	test_assert(io_fired == 1);
	io_set_condition(io, IO_READ);
	ioloop_run_once(1000);
	test_assert(io_fired == 2);
	io_remove(&io);
	test_assert(io == NULL);
	close(fds[0]);
	close(fds[1]);
	ioloop_deinit();
	test_end();
}

/* A timeout that re-adds itself with 0 ms, like work done in slices:
   I/O that became ready gets its turn between slices. */
static unsigned int slices, slices_max;
static void slice_cb(void *context ATTR_UNUSED)
{
	if (++slices < slices_max)
		(void)timeout_add_once(0, slice_cb, NULL);
}

static unsigned int late_fired;
static void late_cb(void *context ATTR_UNUSED)
{
	late_fired++;
}

static void busy_cb(void *context ATTR_UNUSED)
{
	/* a long callback must not make a timeout it adds fire early */
	usleep(30 * 1000);
	(void)timeout_add_once(20, late_cb, NULL);
}

static void test_zero_timeouts_yield(void)
{
	test_begin("0 ms timeouts added by timeouts wait for the next pass");
	ioloop_init();
	int fds[2];
	test_assert(pipe(fds) == 0);
	io_fired = 0;
	slices = 0;
	slices_max = 3;
	struct io *io = io_add(fds[0], IO_READ, io_cb, &fds[0]);
	(void)timeout_add_once(0, slice_cb, NULL);
	ioloop_run_once(1000);
	test_assert(slices == 1);
	test_assert(write(fds[1], "x", 1) == 1);
	ioloop_run_once(1000);
	test_assert(io_fired == 1);
	for (unsigned int i = 0; i < 10 && slices < slices_max; i++)
		ioloop_run_once(1000);
	test_assert(slices == slices_max);
	io_remove(&io);
	close(fds[0]);
	close(fds[1]);

	late_fired = 0;
	(void)timeout_add_once(0, busy_cb, NULL);
	ioloop_run_once(1000);
	ioloop_run_once(5);
	test_assert(late_fired == 0);
	for (unsigned int i = 0; i < 10 && late_fired == 0; i++)
		ioloop_run_once(1000);
	test_assert(late_fired == 1);
	ioloop_deinit();
	test_end();
}

static int signal_seen;
static void sig_cb(int signo, void *context ATTR_UNUSED)
{
	signal_seen = signo;
}

static void test_signal(void)
{
	test_begin("signals arrive as callbacks");
	ioloop_init();
	signal_seen = 0;
	signal_add(SIGUSR2, sig_cb, NULL);
	test_assert(kill(getpid(), SIGUSR2) == 0);
	for (unsigned int i = 0; i < 10 && signal_seen == 0; i++)
		ioloop_run_once(100);
	test_assert(signal_seen == SIGUSR2);
	signal_remove(SIGUSR2);
	ioloop_deinit();
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_timeouts_order, test_repeating_timeout, test_io_pipe, test_zero_timeouts_yield,
		test_signal, NULL,
	};
	return test_run(tests);
}
