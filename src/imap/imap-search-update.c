/* RFC 5267 §4.3 update contexts. Each context keeps its result as UIDs in
 * result order (mailbox order for SEARCH, sort order for SORT). When the
 * mailbox changed, the program runs again and the difference goes out as
 * REMOVEFROM then ADDTO; since a message's sort keys never change, the
 * results both lists share stay in the same relative order, so removing
 * then inserting by position turns the old list into the new one. */
#include "imap-search-update.h"
#include "imap-search.h"
#include "imap-search-return.h"
#include "imap-commands.h"

#include <stdlib.h>

struct imap_search_update {
	struct imap_search_update *next;
	pool_t pool;
	const char *tag;
	bool uid;
	struct search_key *key;
	struct imap_sort_spec specs[IMAP_SORT_MAX_CRITERIA];
	unsigned int spec_count; /* 0: SEARCH */
	array_uint32_t uids;     /* the result the client has, in result order */
	/* the mailbox as of that result */
	uint64_t modseq;
	uint32_t messages, uidnext;
};

static void update_stamp(struct imap_search_update *ctx, struct mailbox *box)
{
	const struct mailbox_status *st = mailbox_get_view_status(box);
	ctx->modseq = st->highestmodseq;
	ctx->messages = st->messages;
	ctx->uidnext = st->uidnext;
}

static bool update_stamp_changed(const struct imap_search_update *ctx, struct mailbox *box)
{
	const struct mailbox_status *st = mailbox_get_view_status(box);
	return ctx->modseq != st->highestmodseq || ctx->messages != st->messages ||
		ctx->uidnext != st->uidnext;
}

static struct imap_search_update **update_find(struct imap_client *client, const char *tag)
{
	struct imap_search_update **p = &client->search_updates;
	while (*p != NULL && strcmp((*p)->tag, tag) != 0)
		p = &(*p)->next;
	return p;
}

static void update_free(struct imap_search_update *ctx)
{
	array_free(&ctx->uids);
	pool_destroy(&ctx->pool);
}

bool imap_search_update_exists(struct imap_client *client, const char *tag)
{
	return *update_find(client, tag) != NULL;
}

bool imap_search_update_add(struct imap_client *client, const char *tag, bool uid, pool_t pool,
			    struct search_key *key, const struct imap_sort_spec *specs,
			    unsigned int spec_count, const uint32_t *seqs, unsigned int count)
{
	unsigned int n = 0;
	for (struct imap_search_update *u = client->search_updates; u != NULL; u = u->next)
		n++;
	if (n >= IMAP_SEARCH_UPDATE_MAX)
		return false;
	struct imap_search_update *ctx = p_new(pool, struct imap_search_update, 1);
	ctx->pool = pool;
	ctx->tag = p_strdup(pool, tag);
	ctx->uid = uid;
	ctx->key = key;
	i_assert(spec_count <= IMAP_SORT_MAX_CRITERIA);
	if (spec_count > 0)
		memcpy(ctx->specs, specs, spec_count * sizeof(*specs));
	ctx->spec_count = spec_count;
	array_init(&ctx->uids, system_pool, count + 1);
	for (unsigned int i = 0; i < count; i++)
		array_push(&ctx->uids, mailbox_view_uid(client->box, seqs[i]));
	update_stamp(ctx, client->box);
	ctx->next = client->search_updates;
	client->search_updates = ctx;
	return true;
}

bool imap_search_update_cancel(struct imap_client *client, const char *tag)
{
	struct imap_search_update **p = update_find(client, tag);
	struct imap_search_update *ctx = *p;
	if (ctx == NULL)
		return false;
	*p = ctx->next;
	update_free(ctx);
	return true;
}

void imap_search_update_clear(struct imap_client *client)
{
	while (client->search_updates != NULL) {
		struct imap_search_update *ctx = client->search_updates;
		client->search_updates = ctx->next;
		update_free(ctx);
	}
}

/* An ascending copy of uids, for update_set_has(). */
static uint32_t *update_sorted_copy(const uint32_t *uids, unsigned int count)
{
	uint32_t *copy = t_new(uint32_t, count + 1);
	memcpy(copy, uids, count * sizeof(*uids));
	qsort(copy, count, sizeof(*copy), uint32_cmp);
	return copy;
}

static bool update_set_has(const uint32_t *sorted, unsigned int count, uint32_t uid)
{
	return count > 0 && bsearch(&uid, sorted, count, sizeof(uid), uint32_cmp) != NULL;
}

