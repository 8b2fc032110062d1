/* Reading messages of a view: index records one at a time or in ordered
 * range scans (one query per run of sequence numbers, so FETCH 1:* FLAGS
 * on 100,000 messages is a handful of queries), and message content. */
#include "mail-storage-private.h"
#include "istream.h"

#include <fcntl.h>

/* Sequence gaps up to this are read through rather than split into a new
   range query. */
#define FOREACH_MAX_GAP 32
/* How much of a message file a stream may buffer. */
#define MESSAGE_MAX_BUFFER (1024 * 1024)
#define MESSAGE_OPEN_RETRIES 3

static void mail_record_from_index(const struct index_message *msg, pool_t pool,
				   struct mail_record *rec_r)
{
	memset(rec_r, 0, sizeof(*rec_r));
	rec_r->uid = msg->uid;
	rec_r->flags = msg->flags & MAIL_FLAGS_MASK;
	rec_r->keywords = mail_keywords_split(pool, msg->keywords);
	rec_r->modseq = msg->modseq;
	rec_r->internal_date = (time_t)msg->internal_date;
	rec_r->internal_date_tz = msg->internal_tz;
	rec_r->save_date = (time_t)msg->save_date;
	rec_r->size = msg->size;
	rec_r->guid = msg->guid;
}

int mailbox_get_record(struct mailbox *box, uint32_t seq, pool_t pool,
		       struct mail_record *rec_r)
{
	mail_user_clear_error(box->user);
	if (seq < 1 || seq > box->uids.count)
		return 0;
	struct index_message msg;
	int ret = index_message_get(box->user->db, box->id, box->uids.v[seq - 1], pool, &msg);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "read message");
	if (ret > 0)
		mail_record_from_index(&msg, pool, rec_r);
	return ret;
}

/* Calls cb for the requested rows among UIDs [uids[0], uids[count-1]]. */
static int mailbox_foreach_run(struct mailbox *box, const uint32_t *seqs, const uint32_t *uids,
			       unsigned int count, bool flags_only, pool_t pool,
			       mail_record_callback_t *cb, void *context)
{
	struct index_iter *iter = index_iter_init(box->user->db, box->id,
						  flags_only ? INDEX_ITER_UID_RANGE_FLAGS :
						  INDEX_ITER_UID_RANGE,
						  0, uids[0], uids[count - 1]);
	struct index_message msg;
	unsigned int k = 0;
	int ret, cb_ret = 0;
	while (cb_ret == 0 && k < count && (ret = index_iter_next(iter, &msg)) > 0) {
		while (k < count && uids[k] < msg.uid)
			k++;
		if (k == count || uids[k] != msg.uid)
			continue;
		struct mail_record rec;
		mail_record_from_index(&msg, pool, &rec);
		cb_ret = cb(&rec, seqs[k], context);
		pool_clear(pool);
		k++;
	}
	if (index_iter_deinit(&iter) < 0)
		return mail_user_set_index_error(box->user, "read messages");
	return cb_ret < 0 ? -1 : 0;
}

static int mailbox_foreach_single(struct mailbox *box, const uint32_t *seqs, unsigned int count,
				  pool_t pool, mail_record_callback_t *cb, void *context)
{
	for (unsigned int i = 0; i < count; i++) {
		struct mail_record rec;
		int ret = mailbox_get_record(box, seqs[i], pool, &rec);
		if (ret < 0)
			return -1;
		if (ret > 0 && cb(&rec, seqs[i], context) < 0)
			return -1;
		pool_clear(pool);
	}
	return 0;
}

static int mailbox_foreach(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			   bool flags_only, mail_record_callback_t *cb, void *context)
{
	mail_user_clear_error(box->user);
	if (count == 0)
		return 0;
	uint32_t *uids = i_new(uint32_t, count);
	bool sorted = true;
	for (unsigned int i = 0; i < count && sorted; i++) {
		sorted = seqs[i] >= 1 && seqs[i] <= box->uids.count &&
			(i == 0 || seqs[i] > seqs[i - 1]);
		if (sorted)
			uids[i] = box->uids.v[seqs[i] - 1];
	}
	pool_t pool = pool_create("mail record", 1024);
	int ret = 0;
	if (!sorted) {
		ret = mailbox_foreach_single(box, seqs, count, pool, cb, context);
	} else {
		for (unsigned int start = 0; start < count && ret == 0; ) {
			unsigned int end = start + 1;
			while (end < count && seqs[end] - seqs[end - 1] <= FOREACH_MAX_GAP)
				end++;
			ret = mailbox_foreach_run(box, seqs + start, uids + start, end - start,
						  flags_only, pool, cb, context);
			start = end;
		}
	}
	pool_destroy(&pool);
	free(uids);
	return ret;
}

