/* Tests of the storage API's semantics: mailbox management (RFC 9051
 * §6.3.4-6.3.11), views and their sync (EXISTS, EXPUNGE, FETCH FLAGS,
 * held-back expunges, own changes), flags with CONDSTORE, copy and move
 * with COPYUID, expunge, \Recent, UID stability across reopen, and the
 * notify fd waking a session when another process saves. */
#include "test-common.h"
#include "test-storage-common.h"
#include "ioloop.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* static: the event loop clears the temporary pool */
static char home[256];

static struct mail_user *test_fresh_user(bool special)
{
	snprintf(home, sizeof(home), "%s", test_storage_mkdtemp("test-storage"));
	return test_storage_user(home, special);
}

static const struct mailbox_list_entry *
test_find_entry(const struct mailbox_list_entry *entries, unsigned int count, const char *name)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	}
	return NULL;
}

static nlink_t test_max_links(const char *dir)
{
	DIR *d = opendir(dir);
	nlink_t max = 0;
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    st.st_nlink > max)
			max = st.st_nlink;
	}
	if (d != NULL)
		closedir(d);
	return max;
}

static enum mail_error test_error(struct mail_user *user)
{
	const char *text;
	return mail_user_get_error(user, &text);
}

static void test_defaults(void)
{
	test_begin("storage new user defaults");
	struct mail_user *user = test_fresh_user(true);
	const struct mailbox_list_entry *entries, *e;
	unsigned int count;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	test_assert(count == 6);
	test_assert_strcmp(entries[0].name, "INBOX");
	test_assert((entries[0].attrs & MAILBOX_ATTR_SUBSCRIBED) != 0);
	e = test_find_entry(entries, count, "Sent");
	test_assert(e != NULL && e->special_use == MAILBOX_SPECIAL_SENT &&
		    (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0 &&
		    (e->attrs & MAILBOX_ATTR_HASNOCHILDREN) != 0);
	e = test_find_entry(entries, count, "Trash");
	test_assert(e != NULL && e->special_use == MAILBOX_SPECIAL_TRASH);
	struct stat st;
	test_assert(stat(t_strdup_printf("%s/Maildir/.Sent/cur", home), &st) == 0);
	test_assert(stat(t_strdup_printf("%s/Maildir/cur", home), &st) == 0);
	test_assert(stat(t_strdup_printf("%s/tern-index.db", home), &st) == 0);
	mail_user_deinit(&user);

	/* a second init doesn't recreate anything */
	user = test_storage_user(home, true);
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	test_assert(count == 6);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_names(void)
{
	test_begin("storage mailbox names and create");
	struct mail_user *user = test_fresh_user(false);
	static const char *const bad[] = {
		"", "/a", "a//b", "//", "a/../b", "a/./b", "x\x01y", "bad\xff", "w*", "w%",
	};
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		test_assert(mailbox_create(user, bad[i], 0) < 0);
		test_assert(test_error(user) == MAIL_ERROR_PARAMS);
	}
	char longname[MAILBOX_NAME_MAX_LENGTH + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	test_assert(mailbox_create(user, longname, 0) < 0 && test_error(user) == MAIL_ERROR_PARAMS);

	test_assert(mailbox_create(user, "a/b/c", 0) == 0);
	test_assert(mailbox_create(user, "a/b", 0) < 0 && test_error(user) == MAIL_ERROR_EXISTS);
	test_assert(mailbox_create(user, "inbox", 0) < 0 && test_error(user) == MAIL_ERROR_EXISTS);
	/* a trailing separator only declares the intent to have children */
	test_assert(mailbox_create(user, "t/", 0) == 0);
	test_assert_strcmp(mailbox_name_canonical("inbox"), "INBOX");
	test_assert_strcmp(mailbox_name_canonical("iNbOx/Sub"), "INBOX/Sub");
	test_assert_strcmp(mailbox_name_canonical("inboxes"), "inboxes");

	const struct mailbox_list_entry *entries, *e;
	unsigned int count;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	test_assert(count == 5); /* INBOX a a/b a/b/c t */
	e = test_find_entry(entries, count, "a");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_HASCHILDREN) != 0 &&
		    (e->attrs & MAILBOX_ATTR_NOSELECT) == 0);
	e = test_find_entry(entries, count, "a/b/c");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_HASNOCHILDREN) != 0);
	test_assert(test_find_entry(entries, count, "t") != NULL);

	/* subscriptions of names that don't exist */
	test_assert(mailbox_set_subscribed(user, "ghost", true) == 0);
	test_assert(mailbox_set_subscribed(user, "a", true) == 0);
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	e = test_find_entry(entries, count, "ghost");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_NONEXISTENT) != 0 &&
		    (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0);
	e = test_find_entry(entries, count, "a");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0);
	test_assert(mailbox_set_subscribed(user, "ghost", false) == 0);
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	test_assert(test_find_entry(entries, count, "ghost") == NULL);

	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "nope", STATUS_MESSAGES, t_pool(), &status) < 0);
	test_assert(test_error(user) == MAIL_ERROR_NOTFOUND);
	test_assert(mailbox_open(user, "nope", 0) == NULL && test_error(user) == MAIL_ERROR_NOTFOUND);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_delete(void)
{
	test_begin("storage delete");
	struct mail_user *user = test_fresh_user(false);
	test_assert(mailbox_create(user, "a/b", 0) == 0);
	test_assert(test_storage_save(user, "a", "Subject: x\r\n\r\nbody\r\n", 0, NULL) == 1);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "a", 0, t_pool(), &status) == 0);
	uint32_t old_validity = status.uidvalidity;

	test_assert(mailbox_delete(user, "INBOX") < 0 && test_error(user) == MAIL_ERROR_CANNOT);
	test_assert(mailbox_delete(user, "nope") < 0 && test_error(user) == MAIL_ERROR_NOTFOUND);
	/* RFC 9051 §6.3.5: the parent stays as \Noselect */
	test_assert(mailbox_delete(user, "a") == 0);
	const struct mailbox_list_entry *entries, *e;
	unsigned int count;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	e = test_find_entry(entries, count, "a");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_NOSELECT) != 0 &&
		    (e->attrs & MAILBOX_ATTR_HASCHILDREN) != 0);
	test_assert(mailbox_open(user, "a", 0) == NULL);
	struct stat st;
	test_assert(stat(t_strdup_printf("%s/Maildir/.a", home), &st) < 0);
	test_assert(stat(t_strdup_printf("%s/Maildir/.a.b/cur", home), &st) == 0);
	test_assert(mailbox_delete(user, "a") < 0 && test_error(user) == MAIL_ERROR_CANNOT);

	/* deleting the last child removes the \Noselect parent */
	test_assert(mailbox_delete(user, "a/b") == 0);
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	test_assert(count == 1);

	/* a recreated mailbox has a new UIDVALIDITY and no messages */
	test_assert(mailbox_create(user, "a", 0) == 0);
	test_assert(mailbox_get_status(user, "a", 0, t_pool(), &status) == 0);
	test_assert(status.uidvalidity > old_validity && status.messages == 0 &&
		    status.uidnext == 1);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_rename(void)
{
	test_begin("storage rename");
	struct mail_user *user = test_fresh_user(false);
	test_assert(mailbox_create(user, "r/c", 0) == 0);
	test_assert(test_storage_save(user, "r", "m1\r\n", 0, NULL) == 1);
	test_assert(test_storage_save(user, "r", "m2\r\n", MAIL_SEEN, NULL) == 2);
	test_assert(test_storage_save(user, "r/c", "c1\r\n", 0, NULL) == 1);
	test_assert(mailbox_set_subscribed(user, "r/c", true) == 0);
	struct mailbox_status before, after;
	test_assert(mailbox_get_status(user, "r", 0, t_pool(), &before) == 0);

	test_assert(mailbox_rename(user, "r", "r/x") < 0 && test_error(user) == MAIL_ERROR_CANNOT);
	test_assert(mailbox_rename(user, "nope", "z") < 0 && test_error(user) == MAIL_ERROR_NOTFOUND);
	test_assert(mailbox_create(user, "taken", 0) == 0);
	test_assert(mailbox_rename(user, "r", "taken") < 0 && test_error(user) == MAIL_ERROR_EXISTS);

	test_assert(mailbox_rename(user, "r", "n/s") == 0);
	test_assert(mailbox_get_status(user, "n/s", 0, t_pool(), &after) == 0);
	test_assert(after.uidvalidity == before.uidvalidity && after.messages == 2 &&
		    after.uidnext == 3 && after.unseen == 1);
	test_assert(mailbox_get_status(user, "n/s/c", 0, t_pool(), &after) == 0);
	test_assert(after.messages == 1);
	test_assert(mailbox_get_status(user, "r", 0, t_pool(), &after) < 0);
	struct stat st;
	test_assert(stat(t_strdup_printf("%s/Maildir/.n.s/cur", home), &st) == 0);
	test_assert(stat(t_strdup_printf("%s/Maildir/.n.s.c/cur", home), &st) == 0);
	test_assert(stat(t_strdup_printf("%s/Maildir/.r", home), &st) < 0);
	test_assert(test_storage_check(user, "n/s") == NULL);

	const struct mailbox_list_entry *entries, *e;
	unsigned int count;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	e = test_find_entry(entries, count, "n/s/c");
	test_assert(e != NULL && (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0);
	test_assert(test_find_entry(entries, count, "n") != NULL);
	test_assert(test_find_entry(entries, count, "r/c") == NULL);

	struct mailbox *box = mailbox_open(user, "n/s", 0);
	test_assert(box != NULL);
	if (box != NULL) {
		test_assert_strcmp(test_storage_read_message(box, 2), "m2\r\n");
		mailbox_close(&box);
	}
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_rename_inbox(void)
{
	test_begin("storage rename INBOX");
	struct mail_user *user = test_fresh_user(false);
	for (unsigned int i = 0; i < 3; i++)
		test_assert(test_storage_save(user, "INBOX", "hello\r\n", 0, NULL) == i + 1);
	test_assert(mailbox_create(user, "INBOX/kid", 0) == 0);
	test_assert(mailbox_rename(user, "inbox", "Old") == 0);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "Old", 0, t_pool(), &status) == 0);
	test_assert(status.messages == 3);
	test_assert(mailbox_get_status(user, "INBOX", 0, t_pool(), &status) == 0);
	test_assert(status.messages == 0);
	test_assert(mailbox_get_status(user, "INBOX/kid", 0, t_pool(), &status) == 0);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	test_assert(test_storage_check(user, "Old") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static int test_collect_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	array_uint32_t *seqs = context;
	array_push(seqs, seq);
	array_push(seqs, rec->uid);
	return 0;
}

static void test_view_basics(void)
{
	test_begin("storage view basics");
	struct mail_user *user = test_fresh_user(false);
	const char *const kws[] = { "$Work", NULL };
	test_assert(test_storage_save(user, "INBOX", "a\r\n", MAIL_SEEN, kws) == 1);
	test_assert(test_storage_save(user, "INBOX", "bb\n", 0, NULL) == 2);
	test_assert(test_storage_save(user, "INBOX", "ccc\r\n", MAIL_DELETED | MAIL_SEEN, NULL) == 3);

	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL);
	test_assert(mailbox_view_count(box) == 3);
	test_assert(mailbox_view_uid(box, 2) == 2 && mailbox_view_seq(box, 3) == 3);
	test_assert(mailbox_view_seq(box, 9) == 0);
	uint32_t s1, s2;
	test_assert(mailbox_view_uid_range(box, 2, 100, &s1, &s2) && s1 == 2 && s2 == 3);
	test_assert(!mailbox_view_uid_range(box, 4, 100, &s1, &s2));
	const struct mailbox_status *st = mailbox_get_view_status(box);
	test_assert(st->messages == 3 && st->unseen == 1 && st->deleted == 1 && st->uidnext == 4);
	test_assert(st->first_unseen_seq == 2);
	/* RFC822.SIZE counts LF as CRLF */
	test_assert(st->size == 3 + 4 + 5);
	test_assert(st->keywords.count == 1);
	test_assert_strcmp(st->keywords.v[0], "$Work");

	struct mail_record rec;
	test_assert(mailbox_get_record(box, 1, t_pool(), &rec) == 1);
	test_assert(rec.uid == 1 && rec.flags == MAIL_SEEN && rec.size == 3);
	test_assert_strcmp(rec.keywords[0], "$Work");
	test_assert(rec.keywords[1] == NULL);
	test_assert(rec.guid != NULL && strlen(rec.guid) == 32);
	test_assert(mailbox_get_record(box, 2, t_pool(), &rec) == 1);
	test_assert(rec.keywords[0] == NULL && rec.size == 4);

	array_uint32_t got;
	array_init(&got, t_pool(), 8);
	uint32_t seqs[] = { 1, 3 };
	test_assert(mailbox_foreach_record(box, seqs, 2, test_collect_cb, &got) == 0);
	test_assert(got.count == 4 && got.v[0] == 1 && got.v[2] == 3 && got.v[3] == 3);

	uint64_t size;
	struct istream *input;
	test_assert(mailbox_open_message(box, 9, &input, &size) == 0);
	test_assert_strcmp(test_storage_read_message(box, 2), "bb\n");

	/* EXPUNGE removes only \Deleted */
	test_assert(mailbox_expunge(box, NULL, 0) == 0);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 1 && res.expunged_seqs.v[0] == 3);
	test_assert(res.expunged_uids.v[0] == 3);
	test_assert(mailbox_view_count(box) == 2);
	test_assert(mailbox_get_view_status(box)->deleted == 0);
	pool_destroy(&pool);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mailbox_close(&box);
	mail_user_deinit(&user);

	/* UIDs and UIDVALIDITY stay across reopening */
	user = test_storage_user(home, false);
	box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL && mailbox_view_count(box) == 2);
	test_assert(mailbox_view_uid(box, 2) == 2);
	test_assert(test_storage_save(user, "INBOX", "d\r\n", 0, NULL) == 4);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_two_views(void)
{
	test_begin("storage two views see each other's changes");
	struct mail_user *user = test_fresh_user(false);
	/* a second user object: like a session in another process */
	struct mail_user *user2 = test_storage_user(home, false);
	for (unsigned int i = 0; i < 5; i++)
		test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, NULL) == i + 1);
	struct mailbox *a = mailbox_open(user, "INBOX", 0);
	struct mailbox *b = mailbox_open(user2, "INBOX", 0);
	test_assert(a != NULL && b != NULL);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;

	/* nothing happened */
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(!res.exists_changed && res.expunged_seqs.count == 0 &&
		    res.changed_seqs.count == 0);

	/* a new message; the reader had released its index connection */
	mail_user_release_memory(user);
	test_assert(test_storage_save(user2, "INBOX", "new\r\n", 0, NULL) == 6);
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(res.exists_changed && mailbox_view_count(a) == 6);

	/* B flags 2:3; A hears of it, B doesn't report its own change */
	uint32_t seqs[] = { 2, 3 };
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_FLAGGED };
	test_assert(mailbox_update_flags(b, seqs, 2, &change, pool, NULL) == 0);
	test_assert(mailbox_sync(b, 0, pool, &res) == 0);
	test_assert(res.exists_changed && res.changed_seqs.count == 0);
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(res.changed_seqs.count == 2 && res.changed_seqs.v[0] == 2 &&
		    res.changed_seqs.v[1] == 3);
	struct mail_record rec;
	test_assert(mailbox_get_record(a, 2, pool, &rec) == 1 && rec.flags == MAIL_FLAGGED);

	/* a keyword new to the mailbox: a new FLAGS line */
	const char *const kws[] = { "$Important", NULL };
	struct mail_flags_change kw_change = { .modify = MAIL_FLAGS_ADD, .keywords = kws };
	test_assert(mailbox_update_flags(b, seqs, 1, &kw_change, pool, NULL) == 0);
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(res.keywords_changed && res.changed_seqs.count == 1);
	test_assert(mailbox_get_view_status(a)->keywords.count == 1);
	test_assert(mailbox_sync(b, 0, pool, &res) == 0);
	test_assert(res.keywords_changed && res.changed_seqs.count == 0);

	/* A expunges 2 and 4; B holds them back while it may not send them */
	uint32_t del[] = { 2, 4 };
	change.flags = MAIL_DELETED;
	test_assert(mailbox_update_flags(a, del, 2, &change, pool, NULL) == 0);
	test_assert(mailbox_expunge(a, NULL, 0) == 0);
	test_assert(mailbox_sync(b, MAILBOX_SYNC_NO_EXPUNGES, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 0 && mailbox_view_count(b) == 6);
	/* the expunged message reads as gone */
	test_assert(mailbox_get_record(b, 2, pool, &rec) == 0);
	test_assert(mailbox_sync(b, 0, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 2);
	/* each number as seen after the previous expunge */
	test_assert(res.expunged_seqs.v[0] == 2 && res.expunged_seqs.v[1] == 3);
	test_assert(res.expunged_uids.v[0] == 2 && res.expunged_uids.v[1] == 4);
	test_assert(mailbox_view_count(b) == 4 && mailbox_view_uid(b, 2) == 3);
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 2 && res.changed_seqs.count == 0);

	/* deleting the mailbox under a view */
	test_assert(mailbox_create(user, "gone", 0) == 0);
	struct mailbox *g = mailbox_open(user2, "gone", 0);
	test_assert(g != NULL);
	test_assert(mailbox_delete(user, "gone") == 0);
	test_assert(mailbox_sync(g, 0, pool, &res) == 0 && res.mailbox_deleted);
	mailbox_close(&g);

	pool_destroy(&pool);
	mailbox_close(&a);
	mailbox_close(&b);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	mail_user_deinit(&user2);
	test_storage_rm_rf(home);
	test_end();
}

