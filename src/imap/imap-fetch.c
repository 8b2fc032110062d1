/* The FETCH response producer: per-message responses, message content
 * streamed as literals (CRLF form, transfer encodings undone for BINARY)
 * with back-pressure, structure items from one MIME parse per message
 * (ENVELOPE, BODY and BODYSTRUCTURE from the index's message cache once a
 * message was parsed), records and cached renderings read ahead in range
 * reads, and a batched path for the common metadata-only FETCH (UID FLAGS
 * ...) that reads records in one index query per batch. */
#include "imap-fetch.h"
#include "date.h"
#include "imap-cache-render.h"
#include "imap-progress.h"
#include "imap-quote.h"
#include "imap-storage.h"
#include "imap-uidonly.h"
#include "istream.h"

/* messages per index query on the metadata-only path */
#define FETCH_BATCH 1024
/* messages whose records and cached renderings are read ahead at once on
   the per-message path */
#define FETCH_PREFETCH 256
/* message cache fills written per index transaction */
#define FETCH_CACHE_FILL_BATCH 256

struct imap_fetch {
	struct imap_cmd *cmd;
	struct imap_client *client;
	const fetch_items_t *items;
	const uint32_t *seqs;
	unsigned int count, next;
	bool need_content, add_flags;
	/* every message's file is read (not only for cache misses) */
	bool need_file;
	/* only UID and FLAGS: the index's narrow range read serves them */
	bool flags_only;
	/* some item needs the MIME structure; all of them are satisfied by
	   the root header alone */
	bool need_structure, header_only;
	/* the structure is needed only for ENVELOPE, BODY and BODYSTRUCTURE,
	   which the index's message cache can answer */
	bool cacheable, want_envelope, want_body, want_bodystructure;
	/* some item is a header section of the message (HEADER,
	   HEADER.FIELDS[.NOT], RFC822.HEADER), which the cached header
	   block answers */
	bool want_header;
	/* PREVIEW, and PREVIEW (LAZY), which takes only what is cached */
	bool want_preview, want_preview_lazy;
	unsigned int expunged;
	/* INPROGRESS responses between messages (RFC 9585) */
	struct imap_progress progress;
	/* a BINARY item met an encoding it can't undo (RFC 3516 §4.3) */
	bool unknown_cte;

	/* the message being written */
	bool in_message;
	uint32_t seq;
	struct mail_record rec;
	pool_t msg_pool;
	struct fetch_structure *structure;
	/* the message's cached renderings (msg_pool), or NULLs */
	struct mail_cache_fields cached;
	unsigned int item_idx;
	/* nothing written yet after "FETCH (" */
	bool first;

	/* a literal being streamed */
	bool streaming;
	struct fetch_content content;
	uint64_t skip, left;
	buffer_t *chunk;

	/* records (and cached renderings) of seqs[pre_start..+pre_count],
	   read ahead in a few range reads instead of two queries a message;
	   a record with uid 0 was expunged. Only for ascending seqs. */
	bool prefetch;
	pool_t pre_pool;
	unsigned int pre_start, pre_count;
	struct mail_record *pre_recs;
	struct mail_cache_fields *pre_cached;

	/* renderings of parsed messages, for the message cache */
	pool_t fill_pool;
	ARRAY(uint32_t) fill_uids;
	ARRAY(struct mail_cache_fields) fill_fields;
};

/* The message's own header sections. */
static bool item_is_root_header(const struct fetch_item *item)
{
	return item->type == FETCH_SECTION && item->part_count == 0 &&
		(item->section == SECTION_HEADER || item->section == SECTION_HEADER_FIELDS ||
		 item->section == SECTION_HEADER_FIELDS_NOT);
}

/* Items that are satisfied by the root header alone. */
static bool item_needs_header_only(const struct fetch_item *item)
{
	switch (item->type) {
	case FETCH_ENVELOPE:
		return true;
	case FETCH_SECTION:
		return item->part_count == 0;
	default:
		return false;
	}
}

