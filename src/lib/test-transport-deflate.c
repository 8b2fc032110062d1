/* Unit tests for the raw DEFLATE transport (RFC 4978): round trips against
 * zlib itself, chunked and byte-at-a-time I/O, partial inner writes,
 * corrupt input, decompression bombs and a socketpair in both directions. */
#define ZLIB_CONST
#include "test-common.h"
#include "buffer.h"
#include "istream.h"
#include "ostream.h"
#include "transport-deflate.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

/* A test inner transport: reads come from `in` at most read_chunk bytes at
   a time (0 when drained, EOF once in_eof is set); writes go to `out`,
   at most write_budget bytes in all until the test grants more. */
struct pipe_transport {
	struct transport t;
	buffer_t *in, *out;
	size_t in_pos, read_chunk, write_budget, fake_pending;
	bool in_eof, block_wants_read;
};

static ssize_t pipe_read(struct transport *t, void *buf, size_t size)
{
	struct pipe_transport *pt = (struct pipe_transport *)t;
	size_t avail = pt->in->used - pt->in_pos;
	if (avail == 0) {
		if (!pt->in_eof)
			return 0;
		t->eof = true;
		return -1;
	}
	size_t n = I_MIN(I_MIN(avail, size), pt->read_chunk);
	memcpy(buf, pt->in->data + pt->in_pos, n);
	pt->in_pos += n;
	return (ssize_t)n;
}

static ssize_t pipe_write(struct transport *t, const void *data, size_t size)
{
	struct pipe_transport *pt = (struct pipe_transport *)t;
	size_t n = I_MIN(size, pt->write_budget);
	pt->write_budget -= n;
	t->write_wants_read = n == 0 && pt->block_wants_read;
	buffer_append(pt->out, data, n);
	return (ssize_t)n;
}

static size_t pipe_pending(struct transport *t)
{
	return ((struct pipe_transport *)t)->fake_pending;
}

static void pipe_destroy(struct transport *t)
{
	struct pipe_transport *pt = (struct pipe_transport *)t;
	buffer_free(&pt->in);
	buffer_free(&pt->out);
	free(pt);
}

static const struct transport_vfuncs pipe_vfuncs = {
	.read = pipe_read,
	.write = pipe_write,
	.pending = pipe_pending,
	.destroy = pipe_destroy,
};

static struct pipe_transport *pipe_create(void)
{
	struct pipe_transport *pt = i_zalloc(sizeof(*pt));
	pt->t.v = &pipe_vfuncs;
	pt->t.fd = -1;
	pt->in = buffer_create(system_pool, 1024);
	pt->out = buffer_create(system_pool, 1024);
	pt->read_chunk = SIZE_MAX;
	pt->write_budget = SIZE_MAX;
	return pt;
}

/* Text-like data that compresses, with some noise that doesn't. */
static buffer_t *make_data(size_t size, uint32_t seed)
{
	static const char *const words[] = {
		"* ", "FETCH ", "(UID ", "BODY[] ", "{1234}\r\n", "Subject: ", "hello ",
		"world ", "Received: from ", "mail.example.org ", "\r\n", "=?UTF-8?B?",
	};
	buffer_t *buf = buffer_create(system_pool, size + 32);
	uint32_t x = seed * 2654435761u + 1;
	while (buf->used < size) {
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 7 == 0) {
			buffer_append_c(buf, (unsigned char)(x >> 8));
		} else {
			const char *w = words[(x >> 16) % N_ELEMENTS(words)];
			buffer_append(buf, w, I_MIN(strlen(w), size - buf->used));
		}
	}
	return buf;
}

/* Raw-deflates data with zlib directly, flush after each piece of at most
   piece bytes (flush: Z_SYNC_FLUSH, or Z_FINISH at the end). */
static void zlib_compress(const unsigned char *data, size_t size, size_t piece, int last_flush,
			  buffer_t *dest)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	test_assert(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	size_t pos = 0;
	do {
		size_t n = I_MIN(piece, size - pos);
		int flush = pos + n == size ? last_flush : Z_SYNC_FLUSH;
		z.next_in = data + pos;
		z.avail_in = (uInt)n;
		int ret;
		do {
			unsigned char out[4096];
			z.next_out = out;
			z.avail_out = sizeof(out);
			ret = deflate(&z, flush);
			buffer_append(dest, out, sizeof(out) - z.avail_out);
		} while (z.avail_out == 0 && ret != Z_STREAM_END);
		pos += n;
	} while (pos < size);
	deflateEnd(&z);
}