/* Builds one ADDTO or REMOVEFROM response of (position, numbers) pairs:
   a position is 0 in SEARCH contexts, else where the run starts. */
struct update_reply {
	string_t *str;
	unsigned int pairs;
	ARRAY(uint32_t) run;
	uint32_t run_pos;
};

static void update_reply_init(struct update_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->str = t_str_new(128);
	array_init(&r->run, t_pool(), 16);
}

static void update_reply_flush(struct update_reply *r)
{
	if (r->run.count == 0)
		return;
	str_append_c(r->str, r->pairs++ == 0 ? '(' : ' ');
	str_printfa(r->str, "%u ", r->run_pos);
	imap_search_return_write_set(r->str, r->run.v, r->run.count);
	array_clear(&r->run);
}

/* Adds num at position pos (0 in SEARCH contexts: one unordered run).
   A run of removals continues at the same position, a run of
   insertions at the position after its last. */
static void update_reply_add(struct update_reply *r, uint32_t pos, bool removal, uint32_t num)
{
	if (r->run.count > 0 && pos != 0) {
		uint32_t next = removal ? r->run_pos : r->run_pos + r->run.count;
		if (pos != next)
			update_reply_flush(r);
	}
	if (r->run.count == 0)
		r->run_pos = pos;
	array_push(&r->run, num);
}

static void update_reply_send(struct imap_client *client, const struct imap_search_update *ctx,
			      struct update_reply *r, const char *kind)
{
	if (ctx->spec_count == 0 && r->run.count > 0) {
		/* SEARCH: one ascending set at position 0 */
		qsort(r->run.v, r->run.count, sizeof(r->run.v[0]), uint32_cmp);
	}
	update_reply_flush(r);
	if (r->pairs == 0)
		return;
	string_t *line = t_str_new(str_len(r->str) + 64);
	imap_search_return_write_tag(line, ctx->tag, ctx->uid);
	str_printfa(line, " %s %s)", kind, str_c(r->str));
	imap_client_send_untagged(client, "%s", str_c(line));
}

/* The number the client knows a result by. */
static uint32_t update_num(struct imap_client *client, const struct imap_search_update *ctx,
			   uint32_t uid)
{
	return ctx->uid ? uid : mailbox_view_seq(client->box, uid);
}

typedef uint32_t update_num_callback_t(struct imap_client *client,
				      const struct imap_search_update *ctx,
				      const uint32_t *set, unsigned int set_count, uint32_t uid);

/* Removes from the context, with REMOVEFROM, the results that are in
   (in_set) or not in the sorted set[0..set_count). num_cb gives the
   numbers the client knows them by. */
static void update_remove(struct imap_client *client, struct imap_search_update *ctx,
			  const uint32_t *set, unsigned int set_count, bool in_set,
			  update_num_callback_t *num_cb)
{
	struct update_reply r;
	update_reply_init(&r);
	unsigned int kept = 0;
	for (unsigned int i = 0; i < ctx->uids.count; i++) {
		uint32_t uid = ctx->uids.v[i];
		if (update_set_has(set, set_count, uid) != in_set) {
			ctx->uids.v[kept++] = uid;
			continue;
		}
		uint32_t num = num_cb(client, ctx, set, set_count, uid);
		if (num == 0)
			continue;
		/* where it is once the ones before it are gone */
		update_reply_add(&r, ctx->spec_count == 0 ? 0 : kept + 1, true, num);
	}
	ctx->uids.count = kept;
	update_reply_send(client, ctx, &r, "REMOVEFROM");
}

static uint32_t update_num_current(struct imap_client *client,
				   const struct imap_search_update *ctx,
				   const uint32_t *gone, unsigned int gone_count, uint32_t uid)
{
	return update_num(client, ctx, uid);
}

/* The sequence number an expunged message had before the expunges:
   the view's UIDs below it plus the expunged ones below it. */
static uint32_t update_num_expunged(struct imap_client *client,
				    const struct imap_search_update *ctx,
				    const uint32_t *gone, unsigned int gone_count, uint32_t uid)
{
	if (ctx->uid)
		return uid;
	uint32_t seq1, seq2, below = 0;
	if (uid > 1 && mailbox_view_uid_range(client->box, 1, uid - 1, &seq1, &seq2))
		below = seq2;
	for (unsigned int i = 0; i < gone_count && gone[i] < uid; i++)
		below++;
	return below + 1;
}