struct imap_fetch *imap_fetch_begin(struct imap_cmd *cmd, const fetch_items_t *items,
				    const array_uint32_t *seqs)
{
	struct imap_fetch *f = p_new(cmd->pool, struct imap_fetch, 1);
	f->cmd = cmd;
	f->client = cmd->client;
	f->items = items;
	f->seqs = seqs->v;
	f->count = seqs->count;
	f->header_only = true;
	f->flags_only = true;
	f->cacheable = true;
	imap_progress_begin(&f->progress, cmd);
	for (unsigned int i = 0; i < items->count; i++) {
		const struct fetch_item *item = &items->v[i];
		if (item->type != FETCH_FLAGS && item->type != FETCH_UID &&
		    item->type != FETCH_MODSEQ)
			f->flags_only = false;
		if (item->type == FETCH_ENVELOPE)
			f->want_envelope = true;
		else if (item->type == FETCH_BODY)
			f->want_body = true;
		else if (item->type == FETCH_BODYSTRUCTURE)
			f->want_bodystructure = true;
		else if (item_is_root_header(item))
			f->want_header = true;
		else if (item->type == FETCH_PREVIEW && item->lazy)
			f->want_preview_lazy = true;
		else if (item->type == FETCH_PREVIEW)
			f->want_preview = true;
		else if (imap_fetch_item_needs_structure(item))
			f->cacheable = false;
		switch (item->type) {
		case FETCH_FLAGS:
		case FETCH_UID:
		case FETCH_MODSEQ:
		case FETCH_INTERNALDATE:
		case FETCH_SAVEDATE:
		case FETCH_EMAILID:
		case FETCH_THREADID:
		case FETCH_RFC822_SIZE:
			continue;
		default:
			break;
		}
		f->need_content = true;
		if ((item->type == FETCH_SECTION && !item_is_root_header(item)) ||
		    item->type == FETCH_BINARY || item->type == FETCH_BINARY_SIZE)
			f->need_file = true;
		if ((item->type == FETCH_SECTION || item->type == FETCH_BINARY) &&
		    !item->peek && !mailbox_is_readonly(f->client->box))
			f->add_flags = true;
		if (imap_fetch_item_needs_structure(item)) {
			f->need_structure = true;
			if (!item_needs_header_only(item))
				f->header_only = false;
		}
	}
	f->cacheable = f->cacheable && (f->need_structure || f->want_preview_lazy);
	/* the metadata-only path reads in batches of its own */
	f->prefetch = f->need_content;
	for (unsigned int i = 1; i < f->count && f->prefetch; i++) {
		if (f->seqs[i] <= f->seqs[i - 1])
			f->prefetch = false;
	}
	if (f->prefetch)
		f->pre_pool = pool_create("fetch prefetch", 16384);
	f->msg_pool = pool_create("fetch message", 4096);
	f->chunk = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	if (f->cacheable) {
		f->fill_pool = pool_create("fetch cache fill", 16384);
		array_init(&f->fill_uids, system_pool, FETCH_CACHE_FILL_BATCH);
		array_init(&f->fill_fields, system_pool, FETCH_CACHE_FILL_BATCH);
	}
	return f;
}

/* ---- the message cache ---- */

/* Writes the collected renderings (if the index is free to write). */
static void fetch_cache_flush(struct imap_fetch *f)
{
	if (f->fill_uids.count == 0)
		return;
	if (mailbox_cache_put(f->client->box, f->fill_uids.v, f->fill_fields.v,
			      f->fill_uids.count) < 0) {
		/* the details were logged; the cache is refilled on a later use */
		log_warning(&f->client->conn->log, "cache_write_failed", "messages=%u",
			    f->fill_uids.count);
	}
	array_clear(&f->fill_uids);
	array_clear(&f->fill_fields);
	pool_clear(f->fill_pool);
}

/* True when f->cached has every structure item the FETCH asks for. */
static bool fetch_cached_has_all(const struct imap_fetch *f)
{
	return (!f->want_envelope || f->cached.envelope != NULL) &&
		(!f->want_body || f->cached.body != NULL) &&
		(!f->want_bodystructure || f->cached.bodystructure != NULL) &&
		(!f->want_header || f->cached.header != NULL) &&
		(!f->want_preview || f->cached.preview != NULL);
}