static void test_flags(void)
{
	test_begin("storage flags and keywords");
	struct mail_user *user = test_fresh_user(false);
	for (unsigned int i = 0; i < 4; i++)
		test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, NULL) == i + 1);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	pool_t pool = pool_create("flags", 1024);
	uint32_t all[] = { 1, 2, 3, 4 }, two[] = { 2 };
	const char *const kws[] = { "Work", "$Label1", NULL };
	const char *const work[] = { "work", NULL };
	struct mail_flags_change change = {
		.modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN, .keywords = kws,
	};
	test_assert(mailbox_update_flags(box, all, 4, &change, pool, NULL) == 0);
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 3, pool, &rec) == 1);
	test_assert(rec.flags == MAIL_SEEN && rec.keywords[0] != NULL && rec.keywords[2] == NULL);
	uint64_t modseq = rec.modseq;

	/* REMOVE "work" in another case removes "Work" */
	change = (struct mail_flags_change){ .modify = MAIL_FLAGS_REMOVE, .keywords = work };
	test_assert(mailbox_update_flags(box, two, 1, &change, pool, NULL) == 0);
	test_assert(mailbox_get_record(box, 2, pool, &rec) == 1);
	test_assert_strcmp(rec.keywords[0], "$Label1");
	test_assert(rec.keywords[1] == NULL && rec.modseq > modseq);

	/* CONDSTORE: message 2 changed after modseq */
	array_uint32_t failed;
	change = (struct mail_flags_change){
		.modify = MAIL_FLAGS_ADD, .flags = MAIL_FLAGGED, .unchanged_since = modseq,
	};
	test_assert(mailbox_update_flags(box, all, 4, &change, pool, &failed) == 0);
	test_assert(failed.count == 1 && failed.v[0] == 2);
	test_assert(mailbox_get_record(box, 2, pool, &rec) == 1 && rec.flags == MAIL_SEEN);
	test_assert(mailbox_get_record(box, 1, pool, &rec) == 1 &&
		    rec.flags == (MAIL_SEEN | MAIL_FLAGGED));

	/* REPLACE with nothing clears keywords too */
	change = (struct mail_flags_change){ .modify = MAIL_FLAGS_REPLACE, .flags = MAIL_DRAFT };
	test_assert(mailbox_update_flags(box, all, 4, &change, pool, NULL) == 0);
	test_assert(mailbox_get_record(box, 1, pool, &rec) == 1);
	test_assert(rec.flags == MAIL_DRAFT && rec.keywords[0] == NULL);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "INBOX", STATUS_UNSEEN, pool, &status) == 0);
	test_assert(status.unseen == 4 && status.keywords.count == 2);

	/* bad keywords and sequence numbers */
	const char *const bad_kw[] = { "a b", NULL };
	change = (struct mail_flags_change){ .modify = MAIL_FLAGS_ADD, .keywords = bad_kw };
	test_assert(mailbox_update_flags(box, all, 4, &change, pool, NULL) < 0);
	test_assert(test_error(user) == MAIL_ERROR_PARAMS);
	uint32_t bad_seq[] = { 5 };
	change = (struct mail_flags_change){ .modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN };
	test_assert(mailbox_update_flags(box, bad_seq, 1, &change, pool, NULL) < 0);
	mailbox_close(&box);

	/* read-only views */
	box = mailbox_open(user, "INBOX", MAILBOX_OPEN_READONLY);
	test_assert(mailbox_is_readonly(box));
	test_assert(mailbox_update_flags(box, all, 4, &change, pool, NULL) < 0);
	test_assert(test_error(user) == MAIL_ERROR_PERM);
	test_assert(mailbox_expunge(box, NULL, 0) < 0);
	mailbox_close(&box);
	/* flags reach the file names */
	test_assert(test_storage_check(user, "INBOX") == NULL);
	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_copy_move(void)
{
	test_begin("storage copy and move");
	struct mail_user *user = test_fresh_user(false);
	test_assert(mailbox_create(user, "Dest", 0) == 0);
	const char *const kws[] = { "Tag", NULL };
	test_assert(test_storage_save(user, "INBOX", "one\r\n", MAIL_SEEN, kws) == 1);
	test_assert(test_storage_save(user, "INBOX", "two\r\n", MAIL_FLAGGED, NULL) == 2);
	test_assert(test_storage_save(user, "INBOX", "three\r\n", 0, NULL) == 3);
	test_assert(test_storage_save(user, "Dest", "d\r\n", 0, NULL) == 1);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	pool_t pool = pool_create("copy", 1024);
	struct mail_copy_result res;
	uint32_t seqs[] = { 1, 2 };
	test_assert(mailbox_copy(box, seqs, 2, "Dest", false, pool, &res) == 0);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "Dest", 0, pool, &status) == 0);
	test_assert(res.uidvalidity == status.uidvalidity);
	test_assert(res.src_uids.count == 2 && res.src_uids.v[0] == 1 && res.dest_uids.v[0] == 2 &&
		    res.dest_uids.v[1] == 3);
	test_assert(status.messages == 3 && status.keywords.count == 1);

	struct mailbox *dest = mailbox_open(user, "Dest", 0);
	struct mail_record rec;
	test_assert(mailbox_get_record(dest, 2, pool, &rec) == 1);
	test_assert(rec.flags == MAIL_SEEN);
	test_assert_strcmp(rec.keywords[0], "Tag");
	test_assert_strcmp(test_storage_read_message(dest, 3), "two\r\n");
	struct mail_record src_rec;
	test_assert(mailbox_get_record(box, 1, pool, &src_rec) == 1);
	test_assert_strcmp(rec.guid, src_rec.guid);

	/* copies are hard links */
	test_assert(test_max_links(test_storage_subdir(user, "INBOX", "cur")) == 2);
	uint32_t third[] = { 3 };
	test_assert(mailbox_copy(box, third, 1, "nope", false, pool, &res) < 0);
	test_assert(test_error(user) == MAIL_ERROR_NOTFOUND);

	/* move: the source loses them through its next sync */
	test_assert(mailbox_copy(box, seqs, 2, "Dest", true, pool, &res) == 0);
	test_assert(res.dest_uids.count == 2 && res.dest_uids.v[0] == 4);
	struct mailbox_sync_result sres;
	test_assert(mailbox_sync(box, 0, pool, &sres) == 0);
	test_assert(sres.expunged_seqs.count == 2 && mailbox_view_count(box) == 1);
	test_assert(mailbox_sync(dest, 0, pool, &sres) == 0);
	test_assert(sres.exists_changed && mailbox_view_count(dest) == 5);
	/* the moved file is the same inode as the first copy */
	test_assert(test_max_links(test_storage_subdir(user, "Dest", "cur")) == 2);
	test_assert_strcmp(test_storage_read_message(dest, 5), "two\r\n");

	/* move within the same mailbox */
	test_assert(mailbox_copy(box, (uint32_t[]){ 1 }, 1, "INBOX", true, pool, &res) == 0);
	test_assert(res.dest_uids.count == 1 && res.dest_uids.v[0] == 4);
	test_assert(mailbox_sync(box, 0, pool, &sres) == 0);
	test_assert(mailbox_view_count(box) == 1 && mailbox_view_uid(box, 1) == 4);

	test_assert(test_storage_check(user, "INBOX") == NULL);
	test_assert(test_storage_check(user, "Dest") == NULL);
	mailbox_close(&dest);
	mailbox_close(&box);
	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

