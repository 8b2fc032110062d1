/* The recipients' storage an LMTP session keeps open between its
 * deliveries, and the full-text indexing of what it delivered, deferred
 * from the save: handed to the indexer process (src/indexer) when one
 * runs, else done by the session in batches (one write transaction and
 * one full-text flush for many messages) when it has no input waiting,
 * goes idle or quits (docs/lmtp.md, "Deferred text indexing"). A
 * delivered message is durable and acknowledged before its text is in
 * the index; a search indexes whatever is still missing on demand. */
#include "lmtp-client.h"
#include "deliver-user.h"
#include "indexer-notify.h"
#include "mail-storage.h"
#include "ioloop.h"

#include <time.h>

/* storages kept open per session (as many index connections as a worker
   parks); the least recently used one goes first */
#define LMTP_STORAGE_MAX 128
/* mailboxes per storage whose deliveries wait for indexing; more are left
   to the first search */
#define LMTP_STORAGE_MAX_MAILBOXES 8
/* messages indexed per mailbox and write transaction */
#define LMTP_INDEX_BATCH 64
/* a storage with this many waiting is indexed as soon as no input waits */
#define LMTP_INDEX_READY 32
/* messages a session may leave unindexed; more are left to the first search */
#define LMTP_INDEX_MAX_PENDING 4096
/* with an indexer process: the session's deliveries are handed over in
   bulk (the indexer waits for a user's deliveries to pause anyway), at
   this many, when it goes idle and at its end */
#define LMTP_HAND_OVER_READY 1024
/* after the indexer's socket was found full */
#define LMTP_HAND_OVER_BACKOFF_MSECS 100
/* the work done at a time while the client may send more */
#define LMTP_INDEX_SLICE_MSECS 20
/* without input this long, the rest is indexed and the storages closed */
#define LMTP_STORAGE_IDLE_MSECS 200

struct lmtp_unindexed {
	const char *mailbox;
	array_uint32_t uids; /* ascending: as delivered */
};

struct lmtp_storage {
	pool_t pool;
	struct deliver_user user; /* strings from pool */
	struct mail_user *mail_user; /* NULL: opened at the next use */
	ARRAY(struct lmtp_unindexed) unindexed;
	unsigned int unindexed_count;
	uint64_t last_used;
};

static uint64_t lmtp_msecs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool lmtp_storage_defers(const struct lmtp_client *client)
{
	/* with index_text_at_save = no nothing indexes at save either: the
	   first search does it */
	return client->set->mail.index_text_at_save;
}

static void lmtp_storage_count_left(struct lmtp_client *client, struct lmtp_storage *st)
{
	unsigned int left = 0;
	for (unsigned int i = 0; i < st->unindexed.count; i++)
		left += st->unindexed.v[i].uids.count;
	/* entries only go: left <= st->unindexed_count */
	client->unindexed_count -= st->unindexed_count - left;
	st->unindexed_count = left;
}

/* Where a hand-over datagram ends: the storage, its mailbox entry and the
   UIDs of that entry it took. */
struct lmtp_hand_over_end {
	unsigned int storage, mailbox, uids;
};

/* Encodes the waiting deliveries of the session's storages, from the
   first, into buf until it is full. Returns the length. */
static size_t lmtp_hand_over_encode(struct lmtp_client *client, char *buf, size_t size,
				    struct lmtp_hand_over_end *end_r)
{
	size_t len = 0;
	for (unsigned int i = 0; i < client->storages.count; i++) {
		struct lmtp_storage *st = client->storages.v[i];
		for (unsigned int j = 0; j < st->unindexed.count; j++) {
			struct lmtp_unindexed *u = &st->unindexed.v[j];
			for (unsigned int k = 0; k < u->uids.count; k += INDEXER_NOTIFY_MAX_UIDS) {
				unsigned int n = u->uids.count - k;
				struct indexer_request req = {
					.user = st->user.name, .home = st->user.home,
					.mailbox = u->mailbox, .uid = st->user.uid, .gid = st->user.gid,
					.uids = u->uids.v + k,
					.uid_count = n < INDEXER_NOTIFY_MAX_UIDS ? n :
						INDEXER_NOTIFY_MAX_UIDS,
				};
				size_t n_len = indexer_request_encode(&req, buf + len, size - len);
				if (n_len == 0) {
					*end_r = (struct lmtp_hand_over_end){ i, j, k };
					return len;
				}
				len += n_len;
			}
		}
	}
	*end_r = (struct lmtp_hand_over_end){ client->storages.count, 0, 0 };
	return len;
}

