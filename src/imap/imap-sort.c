/* The SORT engine: the matches of a search program with their sort and
 * thread keys from the index (mailbox_search_foreach_keys() and the
 * message records, each read only as far as the criteria need), and
 * the RFC 5256 §3 comparison. */
#include "imap-sort.h"
#include "imap-arg.h"
#include "imap-search.h"
#include "search-keys.h"

#include <strings.h>

struct sort_ctx {
	struct imap_client *client;
	pool_t pool;
	struct imap_sort_msg *msgs;
	unsigned int count, next;
	const struct imap_sort_spec *specs;
	unsigned int spec_count;
};

static const char *sort_strdup(pool_t pool, const char *s)
{
	return s == NULL ? NULL : p_strdup(pool, s);
}

/* The next message (ascending) with this sequence number, or NULL. */
static struct imap_sort_msg *sort_find_seq(struct sort_ctx *ctx, uint32_t seq)
{
	while (ctx->next < ctx->count && ctx->msgs[ctx->next].seq < seq)
		ctx->next++;
	if (ctx->next == ctx->count || ctx->msgs[ctx->next].seq != seq)
		return NULL;
	return &ctx->msgs[ctx->next++];
}

static int sort_record_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct imap_sort_msg *m = sort_find_seq(context, seq);
	if (m != NULL) {
		m->internal_date = rec->internal_date;
		m->size = rec->size;
		if (!m->has_date)
			m->date = rec->internal_date;
	}
	return 0;
}

/* Merges the keys (ascending UIDs) into the messages (ascending UIDs). */
static int sort_keys_cb(uint32_t uid, const struct search_keys *keys, void *context)
{
	struct sort_ctx *ctx = context;
	while (ctx->next < ctx->count && ctx->msgs[ctx->next].uid < uid)
		ctx->next++;
	if (ctx->next == ctx->count || ctx->msgs[ctx->next].uid != uid)
		return 0;
	struct imap_sort_msg *m = &ctx->msgs[ctx->next++];
	m->has_date = keys->has_sent_date;
	if (keys->has_sent_date)
		m->date = keys->sent_date;
	/* only the fields asked for are read, the others are "" or NULL */
	m->from = p_strdup(ctx->pool, keys->from_addr);
	m->to = p_strdup(ctx->pool, keys->to_addr);
	m->cc = p_strdup(ctx->pool, keys->cc_addr);
	m->display_from = p_strdup(ctx->pool, keys->from_display);
	m->display_to = p_strdup(ctx->pool, keys->to_display);
	m->subject = p_strdup(ctx->pool, keys->subject);
	m->subject_reply = keys->subject_is_reply;
	m->message_id = sort_strdup(ctx->pool, keys->message_id);
	m->in_reply_to = sort_strdup(ctx->pool, keys->in_reply_to);
	m->references = sort_strdup(ctx->pool, keys->references);
	return 0;
}

/* Reads the records the keys need: all of them for ARRIVAL and SIZE
   (all_records), else only those of messages without a Date: header,
   whose DATE is their internal date (RFC 5256 §3). */
static int sort_load_records(struct sort_ctx *ctx, bool all_records)
{
	array_uint32_t seqs;
	array_init(&seqs, ctx->pool, all_records ? ctx->count : 64);
	for (unsigned int i = 0; i < ctx->count; i++) {
		if (all_records || !ctx->msgs[i].has_date)
			array_push(&seqs, ctx->msgs[i].seq);
	}
	ctx->next = 0;
	if (seqs.count == 0)
		return 0;
	return mailbox_foreach_record(ctx->client->box, seqs.v, seqs.count, sort_record_cb, ctx);
}

int imap_sort_load(struct imap_client *client, struct search_key *key, unsigned int fields,
		   bool all_records, pool_t pool, struct imap_sort_msg **msgs_r,
		   unsigned int *count_r)
{
	array_uint32_t seqs;
	if (imap_search_run(client, key, pool, &seqs) < 0 ||
	    mailbox_search_update(client->box) < 0)
		return -1;
	struct sort_ctx ctx = { .client = client, .pool = pool, .count = seqs.count };
	ctx.msgs = p_new(pool, struct imap_sort_msg, seqs.count + 1);
	for (unsigned int i = 0; i < seqs.count; i++) {
		struct imap_sort_msg *m = &ctx.msgs[i];
		m->seq = seqs.v[i];
		m->uid = mailbox_view_uid(client->box, m->seq);
		m->from = m->to = m->cc = m->display_from = m->display_to = m->subject = "";
	}
	if (seqs.count > 0 &&
	    (mailbox_search_foreach_keys(client->box, fields, sort_keys_cb, &ctx) < 0 ||
	     sort_load_records(&ctx, all_records) < 0))
		return -1;
	*msgs_r = ctx.msgs;
	*count_r = ctx.count;
	return 0;
}

