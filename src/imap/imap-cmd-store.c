/* STORE and UID STORE (RFC 9051 §6.4.6): +FLAGS, -FLAGS, FLAGS, with
 * .SILENT; the new flags are reported as FETCH responses (UIDFETCH after
 * ENABLE UIDONLY, RFC 9586). The UNCHANGEDSINCE modifier of CONDSTORE
 * (RFC 7162 §3.1.3) changes only messages whose modseq is at most its
 * value and lists the others in [MODIFIED]. MESSAGELIMIT (RFC 9738)
 * bounds the messages of one command. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-limits.h"
#include "imap-search-return.h"
#include "imap-seqs.h"
#include "imap-sieve.h"
#include "imap-storage.h"
#include "imap-uidonly.h"
#include "strnum.h"

#include <strings.h>

static int store_parse_op(const char *op, enum mail_flags_modify *modify_r, bool *silent_r)
{
	*modify_r = MAIL_FLAGS_REPLACE;
	if (*op == '+') {
		*modify_r = MAIL_FLAGS_ADD;
		op++;
	} else if (*op == '-') {
		*modify_r = MAIL_FLAGS_REMOVE;
		op++;
	}
	if (strcasecmp(op, "FLAGS") == 0)
		*silent_r = false;
	else if (strcasecmp(op, "FLAGS.SILENT") == 0)
		*silent_r = true;
	else
		return -1;
	return 0;
}

struct store_fetch_ctx {
	struct imap_client *client;
	string_t *out;
	bool uid, silent;
	/* UIDs that failed UNCHANGEDSINCE (ascending): no FETCH for them */
	const array_uint32_t *failed;
	/* the change, for messages another session expunged meanwhile */
	const struct mail_flags_change *change;
	/* this batch's sequence numbers (ascending) and how many of them
	   are answered: a number the records skip was expunged meanwhile */
	const uint32_t *batch;
	unsigned int batch_count, batch_pos;
};

static void store_fetch_expunged(struct store_fetch_ctx *ctx, uint32_t seq);

static int store_fetch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct store_fetch_ctx *ctx = context;
	string_t *str = ctx->out;
	const array_uint32_t *failed = ctx->failed;
	if (ctx->batch != NULL) {
		while (ctx->batch_pos < ctx->batch_count && ctx->batch[ctx->batch_pos] < seq)
			store_fetch_expunged(ctx, ctx->batch[ctx->batch_pos++]);
		if (ctx->batch_pos < ctx->batch_count && ctx->batch[ctx->batch_pos] == seq)
			ctx->batch_pos++;
	}
	if (failed->count > 0 &&
	    bsearch(&rec->uid, failed->v, failed->count, sizeof(failed->v[0]), uint32_cmp) != NULL)
		return 0;
	imap_uidonly_fetch_begin(ctx->client, str, seq, rec->uid);
	size_t start = str_len(str);
	/* RFC 7162 §3.2.4: after CONDSTORE, UID and MODSEQ always, even
	   for .SILENT; a UIDFETCH response has the UID in front */
	bool condstore = ctx->client->condstore;
	if ((ctx->uid || condstore) && !ctx->client->uidonly) {
		str_append(str, "UID ");
		str_append_uint(str, rec->uid);
	}
	if (condstore) {
		if (str_len(str) > start)
			str_append_c(str, ' ');
		str_printfa(str, "MODSEQ (%llu)", (unsigned long long)rec->modseq);
	}
	if (!ctx->silent) {
		if (str_len(str) > start)
			str_append_c(str, ' ');
		str_append(str, "FLAGS ");
		imap_flags_write(str, rec->flags, rec->keywords,
				 !ctx->client->enabled_imap4rev2 &&
				 mailbox_view_is_recent(ctx->client->box, seq));
	}
	str_append(str, ")\r\n");
	return 0;
}

