/* COPY and MOVE with their UID forms (RFC 9051 §6.4.7, §6.4.8, RFC 6851),
 * with UIDPLUS's COPYUID (RFC 4315), SAVELIMIT and MESSAGELIMIT (RFC
 * 9738), INPROGRESS while the files are copied (RFC 9585). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-limits.h"
#include "imap-progress.h"
#include "imap-seqs.h"
#include "imap-seqset.h"
#include "imap-sieve.h"
#include "imap-storage.h"
#include "imap-uidonly.h"

static const char *copyuid_code(const struct mail_copy_result *res)
{
	imap_seq_ranges_t src, dest;
	string_t *str = t_str_new(128);
	/* source UIDs are ascending; destination UIDs follow them in order,
	   so both compress into ranges pairwise (RFC 4315 §3) */
	imap_seqset_from_sorted(res->src_uids.v, res->src_uids.count, t_pool(), &src);
	imap_seqset_from_sorted(res->dest_uids.v, res->dest_uids.count, t_pool(), &dest);
	str_printfa(str, "COPYUID %u ", res->uidvalidity);
	imap_seqset_write(&src, str);
	str_append_c(str, ' ');
	imap_seqset_write(&dest, str);
	return str_c(str);
}

static bool cmd_copy_full(struct imap_cmd *cmd, bool move)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	const char *dest, *error;
	array_uint32_t seqs;
	if (!imap_uidonly_check_cmd(cmd))
		return true;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type == IMAP_ARG_EOL ||
	    cmd->args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "Expected a message set and a mailbox name.");
		return true;
	}
	if (imap_seqs_from_arg(client, &cmd->args[0], uid, cmd->pool, &seqs, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (imap_mailbox_name_from_arg(client, &cmd->args[1], &dest, &error) < 0) {
		imap_cmd_finish(cmd, "%s", error);
		return true;
	}
	if (move && mailbox_is_readonly(client->box)) {
		imap_cmd_finish(cmd, "NO [READ-ONLY] Mailbox is read-only.");
		return true;
	}
	if (seqs.count == 0) {
		/* RFC 9051 §6.4.8: a UID set naming no message is fine */
		imap_cmd_finish(cmd, "OK No messages found.");
		return true;
	}
	/* RFC 9738: a COPY is all or nothing, so over SAVELIMIT it is
	   refused; a MOVE may move the lowest UIDs only */
	int limit = 0;
	if (!move && imap_limit_save(client) != 0 && seqs.count > imap_limit_save(client)) {
		imap_cmd_finish(cmd, IMAP_LIMIT_SAVE_NO_REPLY);
		return true;
	}
	if (move && (limit = imap_limit_apply(cmd, &seqs)) < 0) {
		imap_cmd_finish(cmd, IMAP_LIMIT_NO_REPLY);
		return true;
	}
	struct mail_copy_result res;
	struct imap_progress progress;
	imap_progress_begin(&progress, cmd);
	imap_progress_watch(&progress, client->box);
	int ret = mailbox_copy(client->box, seqs.v, seqs.count, dest, move, cmd->pool, &res);
	imap_progress_end(&progress);
	if (ret < 0) {
		const char *reply = imap_storage_error_reply(client);
		/* RFC 9051 §6.4.7: TRYCREATE when the target doesn't exist */
		if (strncmp(reply, "NO [NONEXISTENT]", 16) == 0)
			reply = t_strconcat("NO [TRYCREATE]", reply + 16, NULL);
		imap_cmd_finish(cmd, "%s", reply);
		return true;
	}
	/* RFC 6785 §2.2.2: the copies are events (cause COPY, MOVE too) */
	imap_sieve_copied(client, dest, &res);
	if (move) {
		/* RFC 6851 §4.3: COPYUID in an untagged OK before the
		   EXPUNGEs, which the sync in imap_cmd_finish() sends */
		imap_client_send_untagged(client, "OK [%s] Moved UIDs.", copyuid_code(&res));
		imap_cmd_finish(cmd, limit > 0 ? "OK [LIMIT] Move completed with partial results." :
				"OK Move completed.");
	} else {
		imap_cmd_finish(cmd, "OK [%s] Copy completed.", copyuid_code(&res));
	}
	return true;
}

bool imap_cmd_copy(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, false);
}

bool imap_cmd_move(struct imap_cmd *cmd)
{
	return cmd_copy_full(cmd, true);
}
