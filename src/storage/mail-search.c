/* Search data of messages in the storage: building a message's document
 * (searchable text and SORT/THREAD keys, src/search) for the index, at
 * save time or later by reading the file; and answering SEARCH text keys
 * from the index with exactly the semantics of a direct scan
 * (search_text_*_has() in search-text.h). */
#include "mail-storage-private.h"
#include "index-search.h"
#include "search-casemap.h"
#include "search-keys.h"
#include "search-text.h"

#include <assert.h>

/* messages indexed per write transaction when catching up */
#define MAIL_SEARCH_UPDATE_BATCH 64

static const enum index_search_column field_columns[SEARCH_TEXT_FIELD_COUNT] = {
	[SEARCH_TEXT_FROM] = INDEX_SEARCH_FROM,
	[SEARCH_TEXT_TO] = INDEX_SEARCH_TO,
	[SEARCH_TEXT_CC] = INDEX_SEARCH_CC,
	[SEARCH_TEXT_BCC] = INDEX_SEARCH_BCC,
	[SEARCH_TEXT_SUBJECT] = INDEX_SEARCH_SUBJECT,
};

void mail_search_doc_from_text(pool_t pool, const struct search_text *text,
			       struct index_search_doc *doc_r)
{
	struct search_keys keys;
	memset(doc_r, 0, sizeof(*doc_r));
	doc_r->text[INDEX_SEARCH_HEADER] = str_c(text->header);
	doc_r->text_len[INDEX_SEARCH_HEADER] = str_len(text->header);
	doc_r->text[INDEX_SEARCH_BODY] = str_c(text->body);
	doc_r->text_len[INDEX_SEARCH_BODY] = str_len(text->body);
	for (unsigned int i = 0; i < SEARCH_TEXT_FIELD_COUNT; i++) {
		doc_r->text[field_columns[i]] = str_c(text->fields[i]);
		doc_r->text_len[field_columns[i]] = str_len(text->fields[i]);
	}
	doc_r->truncated = text->truncated;
	search_keys_from_text(pool, text, &keys);
	struct index_search_keys *k = &doc_r->keys;
	k->has_sent_date = keys.has_sent_date;
	k->sent_date = keys.sent_date;
	k->sent_tz = keys.sent_tz;
	k->from_addr = keys.from_addr;
	k->to_addr = keys.to_addr;
	k->cc_addr = keys.cc_addr;
	k->from_display = keys.from_display;
	k->to_display = keys.to_display;
	k->subject = keys.subject;
	k->subject_reply = keys.subject_is_reply;
	k->message_id = keys.message_id;
	k->in_reply_to = keys.in_reply_to;
	k->references = keys.references;
}

/* Reads and parses a message file into its searchable text and, with
   cache_r, its message cache fields (*cache_r NULL when there is no
   renderer or nothing to cache). Returns 1, 0 if expunged, -1 on error
   (set). */
static int mail_search_read_text(struct mailbox *box, uint32_t uid, pool_t pool,
				 struct search_text **text_r, struct mail_cache_fields **cache_r)
{
	struct istream *input;
	uint64_t size;
	int ret = mailbox_open_message(box, uid, &input, &size);
	if (ret <= 0)
		return ret;
	struct search_text_builder *b = search_text_builder_create(pool, 0);
	struct mail_cache_render *render = cache_r == NULL ? NULL : mail_cache_render_begin(pool);
	for (;;) {
		size_t n;
		const unsigned char *data = i_stream_get_data(input, &n);
		if (n > 0) {
			search_text_builder_feed(b, data, n);
			if (render != NULL)
				mail_cache_render_feed(render, data, n);
			i_stream_skip(input, n);
			continue;
		}
		if (i_stream_read(input) == -1 && i_stream_get_data_size(input) == 0)
			break;
	}
	ret = 1;
	if (i_stream_get_error(input) != 0) {
		ret = mail_user_set_internal_error(box->user, "search_read_failed",
			t_strdup_printf("uid=%u error=%s", uid, i_stream_get_error_text(input)));
	}
	*text_r = search_text_builder_finish(b);
	search_text_builder_destroy(&b);
	if (cache_r != NULL) {
		struct mail_cache_fields fields;
		*cache_r = NULL;
		if (render != NULL && ret > 0 && mail_cache_render_finish(&render, pool, &fields))
			*cache_r = p_memdup(pool, &fields, sizeof(fields));
		mail_cache_render_free(&render);
	}
	i_stream_destroy(&input);
	return ret;
}

