/* Reconciling the index with a Maildir changed by other programs: files
 * delivered into new/ move to cur/ and get UIDs (in mtime, then name
 * order); files in cur/ unknown to the index are added, rows whose file is
 * gone are expunged, and flags renamed by other programs are adopted.
 * cur/ is read only when its mtime differs from the stamp the index keeps.
 * Directory reads happen outside the write lock; every difference is
 * checked again under it before it is applied, so concurrent tern
 * processes (which change files only under the lock) are never mistaken
 * for external changes. */
#include "maildir-private.h"
#include "hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

/* Files moved from new/ per write transaction. */
#define MAILDIR_SYNC_NEW_BATCH 1000

struct maildir_entry {
	const char *name, *base, *info;
	time_t mtime;
	bool seen;
};
typedef ARRAY(struct maildir_entry) array_maildir_entry_t;

struct maildir_candidate {
	uint32_t uid;
	const struct maildir_entry *entry; /* NULL: the file vanished */
};
typedef ARRAY(struct maildir_candidate) array_maildir_candidate_t;

static int maildir_entry_cmp_mtime(const void *p1, const void *p2)
{
	const struct maildir_entry *e1 = p1, *e2 = p2;
	if (e1->mtime != e2->mtime)
		return e1->mtime < e2->mtime ? -1 : 1;
	return strcmp(e1->name, e2->name);
}

/* Reads a directory's message files (names starting with '.' are not). */
static int maildir_read_dir(struct mail_user *user, const char *path, pool_t pool,
			    bool want_mtime, array_maildir_entry_t *entries)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return mail_user_set_syscall_error(user, "opendir", path, errno);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct maildir_entry *e = array_append_space(entries);
		e->name = p_strdup(pool, de->d_name);
		maildir_filename_split(pool, e->name, &e->base, &e->info);
		struct stat st;
		if (want_mtime && fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			e->mtime = st.st_mtim.tv_sec;
	}
	closedir(d);
	return 0;
}

int maildir_sync_index_file(struct mail_user *user, struct index_change *ch,
			    const char *base, const char *info, const struct stat *st,
			    const char *path)
{
	struct index_message msg = {
		.flags = maildir_info_get_flags(info),
		.filename = base,
		.fileinfo = info,
		.internal_date = st->st_mtim.tv_sec,
		.save_date = time(NULL),
		.psize = (uint64_t)st->st_size,
		.guid = mail_random_hex(16),
	};
	if (!maildir_filename_get_size(base, 'W', &msg.size)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : mail_user_set_syscall_error(user, "open", path, errno);
		int ret = maildir_file_crlf_size(fd, &msg.size);
		int err = errno;
		i_close_fd(&fd);
		if (ret < 0)
			return mail_user_set_syscall_error(user, "read", path, err);
	}
	if (index_change_append(ch, &msg) < 0)
		return mail_user_set_index_error(user, "index new message");
	/* flags this program doesn't know about aren't in the file's name */
	if (info == NULL)
		index_change_mark_mirror_dirty(ch);
	return 0;
}

/* Moves one file from new/ to cur/ and indexes it. */
static int maildir_sync_new_file(struct mail_user *user, struct index_change *ch,
				 const char *dir, const struct maildir_entry *e)
{
	struct index_message old;
	const char *base = e->base;
	int ret = index_message_find_file(user->db, index_change_get_mailbox(ch)->id, base,
					  t_pool(), &old);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up file");
	if (ret > 0) {
		/* a second file with a name we know (copied back by hand?) */
		base = maildir_filename_generate(user);
	}
	const char *info = maildir_info_set_flags(t_pool(), e->info, maildir_info_get_flags(e->info));
	const char *src = t_strdup_printf("%s/%s", maildir_subdir(user, dir, "new"), e->name);
	const char *dest = maildir_message_path(user, dir, base, info);
	struct stat st;
	if (stat(src, &st) < 0 || rename(src, dest) < 0) {
		/* another process took it */
		return errno == ENOENT ? 0 : mail_user_set_syscall_error(user, "rename", src, errno);
	}
	return maildir_sync_index_file(user, ch, base, info, &st, dest);
}

