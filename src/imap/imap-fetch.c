/* The FETCH response producer: per-message responses, message content
 * streamed as literals in CRLF form, and a batched path for the common
 * metadata-only FETCH (UID FLAGS ...) that reads records in one index
 * query per batch. */
#include "imap-fetch.h"
#include "date.h"
#include "imap-storage.h"
#include "istream.h"

/* messages per index query on the metadata-only path */
#define FETCH_BATCH 1024
#define FETCH_HEADER_MAX (1024 * 1024)
#define FETCH_STREAM_CHUNK (64 * 1024)

struct imap_fetch {
	struct imap_cmd *cmd;
	struct imap_client *client;
	const fetch_items_t *items;
	const uint32_t *seqs;
	unsigned int count, next;
	bool need_content, add_flags;
	unsigned int expunged;

	/* the message being written */
	bool in_message;
	uint32_t seq;
	struct mail_record rec;
	pool_t msg_pool;
	buffer_t *header; /* physical header block, NULL until read */
	unsigned int item_idx;

	/* a literal being streamed from the message file */
	struct istream *input;
	uint64_t skip, left;
	bool prev_cr;
};

struct imap_fetch *imap_fetch_begin(struct imap_cmd *cmd, const fetch_items_t *items,
				    const array_uint32_t *seqs)
{
	struct imap_fetch *f = p_new(cmd->pool, struct imap_fetch, 1);
	f->cmd = cmd;
	f->client = cmd->client;
	f->items = items;
	f->seqs = seqs->v;
	f->count = seqs->count;
	for (unsigned int i = 0; i < items->count; i++) {
		if (items->v[i].type != FETCH_SECTION)
			continue;
		f->need_content = true;
		if (!items->v[i].peek && !mailbox_is_readonly(f->client->box))
			f->add_flags = true;
	}
	f->msg_pool = pool_create("fetch message", 4096);
	return f;
}

void imap_fetch_end(struct imap_fetch **_f)
{
	struct imap_fetch *f = *_f;
	if (f == NULL)
		return;
	*_f = NULL;
	i_stream_destroy(&f->input);
	pool_destroy(&f->msg_pool);
}

unsigned int imap_fetch_get_expunged_count(const struct imap_fetch *f)
{
	return f->expunged;
}

/* Appends the non-content items for rec to str. */
static void fetch_write_meta(struct imap_fetch *f, const struct mail_record *rec, uint32_t seq,
			     string_t *str, bool force_flags)
{
	bool flags_done = false;
	for (unsigned int i = 0; i < f->items->count; i++) {
		const struct fetch_item *item = &f->items->v[i];
		size_t before = str_len(str);
		switch (item->type) {
		case FETCH_UID:
			str_printfa(str, "UID %u", rec->uid);
			break;
		case FETCH_FLAGS:
			str_append(str, "FLAGS ");
			imap_flags_write(str, rec->flags, rec->keywords,
					 !f->client->enabled_imap4rev2 &&
					 mailbox_view_is_recent(f->client->box, seq));
			flags_done = true;
			break;
		case FETCH_INTERNALDATE:
			str_printfa(str, "INTERNALDATE \"%s\"",
				    imap_date_time_format(rec->internal_date, rec->internal_date_tz));
			break;
		case FETCH_RFC822_SIZE:
			str_printfa(str, "RFC822.SIZE %llu", (unsigned long long)rec->size);
			break;
		case FETCH_SECTION:
			continue;
		}
		if (str_len(str) > before)
			str_append_c(str, ' ');
	}
	if (force_flags && !flags_done) {
		/* RFC 9051 §6.4.5: \Seen set implicitly is reported */
		str_append(str, "FLAGS ");
		imap_flags_write(str, rec->flags, rec->keywords,
				 !f->client->enabled_imap4rev2 &&
				 mailbox_view_is_recent(f->client->box, seq));
		str_append_c(str, ' ');
	}
}

struct fetch_batch_ctx {
	struct imap_fetch *f;
	string_t *str;
};

static int fetch_batch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct fetch_batch_ctx *ctx = context;
	string_t *str = ctx->str;
	str_printfa(str, "* %u FETCH (", seq);
	fetch_write_meta(ctx->f, rec, seq, str, false);
	if (str_data(str)[str_len(str) - 1] == ' ')
		str_truncate(str, str_len(str) - 1);
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
		int ret = mailbox_foreach_record(f->client->box, f->seqs + f->next, n,
						 fetch_batch_cb, &ctx);
		if (ret == 0)
			o_stream_send(output, str_data(ctx.str), str_len(ctx.str));
		str_free(&ctx.str);
		if (ret < 0) {
			*error_r = imap_storage_error_reply(f->client);
			return -1;
		}
		f->next += n;
	}
	return 1;
}