/* Indexes one batch of UIDs: files are read before the write lock. A
   watermark other than 0 is recorded in the same transaction. */
static int mail_search_update_batch(struct mailbox *box, const uint32_t *uids, unsigned int count,
				    uint32_t watermark, bool advance, bool fill_cache)
{
	struct mail_user *user = box->user;
	pool_t pool = pool_create("search update", 64 * 1024);
	struct index_search_doc *docs = p_new(pool, struct index_search_doc, count);
	struct mail_cache_fields **caches = p_new(pool, struct mail_cache_fields *, count);
	bool *have = p_new(pool, bool, count);
	/* a FETCH may have cached some already (a client in IDLE fetches new
	   mail at once): those are not rendered again */
	struct mail_cache_fields *cached = NULL;
	if (fill_cache) {
		cached = p_new(pool, struct mail_cache_fields, count);
		if (mailbox_cache_get_batch(box, uids, count, false, pool, cached) < 0) {
			/* then render them all */
			memset(cached, 0, count * sizeof(*cached));
			mail_user_clear_error(user);
		}
	}
	int ret = 0;
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		struct search_text *text;
		bool render = fill_cache && cached[i].bodystructure == NULL;
		int r = mail_search_read_text(box, uids[i], pool, &text,
					      render ? &caches[i] : NULL);
		if (r < 0)
			ret = -1;
		else if (r > 0) {
			mail_search_doc_from_text(pool, text, &docs[i]);
			have[i] = true;
		}
	}
	if (ret == 0 && mail_user_begin_write(user) < 0)
		ret = -1;
	else if (ret == 0) {
		for (unsigned int i = 0; i < count && ret == 0; i++) {
			if (have[i] && (index_search_put(user->db, box->id, uids[i], &docs[i]) < 0 ||
					(advance && index_search_advance_indexed_uid(user->db, box->id,
										     uids[i]) < 0)))
				ret = mail_user_set_index_error(user, "index message text");
			else if (have[i] && caches[i] != NULL &&
				 mail_cache_put_locked(user, box->id, uids[i], caches[i]) < 0)
				ret = mail_user_set_index_error(user, "write message cache");
		}
		if (ret == 0 && watermark != 0 &&
		    index_search_set_indexed_uid(user->db, box->id, watermark) < 0)
			ret = mail_user_set_index_error(user, "write search state");
		if (ret < 0)
			mail_user_rollback(user);
		else if (mail_user_commit(user) < 0)
			ret = -1;
	}
	pool_destroy(&pool);
	return ret;
}

void mailbox_set_progress_callback(struct mailbox *box, mailbox_progress_callback_t *cb,
				   void *context)
{
	box->progress_cb = cb;
	box->progress_context = context;
}

/* Records that every message up to uid has its document; nothing depends
   on it, so a busy lock just skips it. */
static int mail_search_set_watermark(struct mail_user *user, int64_t mailbox_id, uint32_t uid)
{
	int r = index_db_try_begin_write(user->db);
	if (r <= 0)
		return r < 0 ? mail_user_set_index_error(user, "write search state") : 0;
	if (index_search_set_indexed_uid(user->db, mailbox_id, uid) < 0) {
		mail_user_rollback(user);
		return mail_user_set_index_error(user, "write search state");
	}
	return mail_user_commit(user);
}

/* Indexes up to max (0: all) of the messages above the watermark that
   have no document, batch messages per write transaction. */