/* A message of the set that another session expunged after this one
   last synced is still in the view: answer with the flags it had at the
   expunge with the change applied, as if the STORE had reached it (RFC
   2180 §4.2.2), so a client sees every message of its set answered. A
   conditional STORE (UNCHANGEDSINCE) claims nothing for it. */
static void store_fetch_expunged(struct store_fetch_ctx *ctx, uint32_t seq)
{
	struct mail_record rec;
	if (ctx->change->unchanged_since != 0 ||
	    mailbox_get_expunged_record(ctx->client->box, seq, ctx->change, t_pool(), &rec) <= 0)
		return;
	const uint32_t *batch = ctx->batch;
	ctx->batch = NULL;
	(void)store_fetch_cb(&rec, seq, ctx);
	ctx->batch = batch;
}

/* The new flags, read in batches (one index query per run of numbers):
   STORE 1:* on 100,000 messages answers 100,000 FETCH lines. The records
   come in ascending order; the numbers they skip are messages expunged
   meanwhile. */
static void store_send_fetches(struct imap_cmd *cmd, const array_uint32_t *seqs,
			       struct store_fetch_ctx *ctx)
{
	const unsigned int batch = 1024;
	for (unsigned int i = 0; i < seqs->count; i += batch) {
		unsigned int n = I_MIN(batch, seqs->count - i);
		ctx->out = str_new(system_pool, n * 40);
		ctx->batch = seqs->v + i;
		ctx->batch_count = n;
		ctx->batch_pos = 0;
		if (mailbox_foreach_record_flags(cmd->client->box, seqs->v + i, n,
						 store_fetch_cb, ctx) == 0) {
			while (ctx->batch_pos < n)
				store_fetch_expunged(ctx, ctx->batch[ctx->batch_pos++]);
			o_stream_send(cmd->client->conn->output, str_data(ctx->out),
				      str_len(ctx->out));
		}
		ctx->batch = NULL;
		str_free(&ctx->out);
	}
}

/* The store modifiers (RFC 4466 §2.5): "(UNCHANGEDSINCE n)" (RFC 7162
   §3.1.3). Returns 0, or -1 with *error_r for a BAD. */
static int store_parse_modifiers(const struct imap_arg *arg, bool *conditional_r,
				 uint64_t *unchanged_since_r, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "Empty STORE modifier list.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		const char *name, *value;
		if (!imap_arg_get_atom(&list[i], &name) ||
		    strcasecmp(name, "UNCHANGEDSINCE") != 0 || *conditional_r) {
			*error_r = "Unknown or repeated STORE modifier.";
			return -1;
		}
		if (i + 1 >= count || !imap_arg_get_atom(&list[++i], &value) ||
		    str_to_uint64(value, unchanged_since_r) < 0 ||
		    *unchanged_since_r > INT64_MAX) {
			*error_r = "UNCHANGEDSINCE takes a mod-sequence value.";
			return -1;
		}
		*conditional_r = true;
	}
	return 0;
}

/* "OK [MODIFIED set]" of the messages that failed UNCHANGEDSINCE: UIDs
   for UID STORE, else their sequence numbers. Otherwise OK, with [LIMIT]
   when MESSAGELIMIT cut the set. */
static void store_finish_modified(struct imap_cmd *cmd, const array_uint32_t *failed, bool uid,
				  bool limited)
{
	ARRAY(uint32_t) nums;
	array_init(&nums, cmd->pool, failed->count + 1);
	for (unsigned int i = 0; i < failed->count; i++) {
		uint32_t n = uid ? failed->v[i] : mailbox_view_seq(cmd->client->box, failed->v[i]);
		if (n != 0)
			array_push(&nums, n);
	}
	if (nums.count == 0) {
		imap_cmd_finish(cmd, limited ? "OK [LIMIT] Store completed with partial results." :
				"OK Store completed.");
		return;
	}
	qsort(nums.v, nums.count, sizeof(nums.v[0]), uint32_cmp);
	string_t *set = t_str_new(64);
	imap_search_return_write_set(set, nums.v, nums.count);
	imap_cmd_finish(cmd, "OK [MODIFIED %s] Conditional STORE failed.", str_c(set));
}

