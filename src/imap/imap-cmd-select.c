/* SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3; the CONDSTORE and QRESYNC
 * parameters of RFC 7162 §3.1.8, §3.2.5), CLOSE (§6.4.1), UNSELECT
 * (§6.4.2, RFC 3691), EXPUNGE and UID EXPUNGE (§6.4.3, §6.4.9, RFC 4315)
 * and CHECK (RFC 3501 §6.4.1). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-seqset.h"
#include "imap-limits.h"
#include "imap-progress.h"
#include "imap-qresync.h"
#include "imap-storage.h"
#include "imap-uidonly.h"

#include <strings.h>

struct select_params {
	bool condstore, qresync;
	struct imap_qresync_select qr;
};

/* The select parameters (RFC 4466 §2.1): "(CONDSTORE)" (RFC 7162 §3.1.8)
   and "(QRESYNC (...))" (§3.2.5). Returns 0, or -1 with *error_r for a
   BAD. */
static int select_parse_params(struct imap_client *client, const struct imap_arg *arg,
			       pool_t pool, struct select_params *params_r,
			       const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	memset(params_r, 0, sizeof(*params_r));
	if (arg->type == IMAP_ARG_EOL)
		return 0;
	if (!imap_arg_get_list(arg, &list, &count) || arg[1].type != IMAP_ARG_EOL) {
		*error_r = "Unexpected arguments after the mailbox name.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		const char *name;
		if (!imap_arg_get_atom(&list[i], &name)) {
			*error_r = "Invalid select parameter.";
			return -1;
		}
		if (strcasecmp(name, "CONDSTORE") == 0 && !params_r->condstore) {
			params_r->condstore = true;
		} else if (strcasecmp(name, "QRESYNC") == 0 && !params_r->qresync) {
			/* RFC 7162 §3.2.5: only after ENABLE QRESYNC */
			if (!client->qresync) {
				*error_r = "QRESYNC isn't enabled.";
				return -1;
			}
			if (i + 1 >= count) {
				*error_r = "QRESYNC needs its parameters.";
				return -1;
			}
			if (imap_qresync_parse_select(&list[++i], pool, &params_r->qr, error_r) < 0)
				return -1;
			if (client->uidonly && params_r->qr.have_seq_match) {
				*error_r = IMAP_UIDONLY_BAD;
				return -1;
			}
			params_r->qresync = true;
		} else {
			*error_r = t_strdup_printf("Unknown or repeated select parameter %s.", name);
			return -1;
		}
	}
	return 0;
}