static int mail_search_update_some(struct mailbox *box, unsigned int max, unsigned int batch,
				   bool *more_r)
{
	struct mail_user *user = box->user;
	uint32_t indexed, max_uid;
	array_uint32_t missing;
	*more_r = false;
	mail_user_clear_error(user);
	if (index_search_get_indexed_uid(user->db, box->id, &indexed) < 0)
		return mail_user_set_index_error(user, "read search state");
	array_init(&missing, system_pool, 64);
	int ret = index_search_list_missing(user->db, box->id, indexed, &missing, &max_uid);
	if (ret < 0)
		ret = mail_user_set_index_error(user, "list unindexed messages");
	unsigned int total = max == 0 || missing.count < max ? missing.count : max;
	/* everything below the first message left has its document then */
	uint32_t done_uid = total < missing.count ? missing.v[total] - 1 : max_uid;
	uint32_t watermark = ret == 0 && done_uid > indexed ? done_uid : 0;
	for (unsigned int i = 0; i < total && ret == 0; i += batch) {
		unsigned int n = total - i < batch ? total - i : batch;
		ret = mail_search_update_batch(box, missing.v + i, n, i + n == total ? watermark : 0,
					       false, false);
		mailbox_progress(box, i + n, missing.count);
	}
	*more_r = total < missing.count;
	array_free(&missing);
	if (ret == 0 && total == 0 && watermark != 0)
		ret = mail_search_set_watermark(user, box->id, watermark);
	return ret;
}

int mailbox_search_update(struct mailbox *box)
{
	bool more;
	return mail_search_update_some(box, 0, MAIL_SEARCH_UPDATE_BATCH, &more);
}

int mail_user_search_index_uids(struct mail_user *user, const char *name,
				const uint32_t *uids, unsigned int count, bool fill_cache)
{
	struct index_mailbox mb;
	mail_user_clear_error(user);
	pool_t pool = pool_create("search index uids", 1024);
	int ret = index_mailbox_lookup(user->db, mailbox_name_canonical(name), pool, &mb);
	if (ret <= 0 || !mb.selectable || mb.dir == NULL) {
		pool_destroy(&pool);
		return ret < 0 ? mail_user_set_index_error(user, "look up mailbox") : 0;
	}
	/* only what reading the message files needs: no disk sync, no view */
	struct mailbox box = {
		.user = user, .pool = pool, .id = mb.id,
		.name = p_strdup(pool, mb.name), .dir = p_strdup(pool, mb.dir),
		.notify_fd = -1,
	};
	ret = mail_search_update_batch(&box, uids, count, 0, true, fill_cache);
	pool_destroy(&pool);
	return ret;
}

int mailbox_search_rebuild(struct mailbox *box)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (index_search_reset(user->db, box->id) < 0) {
		mail_user_rollback(user);
		return mail_user_set_index_error(user, "reset search data");
	}
	if (mail_user_commit(user) < 0)
		return -1;
	if (mailbox_search_update(box) < 0)
		return -1;
	int ret;
	while ((ret = mail_user_search_gc(user, 1000)) > 0) ;
	return ret;
}

int mail_user_search_gc(struct mail_user *user, unsigned int max)
{
	bool more;
	/* a read first: most of the time there is nothing to delete, and
	   then no write transaction is taken */
	if (index_search_gc_pending(user->db, &more) < 0)
		return mail_user_set_index_error(user, "search gc");
	if (!more)
		return 0;
	int ret = index_db_try_begin_write(user->db);
	if (ret <= 0)
		return ret < 0 ? mail_user_set_index_error(user, "search gc") : 0;
	if (index_search_gc(user->db, max, &more) < 0) {
		mail_user_rollback(user);
		return mail_user_set_index_error(user, "search gc");
	}
	if (mail_user_commit(user) < 0)
		return -1;
	return more ? 1 : 0;
}

static const char *mail_search_fold(const char *needle, bool line)
{
	string_t *str = t_str_new(strlen(needle) * 2 + 8);
	search_casemap_append(str, needle, strlen(needle), line);
	return str_c(str);
}

static bool key_field(enum mail_search_text_key key, enum search_text_field *field_r)
{
	switch (key) {
	case MAIL_SEARCH_FROM: *field_r = SEARCH_TEXT_FROM; return true;
	case MAIL_SEARCH_TO: *field_r = SEARCH_TEXT_TO; return true;
	case MAIL_SEARCH_CC: *field_r = SEARCH_TEXT_CC; return true;
	case MAIL_SEARCH_BCC: *field_r = SEARCH_TEXT_BCC; return true;
	case MAIL_SEARCH_SUBJECT: *field_r = SEARCH_TEXT_SUBJECT; return true;
	default: return false;
	}
}