/* Inflates all of data with zlib directly. Returns 0, -1 if corrupt. */
static int zlib_inflate(const unsigned char *data, size_t size, buffer_t *dest)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	test_assert(inflateInit2(&z, -15) == Z_OK);
	z.next_in = data;
	z.avail_in = (uInt)size;
	int ret;
	do {
		unsigned char out[8192];
		z.next_out = out;
		z.avail_out = sizeof(out);
		ret = inflate(&z, Z_SYNC_FLUSH);
		buffer_append(dest, out, sizeof(out) - z.avail_out);
	} while (ret == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
	inflateEnd(&z);
	return ret == Z_OK || ret == Z_BUF_ERROR || ret == Z_STREAM_END ? 0 : -1;
}

/* True when out inflates to exactly data. */
static bool inflates_to(const buffer_t *out, const unsigned char *data, size_t size)
{
	buffer_t *plain = buffer_create(system_pool, size + 1);
	bool ok = zlib_inflate(out->data, out->used, plain) == 0 && plain->used == size &&
		memcmp(plain->data, data, size) == 0;
	buffer_free(&plain);
	return ok;
}

/* Reads everything with reads of at most bufsize; returns the last result
   (-1 at EOF/error, 0 when the input is drained). */
static ssize_t read_all(struct transport *t, size_t bufsize, buffer_t *dest)
{
	unsigned char *buf = i_malloc(bufsize);
	ssize_t ret;
	while ((ret = transport_read(t, buf, bufsize)) > 0) {
		test_assert((size_t)ret <= bufsize);
		buffer_append(dest, buf, (size_t)ret);
	}
	free(buf);
	return ret;
}

static void test_deflate_write_sync_flush(void)
{
	test_begin("deflate write: every call is sync-flushed");
	struct pipe_transport *pt = pipe_create();
	struct transport *t = transport_deflate_create(&pt->t);
	test_assert(transport_is_deflate(t) && !transport_is_deflate(&pt->t));
	static const char *const lines[] = {
		"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n", "a1 OK done\r\n", "x", "\r\n",
	};
	string_t *sent = t_str_new(256);
	for (unsigned int i = 0; i < N_ELEMENTS(lines); i++) {
		size_t len = strlen(lines[i]);
		test_assert(transport_write(t, lines[i], len) == (ssize_t)len);
		str_append(sent, lines[i]);
		/* the peer can read everything written so far right away */
		test_assert(inflates_to(pt->out, str_data(sent), str_len(sent)));
	}
	transport_destroy(&t);
	test_end();
}

static void test_deflate_write_chunks(void)
{
	static const size_t sizes[] = { 1, 3, 1000, 100000, 3000000 };
	test_begin("deflate write: 1-byte to large writes");
	buffer_t *data = make_data(3000000, 1);
	for (unsigned int s = 0; s < N_ELEMENTS(sizes); s++) {
		struct pipe_transport *pt = pipe_create();
		struct transport *t = transport_deflate_create(&pt->t);
		size_t total = sizes[s] == 1 ? 20000 : data->used;
		for (size_t pos = 0; pos < total; ) {
			size_t n = I_MIN(sizes[s], total - pos);
			ssize_t ret = transport_write(t, data->data + pos, n);
			test_assert(ret == (ssize_t)n);
			if (ret <= 0)
				break;
			pos += (size_t)ret;
		}
		test_assert(inflates_to(pt->out, data->data, total));
		if (sizes[s] >= 100000)
			test_assert(pt->out->used < total / 2);
		transport_destroy(&t);
	}
	buffer_free(&data);
	test_end();
}

