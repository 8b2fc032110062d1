/* Transports move bytes between a stream and the outside: a plain socket,
 * TLS over a socket (src/tls), or memory (for tests and fuzzers). Streams
 * sit on one transport and can be moved to another (STARTTLS). */
#ifndef TERN_TRANSPORT_H
#define TERN_TRANSPORT_H

#include "ioloop.h"

struct transport;

struct transport_vfuncs {
	/* Returns >0 bytes read, 0 when nothing is available now, -1 at EOF
	   or error (transport.eof or transport.error is set). */
	ssize_t (*read)(struct transport *t, void *buf, size_t size);
	/* Returns bytes written (0 = would block), -1 on error. */
	ssize_t (*write)(struct transport *t, const void *data, size_t size);
	/* Bytes readable without waiting for the fd (decrypted TLS data). */
	size_t (*pending)(struct transport *t);
	void (*destroy)(struct transport *t);
};

struct transport {
	const struct transport_vfuncs *v;
	int fd;            /* fd to watch, -1 for memory transports */
	bool eof;          /* peer closed cleanly */
	int error;         /* errno-like code of the last failure, 0 if none */
	const char *error_text; /* static or transport-owned text for logs */
	/* Set when the last read could not go on until the socket is
	   writable, or the last write until it is readable (TLS handshakes
	   and key updates). */
	bool read_wants_write, write_wants_read;
};

/* A socket transport; owns fd and closes it on destroy. */
struct transport *transport_create_fd(int fd);
/* A regular-file transport (read()/write(), for message files); owns fd
   and closes it on destroy. */
struct transport *transport_create_file(int fd);
/* A memory transport: reads return data at most chunk bytes at a time
   (0 = unlimited), then EOF; writes are appended to an internal buffer. */
struct transport *transport_create_memory(const void *data, size_t size, size_t chunk);
/* The bytes written to a memory transport so far. */
const unsigned char *transport_memory_get_output(struct transport *t, size_t *size_r);
/* Limits how many input bytes a memory transport exposes (for feeding a
   parser byte by byte); reads beyond return 0 until raised. */
void transport_memory_set_visible(struct transport *t, size_t visible);
void transport_destroy(struct transport **t);

static inline ssize_t transport_read(struct transport *t, void *buf, size_t size)
{
	return t->v->read(t, buf, size);
}
static inline ssize_t transport_write(struct transport *t, const void *data, size_t size)
{
	return t->v->write(t, data, size);
}
static inline size_t transport_pending(struct transport *t)
{
	return t->v->pending == NULL ? 0 : t->v->pending(t);
}

#endif
