/* Unit tests of ipc-channel.c: messages with and without a passed fd,
 * queueing when the socket is full, and peer close. */
#include "ipc-channel.h"
#include "ioloop.h"
#include "test-common.h"

#include <fcntl.h>
#include <unistd.h>

struct test_rx {
	unsigned int count, closed;
	size_t total;
	int last_fd;
	char first[64];
};

static void test_rx_cb(struct ipc_channel *chan, const void *data, size_t size, int fd,
		       void *context)
{
	struct test_rx *rx = context;
	if (data == NULL) {
		rx->closed++;
		ioloop_stop();
		return;
	}
	if (rx->count == 0)
		snprintf(rx->first, sizeof(rx->first), "%.*s", (int)size, (const char *)data);
	rx->count++;
	rx->total += size;
	if (rx->last_fd >= 0)
		close(rx->last_fd);
	rx->last_fd = fd;
}

static void test_stop(void *context)
{
	struct timeout **to = context;
	*to = NULL; /* a once-timeout frees itself */
	ioloop_stop();
}

/* Runs the loop until a callback stops it or msecs pass. */
static void test_run_for(unsigned int msecs)
{
	struct timeout *to = NULL;
	to = timeout_add_once(msecs, test_stop, &to);
	ioloop_run();
	timeout_remove(&to);
}

static void test_ipc_channel_fd(void)
{
	int fds[2], pipefd[2];
	struct test_rx rx = { .last_fd = -1 }, tx_rx = { .last_fd = -1 };

	test_begin("ipc_channel message with fd");
	test_assert(ipc_channel_pair(fds) == 0);
	struct ipc_channel *a = ipc_channel_create(fds[0], test_rx_cb, &tx_rx);
	struct ipc_channel *b = ipc_channel_create(fds[1], test_rx_cb, &rx);
	test_assert(pipe(pipefd) == 0);
	test_assert(ipc_channel_send(a, "HANDOFF\tx", 9, pipefd[1]) == 0);
	close(pipefd[1]);
	test_assert(ipc_channel_send(a, "PLAIN", 5, -1) == 0);
	test_run_for(200);
	test_assert(rx.count == 2);
	test_assert_strcmp(rx.first, "HANDOFF\tx");
	test_assert(rx.last_fd == -1); /* the second message had none */
	/* the passed fd was the pipe's write end: it works across */
	ipc_channel_destroy(&a);
	test_run_for(1000);
	test_assert(rx.closed == 1);
	ipc_channel_destroy(&b);
	close(pipefd[0]);
	test_end();
}

static void test_ipc_channel_queue(void)
{
	int fds[2];
	struct test_rx rx = { .last_fd = -1 }, tx_rx = { .last_fd = -1 };
	static char big[60000];

	test_begin("ipc_channel queues when full");
	test_assert(ipc_channel_pair(fds) == 0);
	struct ipc_channel *a = ipc_channel_create(fds[0], test_rx_cb, &tx_rx);
	/* the receiver isn't watched yet: everything past the socket buffer
	   queues */
	for (unsigned int i = 0; i < 100; i++)
		test_assert(ipc_channel_send(a, big, sizeof(big), i % 2 == 0 ? 0 : -1) == 0);
	test_assert(ipc_channel_queued(a) > 0);
	test_assert(ipc_channel_send(a, big, IPC_CHANNEL_MAX_MESSAGE + 1, -1) == -1);
	struct ipc_channel *b = ipc_channel_create(fds[1], test_rx_cb, &rx);
	for (unsigned int i = 0; i < 200 && rx.count < 100; i++)
		test_run_for(10);
	test_assert(rx.count == 100);
	test_assert(rx.total == 100 * sizeof(big));
	test_assert(ipc_channel_queued(a) == 0);
	if (rx.last_fd >= 0)
		close(rx.last_fd);
	ipc_channel_destroy(&a);
	ipc_channel_destroy(&b);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_ipc_channel_fd,
		test_ipc_channel_queue,
		NULL
	};
	ioloop_init();
	int ret = test_run(tests);
	ioloop_deinit();
	return ret;
}
