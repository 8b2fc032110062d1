/* Unit tests for the indexer's datagram format (indexer-notify.c) and
 * queue (indexer-queue.c): round trips and malformed datagrams, readiness
 * after the quiet delay and the maximum delay, the queue limit, and
 * sorting/deduplicating UIDs. */
#include "test-common.h"
#include "indexer-queue.h"

#include <string.h>

/* Decodes every request of a datagram; -1 if any is malformed. */
static int decode_all(const char *data, size_t size, uint32_t *uids, struct indexer_request *last_r)
{
	size_t pos = 0;
	do {
		if (indexer_request_decode(data, size, &pos, uids, last_r) < 0)
			return -1;
	} while (pos < size);
	return 0;
}

static struct indexer_request req_make(const char *user, const char *mailbox,
				       const uint32_t *uids, unsigned int count)
{
	return (struct indexer_request){
		.user = user, .home = "/home/x", .mailbox = mailbox, .uid = 1000, .gid = 100,
		.uids = uids, .uid_count = count,
	};
}

static void test_encode_decode(void)
{
	test_begin("indexer request encode/decode");
	static const uint32_t uids[] = { 1, 42, 4294967295U };
	char buf[INDEXER_DATAGRAM_MAX];
	uint32_t got_uids[INDEXER_NOTIFY_MAX_UIDS];
	struct indexer_request req = req_make("alice@example.org", "Lists/tern dev", uids, 3), got;
	size_t len = indexer_request_encode(&req, buf, sizeof(buf));
	test_assert(len > 0);
	test_assert(decode_all(buf, len, got_uids, &got) == 0);
	test_assert_strcmp(got.user, "alice@example.org");
	test_assert_strcmp(got.home, "/home/x");
	test_assert_strcmp(got.mailbox, "Lists/tern dev");
	test_assert(got.uid == 1000 && got.gid == 100);
	test_assert(got.uid_count == 3 && got_uids[0] == 1 && got_uids[1] == 42 &&
		    got_uids[2] == 4294967295U);
	/* two requests in one datagram */
	struct indexer_request req2 = req_make("bob", "Junk", uids + 1, 1);
	size_t len2 = indexer_request_encode(&req2, buf + len, sizeof(buf) - len);
	size_t pos = 0;
	test_assert(len2 > 0);
	test_assert(indexer_request_decode(buf, len + len2, &pos, got_uids, &got) == 0 &&
		    pos == len && strcmp(got.user, "alice@example.org") == 0);
	test_assert(indexer_request_decode(buf, len + len2, &pos, got_uids, &got) == 0 &&
		    pos == len + len2 && strcmp(got.user, "bob") == 0 &&
		    strcmp(got.mailbox, "Junk") == 0 && got.uid_count == 1 && got_uids[0] == 42);
	/* too small a buffer, no UIDs, too many UIDs */
	test_assert(indexer_request_encode(&req, buf, 20) == 0);
	req.uid_count = 0;
	test_assert(indexer_request_encode(&req, buf, sizeof(buf)) == 0);
	req.uid_count = INDEXER_NOTIFY_MAX_UIDS + 1;
	test_assert(indexer_request_encode(&req, buf, sizeof(buf)) == 0);
	test_end();
}

static void test_decode_malformed(void)
{
	static const struct {
		const char *data;
		size_t size;
	} bad[] = {
#define D(s) { s, sizeof(s) }
		D(""),
		D("2\0u\0/h\0" "1\0" "1\0INBOX\0" "1"),      /* version */
		D("1\0\0/h\0" "1\0" "1\0INBOX\0" "1"),       /* no user */
		D("1\0u\0h\0" "1\0" "1\0INBOX\0" "1"),       /* relative home */
		D("1\0u\0/h\0x\0" "1\0INBOX\0" "1"),         /* uid */
		D("1\0u\0/h\0" "1\0" "1\0\0" "1"),           /* no mailbox */
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0"),          /* no UIDs */
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0" "0"),      /* UID 0 */
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0" "1  2"),   /* empty UID */
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0" "1 -2"),
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0" "4294967296"),
		D("1\0u\0/h\0" "1\0" "1\0INBOX\0" "1\0extra"),
		D("1\0u\0/h\0" "1\0" "1\0INBOX"),            /* cut short */
#undef D
	};
	uint32_t uids[INDEXER_NOTIFY_MAX_UIDS];
	struct indexer_request req;
	test_begin("indexer request malformed");
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++)
		test_assert(decode_all(bad[i].data, bad[i].size, uids, &req) < 0);
	/* a trailing NUL is required */
	test_assert(decode_all("1\0u\0/h\0" "1\0" "1\0INBOX\0" "7", 18, uids, &req) < 0);
	test_assert(decode_all("1\0u\0/h\0" "1\0" "1\0INBOX\0" "7", 19, uids, &req) == 0 &&
		    req.uid_count == 1 && uids[0] == 7);
	test_end();
}

