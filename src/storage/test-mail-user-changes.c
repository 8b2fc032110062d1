/* Tests of what NOTIFY (RFC 5465) builds on: the state of all of a user's
 * mailboxes in one read, the list version raised by CREATE, DELETE,
 * RENAME and (UN)SUBSCRIBE, telling the session's own changes from
 * others' (§5), and the user watcher's fd waking for another writer's
 * commit and for a delivery into a watched mailbox's new/. */
#include "test-common.h"
#include "test-storage-common.h"
#include "ioloop.h"

#include <poll.h>
#include <stdio.h>

/* static: the event loop clears the temporary pool */
static char home[256];

static const struct mailbox_state *test_state_find(const struct mail_user_state *state,
						   const char *name)
{
	for (unsigned int i = 0; i < state->mailbox_count; i++) {
		if (strcmp(state->mailboxes[i].name, name) == 0)
			return &state->mailboxes[i];
	}
	return NULL;
}

static struct mail_user_state test_state(struct mail_user *user, pool_t pool)
{
	struct mail_user_state state;
	test_assert(mail_user_get_state(user, pool, &state) == 0);
	return state;
}

static void test_state_contents(void)
{
	test_begin("user state: every mailbox, subscriptions, list version");
	snprintf(home, sizeof(home), "%s", test_storage_mkdtemp("test-changes"));
	struct mail_user *user = test_storage_user(home, true);
	pool_t pool = pool_create("state", 1024);
	struct mail_user_state s1 = test_state(user, pool);
	test_assert(s1.mailbox_count == 6 && s1.subscription_count == 6);
	for (unsigned int i = 1; i < s1.mailbox_count; i++)
		test_assert(strcmp(s1.mailboxes[i - 1].name, s1.mailboxes[i].name) < 0);
	for (unsigned int i = 1; i < s1.subscription_count; i++)
		test_assert(strcmp(s1.subscriptions[i - 1], s1.subscriptions[i]) < 0);
	test_assert(test_storage_save(user, "Sent", "Subject: x\r\n\r\nx\r\n", 0, NULL) == 1);
	test_assert(mailbox_create(user, "a/b", 0) == 0);
	struct mail_user_state s2 = test_state(user, pool);
	const struct mailbox_state *sent = test_state_find(&s2, "Sent");
	test_assert(sent != NULL && sent->messages == 1 && sent->unseen == 1 &&
		    sent->uidnext == 2 && sent->selectable &&
		    sent->special_use == MAILBOX_SPECIAL_SENT);
	test_assert(sent != NULL && sent->highestmodseq > test_state_find(&s1, "Sent")->highestmodseq);
	test_assert(test_state_find(&s2, "a") != NULL && test_state_find(&s2, "a/b") != NULL);
	test_assert(s2.list_version == s1.list_version + 1);
	/* RENAME keeps ids; DELETE with children leaves a \Noselect row */
	int64_t id = test_state_find(&s2, "a")->id;
	test_assert(mailbox_rename(user, "a", "c") == 0);
	test_assert(mailbox_delete(user, "c") == 0);
	struct mail_user_state s3 = test_state(user, pool);
	const struct mailbox_state *c = test_state_find(&s3, "c");
	test_assert(c != NULL && c->id == id && !c->selectable);
	test_assert(s3.list_version == s2.list_version + 2);
	test_assert(mailbox_set_subscribed(user, "nothere", true) == 0);
	struct mail_user_state s4 = test_state(user, pool);
	test_assert(s4.list_version == s3.list_version + 1 && s4.subscription_count == 7);
	/* a failed change raises nothing */
	test_assert(mailbox_create(user, "Sent", 0) < 0);
	test_assert(test_state(user, pool).list_version == s4.list_version);
	pool_destroy(&pool);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_own_changes(void)
{
	test_begin("own changes by modseq and list version");
	snprintf(home, sizeof(home), "%s", test_storage_mkdtemp("test-changes"));
	struct mail_user *me = test_storage_user(home, false);
	struct mail_user *other = test_storage_user(home, false);
	pool_t pool = pool_create("state", 1024);
	mail_user_track_own_changes(me, true);

	struct mail_user_state s1 = test_state(me, pool);
	test_assert(test_storage_save(me, "INBOX", "Subject: 1\r\n\r\n1\r\n", 0, NULL) == 1);
	test_assert(mailbox_create(me, "mine", 0) == 0);
	struct mail_user_state s2 = test_state(me, pool);
	int64_t inbox = test_state_find(&s1, "INBOX")->id;
	uint64_t m1 = test_state_find(&s1, "INBOX")->highestmodseq;
	uint64_t m2 = test_state_find(&s2, "INBOX")->highestmodseq;
	test_assert(mail_user_changes_are_own(me, inbox, m1, m2));
	test_assert(mail_user_list_changes_are_own(me, s1.list_version, s2.list_version));
	/* nothing in between is not "all own" */
	test_assert(!mail_user_changes_are_own(me, inbox, m2, m2));
	/* another writer's change in the range makes it someone else's */
	test_assert(test_storage_save(other, "INBOX", "Subject: 2\r\n\r\n2\r\n", 0, NULL) == 2);
	test_assert(mailbox_set_subscribed(other, "mine", true) == 0);
	struct mail_user_state s3 = test_state(me, pool);
	uint64_t m3 = test_state_find(&s3, "INBOX")->highestmodseq;
	test_assert(!mail_user_changes_are_own(me, inbox, m2, m3));
	test_assert(!mail_user_changes_are_own(me, inbox, m1, m3));
	test_assert(!mail_user_list_changes_are_own(me, s2.list_version, s3.list_version));
	test_assert(!mail_user_changes_are_own(other, inbox, m2, m3));
	/* flags, copy, move and expunge count too */
	struct mailbox *box = mailbox_open(me, "INBOX", 0);
	uint32_t seqs[] = { 1, 2 };
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_DELETED };
	struct mail_copy_result res;
	test_assert(mailbox_update_flags(box, seqs, 2, &change, pool, NULL) == 0);
	test_assert(mailbox_copy(box, seqs, 1, "mine", false, pool, &res) == 0);
	test_assert(mailbox_expunge(box, NULL, 0) == 0);
	struct mail_user_state s4 = test_state(me, pool);
	test_assert(mail_user_changes_are_own(me, inbox, m3,
					      test_state_find(&s4, "INBOX")->highestmodseq));
	const struct mailbox_state *mine3 = test_state_find(&s3, "mine"),
		*mine4 = test_state_find(&s4, "mine");
	test_assert(mail_user_changes_are_own(me, mine4->id, mine3->highestmodseq,
					      mine4->highestmodseq));
	/* tracking off forgets everything */
	mail_user_track_own_changes(me, false);
	test_assert(!mail_user_changes_are_own(me, inbox, m1, m2));
	mailbox_close(&box);
	pool_destroy(&pool);
	mail_user_deinit(&other);
	mail_user_deinit(&me);
	test_storage_rm_rf(home);
	test_end();
}

