/* SEARCH and UID SEARCH (RFC 9051 §6.4.4), with ESEARCH results (RFC 9051
 * §7.3.4, RFC 4731 RETURN MIN/MAX/ALL/COUNT) for IMAP4rev2 clients and
 * for any client that asks with RETURN; RETURN (SAVE) for SEARCHRES
 * (RFC 5182), RETURN (PARTIAL first:last) paging (RFC 9394), RETURN
 * (UPDATE) contexts and CANCELUPDATE (RFC 5267 §4), the MODSEQ of a
 * result with a MODSEQ key (RFC 7162 §3.1.5), UID-only programs after
 * ENABLE UIDONLY (RFC 9586), MESSAGELIMIT's window of messages searched
 * (RFC 9738) and INPROGRESS while the text index is filled (RFC 9585). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-limits.h"
#include "imap-progress.h"
#include "imap-search.h"
#include "imap-search-return.h"
#include "imap-search-update.h"
#include "imap-storage.h"
#include "imap-uidonly.h"

static void search_send_plain(struct imap_cmd *cmd, const uint32_t *nums, unsigned int count,
			      uint64_t modseq)
{
	struct ostream *output = cmd->client->conn->output;
	string_t *str = t_str_new(count * 6 + 16);
	str_append(str, "* SEARCH");
	for (unsigned int i = 0; i < count; i++)
		str_printfa(str, " %u", nums[i]);
	/* RFC 7162 §3.1.5 */
	if (modseq != 0)
		str_printfa(str, " (MODSEQ %llu)", (unsigned long long)modseq);
	str_append(str, "\r\n");
	o_stream_send(output, str_data(str), str_len(str));
}

/* RFC 9738: the messages searched are those the program's top-level sets
   allow; past the limit, a UID SEARCH searches the lowest UIDs of them
   and answers OK [LIMIT]. Returns 1 cut, 0 within the limit, -1 for NO
   [LIMIT] (SEARCH by sequence numbers). */
static int search_apply_limit(struct imap_cmd *cmd, const struct search_key *key,
			      array_uint32_t *seqs)
{
	unsigned int limit = imap_limit_messages(cmd->client);
	uint32_t seq1, seq2;
	if (limit == 0 || !imap_search_seq_bounds(cmd->client, key, &seq1, &seq2) ||
	    seq2 - seq1 < limit)
		return 0;
	if (strncmp(cmd->name, "UID ", 4) != 0)
		return -1;
	uint32_t last = seq1 + (limit - 1);
	unsigned int n = 0;
	while (n < seqs->count && seqs->v[n] <= last)
		n++;
	seqs->count = n;
	return 1;
}

/* Runs the program with progress responses while the storage fills the
   text index. Returns as imap_search_run(). */
static int search_run(struct imap_cmd *cmd, const struct search_key *key, array_uint32_t *seqs)
{
	struct imap_progress progress;
	imap_progress_begin(&progress, cmd);
	imap_progress_watch(&progress, cmd->client->box);
	int ret = imap_search_run(cmd->client, key, cmd->pool, seqs);
	imap_progress_end(&progress);
	return ret;
}

bool imap_cmd_search(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	struct imap_search_return_opts opts;
	const char *error;
	if (!imap_uidonly_check_cmd(cmd))
		return true;
	int used = imap_search_return_parse(cmd->args, &opts);
	if (used < 0) {
		imap_cmd_bad(cmd, "Invalid RETURN options.");
		return true;
	}
	pool_t pool;
	if (!imap_search_update_start(cmd, &opts, &pool))
		return true;
	struct search_key *key;
	array_uint32_t seqs;
	if (imap_search_parse(client, cmd->args + used, pool, &key, &error) < 0) {
		imap_search_update_discard(cmd, pool);
		imap_cmd_fail(cmd, error);
		return true;
	}
	if (client->uidonly && imap_search_uses_seqnums(key)) {
		/* RFC 9586 §3: no sequence numbers in the program either */
		imap_search_update_discard(cmd, pool);
		imap_cmd_bad(cmd, IMAP_UIDONLY_BAD);
		return true;
	}
	if (search_run(cmd, key, &seqs) < 0) {
		imap_search_update_discard(cmd, pool);
		/* RFC 5182 §2.1: a failed SEARCH with SAVE empties "$" */
		if ((opts.flags & IMAP_SEARCH_RETURN_SAVE) != 0)
			imap_client_search_save(client, NULL, 0);
		imap_cmd_storage_error(cmd);
		return true;
	}
	int limit = search_apply_limit(cmd, key, &seqs);
	if (limit < 0) {
		imap_search_update_discard(cmd, pool);
		if ((opts.flags & IMAP_SEARCH_RETURN_SAVE) != 0)
			imap_client_search_save(client, NULL, 0);
		imap_cmd_finish(cmd, IMAP_LIMIT_NO_REPLY);
		return true;
	}
	uint64_t modseq;
	if (imap_search_return_modseq(client, key, &opts, seqs.v, seqs.count, &modseq) < 0) {
		imap_search_update_discard(cmd, pool);
		imap_cmd_storage_error(cmd);
		return true;
	}
	if ((opts.flags & IMAP_SEARCH_RETURN_SAVE) != 0)
		imap_search_return_save(client, &opts, seqs.v, seqs.count);
	imap_search_update_finish(cmd, uid, pool, key, NULL, 0, seqs.v, seqs.count);
	if (uid) {
		for (unsigned int i = 0; i < seqs.count; i++)
			seqs.v[i] = mailbox_view_uid(client->box, seqs.v[i]);
	}
	if (opts.given || client->enabled_imap4rev2) {
		/* RFC 5182 §2.4: SAVE alone returns no ESEARCH */
		if (!opts.given || opts.flags != IMAP_SEARCH_RETURN_SAVE)
			imap_search_return_send(cmd, &opts, uid, seqs.v, seqs.count, modseq);
	} else {
		search_send_plain(cmd, seqs.v, seqs.count, modseq);
	}
	imap_cmd_finish(cmd, limit > 0 ? "OK [LIMIT] Search completed with partial results." :
			"OK Search completed.");
	return true;
}

/* CANCELUPDATE tag... (RFC 5267 §4.3.5) */
bool imap_cmd_cancelupdate(struct imap_cmd *cmd)
{
	const struct imap_arg *arg = cmd->args;
	if (arg->type == IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "CANCELUPDATE needs a tag.");
		return true;
	}
	for (; arg->type != IMAP_ARG_EOL; arg++) {
		const char *tag;
		if (!imap_arg_get_astring(arg, &tag) ||
		    !imap_search_update_exists(cmd->client, tag)) {
			imap_cmd_bad(cmd, "Unknown update context.");
			return true;
		}
	}
	for (arg = cmd->args; arg->type != IMAP_ARG_EOL; arg++) {
		const char *tag;
		if (imap_arg_get_astring(arg, &tag))
			imap_search_update_cancel(cmd->client, tag);
	}
	imap_cmd_finish(cmd, "OK Updates cancelled.");
	return true;
}