bool imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	const struct imap_arg *args = cmd->args;
	const char *op, *error;
	struct mail_flags_change change;
	bool silent, conditional = false;
	memset(&change, 0, sizeof(change));
	if (!imap_uidonly_check_cmd(cmd))
		return true;
	if (args[0].type != IMAP_ARG_EOL && args[1].type == IMAP_ARG_LIST) {
		if (store_parse_modifiers(&args[1], &conditional, &change.unchanged_since,
					  &error) < 0) {
			imap_cmd_bad(cmd, error);
			return true;
		}
		args++;
	}
	const struct imap_arg *set_arg = &cmd->args[0];
	if (set_arg->type == IMAP_ARG_EOL || args[1].type == IMAP_ARG_EOL ||
	    args[2].type == IMAP_ARG_EOL || !imap_arg_get_atom(&args[1], &op) ||
	    store_parse_op(op, &change.modify, &silent) < 0) {
		imap_cmd_bad(cmd, "STORE takes a set, [+-]FLAGS[.SILENT] and flags.");
		return true;
	}
	const struct imap_arg *flag_args = &args[2];
	unsigned int flag_count;
	const struct imap_arg *list;
	if (imap_arg_get_list(&args[2], &list, &flag_count)) {
		flag_args = list;
		if (args[3].type != IMAP_ARG_EOL) {
			imap_cmd_bad(cmd, "Unexpected arguments after the flag list.");
			return true;
		}
	} else {
		flag_count = imap_args_count(&args[2]);
	}
	if (imap_flags_parse(flag_args, flag_count, cmd->pool, &change.flags,
			     &change.keywords, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	array_uint32_t seqs;
	if (imap_seqs_from_arg(client, set_arg, uid, cmd->pool, &seqs, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (mailbox_is_readonly(client->box)) {
		imap_cmd_finish(cmd, "NO [READ-ONLY] Mailbox is read-only.");
		return true;
	}
	int limit = imap_limit_apply(cmd, &seqs);
	if (limit < 0) {
		imap_cmd_finish(cmd, IMAP_LIMIT_NO_REPLY);
		return true;
	}
	/* RFC 7162 §3.1: a conditional STORE enables CONDSTORE */
	if (conditional)
		imap_client_enable_condstore(client);
	array_uint32_t failed;
	array_init(&failed, cmd->pool, 4);
	/* RFC 6785 §2.2.3: flag changes are events */
	struct imap_sieve_flags *sieve_flags = imap_sieve_flags_before(cmd, seqs.v, seqs.count);
	if (conditional && change.unchanged_since == 0) {
		/* RFC 7162 §3.1.3: every message has a modseq above 0 */
		for (unsigned int i = 0; i < seqs.count; i++)
			array_push(&failed, mailbox_view_uid(client->box, seqs.v[i]));
	} else if (seqs.count > 0 &&
		   mailbox_update_flags(client->box, seqs.v, seqs.count, &change, cmd->pool,
					&failed) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	qsort(failed.v, failed.count, sizeof(failed.v[0]), uint32_cmp);
	/* a new keyword is announced in FLAGS before a FETCH shows it */
	if (change.keywords != NULL && change.keywords[0] != NULL)
		imap_client_sync(client, IMAP_SYNC_NO_EXPUNGES);
	if (!silent || client->condstore) {
		struct store_fetch_ctx ctx = {
			.client = client, .uid = uid, .silent = silent, .failed = &failed,
			.change = &change,
		};
		store_send_fetches(cmd, &seqs, &ctx);
	}
	imap_sieve_flags_after(cmd, &sieve_flags);
	store_finish_modified(cmd, &failed, uid, limit > 0);
	return true;
}
