/* mailbox_sync(): moves a view forward to the index's current state and
 * tells the protocol layer what to report (RFC 9051 §7.3.1 EXISTS, §7.4.1
 * EXPUNGE, §7.5.2 FETCH). Cheap when nothing changed: one row read. */
#include "mail-storage-private.h"

struct mailbox_sync_data {
	struct index_mailbox mb;
	array_index_uid_modseq_t changes;
	array_uint32_t expunged;
	unsigned int old_keyword_count;
};

static bool sorted_find(const uint32_t *v, unsigned int count, uint32_t uid, unsigned int *idx_r)
{
	unsigned int lo = 0, hi = count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx_r = lo;
	return lo < count && v[lo] == uid;
}

static bool mailbox_own_modseq(struct mailbox *box, uint64_t modseq)
{
	for (unsigned int i = 0; i < box->own_modseqs.count; i++) {
		if (box->own_modseqs.v[i] == modseq)
			return true;
	}
	return false;
}

/* Whether every change since the view's modseq was made by this view
   (each write transaction adds exactly one modseq). */
static bool mailbox_changes_all_own(struct mailbox *box, uint64_t highestmodseq)
{
	uint64_t own = 0;
	for (unsigned int i = 0; i < box->own_modseqs.count; i++) {
		uint64_t m = box->own_modseqs.v[i];
		if (m > box->modseq && m <= highestmodseq)
			own++;
	}
	return own == highestmodseq - box->modseq;
}

static bool mailbox_sync_is_gone(struct mailbox *box, int ret, const struct index_mailbox *mb)
{
	return ret == 0 || !mb->selectable || mb->uidvalidity != box->uidvalidity;
}

/* Reads the changes in one snapshot. Returns 1, 0 if the mailbox is
   gone, -1. */
static int mailbox_sync_read(struct mailbox *box, struct mailbox_sync_data *data)
{
	struct index_db *db = box->user->db;
	if (index_db_begin_read(db) < 0)
		return -1;
	int ret = index_mailbox_get(db, box->id, t_pool(), &data->mb);
	if (ret > 0 && mailbox_sync_is_gone(box, ret, &data->mb))
		ret = 0;
	if (ret > 0 && data->mb.highestmodseq != box->modseq &&
	    !mailbox_changes_all_own(box, data->mb.highestmodseq)) {
		if (index_changes_since(db, box->id, box->modseq, &data->changes) < 0 ||
		    index_expunged_since(db, box->id, box->modseq, &data->expunged) < 0)
			ret = -1;
	}
	data->old_keyword_count = box->status.keywords.count;
	if (ret > 0 && data->mb.highestmodseq != box->modseq &&
	    mailbox_view_read_extras(box) < 0)
		ret = -1;
	index_db_rollback(db);
	return ret;
}

static void mailbox_sync_new(struct mailbox *box, struct mailbox_sync_data *data,
			     struct mailbox_sync_result *result)
{
	unsigned int first_new = box->uids.count;
	for (unsigned int i = 0; i < data->changes.count; i++) {
		if (data->changes.v[i].uid >= box->uidnext)
			array_push(&box->uids, data->changes.v[i].uid);
	}
	if (box->uids.count == first_new)
		return;
	qsort(box->uids.v + first_new, box->uids.count - first_new, sizeof(uint32_t),
	      uint32_cmp);
	result->exists_changed = true;
}

static void mailbox_sync_expunges_pending(struct mailbox *box, struct mailbox_sync_data *data)
{
	unsigned int idx;
	for (unsigned int i = 0; i < data->expunged.count; i++) {
		uint32_t uid = data->expunged.v[i];
		if (sorted_find(box->uids.v, box->uids.count, uid, &idx) &&
		    !sorted_find(box->pending_expunges.v, box->pending_expunges.count, uid, &idx))
			array_push(&box->pending_expunges, uid);
	}
	qsort(box->pending_expunges.v, box->pending_expunges.count, sizeof(uint32_t),
	      uint32_cmp);
}

/* Removes the pending expunges from the view, reporting each with the
   sequence number it has after the previous ones are gone. */
static void mailbox_sync_expunges_apply(struct mailbox *box, struct mailbox_sync_result *result)
{
	unsigned int w = 0, k = 0, p = 0;
	for (unsigned int r = 0; r < box->uids.count; r++) {
		uint32_t uid = box->uids.v[r];
		while (p < box->pending_expunges.count && box->pending_expunges.v[p] < uid)
			p++;
		if (p < box->pending_expunges.count && box->pending_expunges.v[p] == uid) {
			array_push(&result->expunged_seqs, r + 1 - k);
			array_push(&result->expunged_uids, uid);
			k++;
			continue;
		}
		box->uids.v[w++] = uid;
	}
	box->uids.count = w;
	array_clear(&box->pending_expunges);
}