/* A toy cache renderer: counts its calls, renders the byte count. */
struct toy_render {
	size_t bytes;
};
static unsigned int toy_live;

static void *toy_init(pool_t pool, void *context)
{
	toy_live++;
	return p_new(pool, struct toy_render, 1);
}

static void toy_feed(void *builder, const void *data, size_t size)
{
	((struct toy_render *)builder)->bytes += size;
}

static int toy_finish(void *builder, pool_t pool, struct mail_cache_fields *fields_r)
{
	fields_r->envelope = p_strdup_printf(pool, "bytes %zu",
					     ((struct toy_render *)builder)->bytes);
	fields_r->header = (const unsigned char *)"Subject: x\r\n\r\n";
	fields_r->header_size = 14;
	return 1;
}

static void toy_deinit(void *builder)
{
	toy_live--;
}

static const struct mail_cache_builder_vfuncs toy_vfuncs = {
	.init = toy_init, .feed = toy_feed, .finish = toy_finish, .deinit = toy_deinit,
};

static void test_cache_at_save(void)
{
	test_begin("storage cache builder at save");
	struct mail_user *user = test_fresh_user(false);
	mail_storage_set_cache_builder(&toy_vfuncs, NULL);
	test_assert(test_storage_save(user, "INBOX", "Subject: x\r\n\r\nbody\r\n", 0, NULL) == 1);
	test_assert(toy_live == 0);
	/* an aborted save frees its renderer too */
	struct mail_save_params params = { .internal_date = (time_t)-1 };
	struct mail_save *save = mail_save_begin(user, "INBOX", &params);
	test_assert(save != NULL && toy_live == 1);
	test_assert(mail_save_write(save, "x", 1) == 0);
	mail_save_abort(&save);
	test_assert(toy_live == 0);
	mail_storage_set_cache_builder(NULL, NULL);
	test_assert(test_storage_save(user, "INBOX", "two\r\n", 0, NULL) == 2);

	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	pool_t pool = pool_create("cache", 1024);
	struct mail_cache_fields f;
	test_assert(mailbox_cache_get(box, 1, true, pool, &f) == 1);
	test_assert_strcmp(f.envelope, "bytes 20");
	test_assert(f.header_size == 14 && memcmp(f.header, "Subject: x\r\n\r\n", 14) == 0);
	test_assert(mailbox_cache_get(box, 2, true, pool, &f) == 0);
	/* a copy takes the row along */
	struct mail_copy_result res;
	test_assert(mailbox_copy(box, (uint32_t[]){ 1 }, 1, "INBOX", false, pool, &res) == 0);
	test_assert(mailbox_cache_get(box, res.dest_uids.v[0], false, pool, &f) == 1);
	test_assert_strcmp(f.envelope, "bytes 20");
	mailbox_close(&box);
	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_binary_save(void)
{
	test_begin("storage binary content saved as base64");
	struct mail_user *user = test_fresh_user(false);
	/* "\x01\x02\x03" in a binary part; a text part around it is kept */
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=B\r\nMIME-Version: 1.0\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
		"--B\r\nContent-Transfer-Encoding: binary\r\nX-Keep: 1\r\n\r\n\x01\x02\x03\r\n"
		"--B--\r\n";
	static const char expect[] =
		"Content-Type: multipart/mixed; boundary=B\r\nMIME-Version: 1.0\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
		"--B\r\nContent-Transfer-Encoding: base64\r\nX-Keep: 1\r\n\r\nAQID\r\n"
		"--B--\r\n";
	struct mail_save_params params = { .internal_date = (time_t)-1, .convert_binary = true };
	struct mail_save *save = mail_save_begin(user, "INBOX", &params);
	test_assert(save != NULL);
	/* byte by byte: the spool and the parser see any chunking */
	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		test_assert(mail_save_write(save, msg + i, 1) == 0);
	uint32_t uidvalidity, uid;
	test_assert(mail_save_finish(&save, &uidvalidity, &uid) == 0);
	/* without the flag the same bytes are stored as sent */
	test_assert(test_storage_save(user, "INBOX", "Content-Transfer-Encoding: binary\r\n"
				      "\r\nx\r\n", 0, NULL) == 2);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert_strcmp(test_storage_read_message(box, 1), expect);
	test_assert_strcmp(test_storage_read_message(box, 2),
			   "Content-Transfer-Encoding: binary\r\n\r\nx\r\n");
	/* an aborted binary save frees its spool (the leak checker watches) */
	save = mail_save_begin(user, "INBOX", &params);
	test_assert(save != NULL && mail_save_write(save, msg, 10) == 0);
	mail_save_abort(&save);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_uid_expunge(void)
{
	test_begin("storage UID EXPUNGE");
	struct mail_user *user = test_fresh_user(false);
	for (unsigned int i = 0; i < 4; i++)
		test_assert(test_storage_save(user, "INBOX", "x\r\n", MAIL_DELETED, NULL) == i + 1);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	uint32_t uids[] = { 3, 1 };
	test_assert(mailbox_expunge(box, uids, 2) == 0);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(res.expunged_uids.count == 2 && res.expunged_seqs.v[0] == 1 &&
		    res.expunged_seqs.v[1] == 2);
	test_assert(mailbox_view_count(box) == 2 && mailbox_view_uid(box, 1) == 2);
	pool_destroy(&pool);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_recent(void)
{
	test_begin("storage \\Recent");
	struct mail_user *user = test_fresh_user(false);
	test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, NULL) == 1);
	test_assert(test_storage_save(user, "INBOX", "y\r\n", 0, NULL) == 2);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "INBOX", STATUS_RECENT, t_pool(), &status) == 0);
	test_assert(status.recent == 2);

	struct mailbox *ro = mailbox_open(user, "INBOX",
					  MAILBOX_OPEN_READONLY | MAILBOX_OPEN_TRACK_RECENT);
	test_assert(mailbox_get_view_status(ro)->recent == 2 && mailbox_view_is_recent(ro, 1));
	struct mailbox *a = mailbox_open(user, "INBOX", MAILBOX_OPEN_TRACK_RECENT);
	test_assert(mailbox_get_view_status(a)->recent == 2 && mailbox_view_is_recent(a, 2));
	struct mailbox *b = mailbox_open(user, "INBOX", MAILBOX_OPEN_TRACK_RECENT);
	test_assert(mailbox_get_view_status(b)->recent == 0 && !mailbox_view_is_recent(b, 1));

	test_assert(test_storage_save(user, "INBOX", "z\r\n", 0, NULL) == 3);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(b, 0, pool, &res) == 0);
	test_assert(mailbox_get_view_status(b)->recent == 1 && mailbox_view_is_recent(b, 3));
	test_assert(mailbox_sync(a, 0, pool, &res) == 0);
	test_assert(mailbox_get_view_status(a)->recent == 2 && !mailbox_view_is_recent(a, 3));
	pool_destroy(&pool);
	mailbox_close(&ro);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static bool test_wait_readable(int fd, int msecs)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, msecs) == 1;
}

