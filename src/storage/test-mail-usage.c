/* Tests of mail_user_get_usage(): the user's total bytes and messages over
 * every mailbox, one sum over the index, agree with the mailboxes' own
 * STATUS after saves, copies, moves, expunges, deletes and renames. */
#include "test-common.h"
#include "test-storage-common.h"

/* static: the event loop clears the temporary pool */
static char home[256];

/* The sum of every selectable mailbox's STATUS, the slow way. */
static void test_usage_by_status(struct mail_user *user, uint64_t *bytes_r,
				 uint64_t *messages_r)
{
	const struct mailbox_list_entry *entries;
	unsigned int count;
	*bytes_r = *messages_r = 0;
	test_assert(mail_user_list_mailboxes(user, t_pool(), &entries, &count) == 0);
	for (unsigned int i = 0; i < count; i++) {
		struct mailbox_status status;
		if ((entries[i].attrs & (MAILBOX_ATTR_NOSELECT | MAILBOX_ATTR_NONEXISTENT)) != 0)
			continue;
		test_assert(mailbox_get_status(user, entries[i].name, STATUS_MESSAGES | STATUS_SIZE,
					       t_pool(), &status) == 0);
		*bytes_r += status.size;
		*messages_r += status.messages;
	}
}

static void test_usage_matches(struct mail_user *user, uint64_t bytes, uint64_t messages)
{
	uint64_t b, m, sb, sm;
	test_assert(mail_user_get_usage(user, &b, &m) == 0);
	test_usage_by_status(user, &sb, &sm);
	test_assert(b == bytes && m == messages);
	test_assert(b == sb && m == sm);
}

static void test_usage(void)
{
	test_begin("usage: one sum over the index");
	snprintf(home, sizeof(home), "%s", test_storage_mkdtemp("test-usage"));
	struct mail_user *user = test_storage_user(home, true);
	/* a new user with its special folders has nothing */
	test_usage_matches(user, 0, 0);

	static const char msg1[] = "Subject: one\r\n\r\nbody\r\n";
	static const char msg2[] = "Subject: two\r\n\r\nlonger body text\r\n";
	uint64_t s1 = sizeof(msg1) - 1, s2 = sizeof(msg2) - 1;
	test_assert(test_storage_save(user, "INBOX", msg1, 0, NULL) == 1);
	test_assert(test_storage_save(user, "Sent", msg2, MAIL_SEEN, NULL) == 1);
	test_assert(mailbox_create(user, "a/b/c", 0) == 0);
	test_assert(test_storage_save(user, "a/b/c", msg1, 0, NULL) == 1);
	test_usage_matches(user, 2 * s1 + s2, 3);

	/* a copy counts twice, a move once */
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	struct mailbox_sync_result sync;
	struct mail_copy_result res;
	pool_t pool = pool_create("usage", 1024);
	test_assert(box != NULL && mailbox_sync(box, 0, pool, &sync) == 0);
	uint32_t seq = 1;
	test_assert(mailbox_copy(box, &seq, 1, "Trash", false, pool, &res) == 0);
	test_usage_matches(user, 3 * s1 + s2, 4);
	test_assert(mailbox_copy(box, &seq, 1, "Archive", true, pool, &res) == 0);
	test_usage_matches(user, 3 * s1 + s2, 4);
	mailbox_close(&box);

	/* expunge, delete (a parent left \Noselect counts nothing), rename */
	box = mailbox_open(user, "Trash", 0);
	test_assert(box != NULL && mailbox_sync(box, 0, pool, &sync) == 0);
	const struct mail_flags_change del = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_DELETED };
	test_assert(mailbox_update_flags(box, &seq, 1, &del, pool, NULL) == 0);
	test_assert(mailbox_expunge(box, NULL, 0) == 0);
	mailbox_close(&box);
	test_usage_matches(user, 2 * s1 + s2, 3);
	test_assert(mailbox_rename(user, "a", "z") == 0);
	test_usage_matches(user, 2 * s1 + s2, 3);
	test_assert(mailbox_delete(user, "z/b/c") == 0);
	test_usage_matches(user, s1 + s2, 2);
	test_assert(mailbox_delete(user, "Sent") == 0);
	test_usage_matches(user, s1, 1);

	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = { test_usage, NULL };
	return test_run(tests);
}
