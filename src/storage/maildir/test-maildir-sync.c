/* Tests of reconciling the index with changes other programs make to a
 * Maildir: deliveries into new/, files added to or removed from cur/,
 * flags renamed, stale tmp/ files, an unchanged cur/ not being read, and
 * a lost index rebuilt from the Maildir. */
#include "test-common.h"
#include "test-storage-common.h"
#include "maildir-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *home;

static void test_write_file(const char *path, const char *content, time_t mtime)
{
	FILE *f = fopen(path, "w");
	test_assert(f != NULL);
	if (f == NULL)
		return;
	fputs(content, f);
	fclose(f);
	if (mtime != 0) {
		struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
		test_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	}
}

/* The name in cur/ of the message with uid (temporary memory). */
static const char *test_cur_name(struct mail_user *user, const char *mailbox, uint32_t uid)
{
	struct index_mailbox mb;
	struct index_message msg;
	if (index_mailbox_lookup(user->db, mailbox, t_pool(), &mb) <= 0 ||
	    index_message_get(user->db, mb.id, uid, t_pool(), &msg) <= 0)
		return NULL;
	return maildir_message_path(user, mb.dir, msg.filename, msg.fileinfo);
}

static void test_sync_new(void)
{
	test_begin("maildir sync: deliveries into new/");
	home = test_storage_mkdtemp("test-maildir-sync");
	struct mail_user *user = test_storage_user(home, false);
	const char *new_dir = test_storage_subdir(user, "INBOX", "new");
	/* UIDs follow mtime order, not name order */
	test_write_file(t_strdup_printf("%s/b.host", new_dir), "second\n", 2000000000);
	test_write_file(t_strdup_printf("%s/a.host", new_dir), "first\r\n", 1900000000);
	test_write_file(t_strdup_printf("%s/c.host:2,FS", new_dir), "third\n", 2100000000);

	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL && mailbox_view_count(box) == 3);
	test_assert(test_storage_count_files(new_dir) == 0);
	test_assert_strcmp(test_storage_read_message(box, 1), "first\r\n");
	test_assert_strcmp(test_storage_read_message(box, 2), "second\n");
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 2, t_pool(), &rec) == 1);
	test_assert(rec.internal_date == 2000000000 && rec.size == 8 && rec.flags == 0);
	test_assert(mailbox_get_record(box, 3, t_pool(), &rec) == 1);
	test_assert(rec.flags == (MAIL_FLAGGED | MAIL_SEEN));
	test_assert(test_storage_check(user, "INBOX") == NULL);

	/* a later delivery while the view is open */
	test_write_file(t_strdup_printf("%s/d.host", new_dir), "fourth\n", 0);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(!res.exists_changed);
	test_assert(mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) == 0);
	test_assert(res.exists_changed && mailbox_view_count(box) == 4);
	/* STATUS picks up deliveries too */
	test_write_file(t_strdup_printf("%s/e.host", new_dir), "fifth\n", 0);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "INBOX", 0, pool, &status) == 0);
	test_assert(status.messages == 5 && status.uidnext == 6);
	pool_destroy(&pool);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_sync_cur(void)
{
	test_begin("maildir sync: changes in cur/");
	home = test_storage_mkdtemp("test-maildir-sync");
	struct mail_user *user = test_storage_user(home, false);
	for (unsigned int i = 0; i < 4; i++)
		test_assert(test_storage_save(user, "INBOX", "msg\r\n", 0, NULL) == i + 1);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	const char *cur = test_storage_subdir(user, "INBOX", "cur");

	/* another program removes 2, marks 3 seen and adds a file */
	test_assert(unlink(test_cur_name(user, "INBOX", 2)) == 0);
	const char *name3 = test_cur_name(user, "INBOX", 3);
	const char *seen3 = t_strdup_printf("%.*sS", (int)strlen(name3), name3);
	test_assert(rename(name3, seen3) == 0);
	test_write_file(t_strdup_printf("%s/999.M1P1.other:2,T", cur), "dropped\n", 0);

	test_assert(mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 1 && res.expunged_uids.v[0] == 2);
	test_assert(res.changed_seqs.count == 1 && res.changed_seqs.v[0] == 2);
	test_assert(res.exists_changed && mailbox_view_count(box) == 4);
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 2, pool, &rec) == 1);
	test_assert(rec.uid == 3 && rec.flags == MAIL_SEEN);
	test_assert(mailbox_get_record(box, 4, pool, &rec) == 1);
	test_assert(rec.uid == 5 && rec.flags == MAIL_DELETED);
	test_assert(mailbox_get_view_status(box)->deleted == 1);
	test_assert(test_storage_check(user, "INBOX") == NULL);

	/* flags the index set but didn't mirror yet, and another program's
	   rename of a different flag: both survive */
	uint32_t seq1[] = { 1 };
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_FLAGGED };
	test_assert(mailbox_update_flags(box, seq1, 1, &change, pool, NULL) == 0);
	const char *name1 = test_cur_name(user, "INBOX", 1);
	test_assert(strstr(name1, ":2,") != NULL && name1[strlen(name1) - 1] == ',');
	test_assert(rename(name1, t_strdup_printf("%sR", name1)) == 0);
	test_assert(mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) == 0);
	test_assert(mailbox_get_record(box, 1, pool, &rec) == 1);
	test_assert(rec.flags == (MAIL_FLAGGED | MAIL_ANSWERED));
	test_assert(res.changed_seqs.count == 1 && res.changed_seqs.v[0] == 1);
	while (mailbox_run_deferred(box, 100) > 0)
		;
	name1 = test_cur_name(user, "INBOX", 1);
	test_assert(strcmp(name1 + strlen(name1) - 5, ":2,FR") == 0);
	test_assert(test_storage_check(user, "INBOX") == NULL);

	/* the content of a message whose file vanished: reads as expunged */
	test_assert(unlink(test_cur_name(user, "INBOX", 4)) == 0);
	struct istream *input;
	uint64_t size;
	test_assert(mailbox_open_message(box, 4, &input, &size) == 0);
	test_assert(mailbox_sync(box, 0, pool, &res) == 0);
	test_assert(res.expunged_uids.count == 1 && res.expunged_uids.v[0] == 4);
	pool_destroy(&pool);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_sync_skip_unchanged(void)
{
	test_begin("maildir sync: unchanged cur/ is not read");
	home = test_storage_mkdtemp("test-maildir-sync");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(test_storage_save(user, "INBOX", "msg\r\n", 0, NULL) == 1);
	const char *cur = test_storage_subdir(user, "INBOX", "cur");
	struct stat st;
	test_assert(stat(cur, &st) == 0);
	/* sneak a file in and put the directory's mtime back: a sync that
	   trusts the stamp doesn't see it */
	test_write_file(t_strdup_printf("%s/sneaky.host", cur), "x\n", 0);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	test_assert(utimensat(AT_FDCWD, cur, ts, 0) == 0);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(mailbox_view_count(box) == 1);
	/* a real change makes the next sync read cur/ */
	test_write_file(t_strdup_printf("%s/visible.host", cur), "y\n", 0);
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) == 0);
	test_assert(mailbox_view_count(box) == 3);
	pool_destroy(&pool);
	mailbox_close(&box);

	/* stale temporary files go at a full read of cur/ */
	const char *tmp = test_storage_subdir(user, "INBOX", "tmp");
	test_write_file(t_strdup_printf("%s/old.host", tmp), "x", time(NULL) - 40 * 3600);
	test_write_file(t_strdup_printf("%s/young.host", tmp), "x", 0);
	test_write_file(t_strdup_printf("%s/trigger.host", cur), "z\n", 0);
	box = mailbox_open(user, "INBOX", 0);
	/* ctime is now, so even the old one stays: only truly stale files go */
	test_assert(test_storage_count_files(tmp) == 2);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_sync_rebuild(void)
{
	test_begin("maildir sync: index rebuilt from the Maildir");
	home = test_storage_mkdtemp("test-maildir-sync");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "Sent", 0) == 0);
	test_assert(test_storage_save(user, "INBOX", "i1\r\n", MAIL_SEEN, NULL) == 1);
	test_assert(test_storage_save(user, "INBOX", "i2\r\n", 0, NULL) == 2);
	test_assert(test_storage_save(user, "Sent", "s1\r\n", MAIL_ANSWERED, NULL) == 1);
	mail_user_deinit(&user);
	/* a folder made by another tool, with a missing parent */
	const char *other = t_strdup_printf("%s/Maildir/.Lists.tern~2Edev", home);
	test_assert(mkdir(other, 0700) == 0);
	test_assert(mkdir(t_strdup_printf("%s/cur", other), 0700) == 0);
	test_assert(mkdir(t_strdup_printf("%s/new", other), 0700) == 0);
	test_assert(mkdir(t_strdup_printf("%s/tmp", other), 0700) == 0);
	test_write_file(t_strdup_printf("%s/new/1.x", other), "list\n", 0);
	const char *db = t_strdup_printf("%s/tern-index.db", home);
	test_assert(unlink(db) == 0);
	(void)unlink(t_strdup_printf("%s-wal", db));
	(void)unlink(t_strdup_printf("%s-shm", db));

	user = test_storage_user(home, true);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "INBOX", STATUS_UNSEEN, t_pool(), &status) == 0);
	test_assert(status.messages == 2 && status.unseen == 1);
	test_assert(mailbox_get_status(user, "Sent", 0, t_pool(), &status) == 0);
	test_assert(status.messages == 1 && status.special_use == MAILBOX_SPECIAL_SENT);
	test_assert(mailbox_get_status(user, "Lists/tern.dev", 0, t_pool(), &status) == 0);
	test_assert(status.messages == 1);
	const struct mailbox_list_entry *entries;
	unsigned int count;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	bool found_parent = false;
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(entries[i].name, "Lists") == 0)
			found_parent = (entries[i].attrs & MAILBOX_ATTR_NOSELECT) != 0;
	}
	test_assert(found_parent);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	test_assert(test_storage_check(user, "Lists/tern.dev") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_sync_dir_vanished(void)
{
	test_begin("maildir sync: folder removed or moved behind our back");
	home = test_storage_mkdtemp("test-maildir-sync");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "gone", 0) == 0);
	test_assert(test_storage_save(user, "gone", "x\r\n", 0, NULL) == 1);
	test_assert(test_storage_save(user, "gone", "y\r\n", 0, NULL) == 2);
	struct mailbox *box = mailbox_open(user, "gone", 0);
	test_storage_rm_rf(t_strdup_printf("%s/Maildir/.gone", home));
	pool_t pool = pool_create("sync", 1024);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) == 0);
	test_assert(res.expunged_seqs.count == 2 && mailbox_view_count(box) == 0);
	test_assert(test_storage_save(user, "gone", "z\r\n", 0, NULL) == 3);
	mailbox_close(&box);
	test_assert(test_storage_check(user, "gone") == NULL);

	/* a crash after a rename moved the folder but before the index
	   recorded the new location: the folder is found by its name */
	test_assert(mailbox_create(user, "before", 0) == 0);
	test_assert(test_storage_save(user, "before", "x\r\n", 0, NULL) == 1);
	struct index_mailbox mb;
	test_assert(index_mailbox_lookup(user->db, "before", t_pool(), &mb) == 1);
	test_assert(index_db_begin_write(user->db) == 0);
	test_assert(index_mailbox_set_name(user->db, mb.id, "after") == 0);
	test_assert(index_db_commit(user->db) == 0);
	test_assert(rename(t_strdup_printf("%s/Maildir/.before", home),
			   t_strdup_printf("%s/Maildir/.after", home)) == 0);
	box = mailbox_open(user, "after", 0);
	test_assert(box != NULL && mailbox_view_count(box) == 1);
	mailbox_close(&box);
	test_assert(index_mailbox_lookup(user->db, "after", t_pool(), &mb) == 1);
	test_assert_strcmp(mb.dir, ".after");
	test_assert(test_storage_check(user, "after") == NULL);
	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_sync_new,
		test_sync_cur,
		test_sync_skip_unchanged,
		test_sync_rebuild,
		test_sync_dir_vanished,
		NULL
	};
	return test_run(tests);
}