/* The exact test of a column's text, as mail_search_text_test() does it. */
enum search_verify_kind {
	SEARCH_VERIFY_BODY,
	SEARCH_VERIFY_FIELD,
	SEARCH_VERIFY_HEADER,
};

struct search_verify_ctx {
	array_uint32_t *uids;
	enum search_verify_kind kind;
	const char *name, *needle;
};

static int search_verify_callback(uint32_t uid, const char *text, size_t len, void *context)
{
	struct search_verify_ctx *ctx = context;
	bool match;
	switch (ctx->kind) {
	case SEARCH_VERIFY_BODY:
		match = search_text_body_has(text, len, ctx->needle);
		break;
	case SEARCH_VERIFY_FIELD:
		match = search_text_field_has(text, len, ctx->needle);
		break;
	default:
		match = search_text_header_has(text, len, ctx->name, ctx->needle);
		break;
	}
	if (match)
		array_push(ctx->uids, uid);
	return 0;
}

/* Merges two ascending UID lists without duplicates into dest. */
static void uids_union(array_uint32_t *dest, const array_uint32_t *a, const array_uint32_t *b)
{
	unsigned int i = 0, j = 0;
	while (i < a->count || j < b->count) {
		uint32_t x = i < a->count ? a->v[i] : UINT32_MAX;
		uint32_t y = j < b->count ? b->v[j] : UINT32_MAX;
		uint32_t m = x < y ? x : y;
		array_push(dest, m);
		if (x == m) i++;
		if (y == m) j++;
	}
}

static int mail_search_text_index(struct mailbox *box, enum mail_search_text_key key,
				  const char *header_name, const char *needle,
				  array_uint32_t *uids_r)
{
	struct index_db *db = box->user->db;
	enum search_text_field field;
	struct search_verify_ctx ctx = { .uids = uids_r, .kind = SEARCH_VERIFY_BODY };
	if (key == MAIL_SEARCH_BODY) {
		ctx.needle = mail_search_fold(needle, false);
		if (ctx.needle[0] != '\0')
			return index_search_match(db, box->id, INDEX_SEARCH_BODY, ctx.needle, uids_r);
		/* "" matches every message: every indexed one */
		return index_search_iter_text(db, box->id, INDEX_SEARCH_BODY, NULL,
					      search_verify_callback, &ctx);
	}
	if (key == MAIL_SEARCH_TEXT) {
		array_uint32_t a, b;
		array_init(&a, t_pool(), 64);
		array_init(&b, t_pool(), 64);
		if (mail_search_text_index(box, MAIL_SEARCH_BODY, NULL, needle, &a) < 0)
			return -1;
		const char *n = mail_search_fold(needle, true);
		if (n[0] != '\0' && index_search_match(db, box->id, INDEX_SEARCH_HEADER, n, &b) < 0)
			return -1;
		uids_union(uids_r, &a, &b);
		return 0;
	}
	ctx.needle = mail_search_fold(needle, true);
	if (key_field(key, &field)) {
		enum index_search_column column = field_columns[field];
		if (ctx.needle[0] != '\0')
			return index_search_match(db, box->id, column, ctx.needle, uids_r);
		/* "": the field exists */
		ctx.kind = SEARCH_VERIFY_FIELD;
		return index_search_iter_text(db, box->id, column, NULL,
					      search_verify_callback, &ctx);
	}
	/* HEADER: candidates containing the needle (or the field name), then
	   the exact per-field test */
	ctx.kind = SEARCH_VERIFY_HEADER;
	ctx.name = mail_search_fold(header_name, true);
	const char *prefilter = ctx.needle[0] != '\0' ? ctx.needle :
		t_strdup_printf("%s: ", ctx.name);
	return index_search_iter_text(db, box->id, INDEX_SEARCH_HEADER, prefilter,
				      search_verify_callback, &ctx);
}

