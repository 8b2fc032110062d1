/* Message limits of one command (RFC 9738). */
#include "imap-limits.h"

unsigned int imap_limit_messages(const struct imap_client *client)
{
	return client->set->imap.message_limit;
}

unsigned int imap_limit_save(const struct imap_client *client)
{
	unsigned int limit = client->set->imap.save_limit;
	return limit != 0 ? limit : client->set->imap.message_limit;
}

int imap_limit_apply(struct imap_cmd *cmd, array_uint32_t *seqs)
{
	unsigned int limit = imap_limit_messages(cmd->client);
	if (limit == 0 || seqs->count <= limit)
		return 0;
	if (strncmp(cmd->name, "UID ", 4) != 0)
		return -1;
	/* the lowest UIDs: the client continues after the last one it got */
	seqs->count = limit;
	return 1;
}
