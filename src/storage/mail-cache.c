/* The storage side of the index's message cache (index-cache.h): reads
 * per message or by range, and fills batched into one opportunistic write
 * transaction, so a FETCH that parsed 500 messages pays one commit and
 * never waits for the write lock. Header blocks are stored compressed
 * (zlib; about a third of their size): a 4-byte little-endian length,
 * then the deflated bytes. */
#include "mail-storage-private.h"
#include "index-cache.h"

#include <zlib.h>

/* Decodes a stored header block into pool; false if it is damaged (then
   it counts as not cached). */
static bool cache_header_decode(pool_t pool, const void *data, size_t size,
				const unsigned char **header_r, size_t *size_r)
{
	const unsigned char *p = data;
	if (size < 5)
		return false;
	uLongf len = (uLongf)p[0] | (uLongf)p[1] << 8 | (uLongf)p[2] << 16 | (uLongf)p[3] << 24;
	if (len == 0 || len > MAIL_CACHE_MAX_HEADER)
		return false;
	unsigned char *out = p_malloc(pool, len);
	uLongf out_len = len;
	if (uncompress(out, &out_len, p + 4, (uLong)(size - 4)) != Z_OK || out_len != len)
		return false;
	*header_r = out;
	*size_r = len;
	return true;
}

/* One deflate state per process, reset per block: setting one up costs
   more than compressing a typical header (a few KiB). */
static z_stream cache_deflate;
static bool cache_deflate_ready;

/* Encodes a header block for storing; false if it can't (too big). */
static bool cache_header_encode(pool_t pool, const unsigned char *header, size_t size,
				const void **data_r, size_t *size_r)
{
	if (size == 0 || size > MAIL_CACHE_MAX_HEADER)
		return false;
	if (!cache_deflate_ready) {
		if (deflateInit(&cache_deflate, Z_BEST_SPEED) != Z_OK)
			return false;
		cache_deflate_ready = true;
	} else if (deflateReset(&cache_deflate) != Z_OK) {
		return false;
	}
	uLong bound = deflateBound(&cache_deflate, (uLong)size);
	unsigned char *out = p_malloc(pool, bound + 4);
	out[0] = size & 0xff;
	out[1] = (size >> 8) & 0xff;
	out[2] = (size >> 16) & 0xff;
	out[3] = (size >> 24) & 0xff;
	cache_deflate.next_in = (Bytef *)header;
	cache_deflate.avail_in = (uInt)size;
	cache_deflate.next_out = out + 4;
	cache_deflate.avail_out = (uInt)bound;
	if (deflate(&cache_deflate, Z_FINISH) != Z_STREAM_END)
		return false;
	*data_r = out;
	*size_r = cache_deflate.total_out + 4;
	return true;
}

static void cache_fields_from_index(pool_t pool, const struct index_cache_fields *f,
				    bool want_header, struct mail_cache_fields *out)
{
	out->envelope = f->envelope;
	out->body = f->body;
	out->bodystructure = f->bodystructure;
	out->header = NULL;
	out->header_size = 0;
	if (want_header && f->header != NULL &&
	    !cache_header_decode(pool, f->header, f->header_size, &out->header,
				 &out->header_size)) {
		out->header = NULL;
		out->header_size = 0;
	}
}

int mailbox_cache_get(struct mailbox *box, uint32_t uid, bool want_header, pool_t pool,
		      struct mail_cache_fields *fields_r)
{
	struct index_cache_fields f;
	memset(fields_r, 0, sizeof(*fields_r));
	int ret = index_cache_get(box->user->db, box->id, uid, pool, &f);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "read message cache");
	if (ret > 0)
		cache_fields_from_index(pool, &f, want_header, fields_r);
	return ret;
}

/* UID gaps up to this are read through rather than split into another
   range read. */
#define CACHE_BATCH_MAX_GAP 32

