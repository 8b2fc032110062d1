/* SORT, UID SORT (RFC 5256 §3, with SORT=DISPLAY of RFC 5957) and THREAD,
 * UID THREAD (RFC 5256 §3: ORDEREDSUBJECT, REFERENCES; and REFS). The
 * messages come from a search program; their sort and thread keys from
 * the index (mailbox_search_foreach_keys()), so no message is read. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-search.h"
#include "imap-storage.h"
#include "search-keys.h"
#include "search-thread.h"

#include <strings.h>

#define SORT_MAX_CRITERIA 16

enum sort_criterion {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT, SORT_TO,
	SORT_DISPLAYFROM, SORT_DISPLAYTO,
};

struct sort_spec {
	enum sort_criterion criterion;
	bool reverse;
};

/* One matched message with what sorting and threading compare. */
struct sort_msg {
	uint32_t seq, uid;
	time_t internal_date, date;
	uint64_t size;
	const char *from, *to, *cc, *display_from, *display_to, *subject;
	const char *message_id, *in_reply_to, *references;
	bool subject_reply, has_date;
};

struct sort_ctx {
	struct imap_client *client;
	pool_t pool;
	struct sort_msg *msgs;
	unsigned int count, next;
	const struct sort_spec *specs;
	unsigned int spec_count;
};

static const char *sort_strdup(pool_t pool, const char *s)
{
	return s == NULL ? NULL : p_strdup(pool, s);
}

/* The next message (ascending) with this sequence number, or NULL. */
static struct sort_msg *sort_find_seq(struct sort_ctx *ctx, uint32_t seq)
{
	while (ctx->next < ctx->count && ctx->msgs[ctx->next].seq < seq)
		ctx->next++;
	if (ctx->next == ctx->count || ctx->msgs[ctx->next].seq != seq)
		return NULL;
	return &ctx->msgs[ctx->next++];
}

static int sort_record_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct sort_msg *m = sort_find_seq(context, seq);
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
	struct sort_msg *m = &ctx->msgs[ctx->next++];
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

/* Searches, then loads the keys (enum search_key_fields) and, if
   all_records, every record of the matches. */
static int sort_load(struct imap_cmd *cmd, const struct imap_arg *search_args,
		     const char *charset, unsigned int fields, bool all_records,
		     struct sort_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	struct search_key *key;
	const char *error;
	if (imap_search_parse_charset(client, search_args, charset, cmd->pool, &key,
				      &error) < 0) {
		if (strncmp(error, "BAD ", 4) == 0)
			imap_cmd_bad(cmd, error + 4);
		else
			imap_cmd_finish(cmd, "%s", error);
		return 0;
	}
	array_uint32_t seqs;
	if (imap_search_run(client, key, cmd->pool, &seqs) < 0 ||
	    mailbox_search_update(client->box) < 0) {
		imap_cmd_storage_error(cmd);
		return 0;
	}
	ctx->client = client;
	ctx->pool = cmd->pool;
	ctx->count = seqs.count;
	ctx->msgs = p_new(cmd->pool, struct sort_msg, seqs.count + 1);
	for (unsigned int i = 0; i < seqs.count; i++) {
		struct sort_msg *m = &ctx->msgs[i];
		m->seq = seqs.v[i];
		m->uid = mailbox_view_uid(client->box, m->seq);
		m->from = m->to = m->cc = m->display_from = m->display_to = m->subject = "";
	}
	ctx->next = 0;
	if (seqs.count > 0 &&
	    (mailbox_search_foreach_keys(client->box, fields, sort_keys_cb, ctx) < 0 ||
	     sort_load_records(ctx, all_records) < 0)) {
		imap_cmd_storage_error(cmd);
		return 0;
	}
	return 1;
}

/* The charset argument of SORT and THREAD (RFC 5256 §3): the search
   program's strings are in it. */
static bool sort_charset_ok(struct imap_cmd *cmd, const struct imap_arg *arg,
			    const char **charset_r)
{
	const char *charset;
	if (!imap_arg_get_astring(arg, &charset)) {
		imap_cmd_bad(cmd, "Missing charset.");
		return false;
	}
	if (!imap_search_charset_is_supported(charset)) {
		imap_cmd_finish(cmd, "%s", IMAP_SEARCH_BADCHARSET_REPLY);
		return false;
	}
	*charset_r = charset;
	return true;
}

