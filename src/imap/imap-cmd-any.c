/* Commands valid in any state: CAPABILITY, NOOP, LOGOUT (RFC 9051 §6.1),
 * ID (RFC 2971) and ENABLE (RFC 5161, RFC 9051 §6.3.1; IMAP4rev2, and
 * CONDSTORE and QRESYNC of RFC 7162). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-capability.h"
#include "imap-id.h"
#include "transport-deflate.h"

#include <strings.h>

static bool no_args(struct imap_cmd *cmd)
{
	if (cmd->args[0].type == IMAP_ARG_EOL)
		return true;
	imap_cmd_bad(cmd, t_strdup_printf("%s takes no arguments.", cmd->name));
	return false;
}

bool imap_cmd_capability(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return true;
	imap_client_send_untagged(cmd->client, "CAPABILITY %s", imap_client_capability(cmd->client));
	imap_cmd_finish(cmd, "OK Capability completed.");
	return true;
}

bool imap_cmd_noop(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return true;
	imap_cmd_finish(cmd, "OK NOOP completed.");
	return true;
}

bool imap_cmd_logout(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return true;
	imap_client_send_untagged(cmd->client, "BYE Logging out");
	imap_cmd_send_tagged(cmd, "OK Logout completed.");
	cmd->client->logout = true;
	return true;
}

bool imap_cmd_id(struct imap_cmd *cmd)
{
	string_t *fields = t_str_new(128);
	const char *error;
	if (imap_id_parse(cmd->args, fields, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (str_len(fields) > 0)
		log_info(&cmd->client->conn->log, "client_id", "%s", str_c(fields) + 1);
	imap_client_send_line(cmd->client, imap_id_reply());
	imap_cmd_finish(cmd, "OK ID completed.");
	return true;
}

/* RFC 5161 §3.1: unknown capabilities are ignored; "* ENABLED" lists the
   ones that got enabled by this command. A capability the operator
   removed from the list is unknown here too. */
bool imap_cmd_enable(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const char *removed = client->set->imap.capability_remove;
	string_t *enabled = t_str_new(64);
	if (cmd->args[0].type == IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "ENABLE needs at least one capability.");
		return true;
	}
	for (const struct imap_arg *arg = cmd->args; arg->type != IMAP_ARG_EOL; arg++) {
		const char *name;
		if (!imap_arg_get_atom(arg, &name)) {
			imap_cmd_bad(cmd, "Invalid capability name.");
			return true;
		}
		if (imap_capability_is_removed(removed, name))
			continue;
		if (strcasecmp(name, "IMAP4rev2") == 0 && !client->enabled_imap4rev2) {
			client->enabled_imap4rev2 = true;
			str_append(enabled, " IMAP4rev2");
		} else if (strcasecmp(name, "CONDSTORE") == 0 && !client->condstore) {
			imap_client_enable_condstore(client);
			str_append(enabled, " CONDSTORE");
		} else if (strcasecmp(name, "QRESYNC") == 0 && !client->qresync) {
			/* RFC 7162 §3.2.3: implies CONDSTORE */
			imap_client_enable_condstore(client);
			client->qresync = true;
			str_append(enabled, " QRESYNC");
		} else if (strcasecmp(name, "UIDONLY") == 0 && !client->uidonly) {
			/* RFC 9586 §3: from here on no sequence numbers */
			client->uidonly = true;
			str_append(enabled, " UIDONLY");
		} else if (strcasecmp(name, "UTF8=ACCEPT") == 0 && !client->utf8_accept) {
			/* RFC 9755 §3: UTF-8 mailbox names and quoted strings
			   from here on */
			client->utf8_accept = true;
			str_append(enabled, " UTF8=ACCEPT");
		}
	}
	imap_client_send_untagged(client, "ENABLED%s", str_c(enabled));
	imap_cmd_finish(cmd, "OK Enabled.");
	return true;
}

/* RFC 8437 §3: back to the not-authenticated state. The mailbox closes
   without expunging (as UNSELECT), enabled extensions and the session's
   state go; TLS stays. The hand-back to a login process happens once the
   OK is queued, so pipelined commands meet the pre-login engine. After
   COMPRESS it is refused: the DEFLATE state lives in this (mail) process
   and can't move to the login process. */
bool imap_cmd_unauthenticate(struct imap_cmd *cmd)
{
	if (cmd->args[0].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "UNAUTHENTICATE takes no arguments.");
		return true;
	}
	if (transport_is_deflate(cmd->client->conn->transport)) {
		imap_cmd_finish(cmd, "NO [CANNOT] UNAUTHENTICATE is not available after COMPRESS.");
		return true;
	}
	imap_client_unselect(cmd->client);
	imap_cmd_send_tagged(cmd, "OK Unauthenticate completed.");
	cmd->client->unauthenticate = true;
	return true;
}

bool imap_cmd_already_authenticated(struct imap_cmd *cmd)
{
	imap_cmd_bad(cmd, t_strdup_printf("%s is not allowed: already authenticated.", cmd->name));
	return true;
}