/* Reads the physical header block of the current message. */
static int fetch_read_header(struct imap_fetch *f)
{
	if (f->header != NULL)
		return 1;
	struct istream *input;
	uint64_t phys_size;
	int ret = mailbox_open_message(f->client->box, f->rec.uid, &input, &phys_size);
	if (ret <= 0)
		return ret;
	f->header = buffer_create(f->msg_pool, 4096);
	size_t hdr_size = 0;
	for (;;) {
		ssize_t r = i_stream_read(input);
		size_t size;
		const unsigned char *data = i_stream_get_data(input, &size);
		bool eof = r == -1 || f->header->used + size >= FETCH_HEADER_MAX;
		hdr_size = imap_header_block_size(data, size, eof);
		if (hdr_size > 0 || eof || r == -2) {
			if (hdr_size == 0)
				hdr_size = size;
			buffer_append(f->header, data, hdr_size);
			break;
		}
	}
	bool failed = i_stream_get_error(input) != 0;
	i_stream_destroy(&input);
	return failed ? -1 : 1;
}

/* Starts streaming a literal of the message file: physical offset
   phys_start, then skip CRLF bytes and send size bytes. */
static int fetch_stream_start(struct imap_fetch *f, uint64_t phys_start, uint64_t skip,
			      uint64_t size)
{
	uint64_t phys_size;
	int ret = mailbox_open_message(f->client->box, f->rec.uid, &f->input, &phys_size);
	if (ret <= 0)
		return ret;
	/* skip the physical header bytes for TEXT */
	while (phys_start > 0) {
		size_t avail = i_stream_get_data_size(f->input);
		if (avail == 0 && i_stream_read(f->input) < 0 && i_stream_get_data_size(f->input) == 0)
			break;
		avail = i_stream_get_data_size(f->input);
		size_t n = (size_t)I_MIN((uint64_t)avail, phys_start);
		i_stream_skip(f->input, n);
		phys_start -= n;
	}
	f->skip = skip;
	f->left = size;
	f->prev_cr = false;
	return 1;
}

/* Sends streamed literal bytes. Returns 1 when the literal is complete,
   0 when the output is full. */
static int fetch_stream_more(struct imap_fetch *f)
{
	struct ostream *output = f->client->conn->output;
	string_t *chunk = t_str_new(FETCH_STREAM_CHUNK + 1024);
	while (f->left > 0) {
		if (o_stream_is_full(output))
			return 0;
		size_t size;
		const unsigned char *data = i_stream_get_data(f->input, &size);
		if (size == 0) {
			ssize_t r = i_stream_read(f->input);
			data = i_stream_get_data(f->input, &size);
			if (r == -1 && size == 0) {
				/* the file is shorter than the index says: keep the
				   protocol in sync and log it */
				log_error(&f->client->conn->log, "fetch_short_message",
					  "uid=%u missing=%llu", f->rec.uid,
					  (unsigned long long)f->left);
				while (f->left > 0) {
					size_t n = (size_t)I_MIN(f->left, 1024);
					char pad[1024];
					memset(pad, ' ', n);
					o_stream_send(output, pad, n);
					f->left -= n;
				}
				break;
			}
		}
		size = I_MIN(size, FETCH_STREAM_CHUNK);
		str_truncate(chunk, 0);
		for (size_t i = 0; i < size; i++) {
			if (data[i] == '\n' && !f->prev_cr)
				str_append_c(chunk, '\r');
			str_append_c(chunk, (char)data[i]);
			f->prev_cr = data[i] == '\r';
		}
		i_stream_skip(f->input, size);
		const unsigned char *out = str_data(chunk);
		size_t out_size = str_len(chunk);
		if (f->skip > 0) {
			size_t n = (size_t)I_MIN((uint64_t)out_size, f->skip);
			out += n;
			out_size -= n;
			f->skip -= n;
		}
		out_size = (size_t)I_MIN((uint64_t)out_size, f->left);
		o_stream_send(output, out, out_size);
		f->left -= out_size;
	}
	i_stream_destroy(&f->input);
	return 1;
}

