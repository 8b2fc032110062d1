/* A message channel between two processes of ternd over a SOCK_SEQPACKET
 * socketpair: each message is one record (at most IPC_CHANNEL_MAX_MESSAGE
 * bytes) optionally carrying one file descriptor (SCM_RIGHTS). Used for
 * the login -> master -> mail session hand-off. Sends never block: what
 * the socket doesn't take now is queued (with a duplicate of the fd) and
 * sent when it becomes writable. */
#ifndef TERN_IPC_CHANNEL_H
#define TERN_IPC_CHANNEL_H

#include "lib.h"

#define IPC_CHANNEL_MAX_MESSAGE (128 * 1024)
/* A peer that doesn't read while this many messages wait is broken. */
#define IPC_CHANNEL_MAX_QUEUED 10000

struct ipc_channel;

/* A message arrived: data is size bytes (valid during the call), fd is
   the passed descriptor or -1 (the callback owns it). size 0 with data
   NULL: the peer closed the channel or it failed; the callback must
   destroy the channel (not necessarily at once). */
typedef void ipc_channel_callback_t(struct ipc_channel *chan, const void *data,
				    size_t size, int fd, void *context);

/* Creates a socketpair(AF_UNIX, SOCK_SEQPACKET), both ends close-on-exec.
   Returns 0 or -1 with errno set. */
int ipc_channel_pair(int fds_r[2]);
/* Takes ownership of fd (one end of a pair) and watches it. */
struct ipc_channel *ipc_channel_create(int fd, ipc_channel_callback_t *cb, void *context);
/* Accepts NULL; *chan becomes NULL. Queued messages are dropped (their
   fds closed). */
void ipc_channel_destroy(struct ipc_channel **chan);

/* Sends a message with fd (or -1; the caller keeps its own fd either
   way). Returns 0, or -1 if the message is too large, the queue is over
   its limit or the channel failed. */
int ipc_channel_send(struct ipc_channel *chan, const void *data, size_t size, int fd);
/* Messages queued and not yet sent. */
unsigned int ipc_channel_queued(const struct ipc_channel *chan);

#endif