struct cache_batch_ctx {
	const uint32_t *uids;
	unsigned int count, pos;
	bool want_header;
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
	const struct index_cache_fields copy = {
		.envelope = f->envelope == NULL ? NULL : p_strdup(ctx->pool, f->envelope),
		.body = f->body == NULL ? NULL : p_strdup(ctx->pool, f->body),
		.bodystructure = f->bodystructure == NULL ? NULL :
			p_strdup(ctx->pool, f->bodystructure),
		.header = f->header, .header_size = f->header_size,
	};
	cache_fields_from_index(ctx->pool, &copy, ctx->want_header, out);
	return 0;
}

int mailbox_cache_get_batch(struct mailbox *box, const uint32_t *uids, unsigned int count,
			    bool want_header, pool_t pool, struct mail_cache_fields *fields_r)
{
	memset(fields_r, 0, count * sizeof(*fields_r));
	for (unsigned int start = 0; start < count; ) {
		unsigned int end = start + 1;
		while (end < count && uids[end] - uids[end - 1] <= CACHE_BATCH_MAX_GAP)
			end++;
		struct cache_batch_ctx ctx = {
			.uids = uids + start, .count = end - start, .pool = pool,
			.want_header = want_header,
			.fields = fields_r + start,
		};
		if (index_cache_iter_range(box->user->db, box->id, uids[start], uids[end - 1],
					   cache_batch_cb, &ctx) < 0)
			return mail_user_set_index_error(box->user, "read message cache");
		start = end;
	}
	return 0;
}

/* Stores one message's fields in the current write transaction. */
static int cache_put_one(struct mail_user *user, int64_t mailbox_id, uint32_t uid,
			 const struct mail_cache_fields *fields, pool_t pool)
{
	struct index_cache_fields f = {
		.envelope = fields->envelope,
		.body = fields->body,
		.bodystructure = fields->bodystructure,
	};
	if (fields->header != NULL)
		(void)cache_header_encode(pool, fields->header, fields->header_size,
					  &f.header, &f.header_size);
	return index_cache_put(user->db, mailbox_id, uid, &f);
}

int mail_cache_put_locked(struct mail_user *user, int64_t mailbox_id, uint32_t uid,
			  const struct mail_cache_fields *fields)
{
	pool_t pool = pool_create("cache put", 4096);
	int ret = cache_put_one(user, mailbox_id, uid, fields, pool);
	pool_destroy(&pool);
	return ret;
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
	pool_t pool = pool_create("cache put", 4096);
	for (unsigned int i = 0; i < count; i++) {
		if (cache_put_one(user, box->id, uids[i], &fields[i], pool) < 0) {
			pool_destroy(&pool);
			mail_user_rollback(user);
			return mail_user_set_index_error(user, "write message cache");
		}
		pool_clear(pool);
	}
	pool_destroy(&pool);
	if (mail_user_commit(user) < 0)
		return -1;
	return 1;
}

static const struct mail_cache_builder_vfuncs *cache_builder;
static void *cache_builder_context;

void mail_storage_set_cache_builder(const struct mail_cache_builder_vfuncs *v,
				    void *context)
{
	cache_builder = v;
	cache_builder_context = context;
}

void mail_cache_builder_begin(struct mail_save *save)
{
	if (cache_builder == NULL)
		return;
	save->cache_builder_v = cache_builder;
	save->cache_builder = cache_builder->init(save->pool, cache_builder_context);
}

void mail_cache_builder_feed(struct mail_save *save, const void *data, size_t size)
{
	if (save->cache_builder != NULL)
		save->cache_builder_v->feed(save->cache_builder, data, size);
}

void mail_cache_builder_finish(struct mail_save *save)
{
	if (save->cache_builder == NULL)
		return;
	struct mail_cache_fields fields;
	memset(&fields, 0, sizeof(fields));
	if (save->cache_builder_v->finish(save->cache_builder, save->pool, &fields) > 0)
		save->cache_fields = p_memdup(save->pool, &fields, sizeof(fields));
	mail_cache_builder_free(save);
}

void mail_cache_builder_free(struct mail_save *save)
{
	if (save->cache_builder == NULL)
		return;
	save->cache_builder_v->deinit(save->cache_builder);
	save->cache_builder = NULL;
}
