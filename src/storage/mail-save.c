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

int mail_save_finish_multi(struct mail_save **saves, unsigned int count,
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
	   all (RFC 3502 §6.3.11) */
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
		ret = 0;
		for (unsigned int i = 0; i < count && ret == 0; i++) {
			bool file_moved;
			ret = mail_save_commit_locked(saves[i], ch, &file_moved);
			if (file_moved)
				moved = i + 1;
		}
		if (ret == 0 && index_change_finish(&ch) < 0)
			ret = mail_user_set_index_error(user, "save");
		index_change_abort(&ch);
	}
	if (ret == 0 && mail_user_commit(user) < 0)
		ret = -1;
	else if (ret < 0)
		mail_user_rollback(user);
	for (unsigned int i = 0; i < count; i++) {
		if (ret < 0 && i < moved)
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
