/* Unit tests of the index: schema creation, mailbox rows, appends and
 * expunges keeping counts, UID map and expunge log exact, range and
 * per-row flag updates with CONDSTORE, keywords, subscriptions, checks,
 * parked connections. */
#include "test-common.h"
#include "index-cache.h"
#include "index-db.h"
#include "index-mailbox.h"
#include "index-message.h"
#include "index-search.h"

#include <sqlite3.h>
#include <unistd.h>

static char test_dir[] = "/tmp/test-index.XXXXXX";
static const char *db_path;

static struct index_db *test_open(bool expect_created)
{
	struct index_db *db;
	bool created;
	const char *error;
	test_assert(index_db_open(db_path, &db, &created, &error) == 0);
	test_assert(created == expect_created);
	return db;
}

static int64_t test_create_mailbox(struct index_db *db, const char *name)
{
	int64_t id = 0;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, name, t_strdup_printf(".%s", name), 0, &id) == 0);
	test_assert(index_db_commit(db) == 0);
	return id;
}

static void test_append_n(struct index_db *db, int64_t id, unsigned int n, uint32_t flags)
{
	struct index_change *ch;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	for (unsigned int i = 0; i < n; i++) {
		struct index_message msg = {
			.flags = flags, .filename = t_strdup_printf("f%u.%u", i, rand()),
			.fileinfo = "2,", .internal_date = 1000 + i, .save_date = 2000,
			.size = 100, .psize = 98, .guid = "g",
		};
		test_assert(index_change_append(ch, &msg) == 0);
	}
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
}

static void test_check(struct index_db *db, int64_t id)
{
	const char *problem = NULL;
	int ret = index_mailbox_check(db, id, &problem);
	if (ret != 0)
		printf("  check: %s\n", problem == NULL ? index_db_get_error(db) : problem);
	test_assert(ret == 0);
}

static void test_index_mailboxes(void)
{
	test_begin("index mailboxes");
	struct index_db *db = test_open(true);
	int64_t a = test_create_mailbox(db, "a");
	int64_t b = test_create_mailbox(db, "b");
	test_assert(a != b);

	struct index_mailbox mb;
	test_assert(index_mailbox_lookup(db, "a", t_pool(), &mb) == 1);
	test_assert(mb.id == a && mb.selectable && mb.uidnext == 1 && mb.uidvalidity != 0);
	test_assert_strcmp(mb.dir, ".a");
	uint32_t va = mb.uidvalidity;
	test_assert(index_mailbox_lookup(db, "b", t_pool(), &mb) == 1);
	test_assert(mb.uidvalidity > va);
	test_assert(index_mailbox_lookup(db, "c", t_pool(), &mb) == 0);

	/* a \Noselect parent and back */
	int64_t p;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, "p", NULL, 0, &p) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_mailbox_get(db, p, t_pool(), &mb) == 1);
	test_assert(!mb.selectable && mb.dir == NULL);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_reset(db, p, ".p") == 0);
	test_assert(index_mailbox_set_name(db, p, "q") == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_mailbox_lookup(db, "q", t_pool(), &mb) == 1);
	test_assert(mb.selectable && mb.uidvalidity > va);

	struct index_mailbox *list;
	unsigned int count;
	test_assert(index_mailbox_list(db, t_pool(), &list, &count) == 0);
	test_assert(count == 3);
	test_assert_strcmp(list[0].name, "a");
	test_assert_strcmp(list[2].name, "q");

	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_remove(db, b) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_mailbox_get(db, b, t_pool(), &mb) == 0);
	index_db_close(&db);

	/* persisted */
	db = test_open(false);
	test_assert(index_mailbox_lookup(db, "q", t_pool(), &mb) == 1);
	index_db_close(&db);
	test_end();
}