static void test_deflate_read_chunks(void)
{
	static const size_t feed[] = { 1, 2, 13, 4096, SIZE_MAX };
	static const size_t bufsizes[] = { 1, 7, 4096, 1 << 20 };
	test_begin("deflate read: fed and read in 1-byte to large chunks");
	buffer_t *data = make_data(200000, 2);
	buffer_t *comp = buffer_create(system_pool, 65536);
	/* the way clients send: a sync flush after each command */
	zlib_compress(data->data, data->used, 997, Z_SYNC_FLUSH, comp);
	for (unsigned int f = 0; f < N_ELEMENTS(feed); f++) {
		for (unsigned int b = 0; b < N_ELEMENTS(bufsizes); b++) {
			if (feed[f] == 1 && bufsizes[b] == 1)
				continue; /* slow and adds nothing to 1 x 7 */
			struct pipe_transport *pt = pipe_create();
			buffer_append(pt->in, comp->data, comp->used);
			pt->read_chunk = feed[f];
			pt->in_eof = true;
			struct transport *t = transport_deflate_create(&pt->t);
			buffer_t *got = buffer_create(system_pool, data->used);
			ssize_t ret = read_all(t, bufsizes[b], got);
			test_assert(ret == -1 && t->eof && t->error == 0);
			test_assert(got->used == data->used &&
				    memcmp(got->data, data->data, data->used) == 0);
			buffer_free(&got);
			transport_destroy(&t);
		}
	}
	buffer_free(&comp);
	buffer_free(&data);
	test_end();
}

/* Writes data through t like an ostream would (retrying the unaccepted
   rest), granting the inner transport a new budget whenever t accepts
   nothing. Checks that t never reports progress it didn't make. */
static void write_throttled(struct transport *t, struct pipe_transport *pt,
			    const unsigned char *data, size_t size, size_t piece, uint32_t seed)
{
	uint32_t x = seed;
	size_t pos = 0;
	unsigned int zeros = 0;
	pt->write_budget = 0;
	while (pos < size && zeros < 1000) {
		ssize_t ret = transport_write(t, data + pos, I_MIN(piece, size - pos));
		test_assert(ret >= 0);
		if (ret < 0)
			return;
		pos += (size_t)ret;
		if (ret > 0) {
			zeros = 0;
			continue;
		}
		/* 0 only when the inner transport took all it could */
		test_assert(pt->write_budget == 0);
		x = x * 1103515245u + 12345u;
		pt->write_budget = 1 + (x >> 16) % 3000;
		zeros++;
	}
	test_assert(pos == size);
	/* everything accepted: everything reached the inner transport */
	test_assert(inflates_to(pt->out, data, size));
}

static void test_deflate_partial_writes(void)
{
	static const size_t pieces[] = { 1, 100, 65536, SIZE_MAX };
	test_begin("deflate write: partial inner writes");
	buffer_t *data = make_data(1000000, 3);
	for (unsigned int p = 0; p < N_ELEMENTS(pieces); p++) {
		struct pipe_transport *pt = pipe_create();
		struct transport *t = transport_deflate_create(&pt->t);
		size_t size = pieces[p] == 1 ? 30000 : data->used;
		write_throttled(t, pt, data->data, size, pieces[p], p + 1);
		transport_destroy(&t);
	}

	/* an inner transport that takes nothing: 0 accepted, no growth */
	struct pipe_transport *pt = pipe_create();
	struct transport *t = transport_deflate_create(&pt->t);
	pt->write_budget = 10;
	pt->block_wants_read = true;
	ssize_t ret = transport_write(t, data->data, data->used);
	test_assert(ret > 0 && (size_t)ret < data->used);
	test_assert(t->write_wants_read);
	size_t accepted = (size_t)ret;
	for (unsigned int i = 0; i < 100; i++)
		test_assert(transport_write(t, data->data + accepted, data->used - accepted) == 0);
	test_assert(pt->out->used == 10);
	/* the caller retries with other data than it was told is unsent */
	pt->write_budget = SIZE_MAX;
	unsigned char wrong = data->data[accepted] ^ 0xff;
	test_assert(transport_write(t, &wrong, 1) == -1);
	test_assert(t->error == EINVAL && t->error_text != NULL);
	transport_destroy(&t);
	buffer_free(&data);
	test_end();
}