static int sort_parse_specs(const struct imap_arg *arg, struct sort_spec *specs,
			    unsigned int *count_r)
{
	static const struct { const char *name; enum sort_criterion c; } names[] = {
		{ "ARRIVAL", SORT_ARRIVAL }, { "CC", SORT_CC }, { "DATE", SORT_DATE },
		{ "FROM", SORT_FROM }, { "SIZE", SORT_SIZE }, { "SUBJECT", SORT_SUBJECT },
		{ "TO", SORT_TO }, { "DISPLAYFROM", SORT_DISPLAYFROM },
		{ "DISPLAYTO", SORT_DISPLAYTO },
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
		if (j == N_ELEMENTS(names) || n == SORT_MAX_CRITERIA)
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
static unsigned int sort_criterion_fields(enum sort_criterion c, bool *all_records_r)
{
	switch (c) {
	case SORT_ARRIVAL:
	case SORT_SIZE:
		*all_records_r = true;
		return 0;
	case SORT_DATE: return SEARCH_KEYS_DATE;
	case SORT_CC: case SORT_FROM: case SORT_TO: return SEARCH_KEYS_ADDR;
	case SORT_SUBJECT: return SEARCH_KEYS_SUBJECT;
	case SORT_DISPLAYFROM: case SORT_DISPLAYTO: return SEARCH_KEYS_DISPLAY;
	}
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_compare_one(const struct sort_msg *a, const struct sort_msg *b,
			    enum sort_criterion c)
{
	switch (c) {
	case SORT_ARRIVAL: return cmp_u64((uint64_t)a->internal_date, (uint64_t)b->internal_date);
	case SORT_DATE: return a->date < b->date ? -1 : a->date > b->date;
	case SORT_SIZE: return cmp_u64(a->size, b->size);
	case SORT_CC: return strcmp(a->cc, b->cc);
	case SORT_FROM: return strcmp(a->from, b->from);
	case SORT_TO: return strcmp(a->to, b->to);
	case SORT_SUBJECT: return strcmp(a->subject, b->subject);
	case SORT_DISPLAYFROM: return strcmp(a->display_from, b->display_from);
	case SORT_DISPLAYTO: return strcmp(a->display_to, b->display_to);
	}
	return 0;
}

static int sort_compare(const void *p1, const void *p2, void *context)
{
	const struct sort_ctx *ctx = context;
	const struct sort_msg *a = p1, *b = p2;
	for (unsigned int i = 0; i < ctx->spec_count; i++) {
		int r = sort_compare_one(a, b, ctx->specs[i].criterion);
		if (r != 0)
			return ctx->specs[i].reverse ? -r : r;
	}
	/* RFC 5256 §3: ties go in mailbox order */
	return cmp_u64(a->seq, b->seq);
}

bool imap_cmd_sort(struct imap_cmd *cmd)
{
	bool uid = cmd->name[0] == 'U';
	struct sort_spec specs[SORT_MAX_CRITERIA];
	struct sort_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	if (sort_parse_specs(&cmd->args[0], specs, &ctx.spec_count) < 0) {
		imap_cmd_bad(cmd, "Invalid sort criteria.");
		return true;
	}
	unsigned int fields = SEARCH_KEYS_DATE;
	bool all_records = false;
	for (unsigned int i = 0; i < ctx.spec_count; i++)
		fields |= sort_criterion_fields(specs[i].criterion, &all_records);
	const char *charset;
	if (!sort_charset_ok(cmd, &cmd->args[1], &charset) ||
	    sort_load(cmd, cmd->args + 2, charset, fields, all_records, &ctx) == 0)
		return true;
	ctx.specs = specs;
	qsort_r(ctx.msgs, ctx.count, sizeof(ctx.msgs[0]), sort_compare, &ctx);
	string_t *str = t_str_new(ctx.count * 7 + 16);
	str_append(str, "* SORT");
	for (unsigned int i = 0; i < ctx.count; i++) {
		str_append_c(str, ' ');
		str_append_uint(str, uid ? ctx.msgs[i].uid : ctx.msgs[i].seq);
	}
	str_append(str, "\r\n");
	o_stream_send(cmd->client->conn->output, str_data(str), str_len(str));
	imap_cmd_finish(cmd, "OK Sort completed.");
	return true;
}

bool imap_cmd_thread(struct imap_cmd *cmd)
{
	bool uid = cmd->name[0] == 'U';
	const char *name;
	enum search_thread_algorithm alg;
	struct sort_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	if (!imap_arg_get_atom(&cmd->args[0], &name) ||
	    !search_thread_algorithm_parse(name, &alg)) {
		imap_cmd_bad(cmd, "Unknown thread algorithm.");
		return true;
	}
	const char *charset;
	if (!sort_charset_ok(cmd, &cmd->args[1], &charset) ||
	    sort_load(cmd, cmd->args + 2, charset,
		      SEARCH_KEYS_DATE | SEARCH_KEYS_SUBJECT | SEARCH_KEYS_THREAD, false,
		      &ctx) == 0)
		return true;
	struct search_thread_msg *tmsgs = p_new(cmd->pool, struct search_thread_msg, ctx.count + 1);
	for (unsigned int i = 0; i < ctx.count; i++) {
		const struct sort_msg *m = &ctx.msgs[i];
		tmsgs[i] = (struct search_thread_msg){
			.id = uid ? m->uid : m->seq, .sent_date = m->date,
			.message_id = m->message_id, .in_reply_to = m->in_reply_to,
			.references = m->references, .base_subject = m->subject,
			.subject_is_reply = m->subject_reply,
		};
	}
	struct search_thread_node *roots;
	if (search_thread_build(cmd->pool, alg, tmsgs, ctx.count, &roots) < 0) {
		imap_cmd_finish(cmd, "NO [SERVERBUG] Threading failed.");
		return true;
	}
	string_t *str = t_str_new(ctx.count * 8 + 16);
	str_append(str, "* THREAD ");
	search_thread_write(str, roots);
	/* "* THREAD" with nothing after it when no message matched */
	if (ctx.count == 0)
		str_truncate(str, str_len(str) - 1);
	str_append(str, "\r\n");
	o_stream_send(cmd->client->conn->output, str_data(str), str_len(str));
	imap_cmd_finish(cmd, "OK Thread completed.");
	return true;
}