static int maildir_sync_new_batch(struct mail_user *user, int64_t mailbox_id,
				  const struct maildir_entry *entries, unsigned int count)
{
	struct index_change *ch;
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = index_change_begin(user->db, mailbox_id, &ch);
	if (ret <= 0) {
		mail_user_rollback(user);
		return ret < 0 ? mail_user_set_index_error(user, "sync") : 0;
	}
	const char *dir = t_strdup(index_change_get_mailbox(ch)->dir);
	int64_t stamp = mail_own_change_begin(user, dir);
	for (unsigned int i = 0; i < count && ret >= 0; i++)
		ret = maildir_sync_new_file(user, ch, dir, &entries[i]);
	if (ret >= 0) {
		mail_own_change_end(user, dir, stamp, ch);
		ret = maildir_sync_dir(user, dir);
	}
	if (ret >= 0)
		ret = index_change_finish(&ch) < 0 ? mail_user_set_index_error(user, "sync") : 0;
	index_change_abort(&ch);
	if (ret < 0) {
		mail_user_rollback(user);
		return -1;
	}
	return mail_user_commit(user);
}

static int maildir_sync_new(struct mail_user *user, const struct index_mailbox *mb)
{
	pool_t pool = pool_create("maildir sync new", 1024);
	array_maildir_entry_t entries;
	array_init(&entries, pool, 16);
	int ret = maildir_read_dir(user, maildir_subdir(user, mb->dir, "new"), pool, true,
				   &entries);
	if (ret == 0 && entries.count > 0) {
		qsort(entries.v, entries.count, sizeof(entries.v[0]), maildir_entry_cmp_mtime);
		for (unsigned int i = 0; i < entries.count && ret == 0; i += MAILDIR_SYNC_NEW_BATCH) {
			ret = maildir_sync_new_batch(user, mb->id, entries.v + i,
						     I_MIN(MAILDIR_SYNC_NEW_BATCH,
							   entries.count - i));
		}
	}
	pool_destroy(&pool);
	return ret;
}

/* --- cur/ --- */