/* Forgets what a sent datagram carried: everything before end. */
static void lmtp_hand_over_sent(struct lmtp_client *client, const struct lmtp_hand_over_end *end)
{
	for (unsigned int i = 0; i < client->storages.count && i <= end->storage; i++) {
		struct lmtp_storage *st = client->storages.v[i];
		if (i < end->storage) {
			array_clear(&st->unindexed);
		} else {
			array_delete(&st->unindexed, 0, end->mailbox);
			if (end->uids > 0)
				array_delete(&st->unindexed.v[0].uids, 0, end->uids);
		}
		lmtp_storage_count_left(client, st);
	}
}

/* Hands every waiting delivery of the session to the indexer process, as
   few datagrams as they fit in. Returns false when no indexer runs (the
   session must index them itself). When its socket is full the rest wait
   for the next hand-over (after a pause), or when final (the session goes
   idle or ends) are left to the first search. */
static bool lmtp_storage_hand_over(struct lmtp_client *client, bool final)
{
	if (!client->set->indexer.enabled)
		return false;
	static char buf[INDEXER_DATAGRAM_MAX];
	while (client->unindexed_count > 0) {
		struct lmtp_hand_over_end end;
		size_t len = lmtp_hand_over_encode(client, buf, sizeof(buf), &end);
		if (len == 0)
			break; /* a request that fits in no datagram: can't be */
		enum indexer_notify_result r = indexer_notify_send(client->set->base_dir, buf, len);
		if (r == INDEXER_NOTIFY_UNAVAILABLE)
			return false;
		if (r == INDEXER_NOTIFY_BUSY) {
			client->hand_over_after_ms = lmtp_msecs_now() + LMTP_HAND_OVER_BACKOFF_MSECS;
			break;
		}
		lmtp_hand_over_sent(client, &end);
	}
	if (final && client->unindexed_count > 0) {
		/* left to the first search */
		for (unsigned int i = 0; i < client->storages.count; i++) {
			array_clear(&client->storages.v[i]->unindexed);
			lmtp_storage_count_left(client, client->storages.v[i]);
		}
	}
	return true;
}

/* Indexes up to LMTP_INDEX_BATCH messages of each waiting mailbox, or
   until deadline (0: none), in the session itself (no indexer process).
   Runs as the storage's user. */
static void lmtp_storage_index(struct lmtp_client *client, struct lmtp_storage *st,
			       uint64_t deadline)
{
	const char *error;
	int switched = deliver_user_become(&st->user, &error);
	if (switched < 0) {
		log_error(&client->conn->log, "text_index_failed", "user=%s error=%s",
			  log_value(st->user.name), log_value(error));
		return;
	}
	if (st->mail_user == NULL || !mail_user_storage_is_current(st->mail_user)) {
		mail_user_deinit(&st->mail_user);
		if (mail_deliver_storage_open(client->set, &client->conn->log, &st->user,
					      true, &st->mail_user) < 0)
			array_clear(&st->unindexed); /* left to the first search */
	}
	while (st->unindexed.count > 0) {
		struct lmtp_unindexed *u = &st->unindexed.v[0];
		unsigned int n = u->uids.count < LMTP_INDEX_BATCH ? u->uids.count : LMTP_INDEX_BATCH;
		const char *text;
		if (mail_user_search_index_uids(st->mail_user, u->mailbox, u->uids.v, n, true) < 0) {
			mail_user_get_error(st->mail_user, &text);
			log_error(&client->conn->log, "text_index_failed", "user=%s mailbox=%s error=%s",
				  log_value(st->user.name), log_value(u->mailbox), log_value(text));
			n = u->uids.count; /* left to the first search */
		}
		array_delete(&u->uids, 0, n);
		if (u->uids.count == 0)
			array_delete(&st->unindexed, 0, 1);
		if (deadline != 0 && lmtp_msecs_now() >= deadline)
			break;
	}
	if (switched > 0)
		deliver_user_become_root();
	lmtp_storage_count_left(client, st);
}