static void test_index_append_expunge(void)
{
	test_begin("index append, uidmap, expunge");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "big");
	/* dense enough for bitmap chunks and a sparse tail */
	test_append_n(db, id, 9000, 0);
	test_append_n(db, id, 10, INDEX_FLAG_SEEN | INDEX_FLAG_DELETED);
	test_check(db, id);

	struct index_mailbox mb;
	test_assert(index_mailbox_get(db, id, t_pool(), &mb) == 1);
	test_assert(mb.messages == 9010 && mb.unseen == 9000 && mb.deleted == 10);
	test_assert(mb.uidnext == 9011 && mb.vsize == 901000);
	uint64_t modseq0 = mb.highestmodseq;

	/* expunge every other message of the first 1000 and the deleted ones */
	struct index_change *ch;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	for (uint32_t uid = 1; uid <= 1000; uid += 2) {
		struct index_message old = { .uid = uid, .flags = 0, .size = 100 };
		test_assert(index_change_expunge(ch, &old) == 0);
	}
	struct index_iter *iter = index_iter_init(db, id, INDEX_ITER_DELETED, 0, 0, 0);
	struct index_message msg;
	unsigned int n = 0;
	while (index_iter_next(iter, &msg) > 0) {
		test_assert(index_change_expunge(ch, &msg) == 0);
		n++;
	}
	test_assert(index_iter_deinit(&iter) == 0);
	test_assert(n == 10);
	uint64_t expunge_modseq = index_change_get_modseq(ch);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	test_check(db, id);

	test_assert(index_mailbox_get(db, id, t_pool(), &mb) == 1);
	test_assert(mb.messages == 8500 && mb.deleted == 0 && mb.unseen == 8500);
	test_assert(mb.highestmodseq == expunge_modseq && expunge_modseq == modseq0 + 1);

	array_uint32_t uids;
	array_init(&uids, t_pool(), 16);
	test_assert(index_uidmap_load(db, id, &uids) == 0);
	test_assert(uids.count == 8500);
	test_assert(uids.v[0] == 2 && uids.v[499] == 1000 && uids.v[500] == 1001);
	test_assert(uids.v[uids.count - 1] == 9000);

	array_uint32_t exp;
	array_init(&exp, t_pool(), 16);
	test_assert(index_expunged_since(db, id, modseq0, &exp) == 0);
	test_assert(exp.count == 510);
	array_clear(&exp);
	test_assert(index_expunged_since(db, id, expunge_modseq, &exp) == 0);
	test_assert(exp.count == 0);

	uint32_t first;
	test_assert(index_first_unseen_uid(db, id, &first) == 1 && first == 2);
	uint32_t count;
	test_assert(index_count_from_uid(db, id, 8001, &count) == 0 && count == 1000);
	index_db_close(&db);
	test_end();
}