static bool str_eq_null(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool maildir_file_exists(struct mail_user *user, const char *dir, const char *base,
				const char *info)
{
	struct stat st;
	return stat(maildir_message_path(user, dir, base, info), &st) == 0;
}

/* A file of a known message got another info: adopt the flags another
   program changed, keep the ones it didn't touch. */
static int maildir_sync_renamed(struct mail_user *user, struct index_change *ch,
				const char *dir, const struct index_message *row,
				const struct maildir_entry *e)
{
	if (str_eq_null(row->fileinfo, e->info) ||
	    !maildir_file_exists(user, dir, e->base, e->info))
		return 0;
	uint32_t file_flags = maildir_info_get_flags(e->info);
	uint32_t changed = (file_flags ^ maildir_info_get_flags(row->fileinfo)) & MAIL_FLAGS_MASK;
	uint32_t flags = (row->flags & ~changed) | (file_flags & changed);
	int ret;
	if (flags == row->flags) {
		ret = index_change_set_fileinfo(ch, row->uid, e->info);
	} else {
		ret = index_change_set_flags(ch, row, flags, row->keywords, e->info);
		if (maildir_info_get_flags(e->info) != flags)
			index_change_mark_mirror_dirty(ch);
	}
	return ret < 0 ? mail_user_set_index_error(user, "adopt flags") : 0;
}

static int maildir_sync_cur_apply_one(struct mail_user *user, struct index_change *ch,
				      const char *dir, const struct maildir_candidate *c)
{
	struct index_message row;
	int64_t id = index_change_get_mailbox(ch)->id;
	int ret;
	if (c->uid == 0) {
		/* unknown file: still unknown and still there? */
		ret = index_message_find_file(user->db, id, c->entry->base, t_pool(), &row);
		if (ret != 0)
			return ret < 0 ? mail_user_set_index_error(user, "look up file") : 0;
		const char *path = maildir_message_path(user, dir, c->entry->base, c->entry->info);
		struct stat st;
		if (stat(path, &st) < 0)
			return 0;
		return maildir_sync_index_file(user, ch, c->entry->base, c->entry->info, &st, path);
	}
	ret = index_message_get(user->db, id, c->uid, t_pool(), &row);
	if (ret <= 0)
		return ret < 0 ? mail_user_set_index_error(user, "read message") : 0;
	if (c->entry != NULL)
		return maildir_sync_renamed(user, ch, dir, &row, c->entry);
	/* vanished, unless it was renamed under the lock meanwhile */
	if (maildir_file_exists(user, dir, row.filename, row.fileinfo))
		return 0;
	if (index_change_expunge(ch, &row) < 0)
		return mail_user_set_index_error(user, "expunge vanished message");
	return 0;
}

static int maildir_sync_cur_apply(struct mail_user *user, int64_t mailbox_id, int64_t scan_stamp,
				  const struct maildir_candidate *cands, unsigned int count)
{
	struct index_change *ch;
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = index_change_begin(user->db, mailbox_id, &ch);
	if (ret <= 0) {
		mail_user_rollback(user);
		return ret < 0 ? mail_user_set_index_error(user, "sync") : 0;
	}
	const char *dir = t_strdup(index_change_get_mailbox(ch)->dir);
	/* the scan is current only if nothing changed cur/ since we read it */
	int64_t before = maildir_disk_stamp(user, dir);
	for (unsigned int i = 0; i < count && ret >= 0; i++)
		ret = maildir_sync_cur_apply_one(user, ch, dir, &cands[i]);
	if (ret >= 0) {
		if (scan_stamp != 0 && before == scan_stamp)
			index_change_set_disk_stamp(ch, maildir_disk_stamp(user, dir));
		ret = index_change_finish(&ch) < 0 ? mail_user_set_index_error(user, "sync") : 0;
	}
	index_change_abort(&ch);
	if (ret < 0) {
		mail_user_rollback(user);
		return -1;
	}
	return mail_user_commit(user);
}

/* Compares cur/ with the index rows; fills the differences. */
static int maildir_sync_cur_compare(struct mail_user *user, int64_t mailbox_id, pool_t pool,
				    array_maildir_entry_t *entries,
				    array_maildir_candidate_t *cands)
{
	struct hash_table *hash = hash_table_create(pool, str_hash, str_cmp);
	for (unsigned int i = 0; i < entries->count; i++)
		hash_table_insert(hash, entries->v[i].base, &entries->v[i]);
	struct index_iter *iter = index_iter_init(user->db, mailbox_id, INDEX_ITER_UID_RANGE,
						  0, 1, UINT32_MAX);
	struct index_message row;
	while (index_iter_next(iter, &row) > 0) {
		struct maildir_entry *e = hash_table_lookup(hash, row.filename);
		if (e != NULL) {
			e->seen = true;
			if (str_eq_null(e->info, row.fileinfo))
				continue;
		}
		struct maildir_candidate *c = array_append_space(cands);
		c->uid = row.uid;
		c->entry = e;
	}
	int ret = index_iter_deinit(&iter);
	hash_table_destroy(&hash);
	if (ret < 0)
		return mail_user_set_index_error(user, "read messages");
	for (unsigned int i = 0; i < entries->count; i++) {
		if (!entries->v[i].seen) {
			struct maildir_candidate *c = array_append_space(cands);
			c->entry = &entries->v[i];
		}
	}
	return 0;
}

static void maildir_sync_clean_tmp(struct mail_user *user, const char *dir)
{
	const char *path = maildir_subdir(user, dir, "tmp");
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	time_t limit = time(NULL) - MAILDIR_TMP_MAX_AGE_SECS;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < limit && st.st_ctime < limit)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int maildir_sync_cur(struct mail_user *user, const struct index_mailbox *mb)
{
	int64_t stamp = maildir_disk_stamp(user, mb->dir);
	if (stamp != 0 && stamp == mb->disk_stamp)
		return 0;
	pool_t pool = pool_create("maildir sync cur", 16384);
	array_maildir_entry_t entries;
	array_maildir_candidate_t cands;
	array_init(&entries, pool, mb->messages + 16);
	array_init(&cands, pool, 16);
	int ret = maildir_read_dir(user, maildir_subdir(user, mb->dir, "cur"), pool, false,
				   &entries);
	if (ret == 0)
		ret = maildir_sync_cur_compare(user, mb->id, pool, &entries, &cands);
	if (ret == 0)
		ret = maildir_sync_cur_apply(user, mb->id, stamp, cands.v, cands.count);
	if (ret == 0)
		maildir_sync_clean_tmp(user, mb->dir);
	pool_destroy(&pool);
	return ret;
}

int maildir_sync_disk(struct mail_user *user, int64_t mailbox_id,
		      enum mail_disk_sync_flags flags)
{
	struct index_mailbox mb;
	int ret = index_mailbox_get(user->db, mailbox_id, t_pool(), &mb);
	if (ret <= 0 || !mb.selectable)
		return ret < 0 ? mail_user_set_index_error(user, "sync") : 0;
	if ((flags & MAIL_DISK_SYNC_NEW) != 0 && maildir_sync_new(user, &mb) < 0)
		return -1;
	if ((flags & MAIL_DISK_SYNC_CUR) == 0)
		return 0;
	/* new/ may have moved the stamp */
	if (index_mailbox_get(user->db, mailbox_id, t_pool(), &mb) <= 0 || !mb.selectable)
		return 0;
	return maildir_sync_cur(user, &mb);
}