/* Looks the message up in the cache; true when it had every item. */
static bool fetch_cache_lookup(struct imap_fetch *f)
{
	memset(&f->cached, 0, sizeof(f->cached));
	int ret = mailbox_cache_get(f->client->box, f->rec.uid, f->want_header, f->msg_pool,
				    &f->cached);
	if (ret < 0) {
		log_warning(&f->client->conn->log, "cache_read_failed", "uid=%u", f->rec.uid);
		memset(&f->cached, 0, sizeof(f->cached));
		return false;
	}
	return fetch_cached_has_all(f);
}

/* Renders what the parsed structure allows and queues it for the cache. */
static void fetch_cache_fill(struct imap_fetch *f)
{
	const struct imap_structure *s = f->structure->s;
	/* before the new strings: a flush clears fill_pool, and f->cached
	   points into it until the message is written */
	if (f->fill_uids.count >= FETCH_CACHE_FILL_BATCH)
		fetch_cache_flush(f);
	struct mail_cache_fields fill;
	imap_cache_render(s, f->structure->header, f->structure->header_size, f->fill_pool,
			  &fill);
	if (f->structure->preview != NULL)
		fill.preview = p_strdup(f->fill_pool, f->structure->preview);
	f->cached = fill;
	array_push(&f->fill_uids, f->rec.uid);
	array_push(&f->fill_fields, fill);
}

void imap_fetch_end(struct imap_fetch **_f)
{
	struct imap_fetch *f = *_f;
	if (f == NULL)
		return;
	*_f = NULL;
	imap_fetch_content_close(&f->content);
	imap_fetch_structure_unref(&f->structure);
	buffer_free(&f->chunk);
	pool_destroy(&f->msg_pool);
	if (f->pre_pool != NULL)
		pool_destroy(&f->pre_pool);
	if (f->cacheable) {
		fetch_cache_flush(f);
		array_free(&f->fill_uids);
		array_free(&f->fill_fields);
		pool_destroy(&f->fill_pool);
	}
}

unsigned int imap_fetch_get_expunged_count(const struct imap_fetch *f)
{
	return f->expunged;
}

static void fetch_write_flags(struct imap_fetch *f, const struct mail_record *rec, uint32_t seq,
			      string_t *str)
{
	str_append(str, "FLAGS ");
	imap_flags_write(str, rec->flags, rec->keywords,
			 !f->client->enabled_imap4rev2 &&
			 mailbox_view_is_recent(f->client->box, seq));
}

/* Appends the non-content items for rec to str, separated by spaces.
   Returns true if something was written. */