int mailbox_search_text(struct mailbox *box, enum mail_search_text_key key,
			const char *header_name, const char *needle, array_uint32_t *uids_r)
{
	int ret;
	mail_user_clear_error(box->user);
	ret = mail_search_text_index(box, key, header_name, needle, uids_r);
	return ret < 0 ? mail_user_set_index_error(box->user, "search") : 0;
}

static bool mail_search_text_test(const struct search_text *t, enum mail_search_text_key key,
				  const char *header_name, const char *needle)
{
	enum search_text_field field;
	const char *body_needle = mail_search_fold(needle, false);
	const char *line_needle = mail_search_fold(needle, true);
	switch (key) {
	case MAIL_SEARCH_BODY:
		return search_text_body_has(str_c(t->body), str_len(t->body), body_needle);
	case MAIL_SEARCH_TEXT:
		return search_text_body_has(str_c(t->body), str_len(t->body), body_needle) ||
			(line_needle[0] != '\0' &&
			 search_text_body_has(str_c(t->header), str_len(t->header), line_needle));
	case MAIL_SEARCH_HEADER:
		return search_text_header_has(str_c(t->header), str_len(t->header),
					      mail_search_fold(header_name, true), line_needle);
	default:
		if (!key_field(key, &field))
			i_unreached();
		return search_text_field_has(str_c(t->fields[field]), str_len(t->fields[field]),
					     line_needle);
	}
}

int mailbox_search_text_scan(struct mailbox *box, uint32_t uid, enum mail_search_text_key key,
			     const char *header_name, const char *needle)
{
	int ret;
	mail_user_clear_error(box->user);
	pool_t pool = pool_create("search scan", 16 * 1024);
	struct search_text *text;
	ret = mail_search_read_text(box, uid, pool, &text, NULL);
	if (ret > 0)
		ret = mail_search_text_test(text, key, header_name, needle) ? 1 : 0;
	pool_destroy(&pool);
	return ret;
}

struct search_keys_ctx {
	mail_search_keys_callback_t *callback;
	void *context;
};

static int search_keys_callback(const struct index_search_keys *k, void *context)
{
	struct search_keys_ctx *ctx = context;
	const struct search_keys keys = {
		.has_sent_date = k->has_sent_date,
		.sent_date = (time_t)k->sent_date,
		.sent_tz = k->sent_tz,
		.from_addr = k->from_addr == NULL ? "" : k->from_addr,
		.to_addr = k->to_addr == NULL ? "" : k->to_addr,
		.cc_addr = k->cc_addr == NULL ? "" : k->cc_addr,
		.from_display = k->from_display == NULL ? "" : k->from_display,
		.to_display = k->to_display == NULL ? "" : k->to_display,
		.subject = k->subject == NULL ? "" : k->subject,
		.subject_is_reply = k->subject_reply,
		.message_id = k->message_id,
		.in_reply_to = k->in_reply_to,
		.references = k->references,
	};
	return ctx->callback(k->uid, &keys, ctx->context);
}

static_assert((int)SEARCH_KEYS_DATE == (int)INDEX_SEARCH_KEYS_DATE &&
	      (int)SEARCH_KEYS_ADDR == (int)INDEX_SEARCH_KEYS_ADDR &&
	      (int)SEARCH_KEYS_DISPLAY == (int)INDEX_SEARCH_KEYS_DISPLAY &&
	      (int)SEARCH_KEYS_SUBJECT == (int)INDEX_SEARCH_KEYS_SUBJECT &&
	      (int)SEARCH_KEYS_THREAD == (int)INDEX_SEARCH_KEYS_THREAD,
	      "one bit per group of keys in both layers");

int mailbox_search_foreach_keys(struct mailbox *box, unsigned int fields,
				mail_search_keys_callback_t *callback, void *context)
{
	struct search_keys_ctx ctx = { callback, context };
	mail_user_clear_error(box->user);
	if (index_search_iter_keys(box->user->db, box->id, fields, search_keys_callback,
				   &ctx) < 0)
		return box->user->error != MAIL_ERROR_NONE ? -1 :
			mail_user_set_index_error(box->user, "read search keys");
	return 0;
}
