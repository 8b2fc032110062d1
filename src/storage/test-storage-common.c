/* Helpers shared by the storage tests. */
#include "test-storage-common.h"
#include "test-common.h"
#include "maildir-private.h"
#include "hash.h"
#include "istream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_storage_mkdtemp(const char *prefix)
{
	char *path = t_strdup_printf("/tmp/%s.XXXXXX", prefix);
	if (mkdtemp(path) == NULL)
		i_fatal("mkdtemp(%s) failed: %s", path, strerror(errno));
	return path;
}

void test_storage_rm_rf(const char *path)
{
	char *cmd = t_strdup_printf("rm -rf '%s'", path);
	if (system(cmd) != 0)
		printf("  cleanup of %s failed\n", path);
}

struct mail_user *test_storage_user(const char *home, bool special_folders)
{
	struct mail_user_settings set = {
		.username = "test", .home = home, .driver = "maildir",
		.create_special_folders = special_folders,
	};
	struct mail_user *user;
	const char *error;
	if (mail_user_init(&set, &user, &error) < 0)
		i_fatal("mail_user_init(%s) failed: %s", home, error);
	return user;
}

uint32_t test_storage_save(struct mail_user *user, const char *mailbox, const char *content,
			   uint32_t flags, const char *const *keywords)
{
	struct mail_save_params params = {
		.flags = flags, .keywords = keywords, .internal_date = (time_t)-1,
	};
	struct mail_save *save = mail_save_begin(user, mailbox, &params);
	if (save == NULL)
		return 0;
	/* two writes, so that buffering across calls is exercised */
	size_t len = strlen(content), half = len / 2;
	if (mail_save_write(save, content, half) < 0 ||
	    mail_save_write(save, content + half, len - half) < 0) {
		mail_save_abort(&save);
		return 0;
	}
	uint32_t uidvalidity, uid;
	if (mail_save_finish(&save, &uidvalidity, &uid) < 0)
		return 0;
	return uid;
}

unsigned int test_storage_count_files(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	unsigned int count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		count += de->d_name[0] != '.' ? 1 : 0;
	closedir(d);
	return count;
}

const char *test_storage_read_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	string_t *str = t_str_new(256);
	char buf[4096];
	ssize_t ret;
	while ((ret = read(fd, buf, sizeof(buf))) > 0)
		str_append_n(str, buf, (size_t)ret);
	close(fd);
	return ret < 0 ? NULL : str_c(str);
}

const char *test_storage_subdir(struct mail_user *user, const char *mailbox, const char *sub)
{
	struct index_mailbox mb;
	if (index_mailbox_lookup(user->db, mailbox_name_canonical(mailbox), t_pool(), &mb) <= 0 ||
	    mb.dir == NULL)
		return "/nonexistent";
	return maildir_subdir(user, mb.dir, sub);
}

static const char *test_storage_check_files(struct mail_user *user, const struct index_mailbox *mb)
{
	const char *cur = maildir_subdir(user, mb->dir, "cur");
	struct hash_table *files = hash_table_create(t_pool(), str_hash, str_cmp);
	DIR *d = opendir(cur);
	if (d == NULL) {
		hash_table_destroy(&files);
		return "cur/ missing";
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			hash_table_insert(files, t_strdup(de->d_name), (void *)1);
	}
	closedir(d);
	const char *problem = NULL;
	struct index_iter *iter = index_iter_init(user->db, mb->id, INDEX_ITER_UID_RANGE, 0, 1,
						  UINT32_MAX);
	struct index_message msg;
	while (problem == NULL && index_iter_next(iter, &msg) > 0) {
		const char *name = msg.fileinfo == NULL ? msg.filename :
			t_strdup_printf("%s:%s", msg.filename, msg.fileinfo);
		if (!hash_table_remove(files, name))
			problem = t_strdup_printf("uid %u: file %s missing", msg.uid, name);
	}
	if (index_iter_deinit(&iter) < 0)
		problem = "index read failed";
	if (problem == NULL && hash_table_count(files) > 0)
		problem = t_strdup_printf("%u files without rows", hash_table_count(files));
	hash_table_destroy(&files);
	if (problem == NULL && test_storage_count_files(maildir_subdir(user, mb->dir, "new")) > 0)
		problem = "new/ not empty";
	return problem;
}

const char *test_storage_check(struct mail_user *user, const char *mailbox)
{
	struct index_mailbox mb;
	if (index_mailbox_lookup(user->db, mailbox_name_canonical(mailbox), t_pool(), &mb) <= 0)
		return "no such mailbox";
	const char *problem;
	int ret = index_mailbox_check(user->db, mb.id, &problem);
	if (ret < 0)
		return index_db_get_error(user->db);
	if (ret > 0)
		return problem;
	return test_storage_check_files(user, &mb);
}

const char *test_storage_read_message(struct mailbox *box, uint32_t uid)
{
	struct istream *input;
	uint64_t size;
	if (mailbox_open_message(box, uid, &input, &size) <= 0)
		return NULL;
	string_t *str = t_str_new(256);
	ssize_t ret;
	while ((ret = i_stream_read(input)) > 0 || i_stream_get_data_size(input) > 0) {
		size_t n;
		const unsigned char *data = i_stream_get_data(input, &n);
		str_append_n(str, data, n);
		i_stream_skip(input, n);
		if (ret < 0)
			break;
	}
	bool failed = i_stream_get_error(input) != 0;
	i_stream_destroy(&input);
	return failed || str_len(str) != size ? NULL : str_c(str);
}