static void fetch_send_literal_header(struct imap_fetch *f, const struct fetch_item *item,
				      uint64_t size)
{
	o_stream_printf(f->client->conn->output, "%s {%llu}\r\n", item->label,
			(unsigned long long)size);
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

/* Writes one section item. Returns 1 done, 0 output full (streaming),
   -1 error, -2 message expunged. */
static int fetch_section(struct imap_fetch *f, const struct fetch_item *item)
{
	struct ostream *output = f->client->conn->output;
	int ret;
	if (item->section == SECTION_ALL) {
		uint64_t skip, size = fetch_partial(item, f->rec.size, &skip);
		/* open before the literal header: a failure must not leave a
		   promised literal unsent */
		if ((ret = fetch_stream_start(f, 0, skip, size)) <= 0)
			return ret == 0 ? -2 : -1;
		fetch_send_literal_header(f, item, size);
		return fetch_stream_more(f);
	}
	if ((ret = fetch_read_header(f)) <= 0)
		return ret == 0 ? -2 : -1;
	uint64_t header_crlf = imap_crlf_size(f->header->data, f->header->used);
	if (item->section == SECTION_TEXT) {
		uint64_t total = f->rec.size > header_crlf ? f->rec.size - header_crlf : 0;
		uint64_t skip, size = fetch_partial(item, total, &skip);
		if ((ret = fetch_stream_start(f, f->header->used, skip, size)) <= 0)
			return ret == 0 ? -2 : -1;
		fetch_send_literal_header(f, item, size);
		return fetch_stream_more(f);
	}
	string_t *text = t_str_new(f->header->used + 64);
	if (item->section == SECTION_HEADER)
		imap_append_crlf(text, f->header->data, f->header->used);
	else
		imap_header_filter(f->header->data, f->header->used, item->fields,
				   item->section == SECTION_HEADER_FIELDS_NOT, text);
	uint64_t skip, size = fetch_partial(item, str_len(text), &skip);
	fetch_send_literal_header(f, item, size);
	o_stream_send(output, str_data(text) + skip, (size_t)size);
	return 1;
}

static int fetch_message_begin(struct imap_fetch *f)
{
	pool_clear(f->msg_pool);
	f->header = NULL;
	f->seq = f->seqs[f->next];
	int ret = mailbox_get_record(f->client->box, f->seq, f->msg_pool, &f->rec);
	if (ret <= 0)
		return ret;
	string_t *str = t_str_new(256);
	str_printfa(str, "* %u FETCH (", f->seq);
	fetch_write_meta(f, &f->rec, f->seq, str, f->add_flags);
	o_stream_send(f->client->conn->output, str_data(str), str_len(str));
	f->in_message = true;
	f->item_idx = 0;
	return 1;
}

static unsigned int fetch_last_section_idx(const struct imap_fetch *f)
{
	unsigned int last = 0;
	for (unsigned int i = 0; i < f->items->count; i++) {
		if (f->items->v[i].type == FETCH_SECTION)
			last = i;
	}
	return last;
}

/* Continues the current message's content items. f->item_idx is the next
   item to write, or the one being streamed while f->input is set. */
static int fetch_message_more(struct imap_fetch *f, const char **error_r)
{
	struct ostream *output = f->client->conn->output;
	unsigned int last = fetch_last_section_idx(f);
	int result = 1;
	for (; f->item_idx < f->items->count; f->item_idx++) {
		const struct fetch_item *item = &f->items->v[f->item_idx];
		if (item->type != FETCH_SECTION)
			continue;
		int ret = f->input != NULL ? fetch_stream_more(f) : fetch_section(f, item);
		if (ret == 0)
			return 0; /* resumes with the same item */
		if (ret < 0) {
			/* the response has started: end the item cleanly */
			*error_r = imap_storage_error_reply(f->client);
			i_stream_destroy(&f->input);
			o_stream_send_str(output, "NIL");
			if (ret == -1)
				result = -1;
		}
		if (f->item_idx < last)
			o_stream_send_str(output, " ");
	}
	return result;
}

int imap_fetch_more(struct imap_fetch *f, const char **error_r)
{
	if (!f->need_content)
		return fetch_more_batched(f, error_r);
	struct ostream *output = f->client->conn->output;
	while (f->next < f->count || f->in_message) {
		if (o_stream_is_full(output))
			return 0;
		if (!f->in_message) {
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
	return 1;
}