static void test_index_flags(void)
{
	test_begin("index flags");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "flags");
	test_append_n(db, id, 100, 0);
	struct index_mailbox mb;
	test_assert(index_mailbox_get(db, id, t_pool(), &mb) == 1);
	uint64_t base = mb.highestmodseq;

	/* +FLAGS (\Seen) on 1:50 */
	struct index_change *ch;
	unsigned int changed;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	test_assert(index_change_update_range(ch, 1, 50, INDEX_FLAG_SEEN, 0, false, 0, NULL,
					      &changed) == 0);
	test_assert(changed == 50);
	/* again: nothing changes */
	test_assert(index_change_update_range(ch, 1, 50, INDEX_FLAG_SEEN, 0, false, 0, NULL,
					      &changed) == 0);
	test_assert(changed == 0);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	test_check(db, id);
	test_assert(index_mailbox_get(db, id, t_pool(), &mb) == 1);
	test_assert(mb.unseen == 50 && mb.highestmodseq == base + 1);

	array_index_uid_modseq_t changes;
	array_init(&changes, t_pool(), 16);
	test_assert(index_changes_since(db, id, base, &changes) == 0);
	test_assert(changes.count == 50);

	/* UNCHANGEDSINCE: 1:50 have modseq base+1, so base fails them */
	array_uint32_t failed;
	array_init(&failed, t_pool(), 8);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	test_assert(index_change_update_range(ch, 45, 55, INDEX_FLAG_DELETED, 0, false, base,
					      &failed, &changed) == 0);
	test_assert(changed == 5 && failed.count == 6 && failed.v[0] == 45);
	/* one row with keywords and a file info */
	struct index_message old;
	test_assert(index_message_get(db, id, 60, t_pool(), &old) == 1);
	test_assert(index_change_set_flags(ch, &old, INDEX_FLAG_SEEN, "$Forwarded work",
					   "2,S") == 0);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	test_check(db, id);
	test_assert(index_mailbox_get(db, id, t_pool(), &mb) == 1);
	test_assert(mb.deleted == 5 && mb.unseen == 49);
	test_assert(index_message_get(db, id, 60, t_pool(), &old) == 1);
	test_assert_strcmp(old.keywords, "$Forwarded work");
	test_assert_strcmp(old.fileinfo, "2,S");

	/* REPLACE () clears keywords too */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	test_assert(index_change_update_range(ch, 1, 100, 0, INDEX_FLAGS_MASK, true, 0, NULL,
					      &changed) == 0);
	test_assert(changed == 56);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	test_check(db, id);
	test_assert(index_message_get(db, id, 60, t_pool(), &old) == 1);
	test_assert(old.keywords == NULL && old.flags == 0);
	index_db_close(&db);
	test_end();
}

static void test_index_keywords_subscriptions(void)
{
	test_begin("index keywords and subscriptions");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "kw");
	const char *kws[] = { "Work", "$Junk" };
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_keywords_define(db, id, t_pool(), kws, 2) == 1);
	const char *again[] = { "work" };
	test_assert(index_keywords_define(db, id, t_pool(), again, 1) == 1);
	test_assert_strcmp(again[0], "Work");
	test_assert(index_db_commit(db) == 0);

	array_str_t list;
	array_init(&list, t_pool(), 4);
	test_assert(index_keywords_list(db, id, t_pool(), &list) == 0);
	test_assert(list.count == 2);

	/* the limit */
	test_assert(index_db_begin_write(db) == 0);
	const char *many[INDEX_KEYWORDS_MAX];
	for (unsigned int i = 0; i < INDEX_KEYWORDS_MAX; i++)
		many[i] = t_strdup_printf("k%u", i);
	test_assert(index_keywords_define(db, id, t_pool(), many, INDEX_KEYWORDS_MAX) == 0);
	index_db_rollback(db);

	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_subscription_set(db, "x/y", true) == 0);
	test_assert(index_subscription_set(db, "a", true) == 0);
	test_assert(index_subscription_set(db, "a", true) == 0);
	test_assert(index_subscription_set(db, "x/y", false) == 0);
	test_assert(index_db_commit(db) == 0);
	array_clear(&list);
	test_assert(index_subscriptions_list(db, t_pool(), &list) == 0);
	test_assert(list.count == 1);
	test_assert_strcmp(list.v[0], "a");
	index_db_close(&db);
	test_end();
}

static void test_index_recount(void)
{
	test_begin("index check and recount");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "broken");
	test_append_n(db, id, 20, 0);
	/* break the cached counts behind the library's back */
	test_assert(index_db_begin_write(db) == 0);
	struct index_change *ch;
	test_assert(index_change_begin(db, id, &ch) == 1);
	struct index_message fake = { .uid = 5, .flags = INDEX_FLAG_SEEN, .size = 1 };
	test_assert(index_change_expunge(ch, &fake) == 0);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	const char *problem;
	test_assert(index_mailbox_check(db, id, &problem) == 1);

	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_recount(db, id) == 0);
	test_assert(index_db_commit(db) == 0);
	test_check(db, id);
	index_db_close(&db);
	test_end();
}

