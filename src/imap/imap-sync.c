/* Untagged updates of the selected mailbox (RFC 9051 §7.3.1 EXISTS,
 * §7.4.1 EXPUNGE or VANISHED after QRESYNC or UIDONLY, §7.5.2 FETCH FLAGS,
 * with MODSEQ after CONDSTORE, as UIDFETCH after UIDONLY): what other
 * sessions and programs changed, sent before a command's tagged reply or
 * during IDLE. */
#include "imap-client.h"
#include "imap-qresync.h"
#include "imap-search-update.h"
#include "imap-storage.h"
#include "imap-uidonly.h"

struct sync_flags_ctx {
	struct imap_client *client;
	string_t *out;
};

static int sync_flags_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct sync_flags_ctx *ctx = context;
	imap_uidonly_fetch_begin(ctx->client, ctx->out, seq, rec->uid);
	str_append(ctx->out, "FLAGS ");
	imap_flags_write(ctx->out, rec->flags, rec->keywords,
			 !ctx->client->enabled_imap4rev2 &&
			 mailbox_view_is_recent(ctx->client->box, seq));
	/* a UIDFETCH response has the UID in front (RFC 9586 §3) */
	if (!ctx->client->uidonly)
		str_printfa(ctx->out, " UID %u", rec->uid);
	/* RFC 7162 §3.2.4 */
	if (ctx->client->condstore)
		str_printfa(ctx->out, " MODSEQ (%llu)", (unsigned long long)rec->modseq);
	str_append(ctx->out, ")\r\n");
	return 0;
}

/* One index query per batch: another session's STORE 1:* changes them
   all. */
void imap_client_send_flag_fetches(struct imap_client *client, const uint32_t *seqs,
				   unsigned int count)
{
	const unsigned int batch = 1024;
	for (unsigned int i = 0; i < count; i += batch) {
		unsigned int n = I_MIN(batch, count - i);
		struct sync_flags_ctx ctx = { .client = client, .out = str_new(system_pool, n * 48) };
		if (mailbox_foreach_record_flags(client->box, seqs + i, n, sync_flags_cb, &ctx) == 0)
			o_stream_send(client->conn->output, str_data(ctx.out), str_len(ctx.out));
		str_free(&ctx.out);
	}
}

/* RFC 7162 §3.2.10: VANISHED instead of EXPUNGE once QRESYNC is on, and
   RFC 9586 §3 once UIDONLY is */
static void imap_sync_send_expunges(struct imap_client *client,
				    const struct mailbox_sync_result *res)
{
	if (!client->qresync && !client->uidonly) {
		for (unsigned int i = 0; i < res->expunged_seqs.count; i++)
			imap_client_send_untagged(client, "%u EXPUNGE", res->expunged_seqs.v[i]);
		return;
	}
	unsigned int n = res->expunged_uids.count;
	uint32_t *uids = t_new(uint32_t, n + 1);
	memcpy(uids, res->expunged_uids.v, n * sizeof(*uids));
	qsort(uids, n, sizeof(*uids), uint32_cmp);
	imap_qresync_send_vanished(client, uids, n);
}

void imap_client_sync(struct imap_client *client, enum imap_sync_flags sync_flags)
{
	if (client->box == NULL)
		return;
	struct mailbox_sync_result res;
	pool_t pool = pool_create("imap sync", 1024);
	enum mailbox_sync_flags flags =
		((sync_flags & IMAP_SYNC_NO_EXPUNGES) != 0 ? MAILBOX_SYNC_NO_EXPUNGES : 0) |
		((sync_flags & IMAP_SYNC_FULL) != 0 ? MAILBOX_SYNC_FULL : 0);
	if (mailbox_sync(client->box, flags, pool, &res) < 0) {
		log_error(&client->conn->log, "sync_failed", "mailbox=%s",
			  log_value(mailbox_get_name(client->box)));
		pool_destroy(&pool);
		return;
	}
	if (res.mailbox_deleted) {
		/* RFC 9051 §6.3.5: another session deleted it */
		imap_client_disconnect(client, "Selected mailbox was deleted, have to disconnect.",
				       "selected mailbox deleted");
		pool_destroy(&pool);
		return;
	}
	/* RFC 5267 §4.3.4: REMOVEFROM before the EXPUNGEs */
	imap_search_update_expunged(client, &res.expunged_uids);
	imap_sync_send_expunges(client, &res);
	if (res.keywords_changed ||
	    mailbox_get_view_status(client->box)->keywords.count != client->announced_keyword_count)
		imap_client_send_flags(client, true);
	if (res.exists_changed || res.expunged_seqs.count > 0) {
		imap_client_send_untagged(client, "%u EXISTS", mailbox_view_count(client->box));
		if (!client->enabled_imap4rev2)
			imap_client_send_untagged(client, "%u RECENT",
						  mailbox_get_view_status(client->box)->recent);
	}
	imap_client_send_flag_fetches(client, res.changed_seqs.v, res.changed_seqs.count);
	/* RFC 5267 §4.3.3: ADDTO after EXISTS */
	imap_search_update_refresh(client);
	pool_destroy(&pool);
}