static bool fetch_write_meta(struct imap_fetch *f, const struct mail_record *rec, uint32_t seq,
			     string_t *str, bool force_flags)
{
	size_t start = str_len(str);
	bool flags_done = false, uid_done = false, modseq_done = false;
	for (unsigned int i = 0; i < f->items->count; i++) {
		const struct fetch_item *item = &f->items->v[i];
		if (item->type > FETCH_RFC822_SIZE)
			continue;
		if (str_len(str) > start)
			str_append_c(str, ' ');
		switch (item->type) {
		case FETCH_UID:
			str_append(str, "UID ");
			str_append_uint(str, rec->uid);
			uid_done = true;
			break;
		case FETCH_MODSEQ:
			str_printfa(str, "MODSEQ (%llu)", (unsigned long long)rec->modseq);
			modseq_done = true;
			break;
		case FETCH_FLAGS:
			fetch_write_flags(f, rec, seq, str);
			flags_done = true;
			break;
		case FETCH_INTERNALDATE:
			str_printfa(str, "INTERNALDATE \"%s\"",
				    imap_date_time_format(rec->internal_date, rec->internal_date_tz));
			break;
		case FETCH_SAVEDATE:
			/* RFC 8514 §4: NIL when not known; in UTC, the day the
			   SAVED* search keys compare */
			if (rec->save_date <= 0)
				str_append(str, "SAVEDATE NIL");
			else
				str_printfa(str, "SAVEDATE \"%s\"",
					    imap_date_time_format(rec->save_date, 0));
			break;
		case FETCH_EMAILID:
			/* the GUID: kept by COPY and MOVE, random per save */
			if (rec->guid == NULL || !imap_objectid_is_valid(rec->guid))
				str_append(str, "EMAILID NIL");
			else
				str_printfa(str, "EMAILID (%s)", rec->guid);
			break;
		case FETCH_THREADID:
			/* RFC 8474 §5.2: NIL from a server without thread ids */
			str_append(str, "THREADID NIL");
			break;
		case FETCH_RFC822_SIZE:
			str_append(str, "RFC822.SIZE ");
			str_append_uint(str, rec->size);
			break;
		default:
			i_unreached();
		}
	}
	if (force_flags && !flags_done) {
		/* RFC 9051 §6.4.5: \Seen set implicitly is reported */
		if (str_len(str) > start)
			str_append_c(str, ' ');
		fetch_write_flags(f, rec, seq, str);
	}
	if (force_flags && f->client->condstore) {
		/* RFC 7162 §3.2.4: with UID and MODSEQ after CONDSTORE (a
		   UIDFETCH response has it in front, RFC 9586 §3) */
		if (!uid_done && !f->client->uidonly)
			str_printfa(str, " UID %u", rec->uid);
		if (!modseq_done)
			str_printfa(str, " MODSEQ (%llu)", (unsigned long long)rec->modseq);
	}
	return str_len(str) > start;
}

struct fetch_batch_ctx {
	struct imap_fetch *f;
	string_t *str;
};

static int fetch_batch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct fetch_batch_ctx *ctx = context;
	string_t *str = ctx->str;
	imap_uidonly_fetch_begin(ctx->f->client, str, seq, rec->uid);
	if (!fetch_write_meta(ctx->f, rec, seq, str, false))
		str_printfa(str, "UID %u", rec->uid);
	str_append(str, ")\r\n");
	return 0;
}

/* Metadata-only FETCH: whole batches of records per index query. */
static int fetch_more_batched(struct imap_fetch *f, const char **error_r)
{
	struct ostream *output = f->client->conn->output;
	while (f->next < f->count) {
		if (o_stream_is_full(output))
			return 0;
		unsigned int n = I_MIN(FETCH_BATCH, f->count - f->next);
		struct fetch_batch_ctx ctx = { .f = f, .str = str_new(system_pool, n * 64) };
		int ret = f->flags_only ?
			mailbox_foreach_record_flags(f->client->box, f->seqs + f->next, n,
						     fetch_batch_cb, &ctx) :
			mailbox_foreach_record(f->client->box, f->seqs + f->next, n,
					       fetch_batch_cb, &ctx);
		if (ret == 0)
			o_stream_send(output, str_data(ctx.str), str_len(ctx.str));
		str_free(&ctx.str);
		if (ret < 0) {
			*error_r = imap_storage_error_reply(f->client);
			return -1;
		}
		f->next += n;
		imap_progress_update(&f->progress, f->next, f->count);
	}
	return 1;
}

/* ---- literals ---- */

/* Sends streamed literal bytes. Returns 1 when the literal is complete,
   0 when the output is full, -1 on a read error (the literal was still
   completed with padding, to keep the protocol in sync). */
static int fetch_stream_more(struct imap_fetch *f)
{
	struct ostream *output = f->client->conn->output;
	int ret = 1;

	while (f->left > 0) {
		if (o_stream_is_full(output))
			return 0;
		buffer_clear(f->chunk);
		ret = imap_fetch_content_read(&f->content, f->chunk);
		const unsigned char *out = f->chunk->data;
		size_t out_size = f->chunk->used;
		if (f->skip > 0) {
			size_t n = (size_t)I_MIN((uint64_t)out_size, f->skip);
			out += n;
			out_size -= n;
			f->skip -= n;
		}
		out_size = (size_t)I_MIN((uint64_t)out_size, f->left);
		o_stream_send(output, out, out_size);
		f->left -= out_size;
		if (ret <= 0 && f->left > 0) {
			/* the file is shorter than its structure says, or
			   can't be read: keep the protocol in sync, log it */
			log_error(&f->client->conn->log, "fetch_short_message",
				  "uid=%u missing=%llu", f->rec.uid, (unsigned long long)f->left);
			char pad[1024];
			memset(pad, ' ', sizeof(pad));
			while (f->left > 0) {
				size_t n = (size_t)I_MIN(f->left, sizeof(pad));
				o_stream_send(output, pad, n);
				f->left -= n;
			}
			ret = -1;
		}
	}
	imap_fetch_content_close(&f->content);
	f->streaming = false;
	return ret < 0 ? -1 : 1;
}

