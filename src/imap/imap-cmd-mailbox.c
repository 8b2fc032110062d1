/* Mailbox management: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
 * (RFC 9051 §6.3.4-6.3.8), NAMESPACE (§6.3.10, RFC 2342) and STATUS
 * (§6.3.11). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-storage.h"

#include <strings.h>

/* Reads one mailbox name argument followed by nothing else. */
static bool cmd_get_mailbox(struct imap_cmd *cmd, const struct imap_arg *arg,
			    const char **name_r)
{
	const char *error;
	if (imap_mailbox_name_from_arg(cmd->client, arg, name_r, &error) < 0) {
		imap_cmd_fail(cmd, error);
		return false;
	}
	return true;
}

bool imap_cmd_create(struct imap_cmd *cmd)
{
	const char *name;
	enum mailbox_special_use use = MAILBOX_SPECIAL_NONE;
	if (cmd->args[0].type == IMAP_ARG_EOL ||
	    (cmd->args[1].type != IMAP_ARG_EOL &&
	     (cmd->args[1].type != IMAP_ARG_LIST || cmd->args[2].type != IMAP_ARG_EOL))) {
		imap_cmd_bad(cmd, "CREATE takes a mailbox name and optional parameters.");
		return true;
	}
	if (cmd->args[1].type == IMAP_ARG_LIST) {
		/* create-params (RFC 4466 §2.2): only USE (RFC 6154 §3) */
		const struct imap_arg *params, *attrs;
		unsigned int count, attr_count;
		const char *error;
		if (!imap_arg_get_list(&cmd->args[1], &params, &count) || count != 2 ||
		    !imap_arg_atom_equals(&params[0], "USE") ||
		    !imap_arg_get_list(&params[1], &attrs, &attr_count)) {
			imap_cmd_bad(cmd, "Unsupported CREATE parameters.");
			return true;
		}
		int ret = imap_special_use_parse(attrs, attr_count, &use, &error);
		if (ret < 0) {
			imap_cmd_bad(cmd, error);
			return true;
		}
		if (ret == 0) {
			imap_cmd_finish(cmd, "%s", error);
			return true;
		}
	}
	if (!cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	/* RFC 9051 §6.3.4: a trailing separator means the client intends
	   to create children; the name is created without it */
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == MAILBOX_HIERARCHY_SEP)
		name = t_strndup(name, len - 1);
	if (strcmp(name, "INBOX") == 0) {
		imap_cmd_finish(cmd, "NO [ALREADYEXISTS] INBOX always exists.");
		return true;
	}
	struct mailbox_status status;
	if (mailbox_create(cmd->client->mail_user, name, use) < 0)
		imap_cmd_storage_error(cmd);
	else if (mailbox_get_status(cmd->client->mail_user, name, 0, cmd->pool, &status) < 0)
		imap_cmd_finish(cmd, "OK Create completed.");
	else {
		/* RFC 8474 §4.1 */
		string_t *str = t_str_new(64);
		imap_mailboxid_append(str, &status);
		imap_cmd_finish(cmd, "OK [MAILBOXID (%s)] Create completed.", str_c(str));
	}
	return true;
}

bool imap_cmd_delete(struct imap_cmd *cmd)
{
	const char *name;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "DELETE takes one mailbox name.");
		return true;
	}
	if (!cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	struct imap_client *client = cmd->client;
	if (strcmp(name, "INBOX") == 0) {
		imap_cmd_finish(cmd, "NO [CANNOT] INBOX can't be deleted.");
		return true;
	}
	/* deleting the selected mailbox: unselect it first (as Dovecot does)
	   so we don't answer for a mailbox that is gone */
	if (client->box != NULL && strcmp(mailbox_get_name(client->box), name) == 0) {
		imap_client_unselect(client);
		imap_client_send_untagged(client, "OK [CLOSED] Mailbox closed.");
	}
	if (mailbox_delete(client->mail_user, name) < 0)
		imap_cmd_storage_error(cmd);
	else
		imap_cmd_finish(cmd, "OK Delete completed.");
	return true;
}

bool imap_cmd_rename(struct imap_cmd *cmd)
{
	const char *old_name, *new_name;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type == IMAP_ARG_EOL ||
	    cmd->args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "RENAME takes two mailbox names.");
		return true;
	}
	if (!cmd_get_mailbox(cmd, &cmd->args[0], &old_name) ||
	    !cmd_get_mailbox(cmd, &cmd->args[1], &new_name))
		return true;
	if (strcmp(new_name, "INBOX") == 0) {
		imap_cmd_finish(cmd, "NO [ALREADYEXISTS] INBOX always exists.");
		return true;
	}
	if (mailbox_rename(cmd->client->mail_user, old_name, new_name) < 0)
		imap_cmd_storage_error(cmd);
	else
		imap_cmd_finish(cmd, "OK Rename completed.");
	return true;
}