static void test_deflate_ostream_drain(void)
{
	test_begin("deflate under an ostream: empty buffer means all delivered");
	buffer_t *data = make_data(500000, 4);
	struct pipe_transport *pt = pipe_create();
	struct transport *t = transport_deflate_create(&pt->t);
	struct ostream *os = o_stream_create(t, 65536);
	pt->write_budget = 0;
	for (size_t pos = 0; pos < data->used; pos += 5000)
		o_stream_send(os, data->data + pos, I_MIN(5000, data->used - pos));
	test_assert(o_stream_get_buffer_used(os) > 0);
	uint32_t x = 5;
	int ret = 0;
	for (unsigned int i = 0; i < 1000000 && ret == 0; i++) {
		x = x * 1103515245u + 12345u;
		pt->write_budget = (x >> 16) % 2000;
		ret = o_stream_flush(os);
	}
	test_assert(ret == 1 && o_stream_get_buffer_used(os) == 0);
	test_assert(o_stream_get_offset(os) == data->used);
	test_assert(inflates_to(pt->out, data->data, data->used));
	o_stream_destroy(&os);
	transport_destroy(&t);
	buffer_free(&data);
	test_end();
}

static void test_deflate_plain_prefix(void)
{
	test_begin("deflate plain prefix");
	struct pipe_transport *pt = pipe_create();
	struct transport *t = transport_deflate_create(&pt->t);
	static const char ok[] = "a1 OK DEFLATE active\r\n";
	static const char more[] = "* 1 EXISTS\r\n";
	transport_deflate_set_plain_prefix(t, strlen(ok));
	/* the prefix and compressed data in one call, byte-throttled */
	string_t *all = t_str_new(64);
	str_append(all, ok);
	str_append(all, more);
	pt->write_budget = 0;
	size_t pos = 0;
	for (unsigned int i = 0; i < 10000 && pos < str_len(all); i++) {
		ssize_t ret = transport_write(t, str_data(all) + pos, str_len(all) - pos);
		test_assert(ret >= 0);
		pos += ret > 0 ? (size_t)ret : 0;
		if (ret == 0)
			pt->write_budget = 1;
	}
	test_assert(pos == str_len(all));
	test_assert(pt->out->used > strlen(ok) &&
		    memcmp(pt->out->data, ok, strlen(ok)) == 0);
	buffer_t *rest = buffer_create(system_pool, 64);
	buffer_append(rest, pt->out->data + strlen(ok), pt->out->used - strlen(ok));
	test_assert(inflates_to(rest, (const unsigned char *)more, strlen(more)));
	buffer_free(&rest);
	transport_destroy(&t);
	test_end();
}

static void test_deflate_corrupt(void)
{
	test_begin("deflate read: corrupt input is an error");
	/* BFINAL=1 BTYPE=11: a reserved block type */
	struct pipe_transport *pt = pipe_create();
	buffer_append(pt->in, "\x07garbage", 8);
	struct transport *t = transport_deflate_create(&pt->t);
	char buf[64];
	test_assert(transport_read(t, buf, sizeof(buf)) == -1);
	test_assert(t->error != 0 && !t->eof && t->error_text != NULL &&
		    strstr(t->error_text, "corrupt") != NULL);
	test_assert(transport_read(t, buf, sizeof(buf)) == -1);
	transport_destroy(&t);

	/* good data, then garbage: the good part is returned first */
	pt = pipe_create();
	zlib_compress((const unsigned char *)"a1 NOOP\r\n", 9, 100, Z_SYNC_FLUSH, pt->in);
	buffer_append(pt->in, "\xff\xff\xff\xff", 4);
	t = transport_deflate_create(&pt->t);
	buffer_t *got = buffer_create(system_pool, 64);
	test_assert(read_all(t, 64, got) == -1 && t->error != 0);
	test_assert(got->used == 9 && memcmp(got->data, "a1 NOOP\r\n", 9) == 0);
	buffer_free(&got);
	transport_destroy(&t);

	/* random input never crashes or hangs */
	uint32_t x = 7;
	for (unsigned int round = 0; round < 200; round++) {
		pt = pipe_create();
		for (unsigned int i = 0; i < 2000; i++) {
			x = x * 1103515245u + 12345u;
			buffer_append_c(pt->in, (unsigned char)(x >> 16));
		}
		pt->in_eof = true;
		pt->read_chunk = 1 + round % 50;
		t = transport_deflate_create(&pt->t);
		got = buffer_create(system_pool, 64);
		test_assert(read_all(t, 1 + round % 300, got) == -1);
		test_assert(t->eof || t->error != 0);
		buffer_free(&got);
		transport_destroy(&t);
	}
	test_end();
}

