/* Telling the indexer process (indexer-worker.h) which delivered messages
 * wait for full-text indexing: datagrams of requests (user, mailbox, UIDs)
 * on the indexer's Unix socket under base_dir/run, which only root can
 * write to, as many requests per datagram as fit (the kernel queues a
 * bounded number of datagrams, net.unix.max_dgram_qlen). Used by LMTP;
 * never blocks. */
#ifndef TERN_INDEXER_NOTIFY_H
#define TERN_INDEXER_NOTIFY_H

#include "lib.h"

/* The socket's path under base_dir */
#define INDEXER_SOCKET_NAME "run/indexer"
/* UIDs in one request; more are sent as several */
#define INDEXER_NOTIFY_MAX_UIDS 256
/* the largest datagram the indexer reads */
#define INDEXER_DATAGRAM_MAX 65536

struct indexer_request {
	const char *user, *home, *mailbox;
	uid_t uid;
	gid_t gid;
	const uint32_t *uids;
	unsigned int uid_count; /* 1..INDEXER_NOTIFY_MAX_UIDS */
};

enum indexer_notify_result {
	INDEXER_NOTIFY_SENT,
	/* the indexer is running but its socket is full: try again later */
	INDEXER_NOTIFY_BUSY,
	/* no indexer (not running, or the request doesn't fit) */
	INDEXER_NOTIFY_UNAVAILABLE,
};

/* Sends a datagram of encoded requests (indexer_request_encode() one
   after the other) to the indexer of base_dir. The socket is opened at
   the first call and kept. */
enum indexer_notify_result indexer_notify_send(const char *base_dir, const void *data,
					       size_t size);
/* Closes the kept socket. */
void indexer_notify_deinit(void);

/* The wire format, shared with the indexer: a request is 7 fields each
   ending in NUL ("1", user, home, uid, gid, mailbox, space-separated
   UIDs); a datagram holds one or more. Returns the length written to buf,
   or 0 if it doesn't fit in size. */
size_t indexer_request_encode(const struct indexer_request *req, char *buf, size_t size);
/* Parses the request at *pos of a datagram and moves *pos past it;
   strings point into data, and the UIDs go to uids_buf
   (INDEXER_NOTIFY_MAX_UIDS entries). Returns 0, or -1 if malformed (the
   rest of the datagram can't be trusted then). */
int indexer_request_decode(const char *data, size_t size, size_t *pos, uint32_t *uids_buf,
			   struct indexer_request *req_r);

#endif
