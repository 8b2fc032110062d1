/* An open mailbox: one session's view of it. The view is the UID list
 * (sequence number n is uids.v[n-1]) as of its last sync; mailbox_sync()
 * moves it forward using modseqs, so that only what changed is read:
 * new UIDs (EXISTS), expunged UIDs (EXPUNGE, held back while the caller
 * can't send them, RFC 9051 §7.5.1) and rows whose modseq rose (FETCH
 * FLAGS), minus the changes this view made itself. */
#include "mail-storage-private.h"

#include <unistd.h>

static bool uid_find(const array_uint32_t *uids, uint32_t uid, unsigned int *idx_r)
{
	unsigned int lo = 0, hi = uids->count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (uids->v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx_r = lo;
	return lo < uids->count && uids->v[lo] == uid;
}

/* --- view accessors --- */

uint32_t mailbox_view_count(struct mailbox *box)
{
	return box->uids.count;
}

uint32_t mailbox_view_uid(struct mailbox *box, uint32_t seq)
{
	i_assert(seq >= 1 && seq <= box->uids.count);
	return box->uids.v[seq - 1];
}

uint32_t mailbox_view_seq(struct mailbox *box, uint32_t uid)
{
	unsigned int idx;
	return uid_find(&box->uids, uid, &idx) ? idx + 1 : 0;
}

bool mailbox_view_uid_range(struct mailbox *box, uint32_t uid1, uint32_t uid2,
			    uint32_t *seq1_r, uint32_t *seq2_r)
{
	if (uid1 > uid2) {
		uint32_t tmp = uid1;
		uid1 = uid2;
		uid2 = tmp;
	}
	unsigned int first, last;
	uid_find(&box->uids, uid1, &first);
	bool found = uid_find(&box->uids, uid2, &last);
	if (!found) {
		if (last == 0)
			return false;
		last--;
	}
	if (first >= box->uids.count || first > last)
		return false;
	*seq1_r = first + 1;
	*seq2_r = last + 1;
	return true;
}

bool mailbox_view_has_pending_expunges(const struct mailbox *box)
{
	return box->pending_expunges.count > 0;
}

bool mailbox_view_is_recent(struct mailbox *box, uint32_t seq)
{
	if (seq < 1 || seq > box->uids.count)
		return false;
	uint32_t uid = box->uids.v[seq - 1];
	for (unsigned int i = 0; i < box->recent.count; i++) {
		if (uid >= box->recent.v[i].first && uid <= box->recent.v[i].last)
			return true;
	}
	return false;
}

const char *mailbox_get_name(const struct mailbox *box)
{
	return box->name;
}

bool mailbox_is_readonly(const struct mailbox *box)
{
	return (box->flags & MAILBOX_OPEN_READONLY) != 0;
}

const struct mailbox_status *mailbox_get_view_status(struct mailbox *box)
{
	return &box->status;
}

/* --- \Recent (RFC 3501 §2.3.2) and status --- */

static void mailbox_recent_count(struct mailbox *box)
{
	uint32_t count = 0;
	for (unsigned int i = 0; i < box->recent.count; i++) {
		uint32_t s1, s2;
		if (mailbox_view_uid_range(box, box->recent.v[i].first, box->recent.v[i].last,
					   &s1, &s2))
			count += s2 - s1 + 1;
	}
	box->status.recent = count;
}

int mailbox_view_update_recent(struct mailbox *box, const struct index_mailbox *mb)
{
	uint32_t first, uidnext;
	if ((box->flags & MAILBOX_OPEN_TRACK_RECENT) == 0)
		return 0;
	if (mailbox_is_readonly(box)) {
		/* EXAMINE sees \Recent without taking it away from others */
		array_clear(&box->recent);
		first = mb->first_recent_uid;
		uidnext = mb->uidnext;
	} else {
		if (mb->first_recent_uid >= mb->uidnext)
			return 0;
		if (mail_user_begin_write(box->user) < 0)
			return -1;
		if (index_mailbox_claim_recent(box->user->db, box->id, &first, &uidnext) < 0) {
			mail_user_set_index_error(box->user, "claim recent");
			mail_user_rollback(box->user);
			return -1;
		}
		if (mail_user_commit(box->user) < 0)
			return -1;
	}
	if (first < uidnext) {
		struct uid_range *r = array_append_space(&box->recent);
		r->first = first;
		r->last = uidnext - 1;
	}
	return 0;
}

void mailbox_view_update_status(struct mailbox *box, const struct index_mailbox *mb)
{
	struct mailbox_status *st = &box->status;
	st->mailbox_id = mb->id;
	st->messages = box->uids.count;
	st->uidnext = mb->uidnext;
	st->uidvalidity = mb->uidvalidity;
	st->unseen = mb->unseen;
	st->deleted = mb->deleted;
	st->size = mb->vsize;
	st->highestmodseq = mb->highestmodseq;
	st->special_use = mb->special_use;
	unsigned int idx;
	st->first_unseen_seq = 0;
	if (box->first_unseen_uid != 0) {
		if (uid_find(&box->uids, box->first_unseen_uid, &idx))
			st->first_unseen_seq = idx + 1;
	}
	mailbox_recent_count(box);
}

int mailbox_view_read_extras(struct mailbox *box)
{
	box->first_unseen_uid = 0;
	if (index_first_unseen_uid(box->user->db, box->id, &box->first_unseen_uid) < 0)
		return -1;
	pool_clear(box->status_pool);
	array_init(&box->status.keywords, box->status_pool, 8);
	return index_keywords_list(box->user->db, box->id, box->status_pool,
				   &box->status.keywords);
}

/* --- open and close --- */

/* A mailbox whose location is gone: moved by a rename we didn't record,
   or removed by someone; in the latter case its messages are gone. */
static int mailbox_repair_dir(struct mail_user *user, struct index_mailbox *mb)
{
	if (user->v->mailbox_dir_exists(user, mb->dir))
		return 0;
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = index_mailbox_get(user->db, mb->id, t_pool(), mb);
	if (ret > 0 && mb->selectable) {
		if (mailbox_fix_dir_locked(user, mb) < 0)
			ret = -1;
		else
			ret = index_mailbox_get(user->db, mb->id, t_pool(), mb);
	}
	if (ret > 0 && mb->selectable && !user->v->mailbox_dir_exists(user, mb->dir)) {
		log_warning(&user->log, "mailbox_dir_missing", "mailbox=%s dir=%s",
			    log_value(mb->name), log_value(mb->dir));
		if (user->v->mailbox_dir_create(user, mb->dir) < 0)
			ret = -1;
	}
	if (ret <= 0 || !mb->selectable) {
		if (ret == 0 || (ret > 0 && !mb->selectable))
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
		else if (user->error == MAIL_ERROR_NONE)
			mail_user_set_index_error(user, "repair mailbox location");
		mail_user_rollback(user);
		return -1;
	}
	return mail_user_commit(user);
}

int mailbox_sync_disk(struct mail_user *user, struct index_mailbox *mb,
		      enum mail_disk_sync_flags flags)
{
	if (mailbox_repair_dir(user, mb) < 0)
		return -1;
	if (user->v->sync_disk(user, mb->id, flags) < 0)
		return -1;
	/* what other programs did is news for every session of the user,
	   also those watching other mailboxes (NOTIFY) */
	struct index_mailbox now;
	if (index_mailbox_get(user->db, mb->id, t_pool(), &now) > 0 &&
	    now.highestmodseq != mb->highestmodseq)
		mail_user_notify_changed(user);
	return 0;
}

static int mailbox_view_load(struct mailbox *box, struct index_mailbox *mb)
{
	struct mail_user *user = box->user;
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "open mailbox");
	int ret = index_mailbox_get(user->db, box->id, box->pool, mb);
	if (ret > 0 && mb->selectable) {
		array_reserve(&box->uids, mb->messages + 1);
		if (index_uidmap_load(user->db, box->id, &box->uids) < 0 ||
		    mailbox_view_read_extras(box) < 0)
			ret = -1;
	}
	index_db_rollback(user->db);
	if (ret < 0)
		return mail_user_set_index_error(user, "open mailbox");
	if (ret == 0 || !mb->selectable)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	box->dir = p_strdup(box->pool, mb->dir);
	box->uidvalidity = mb->uidvalidity;
	box->uidnext = mb->uidnext;
	box->modseq = mb->highestmodseq;
	box->mirror_pending = mb->mirror_modseq < mb->highestmodseq;
	if (mailbox_view_update_recent(box, mb) < 0)
		return -1;
	mailbox_view_update_status(box, mb);
	return 0;
}