static void test_index_nested_iter(void)
{
	test_begin("index nested iteration");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "nested");
	test_append_n(db, id, 5, 0);
	struct index_iter *outer = index_iter_init(db, id, INDEX_ITER_UID_RANGE, 0, 1, 5);
	struct index_message msg, inner_msg;
	unsigned int n = 0;
	while (index_iter_next(outer, &msg) > 0) {
		struct index_iter *inner =
			index_iter_init(db, id, INDEX_ITER_UID_RANGE, 0, msg.uid, 5);
		while (index_iter_next(inner, &inner_msg) > 0)
			n++;
		test_assert(index_iter_deinit(&inner) == 0);
	}
	test_assert(index_iter_deinit(&outer) == 0);
	test_assert(n == 15);

	/* changed-order iteration with a keyset */
	struct index_iter *iter = index_iter_init(db, id, INDEX_ITER_CHANGED, 0, 2, 2);
	n = 0;
	while (index_iter_next(iter, &msg) > 0)
		n++;
	test_assert(index_iter_deinit(&iter) == 0);
	test_assert(n == 2);
	index_db_close(&db);
	test_end();
}

static void test_index_message_cache(void)
{
	test_begin("index message cache: fill, merge, expunge, copy, try-lock");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "cached");
	test_append_n(db, id, 3, 0);
	struct index_cache_fields f;
	test_assert(index_cache_get(db, id, 1, t_pool(), &f) == 0);
	test_assert(f.envelope == NULL && f.bodystructure == NULL);

	test_assert(index_db_try_begin_write(db) == 1);
	struct index_cache_fields env_only = { .envelope = "NIL NIL" };
	test_assert(index_cache_put(db, id, 1, &env_only) == 0);
	/* no message 99: no orphan row */
	test_assert(index_cache_put(db, id, 99, &env_only) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_cache_get(db, id, 99, t_pool(), &f) == 0);
	test_assert(index_cache_get(db, id, 1, t_pool(), &f) == 1);
	test_assert_strcmp(f.envelope, "NIL NIL");
	test_assert(f.body == NULL && f.bodystructure == NULL);

	/* a later fill adds fields and keeps the ones it doesn't have */
	test_assert(index_db_begin_write(db) == 0);
	struct index_cache_fields full = { .body = "B", .bodystructure = "BS" };
	test_assert(index_cache_put(db, id, 1, &full) == 0);
	test_assert(index_cache_put(db, id, 2, &full) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_cache_get(db, id, 1, t_pool(), &f) == 1);
	test_assert_strcmp(f.envelope, "NIL NIL");
	test_assert_strcmp(f.body, "B");
	test_assert_strcmp(f.bodystructure, "BS");

	/* another connection holding the write lock: try-lock says busy */
	struct index_db *other = test_open(false);
	test_assert(index_db_begin_write(other) == 0);
	test_assert(index_db_try_begin_write(db) == 0);
	index_db_rollback(other);
	index_db_close(&other);

	/* expunging a message drops its cache row */
	struct index_change *ch;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_change_begin(db, id, &ch) == 1);
	struct index_message old = { .uid = 1, .flags = 0, .size = 100 };
	test_assert(index_change_expunge(ch, &old) == 0);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_cache_get(db, id, 1, t_pool(), &f) == 0);
	test_assert(index_cache_get(db, id, 2, t_pool(), &f) == 1);

	/* a copy takes the row along; a source without one copies nothing */
	int64_t id2 = test_create_mailbox(db, "copies");
	test_append_n(db, id2, 2, 0);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_cache_copy(db, id, 2, id2, 1) == 0);
	test_assert(index_cache_copy(db, id, 3, id2, 2) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_cache_get(db, id2, 1, t_pool(), &f) == 1);
	test_assert_strcmp(f.bodystructure, "BS");
	test_assert(index_cache_get(db, id2, 2, t_pool(), &f) == 0);
	test_assert(index_cache_get(db, id, 2, t_pool(), &f) == 1);
	index_db_close(&db);

	/* a version 1 database (before the cache) is migrated on open */
	sqlite3 *raw;
	test_assert(sqlite3_open(db_path, &raw) == SQLITE_OK);
	test_assert(sqlite3_exec(raw, "DROP TRIGGER message_cache_gc; DROP TABLE message_cache;"
				 " DROP INDEX messages_flags; DROP TRIGGER message_search_gc;"
				 " DROP TRIGGER mailbox_search_reset; DROP TRIGGER mailbox_search_gc;"
				 " DROP TABLE message_search; DROP TABLE search_gc;"
				 " DROP TABLE search_state; DROP TABLE search_fts;"
				 " DROP TRIGGER mailbox_attributes_gc;"
				 " DROP TRIGGER mailbox_attributes_reset; DROP TABLE attributes;"
				 " DROP INDEX expunged_uid; ALTER TABLE expunged DROP COLUMN flags;"
				 " ALTER TABLE expunged DROP COLUMN keywords;"
				 " PRAGMA user_version = 1;",
				 NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(raw);
	db = test_open(false);
	test_assert(index_cache_get(db, id, 2, t_pool(), &f) == 0);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_cache_put(db, id, 2, &full) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_cache_get(db, id, 2, t_pool(), &f) == 1);
	index_db_close(&db);
	test_end();
}

