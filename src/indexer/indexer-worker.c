/* The indexer process: socket input, the schedule, and indexing a user's
 * queued messages in batches as that user (indexer-worker.h). */
#include "indexer-worker.h"
#include "indexer-queue.h"
#include "deliver-user.h"
#include "index-db.h"
#include "ioloop.h"
#include "log.h"
#include "mail-storage.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* messages per write transaction for a user whose deliveries paused (a
   bigger batch is about a tenth cheaper per message: fewer FTS5 segments
   to flush and merge) */
#define INDEXER_BATCH 64
/* ... and for one taken at max_delay while its mail still comes: short
   enough that a delivery to it never waits long for the index lock */
#define INDEXER_BATCH_BUSY_USER 16
/* datagrams read per wakeup before the indexing goes on */
#define INDEXER_READ_MAX 256
/* index connections kept open (index-db.h) */
#define INDEXER_PARKED_INDEXES 16
/* expunged messages' text rows deleted per user visit */
#define INDEXER_GC_MAX 1000

struct indexer_worker {
	const struct tern_settings *set;
	int fd;
	struct io *io;
	struct timeout *to;
	struct indexer_queue *queue;
	/* the user being indexed and where in its mailboxes */
	struct indexer_user *cur;
	struct mail_user *mail_user;
	unsigned int mailbox_idx, uid_idx, batch;
	uint64_t user_started_ms, user_indexed;
	uint64_t dropped_full, indexed, failed;
};

static struct indexer_worker iw = { .fd = -1 };

static void indexer_schedule(void);

static void indexer_input_request(const struct indexer_request *req)
{
	unsigned int taken = indexer_queue_add(iw.queue, req, ioloop_now_ms());
	if (taken < req->uid_count) {
		if (iw.dropped_full == 0)
			log_warning(NULL, "indexer_queue_full",
				    "max_queued=%u (the rest is left to searches)",
				    iw.set->indexer.max_queued);
		iw.dropped_full += req->uid_count - taken;
	}
}

