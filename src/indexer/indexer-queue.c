/* The indexer's queue of users with messages waiting (indexer-queue.h). */
#include "indexer-queue.h"
#include "dlist.h"
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct indexer_queue {
	struct hash_table *users; /* key -> struct indexer_user */
	struct indexer_user *head, *tail;
	unsigned int count, max_queued;
};

struct indexer_queue *indexer_queue_create(unsigned int max_queued)
{
	struct indexer_queue *queue = i_new(struct indexer_queue, 1);
	queue->users = hash_table_create(system_pool, str_hash, str_cmp);
	queue->max_queued = max_queued;
	return queue;
}

void indexer_queue_destroy(struct indexer_queue **_queue)
{
	struct indexer_queue *queue = *_queue;
	if (queue == NULL)
		return;
	*_queue = NULL;
	while (queue->head != NULL) {
		struct indexer_user *user = queue->head;
		DLIST_REMOVE(queue->head, queue->tail, user);
		indexer_user_free(&user);
	}
	hash_table_destroy(&queue->users);
	free(queue);
}

void indexer_user_free(struct indexer_user **_user)
{
	struct indexer_user *user = *_user;
	if (user == NULL)
		return;
	*_user = NULL;
	for (unsigned int i = 0; i < user->mailboxes.count; i++) {
		free(user->mailboxes.v[i].name);
		array_free(&user->mailboxes.v[i].uids);
	}
	array_free(&user->mailboxes);
	free(user->key);
	free(user->name);
	free(user->home);
	free(user);
}

static char *user_key(const char *name, const char *home, uid_t uid, gid_t gid)
{
	size_t size = strlen(name) + strlen(home) + 48;
	char *key = i_zalloc(size);
	snprintf(key, size, "%lu:%lu:%s\n%s", (unsigned long)uid, (unsigned long)gid, name, home);
	return key;
}

static struct indexer_mailbox *user_mailbox(struct indexer_user *user, const char *name)
{
	for (unsigned int i = 0; i < user->mailboxes.count; i++) {
		if (strcmp(user->mailboxes.v[i].name, name) == 0)
			return &user->mailboxes.v[i];
	}
	struct indexer_mailbox *mb = array_append_space(&user->mailboxes);
	mb->name = i_strdup(name);
	array_init(&mb->uids, system_pool, 16);
	return mb;
}

unsigned int indexer_queue_add(struct indexer_queue *queue, const struct indexer_request *req,
			       uint64_t now_ms)
{
	unsigned int room = queue->max_queued - queue->count;
	unsigned int n = req->uid_count < room ? req->uid_count : room;
	if (n == 0)
		return 0;
	char *key = user_key(req->user, req->home, req->uid, req->gid);
	struct indexer_user *user = hash_table_lookup(queue->users, key);
	if (user == NULL) {
		user = i_new(struct indexer_user, 1);
		user->key = key;
		user->name = i_strdup(req->user);
		user->home = i_strdup(req->home);
		user->uid = req->uid;
		user->gid = req->gid;
		user->first_ms = now_ms;
		array_init(&user->mailboxes, system_pool, 2);
		hash_table_insert(queue->users, user->key, user);
	} else {
		free(key);
		DLIST_REMOVE(queue->head, queue->tail, user);
	}
	/* most recently added last */
	user->prev = queue->tail;
	user->next = NULL;
	if (queue->tail != NULL)
		queue->tail->next = user;
	else
		queue->head = user;
	queue->tail = user;
	user->last_ms = now_ms;

	struct indexer_mailbox *mb = user_mailbox(user, req->mailbox);
	for (unsigned int i = 0; i < n; i++)
		array_push(&mb->uids, req->uids[i]);
	user->count += n;
	queue->count += n;
	return n;
}

static bool user_ready(const struct indexer_user *user, uint64_t now_ms, unsigned int delay_ms,
		       unsigned int max_delay_ms)
{
	return now_ms >= user->last_ms + delay_ms || now_ms >= user->first_ms + max_delay_ms;
}

static void queue_remove(struct indexer_queue *queue, struct indexer_user *user)
{
	DLIST_REMOVE(queue->head, queue->tail, user);
	(void)hash_table_remove(queue->users, user->key);
	queue->count -= user->count;
}

struct indexer_user *indexer_queue_take_ready(struct indexer_queue *queue, uint64_t now_ms,
					      unsigned int delay_ms, unsigned int max_delay_ms)
{
	/* the head has been quiet longest; past it, only max_delay can make
	   a user ready */
	struct indexer_user *best = NULL;
	for (struct indexer_user *user = queue->head; user != NULL; user = user->next) {
		if (user == queue->head && now_ms >= user->last_ms + delay_ms) {
			best = user;
			break;
		}
		if (now_ms >= user->first_ms + max_delay_ms &&
		    (best == NULL || user->first_ms < best->first_ms))
			best = user;
	}
	if (best == NULL)
		return NULL;
	i_assert(user_ready(best, now_ms, delay_ms, max_delay_ms));
	queue_remove(queue, best);
	return best;
}

uint64_t indexer_queue_next_due(struct indexer_queue *queue, uint64_t now_ms,
				unsigned int delay_ms, unsigned int max_delay_ms)
{
	uint64_t due = UINT64_MAX;
	if (queue->head != NULL)
		due = queue->head->last_ms + delay_ms;
	for (struct indexer_user *user = queue->head; user != NULL; user = user->next) {
		if (user->first_ms + max_delay_ms < due)
			due = user->first_ms + max_delay_ms;
	}
	if (due == UINT64_MAX)
		return UINT64_MAX;
	return due <= now_ms ? 0 : due - now_ms;
}

unsigned int indexer_queue_count(const struct indexer_queue *queue)
{
	return queue->count;
}

unsigned int indexer_queue_users(const struct indexer_queue *queue)
{
	return hash_table_count(queue->users);
}

void indexer_user_normalize(struct indexer_user *user)
{
	user->count = 0;
	for (unsigned int i = 0; i < user->mailboxes.count; i++) {
		array_uint32_t *uids = &user->mailboxes.v[i].uids;
		if (uids->count == 0)
			continue;
		qsort(uids->v, uids->count, sizeof(uids->v[0]), uint32_cmp);
		unsigned int n = 1;
		for (unsigned int j = 1; j < uids->count; j++) {
			if (uids->v[j] != uids->v[n - 1])
				uids->v[n++] = uids->v[j];
		}
		uids->count = n;
		user->count += n;
	}
}
