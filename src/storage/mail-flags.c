/* Changing messages of a view: flags and keywords (STORE, RFC 9051 §6.4.6,
 * with RFC 7162 UNCHANGEDSINCE) in one transaction and one modseq, and
 * expunging (§6.4.3). The index is authoritative for flags; the driver
 * mirrors them into file names later (deferred work). */
#include "mail-storage-private.h"

#include <strings.h>

static const char *const mail_no_keywords[] = { NULL };

int mail_keywords_validate(struct mail_user *user, const char *const *keywords)
{
	unsigned int count = 0;
	for (; keywords != NULL && keywords[count] != NULL; count++) {
		const char *kw = keywords[count];
		size_t len = strlen(kw);
		bool ok = len > 0 && len <= INDEX_KEYWORD_MAX_LENGTH && kw[0] != '\\';
		for (size_t i = 0; i < len && ok; i++) {
			unsigned char c = (unsigned char)kw[i];
			/* atom-specials (RFC 9051 §9) */
			ok = c > 0x20 && c != 0x7f && strchr("(){%*\"\\]", c) == NULL;
		}
		if (!ok)
			return mail_user_set_error(user, MAIL_ERROR_PARAMS, "Invalid keyword.");
	}
	if (count > INDEX_KEYWORDS_MAX)
		return mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many keywords.");
	return 0;
}

const char *mail_keywords_join(pool_t pool, const char *const *keywords, unsigned int count)
{
	if (count == 0)
		return NULL;
	string_t *str = str_new(pool, 64);
	for (unsigned int i = 0; i < count; i++) {
		if (i > 0)
			str_append_c(str, ' ');
		str_append(str, keywords[i]);
	}
	return str_c(str);
}

const char *const *mail_keywords_split(pool_t pool, const char *stored)
{
	if (stored == NULL || stored[0] == '\0')
		return mail_no_keywords;
	unsigned int count = 1;
	for (const char *p = stored; *p != '\0'; p++)
		count += *p == ' ' ? 1 : 0;
	const char **list = p_new(pool, const char *, count + 1);
	char *copy = p_strdup(pool, stored);
	unsigned int n = 0;
	for (char *p = copy, *word = copy;; p++) {
		if (*p == ' ' || *p == '\0') {
			bool end = *p == '\0';
			*p = '\0';
			if (*word != '\0')
				list[n++] = word;
			if (end)
				break;
			word = p + 1;
		}
	}
	list[n] = NULL;
	return list;
}

static bool keyword_in(const char *const *list, unsigned int count, const char *kw)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcasecmp(list[i], kw) == 0)
			return true;
	}
	return false;
}

/* The stored keywords after applying the change. */
static const char *keywords_apply(pool_t pool, const char *stored, enum mail_flags_modify modify,
				  const char *const *kws, unsigned int kw_count)
{
	const char *const *old = mail_keywords_split(pool, stored);
	unsigned int old_count = 0;
	while (old[old_count] != NULL)
		old_count++;
	ARRAY(const char *) out;
	array_init(&out, pool, old_count + kw_count + 1);
	if (modify != MAIL_FLAGS_REPLACE) {
		for (unsigned int i = 0; i < old_count; i++) {
			if (modify == MAIL_FLAGS_ADD || !keyword_in(kws, kw_count, old[i]))
				array_push(&out, old[i]);
		}
	}
	if (modify != MAIL_FLAGS_REMOVE) {
		for (unsigned int i = 0; i < kw_count; i++) {
			if (!keyword_in(out.v, out.count, kws[i]))
				array_push(&out, kws[i]);
		}
	}
	return mail_keywords_join(pool, out.v, out.count);
}

static uint32_t flags_apply(uint32_t flags, const struct mail_flags_change *change)
{
	switch (change->modify) {
	case MAIL_FLAGS_ADD:
		return flags | change->flags;
	case MAIL_FLAGS_REMOVE:
		return flags & ~change->flags;
	case MAIL_FLAGS_REPLACE:
		return change->flags;
	}
	i_unreached();
}

