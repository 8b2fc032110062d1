/* The UIDONLY mode's response form and its check of commands (RFC 9586);
 * the rest of the mode is in the code that sends each response. */
#include "imap-uidonly.h"

void imap_uidonly_fetch_begin(const struct imap_client *client, string_t *dest, uint32_t seq,
			      uint32_t uid)
{
	str_append(dest, "* ");
	if (client->uidonly) {
		str_append_uint(dest, uid);
		str_append(dest, " UIDFETCH (");
	} else {
		str_append_uint(dest, seq);
		str_append(dest, " FETCH (");
	}
}

bool imap_uidonly_check_cmd(struct imap_cmd *cmd)
{
	if (!cmd->client->uidonly || strncmp(cmd->name, "UID ", 4) == 0)
		return true;
	imap_cmd_bad(cmd, IMAP_UIDONLY_BAD);
	return false;
}