void imap_search_update_expunged(struct imap_client *client, const array_uint32_t *uids)
{
	if (client->search_updates == NULL || uids->count == 0)
		return;
	const uint32_t *gone = update_sorted_copy(uids->v, uids->count);
	for (struct imap_search_update *ctx = client->search_updates; ctx != NULL; ctx = ctx->next)
		update_remove(client, ctx, gone, uids->count, true, update_num_expunged);
}

/* Inserts the results of new_uids that the context lacks, with ADDTO. */
static void update_add(struct imap_client *client, struct imap_search_update *ctx,
		       const uint32_t *new_uids, unsigned int count)
{
	const uint32_t *have = update_sorted_copy(ctx->uids.v, ctx->uids.count);
	unsigned int have_count = ctx->uids.count;
	struct update_reply r;
	update_reply_init(&r);
	for (unsigned int i = 0; i < count; i++) {
		if (update_set_has(have, have_count, new_uids[i]))
			continue;
		uint32_t num = update_num(client, ctx, new_uids[i]);
		if (num == 0)
			continue;
		update_reply_add(&r, ctx->spec_count == 0 ? 0 : i + 1, false, num);
	}
	array_clear(&ctx->uids);
	for (unsigned int i = 0; i < count; i++)
		array_push(&ctx->uids, new_uids[i]);
	update_reply_send(client, ctx, &r, "ADDTO");
}

static void update_refresh_one(struct imap_client *client, struct imap_search_update *ctx)
{
	pool_t pool = pool_create("search update", 4096);
	array_uint32_t seqs;
	int ret = ctx->spec_count == 0 ?
		imap_search_run(client, ctx->key, pool, &seqs) :
		imap_sort_run(client, ctx->key, ctx->specs, ctx->spec_count, pool, &seqs);
	if (ret < 0) {
		/* try again at the next change */
		log_error(&client->conn->log, "search_update_failed", "tag=%s",
			  log_value(ctx->tag));
		pool_destroy(&pool);
		return;
	}
	update_stamp(ctx, client->box);
	uint32_t *new_uids = p_new(pool, uint32_t, seqs.count + 1);
	for (unsigned int i = 0; i < seqs.count; i++)
		new_uids[i] = mailbox_view_uid(client->box, seqs.v[i]);
	const uint32_t *new_sorted = update_sorted_copy(new_uids, seqs.count);
	update_remove(client, ctx, new_sorted, seqs.count, false, update_num_current);
	update_add(client, ctx, new_uids, seqs.count);
	pool_destroy(&pool);
}

void imap_search_update_refresh(struct imap_client *client)
{
	/* Messages expunged but not yet reported have lost their index rows
	   (and sort keys) while the client still counts them: a run now
	   would place them wrongly. The sync that reports the expunges
	   sends REMOVEFROM for them and refreshes then. */
	if (mailbox_view_has_pending_expunges(client->box))
		return;
	for (struct imap_search_update *ctx = client->search_updates; ctx != NULL; ctx = ctx->next) {
		if (update_stamp_changed(ctx, client->box))
			update_refresh_one(client, ctx);
	}
}

bool imap_search_update_start(struct imap_cmd *cmd, const struct imap_search_return_opts *opts,
			      pool_t *pool_r)
{
	*pool_r = cmd->pool;
	if ((opts->flags & IMAP_SEARCH_RETURN_UPDATE) == 0)
		return true;
	/* RFC 5267 §4.3: a tag names one context */
	if (imap_search_update_exists(cmd->client, cmd->tag)) {
		imap_cmd_bad(cmd, "Tag is in use by an update context.");
		return false;
	}
	*pool_r = pool_create("search update context", 1024);
	return true;
}

void imap_search_update_discard(struct imap_cmd *cmd, pool_t pool)
{
	if (pool != cmd->pool)
		pool_destroy(&pool);
}

void imap_search_update_finish(struct imap_cmd *cmd, bool uid, pool_t pool,
			       struct search_key *key, const struct imap_sort_spec *specs,
			       unsigned int spec_count, const uint32_t *seqs, unsigned int count)
{
	if (pool == cmd->pool)
		return;
	if (!imap_search_update_add(cmd->client, cmd->tag, uid, pool, key, specs, spec_count,
				    seqs, count)) {
		/* RFC 5267 §4.3.1; the other return data still goes out */
		imap_client_send_untagged(cmd->client, "NO [NOUPDATE \"%s\"] Too many update contexts.",
					  cmd->tag);
		pool_destroy(&pool);
	}
}
