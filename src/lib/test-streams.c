/* Unit tests for transports, istream and ostream. */
#include "test-common.h"
#include "istream.h"
#include "ostream.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_istream_lines_byte_at_a_time(void)
{
	test_begin("istream lines byte at a time");
	static const char data[] = "a1 NOOP\r\nline two\nlast\r\n";
	struct transport *t = transport_create_memory(data, sizeof(data) - 1, 1);
	struct istream *is = i_stream_create(t, 64);
	const char *expected[] = { "a1 NOOP", "line two", "last" };
	unsigned int n = 0;
	char *line;
	ssize_t ret;
	while ((ret = i_stream_read(is)) > 0) {
		while ((line = i_stream_next_line(is)) != NULL) {
			test_assert(n < N_ELEMENTS(expected));
			if (n < N_ELEMENTS(expected))
				test_assert_strcmp(line, expected[n]);
			n++;
		}
	}
	test_assert(ret == -1 && i_stream_is_eof(is) && i_stream_get_error(is) == 0);
	test_assert(n == 3);
	test_assert(i_stream_get_offset(is) == sizeof(data) - 1);
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

static void test_istream_limit(void)
{
	test_begin("istream buffer limit");
	char data[1000];
	memset(data, 'x', sizeof(data));
	struct transport *t = transport_create_memory(data, sizeof(data), 0);
	struct istream *is = i_stream_create(t, 100);
	size_t total = 0;
	ssize_t ret;
	while ((ret = i_stream_read(is)) > 0)
		total += (size_t)ret;
	test_assert(ret == -2 && total == 100);
	test_assert(i_stream_next_line(is) == NULL);
	i_stream_skip(is, 60);
	test_assert(i_stream_read(is) == 60);
	test_assert(i_stream_get_data_size(is) == 100);
	i_stream_clear(is);
	test_assert(i_stream_get_data_size(is) == 0);
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

static void test_istream_visible(void)
{
	test_begin("memory transport visibility");
	static const char data[] = "abc\r\n";
	struct transport *t = transport_create_memory(data, 5, 0);
	struct istream *is = i_stream_create(t, 64);
	transport_memory_set_visible(t, 2);
	test_assert(i_stream_read(is) == 2);
	test_assert(i_stream_read(is) == 0);
	test_assert(i_stream_next_line(is) == NULL);
	transport_memory_set_visible(t, 5);
	test_assert(i_stream_read(is) == 3);
	test_assert_strcmp(i_stream_next_line(is), "abc");
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

static void test_ostream_backpressure(void)
{
	test_begin("ostream back-pressure over a socketpair");
	int fds[2];
	test_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
	struct transport *t = transport_create_fd(fds[0]);
	struct ostream *os = o_stream_create(t, 4096);
	char chunk[1024];
	memset(chunk, 'y', sizeof(chunk));
	/* the peer never reads: the kernel buffer fills, then ours */
	unsigned int sends = 0;
	while (!o_stream_is_full(os) && sends < 100000) {
		test_assert(o_stream_send(os, chunk, sizeof(chunk)) == 0);
		sends++;
	}
	test_assert(o_stream_is_full(os));
	test_assert(o_stream_flush(os) == 0);
	/* drain the peer: everything gets through */
	char buf[65536];
	uint64_t received = 0;
	int flushed = 0;
	for (unsigned int i = 0; i < 100000 && flushed != 1; i++) {
		ssize_t r = read(fds[1], buf, sizeof(buf));
		if (r > 0)
			received += (uint64_t)r;
		flushed = o_stream_flush(os);
	}
	test_assert(flushed == 1);
	ssize_t r;
	while ((r = read(fds[1], buf, sizeof(buf))) > 0)
		received += (uint64_t)r;
	test_assert(received == (uint64_t)sends * sizeof(chunk));
	test_assert(o_stream_get_offset(os) == (uint64_t)sends * sizeof(chunk));
	test_assert(o_stream_get_buffer_used(os) == 0);
	/* peer gone: sending fails cleanly */
	close(fds[1]);
	o_stream_send(os, chunk, sizeof(chunk));
	(void)o_stream_flush(os);
	test_assert(o_stream_is_failed(os));
	o_stream_destroy(&os);
	transport_destroy(&t);
	test_end();
}

static void test_ostream_cork(void)
{
	test_begin("ostream cork");
	struct transport *t = transport_create_memory("", 0, 0);
	struct ostream *os = o_stream_create(t, 1024);
	size_t size;
	o_stream_cork(os);
	o_stream_send_str(os, "* OK ");
	o_stream_printf(os, "%d\r\n", 42);
	(void)transport_memory_get_output(t, &size);
	test_assert(size == 0);
	o_stream_uncork(os);
	const unsigned char *out = transport_memory_get_output(t, &size);
	test_assert(size == 9 && memcmp(out, "* OK 42\r\n", 9) == 0);
	o_stream_destroy(&os);
	transport_destroy(&t);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_istream_lines_byte_at_a_time, test_istream_limit, test_istream_visible,
		test_ostream_backpressure, test_ostream_cork, NULL,
	};
	return test_run(tests);
}