static bool cmd_subscribe_set(struct imap_cmd *cmd, bool subscribe)
{
	const char *name;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, t_strdup_printf("%s takes one mailbox name.", cmd->name));
		return true;
	}
	if (!cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if (mailbox_set_subscribed(cmd->client->mail_user, name, subscribe) < 0)
		imap_cmd_storage_error(cmd);
	else
		imap_cmd_finish(cmd, "OK %s completed.", subscribe ? "Subscribe" : "Unsubscribe");
	return true;
}

bool imap_cmd_subscribe(struct imap_cmd *cmd)
{
	return cmd_subscribe_set(cmd, true);
}

bool imap_cmd_unsubscribe(struct imap_cmd *cmd)
{
	return cmd_subscribe_set(cmd, false);
}

bool imap_cmd_namespace(struct imap_cmd *cmd)
{
	if (cmd->args[0].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "NAMESPACE takes no arguments.");
		return true;
	}
	/* one personal namespace with an empty prefix; no others yet */
	imap_client_send_untagged(cmd->client, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_cmd_finish(cmd, "OK Namespace completed.");
	return true;
}

static const struct {
	const char *name;
	enum mailbox_status_items item;
} status_items[] = {
	{ "MESSAGES", STATUS_MESSAGES },
	{ "UIDNEXT", STATUS_UIDNEXT },
	{ "UIDVALIDITY", STATUS_UIDVALIDITY },
	{ "UNSEEN", STATUS_UNSEEN },
	{ "DELETED", STATUS_DELETED },
	{ "SIZE", STATUS_SIZE },
	{ "RECENT", STATUS_RECENT },
	{ "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ }, /* RFC 7162 §3.1.2.3 */
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT }, /* RFC 7889 §4 */
	{ "MAILBOXID", IMAP_STATUS_MAILBOXID },     /* RFC 8474 §4 */
};

/* Parses "(MESSAGES UNSEEN ...)". Returns 0 or -1. */
int imap_status_items_parse(const struct imap_arg *arg, enum mailbox_status_items *items_r)
{
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return -1;
	*items_r = 0;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		unsigned int j;
		if (!imap_arg_get_atom(&list[i], &atom))
			return -1;
		for (j = 0; j < N_ELEMENTS(status_items); j++) {
			if (strcasecmp(atom, status_items[j].name) == 0) {
				*items_r |= status_items[j].item;
				break;
			}
		}
		if (j == N_ELEMENTS(status_items))
			return -1;
	}
	return 0;
}

void imap_status_write(string_t *dest, enum mailbox_status_items items,
		       const struct mailbox_status *status, uint64_t append_limit)
{
	size_t start = str_len(dest);
	str_append_c(dest, '(');
	for (unsigned int i = 0; i < N_ELEMENTS(status_items); i++) {
		enum mailbox_status_items item = status_items[i].item;
		if ((items & item) == 0)
			continue;
		uint64_t value = item == STATUS_MESSAGES ? status->messages :
			item == STATUS_UIDNEXT ? status->uidnext :
			item == STATUS_UIDVALIDITY ? status->uidvalidity :
			item == STATUS_UNSEEN ? status->unseen :
			item == STATUS_DELETED ? status->deleted :
			item == STATUS_SIZE ? status->size :
			item == STATUS_HIGHESTMODSEQ ? status->highestmodseq :
			item == IMAP_STATUS_APPENDLIMIT ? append_limit : status->recent;
		if (str_len(dest) > start + 1)
			str_append_c(dest, ' ');
		if (item == IMAP_STATUS_MAILBOXID) {
			str_append(dest, "MAILBOXID (");
			imap_mailboxid_append(dest, status);
			str_append_c(dest, ')');
			continue;
		}
		str_printfa(dest, "%s %llu", status_items[i].name, (unsigned long long)value);
	}
	str_append_c(dest, ')');
}

void imap_status_send(struct imap_client *client, const char *name,
		      enum mailbox_status_items items, const struct mailbox_status *status)
{
	string_t *str = t_str_new(128);
	str_append(str, "STATUS ");
	imap_append_mailbox_name(client, str, name);
	str_append_c(str, ' ');
	imap_status_write(str, items, status, client->set->imap.max_literal_size);
	imap_client_send_untagged(client, "%s", str_c(str));
}

bool imap_cmd_status(struct imap_cmd *cmd)
{
	const char *name;
	enum mailbox_status_items items;
	if (cmd->args[0].type == IMAP_ARG_EOL || cmd->args[1].type == IMAP_ARG_EOL ||
	    cmd->args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "STATUS takes a mailbox name and a list of items.");
		return true;
	}
	if (imap_status_items_parse(&cmd->args[1], &items) < 0) {
		imap_cmd_bad(cmd, "Invalid STATUS items.");
		return true;
	}
	if (!cmd_get_mailbox(cmd, &cmd->args[0], &name))
		return true;
	if ((items & STATUS_HIGHESTMODSEQ) != 0)
		imap_client_enable_condstore(cmd->client);
	struct mailbox_status status;
	if (mailbox_get_status(cmd->client->mail_user, name, IMAP_STATUS_MAILBOX_ITEMS(items),
			       cmd->pool, &status) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	imap_status_send(cmd->client, name, items, &status);
	imap_cmd_finish(cmd, "OK Status completed.");
	return true;
}
