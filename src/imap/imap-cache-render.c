/* The message cache's renderings from a parsed structure, for FETCH's
 * fills and for the storage's save-time cache builder (see the header).
 * Both produce the same bytes a FETCH of the file would send, so a cached
 * answer never differs from a parsed one. */
#include "imap-cache-render.h"
#include "imap-envelope.h"
#include "imap-preview.h"
#include "buffer.h"

void imap_cache_render(const struct imap_structure *s, const unsigned char *header,
		       size_t header_size, pool_t pool, struct mail_cache_fields *fields_r)
{
	string_t *str = t_str_new(1024);

	memset(fields_r, 0, sizeof(*fields_r));
	imap_envelope_write(imap_structure_get_envelope(s, s->root), str);
	fields_r->envelope = p_strdup(pool, str_c(str));
	if (!s->header_only) {
		str_truncate(str, 0);
		imap_bodystructure_write(s, s->root, false, str);
		fields_r->body = p_strdup(pool, str_c(str));
		str_truncate(str, 0);
		imap_bodystructure_write(s, s->root, true, str);
		fields_r->bodystructure = p_strdup(pool, str_c(str));
	}
	if (header != NULL && header_size > 0 && header_size <= MAIL_CACHE_MAX_HEADER) {
		fields_r->header = p_memdup(pool, header, header_size);
		fields_r->header_size = header_size;
	}
}

/* ---- the save-time builder ---- */

struct save_render {
	pool_t pool;
	struct imap_structure_parser *parser;
	/* the content fed until the root header ended (emptied and left
	   when it grows past MAIL_CACHE_MAX_HEADER) */
	buffer_t *header;
	bool capturing;
	/* FETCH PREVIEW (RFC 8970) from the same bytes */
	struct imap_preview_builder *preview;
};

static struct mime_parser_limits render_limits;

static void *save_render_init(pool_t pool ATTR_UNUSED, void *context ATTR_UNUSED)
{
	struct save_render *r = i_new(struct save_render, 1);
	r->pool = pool_create("save render", 4096);
	r->parser = imap_structure_parser_create(r->pool, &render_limits, false);
	r->header = buffer_create(r->pool, 4096);
	r->capturing = true;
	r->preview = imap_preview_builder_create();
	return r;
}

static void save_render_feed(void *builder, const void *data, size_t size)
{
	struct save_render *r = builder;
	if (r->capturing) {
		/* the header ends within this chunk or a later one; at most
		   the chunk's worth past the limit is kept meanwhile */
		buffer_append(r->header, data, size);
		if (r->header->used > MAIL_CACHE_MAX_HEADER + size) {
			buffer_clear(r->header);
			r->capturing = false;
		}
	}
	imap_structure_parser_feed(r->parser, data, size);
	if (!imap_preview_builder_is_done(r->preview))
		imap_preview_builder_feed(r->preview, data, size);
	if (r->capturing && imap_structure_parser_is_header_done(r->parser))
		r->capturing = false;
}

static int save_render_finish(void *builder, pool_t pool, struct mail_cache_fields *fields_r)
{
	struct save_render *r = builder;
	const struct imap_structure *s = imap_structure_parser_finish(r->parser);
	const struct mime_part *root = s->root;
	uint64_t header_end = root->header_offset + root->header_size;
	const unsigned char *header = NULL;

	if (root->header_offset == 0 && header_end > 0 && header_end <= r->header->used &&
	    header_end <= MAIL_CACHE_MAX_HEADER)
		header = r->header->data;
	imap_cache_render(s, header, (size_t)header_end, pool, fields_r);
	fields_r->preview = imap_preview_builder_finish(r->preview, pool);
	return 1;
}

static void save_render_deinit(void *builder)
{
	struct save_render *r = builder;
	imap_structure_parser_destroy(&r->parser);
	imap_preview_builder_destroy(&r->preview);
	pool_destroy(&r->pool);
	i_free(r);
}

static const struct mail_cache_builder_vfuncs save_render_vfuncs = {
	.init = save_render_init,
	.feed = save_render_feed,
	.finish = save_render_finish,
	.deinit = save_render_deinit,
};

void imap_cache_render_register(const struct mime_parser_limits *limits)
{
	render_limits = *limits;
	mail_storage_set_cache_builder(&save_render_vfuncs, NULL);
}