static void test_search_put(struct index_db *db, int64_t id, uint32_t uid, const char *body,
			    const char *from)
{
	struct index_search_doc doc = { .text = { "SUBJECT: X\n", body, from },
					.keys = { .subject = "X", .message_id = "<m>" } };
	doc.text_len[INDEX_SEARCH_HEADER] = strlen(doc.text[INDEX_SEARCH_HEADER]);
	doc.text_len[INDEX_SEARCH_BODY] = strlen(body);
	doc.text_len[INDEX_SEARCH_FROM] = strlen(from);
	test_assert(index_search_put(db, id, uid, &doc) == 0);
}

static int test_count_keys(const struct index_search_keys *keys, void *context)
{
	test_assert(strcmp(keys->subject, "X") == 0 && strcmp(keys->message_id, "<m>") == 0);
	(*(unsigned int *)context)++;
	return 0;
}

/* only the requested keys are read */
static int test_count_subject_keys(const struct index_search_keys *keys, void *context)
{
	test_assert(strcmp(keys->subject, "X") == 0 && keys->message_id == NULL);
	(*(unsigned int *)context)++;
	return 0;
}

static void test_index_search(void)
{
	test_begin("index search");
	struct index_db *db = test_open(false);
	int64_t id = test_create_mailbox(db, "searchbox");
	test_append_n(db, id, 4, 0);
	array_uint32_t uids;
	uint32_t max_uid;
	array_init(&uids, t_pool(), 8);
	test_assert(index_search_list_missing(db, id, 0, &uids, &max_uid) == 0);
	test_assert(uids.count == 4 && max_uid == 4);
	test_assert(index_db_begin_write(db) == 0);
	test_search_put(db, id, 1, "THE INVOICE IS HERE", "ALICE\n");
	test_search_put(db, id, 2, "NO BILL", "BOB\n");
	test_search_put(db, id, 3, "AN \"INVOICE\" QUOTED", "");
	test_search_put(db, id, 99, "NOT A MESSAGE", "");
	test_assert(index_db_commit(db) == 0);
	array_clear(&uids);
	test_assert(index_search_list_missing(db, id, 0, &uids, &max_uid) == 0);
	test_assert(uids.count == 1 && uids.v[0] == 4);
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_BODY, "INVOICE", &uids) == 0);
	test_assert(uids.count == 2 && uids.v[0] == 1 && uids.v[1] == 3);
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_BODY, "\"INVOICE\"", &uids) == 0);
	test_assert(uids.count == 1 && uids.v[0] == 3);
	/* short needles scan */
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_BODY, "BI", &uids) == 0);
	test_assert(uids.count == 1 && uids.v[0] == 2);
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_FROM, "AL", &uids) == 0);
	test_assert(uids.count == 1 && uids.v[0] == 1);
	/* nothing found for an expunged (never existing) uid 99 */
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_BODY, "MESSAGE", &uids) == 0);
	test_assert(uids.count == 0);
	unsigned int n = 0;
	test_assert(index_search_iter_keys(db, id, INDEX_SEARCH_KEYS_ALL, test_count_keys, &n) == 0);
	test_assert(n == 3);
	n = 0;
	test_assert(index_search_iter_keys(db, id, INDEX_SEARCH_KEYS_SUBJECT,
					   test_count_subject_keys, &n) == 0);
	test_assert(n == 3);
	/* re-indexing replaces; expunging queues the text for gc */
	test_assert(index_db_begin_write(db) == 0);
	test_search_put(db, id, 2, "NOW AN INVOICE", "BOB\n");
	struct index_change *ch;
	test_assert(index_change_begin(db, id, &ch) == 1);
	struct index_message old = { .uid = 1, .size = 100 };
	test_assert(index_change_expunge(ch, &old) == 0);
	test_assert(index_change_finish(&ch) == 0);
	test_assert(index_db_commit(db) == 0);
	array_clear(&uids);
	test_assert(index_search_match(db, id, INDEX_SEARCH_BODY, "INVOICE", &uids) == 0);
	test_assert(uids.count == 2 && uids.v[0] == 2 && uids.v[1] == 3);
	bool pending, more;
	test_assert(index_search_gc_pending(db, &pending) == 0 && pending);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_search_gc(db, 1, &more) == 0 && more);
	test_assert(index_search_gc(db, 10, &more) == 0 && !more);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_search_gc_pending(db, &pending) == 0 && !pending);
	/* the watermark */
	uint32_t indexed;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_search_set_indexed_uid(db, id, 3) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_search_get_indexed_uid(db, id, &indexed) == 0 && indexed == 3);
	/* a save of the next UID moves it, one after a gap doesn't */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_search_advance_indexed_uid(db, id, 4) == 0);
	test_assert(index_search_advance_indexed_uid(db, id, 6) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_search_get_indexed_uid(db, id, &indexed) == 0 && indexed == 4);
	index_db_close(&db);
	test_end();
}