static void test_queue_ready(void)
{
	static const uint32_t a[] = { 5, 3, 5 }, b[] = { 1 };
	test_begin("indexer queue readiness");
	struct indexer_queue *q = indexer_queue_create(100);
	struct indexer_request ra = req_make("alice", "INBOX", a, 3);
	struct indexer_request rb = req_make("bob", "INBOX", b, 1);
	test_assert(indexer_queue_next_due(q, 0, 1000, 30000) == UINT64_MAX);
	test_assert(indexer_queue_add(q, &ra, 1000) == 3);
	test_assert(indexer_queue_add(q, &rb, 1500) == 1);
	ra.mailbox = "Junk";
	test_assert(indexer_queue_add(q, &ra, 1800) == 3); /* alice again: last now */
	test_assert(indexer_queue_count(q) == 7 && indexer_queue_users(q) == 2);
	/* bob has been quiet longest */
	test_assert(indexer_queue_next_due(q, 1600, 1000, 30000) == 900);
	test_assert(indexer_queue_take_ready(q, 2499, 1000, 30000) == NULL);
	struct indexer_user *u = indexer_queue_take_ready(q, 2500, 1000, 30000);
	test_assert(u != NULL && strcmp(u->name, "bob") == 0 && u->count == 1);
	indexer_user_free(&u);
	test_assert(indexer_queue_take_ready(q, 2500, 1000, 30000) == NULL);
	/* alice keeps getting mail: the maximum delay counts from her first */
	for (uint64_t t = 2000; t < 31000; t += 500) {
		ra.mailbox = "INBOX";
		(void)indexer_queue_add(q, &ra, t);
	}
	test_assert(indexer_queue_next_due(q, 30999, 1000, 30000) == 0);
	u = indexer_queue_take_ready(q, 31000, 1000, 30000);
	test_assert(u != NULL && strcmp(u->name, "alice") == 0 && u->mailboxes.count == 2);
	test_assert(indexer_queue_count(q) == 0);
	indexer_user_normalize(u);
	/* INBOX: 5 3 5 and the many repeats -> 3 5; Junk: 3 5 */
	test_assert(u->count == 4);
	test_assert(u->mailboxes.v[0].uids.count == 2 && u->mailboxes.v[0].uids.v[0] == 3 &&
		    u->mailboxes.v[0].uids.v[1] == 5);
	indexer_user_free(&u);
	test_assert(indexer_queue_users(q) == 0);
	indexer_queue_destroy(&q);
	test_end();
}

static void test_queue_limit(void)
{
	uint32_t uids[10];
	for (unsigned int i = 0; i < N_ELEMENTS(uids); i++)
		uids[i] = i + 1;
	test_begin("indexer queue limit");
	struct indexer_queue *q = indexer_queue_create(15);
	struct indexer_request r = req_make("alice", "INBOX", uids, 10);
	test_assert(indexer_queue_add(q, &r, 0) == 10);
	r.user = "bob";
	test_assert(indexer_queue_add(q, &r, 0) == 5);
	test_assert(indexer_queue_add(q, &r, 0) == 0);
	struct indexer_user *u = indexer_queue_take_ready(q, 1000, 1000, 30000);
	test_assert(u != NULL && u->count == 10);
	indexer_user_free(&u);
	test_assert(indexer_queue_add(q, &r, 2000) == 10);
	indexer_queue_destroy(&q);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_encode_decode, test_decode_malformed, test_queue_ready, test_queue_limit,
		NULL,
	};
	return test_run(tests);
}
