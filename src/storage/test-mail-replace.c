/* Unit tests for REPLACE's commit (mail_save_finish_replace(), RFC 8508
 * §3.4) and the per-user secrets file (mail-user-secret.c). */
#include "test-common.h"
#include "test-storage-common.h"

#include <sys/stat.h>
#include <unistd.h>

static void save_msg(struct mail_user *user, const char *mailbox, const char *text,
		     struct mail_save **save_r)
{
	struct mail_save_params params = { .internal_date = (time_t)-1 };
	*save_r = mail_save_begin(user, mailbox, &params);
	test_assert(*save_r != NULL);
	test_assert(mail_save_write(*save_r, text, strlen(text)) == 0);
}

static void test_replace_same_mailbox(void)
{
	test_begin("mail_save_finish_replace: same mailbox");
	const char *home = test_storage_mkdtemp("replace");
	struct mail_user *user = test_storage_user(home, false);
	uint32_t uid1 = test_storage_save(user, "INBOX", "Subject: one\r\n\r\nold\r\n", 0, NULL);
	uint32_t uid2 = test_storage_save(user, "INBOX", "Subject: two\r\n\r\nkeep\r\n", 0, NULL);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL && mailbox_view_count(box) == 2);

	struct mail_save *save;
	uint32_t uidvalidity, uid;
	save_msg(user, "INBOX", "Subject: one\r\n\r\nnew\r\n", &save);
	test_assert(mail_save_finish_replace(&save, box, uid1, &uidvalidity, &uid) == 0);
	test_assert(save == NULL && uid == uid2 + 1);

	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, t_pool(), &res) == 0);
	test_assert(res.expunged_uids.count == 1 && res.expunged_uids.v[0] == uid1);
	test_assert(mailbox_view_count(box) == 2);
	test_assert(mailbox_view_uid(box, 1) == uid2 && mailbox_view_uid(box, 2) == uid);
	test_assert_strcmp(test_storage_read_message(box, uid), "Subject: one\r\n\r\nnew\r\n");
	test_assert(test_storage_check(user, "INBOX") == NULL);

	/* the old one is gone: a second replace of it saves nothing */
	save_msg(user, "INBOX", "x\r\n", &save);
	test_assert(mail_save_finish_replace(&save, box, uid1, &uidvalidity, &uid) < 0);
	const char *text;
	test_assert(mail_user_get_error(user, &text) == MAIL_ERROR_EXPUNGED);
	test_assert(mailbox_sync(box, 0, t_pool(), &res) == 0);
	test_assert(mailbox_view_count(box) == 2);
	test_assert(test_storage_count_files(test_storage_subdir(user, "INBOX", "cur")) == 2);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mailbox_close(&box);

	/* read-only views can't lose messages */
	box = mailbox_open(user, "INBOX", MAILBOX_OPEN_READONLY);
	save_msg(user, "INBOX", "x\r\n", &save);
	test_assert(mail_save_finish_replace(&save, box, uid2, &uidvalidity, &uid) < 0);
	test_assert(mail_user_get_error(user, &text) == MAIL_ERROR_PERM);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_replace_other_mailbox(void)
{
	test_begin("mail_save_finish_replace: into another mailbox");
	const char *home = test_storage_mkdtemp("replace");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "Sent", MAILBOX_SPECIAL_NONE) == 0);
	uint32_t uid1 = test_storage_save(user, "INBOX", "Subject: draft\r\n\r\nv1\r\n", 0, NULL);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);

	struct mail_save *save;
	uint32_t uidvalidity, uid;
	save_msg(user, "Sent", "Subject: draft\r\n\r\nsent\r\n", &save);
	test_assert(mail_save_finish_replace(&save, box, uid1, &uidvalidity, &uid) == 0);
	struct mailbox_sync_result res;
	test_assert(mailbox_sync(box, 0, t_pool(), &res) == 0);
	test_assert(mailbox_view_count(box) == 0 && res.expunged_uids.count == 1);
	struct mailbox_status status;
	test_assert(mailbox_get_status(user, "Sent", STATUS_MESSAGES | STATUS_UIDVALIDITY,
				       t_pool(), &status) == 0);
	test_assert(status.messages == 1 && status.uidvalidity == uidvalidity);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	test_assert(test_storage_check(user, "Sent") == NULL);

	/* a missing destination fails before anything changes */
	test_assert(mail_save_begin(user, "Nope", &(struct mail_save_params){
		.internal_date = (time_t)-1 }) == NULL);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_user_secrets(void)
{
	test_begin("mail user secrets");
	const char *home = test_storage_mkdtemp("secret");
	struct mail_user *user = test_storage_user(home, false);
	unsigned char k1[MAIL_USER_SECRET_SIZE], k2[MAIL_USER_SECRET_SIZE], k3[MAIL_USER_SECRET_SIZE];

	test_assert(mail_user_secret_get(user, "urlauth/1/5", false, k1) == 0);
	test_assert(mail_user_secret_get(user, "urlauth/1/5", true, k1) == 1);
	test_assert(mail_user_secret_get(user, "urlauth/1/5", false, k2) == 1);
	test_assert(memcmp(k1, k2, sizeof(k1)) == 0);
	test_assert(mail_user_secret_get(user, "urlauth/2/5", true, k3) == 1);
	test_assert(memcmp(k1, k3, sizeof(k1)) != 0);
	test_assert(mail_user_secret_get(user, "bad name", true, k3) < 0);

	struct stat st;
	test_assert(stat(t_strdup_printf("%s/tern-secrets", home), &st) == 0 &&
		    (st.st_mode & 0777) == 0600);

	/* another process's view of the same file */
	struct mail_user *user2 = test_storage_user(home, false);
	test_assert(mail_user_secret_get(user2, "urlauth/1/5", false, k2) == 1);
	test_assert(memcmp(k1, k2, sizeof(k1)) == 0);

	test_assert(mail_user_secret_reset(user, "urlauth/1/") == 0);
	test_assert(mail_user_secret_get(user2, "urlauth/1/5", false, k2) == 0);
	test_assert(mail_user_secret_get(user2, "urlauth/2/5", false, k2) == 1);
	test_assert(mail_user_secret_get(user, "urlauth/1/5", true, k2) == 1);
	test_assert(memcmp(k1, k2, sizeof(k1)) != 0);
	test_assert(mail_user_secret_reset(user, "urlauth/") == 0);
	test_assert(mail_user_secret_get(user, "urlauth/2/5", false, k2) == 0);
	test_assert(test_storage_read_file(t_strdup_printf("%s/tern-secrets", home)) != NULL &&
		    test_storage_read_file(t_strdup_printf("%s/tern-secrets", home))[0] == '\0');
	mail_user_deinit(&user2);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_replace_same_mailbox, test_replace_other_mailbox, test_user_secrets, NULL
	};
	return test_run(tests);
}