static bool test_wait_readable(int fd, int msecs)
{
	for (int waited = 0;; waited += 20) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) == 1)
			return true;
		if (waited >= msecs)
			return false;
		ioloop_run_once(20);
	}
}

static void test_user_watcher(void)
{
	test_begin("user watcher wakes for any mailbox and watched new/");
	ioloop_init();
	snprintf(home, sizeof(home), "%s", test_storage_mkdtemp("test-changes"));
	struct mail_user *me = test_storage_user(home, true);
	struct mail_user *other = test_storage_user(home, false);
	int fd = mail_user_notify_fd(me);
	test_assert(fd >= 0 && mail_user_notify_fd(me) == fd);
	test_assert(!test_wait_readable(fd, 0));
	/* any mailbox, and the list */
	test_assert(test_storage_save(other, "Trash", "Subject: t\r\n\r\nt\r\n", 0, NULL) == 1);
	test_assert(test_wait_readable(fd, 5000));
	mail_user_notify_clear(me);
	test_assert(!test_wait_readable(fd, 0));
	test_assert(mailbox_set_subscribed(other, "x", true) == 0);
	test_assert(test_wait_readable(fd, 5000));
	mail_user_notify_clear(me);

	/* a delivery by another program into a watched mailbox: the clear
	   brings it into the index */
	test_assert(mail_user_notify_watch_mailbox(me, "Junk") == 0);
	test_assert(mail_user_notify_watch_mailbox(me, "nothere") < 0);
	const char *path = t_strdup_printf("%s/1.M1P1.other",
					   test_storage_subdir(me, "Junk", "new"));
	FILE *f = fopen(path, "w");
	test_assert(f != NULL);
	if (f != NULL) {
		fputs("Subject: external\n\nhi\n", f);
		fclose(f);
	}
	test_assert(test_wait_readable(fd, 5000));
	mail_user_notify_clear(me);
	pool_t pool = pool_create("state", 1024);
	struct mail_user_state state = test_state(me, pool);
	test_assert(test_state_find(&state, "Junk")->messages == 1);
	/* and that commit woke the watchers (also this one) */
	test_assert(test_wait_readable(fd, 5000));
	mail_user_notify_clear(me);
	/* a mailbox that isn't watched: seen at its next sync only */
	mail_user_notify_unwatch_mailboxes(me);
	path = t_strdup_printf("%s/2.M1P1.other", test_storage_subdir(me, "Junk", "new"));
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("Subject: external 2\n\nhi\n", f);
		fclose(f);
	}
	test_assert(!test_wait_readable(fd, 200));
	pool_destroy(&pool);
	mail_user_notify_deinit(me);
	mail_user_notify_deinit(me);
	mail_user_deinit(&other);
	mail_user_deinit(&me);
	ioloop_deinit();
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_state_contents,
		test_own_changes,
		test_user_watcher,
		NULL
	};
	return test_run(tests);
}