/* Computes a partial range of a content of total size. */
static uint64_t fetch_partial(const struct fetch_item *item, uint64_t total, uint64_t *skip_r)
{
	*skip_r = 0;
	if (!item->partial)
		return total;
	if (item->partial_start >= total) {
		*skip_r = total;
		return 0;
	}
	*skip_r = item->partial_start;
	return I_MIN(total - item->partial_start, item->partial_size);
}

static void fetch_send(struct imap_fetch *f, const char *text)
{
	struct ostream *output = f->client->conn->output;

	if (!f->first)
		o_stream_send(output, " ", 1);
	f->first = false;
	o_stream_send_str(output, text);
}

/* Starts a literal of content with the given total size. Returns as
   fetch_stream_more(), or -2 if the message was expunged before anything
   was written. */
static int fetch_literal(struct imap_fetch *f, const struct fetch_item *item, uint64_t total,
			 bool literal8)
{
	uint64_t skip, size = fetch_partial(item, total, &skip);
	int ret;

	if (size > 0) {
		/* open before the literal header: a failure must not leave a
		   promised literal unsent */
		ret = imap_fetch_content_open(&f->content, f->client->box, f->rec.uid);
		if (ret <= 0)
			return ret == 0 ? -2 : -1;
	}
	fetch_send(f, t_strdup_printf("%s %s{%llu}\r\n", item->label, literal8 ? "~" : "",
				      (unsigned long long)size));
	if (size == 0)
		return 1;
	f->streaming = true;
	f->skip = skip;
	f->left = size;
	return fetch_stream_more(f);
}

/* A section whose content comes from memory (at most a cached header
   block): produced once into a buffer, then sent, instead of measured
   and produced again. Returns 1 or -1. */
static int fetch_section_mem(struct imap_fetch *f, const struct fetch_item *item)
{
	buffer_t *out = f->chunk;
	buffer_clear(out);
	if (imap_fetch_content_open(&f->content, f->client->box, f->rec.uid) <= 0)
		return -1;
	int ret;
	while ((ret = imap_fetch_content_read(&f->content, out)) > 0) ;
	imap_fetch_content_close(&f->content);
	if (ret < 0)
		return -1;
	uint64_t skip, size = fetch_partial(item, out->used, &skip);
	fetch_send(f, t_strdup_printf("%s {%llu}\r\n", item->label, (unsigned long long)size));
	o_stream_send(f->client->conn->output, (const unsigned char *)out->data + skip, size);
	return 1;
}

/* BODY[...], RFC822*: returns as fetch_literal(). */
static int fetch_section(struct imap_fetch *f, const struct fetch_item *item)
{
	const struct imap_structure *s = f->structure == NULL ? NULL : f->structure->s;
	int64_t size;
	uint64_t measured;
	bool has_nuls;
	int ret;

	if (imap_fetch_content_section(&f->content, f->msg_pool, s, item, f->rec.size, &size) == 0)
		return fetch_literal(f, item, 0, false);
	if (item_is_root_header(item) && f->structure != NULL && f->structure->header != NULL) {
		/* the first header_size bytes of the file, from the cache or
		   as read for the structure */
		f->content.mem = f->structure->header;
		f->content.mem_size = f->structure->header_size;
		return fetch_section_mem(f, item);
	}
	if (size < 0) {
		ret = imap_fetch_content_measure(&f->content, f->client->box, f->rec.uid,
						 &measured, &has_nuls);
		if (ret <= 0)
			return ret == 0 ? -2 : -1;
		size = (int64_t)measured;
	}
	return fetch_literal(f, item, (uint64_t)size, false);
}

