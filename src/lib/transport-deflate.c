/* The raw DEFLATE transport (RFC 1951 through zlib with negative
 * windowBits) for IMAP COMPRESS=DEFLATE (RFC 4978): fixed-size buffers in
 * both directions, whatever the peer sends. */
#define ZLIB_CONST
#include "transport-deflate.h"

#include <errno.h>
#include <limits.h>
#include <zlib.h>

/* RFC 4978 §4: raw deflate; the peer may use a window of up to 32 KiB,
   so inflate needs the full one */
#define DEFLATE_WINDOW_BITS 15
#define DEFLATE_MEM_LEVEL 8
/* compressed bytes waiting for the inner transport, and compressed bytes
   read from it but not inflated yet */
#define DEFLATE_OUT_BUF_SIZE (16 * 1024)
#define DEFLATE_IN_BUF_SIZE (16 * 1024)
/* zlib counts in uInt */
#define DEFLATE_MAX_CHUNK (1U << 30)

struct deflate_transport {
	struct transport t;
	struct transport *inner;
	z_stream zout, zin;

	unsigned char out_buf[DEFLATE_OUT_BUF_SIZE];
	size_t out_pos, out_used;
	/* the last deflate() call ran out of output room: zlib may still hold
	   output of the sync flush, or input not compressed yet */
	bool flush_incomplete;
	/* a byte counted as consumed but reported as not written (see the
	   header): the next successful write accepts it without compressing */
	bool held;
	unsigned char held_byte;
	size_t plain_prefix;

	unsigned char in_buf[DEFLATE_IN_BUF_SIZE];
	size_t in_pos, in_used;
	/* the last inflate() filled the caller's buffer: more plaintext may
	   come without any new input */
	bool inflate_more;
	/* the peer ended its deflate stream (a final block) */
	bool inflate_ended;
	/* corrupt input after good plaintext: reported by the next read,
	   after that plaintext */
	bool inflate_failed;

	char error_buf[160];
};

static const struct transport_vfuncs deflate_vfuncs;

static void deflate_set_error(struct deflate_transport *dt, int error, const char *what,
			      const char *detail)
{
	if (detail != NULL)
		snprintf(dt->error_buf, sizeof(dt->error_buf), "%s: %s", what, detail);
	else
		snprintf(dt->error_buf, sizeof(dt->error_buf), "%s", what);
	dt->t.error = error;
	dt->t.error_text = dt->error_buf;
}

static void deflate_copy_inner_error(struct deflate_transport *dt)
{
	if (dt->inner->eof && dt->inner->error == 0) {
		dt->t.eof = true;
		return;
	}
	dt->t.error = dt->inner->error != 0 ? dt->inner->error : EIO;
	dt->t.error_text = dt->inner->error_text;
}

/* --- reading --- */

static ssize_t deflate_inflate_error(struct deflate_transport *dt)
{
	deflate_set_error(dt, EPROTO, "corrupt compressed input",
			  dt->zin.msg != NULL ? dt->zin.msg : "inflate failed");
	return -1;
}

/* Returns plaintext bytes produced (0: all input used up), -1 on error. */
static ssize_t deflate_inflate(struct deflate_transport *dt, unsigned char *buf, size_t size)
{
	z_stream *z = &dt->zin;
	uInt out_size = (uInt)I_MIN(size, DEFLATE_MAX_CHUNK);
	z->next_in = dt->in_buf + dt->in_pos;
	z->avail_in = (uInt)(dt->in_used - dt->in_pos);
	z->next_out = buf;
	z->avail_out = out_size;
	int ret = inflate(z, Z_SYNC_FLUSH);
	dt->in_pos = dt->in_used - z->avail_in;
	size_t produced = out_size - z->avail_out;
	dt->inflate_more = z->avail_out == 0;
	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible: needs more input */
		break;
	case Z_STREAM_END:
		/* RFC 4978 has no way to end compression: nothing may follow,
		   which the next read checks */
		dt->inflate_ended = true;
		dt->inflate_more = false;
		break;
	default:
		dt->inflate_failed = true;
		dt->inflate_more = false;
		if (produced == 0)
			return deflate_inflate_error(dt);
		break;
	}
	return (ssize_t)produced;
}

/* Refills in_buf from the inner transport. Same returns as read(). */
static ssize_t deflate_read_inner(struct deflate_transport *dt)
{
	dt->in_pos = dt->in_used = 0;
	ssize_t ret = transport_read(dt->inner, dt->in_buf, sizeof(dt->in_buf));
	dt->t.read_wants_write = dt->inner->read_wants_write;
	if (ret < 0) {
		deflate_copy_inner_error(dt);
		return -1;
	}
	dt->in_used = (size_t)ret;
	return ret;
}

static ssize_t deflate_read(struct transport *t, void *buf, size_t size)
{
	struct deflate_transport *dt = (struct deflate_transport *)t;
	dt->t.read_wants_write = false;
	if (dt->t.error != 0 || dt->t.eof)
		return -1;
	if (dt->inflate_failed)
		return deflate_inflate_error(dt);
	if (size == 0)
		return 0;
	for (;;) {
		if (dt->inflate_ended && dt->in_pos < dt->in_used) {
			deflate_set_error(dt, EPROTO, "data after the end of the compressed stream",
					  NULL);
			return -1;
		}
		if (dt->in_pos < dt->in_used || dt->inflate_more) {
			ssize_t ret = deflate_inflate(dt, buf, size);
			if (ret != 0)
				return ret;
		}
		/* whatever was buffered inflated to nothing more (a partial
		   block, or empty sync-flush blocks): read on */
		ssize_t ret = deflate_read_inner(dt);
		if (ret <= 0)
			return ret;
	}
}