/* Parked connections (index_db_set_park_limit): a reopen of the same file
   gets the parked connection back; a file made anew is a new database;
   past the limit the oldest are closed. */
static void test_index_park(void)
{
	test_begin("index park");
	const char *path = t_strdup_printf("%s/park.db", test_dir);
	struct index_db *db, *first;
	struct index_mailbox mb;
	bool created;
	const char *error;

	index_db_set_park_limit(2);
	test_assert(index_db_open(path, &db, &created, &error) == 0 && created);
	int64_t id = test_create_mailbox(db, "Parked");
	first = db;
	index_db_close(&db);
	test_assert(db == NULL);
	test_assert(index_db_open(path, &db, &created, &error) == 0 && !created);
	test_assert(db == first);
	test_assert(index_mailbox_lookup(db, "Parked", t_pool(), &mb) == 1 && mb.id == id);
	index_db_close(&db);

	/* the user's storage deleted and made again while parked */
	test_assert(unlink(path) == 0);
	(void)unlink(t_strdup_printf("%s-wal", path));
	(void)unlink(t_strdup_printf("%s-shm", path));
	test_assert(index_db_open(path, &db, &created, &error) == 0 && created);
	test_assert(index_mailbox_lookup(db, "Parked", t_pool(), &mb) == 0);
	index_db_close(&db);

	struct index_db *dbs[3];
	for (unsigned int i = 0; i < 3; i++) {
		const char *p = t_strdup_printf("%s/park%u.db", test_dir, i);
		test_assert(index_db_open(p, &dbs[i], &created, &error) == 0 && created);
	}
	for (unsigned int i = 0; i < 3; i++)
		index_db_close(&dbs[i]);
	/* park0 was closed for real, park1 and park2 wait: all three open
	   as the databases they were */
	for (unsigned int i = 0; i < 3; i++) {
		const char *p = t_strdup_printf("%s/park%u.db", test_dir, i);
		test_assert(index_db_open(p, &dbs[i], &created, &error) == 0 && !created);
	}
	for (unsigned int i = 0; i < 3; i++)
		index_db_close(&dbs[i]);
	index_db_set_park_limit(0);
	test_end();
}

