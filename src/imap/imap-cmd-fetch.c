/* FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9; the CHANGEDSINCE and
 * VANISHED modifiers of RFC 7162 §3.1.4.1, §3.2.6; UIDFETCH responses
 * after ENABLE UIDONLY, RFC 9586; MESSAGELIMIT, RFC 9738). The work is
 * in imap-fetch.c; this sets it up, sets \Seen for non-PEEK body
 * fetches, and keeps calling the producer until it is done. */
#include "imap-commands.h"
#include "imap-sieve.h"
#include "imap-arg.h"
#include "imap-fetch.h"
#include "imap-limits.h"
#include "imap-qresync.h"
#include "imap-seqs.h"
#include "imap-storage.h"
#include "imap-uidonly.h"
#include "strnum.h"

#include <stdlib.h>
#include <strings.h>

struct fetch_cmd_ctx {
	struct imap_fetch *fetch;
	const char *error;
	/* MESSAGELIMIT cut the set (RFC 9738) */
	bool limited;
};

struct fetch_modifiers {
	bool changedsince, vanished;
	uint64_t modseq;
};

/* The fetch modifiers (RFC 4466 §2.4): "(CHANGEDSINCE n)" (RFC 7162
   §3.1.4.1) and, for UID FETCH with QRESYNC, "VANISHED" (§3.2.6).
   Returns 0, or -1 with *error_r for a BAD. */
static int fetch_parse_modifiers(struct imap_cmd *cmd, const struct imap_arg *arg,
				 struct fetch_modifiers *mods_r, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	memset(mods_r, 0, sizeof(*mods_r));
	if (arg->type == IMAP_ARG_EOL)
		return 0;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0 ||
	    arg[1].type != IMAP_ARG_EOL) {
		*error_r = "Invalid FETCH modifiers.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		const char *name, *value;
		if (!imap_arg_get_atom(&list[i], &name)) {
			*error_r = "Invalid FETCH modifier.";
			return -1;
		}
		if (strcasecmp(name, "VANISHED") == 0 && !mods_r->vanished) {
			mods_r->vanished = true;
			continue;
		}
		if (strcasecmp(name, "CHANGEDSINCE") != 0 || mods_r->changedsince) {
			*error_r = "Unknown or repeated FETCH modifier.";
			return -1;
		}
		if (i + 1 >= count || !imap_arg_get_atom(&list[++i], &value) ||
		    str_to_uint64(value, &mods_r->modseq) < 0 || mods_r->modseq > INT64_MAX) {
			*error_r = "CHANGEDSINCE takes a mod-sequence value.";
			return -1;
		}
		mods_r->changedsince = true;
	}
	/* RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE,
	   after ENABLE QRESYNC */
	if (mods_r->vanished &&
	    (cmd->name[0] != 'U' || !mods_r->changedsince || !cmd->client->qresync)) {
		*error_r = "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC.";
		return -1;
	}
	return 0;
}

/* VANISHED (EARLIER) for the UID set argument (RFC 7162 §3.2.6). */
static int fetch_send_vanished(struct imap_cmd *cmd, uint64_t modseq)
{
	struct imap_client *client = cmd->client;
	imap_seq_ranges_t ranges;
	const char *set;
	if (!imap_arg_get_atom(&cmd->args[0], &set))
		return 0;
	if (imap_seqset_is_saved(set)) {
		imap_seqset_from_sorted(client->search_saved.v, client->search_saved.count,
					cmd->pool, &ranges);
	} else {
		if (imap_seqset_parse(set, cmd->pool, &ranges) < 0)
			return 0;
		/* '*' reaches the UIDs expunged from the mailbox's top */
		uint32_t uidnext = mailbox_get_view_status(client->box)->uidnext;
		imap_seqset_resolve(&ranges, uidnext > 0 ? uidnext - 1 : 0);
	}
	return imap_qresync_send_vanished_earlier(client, modseq, &ranges);
}

/* Keeps the messages of seqs whose modseq is above modseq, in their
   order. Returns 0 or -1. */
static int fetch_filter_changed(struct imap_cmd *cmd, uint64_t modseq, array_uint32_t *seqs)
{
	array_uint32_t changed;
	if (mailbox_view_changed_since(cmd->client->box, modseq, cmd->pool, &changed) < 0)
		return -1;
	unsigned int n = 0;
	for (unsigned int i = 0; i < seqs->count; i++) {
		if (changed.count > 0 &&
		    bsearch(&seqs->v[i], changed.v, changed.count, sizeof(changed.v[0]),
			    uint32_cmp) != NULL)
			seqs->v[n++] = seqs->v[i];
	}
	seqs->count = n;
	return 0;
}

static bool fetch_has_item(const fetch_items_t *items, enum fetch_item_type type)
{
	for (unsigned int i = 0; i < items->count; i++) {
		if (items->v[i].type == type)
			return true;
	}
	return false;
}

static bool fetch_cmd_start(struct imap_cmd *cmd, struct fetch_cmd_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	fetch_items_t *items = p_new(cmd->pool, fetch_items_t, 1);
	array_uint32_t *seqs = p_new(cmd->pool, array_uint32_t, 1);
	const char *error;
	struct fetch_modifiers mods;
	unsigned int used;
	if (!imap_uidonly_check_cmd(cmd))
		return false;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type == IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "FETCH takes a message set and fetch attributes.");
		return false;
	}
	/* after UIDONLY the UID is in front of each UIDFETCH response and
	   not an implied item (RFC 9586 §3) */
	if (imap_seqs_from_arg(client, &cmd->args[0], uid, cmd->pool, seqs, &error) < 0 ||
	    imap_fetch_parse_items(&cmd->args[1], cmd->pool, uid && !client->uidonly, items,
				   &used, &error) < 0 ||
	    fetch_parse_modifiers(cmd, &cmd->args[1 + used], &mods, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return false;
	}
	if (mods.changedsince) {
		/* RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ */
		if (!fetch_has_item(items, FETCH_MODSEQ)) {
			struct fetch_item item = { .type = FETCH_MODSEQ };
			array_push(items, item);
		}
		if ((mods.vanished && fetch_send_vanished(cmd, mods.modseq) < 0) ||
		    fetch_filter_changed(cmd, mods.modseq, seqs) < 0) {
			imap_cmd_storage_error(cmd);
			return false;
		}
	}
	/* RFC 9738: the messages that would be sent count, so a client
	   continues after the last UID it got */
	int limit = imap_limit_apply(cmd, seqs);
	if (limit < 0) {
		imap_cmd_finish(cmd, IMAP_LIMIT_NO_REPLY);
		return false;
	}
	ctx->limited = limit > 0;
	/* RFC 7162 §3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE */
	if (fetch_has_item(items, FETCH_MODSEQ))
		imap_client_enable_condstore(client);
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
		/* RFC 6785 §2.2.3: setting \Seen is a flag change event */
		struct imap_sieve_flags *sieve_flags =
			imap_sieve_flags_before(cmd, seqs->v, seqs->count);
		if (mailbox_update_flags(client->box, seqs->v, seqs->count, &change, cmd->pool, NULL) < 0) {
			imap_cmd_storage_error(cmd);
			return false;
		}
		imap_sieve_flags_after(cmd, &sieve_flags);
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
	else if (ctx->limited)
		imap_cmd_finish(cmd, "OK [LIMIT] Fetch completed with partial results.");
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