/* BINARY[...] and BINARY.SIZE[...] (RFC 3516): the decoded size must be
   known before the literal starts, so the content is produced twice:
   once measured, once sent. Returns as fetch_literal(), or 1 with
   f->unknown_cte set when the item was left out. */
static int fetch_binary(struct imap_fetch *f, const struct fetch_item *item)
{
	uint64_t size = 0;
	bool has_nuls = false;
	int ret;

	ret = imap_fetch_content_binary(&f->content, f->msg_pool, f->structure->s, item);
	if (ret < 0) {
		f->unknown_cte = true;
		return 1;
	}
	if (ret > 0) {
		ret = imap_fetch_content_measure(&f->content, f->client->box, f->rec.uid,
						 &size, &has_nuls);
		if (ret <= 0)
			return ret == 0 ? -2 : -1;
	}
	if (item->type == FETCH_BINARY_SIZE) {
		fetch_send(f, t_strdup_printf("%s %llu", item->label, (unsigned long long)size));
		return 1;
	}
	/* literal8 when decoding may have made anything of the content,
	   as other servers do; else only for NULs (RFC 3516 §4.2) */
	return fetch_literal(f, item, size, f->content.converted || has_nuls);
}

static void fetch_structure_item(struct imap_fetch *f, const struct fetch_item *item)
{
	/* NULL when the cache answered */
	const struct imap_structure *s = f->structure == NULL ? NULL : f->structure->s;
	string_t *str = t_str_new(1024);

	switch (item->type) {
	case FETCH_ENVELOPE:
		str_append(str, "ENVELOPE (");
		if (f->cached.envelope != NULL)
			str_append(str, f->cached.envelope);
		else
			imap_envelope_write(imap_structure_get_envelope(s, s->root), str);
		break;
	case FETCH_BODY:
		str_append(str, "BODY (");
		if (f->cached.body != NULL)
			str_append(str, f->cached.body);
		else
			imap_bodystructure_write(s, s->root, false, str);
		break;
	case FETCH_BODYSTRUCTURE:
		str_append(str, "BODYSTRUCTURE (");
		if (f->cached.bodystructure != NULL)
			str_append(str, f->cached.bodystructure);
		else
			imap_bodystructure_write(s, s->root, true, str);
		break;
	default:
		i_unreached();
	}
	str_append_c(str, ')');
	fetch_send(f, str_c(str));
}

/* PREVIEW (RFC 8970 §3): from the cache or the parse; NIL only when
   LAZY found none cached (the parse gives "" for a message without
   text). */
static void fetch_preview(struct imap_fetch *f)
{
	const char *preview = f->cached.preview;
	if (preview == NULL && f->structure != NULL)
		preview = f->structure->preview;
	string_t *str = t_str_new(256);
	str_append(str, "PREVIEW ");
	imap_append_nstring(str, preview);
	fetch_send(f, str_c(str));
}

/* Writes one content item. Returns 1 done, 0 output full (streaming),
   -1 error, -2 message expunged. */
static int fetch_item(struct imap_fetch *f, const struct fetch_item *item)
{
	switch (item->type) {
	case FETCH_ENVELOPE:
	case FETCH_BODY:
	case FETCH_BODYSTRUCTURE:
		fetch_structure_item(f, item);
		return 1;
	case FETCH_SECTION:
		return fetch_section(f, item);
	case FETCH_BINARY:
	case FETCH_BINARY_SIZE:
		return fetch_binary(f, item);
	case FETCH_PREVIEW:
		fetch_preview(f);
		return 1;
	default:
		return 1;
	}
}

/* ---- read-ahead ---- */

struct fetch_prefetch_ctx {
	struct imap_fetch *f;
	unsigned int pos;
};

