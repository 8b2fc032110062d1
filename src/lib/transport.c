/* Socket and memory transports. */
#include "transport.h"
#include "buffer.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

struct fd_transport {
	struct transport t;
};

static ssize_t fd_read(struct transport *t, void *buf, size_t size)
{
	ssize_t ret = recv(t->fd, buf, size, 0);
	if (ret > 0)
		return ret;
	if (ret == 0) {
		t->eof = true;
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	t->error = errno;
	t->error_text = strerror(errno);
	return -1;
}

static ssize_t fd_write(struct transport *t, const void *data, size_t size)
{
	ssize_t ret = send(t->fd, data, size, MSG_NOSIGNAL);
	if (ret >= 0)
		return ret;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	t->error = errno;
	t->error_text = strerror(errno);
	return -1;
}

static void fd_destroy(struct transport *t)
{
	i_close_fd(&t->fd);
	free(t);
}

static const struct transport_vfuncs fd_vfuncs = {
	.read = fd_read,
	.write = fd_write,
	.destroy = fd_destroy,
};

struct transport *transport_create_fd(int fd)
{
	struct fd_transport *ft = i_zalloc(sizeof(*ft));
	ft->t.v = &fd_vfuncs;
	ft->t.fd = fd;
	return &ft->t;
}

static ssize_t file_read(struct transport *t, void *buf, size_t size)
{
	ssize_t ret;
	do {
		ret = read(t->fd, buf, size);
	} while (ret < 0 && errno == EINTR);
	if (ret > 0)
		return ret;
	if (ret == 0) {
		t->eof = true;
		return -1;
	}
	t->error = errno;
	t->error_text = strerror(errno);
	return -1;
}

static ssize_t file_write(struct transport *t, const void *data, size_t size)
{
	ssize_t ret;
	do {
		ret = write(t->fd, data, size);
	} while (ret < 0 && errno == EINTR);
	if (ret >= 0)
		return ret;
	t->error = errno;
	t->error_text = strerror(errno);
	return -1;
}

static const struct transport_vfuncs file_vfuncs = {
	.read = file_read,
	.write = file_write,
	.destroy = fd_destroy,
};

struct transport *transport_create_file(int fd)
{
	struct fd_transport *ft = i_zalloc(sizeof(*ft));
	ft->t.v = &file_vfuncs;
	ft->t.fd = fd;
	return &ft->t;
}

struct mem_transport {
	struct transport t;
	const unsigned char *data;
	size_t size, pos, chunk, visible;
	buffer_t *output;
};

static ssize_t mem_read(struct transport *t, void *buf, size_t size)
{
	struct mem_transport *mt = (struct mem_transport *)t;
	if (mt->pos >= mt->size) {
		t->eof = true;
		return -1;
	}
	size_t avail = I_MIN(mt->visible, mt->size) - I_MIN(mt->pos, mt->visible);
	if (mt->chunk != 0 && avail > mt->chunk)
		avail = mt->chunk;
	if (avail > size)
		avail = size;
	memcpy(buf, mt->data + mt->pos, avail);
	mt->pos += avail;
	return (ssize_t)avail;
}

static ssize_t mem_write(struct transport *t, const void *data, size_t size)
{
	struct mem_transport *mt = (struct mem_transport *)t;
	buffer_append(mt->output, data, size);
	return (ssize_t)size;
}

static void mem_destroy(struct transport *t)
{
	struct mem_transport *mt = (struct mem_transport *)t;
	buffer_free(&mt->output);
	free(mt);
}

static const struct transport_vfuncs mem_vfuncs = {
	.read = mem_read,
	.write = mem_write,
	.destroy = mem_destroy,
};

struct transport *transport_create_memory(const void *data, size_t size, size_t chunk)
{
	struct mem_transport *mt = i_zalloc(sizeof(*mt));
	mt->t.v = &mem_vfuncs;
	mt->t.fd = -1;
	mt->data = data;
	mt->size = size;
	mt->chunk = chunk;
	mt->visible = SIZE_MAX;
	mt->output = buffer_create(system_pool, 256);
	return &mt->t;
}

const unsigned char *transport_memory_get_output(struct transport *t, size_t *size_r)
{
	struct mem_transport *mt = (struct mem_transport *)t;
	i_assert(t->v == &mem_vfuncs);
	*size_r = mt->output->used;
	return mt->output->data;
}

void transport_memory_set_visible(struct transport *t, size_t visible)
{
	struct mem_transport *mt = (struct mem_transport *)t;
	i_assert(t->v == &mem_vfuncs);
	mt->visible = visible;
}

void transport_destroy(struct transport **_t)
{
	struct transport *t = *_t;
	if (t == NULL)
		return;
	*_t = NULL;
	t->v->destroy(t);
}