static struct mailbox *mailbox_alloc(struct mail_user *user, const struct index_mailbox *mb,
				     enum mailbox_open_flags flags)
{
	pool_t pool = pool_create("mailbox", 1024);
	struct mailbox *box = p_new(pool, struct mailbox, 1);
	box->user = user;
	box->pool = pool;
	box->name = p_strdup(pool, mb->name);
	box->id = mb->id;
	box->flags = flags;
	box->status_pool = pool_create("mailbox status", 512);
	array_init(&box->uids, system_pool, 64);
	array_init(&box->pending_expunges, system_pool, 4);
	array_init(&box->own_modseqs, system_pool, 4);
	array_init(&box->recent, system_pool, 2);
	array_init(&box->status.keywords, box->status_pool, 4);
	box->notify_fd = -1;
	return box;
}

struct mailbox *mailbox_open(struct mail_user *user, const char *name,
			     enum mailbox_open_flags flags)
{
	mail_user_clear_error(user);
	if (!mailbox_name_is_valid(name)) {
		mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
		return NULL;
	}
	name = mailbox_name_canonical(name);
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
	if (ret < 0) {
		mail_user_set_index_error(user, "look up mailbox");
		return NULL;
	}
	if (ret == 0 || !mb.selectable) {
		mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
		return NULL;
	}
	if (mailbox_sync_disk(user, &mb, MAIL_DISK_SYNC_NEW | MAIL_DISK_SYNC_CUR) < 0)
		return NULL;
	struct mailbox *box = mailbox_alloc(user, &mb, flags);
	if (mailbox_view_load(box, &mb) < 0) {
		mailbox_close(&box);
		return NULL;
	}
	/* another session may have left expunged messages' text behind;
	   looking costs a query, so the idle-time run does it */
	box->search_gc_pending = true;
	return box;
}

