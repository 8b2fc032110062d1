/* FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9). The work is in
 * imap-fetch.c; this sets it up, sets \Seen for non-PEEK body fetches,
 * and keeps calling the producer until it is done. */
#include "imap-commands.h"
#include "imap-fetch.h"
#include "imap-seqs.h"
#include "imap-storage.h"

struct fetch_cmd_ctx {
	struct imap_fetch *fetch;
	const char *error;
};

static bool fetch_cmd_start(struct imap_cmd *cmd, struct fetch_cmd_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	fetch_items_t *items = p_new(cmd->pool, fetch_items_t, 1);
	array_uint32_t *seqs = p_new(cmd->pool, array_uint32_t, 1);
	const char *error;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type == IMAP_ARG_EOL ||
	    cmd->args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "FETCH takes a message set and fetch attributes.");
		return false;
	}
	if (imap_seqs_from_arg(client, &cmd->args[0], uid, cmd->pool, seqs, &error) < 0 ||
	    imap_fetch_parse_items(&cmd->args[1], cmd->pool, uid, items, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return false;
	}
	bool set_seen = false;
	for (unsigned int i = 0; i < items->count; i++) {
		if ((items->v[i].type == FETCH_SECTION || items->v[i].type == FETCH_BINARY) &&
		    !items->v[i].peek)
			set_seen = true;
	}
	if (set_seen && !mailbox_is_readonly(client->box) && seqs->count > 0) {
		/* RFC 9051 §6.4.5: BODY[...] sets \Seen, and so does BINARY[...]
		   (RFC 3516 §4.2) */
		struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN };
		if (mailbox_update_flags(client->box, seqs->v, seqs->count, &change, cmd->pool, NULL) < 0) {
			imap_cmd_storage_error(cmd);
			return false;
		}
	}
	ctx->fetch = imap_fetch_begin(cmd, items, seqs);
	return true;
}

bool imap_cmd_fetch(struct imap_cmd *cmd)
{
	struct fetch_cmd_ctx *ctx = cmd->context;
	if (ctx == NULL) {
		ctx = cmd->context = p_new(cmd->pool, struct fetch_cmd_ctx, 1);
		if (!fetch_cmd_start(cmd, ctx))
			return true;
	}
	const char *error = NULL;
	int ret = imap_fetch_more(ctx->fetch, &error);
	if (ret == 0)
		return false; /* output full: continue when it drains */
	unsigned int expunged = imap_fetch_get_expunged_count(ctx->fetch);
	imap_fetch_end(&ctx->fetch);
	if (ret < 0)
		imap_cmd_finish(cmd, "%s", error);
	else if (expunged > 0 && cmd->name[0] != 'U')
		imap_cmd_finish(cmd, "OK [EXPUNGEISSUED] Some messages were expunged.");
	else
		imap_cmd_finish(cmd, "OK Fetch completed.");
	return true;
}

void imap_cmd_fetch_abort(struct imap_cmd *cmd)
{
	struct fetch_cmd_ctx *ctx = cmd->context;
	if (ctx != NULL)
		imap_fetch_end(&ctx->fetch);
}