int mailbox_foreach_record(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			   mail_record_callback_t *cb, void *context)
{
	return mailbox_foreach(box, seqs, count, false, cb, context);
}

int mailbox_foreach_record_flags(struct mailbox *box, const uint32_t *seqs, unsigned int count,
				 mail_record_callback_t *cb, void *context)
{
	return mailbox_foreach(box, seqs, count, true, cb, context);
}

int mailbox_open_message(struct mailbox *box, uint32_t uid, struct istream **input_r,
			 uint64_t *physical_size_r)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	for (unsigned int attempt = 0; attempt < MESSAGE_OPEN_RETRIES; attempt++) {
		struct index_message msg;
		struct index_mailbox mb;
		int ret = index_message_get(user->db, box->id, uid, t_pool(), &msg);
		if (ret <= 0)
			return ret < 0 ? mail_user_set_index_error(user, "read message") : 0;
		int fd;
		ret = user->v->message_open(user, box->dir, &msg, &fd);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			*input_r = i_stream_create_file(fd, MESSAGE_MAX_BUFFER);
			*physical_size_r = msg.psize;
			return 1;
		}
		/* renamed meanwhile (flags mirrored, mailbox renamed)? */
		ret = index_mailbox_get(user->db, box->id, t_pool(), &mb);
		if (ret < 0)
			return mail_user_set_index_error(user, "read mailbox");
		if (ret == 0 || mb.dir == NULL)
			return 0;
		if (strcmp(mb.dir, box->dir) != 0)
			box->dir = p_strdup(box->pool, mb.dir);
	}
	/* removed by another program: the next disk sync expunges it */
	log_warning(&user->log, "message_file_missing", "mailbox=%s uid=%u",
		    log_value(box->name), uid);
	box->disk_dirty = true;
	return 0;
}

void mailbox_prefetch_content(struct mailbox *box, const uint32_t *seqs, unsigned int count)
{
	if (count == 0)
		return;
	struct mail_user *user = box->user;
	uint32_t uid1 = box->uids.v[seqs[0] - 1], uid2 = box->uids.v[seqs[count - 1] - 1];
	struct index_iter *iter = index_iter_init(user->db, box->id, INDEX_ITER_UID_RANGE,
						  0, uid1, uid2);
	struct index_message msg;
	unsigned int k = 0;
	while (k < count && index_iter_next(iter, &msg) > 0) {
		while (k < count && box->uids.v[seqs[k] - 1] < msg.uid)
			k++;
		if (k == count || box->uids.v[seqs[k] - 1] != msg.uid)
			continue;
		k++;
		int fd;
		if (user->v->message_open(user, box->dir, &msg, &fd) <= 0)
			continue;
		/* the kernel reads it in the background, in parallel with
		   the other files and with our parsing */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		i_close_fd(&fd);
	}
	/* advisory: a failed read here shows again where it matters */
	(void)index_iter_deinit(&iter);
	mail_user_clear_error(user);
}

int mailbox_view_changed_since(struct mailbox *box, uint64_t modseq, pool_t pool,
			       array_uint32_t *seqs_r)
{
	mail_user_clear_error(box->user);
	array_init(seqs_r, pool, 16);
	array_index_uid_modseq_t changes;
	array_init(&changes, pool, 16);
	if (index_changes_since(box->user->db, box->id, modseq, &changes) < 0)
		return mail_user_set_index_error(box->user, "read changes");
	for (unsigned int i = 0; i < changes.count; i++) {
		uint32_t seq = mailbox_view_seq(box, changes.v[i].uid);
		if (seq != 0)
			array_push(seqs_r, seq);
	}
	qsort(seqs_r->v, seqs_r->count, sizeof(seqs_r->v[0]), uint32_cmp);
	return 0;
}

int mailbox_expunged_since(struct mailbox *box, uint64_t modseq, pool_t pool,
			   array_uint32_t *uids_r)
{
	mail_user_clear_error(box->user);
	array_init(uids_r, pool, 16);
	if (index_expunged_since(box->user->db, box->id, modseq, uids_r) < 0)
		return mail_user_set_index_error(box->user, "read expunges");
	qsort(uids_r->v, uids_r->count, sizeof(uids_r->v[0]), uint32_cmp);
	return 0;
}
