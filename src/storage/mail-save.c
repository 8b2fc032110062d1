/* Saving a message (APPEND, LMTP delivery): the driver streams the content
 * to a temporary file; finishing moves it into the mailbox and records it
 * in one index transaction, and only then reports success, so an
 * acknowledged message survives any crash. The searchable text and (with a
 * registered renderer) the message cache are built while the content
 * streams by and written in the same transaction. The cost does not depend
 * on the mailbox's size: nothing is scanned or reloaded. */
#include "mail-storage-private.h"
#include "index-search.h"
#include "search-text.h"

#include <time.h>

/* Frees a save (its builder first: it allocates from the save's pool). */
static void mail_save_free(struct mail_save *save)
{
	search_text_builder_destroy(&save->search);
	mail_cache_builder_free(save);
	mail_save_binary_destroy(&save->binary);
	save->user->v->save_free(save);
}

/* Turns the text gathered while writing into the index document, and the
   rendered structure into cache fields, before the write lock is taken. */
static void mail_save_build_doc(struct mail_save *save)
{
	mail_cache_builder_finish(save);
	if (save->search == NULL)
		return;
	struct search_text *text = search_text_builder_finish(save->search);
	save->search_doc = p_new(save->pool, struct index_search_doc, 1);
	mail_search_doc_from_text(save->pool, text, save->search_doc);
	search_text_builder_destroy(&save->search);
}

static int mail_save_tz_now(time_t now)
{
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

static int mail_save_init_keywords(struct mail_save *save, const char *const *keywords)
{
	unsigned int count = 0;
	while (keywords != NULL && keywords[count] != NULL)
		count++;
	save->keywords = p_new(save->pool, const char *, count + 1);
	for (unsigned int i = 0; i < count; i++)
		save->keywords[i] = p_strdup(save->pool, keywords[i]);
	save->keyword_count = count;
	return 0;
}

struct mail_save *mail_save_begin(struct mail_user *user, const char *name,
				  const struct mail_save_params *params)
{
	mail_user_clear_error(user);
	if (!mailbox_name_is_valid(name)) {
		mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
		return NULL;
	}
	if (mail_keywords_validate(user, params->keywords) < 0)
		return NULL;
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, mailbox_name_canonical(name), t_pool(), &mb);
	if (ret < 0) {
		mail_user_set_index_error(user, "look up mailbox");
		return NULL;
	}
	if (ret == 0 || !mb.selectable) {
		mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
		return NULL;
	}
	struct mail_save *save = user->v->save_alloc(user);
	save->user = user;
	save->mailbox_id = mb.id;
	save->dir = p_strdup(save->pool, mb.dir);
	time_t now = time(NULL);
	save->msg.flags = params->flags & MAIL_FLAGS_MASK;
	if (params->internal_date == (time_t)-1) {
		save->msg.internal_date = now;
		save->msg.internal_tz = mail_save_tz_now(now);
	} else {
		save->msg.internal_date = params->internal_date;
		save->msg.internal_tz = params->internal_date_tz;
	}
	save->msg.save_date = now;
	save->msg.guid = p_strdup(save->pool, mail_random_hex(16));
	mail_save_init_keywords(save, params->keywords);
	if (user->v->save_begin(save) < 0) {
		user->v->save_free(save);
		return NULL;
	}
	/* without the builder the message stays above the mailbox's indexed
	   UID, and the next text search indexes it (mailbox_search_update) */
	if (!user->text_index_on_demand)
		save->search = search_text_builder_create(save->pool, 0);
	if (!user->cache_on_demand)
		mail_cache_builder_begin(save);
	if (params->convert_binary && (save->binary = mail_save_binary_create(user)) == NULL) {
		mail_save_free(save);
		return NULL;
	}
	return save;
}

int mail_save_write(struct mail_save *save, const void *data, size_t size)
{
	if (save->failed)
		return -1;
	if (save->binary != NULL) {
		if (mail_save_binary_write(save, data, size) < 0) {
			save->failed = true;
			return -1;
		}
		return 0;
	}
	return mail_save_write_content(save, data, size);
}

int mail_save_write_content(struct mail_save *save, const void *data, size_t size)
{
	if (save->failed)
		return -1;
	if (save->user->v->save_write(save, data, size) < 0) {
		save->failed = true;
		return -1;
	}
	if (save->search != NULL)
		search_text_builder_feed(save->search, data, size);
	mail_cache_builder_feed(save, data, size);
	return 0;
}