/* Frees st; with index, what still waits is indexed by the session first
   (callers hand over to the indexer before, while every storage of the
   session is still there to be encoded). */
static void lmtp_storage_free(struct lmtp_client *client, struct lmtp_storage *st, bool index)
{
	if (index && st->unindexed.count > 0)
		lmtp_storage_index(client, st, 0);
	client->unindexed_count -= st->unindexed_count;
	if (st->mail_user != NULL) {
		/* closing parks the index connection, as the user's */
		const char *error;
		int switched = deliver_user_become(&st->user, &error);
		mail_user_deinit(&st->mail_user);
		if (switched > 0)
			deliver_user_become_root();
	}
	pool_destroy(&st->pool);
}

static struct lmtp_storage *lmtp_storage_find(struct lmtp_client *client,
					      const struct deliver_user *user)
{
	for (unsigned int i = 0; i < client->storages.count; i++) {
		struct lmtp_storage *st = client->storages.v[i];
		if (st->user.uid == user->uid && st->user.gid == user->gid &&
		    strcmp(st->user.name, user->name) == 0 &&
		    strcmp(st->user.home, user->home) == 0)
			return st;
	}
	return NULL;
}

static struct lmtp_storage *lmtp_storage_get(struct lmtp_client *client,
					     const struct deliver_user *user)
{
	struct lmtp_storage *st = lmtp_storage_find(client, user);
	if (st != NULL)
		return st;
	if (client->storages.count >= LMTP_STORAGE_MAX) {
		unsigned int lru = 0;
		for (unsigned int i = 1; i < client->storages.count; i++) {
			if (client->storages.v[i]->last_used < client->storages.v[lru]->last_used)
				lru = i;
		}
		if (client->storages.v[lru]->unindexed.count > 0)
			(void)lmtp_storage_hand_over(client, false);
		lmtp_storage_free(client, client->storages.v[lru], true);
		array_delete(&client->storages, lru, 1);
	}
	pool_t pool = pool_create("lmtp storage", 512);
	st = p_new(pool, struct lmtp_storage, 1);
	st->pool = pool;
	st->user = (struct deliver_user){
		.name = p_strdup(pool, user->name), .home = p_strdup(pool, user->home),
		.uid = user->uid, .gid = user->gid,
	};
	array_init(&st->unindexed, pool, 2);
	array_push(&client->storages, st);
	return st;
}

struct mail_user *lmtp_storage_open(struct lmtp_client *client, const struct deliver_user *user)
{
	struct lmtp_storage *st = lmtp_storage_find(client, user);
	i_assert(st != NULL);
	st->last_used = lmtp_msecs_now();
	/* deleted (and maybe made again) meanwhile: start afresh, as a new
	   session would */
	if (st->mail_user != NULL && !mail_user_storage_is_current(st->mail_user))
		mail_user_deinit(&st->mail_user);
	if (st->mail_user == NULL &&
	    mail_deliver_storage_open(client->set, &client->conn->log, &st->user,
				      lmtp_storage_defers(client), &st->mail_user) < 0)
		return NULL;
	return st->mail_user;
}

void lmtp_storage_prepare(struct lmtp_client *client, const struct deliver_user *user)
{
	(void)lmtp_storage_get(client, user);
}