static int fetch_prefetch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct fetch_prefetch_ctx *ctx = context;
	struct imap_fetch *f = ctx->f;
	const uint32_t *seqs = f->seqs + f->pre_start;
	while (ctx->pos < f->pre_count && seqs[ctx->pos] < seq)
		ctx->pos++;
	if (ctx->pos == f->pre_count || seqs[ctx->pos] != seq)
		return 0;
	/* the callback's memory is reused for the next record */
	struct mail_record *copy = &f->pre_recs[ctx->pos++];
	*copy = *rec;
	copy->guid = p_strdup(f->pre_pool, rec->guid);
	unsigned int n = 0;
	while (rec->keywords != NULL && rec->keywords[n] != NULL)
		n++;
	const char **kws = p_new(f->pre_pool, const char *, n + 1);
	for (unsigned int i = 0; i < n; i++)
		kws[i] = p_strdup(f->pre_pool, rec->keywords[i]);
	copy->keywords = kws;
	return 0;
}

/* Reads the records (and cached renderings) of the next messages. */
static int fetch_prefetch(struct imap_fetch *f)
{
	pool_clear(f->pre_pool);
	f->pre_start = f->next;
	f->pre_count = I_MIN(FETCH_PREFETCH, f->count - f->next);
	f->pre_recs = p_new(f->pre_pool, struct mail_record, f->pre_count);
	f->pre_cached = p_new(f->pre_pool, struct mail_cache_fields, f->pre_count);
	struct fetch_prefetch_ctx ctx = { .f = f };
	if (mailbox_foreach_record(f->client->box, f->seqs + f->pre_start, f->pre_count,
				   fetch_prefetch_cb, &ctx) < 0)
		return -1;
	if (!f->cacheable) {
		if (f->need_file)
			mailbox_prefetch_content(f->client->box, f->seqs + f->pre_start,
						 f->pre_count);
		return 0;
	}
	uint32_t *uids = p_new(f->pre_pool, uint32_t, f->pre_count);
	unsigned int *idx = p_new(f->pre_pool, unsigned int, f->pre_count);
	unsigned int n = 0;
	for (unsigned int i = 0; i < f->pre_count; i++) {
		if (f->pre_recs[i].uid != 0) {
			idx[n] = i;
			uids[n++] = f->pre_recs[i].uid;
		}
	}
	struct mail_cache_fields *fields = p_new(f->pre_pool, struct mail_cache_fields, n + 1);
	if (mailbox_cache_get_batch(f->client->box, uids, n, f->want_header, f->pre_pool,
				    fields) < 0) {
		/* the cache is an optimisation: parse instead */
		log_warning(&f->client->conn->log, "cache_read_failed", "messages=%u", n);
		return 0;
	}
	/* the files to read: the messages the cache doesn't answer */
	uint32_t *parse = p_new(f->pre_pool, uint32_t, n + 1);
	unsigned int parse_count = 0;
	for (unsigned int i = 0; i < n; i++) {
		f->pre_cached[idx[i]] = fields[i];
		f->cached = fields[i];
		if (f->need_file || !fetch_cached_has_all(f))
			parse[parse_count++] = f->seqs[f->pre_start + idx[i]];
	}
	memset(&f->cached, 0, sizeof(f->cached));
	mailbox_prefetch_content(f->client->box, parse, parse_count);
	return 0;
}

/* The current message's record from the read-ahead. Returns 1, 0 if it
   was expunged, -1 on error. */
static int fetch_prefetched_record(struct imap_fetch *f)
{
	if (f->next >= f->pre_start + f->pre_count || f->next < f->pre_start) {
		if (fetch_prefetch(f) < 0)
			return -1;
	}
	unsigned int i = f->next - f->pre_start;
	if (f->pre_recs[i].uid == 0)
		return 0;
	f->rec = f->pre_recs[i];
	f->cached = f->pre_cached[i];
	return 1;
}

/* ---- messages ---- */