void mailbox_close(struct mailbox **_box)
{
	struct mailbox *box = *_box;
	if (box == NULL)
		return;
	*_box = NULL;
	mailbox_notify_deinit(box);
	array_free(&box->uids);
	array_free(&box->pending_expunges);
	array_free(&box->own_modseqs);
	array_free(&box->recent);
	pool_destroy(&box->status_pool);
	pool_destroy(&box->pool);
}

/* --- deferred work --- */

/* rows deleted per transaction: each is re-tokenized, about 0.1 ms */
#define MAILBOX_SEARCH_GC_BATCH 16

int mailbox_run_deferred_until(struct mailbox *box, uint64_t deadline_ms)
{
	if (box->mirror_pending) {
		int ret = box->user->v->mirror_flags(box->user, box->id, &box->mirror,
						     deadline_ms);
		if (ret == 0)
			box->mirror_pending = false;
		return ret;
	}
	if (!box->search_gc_pending)
		return 0;
	int ret = mail_user_search_gc(box->user, MAILBOX_SEARCH_GC_BATCH);
	if (ret <= 0)
		box->search_gc_pending = false;
	return ret;
}

bool mailbox_has_deferred(const struct mailbox *box)
{
	return (box->mirror_pending || box->search_gc_pending) && !box->deleted;
}

int mailbox_run_deferred(struct mailbox *box, unsigned int max_msecs)
{
	mail_user_clear_error(box->user);
	return mailbox_run_deferred_until(box, mail_now_ms() + max_msecs);
}