static int mail_save_commit_locked(struct mail_save *save, struct index_change *ch,
				   bool *file_moved_r)
{
	struct mail_user *user = save->user;
	*file_moved_r = false;
	if (save->keyword_count > 0) {
		int ret = index_keywords_define(user->db, save->mailbox_id, save->pool,
						save->keywords, save->keyword_count);
		if (ret <= 0) {
			return ret < 0 ? mail_user_set_index_error(user, "define keywords") :
				mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many keywords.");
		}
		save->msg.keywords = mail_keywords_join(save->pool, save->keywords,
							save->keyword_count);
	}
	/* under the write lock, so that a concurrent disk sync never sees
	   the file without its row */
	const char *dir = index_change_get_mailbox(ch)->dir;
	int64_t stamp = mail_own_change_begin(user, dir);
	if (user->v->save_commit_file(save, dir) < 0)
		return -1;
	*file_moved_r = true;
	mail_own_change_end(user, dir, stamp, ch);
	if (user->v->sync_dir(user, dir) < 0)
		return -1;
	if (index_change_append(ch, &save->msg) < 0)
		return mail_user_set_index_error(user, "save");
	/* the search data is written in the same transaction: a message is
	   never visible without it */
	if (save->search_doc != NULL &&
	    (index_search_put(user->db, save->mailbox_id, save->msg.uid, save->search_doc) < 0 ||
	     index_search_advance_indexed_uid(user->db, save->mailbox_id, save->msg.uid) < 0))
		return mail_user_set_index_error(user, "index message text");
	/* and its cached structure, so the first FETCH needn't read it */
	if (save->cache_fields != NULL &&
	    mail_cache_put_locked(user, save->mailbox_id, save->msg.uid, save->cache_fields) < 0)
		return mail_user_set_index_error(user, "write message cache");
	return 0;
}

/* REPLACE (RFC 8508): the message removed in the saves' transaction. */
struct mail_save_replace {
	struct mailbox *box;
	uint32_t uid;
	struct index_change *ch; /* the saves' change when the same mailbox */
	struct index_message msg;
	bool removed; /* its file is gone: the new files must stay */
};

/* Under the write lock, before the new message is moved in: the old one
   must still exist, else nothing is saved. */
static int mail_save_replace_begin(struct mail_user *user, struct index_change *save_ch,
				   struct mail_save_replace *rep, pool_t pool)
{
	int ret;

	if (rep->box->id == index_change_get_mailbox(save_ch)->id) {
		rep->ch = save_ch;
	} else if ((ret = index_change_begin(user->db, rep->box->id, &rep->ch)) <= 0) {
		return ret < 0 ? mail_user_set_index_error(user, "replace") :
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
	}
	ret = index_message_get(user->db, rep->box->id, rep->uid, pool, &rep->msg);
	if (ret < 0)
		return mail_user_set_index_error(user, "replace");
	if (ret == 0) {
		return mail_user_set_error(user, MAIL_ERROR_EXPUNGED,
					   "The message to replace no longer exists.");
	}
	return 0;
}

/* After the new message is durable: the old one's file goes, then its
   row, as an expunge does (a crash in between leaves a row without a
   file, which the next sync expunges). */
static int mail_save_replace_finish(struct mail_user *user, struct index_change *save_ch,
				    struct mail_save_replace *rep)
{
	const char *dir = index_change_get_mailbox(rep->ch)->dir;
	int64_t stamp = mail_own_change_begin(user, dir);

	rep->removed = true;
	if (user->v->expunge_file(user, dir, &rep->msg) < 0)
		return -1;
	mail_own_change_end(user, dir, stamp, rep->ch);
	if (user->v->sync_dir(user, dir) < 0)
		return -1;
	if (index_change_expunge(rep->ch, &rep->msg) < 0)
		return mail_user_set_index_error(user, "replace");
	if (rep->ch == save_ch)
		return 0;
	mail_user_own_index_change(user, rep->ch);
	if (index_change_finish(&rep->ch) < 0)
		return mail_user_set_index_error(user, "replace");
	return 0;
}

/* Inside the write transaction: the saves (and a replaced message) into
   ch. *moved_r counts the saves whose files were moved in. */