static int fetch_message_begin(struct imap_fetch *f)
{
	imap_fetch_structure_unref(&f->structure);
	pool_clear(f->msg_pool);
	f->seq = f->seqs[f->next];
	int ret;
	bool cache_hit = false;
	memset(&f->cached, 0, sizeof(f->cached));
	if (f->prefetch) {
		ret = fetch_prefetched_record(f);
		cache_hit = f->cacheable && fetch_cached_has_all(f);
	} else {
		ret = mailbox_get_record(f->client->box, f->seq, f->msg_pool, &f->rec);
		if (ret > 0 && f->cacheable)
			cache_hit = fetch_cache_lookup(f);
	}
	if (ret <= 0)
		return ret;
	if (cache_hit && f->want_header) {
		/* the header sections come from the cached block */
		f->structure = imap_fetch_structure_from_header(f->cached.header,
								f->cached.header_size);
	} else if (f->need_structure && !cache_hit) {
		ret = imap_fetch_structure_get(f->client, &f->rec, f->header_only, &f->structure);
		if (ret <= 0)
			return ret;
		if (f->cacheable)
			fetch_cache_fill(f);
	}
	string_t *str = t_str_new(256);
	imap_uidonly_fetch_begin(f->client, str, f->seq, f->rec.uid);
	f->first = !fetch_write_meta(f, &f->rec, f->seq, str, f->add_flags);
	o_stream_send(f->client->conn->output, str_data(str), str_len(str));
	f->in_message = true;
	f->item_idx = 0;
	return 1;
}

/* Continues the current message's content items. f->item_idx is the next
   item to write, or the one being streamed. */
static int fetch_message_more(struct imap_fetch *f, const char **error_r)
{
	int result = 1;
	for (; f->item_idx < f->items->count; f->item_idx++) {
		const struct fetch_item *item = &f->items->v[f->item_idx];
		if (item->type <= FETCH_RFC822_SIZE)
			continue;
		int ret = f->streaming ? fetch_stream_more(f) : fetch_item(f, item);
		if (ret == 0)
			return 0; /* resumes with the same item */
		if (ret < 0) {
			*error_r = imap_storage_error_reply(f->client);
			if (ret == -1)
				result = -1;
			if (!f->streaming && item->label != NULL && ret == -2)
				fetch_send(f, t_strdup_printf("%s NIL", item->label));
			imap_fetch_content_close(&f->content);
			f->streaming = false;
		}
	}
	if (f->first) {
		/* "FETCH ()" isn't allowed (RFC 9051 §7.5.2) */
		fetch_send(f, t_strdup_printf("UID %u", f->rec.uid));
	}
	return result;
}

static int fetch_more_messages(struct imap_fetch *f, const char **error_r)
{
	struct ostream *output = f->client->conn->output;
	while (f->next < f->count || f->in_message) {
		if (o_stream_is_full(output))
			return 0;
		if (!f->in_message) {
			/* between two responses: the only place another may go */
			imap_progress_update(&f->progress, f->next, f->count);
			int ret = fetch_message_begin(f);
			if (ret < 0) {
				*error_r = imap_storage_error_reply(f->client);
				return -1;
			}
			if (ret == 0) {
				f->expunged++;
				f->next++;
				continue;
			}
		}
		int ret = fetch_message_more(f, error_r);
		if (ret == 0)
			return 0;
		o_stream_send_str(output, ")\r\n");
		f->in_message = false;
		f->next++;
		if (ret < 0)
			return -1;
	}
	if (f->unknown_cte) {
		*error_r = "NO [UNKNOWN-CTE] A part has a Content-Transfer-Encoding "
			"that can't be decoded.";
		return -1;
	}
	return 1;
}

int imap_fetch_more(struct imap_fetch *f, const char **error_r)
{
	struct ostream *output = f->client->conn->output;
	int ret;

	if (!f->need_content)
		return fetch_more_batched(f, error_r);
	/* many small writes per message: one write per buffer-full instead
	   of a system call each. When the buffer filled up while corked but
	   uncorking sent it all, no drain event will come: go on at once. */
	do {
		o_stream_cork(output);
		ret = fetch_more_messages(f, error_r);
		o_stream_uncork(output);
	} while (ret == 0 && !o_stream_is_full(output) && !o_stream_is_failed(output));
	return ret;
}
