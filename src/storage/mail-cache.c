/* The storage side of the index's message cache (index-cache.h): reads
 * per message or by range, and fills batched into one opportunistic write
 * transaction, so a FETCH that parsed 500 messages pays one commit and
 * never waits for the write lock. Header blocks are stored compressed
 * (zlib; about a third of their size) in the row's header column, which
 * also carries the message's preview (RFC 8970) so that the row needs no
 * new column: a 3-byte little-endian header length, a flags byte, with
 * CACHE_BLOB_PREVIEW a 2-byte little-endian length and the preview's
 * bytes, then the deflated header block. Blobs written before previews
 * existed have flags 0. A message whose header block is too big to cache
 * has no blob, so its preview isn't cached either (it is recomputed). */
#include "mail-storage-private.h"
#include "index-cache.h"

#include <zlib.h>

#define CACHE_BLOB_PREVIEW 0x01

/* The parts of a stored blob; false if it is damaged (then nothing of it
   counts as cached). */
static bool cache_blob_split(const void *data, size_t size, size_t *header_len_r,
			     const unsigned char **preview_r, size_t *preview_len_r,
			     const unsigned char **deflated_r, size_t *deflated_len_r)
{
	const unsigned char *p = data;
	if (size < 4)
		return false;
	*header_len_r = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16;
	unsigned char flags = p[3];
	size_t pos = 4;
	*preview_r = NULL;
	*preview_len_r = 0;
	if ((flags & ~CACHE_BLOB_PREVIEW) != 0 || *header_len_r == 0 ||
	    *header_len_r > MAIL_CACHE_MAX_HEADER)
		return false;
	if ((flags & CACHE_BLOB_PREVIEW) != 0) {
		if (size < pos + 2)
			return false;
		*preview_len_r = (size_t)p[pos] | (size_t)p[pos + 1] << 8;
		pos += 2;
		if (*preview_len_r > MAIL_CACHE_MAX_PREVIEW || size - pos < *preview_len_r)
			return false;
		*preview_r = p + pos;
		pos += *preview_len_r;
	}
	*deflated_r = p + pos;
	*deflated_len_r = size - pos;
	return *deflated_len_r > 0;
}

/* Decodes a stored header block into pool; false if there is none or it
   is damaged (then it counts as not cached). */
static bool cache_header_decode(pool_t pool, const void *data, size_t size,
				const unsigned char **header_r, size_t *size_r)
{
	size_t len, preview_len, deflated_len;
	const unsigned char *preview, *deflated;
	if (!cache_blob_split(data, size, &len, &preview, &preview_len, &deflated,
			      &deflated_len))
		return false;
	unsigned char *out = p_malloc(pool, len);
	uLongf out_len = len;
	if (uncompress(out, &out_len, deflated, (uLong)deflated_len) != Z_OK || out_len != len)
		return false;
	*header_r = out;
	*size_r = len;
	return true;
}

/* The preview stored in a blob, in pool, or NULL. */
static const char *cache_preview_decode(pool_t pool, const void *data, size_t size)
{
	size_t len, preview_len, deflated_len;
	const unsigned char *preview, *deflated;
	if (!cache_blob_split(data, size, &len, &preview, &preview_len, &deflated,
			      &deflated_len) || preview == NULL)
		return NULL;
	return p_strndup(pool, preview, preview_len);
}

/* One deflate state per process, reset per block: setting one up costs
   more than compressing a typical header (a few KiB). */
static z_stream cache_deflate;
static bool cache_deflate_ready;

/* Encodes a header block and a preview (NULL: none) for storing; false
   without a header block (none, or too big), or if it can't be. */
static bool cache_blob_encode(pool_t pool, const unsigned char *header, size_t size,
			      const char *preview, const void **data_r, size_t *size_r)
{
	size_t preview_len = preview == NULL ? 0 : strlen(preview);
	if (header == NULL || size == 0 || size > MAIL_CACHE_MAX_HEADER)
		return false;
	if (preview_len > MAIL_CACHE_MAX_PREVIEW)
		preview = NULL;
	if (!cache_deflate_ready) {
		if (deflateInit(&cache_deflate, Z_BEST_SPEED) != Z_OK)
			return false;
		cache_deflate_ready = true;
	} else if (deflateReset(&cache_deflate) != Z_OK) {
		return false;
	}
	uLong bound = deflateBound(&cache_deflate, (uLong)size);
	size_t head = 4 + (preview == NULL ? 0 : 2 + preview_len);
	unsigned char *out = p_malloc(pool, head + bound);
	out[0] = size & 0xff;
	out[1] = (size >> 8) & 0xff;
	out[2] = (size >> 16) & 0xff;
	out[3] = preview == NULL ? 0 : CACHE_BLOB_PREVIEW;
	if (preview != NULL) {
		out[4] = preview_len & 0xff;
		out[5] = (preview_len >> 8) & 0xff;
		memcpy(out + 6, preview, preview_len);
	}
	cache_deflate.next_in = (Bytef *)header;
	cache_deflate.avail_in = (uInt)size;
	cache_deflate.next_out = out + head;
	cache_deflate.avail_out = (uInt)bound;
	if (deflate(&cache_deflate, Z_FINISH) != Z_STREAM_END)
		return false;
	*data_r = out;
	*size_r = cache_deflate.total_out + head;
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
	out->preview = f->header == NULL ? NULL :
		cache_preview_decode(pool, f->header, f->header_size);
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
	if (!cache_blob_encode(pool, fields->header, fields->header_size, fields->preview,
			       &f.header, &f.header_size)) {
		f.header = NULL;
		f.header_size = 0;
	}
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

struct mail_cache_render {
	const struct mail_cache_builder_vfuncs *v;
	void *builder;
};

struct mail_cache_render *mail_cache_render_begin(pool_t pool)
{
	if (cache_builder == NULL)
		return NULL;
	struct mail_cache_render *r = p_new(pool, struct mail_cache_render, 1);
	r->v = cache_builder;
	r->builder = cache_builder->init(pool, cache_builder_context);
	return r;
}

void mail_cache_render_feed(struct mail_cache_render *r, const void *data, size_t size)
{
	r->v->feed(r->builder, data, size);
}

bool mail_cache_render_finish(struct mail_cache_render **_r, pool_t pool,
			      struct mail_cache_fields *fields_r)
{
	struct mail_cache_render *r = *_r;
	memset(fields_r, 0, sizeof(*fields_r));
	bool ret = r->v->finish(r->builder, pool, fields_r) > 0;
	mail_cache_render_free(_r);
	return ret;
}

void mail_cache_render_free(struct mail_cache_render **_r)
{
	struct mail_cache_render *r = *_r;
	if (r == NULL)
		return;
	*_r = NULL;
	r->v->deinit(r->builder);
}

void mail_cache_builder_free(struct mail_save *save)
{
	if (save->cache_builder == NULL)
		return;
	save->cache_builder_v->deinit(save->cache_builder);
	save->cache_builder = NULL;
}
