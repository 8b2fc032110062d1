/* Mirroring flags into Maildir file names (":2,<flags>") after the index
 * committed them: deferred, in small batches under the write lock, so a
 * STORE on 100,000 messages costs one index transaction and the renames
 * happen later. The index's mirror_modseq says up to where names are
 * current, so any process (after a crash too) can finish the work. */
#include "maildir-private.h"

#include <errno.h>
#include <stdio.h>

/* renames per transaction: small enough that a slice of deferred work
   overruns its deadline by a millisecond or two at most */
#define MAILDIR_MIRROR_BATCH 32

struct maildir_mirror_row {
	uint32_t uid;
	uint64_t modseq;
	const char *filename, *fileinfo, *want;
};
typedef ARRAY(struct maildir_mirror_row) array_maildir_mirror_row_t;

static int maildir_mirror_read(struct mail_user *user, int64_t mailbox_id,
			       const struct mail_mirror_state *state, pool_t pool,
			       array_maildir_mirror_row_t *rows)
{
	struct index_iter *iter = index_iter_init(user->db, mailbox_id, INDEX_ITER_CHANGED,
						  state->pos_modseq, state->pos_uid,
						  MAILDIR_MIRROR_BATCH);
	struct index_message msg;
	while (index_iter_next(iter, &msg) > 0) {
		struct maildir_mirror_row *row = array_append_space(rows);
		row->uid = msg.uid;
		row->modseq = msg.modseq;
		row->want = maildir_info_set_flags(pool, msg.fileinfo, msg.flags);
		if (msg.fileinfo != NULL && strcmp(row->want, msg.fileinfo) == 0)
			continue;
		row->filename = p_strdup(pool, msg.filename);
		row->fileinfo = msg.fileinfo == NULL ? NULL : p_strdup(pool, msg.fileinfo);
	}
	if (index_iter_deinit(&iter) < 0)
		return mail_user_set_index_error(user, "read messages");
	return 0;
}

static int maildir_mirror_rename(struct mail_user *user, struct index_change *ch,
				 const char *dir, const struct maildir_mirror_row *row)
{
	const char *old_path = maildir_message_path(user, dir, row->filename, row->fileinfo);
	const char *new_path = maildir_message_path(user, dir, row->filename, row->want);
	if (rename(old_path, new_path) < 0) {
		/* gone or renamed by another program: the next disk sync
		   sorts it out */
		if (errno == ENOENT)
			return 0;
		return mail_user_set_syscall_error(user, "rename", old_path, errno);
	}
	if (index_change_set_fileinfo(ch, row->uid, row->want) < 0)
		return mail_user_set_index_error(user, "update file info");
	return 0;
}

/* One batch in one write transaction. Returns 1 if more remains, 0 when
   the pass is complete, -1. */
static int maildir_mirror_batch(struct mail_user *user, int64_t mailbox_id,
				struct mail_mirror_state *state)
{
	struct index_change *ch;
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = index_change_begin(user->db, mailbox_id, &ch);
	if (ret <= 0) {
		mail_user_rollback(user);
		state->active = false;
		return ret < 0 ? mail_user_set_index_error(user, "mirror flags") : 0;
	}
	pool_t pool = pool_create("maildir mirror", 4096);
	array_maildir_mirror_row_t rows;
	array_init(&rows, pool, MAILDIR_MIRROR_BATCH);
	const char *dir = p_strdup(pool, index_change_get_mailbox(ch)->dir);
	int64_t stamp = mail_own_change_begin(user, dir);
	ret = maildir_mirror_read(user, mailbox_id, state, pool, &rows);
	for (unsigned int i = 0; i < rows.count && ret == 0; i++) {
		if (rows.v[i].filename != NULL)
			ret = maildir_mirror_rename(user, ch, dir, &rows.v[i]);
	}
	bool complete = rows.count < MAILDIR_MIRROR_BATCH;
	if (ret == 0) {
		mail_own_change_end(user, dir, stamp, ch);
		if (complete && index_mailbox_set_mirror_modseq(user->db, mailbox_id,
								state->target_modseq) < 0)
			ret = mail_user_set_index_error(user, "mirror flags");
	}
	if (ret == 0 && index_change_finish(&ch) < 0)
		ret = mail_user_set_index_error(user, "mirror flags");
	index_change_abort(&ch);
	if (ret == 0 && rows.count > 0) {
		state->pos_modseq = rows.v[rows.count - 1].modseq;
		state->pos_uid = rows.v[rows.count - 1].uid;
	}
	pool_destroy(&pool);
	if (ret < 0) {
		mail_user_rollback(user);
		state->active = false;
		return -1;
	}
	if (mail_user_commit(user) < 0) {
		state->active = false;
		return -1;
	}
	if (complete)
		state->active = false;
	return complete ? 0 : 1;
}

int maildir_mirror_flags(struct mail_user *user, int64_t mailbox_id,
			 struct mail_mirror_state *state, uint64_t deadline_ms)
{
	if (!state->active) {
		struct index_mailbox mb;
		int ret = index_mailbox_get(user->db, mailbox_id, t_pool(), &mb);
		if (ret < 0)
			return mail_user_set_index_error(user, "mirror flags");
		if (ret == 0 || !mb.selectable || mb.mirror_modseq >= mb.highestmodseq)
			return 0;
		state->active = true;
		state->pos_modseq = mb.mirror_modseq;
		state->pos_uid = UINT32_MAX;
		state->target_modseq = mb.highestmodseq;
	}
	for (;;) {
		int ret = maildir_mirror_batch(user, mailbox_id, state);
		if (ret <= 0)
			return ret;
		if (mail_now_ms() >= deadline_ms)
			return 1;
	}
}