static void test_deflate_eof_and_end(void)
{
	test_begin("deflate read: EOF and the end of the stream");
	/* the inner EOF is EOF; a truncated stream returns what it has */
	struct pipe_transport *pt = pipe_create();
	zlib_compress((const unsigned char *)"a1 LOGOUT\r\n", 11, 100, Z_SYNC_FLUSH, pt->in);
	pt->in_eof = true;
	struct transport *t = transport_deflate_create(&pt->t);
	buffer_t *got = buffer_create(system_pool, 64);
	test_assert(read_all(t, 3, got) == -1 && t->eof && t->error == 0);
	test_assert(got->used == 11);
	buffer_free(&got);
	transport_destroy(&t);

	/* RFC 4978 can't turn compression off: data after a final block */
	pt = pipe_create();
	zlib_compress((const unsigned char *)"a1 NOOP\r\n", 9, 100, Z_FINISH, pt->in);
	buffer_append(pt->in, "a2 NOOP\r\n", 9);
	t = transport_deflate_create(&pt->t);
	got = buffer_create(system_pool, 64);
	test_assert(read_all(t, 64, got) == -1 && t->error == EPROTO);
	test_assert(got->used == 9);
	buffer_free(&got);
	transport_destroy(&t);

	/* a final block, then a clean close */
	pt = pipe_create();
	zlib_compress((const unsigned char *)"a1 NOOP\r\n", 9, 100, Z_FINISH, pt->in);
	t = transport_deflate_create(&pt->t);
	got = buffer_create(system_pool, 64);
	test_assert(read_all(t, 64, got) == 0 && got->used == 9);
	pt->in_eof = true;
	test_assert(read_all(t, 64, got) == -1 && t->eof && t->error == 0);
	buffer_free(&got);
	transport_destroy(&t);
	test_end();
}

static void test_deflate_bomb_and_pending(void)
{
	test_begin("deflate read: a bomb inflates only into the caller's buffer");
	size_t size = 16 * 1024 * 1024;
	unsigned char *zeros = i_zalloc(size);
	struct pipe_transport *pt = pipe_create();
	zlib_compress(zeros, size, size, Z_SYNC_FLUSH, pt->in);
	free(zeros);
	test_assert(pt->in->used < 64 * 1024);
	struct transport *t = transport_deflate_create(&pt->t);
	unsigned char buf[4096];
	size_t total = 0;
	ssize_t ret;
	bool all_zero = true;
	while ((ret = transport_read(t, buf, sizeof(buf))) > 0) {
		test_assert(ret <= (ssize_t)sizeof(buf));
		for (ssize_t i = 0; i < ret; i++)
			all_zero = all_zero && buf[i] == 0;
		total += (size_t)ret;
		/* more is coming without any fd activity: the loop must know */
		if (total < size)
			test_assert(transport_pending(t) > 0);
	}
	test_assert(ret == 0 && total == size && all_zero);
	/* drained and nothing new: no spinning on a false pending() */
	test_assert(transport_pending(t) == 0);
	test_assert(transport_read(t, buf, sizeof(buf)) == 0);
	/* the inner transport's own buffered bytes count too */
	pt->fake_pending = 5;
	test_assert(transport_pending(t) == 5);
	transport_destroy(&t);
	test_end();
}

/* Moves one side's output and the other side's reading along. */
static void socketpair_step(struct ostream *os, struct transport *reader, buffer_t *got)
{
	(void)o_stream_flush(os);
	unsigned char buf[3000];
	ssize_t ret;
	while ((ret = transport_read(reader, buf, sizeof(buf))) > 0)
		buffer_append(got, buf, (size_t)ret);
	test_assert(ret == 0);
}

