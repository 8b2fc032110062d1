/* A message held for delivery: in memory up to a limit, then in an
 * unlinked temporary file, read back by offset as a struct deliver_source
 * (tern-lda's standard input; the stored message imapsieve's scripts
 * read). */
#ifndef TERN_DELIVER_SPOOL_H
#define TERN_DELIVER_SPOOL_H

#include "buffer.h"
#include "mail-deliver.h"

struct deliver_spool {
	buffer_t *mem; /* NULL once the data moved to fd */
	int fd;        /* -1 while in memory */
	uint64_t size;
	/* bytes at the start that readers don't see (tern-lda: a leading
	   mbox "From " line) */
	uint64_t skip;
	uint64_t memory_limit;
	/* the temporary file's path up to mkostemp()'s XXXXXX (a copy) */
	char *tmp_prefix;
};

/* tmp_prefix: the temporary file's path before its random part
   ("/tmp/tern-lda."). */
void deliver_spool_init(struct deliver_spool *spool, const char *tmp_prefix,
			uint64_t memory_limit);
/* Returns 0, or -1 with errno set (the temporary file failed). */
int deliver_spool_append(struct deliver_spool *spool, const void *data, size_t size);
/* The spool past skip, for deliver_message_create(). */
void deliver_spool_source(struct deliver_spool *spool, struct deliver_source *source_r);
/* Reads from a spool's storage: mem while fd is -1, else fd; size is all
   the spool holds. Also for the LMTP session's own spool. */
ssize_t deliver_spool_read_at(const buffer_t *mem, int fd, uint64_t size,
			      void *buf, size_t len, uint64_t offset);
/* struct deliver_source's pread: offset counts from skip. */
ssize_t deliver_spool_pread(void *context, void *buf, size_t size, uint64_t offset);
void deliver_spool_free(struct deliver_spool *spool);

#endif