static size_t deflate_pending(struct transport *t)
{
	struct deflate_transport *dt = (struct deflate_transport *)t;
	size_t own = 0;
	if (dt->in_pos < dt->in_used || dt->inflate_more || dt->inflate_failed)
		own = I_MAX(dt->in_used - dt->in_pos, 1);
	return own + transport_pending(dt->inner);
}

/* --- writing --- */

/* Writes out_buf to the inner transport. Returns 1 when it is empty,
   0 when the inner transport can't take more now, -1 on error. */
static int deflate_flush_out(struct deflate_transport *dt)
{
	while (dt->out_pos < dt->out_used) {
		ssize_t ret = transport_write(dt->inner, dt->out_buf + dt->out_pos,
					      dt->out_used - dt->out_pos);
		dt->t.write_wants_read = dt->inner->write_wants_read;
		if (ret < 0) {
			deflate_copy_inner_error(dt);
			if (dt->t.error == 0) {
				dt->t.error = EPIPE;
				dt->t.error_text = "connection closed by peer";
			}
			return -1;
		}
		if (ret == 0)
			return 0;
		dt->out_pos += (size_t)ret;
	}
	dt->out_pos = dt->out_used = 0;
	return 1;
}

/* Adds output for up to size bytes of data to the empty out_buf. Returns
   the bytes consumed. size 0 goes on with an incomplete flush. */
static size_t deflate_compress(struct deflate_transport *dt, const unsigned char *data,
			       size_t size)
{
	i_assert(dt->out_used == 0);
	if (dt->plain_prefix > 0 && size > 0) {
		size_t n = I_MIN(I_MIN(size, dt->plain_prefix), sizeof(dt->out_buf));
		memcpy(dt->out_buf, data, n);
		dt->out_used = n;
		dt->plain_prefix -= n;
		return n;
	}
	z_stream *z = &dt->zout;
	z->next_in = data;
	z->avail_in = (uInt)I_MIN(size, DEFLATE_MAX_CHUNK);
	z->next_out = dt->out_buf;
	z->avail_out = sizeof(dt->out_buf);
	uInt avail_in = z->avail_in;
	int ret = deflate(z, Z_SYNC_FLUSH);
	/* Z_BUF_ERROR: nothing to do; anything else is a misuse of zlib */
	if (ret != Z_OK && ret != Z_BUF_ERROR)
		i_panic("deflate() failed: %d", ret);
	dt->out_used = sizeof(dt->out_buf) - z->avail_out;
	dt->flush_incomplete = z->avail_out == 0;
	return avail_in - z->avail_in;
}

/* Delivers all output so far to the inner transport: 1 done, 0 blocked,
   -1 error. */
static int deflate_drain(struct deflate_transport *dt)
{
	for (;;) {
		int ret = deflate_flush_out(dt);
		if (ret <= 0 || !dt->flush_incomplete)
			return ret;
		(void)deflate_compress(dt, NULL, 0);
	}
}

static ssize_t deflate_write(struct transport *t, const void *data, size_t size)
{
	struct deflate_transport *dt = (struct deflate_transport *)t;
	const unsigned char *bytes = data;
	dt->t.write_wants_read = false;
	if (dt->t.error != 0)
		return -1;
	int ret = deflate_drain(dt);
	if (ret <= 0)
		return ret;
	if (dt->held) {
		if (size == 0 || bytes[0] != dt->held_byte) {
			deflate_set_error(dt, EINVAL, "write retried with different data", NULL);
			return -1;
		}
		dt->held = false;
		return 1;
	}
	size_t consumed = 0;
	while (consumed < size || dt->flush_incomplete) {
		consumed += deflate_compress(dt, bytes + consumed, size - consumed);
		if ((ret = deflate_flush_out(dt)) < 0)
			return -1;
		if (ret == 0)
			break;
	}
	if (dt->out_used > 0 || dt->flush_incomplete) {
		/* keep the caller's buffer non-empty (so it keeps waiting for
		   the socket) until all of this has gone out */
		i_assert(consumed > 0);
		dt->held = true;
		dt->held_byte = bytes[consumed - 1];
		return (ssize_t)(consumed - 1);
	}
	return (ssize_t)consumed;
}

/* --- lifetime --- */

static void deflate_destroy(struct transport *t)
{
	struct deflate_transport *dt = (struct deflate_transport *)t;
	(void)deflateEnd(&dt->zout);
	(void)inflateEnd(&dt->zin);
	transport_destroy(&dt->inner);
	free(dt);
}

static const struct transport_vfuncs deflate_vfuncs = {
	.read = deflate_read,
	.write = deflate_write,
	.pending = deflate_pending,
	.destroy = deflate_destroy,
};

struct transport *transport_deflate_create(struct transport *inner)
{
	struct deflate_transport *dt = i_zalloc(sizeof(*dt));
	dt->t.v = &deflate_vfuncs;
	dt->t.fd = inner->fd;
	dt->inner = inner;
	int ret = deflateInit2(&dt->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			       -DEFLATE_WINDOW_BITS, DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY);
	if (ret == Z_OK)
		ret = inflateInit2(&dt->zin, -DEFLATE_WINDOW_BITS);
	if (ret == Z_MEM_ERROR)
		i_fatal_oom(sizeof(*dt));
	if (ret != Z_OK)
		i_panic("zlib init failed: %d", ret);
	return &dt->t;
}

void transport_deflate_set_plain_prefix(struct transport *t, size_t size)
{
	struct deflate_transport *dt = (struct deflate_transport *)t;
	i_assert(transport_is_deflate(t));
	i_assert(dt->zout.total_in == 0 && !dt->held && dt->out_used == 0);
	dt->plain_prefix = size;
}

bool transport_is_deflate(const struct transport *t)
{
	return t->v == &deflate_vfuncs;
}