int imap_sort_parse_criteria(const struct imap_arg *arg, struct imap_sort_spec *specs,
			     unsigned int *count_r)
{
	static const struct { const char *name; enum imap_sort_criterion c; } names[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC }, { "DATE", IMAP_SORT_DATE },
		{ "FROM", IMAP_SORT_FROM }, { "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO }, { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	const struct imap_arg *list;
	unsigned int count, n = 0;
	bool reverse = false;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		if (!imap_arg_get_atom(&list[i], &atom))
			return -1;
		if (strcasecmp(atom, "REVERSE") == 0) {
			if (reverse)
				return -1;
			reverse = true;
			continue;
		}
		unsigned int j;
		for (j = 0; j < N_ELEMENTS(names); j++) {
			if (strcasecmp(atom, names[j].name) == 0)
				break;
		}
		if (j == N_ELEMENTS(names) || n == IMAP_SORT_MAX_CRITERIA)
			return -1;
		specs[n].criterion = names[j].c;
		specs[n++].reverse = reverse;
		reverse = false;
	}
	if (reverse)
		return -1;
	*count_r = n;
	return 0;
}

/* The keys (enum search_key_fields) a criterion compares; sets
   *all_records_r if it needs every message's record. */
static unsigned int sort_criterion_fields(enum imap_sort_criterion c, bool *all_records_r)
{
	switch (c) {
	case IMAP_SORT_ARRIVAL:
	case IMAP_SORT_SIZE:
		*all_records_r = true;
		return 0;
	case IMAP_SORT_DATE: return SEARCH_KEYS_DATE;
	case IMAP_SORT_CC: case IMAP_SORT_FROM: case IMAP_SORT_TO: return SEARCH_KEYS_ADDR;
	case IMAP_SORT_SUBJECT: return SEARCH_KEYS_SUBJECT;
	case IMAP_SORT_DISPLAYFROM: case IMAP_SORT_DISPLAYTO: return SEARCH_KEYS_DISPLAY;
	}
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_compare_one(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
			    enum imap_sort_criterion c)
{
	switch (c) {
	case IMAP_SORT_ARRIVAL: return cmp_u64((uint64_t)a->internal_date, (uint64_t)b->internal_date);
	case IMAP_SORT_DATE: return a->date < b->date ? -1 : a->date > b->date;
	case IMAP_SORT_SIZE: return cmp_u64(a->size, b->size);
	case IMAP_SORT_CC: return strcmp(a->cc, b->cc);
	case IMAP_SORT_FROM: return strcmp(a->from, b->from);
	case IMAP_SORT_TO: return strcmp(a->to, b->to);
	case IMAP_SORT_SUBJECT: return strcmp(a->subject, b->subject);
	case IMAP_SORT_DISPLAYFROM: return strcmp(a->display_from, b->display_from);
	case IMAP_SORT_DISPLAYTO: return strcmp(a->display_to, b->display_to);
	}
	return 0;
}

static int sort_compare(const void *p1, const void *p2, void *context)
{
	const struct sort_ctx *ctx = context;
	const struct imap_sort_msg *a = p1, *b = p2;
	for (unsigned int i = 0; i < ctx->spec_count; i++) {
		int r = sort_compare_one(a, b, ctx->specs[i].criterion);
		if (r != 0)
			return ctx->specs[i].reverse ? -r : r;
	}
	/* RFC 5256 §3: ties go in mailbox order */
	return cmp_u64(a->seq, b->seq);
}


int imap_sort_run(struct imap_client *client, struct search_key *key,
		  const struct imap_sort_spec *specs, unsigned int spec_count, pool_t pool,
		  array_uint32_t *seqs_r)
{
	unsigned int fields = SEARCH_KEYS_DATE;
	bool all_records = false;
	for (unsigned int i = 0; i < spec_count; i++)
		fields |= sort_criterion_fields(specs[i].criterion, &all_records);
	struct sort_ctx ctx = { .specs = specs, .spec_count = spec_count };
	if (imap_sort_load(client, key, fields, all_records, pool, &ctx.msgs, &ctx.count) < 0)
		return -1;
	qsort_r(ctx.msgs, ctx.count, sizeof(ctx.msgs[0]), sort_compare, &ctx);
	array_init(seqs_r, pool, ctx.count + 1);
	for (unsigned int i = 0; i < ctx.count; i++)
		array_push(seqs_r, ctx.msgs[i].seq);
	return 0;
}