static void indexer_input(void *context ATTR_UNUSED)
{
	static char buf[INDEXER_DATAGRAM_MAX + 1];
	uint32_t uids[INDEXER_NOTIFY_MAX_UIDS];
	for (unsigned int i = 0; i < INDEXER_READ_MAX; i++) {
		ssize_t ret = recv(iw.fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (ret < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_error(NULL, "indexer_recv_failed", "error=%s",
					  log_value(strerror(errno)));
			break;
		}
		if ((size_t)ret > INDEXER_DATAGRAM_MAX) {
			log_error(NULL, "indexer_bad_request", "size=%zd", ret);
			continue;
		}
		size_t pos = 0;
		while (pos < (size_t)ret) {
			struct indexer_request req;
			if (indexer_request_decode(buf, (size_t)ret, &pos, uids, &req) < 0) {
				log_error(NULL, "indexer_bad_request", "size=%zd offset=%zu", ret, pos);
				break;
			}
			indexer_input_request(&req);
		}
	}
	indexer_schedule();
}

/* Closes the current user's storage, as the user (closing parks the index
   connection), and forgets the user. */
static void indexer_user_done(void)
{
	log_debug(NULL, "text_indexed", "user=%s messages=%llu queued=%u msecs=%llu",
		  log_value(iw.cur->name), (unsigned long long)iw.user_indexed, iw.cur->count,
		  (unsigned long long)(ioloop_now_ms() - iw.user_started_ms));
	if (iw.mail_user != NULL) {
		const char *error;
		struct deliver_user du = {
			.name = iw.cur->name, .home = iw.cur->home,
			.uid = iw.cur->uid, .gid = iw.cur->gid,
		};
		int switched = deliver_user_become(&du, &error);
		if (switched >= 0)
			mail_user_deinit(&iw.mail_user);
		if (switched > 0)
			deliver_user_become_root();
	}
	indexer_user_free(&iw.cur);
}

/* One batch of the current user, as the user. Returns true when the user
   is finished. */
static bool indexer_user_step(void)
{
	struct indexer_user *u = iw.cur;
	struct deliver_user du = { .name = u->name, .home = u->home, .uid = u->uid, .gid = u->gid };
	const char *error;
	int switched = deliver_user_become(&du, &error);
	if (switched < 0) {
		log_error(NULL, "text_index_failed", "user=%s error=%s", log_value(u->name),
			  log_value(error));
		iw.failed += u->count;
		return true;
	}
	bool done = false;
	struct stat st;
	if (iw.mail_user == NULL &&
	    stat(t_strdup_printf("%s/%s", u->home, MAIL_INDEX_FILENAME), &st) < 0 &&
	    errno == ENOENT) {
		/* the storage was deleted meanwhile: don't make it again */
		log_debug(NULL, "text_index_skipped", "user=%s reason=\"no storage\"",
			  log_value(u->name));
		done = true;
	} else if (iw.mail_user == NULL &&
		   mail_deliver_storage_open(iw.set, NULL, &du, true, &iw.mail_user) < 0) {
		iw.failed += u->count;
		done = true;
	}
	while (!done && iw.mailbox_idx < u->mailboxes.count) {
		struct indexer_mailbox *mb = &u->mailboxes.v[iw.mailbox_idx];
		if (iw.uid_idx >= mb->uids.count) {
			iw.mailbox_idx++;
			iw.uid_idx = 0;
			continue;
		}
		unsigned int n = mb->uids.count - iw.uid_idx;
		if (n > iw.batch)
			n = iw.batch;
		/* LMTP left the message cache to this read too */
		if (mail_user_search_index_uids(iw.mail_user, mb->name, mb->uids.v + iw.uid_idx,
						n, true) < 0) {
			const char *text;
			(void)mail_user_get_error(iw.mail_user, &text);
			log_error(NULL, "text_index_failed", "user=%s mailbox=%s error=%s",
				  log_value(u->name), log_value(mb->name), log_value(text));
			/* the rest of this mailbox is left to the first search */
			iw.failed += mb->uids.count - iw.uid_idx;
			iw.uid_idx = mb->uids.count;
			continue;
		}
		iw.indexed += n;
		iw.user_indexed += n;
		iw.uid_idx += n;
		break; /* one batch per step */
	}
	if (!done && iw.mailbox_idx >= u->mailboxes.count) {
		/* the text of messages expunged meanwhile goes too */
		if (mail_user_search_gc(iw.mail_user, INDEXER_GC_MAX) < 0) {
			const char *text;
			(void)mail_user_get_error(iw.mail_user, &text);
			log_error(NULL, "search_gc_failed", "user=%s error=%s",
				  log_value(u->name), log_value(text));
		}
		done = true;
	}
	if (switched > 0)
		deliver_user_become_root();
	return done;
}

static void indexer_run(void *context ATTR_UNUSED)
{
	/* timeout_add_once() removed itself */
	iw.to = NULL;
	if (iw.cur == NULL) {
		const struct indexer_settings *iset = &iw.set->indexer;
		iw.cur = indexer_queue_take_ready(iw.queue, ioloop_now_ms(), iset->delay_ms,
						  iset->max_delay_ms);
		if (iw.cur == NULL) {
			indexer_schedule();
			return;
		}
		indexer_user_normalize(iw.cur);
		iw.mailbox_idx = iw.uid_idx = 0;
		bool quiet = ioloop_now_ms() >= iw.cur->last_ms + iset->delay_ms;
		iw.batch = quiet ? INDEXER_BATCH : INDEXER_BATCH_BUSY_USER;
		iw.user_started_ms = ioloop_now_ms();
		iw.user_indexed = 0;
	}
	if (indexer_user_step())
		indexer_user_done();
	/* back to the loop between batches: the socket is read meanwhile */
	indexer_schedule();
}

static void indexer_schedule(void)
{
	if (iw.to != NULL)
		return;
	uint64_t due = 0;
	if (iw.cur == NULL) {
		const struct indexer_settings *iset = &iw.set->indexer;
		due = indexer_queue_next_due(iw.queue, ioloop_now_ms(), iset->delay_ms,
					     iset->max_delay_ms);
		if (due == UINT64_MAX)
			return; /* the next request schedules */
	}
	iw.to = timeout_add_once(due > 60000 ? 60000 : (unsigned int)due, indexer_run, NULL);
}

int indexer_worker_init(const struct tern_settings *set, int fd, const char **error_r)
{
	iw.set = set;
	iw.fd = fd;
	/* below the serving processes; a nice value can't fail upwards */
	if (setpriority(PRIO_PROCESS, 0, (int)set->indexer.nice) < 0) {
		*error_r = t_strdup_printf("setpriority(%u) failed: %s", set->indexer.nice,
					   strerror(errno));
		return -1;
	}
	iw.queue = indexer_queue_create(set->indexer.max_queued);
	index_db_set_park_limit(INDEXER_PARKED_INDEXES);
	iw.io = io_add(fd, IO_READ, indexer_input, NULL);
	return 0;
}

/* What a stopping indexer still had queued, sent back into its socket as
   requests: the master keeps the socket across a reload (and an indexer
   restart), so the next indexer reads them. */
struct indexer_hand_back {
	char buf[INDEXER_DATAGRAM_MAX];
	size_t used;
	unsigned int buffered; /* UIDs in buf */
	unsigned int sent, left;
	bool failed; /* the socket took no more: the rest is left to searches */
};

static void indexer_hand_back_flush(struct indexer_hand_back *hb)
{
	if (hb->used > 0 && !hb->failed &&
	    indexer_notify_send(iw.set->base_dir, hb->buf, hb->used) == INDEXER_NOTIFY_SENT) {
		hb->sent += hb->buffered;
	} else {
		hb->failed = true;
		hb->left += hb->buffered;
	}
	hb->used = 0;
	hb->buffered = 0;
}

/* Adds req to the datagram being filled, sending that first when req
   doesn't fit. */
static void indexer_hand_back_add(struct indexer_hand_back *hb, const struct indexer_request *req)
{
	size_t len = 0;
	if (!hb->failed) {
		len = indexer_request_encode(req, hb->buf + hb->used, sizeof(hb->buf) - hb->used);
		if (len == 0 && hb->used > 0) {
			indexer_hand_back_flush(hb);
			if (!hb->failed)
				len = indexer_request_encode(req, hb->buf, sizeof(hb->buf));
		}
	}
	if (len == 0) {
		hb->left += req->uid_count;
		return;
	}
	hb->used += len;
	hb->buffered += req->uid_count;
}

/* Adds u's UIDs from mailbox mailbox_idx, UID uid_idx on. */
static void indexer_hand_back_user(struct indexer_hand_back *hb, const struct indexer_user *u,
				   unsigned int mailbox_idx, unsigned int uid_idx)
{
	for (unsigned int m = mailbox_idx; m < u->mailboxes.count; m++, uid_idx = 0) {
		const struct indexer_mailbox *mb = &u->mailboxes.v[m];
		for (unsigned int i = uid_idx; i < mb->uids.count;) {
			unsigned int n = I_MIN(mb->uids.count - i, INDEXER_NOTIFY_MAX_UIDS);
			const struct indexer_request req = {
				.user = u->name, .home = u->home, .mailbox = mb->name,
				.uid = u->uid, .gid = u->gid, .uids = mb->uids.v + i, .uid_count = n,
			};
			indexer_hand_back_add(hb, &req);
			i += n;
		}
	}
}

/* Returns how many UIDs were left to searches. */
static unsigned int indexer_hand_back(void)
{
	struct indexer_hand_back *hb = i_new(struct indexer_hand_back, 1);
	if (iw.cur != NULL)
		indexer_hand_back_user(hb, iw.cur, iw.mailbox_idx, iw.uid_idx);
	struct indexer_user *u;
	while (iw.queue != NULL &&
	       (u = indexer_queue_take_ready(iw.queue, UINT64_MAX / 2, 0, 0)) != NULL) {
		indexer_user_normalize(u);
		indexer_hand_back_user(hb, u, 0, 0);
		indexer_user_free(&u);
	}
	if (hb->used > 0)
		indexer_hand_back_flush(hb);
	unsigned int sent = hb->sent, left = hb->left;
	i_free(hb);
	if (sent > 0 || left > 0)
		log_info(NULL, "indexer_queue_handed_back", "messages=%u left_to_search=%u", sent, left);
	return left;
}

void indexer_worker_deinit(void)
{
	timeout_remove(&iw.to);
	io_remove(&iw.io);
	unsigned int left = iw.set == NULL ? 0 : indexer_hand_back();
	if (iw.cur != NULL)
		indexer_user_done();
	indexer_notify_deinit();
	if (left > 0 || iw.dropped_full > 0 || iw.failed > 0)
		log_info(NULL, "indexer_stop",
			 "indexed=%llu left_to_search=%u dropped_queue_full=%llu failed=%llu",
			 (unsigned long long)iw.indexed, left,
			 (unsigned long long)iw.dropped_full, (unsigned long long)iw.failed);
	indexer_queue_destroy(&iw.queue);
	index_db_set_park_limit(0);
	if (iw.fd >= 0)
		close(iw.fd);
	iw.fd = -1;
}