static void lmtp_storage_add_unindexed(struct lmtp_client *client, struct lmtp_storage *st,
				       const char *mailbox, uint32_t uid)
{
	if (client->unindexed_count >= LMTP_INDEX_MAX_PENDING)
		return;
	struct lmtp_unindexed *u = NULL;
	for (unsigned int i = 0; i < st->unindexed.count && u == NULL; i++) {
		if (strcmp(st->unindexed.v[i].mailbox, mailbox) == 0)
			u = &st->unindexed.v[i];
	}
	if (u == NULL) {
		if (st->unindexed.count >= LMTP_STORAGE_MAX_MAILBOXES)
			return;
		u = array_append_space(&st->unindexed);
		u->mailbox = p_strdup(st->pool, mailbox);
		array_init(&u->uids, st->pool, 16);
	}
	array_push(&u->uids, uid);
	st->unindexed_count++;
	client->unindexed_count++;
}

void lmtp_storage_delivered(struct lmtp_client *client, const struct deliver_user *user,
			    const struct mail_deliver_result *result)
{
	struct lmtp_storage *st = lmtp_storage_find(client, user);
	if (st == NULL)
		return;
	/* a failure may have left the storage in any state: reopen it */
	if (result->status == MAIL_DELIVER_TEMPFAIL && st->mail_user != NULL) {
		const char *error;
		int switched = deliver_user_become(&st->user, &error);
		if (switched >= 0)
			mail_user_deinit(&st->mail_user);
		if (switched > 0)
			deliver_user_become_root();
	}
	if (!lmtp_storage_defers(client))
		return;
	for (unsigned int i = 0; i < result->stored_count; i++)
		lmtp_storage_add_unindexed(client, st, result->stored[i], result->stored_uids[i]);
}

void lmtp_storage_input_drained(struct lmtp_client *client)
{
	if (client->mail_given)
		return;
	if (client->set->indexer.enabled) {
		if (client->unindexed_count < LMTP_HAND_OVER_READY ||
		    lmtp_msecs_now() < client->hand_over_after_ms ||
		    lmtp_storage_hand_over(client, false))
			return;
		/* no indexer after all: the session indexes */
	}
	if (client->unindexed_count < LMTP_INDEX_READY)
		return;
	uint64_t deadline = lmtp_msecs_now() + LMTP_INDEX_SLICE_MSECS;
	for (unsigned int i = 0; i < client->storages.count; i++) {
		struct lmtp_storage *st = client->storages.v[i];
		if (st->unindexed_count >= LMTP_INDEX_READY)
			lmtp_storage_index(client, st, deadline);
		if (lmtp_msecs_now() >= deadline)
			break;
	}
}

static void lmtp_storage_idle(void *context)
{
	struct lmtp_client *client = context;
	if (client->unindexed_count > 0)
		(void)lmtp_storage_hand_over(client, true);
	uint64_t deadline = lmtp_msecs_now() + LMTP_INDEX_SLICE_MSECS;
	for (unsigned int i = 0; i < client->storages.count && client->unindexed_count > 0; i++) {
		struct lmtp_storage *st = client->storages.v[i];
		if (st->unindexed.count > 0)
			lmtp_storage_index(client, st, deadline);
		if (lmtp_msecs_now() >= deadline)
			break;
	}
	timeout_remove(&client->to_storage);
	if (client->unindexed_count > 0 && client->storages.count > 0) {
		/* the next slice after the loop had a chance to read input */
		client->to_storage = timeout_add(1, lmtp_storage_idle, client);
		return;
	}
	lmtp_storage_close_all(client, false);
}

void lmtp_storage_schedule(struct lmtp_client *client)
{
	if (client->storages.count == 0)
		return;
	timeout_remove(&client->to_storage);
	client->to_storage = timeout_add(LMTP_STORAGE_IDLE_MSECS, lmtp_storage_idle, client);
}

void lmtp_storage_close_all(struct lmtp_client *client, bool index)
{
	timeout_remove(&client->to_storage);
	if (index && client->unindexed_count > 0)
		(void)lmtp_storage_hand_over(client, true);
	for (unsigned int i = 0; i < client->storages.count; i++)
		lmtp_storage_free(client, client->storages.v[i], index);
	array_clear(&client->storages);
	client->unindexed_count = 0;
}