/* Runs the event loop (which reads the process's inotify fd) until fd
   is readable. */
static bool test_wait_notify(int fd, int msecs)
{
	for (int waited = 0; waited < msecs; waited += 20) {
		if (test_wait_readable(fd, 0))
			return true;
		ioloop_run_once(20);
	}
	return test_wait_readable(fd, 0);
}

static void test_notify(void)
{
	test_begin("storage notify fd across processes");
	ioloop_init();
	struct mail_user *user = test_fresh_user(false);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	int fd = mailbox_notify_fd(box);
	test_assert(fd >= 0);
	test_assert(!test_wait_notify(fd, 0));
	/* many watching views: one inotify instance serves them all (the
	   kernel allows 128 instances per uid by default) */
	struct mailbox *many[200];
	for (unsigned int i = 0; i < N_ELEMENTS(many); i++) {
		many[i] = mailbox_open(user, "INBOX", MAILBOX_OPEN_READONLY);
		test_assert(many[i] != NULL && mailbox_notify_fd(many[i]) >= 0);
	}

	pid_t pid = fork();
	if (pid == 0) {
		struct mail_user *child = test_storage_user(home, false);
		int ret = test_storage_save(child, "INBOX", "from child\r\n", 0, NULL) == 1;
		mail_user_deinit(&child);
		_exit(ret ? 0 : 1);
	}
	int status;
	test_assert(test_wait_notify(fd, 5000));
	test_assert(test_wait_readable(mailbox_notify_fd(many[199]), 0));
	for (unsigned int i = 0; i < N_ELEMENTS(many); i++)
		mailbox_close(&many[i]);
	test_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
	mailbox_notify_clear(box);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(res.exists_changed && mailbox_view_count(box) == 1);
	test_assert(!test_wait_notify(fd, 0));

	/* another program delivers into new/: the fd fires and the next sync
	   looks at the disk */
	const char *path = t_strdup_printf("%s/1234.M1P1.other", test_storage_subdir(user, "INBOX", "new"));
	FILE *f = fopen(path, "w");
	test_assert(f != NULL);
	if (f != NULL) {
		fputs("Subject: external\n\nhi\n", f);
		fclose(f);
	}
	test_assert(test_wait_notify(fd, 5000));
	mailbox_notify_clear(box);
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(res.exists_changed && mailbox_view_count(box) == 2);
	test_assert_strcmp(test_storage_read_message(box, 2), "Subject: external\n\nhi\n");
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 2, pool, &rec) == 1 && rec.size == 25);
	pool_destroy(&pool);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	ioloop_deinit();
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_defaults,
		test_names,
		test_delete,
		test_rename,
		test_rename_inbox,
		test_view_basics,
		test_two_views,
		test_flags,
		test_copy_move,
		test_cache_at_save,
		test_binary_save,
		test_uid_expunge,
		test_recent,
		test_notify,
		NULL
	};
	return test_run(tests);
}
