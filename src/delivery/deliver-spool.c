/* The delivery spool (deliver-spool.h): a memory buffer that moves to an
 * unlinked temporary file once it passes its limit, so a large message
 * costs disk, not memory. */
#include "deliver-spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void deliver_spool_init(struct deliver_spool *spool, const char *tmp_prefix,
			uint64_t memory_limit)
{
	*spool = (struct deliver_spool){
		.mem = buffer_create(system_pool, 16384), .fd = -1,
		.memory_limit = memory_limit, .tmp_prefix = i_strdup(tmp_prefix),
	};
}

static int deliver_spool_to_file(struct deliver_spool *spool)
{
	char *path = t_strdup_printf("%sXXXXXX", spool->tmp_prefix);
	spool->fd = mkostemp(path, O_CLOEXEC);
	if (spool->fd < 0)
		return -1;
	(void)unlink(path);
	if (i_write_full(spool->fd, spool->mem->data, spool->mem->used) < 0)
		return -1;
	buffer_free(&spool->mem);
	return 0;
}

int deliver_spool_append(struct deliver_spool *spool, const void *data, size_t size)
{
	if (spool->fd == -1 && spool->mem->used + size > spool->memory_limit &&
	    deliver_spool_to_file(spool) < 0)
		return -1;
	if (spool->fd == -1)
		buffer_append(spool->mem, data, size);
	else if (i_write_full(spool->fd, data, size) < 0)
		return -1;
	spool->size += size;
	return 0;
}

ssize_t deliver_spool_read_at(const buffer_t *mem, int fd, uint64_t size,
			      void *buf, size_t len, uint64_t offset)
{
	if (offset >= size)
		return 0;
	len = (size_t)I_MIN((uint64_t)len, size - offset);
	if (fd == -1) {
		memcpy(buf, (const unsigned char *)mem->data + offset, len);
		return (ssize_t)len;
	}
	ssize_t ret;
	do {
		ret = pread(fd, buf, len, (off_t)offset);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

ssize_t deliver_spool_pread(void *context, void *buf, size_t size, uint64_t offset)
{
	struct deliver_spool *spool = context;
	return deliver_spool_read_at(spool->mem, spool->fd, spool->size, buf, size,
				     offset + spool->skip);
}

void deliver_spool_source(struct deliver_spool *spool, struct deliver_source *source_r)
{
	*source_r = (struct deliver_source){
		.pread = deliver_spool_pread, .context = spool,
		.size = spool->size - spool->skip,
	};
}

void deliver_spool_free(struct deliver_spool *spool)
{
	buffer_free(&spool->mem);
	i_close_fd(&spool->fd);
	i_free(spool->tmp_prefix);
}
