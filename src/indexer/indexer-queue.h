/* The indexer's queue: per user (name, home, uid, gid), the mailboxes and
 * UIDs of delivered messages waiting for full-text indexing, with when the
 * first and the last of them came. A user is ready once no delivery has
 * come for it for `delay`, or when its oldest message has waited
 * `max_delay`; the queue holds at most max_queued UIDs in all. */
#ifndef TERN_INDEXER_QUEUE_H
#define TERN_INDEXER_QUEUE_H

#include "array.h"
#include "indexer-notify.h"

struct indexer_mailbox {
	char *name;
	array_uint32_t uids; /* as they came; may repeat */
};

struct indexer_user {
	struct indexer_user *prev, *next; /* least recently added to first */
	char *key, *name, *home;
	uid_t uid;
	gid_t gid;
	uint64_t first_ms, last_ms;
	unsigned int count; /* UIDs over all mailboxes */
	ARRAY(struct indexer_mailbox) mailboxes;
};

struct indexer_queue;

struct indexer_queue *indexer_queue_create(unsigned int max_queued);
void indexer_queue_destroy(struct indexer_queue **queue);

/* Adds req's UIDs at now_ms. Returns how many were taken: fewer than
   req->uid_count when the queue is full. */
unsigned int indexer_queue_add(struct indexer_queue *queue, const struct indexer_request *req,
			       uint64_t now_ms);
/* The next ready user (the longest quiet one first), taken out of the
   queue: free it with indexer_user_free(). NULL if none is ready. */
struct indexer_user *indexer_queue_take_ready(struct indexer_queue *queue, uint64_t now_ms,
					      unsigned int delay_ms, unsigned int max_delay_ms);
/* Milliseconds from now_ms until a user can be ready (0: one is);
   UINT64_MAX when the queue is empty. */
uint64_t indexer_queue_next_due(struct indexer_queue *queue, uint64_t now_ms,
				unsigned int delay_ms, unsigned int max_delay_ms);
unsigned int indexer_queue_count(const struct indexer_queue *queue);
unsigned int indexer_queue_users(const struct indexer_queue *queue);

/* Sorts each mailbox's UIDs and drops repeats. */
void indexer_user_normalize(struct indexer_user *user);
void indexer_user_free(struct indexer_user **user);

#endif