static struct index_db *test_open_path(const char *path, bool expect_created)
{
	struct index_db *db;
	bool created;
	const char *error;
	test_assert(index_db_open(path, &db, &created, &error) == 0);
	test_assert(created == expect_created);
	return db;
}

static bool test_has_mailbox(struct index_db *db, const char *name)
{
	struct index_mailbox mb;
	return index_mailbox_lookup(db, name, t_pool(), &mb) == 1;
}

static void test_remove_db_files(const char *path)
{
	unlink(path);
	unlink(t_strdup_printf("%s-wal", path));
	unlink(t_strdup_printf("%s-shm", path));
}

static void test_index_park_stale(void)
{
	test_begin("index park: replaced file, open transaction");
	const char *path = t_strdup_printf("%s/idle.db", test_dir);
	index_db_set_park_limit(2);
	struct index_db *a = test_open_path(path, true);
	struct index_db *kept = a;
	index_db_close(&a);
	/* the kept connection comes back; it sees another one's commits */
	a = test_open_path(path, false);
	test_assert(a == kept);
	struct index_db *b = test_open_path(path, false);
	test_assert(b != a);
	test_create_mailbox(b, "one");
	test_assert(test_has_mailbox(a, "one"));
	index_db_close(&b);
	index_db_close(&a);

	/* the storage was deleted and made again (here by another program)
	   while two were kept: neither comes back, and closing them leaves
	   the new database's WAL alone */
	test_remove_db_files(path);
	sqlite3 *raw;
	test_assert(sqlite3_open(path, &raw) == SQLITE_OK);
	test_assert(sqlite3_exec(raw, "PRAGMA journal_mode = WAL; CREATE TABLE t (x);"
				 " INSERT INTO t VALUES (1);", NULL, NULL, NULL) == SQLITE_OK);
	a = test_open_path(path, true);
	test_assert(!test_has_mailbox(a, "one"));
	test_assert(access(t_strdup_printf("%s-wal", path), F_OK) == 0);
	test_assert(sqlite3_exec(raw, "INSERT INTO t VALUES (2);", NULL, NULL, NULL) == SQLITE_OK);
	test_create_mailbox(a, "two");
	sqlite3_close(raw);
	index_db_close(&a);

	/* one closed in a transaction is rolled back first; turning keeping
	   off closes the kept ones */
	a = test_open_path(path, false);
	test_assert(index_db_begin_read(a) == 0);
	index_db_close(&a);
	index_db_set_park_limit(0);
	a = test_open_path(path, false);
	test_assert(test_has_mailbox(a, "two"));
	index_db_close(&a);
	test_end();
}

static void test_cleanup(void)
{
	char *cmd = t_strdup_printf("rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		printf("cleanup failed\n");
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_index_mailboxes,
		test_index_append_expunge,
		test_index_flags,
		test_index_keywords_subscriptions,
		test_index_recount,
		test_index_nested_iter,
		test_index_message_cache,
		test_index_search,
		test_index_park,
		test_index_park_stale,
		NULL
	};
	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp failed");
	db_path = i_strdup(t_strdup_printf("%s/tern-index.db", test_dir));
	int ret = test_run(tests);
	test_cleanup();
	free((char *)db_path);
	return ret;
}
