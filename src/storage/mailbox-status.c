/* STATUS of a mailbox that need not be selected (RFC 9051 §6.3.11): every
 * item comes from the mailbox's index row (counts are kept exact there),
 * after picking up changes made on the disk by other programs; and the
 * user's usage over all mailboxes, for quota. */
#include "mail-storage-private.h"

static int mailbox_status_fill(struct mail_user *user, const struct index_mailbox *mb,
			       enum mailbox_status_items items, pool_t pool,
			       struct mailbox_status *status_r)
{
	status_r->mailbox_id = mb->id;
	status_r->messages = mb->messages;
	status_r->uidnext = mb->uidnext;
	status_r->uidvalidity = mb->uidvalidity;
	status_r->unseen = mb->unseen;
	status_r->deleted = mb->deleted;
	status_r->size = mb->vsize;
	status_r->highestmodseq = mb->highestmodseq;
	status_r->special_use = mb->special_use;
	if ((items & STATUS_RECENT) != 0 &&
	    index_count_from_uid(user->db, mb->id, mb->first_recent_uid, &status_r->recent) < 0)
		return -1;
	if ((items & STATUS_FIRST_UNSEEN_SEQ) != 0 && mb->unseen > 0) {
		uint32_t uid, above;
		int ret = index_first_unseen_uid(user->db, mb->id, &uid);
		if (ret < 0 || (ret > 0 && index_count_from_uid(user->db, mb->id, uid, &above) < 0))
			return -1;
		if (ret > 0)
			status_r->first_unseen_seq = mb->messages - above + 1;
	}
	return index_keywords_list(user->db, mb->id, pool, &status_r->keywords);
}

int mailbox_get_status(struct mail_user *user, const char *name,
		       enum mailbox_status_items items, pool_t pool,
		       struct mailbox_status *status_r)
{
	mail_user_clear_error(user);
	memset(status_r, 0, sizeof(*status_r));
	array_init(&status_r->keywords, pool, 4);
	if (!mailbox_name_is_valid(name))
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	name = mailbox_name_canonical(name);
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret == 0 || !mb.selectable)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	/* changes by other programs count too (cheap when there are none:
	   a readdir of new/ and a stat of cur/) */
	if (mailbox_sync_disk(user, &mb, MAIL_DISK_SYNC_NEW | MAIL_DISK_SYNC_CUR) < 0)
		return -1;
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "status");
	ret = index_mailbox_get(user->db, mb.id, t_pool(), &mb);
	if (ret > 0 && mb.selectable)
		ret = mailbox_status_fill(user, &mb, items, pool, status_r) < 0 ? -1 : 1;
	index_db_rollback(user->db);
	if (ret < 0)
		return mail_user_set_index_error(user, "status");
	if (ret == 0 || !mb.selectable)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	return 0;
}

int mail_user_get_usage(struct mail_user *user, uint64_t *bytes_r, uint64_t *messages_r)
{
	mail_user_clear_error(user);
	*bytes_r = *messages_r = 0;
	if (index_mailbox_usage(user->db, messages_r, bytes_r) < 0)
		return mail_user_set_index_error(user, "usage");
	return 0;
}