int mailbox_get_expunged_record(struct mailbox *box, uint32_t seq,
				const struct mail_flags_change *change, pool_t pool,
				struct mail_record *rec_r)
{
	mail_user_clear_error(box->user);
	if (seq < 1 || seq > box->uids.count)
		return 0;
	uint32_t uid = box->uids.v[seq - 1], flags;
	const char *keywords;
	uint64_t modseq;
	int ret = index_expunged_get(box->user->db, box->id, uid, pool, &flags, &keywords,
				     &modseq);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "read expunged message");
	if (ret == 0)
		return 0;
	memset(rec_r, 0, sizeof(*rec_r));
	rec_r->uid = uid;
	rec_r->modseq = modseq;
	if (change != NULL) {
		unsigned int kw_count = 0;
		while (change->keywords != NULL && change->keywords[kw_count] != NULL)
			kw_count++;
		flags = flags_apply(flags, change);
		keywords = keywords_apply(pool, keywords, change->modify,
					  change->keywords, kw_count);
	}
	rec_r->flags = flags & MAIL_FLAGS_MASK;
	rec_r->keywords = mail_keywords_split(pool, keywords);
	return 1;
}

static bool str_eq_null(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Keyword changes go row by row: read the run, then write changed rows. */
static int mail_flags_update_rows(struct index_change *ch, struct mailbox *box,
				  uint32_t uid1, uint32_t uid2,
				  const struct mail_flags_change *change,
				  const char *const *kws, unsigned int kw_count,
				  array_uint32_t *failed_uids, unsigned int *changed_r)
{
	pool_t pool = pool_create("flags rows", 4096);
	ARRAY(struct index_message) rows;
	array_init(&rows, pool, 64);
	struct index_iter *iter = index_iter_init(box->user->db, box->id, INDEX_ITER_UID_RANGE,
						  0, uid1, uid2);
	struct index_message msg;
	while (index_iter_next(iter, &msg) > 0) {
		msg.keywords = msg.keywords == NULL ? NULL : p_strdup(pool, msg.keywords);
		array_push(&rows, msg);
	}
	int ret = index_iter_deinit(&iter);
	for (unsigned int i = 0; i < rows.count && ret == 0; i++) {
		const struct index_message *old = &rows.v[i];
		if (change->unchanged_since != 0 && old->modseq > change->unchanged_since) {
			if (failed_uids != NULL)
				array_push(failed_uids, old->uid);
			continue;
		}
		uint32_t flags = flags_apply(old->flags, change) & MAIL_FLAGS_MASK;
		const char *keywords = keywords_apply(pool, old->keywords, change->modify,
						      kws, kw_count);
		if (flags == old->flags && str_eq_null(keywords, old->keywords))
			continue;
		ret = index_change_set_flags(ch, old, flags, keywords, NULL);
		(*changed_r)++;
	}
	pool_destroy(&pool);
	return ret;
}

static int mail_flags_update_runs(struct mailbox *box, struct index_change *ch,
				  const uint32_t *seqs, unsigned int count,
				  const struct mail_flags_change *change,
				  const char *const *kws, unsigned int kw_count,
				  array_uint32_t *failed_uids, unsigned int *changed_r)
{
	uint32_t set = 0, clear = 0;
	switch (change->modify) {
	case MAIL_FLAGS_ADD: set = change->flags; break;
	case MAIL_FLAGS_REMOVE: clear = change->flags; break;
	case MAIL_FLAGS_REPLACE: set = change->flags; clear = MAIL_FLAGS_MASK; break;
	}
	/* a run of consecutive sequence numbers is a UID range that holds
	   nothing outside the view: new messages have higher UIDs */
	for (unsigned int start = 0; start < count; ) {
		unsigned int end = start + 1;
		while (end < count && seqs[end] == seqs[end - 1] + 1)
			end++;
		uint32_t uid1 = box->uids.v[seqs[start] - 1], uid2 = box->uids.v[seqs[end - 1] - 1];
		unsigned int n = 0;
		int ret = kw_count == 0 ?
			index_change_update_range(ch, uid1, uid2, set, clear,
						  change->modify == MAIL_FLAGS_REPLACE,
						  change->unchanged_since, failed_uids, &n) :
			mail_flags_update_rows(ch, box, uid1, uid2, change, kws, kw_count,
					       failed_uids, &n);
		if (ret < 0)
			return -1;
		*changed_r += n;
		start = end;
	}
	return 0;
}

/* Sorted, deduplicated, range-checked copy of seqs (temporary memory). */
static int mail_seqs_normalize(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			       uint32_t **seqs_r, unsigned int *count_r)
{
	uint32_t *copy = t_new(uint32_t, count + 1);
	memcpy(copy, seqs, count * sizeof(*seqs));
	qsort(copy, count, sizeof(*copy), uint32_cmp);
	unsigned int n = 0;
	for (unsigned int i = 0; i < count; i++) {
		if (copy[i] < 1 || copy[i] > box->uids.count)
			return mail_user_set_error(box->user, MAIL_ERROR_PARAMS,
						   "Invalid message sequence number.");
		if (n == 0 || copy[n - 1] != copy[i])
			copy[n++] = copy[i];
	}
	*seqs_r = copy;
	*count_r = n;
	return 0;
}

static int mail_flags_update_locked(struct mailbox *box, const uint32_t *seqs,
				    unsigned int count, const struct mail_flags_change *change,
				    array_uint32_t *failed_uids, uint64_t *own_modseq_r)
{
	struct mail_user *user = box->user;
	struct index_change *ch;
	int ret = index_change_begin(user->db, box->id, &ch);
	if (ret <= 0) {
		return ret < 0 ? mail_user_set_index_error(user, "update flags") :
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
	}
	unsigned int kw_count = 0;
	while (change->keywords != NULL && change->keywords[kw_count] != NULL)
		kw_count++;
	const char **kws = t_new(const char *, kw_count + 1);
	if (kw_count > 0)
		memcpy(kws, change->keywords, kw_count * sizeof(*kws));
	if (kw_count > 0 && change->modify != MAIL_FLAGS_REMOVE) {
		ret = index_keywords_define(user->db, box->id, t_pool(), kws, kw_count);
		if (ret <= 0) {
			index_change_abort(&ch);
			return ret < 0 ? mail_user_set_index_error(user, "define keywords") :
				mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many keywords.");
		}
	}
	unsigned int changed = 0;
	uint64_t modseq = index_change_get_modseq(ch);
	if (mail_flags_update_runs(box, ch, seqs, count, change, kws, kw_count,
				   failed_uids, &changed) < 0) {
		index_change_abort(&ch);
		return mail_user_set_index_error(user, "update flags");
	}
	bool used = index_change_has_changes(ch);
	mail_user_own_index_change(user, ch);
	if (index_change_finish(&ch) < 0)
		return mail_user_set_index_error(user, "update flags");
	/* only a modseq this change really took may be called our own */
	*own_modseq_r = changed > 0 && used ? modseq : 0;
	return 0;
}

int mailbox_update_flags(struct mailbox *box, const uint32_t *seqs, unsigned int count,
			 const struct mail_flags_change *change, pool_t pool,
			 array_uint32_t *failed_uids_r)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	if (failed_uids_r != NULL)
		array_init(failed_uids_r, pool, 4);
	if (mailbox_is_readonly(box))
		return mail_user_set_error(user, MAIL_ERROR_PERM, "Mailbox is read-only.");
	if (mail_keywords_validate(user, change->keywords) < 0)
		return -1;
	uint32_t *sorted = NULL;
	unsigned int n = 0;
	if (mail_seqs_normalize(box, seqs, count, &sorted, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	uint64_t own_modseq = 0;
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (mail_flags_update_locked(box, sorted, n, change, failed_uids_r, &own_modseq) < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	if (own_modseq != 0) {
		/* the view reports its own changes itself (RFC 9051 §6.4.6) */
		array_push(&box->own_modseqs, own_modseq);
		box->mirror_pending = true;
		mail_user_notify_changed(user);
	}
	return 0;
}

/* --- expunge --- */

static int mail_expunge_collect(struct mailbox *box, const uint32_t *uids, unsigned int uid_count,
				pool_t pool, array_index_message_t *msgs)
{
	uint32_t *sorted = NULL;
	if (uids != NULL) {
		sorted = t_new(uint32_t, uid_count + 1);
		memcpy(sorted, uids, uid_count * sizeof(*uids));
		qsort(sorted, uid_count, sizeof(*sorted), uint32_cmp);
	}
	struct index_iter *iter = index_iter_init(box->user->db, box->id, INDEX_ITER_DELETED,
						  0, 0, 0);
	struct index_message msg;
	while (index_iter_next(iter, &msg) > 0) {
		if (sorted != NULL &&
		    bsearch(&msg.uid, sorted, uid_count, sizeof(*sorted), uint32_cmp) == NULL)
			continue;
		msg.filename = p_strdup(pool, msg.filename);
		msg.fileinfo = msg.fileinfo == NULL ? NULL : p_strdup(pool, msg.fileinfo);
		/* kept in the expunge log (what a STORE on the expunged
		   message answers, imap-cmd-store.c) */
		msg.keywords = msg.keywords == NULL ? NULL : p_strdup(pool, msg.keywords);
		msg.guid = NULL;
		array_push(msgs, msg);
	}
	return index_iter_deinit(&iter);
}

static int mail_expunge_locked(struct mailbox *box, const uint32_t *uids, unsigned int uid_count,
			       pool_t pool, bool *changed_r)
{
	struct mail_user *user = box->user;
	struct index_change *ch;
	int ret = index_change_begin(user->db, box->id, &ch);
	if (ret <= 0) {
		return ret < 0 ? mail_user_set_index_error(user, "expunge") :
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
	}
	array_index_message_t msgs;
	array_init(&msgs, pool, 16);
	if (mail_expunge_collect(box, uids, uid_count, pool, &msgs) < 0) {
		index_change_abort(&ch);
		return mail_user_set_index_error(user, "expunge");
	}
	const char *dir = index_change_get_mailbox(ch)->dir;
	int64_t stamp = mail_own_change_begin(user, dir);
	/* files go first: a crash before the commit leaves rows without
	   files, which the next sync expunges, never a resurrected message */
	for (unsigned int i = 0; i < msgs.count && ret >= 0; i++) {
		ret = user->v->expunge_file(user, dir, &msgs.v[i]);
		mailbox_progress(box, i + 1, msgs.count);
	}
	if (ret >= 0)
		mail_own_change_end(user, dir, stamp, ch);
	if (ret >= 0 && msgs.count > 0)
		ret = user->v->sync_dir(user, dir);
	if (ret < 0) {
		index_change_abort(&ch);
		return -1;
	}
	for (unsigned int i = 0; i < msgs.count && ret >= 0; i++)
		ret = index_change_expunge(ch, &msgs.v[i]);
	if (ret < 0) {
		index_change_abort(&ch);
		return mail_user_set_index_error(user, "expunge");
	}
	mail_user_own_index_change(user, ch);
	if (index_change_finish(&ch) < 0)
		return mail_user_set_index_error(user, "expunge");
	*changed_r = msgs.count > 0;
	return 0;
}

int mailbox_expunge(struct mailbox *box, const uint32_t *uids, unsigned int uid_count)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	if (mailbox_is_readonly(box))
		return mail_user_set_error(user, MAIL_ERROR_PERM, "Mailbox is read-only.");
	if (uids != NULL && uid_count == 0)
		return 0;
	if (mail_user_begin_write(user) < 0)
		return -1;
	pool_t pool = pool_create("expunge", 4096);
	bool changed = false;
	int ret = mail_expunge_locked(box, uids, uid_count, pool, &changed);
	pool_destroy(&pool);
	if (ret < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	if (changed) {
		/* the expunged messages' full-text rows wait for idle time */
		box->search_gc_pending = true;
		mail_user_notify_changed(user);
	}
	return 0;
}