static void mailbox_sync_changed(struct mailbox *box, uint32_t old_uidnext,
				 struct mailbox_sync_data *data,
				 struct mailbox_sync_result *result)
{
	unsigned int idx;
	for (unsigned int i = 0; i < data->changes.count; i++) {
		const struct index_uid_modseq *c = &data->changes.v[i];
		if (c->uid >= old_uidnext || mailbox_own_modseq(box, c->modseq))
			continue;
		if (sorted_find(box->pending_expunges.v, box->pending_expunges.count, c->uid, &idx))
			continue;
		if (sorted_find(box->uids.v, box->uids.count, c->uid, &idx))
			array_push(&result->changed_seqs, idx + 1);
	}
	qsort(result->changed_seqs.v, result->changed_seqs.count, sizeof(uint32_t), uint32_cmp);
}

static void mailbox_sync_own_prune(struct mailbox *box)
{
	unsigned int w = 0;
	for (unsigned int i = 0; i < box->own_modseqs.count; i++) {
		if (box->own_modseqs.v[i] > box->modseq)
			box->own_modseqs.v[w++] = box->own_modseqs.v[i];
	}
	box->own_modseqs.count = w;
}

static int mailbox_sync_view(struct mailbox *box, enum mailbox_sync_flags flags,
			     pool_t pool, struct mailbox_sync_result *result)
{
	struct mailbox_sync_data data;
	memset(&data, 0, sizeof(data));
	array_init(&data.changes, pool, 16);
	array_init(&data.expunged, pool, 16);
	int ret = mailbox_sync_read(box, &data);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "sync mailbox");
	if (ret == 0) {
		box->deleted = true;
		result->mailbox_deleted = true;
		return 0;
	}
	uint32_t old_uidnext = box->uidnext;
	mailbox_sync_new(box, &data, result);
	mailbox_sync_expunges_pending(box, &data);
	if ((flags & MAILBOX_SYNC_NO_EXPUNGES) == 0)
		mailbox_sync_expunges_apply(box, result);
	mailbox_sync_changed(box, old_uidnext, &data, result);
	result->keywords_changed = box->status.keywords.count != data.old_keyword_count;
	box->modseq = data.mb.highestmodseq;
	box->uidnext = data.mb.uidnext;
	mailbox_sync_own_prune(box);
	if (box->dir == NULL || data.mb.dir == NULL || strcmp(box->dir, data.mb.dir) != 0)
		box->dir = p_strdup(box->pool, data.mb.dir);
	if (data.mb.uidnext != old_uidnext && mailbox_view_update_recent(box, &data.mb) < 0)
		return -1;
	mailbox_view_update_status(box, &data.mb);
	return 0;
}

int mailbox_sync(struct mailbox *box, enum mailbox_sync_flags flags, pool_t pool,
		 struct mailbox_sync_result *result_r)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	memset(result_r, 0, sizeof(*result_r));
	array_init(&result_r->expunged_seqs, pool, 4);
	array_init(&result_r->expunged_uids, pool, 4);
	array_init(&result_r->changed_seqs, pool, 4);
	if (box->deleted) {
		result_r->mailbox_deleted = true;
		return 0;
	}
	if ((flags & MAILBOX_SYNC_FULL) != 0 || box->disk_dirty) {
		struct index_mailbox mb;
		int ret = index_mailbox_get(user->db, box->id, t_pool(), &mb);
		if (ret < 0)
			return mail_user_set_index_error(user, "sync mailbox");
		box->disk_dirty = false;
		if (ret > 0 && mb.selectable &&
		    mailbox_sync_disk(user, &mb, MAIL_DISK_SYNC_NEW | MAIL_DISK_SYNC_CUR) < 0)
			return -1;
	}
	/* the common case: nothing changed */
	struct index_mailbox mb;
	int ret = index_mailbox_get(user->db, box->id, t_pool(), &mb);
	if (ret < 0)
		return mail_user_set_index_error(user, "sync mailbox");
	if (mailbox_sync_is_gone(box, ret, &mb)) {
		box->deleted = true;
		result_r->mailbox_deleted = true;
		return 0;
	}
	if (mb.highestmodseq == box->modseq &&
	    (box->pending_expunges.count == 0 || (flags & MAILBOX_SYNC_NO_EXPUNGES) != 0))
		return 0;
	return mailbox_sync_view(box, flags, pool, result_r);
}
