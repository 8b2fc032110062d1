/* Tests of saving into a Maildir: file names and sizes, streaming in small
 * writes, internal dates as mtimes, aborting, failures (missing mailbox,
 * mailbox deleted or renamed meanwhile, keyword limits), and flags
 * mirrored into file names after STORE (deferred, in batches). */
#include "test-common.h"
#include "test-storage-common.h"
#include "maildir-private.h"

#include <dirent.h>
#include <sys/stat.h>

static const char *home;

/* The only file name in a directory (temporary memory), NULL if not one. */
static const char *test_only_file(const char *dir)
{
	DIR *d = opendir(dir);
	const char *found = NULL;
	unsigned int count = 0;
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		found = t_strdup(de->d_name);
		count++;
	}
	if (d != NULL)
		closedir(d);
	return count == 1 ? found : NULL;
}

static unsigned int test_count_info(const char *dir, const char *info)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int count = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		const char *colon = strchr(de->d_name, ':');
		if (colon != NULL && strcmp(colon, info) == 0)
			count++;
	}
	if (d != NULL)
		closedir(d);
	return count;
}

static void test_save_basic(void)
{
	test_begin("maildir save file name and content");
	home = test_storage_mkdtemp("test-maildir-save");
	struct mail_user *user = test_storage_user(home, false);
	struct mail_save_params params = {
		.flags = MAIL_SEEN | MAIL_ANSWERED, .internal_date = 1000000000,
		.internal_date_tz = -300,
	};
	struct mail_save *save = mail_save_begin(user, "INBOX", &params);
	test_assert(save != NULL);
	const char *tmp = test_storage_subdir(user, "INBOX", "tmp");
	test_assert(test_storage_count_files(tmp) == 1);
	const char *body = "From: a@example.com\nSubject: hi\r\n\nline\n";
	test_assert(mail_save_write(save, body, strlen(body)) == 0);
	uint32_t uidvalidity, uid;
	test_assert(mail_save_finish(&save, &uidvalidity, &uid) == 0);
	test_assert(save == NULL && uid == 1 && uidvalidity != 0);
	test_assert(test_storage_count_files(tmp) == 0);

	const char *cur = test_storage_subdir(user, "INBOX", "cur");
	const char *name = test_only_file(cur);
	test_assert(name != NULL);
	size_t len = strlen(body);
	if (name != NULL) {
		/* <sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<crlf size>:2,RS */
		const char *suffix = t_strdup_printf(",S=%zu,W=%zu:2,RS", len, len + 3);
		test_assert(strlen(name) > strlen(suffix) &&
			    strcmp(name + strlen(name) - strlen(suffix), suffix) == 0);
		test_assert(strstr(name, ".M") != NULL && strstr(name, "P") != NULL &&
			    strstr(name, "Q") != NULL);
		const char *path = t_strdup_printf("%s/%s", cur, name);
		test_assert_strcmp(test_storage_read_file(path), body);
		struct stat st;
		test_assert(stat(path, &st) == 0 && st.st_mtime == 1000000000);
	}
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 1, t_pool(), &rec) == 1);
	test_assert(rec.internal_date == 1000000000 && rec.internal_date_tz == -300);
	test_assert(rec.size == len + 3 && rec.flags == (MAIL_SEEN | MAIL_ANSWERED));
	test_assert(rec.save_date >= time(NULL) - 60);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_save_streaming(void)
{
	test_begin("maildir save streamed in small writes");
	home = test_storage_mkdtemp("test-maildir-save");
	struct mail_user *user = test_storage_user(home, false);
	struct mail_save_params params = { .internal_date = (time_t)-1 };
	struct mail_save *save = mail_save_begin(user, "INBOX", &params);
	/* 1 MB with mixed line ends, CRs split from their LFs by the writes */
	string_t *all = str_new(system_pool, 1100000);
	uint64_t bare = 0;
	for (unsigned int i = 0; str_len(all) < 1000000; i++) {
		if (i % 3 == 0) {
			str_append(all, "plain line\n");
			bare++;
		} else {
			str_append(all, "crlf line\r\n");
		}
	}
	for (size_t off = 0; off < str_len(all); off += 999) {
		size_t n = I_MIN(999, str_len(all) - off);
		test_assert(mail_save_write(save, str_data(all) + off, n) == 0);
	}
	uint32_t uidvalidity, uid;
	test_assert(mail_save_finish(&save, &uidvalidity, &uid) == 0);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	struct mail_record rec;
	test_assert(mailbox_get_record(box, 1, t_pool(), &rec) == 1);
	test_assert(rec.size == str_len(all) + bare);
	const char *content = test_storage_read_message(box, uid);
	test_assert(content != NULL && strcmp(content, str_c(all)) == 0);
	mailbox_close(&box);
	str_free(&all);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_save_failures(void)
{
	test_begin("maildir save failures");
	home = test_storage_mkdtemp("test-maildir-save");
	struct mail_user *user = test_storage_user(home, false);
	struct mail_save_params params = { .internal_date = (time_t)-1 };
	const char *text;
	test_assert(mail_save_begin(user, "nope", &params) == NULL);
	test_assert(mail_user_get_error(user, &text) == MAIL_ERROR_NOTFOUND);

	/* abort leaves nothing behind */
	struct mail_save *save = mail_save_begin(user, "INBOX", &params);
	test_assert(mail_save_write(save, "x", 1) == 0);
	mail_save_abort(&save);
	test_assert(save == NULL);
	test_assert(test_storage_count_files(test_storage_subdir(user, "INBOX", "tmp")) == 0);
	test_assert(test_storage_count_files(test_storage_subdir(user, "INBOX", "cur")) == 0);

	/* the mailbox is deleted while saving */
	test_assert(mailbox_create(user, "doomed", 0) == 0);
	save = mail_save_begin(user, "doomed", &params);
	test_assert(save != NULL);
	test_assert(mailbox_delete(user, "doomed") == 0);
	test_assert(mail_save_write(save, "x\r\n", 3) == 0);
	uint32_t uidvalidity, uid;
	test_assert(mail_save_finish(&save, &uidvalidity, &uid) < 0);

	/* renamed while saving: the message lands in the renamed mailbox */
	test_assert(mailbox_create(user, "before", 0) == 0);
	save = mail_save_begin(user, "before", &params);
	test_assert(mail_save_write(save, "moved\r\n", 7) == 0);
	test_assert(mailbox_rename(user, "before", "after") == 0);
	test_assert(mail_save_finish(&save, &uidvalidity, &uid) == 0 && uid == 1);
	test_assert(test_storage_check(user, "after") == NULL);

	/* keywords: syntax and the per-mailbox limit */
	const char *const bad[] = { "\\Seen", NULL };
	params.keywords = bad;
	test_assert(mail_save_begin(user, "INBOX", &params) == NULL);
	test_assert(mail_user_get_error(user, &text) == MAIL_ERROR_PARAMS);
	const char *many[INDEX_KEYWORDS_MAX + 2];
	for (unsigned int i = 0; i <= INDEX_KEYWORDS_MAX; i++)
		many[i] = t_strdup_printf("kw%u", i);
	many[INDEX_KEYWORDS_MAX + 1] = NULL;
	params.keywords = many;
	test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, many) == 0);
	test_assert(mail_user_get_error(user, &text) == MAIL_ERROR_LIMIT);
	many[INDEX_KEYWORDS_MAX] = NULL;
	test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, many) == 1);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_mirror_flags(void)
{
	test_begin("maildir flags mirrored into file names");
	home = test_storage_mkdtemp("test-maildir-save");
	struct mail_user *user = test_storage_user(home, false);
	const unsigned int n = 300;
	for (unsigned int i = 0; i < n; i++)
		test_assert(test_storage_save(user, "INBOX", "x\r\n", 0, NULL) == i + 1);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	uint32_t *seqs = i_new(uint32_t, n);
	for (unsigned int i = 0; i < n; i++)
		seqs[i] = i + 1;
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN | MAIL_DRAFT };
	test_assert(mailbox_update_flags(box, seqs, n, &change, t_pool(), NULL) == 0);
	/* nothing renamed yet: the index alone knows */
	const char *cur = test_storage_subdir(user, "INBOX", "cur");
	test_assert(test_count_info(cur, ":2,DS") == 0);
	unsigned int rounds = 0;
	int ret;
	while ((ret = mailbox_run_deferred(box, 0)) > 0)
		rounds++;
	test_assert(ret == 0 && rounds >= 2);
	test_assert(test_count_info(cur, ":2,DS") == n);
	test_assert(test_storage_check(user, "INBOX") == NULL);
	/* the renames were ours: the index's stamp still matches cur/ */
	struct index_mailbox mb;
	test_assert(index_mailbox_lookup(user->db, "INBOX", t_pool(), &mb) == 1);
	test_assert(mb.disk_stamp == maildir_disk_stamp(user, "") && mb.disk_stamp != 0);
	test_assert(mb.mirror_modseq == mb.highestmodseq);
	free(seqs);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_save_basic,
		test_save_streaming,
		test_save_failures,
		test_mirror_flags,
		NULL
	};
	return test_run(tests);
}