static bool cmd_select_full(struct imap_cmd *cmd, bool readonly)
{
	struct imap_client *client = cmd->client;
	const char *name, *error;
	struct select_params params;
	if (cmd->args[0].type == IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, t_strdup_printf("%s takes a mailbox name.", cmd->name));
		return true;
	}
	if (select_parse_params(client, &cmd->args[1], cmd->pool, &params, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (imap_mailbox_name_from_arg(client, &cmd->args[0], &name, &error) < 0) {
		if (strncmp(error, "BAD ", 4) == 0)
			imap_cmd_bad(cmd, error + 4);
		else
			imap_cmd_send_tagged(cmd, "%s", error);
		return true;
	}
	if (client->box != NULL) {
		imap_client_unselect(client);
		/* RFC 9051 §7.1, RFC 7162 §3.2.11: the end of the previous
		   mailbox's responses */
		if (client->enabled_imap4rev2 || client->qresync)
			imap_client_send_untagged(client, "OK [CLOSED] Previous mailbox closed.");
	}
	enum mailbox_open_flags flags = readonly ? MAILBOX_OPEN_READONLY : 0;
	if (!client->enabled_imap4rev2)
		flags |= MAILBOX_OPEN_TRACK_RECENT;
	client->box = mailbox_open(client->mail_user, name, flags);
	if (client->box == NULL) {
		/* a failed SELECT leaves the session authenticated, unselected */
		imap_cmd_send_tagged(cmd, "%s", imap_storage_error_reply(client));
		return true;
	}
	const struct mailbox_status *status = mailbox_get_view_status(client->box);
	imap_client_send_flags(client, true);
	imap_client_send_untagged(client, "%u EXISTS", mailbox_view_count(client->box));
	if (!client->enabled_imap4rev2) {
		imap_client_send_untagged(client, "%u RECENT", status->recent);
		/* a sequence number: not after UIDONLY (RFC 9586 §3) */
		if (status->first_unseen_seq != 0 && !client->uidonly)
			imap_client_send_untagged(client, "OK [UNSEEN %u] First unseen.",
						  status->first_unseen_seq);
	}
	imap_client_send_untagged(client, "OK [UIDVALIDITY %u] UIDs valid.", status->uidvalidity);
	imap_client_send_untagged(client, "OK [UIDNEXT %u] Predicted next UID.", status->uidnext);
	string_t *mailboxid = t_str_new(32);
	imap_mailboxid_append(mailboxid, status);
	imap_client_send_untagged(client, "OK [MAILBOXID (%s)] Ok.", str_c(mailboxid));
	/* RFC 7162 §3.1.2.1 (SELECT (CONDSTORE) enables it, §3.1.8) */
	if (params.condstore)
		client->condstore = true;
	if (client->condstore) {
		imap_client_send_untagged(client, "OK [HIGHESTMODSEQ %llu] Highest modseq.",
					  (unsigned long long)status->highestmodseq);
	}
	if (client->enabled_imap4rev2) {
		/* RFC 9051 §6.3.2: the mailbox name as the server knows it */
		string_t *str = t_str_new(64);
		str_append(str, "LIST () \"/\" ");
		imap_append_mailbox_name(client, str, name);
		imap_client_send_untagged(client, "%s", str_c(str));
	}
	if (params.qresync && imap_qresync_select_send(client, &params.qr) < 0) {
		/* the mailbox stays selected; the client can resync fully */
		imap_cmd_send_tagged(cmd, "%s", imap_storage_error_reply(client));
		return true;
	}
	imap_cmd_send_tagged(cmd, "OK [%s] %s completed.",
			     mailbox_is_readonly(client->box) ? "READ-ONLY" : "READ-WRITE",
			     readonly ? "Examine" : "Select");
	return true;
}

bool imap_cmd_select(struct imap_cmd *cmd)
{
	return cmd_select_full(cmd, false);
}

bool imap_cmd_examine(struct imap_cmd *cmd)
{
	return cmd_select_full(cmd, true);
}

static bool no_args(struct imap_cmd *cmd)
{
	if (cmd->args[0].type == IMAP_ARG_EOL)
		return true;
	imap_cmd_bad(cmd, t_strdup_printf("%s takes no arguments.", cmd->name));
	return false;
}

bool imap_cmd_close(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	if (!no_args(cmd))
		return true;
	/* RFC 9051 §6.4.1: expunge silently, no EXPUNGE responses */
	int ret = mailbox_is_readonly(client->box) ? 0 : mailbox_expunge(client->box, NULL, 0);
	imap_client_unselect(client);
	if (ret < 0)
		imap_cmd_send_tagged(cmd, "%s", imap_storage_error_reply(client));
	else
		imap_cmd_send_tagged(cmd, "OK Close completed.");
	return true;
}

bool imap_cmd_unselect(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return true;
	imap_client_unselect(cmd->client);
	imap_cmd_send_tagged(cmd, "OK Unselect completed.");
	return true;
}

bool imap_cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const uint32_t *uids = NULL;
	unsigned int uid_count = 0;
	bool limited = false;
	if (cmd->name[0] == 'U') {
		/* UID EXPUNGE set (RFC 4315 §2.1) */
		const char *set;
		imap_seq_ranges_t ranges;
		if (!imap_arg_get_atom(&cmd->args[0], &set) || cmd->args[1].type != IMAP_ARG_EOL ||
		    imap_seqset_parse(set, cmd->pool, &ranges) < 0) {
			imap_cmd_bad(cmd, "UID EXPUNGE takes a UID set.");
			return true;
		}
		const struct mailbox_status *status = mailbox_get_view_status(client->box);
		imap_seqset_resolve(&ranges, status->uidnext > 0 ? status->uidnext - 1 : 0);
		ARRAY(uint32_t) list;
		array_init(&list, cmd->pool, 64);
		for (uint32_t seq = 1; seq <= mailbox_view_count(client->box); seq++) {
			uint32_t uid = mailbox_view_uid(client->box, seq);
			if (imap_seqset_contains(&ranges, uid))
				array_push(&list, uid);
		}
		uids = list.v;
		uid_count = list.count;
		/* RFC 9738: the lowest UIDs of the set up to MESSAGELIMIT */
		unsigned int limit = imap_limit_messages(client);
		if (limit != 0 && uid_count > limit) {
			uid_count = limit;
			limited = true;
		}
		if (uid_count == 0) {
			imap_cmd_finish(cmd, "OK Expunge completed.");
			return true;
		}
	} else if (!no_args(cmd)) {
		return true;
	}
	if (mailbox_is_readonly(client->box)) {
		imap_cmd_finish(cmd, "NO [READ-ONLY] Mailbox is read-only.");
		return true;
	}
	struct imap_progress progress;
	imap_progress_begin(&progress, cmd);
	imap_progress_watch(&progress, client->box);
	int ret = mailbox_expunge(client->box, uids, uid_count);
	imap_progress_end(&progress);
	if (ret < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	const char *limit_code = limited ? "[LIMIT] " : "";
	if (client->qresync) {
		/* the client can't learn the new HIGHESTMODSEQ from VANISHED
		   (RFC 7162 §3.2.10): the reply carries it, after the sync
		   that sent them */
		imap_client_sync(client, 0);
		if (client->box != NULL && !limited) {
			imap_cmd_finish(cmd, "OK [HIGHESTMODSEQ %llu] Expunge completed.",
					(unsigned long long)mailbox_get_view_status(client->box)->highestmodseq);
			return true;
		}
		/* the tagged reply's code is [LIMIT]: the modseq goes first */
		if (client->box != NULL)
			imap_client_send_untagged(client, "OK [HIGHESTMODSEQ %llu] Highest modseq.",
				(unsigned long long)mailbox_get_view_status(client->box)->highestmodseq);
	}
	imap_cmd_finish(cmd, "OK %sExpunge completed.", limit_code);
	return true;
}

bool imap_cmd_check(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return true;
	imap_cmd_finish(cmd, "OK Check completed.");
	return true;
}