static void test_deflate_socketpair(void)
{
	test_begin("deflate over a socketpair, both directions");
	int fds[2];
	test_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
	int small = 4096;
	for (unsigned int i = 0; i < 2; i++) {
		(void)setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	struct transport *a = transport_deflate_create(transport_create_fd(fds[0]));
	struct transport *b = transport_deflate_create(transport_create_fd(fds[1]));
	test_assert(a->fd == fds[0] && b->fd == fds[1]);
	struct ostream *oa = o_stream_create(a, 8192), *ob = o_stream_create(b, 8192);
	buffer_t *data_a = make_data(2000000, 5), *data_b = make_data(1500000, 6);
	buffer_t *got_a = buffer_create(system_pool, 1024), *got_b = buffer_create(system_pool, 1024);
	size_t pos_a = 0, pos_b = 0;
	for (unsigned int i = 0; i < 1000000; i++) {
		/* producers honour back-pressure, in uneven pieces */
		if (pos_a < data_a->used && !o_stream_is_full(oa)) {
			size_t n = I_MIN(1 + i % 7000, data_a->used - pos_a);
			o_stream_send(oa, data_a->data + pos_a, n);
			pos_a += n;
		}
		if (pos_b < data_b->used && !o_stream_is_full(ob)) {
			size_t n = I_MIN(1 + i % 300, data_b->used - pos_b);
			o_stream_send(ob, data_b->data + pos_b, n);
			pos_b += n;
		}
		socketpair_step(oa, b, got_b);
		socketpair_step(ob, a, got_a);
		if (got_b->used == data_a->used && got_a->used == data_b->used)
			break;
	}
	test_assert(!o_stream_is_failed(oa) && !o_stream_is_failed(ob));
	test_assert(got_b->used == data_a->used &&
		    memcmp(got_b->data, data_a->data, data_a->used) == 0);
	test_assert(got_a->used == data_b->used &&
		    memcmp(got_a->data, data_b->data, data_b->used) == 0);
	test_assert(o_stream_get_buffer_used(oa) == 0 && o_stream_get_buffer_used(ob) == 0);
	/* one side closes: the other sees EOF through the compression */
	o_stream_destroy(&oa);
	transport_destroy(&a);
	unsigned char buf[16];
	test_assert(transport_read(b, buf, sizeof(buf)) == -1 && b->eof && b->error == 0);
	o_stream_destroy(&ob);
	transport_destroy(&b);
	buffer_free(&data_a);
	buffer_free(&data_b);
	buffer_free(&got_a);
	buffer_free(&got_b);
	test_end();
}

static void test_deflate_istream_lines(void)
{
	test_begin("deflate under an istream: commands split over many writes");
	/* a client's commands, each compressed and flushed on its own and
	   arriving a byte at a time */
	struct pipe_transport *pt = pipe_create();
	string_t *plain = t_str_new(4096);
	for (unsigned int i = 0; i < 200; i++)
		str_printfa(plain, "a%u UID FETCH %u:* (FLAGS BODY.PEEK[HEADER])\r\n", i, i);
	for (size_t pos = 0; pos < str_len(plain); pos += 17)
		zlib_compress(str_data(plain) + pos, I_MIN(17, str_len(plain) - pos), 17,
			      Z_SYNC_FLUSH, pt->in);
	pt->read_chunk = 1;
	pt->in_eof = true;
	struct transport *t = transport_deflate_create(&pt->t);
	struct istream *is = i_stream_create(t, 256);
	unsigned int n = 0;
	ssize_t ret;
	char *line;
	while ((ret = i_stream_read(is)) > 0 || ret == -2) {
		while ((line = i_stream_next_line(is)) != NULL) {
			test_assert_strcmp(line, t_strdup_printf(
				"a%u UID FETCH %u:* (FLAGS BODY.PEEK[HEADER])", n, n));
			n++;
		}
	}
	test_assert(ret == -1 && i_stream_is_eof(is) && n == 200);
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_deflate_write_sync_flush, test_deflate_write_chunks, test_deflate_read_chunks,
		test_deflate_partial_writes, test_deflate_ostream_drain, test_deflate_plain_prefix,
		test_deflate_corrupt, test_deflate_eof_and_end, test_deflate_bomb_and_pending,
		test_deflate_socketpair, test_deflate_istream_lines, NULL,
	};
	return test_run(tests);
}
