/* STORE and UID STORE (RFC 9051 §6.4.6): +FLAGS, -FLAGS, FLAGS, with
 * .SILENT; the new flags are reported as FETCH responses. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-seqs.h"
#include "imap-storage.h"

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
	bool uid;
};

static int store_fetch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct store_fetch_ctx *ctx = context;
	string_t *str = ctx->out;
	str_append(str, "* ");
	str_append_uint(str, seq);
	str_append(str, " FETCH (");
	if (ctx->uid) {
		str_append(str, "UID ");
		str_append_uint(str, rec->uid);
		str_append_c(str, ' ');
	}
	str_append(str, "FLAGS ");
	imap_flags_write(str, rec->flags, rec->keywords,
			 !ctx->client->enabled_imap4rev2 &&
			 mailbox_view_is_recent(ctx->client->box, seq));
	str_append(str, ")\r\n");
	return 0;
}

/* The new flags, read in batches (one index query per run of numbers):
   STORE 1:* on 100,000 messages answers 100,000 FETCH lines. */
static void store_send_fetches(struct imap_cmd *cmd, const array_uint32_t *seqs, bool uid)
{
	const unsigned int batch = 1024;
	struct store_fetch_ctx ctx = { .client = cmd->client, .uid = uid };
	for (unsigned int i = 0; i < seqs->count; i += batch) {
		unsigned int n = I_MIN(batch, seqs->count - i);
		ctx.out = str_new(system_pool, n * 40);
		if (mailbox_foreach_record_flags(cmd->client->box, seqs->v + i, n,
						 store_fetch_cb, &ctx) == 0)
			o_stream_send(cmd->client->conn->output, str_data(ctx.out), str_len(ctx.out));
		str_free(&ctx.out);
	}
}

bool imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	const struct imap_arg *args = cmd->args;
	const char *op, *error;
	struct mail_flags_change change;
	bool silent;
	memset(&change, 0, sizeof(change));
	if (args[0].type == IMAP_ARG_EOL || args[1].type == IMAP_ARG_EOL ||
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
	if (imap_seqs_from_arg(client, &args[0], uid, cmd->pool, &seqs, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (mailbox_is_readonly(client->box)) {
		imap_cmd_finish(cmd, "NO [READ-ONLY] Mailbox is read-only.");
		return true;
	}
	if (seqs.count > 0 &&
	    mailbox_update_flags(client->box, seqs.v, seqs.count, &change, cmd->pool, NULL) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	/* a new keyword is announced in FLAGS before a FETCH shows it */
	if (change.keywords != NULL && change.keywords[0] != NULL)
		imap_client_sync(client, IMAP_SYNC_NO_EXPUNGES);
	if (!silent)
		store_send_fetches(cmd, &seqs, uid);
	imap_cmd_finish(cmd, "OK Store completed.");
	return true;
}