static int mail_save_commit_changes(struct mail_save **saves, unsigned int count,
				    struct index_change *ch, struct mail_save_replace *rep,
				    unsigned int *moved_r)
{
	struct mail_user *user = saves[0]->user;
	int ret = 0;

	if (rep != NULL)
		ret = mail_save_replace_begin(user, ch, rep, saves[0]->pool);
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		bool file_moved;
		ret = mail_save_commit_locked(saves[i], ch, &file_moved);
		if (file_moved)
			*moved_r = i + 1;
	}
	if (ret == 0 && rep != NULL)
		ret = mail_save_replace_finish(user, ch, rep);
	if (rep != NULL && rep->ch == ch)
		rep->ch = NULL;
	else if (rep != NULL)
		index_change_abort(&rep->ch);
	if (ret == 0)
		mail_user_own_index_change(user, ch);
	if (ret == 0 && index_change_finish(&ch) < 0)
		ret = mail_user_set_index_error(user, "save");
	index_change_abort(&ch);
	return ret;
}

static int mail_save_commit(struct mail_save **saves, unsigned int count,
			    struct mail_save_replace *rep,
			    uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	i_assert(count > 0);
	struct mail_user *user = saves[0]->user;
	int ret = 0;
	mail_user_clear_error(user);
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		i_assert(saves[i]->mailbox_id == saves[0]->mailbox_id);
		if (saves[i]->binary != NULL && !saves[i]->failed &&
		    mail_save_binary_finish(saves[i]) < 0)
			saves[i]->failed = true;
		mail_save_binary_destroy(&saves[i]->binary);
		if (saves[i]->failed || user->v->save_prepare(saves[i]) < 0)
			ret = -1;
		else
			mail_save_build_doc(saves[i]);
	}
	if (ret < 0 || mail_user_begin_write(user) < 0) {
		if (user->error == MAIL_ERROR_NONE)
			mail_user_set_internal_error(user, "save", "writing a message failed");
		for (unsigned int i = 0; i < count; i++)
			mail_save_free(saves[i]);
		return -1;
	}
	/* one transaction for all: the messages appear together or not at
	   all (RFC 3502 §6.3.11), and a replaced message goes with them */
	struct index_change *ch;
	unsigned int moved = 0;
	ret = index_change_begin(user->db, saves[0]->mailbox_id, &ch);
	if (ret <= 0) {
		if (ret < 0)
			mail_user_set_index_error(user, "save");
		else
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
		ret = -1;
	} else {
		*uidvalidity_r = index_change_get_mailbox(ch)->uidvalidity;
		ret = mail_save_commit_changes(saves, count, ch, rep, &moved);
	}
	if (ret == 0 && mail_user_commit(user) < 0)
		ret = -1;
	else if (ret < 0)
		mail_user_rollback(user);
	/* with the replaced message's file gone, the new ones are all that is
	   left of it: the next sync indexes them */
	bool keep_files = rep != NULL && rep->removed;
	for (unsigned int i = 0; i < count; i++) {
		if (ret < 0 && i < moved && !keep_files)
			user->v->save_revert_file(saves[i]);
		else if (ret == 0)
			uids_r[i] = saves[i]->msg.uid;
		mail_save_free(saves[i]);
		saves[i] = NULL;
	}
	if (ret == 0)
		mail_user_notify_changed(user);
	return ret;
}

int mail_save_finish_multi(struct mail_save **saves, unsigned int count,
			   uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	return mail_save_commit(saves, count, NULL, uidvalidity_r, uids_r);
}

int mail_save_finish_replace(struct mail_save **_save, struct mailbox *box, uint32_t old_uid,
			     uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct mail_save *saves[1] = { *_save };
	struct mail_save_replace rep = { .box = box, .uid = old_uid };

	*_save = NULL;
	if (mailbox_is_readonly(box)) {
		mail_save_free(saves[0]);
		return mail_user_set_error(box->user, MAIL_ERROR_PERM, "Mailbox is read-only.");
	}
	int ret = mail_save_commit(saves, 1, &rep, uidvalidity_r, uid_r);
	if (ret == 0)
		box->search_gc_pending = true;
	return ret;
}

int mail_save_finish(struct mail_save **_save, uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct mail_save *saves[1] = { *_save };
	*_save = NULL;
	return mail_save_finish_multi(saves, 1, uidvalidity_r, uid_r);
}

void mail_save_abort(struct mail_save **_save)
{
	struct mail_save *save = *_save;
	if (save == NULL)
		return;
	*_save = NULL;
	mail_save_free(save);
}
