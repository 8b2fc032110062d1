/* The indexer process (role "indexer"): reads the requests LMTP sends on
 * the indexer's socket (indexer-notify.h), queues them per user
 * (indexer-queue.h) and, once a user's deliveries pause, adds the
 * messages to the user's full-text index, a batch per write transaction,
 * as the user's uid, at a low CPU priority (indexer.nice). What it can't
 * do (a full queue, a shutdown, an error) is left to the user's first
 * search, which indexes whatever is missing. docs/lmtp.md, "Background
 * text indexing". */
#ifndef TERN_INDEXER_WORKER_H
#define TERN_INDEXER_WORKER_H

#include "config.h"

/* Takes ownership of fd, the indexer's bound datagram socket. set must
   outlive the worker. Returns 0 or -1 (*error_r). */
int indexer_worker_init(const struct tern_settings *set, int fd, const char **error_r);
void indexer_worker_deinit(void);

#endif
