/* The storage side of the index's message cache (index-cache.h): reads
 * per message, and fills batched into one opportunistic write
 * transaction, so a FETCH that parsed 500 messages pays one commit and
 * never waits for the write lock. */
#include "mail-storage-private.h"
#include "index-cache.h"

int mailbox_cache_get(struct mailbox *box, uint32_t uid, pool_t pool,
		      struct mail_cache_fields *fields_r)
{
	struct index_cache_fields f;
	memset(fields_r, 0, sizeof(*fields_r));
	int ret = index_cache_get(box->user->db, box->id, uid, pool, &f);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "read message cache");
	fields_r->envelope = f.envelope;
	fields_r->body = f.body;
	fields_r->bodystructure = f.bodystructure;
	return ret;
}

/* UID gaps up to this are read through rather than split into another
   range read. */
#define CACHE_BATCH_MAX_GAP 32

struct cache_batch_ctx {
	const uint32_t *uids;
	unsigned int count, pos;
	pool_t pool;
	struct mail_cache_fields *fields;
};

static int cache_batch_cb(uint32_t uid, const struct index_cache_fields *f, void *context)
{
	struct cache_batch_ctx *ctx = context;
	while (ctx->pos < ctx->count && ctx->uids[ctx->pos] < uid)
		ctx->pos++;
	if (ctx->pos == ctx->count || ctx->uids[ctx->pos] != uid)
		return 0;
	struct mail_cache_fields *out = &ctx->fields[ctx->pos++];
	out->envelope = f->envelope == NULL ? NULL : p_strdup(ctx->pool, f->envelope);
	out->body = f->body == NULL ? NULL : p_strdup(ctx->pool, f->body);
	out->bodystructure = f->bodystructure == NULL ? NULL : p_strdup(ctx->pool, f->bodystructure);
	return 0;
}

int mailbox_cache_get_batch(struct mailbox *box, const uint32_t *uids, unsigned int count,
			    pool_t pool, struct mail_cache_fields *fields_r)
{
	memset(fields_r, 0, count * sizeof(*fields_r));
	for (unsigned int start = 0; start < count; ) {
		unsigned int end = start + 1;
		while (end < count && uids[end] - uids[end - 1] <= CACHE_BATCH_MAX_GAP)
			end++;
		struct cache_batch_ctx ctx = {
			.uids = uids + start, .count = end - start, .pool = pool,
			.fields = fields_r + start,
		};
		if (index_cache_iter_range(box->user->db, box->id, uids[start], uids[end - 1],
					   cache_batch_cb, &ctx) < 0)
			return mail_user_set_index_error(box->user, "read message cache");
		start = end;
	}
	return 0;
}

int mailbox_cache_put(struct mailbox *box, const uint32_t *uids,
		      const struct mail_cache_fields *fields, unsigned int count)
{
	struct mail_user *user = box->user;
	/* EXAMINE too: the cache is not part of the mailbox's state */
	if (count == 0)
		return 0;
	int ret = index_db_try_begin_write(user->db);
	if (ret <= 0)
		return ret < 0 ? mail_user_set_index_error(user, "write message cache") : 0;
	for (unsigned int i = 0; i < count; i++) {
		const struct index_cache_fields f = {
			.envelope = fields[i].envelope,
			.body = fields[i].body,
			.bodystructure = fields[i].bodystructure,
		};
		if (index_cache_put(user->db, box->id, uids[i], &f) < 0) {
			mail_user_rollback(user);
			return mail_user_set_index_error(user, "write message cache");
		}
	}
	if (mail_user_commit(user) < 0)
		return -1;
	return 1;
}
