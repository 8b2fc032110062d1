/* SEARCH and UID SEARCH (RFC 9051 §6.4.4), with ESEARCH results (RFC 9051
 * §7.3.4, RFC 4731 RETURN MIN/MAX/ALL/COUNT) for IMAP4rev2 clients and
 * for any client that asks with RETURN. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-search.h"
#include "imap-seqset.h"
#include "imap-storage.h"

#include <strings.h>

enum search_return {
	SEARCH_RETURN_MIN = 0x01,
	SEARCH_RETURN_MAX = 0x02,
	SEARCH_RETURN_ALL = 0x04,
	SEARCH_RETURN_COUNT = 0x08,
};

/* Parses "RETURN (...)". Returns the number of args used, -1 on error. */
static int search_parse_return(const struct imap_arg *args, enum search_return *ret_r)
{
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_atom_equals(&args[0], "RETURN"))
		return 0;
	if (!imap_arg_get_list(&args[1], &list, &count))
		return -1;
	*ret_r = 0;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		if (!imap_arg_get_atom(&list[i], &atom))
			return -1;
		if (strcasecmp(atom, "MIN") == 0) *ret_r |= SEARCH_RETURN_MIN;
		else if (strcasecmp(atom, "MAX") == 0) *ret_r |= SEARCH_RETURN_MAX;
		else if (strcasecmp(atom, "ALL") == 0) *ret_r |= SEARCH_RETURN_ALL;
		else if (strcasecmp(atom, "COUNT") == 0) *ret_r |= SEARCH_RETURN_COUNT;
		else return -1;
	}
	/* RFC 4731 §3.1: RETURN () means ALL */
	if (*ret_r == 0)
		*ret_r = SEARCH_RETURN_ALL;
	return 2;
}

static void search_send_esearch(struct imap_cmd *cmd, const uint32_t *nums, unsigned int count,
				bool uid, enum search_return ret)
{
	string_t *str = t_str_new(256);
	str_append(str, "ESEARCH (TAG ");
	str_printfa(str, "\"%s\")", cmd->tag);
	if (uid)
		str_append(str, " UID");
	if (count > 0) {
		if ((ret & SEARCH_RETURN_MIN) != 0)
			str_printfa(str, " MIN %u", nums[0]);
		if ((ret & SEARCH_RETURN_MAX) != 0)
			str_printfa(str, " MAX %u", nums[count - 1]);
		if ((ret & SEARCH_RETURN_ALL) != 0) {
			imap_seq_ranges_t ranges;
			imap_seqset_from_sorted(nums, count, cmd->pool, &ranges);
			str_append(str, " ALL ");
			imap_seqset_write(&ranges, str);
		}
	}
	if ((ret & SEARCH_RETURN_COUNT) != 0)
		str_printfa(str, " COUNT %u", count);
	imap_client_send_untagged(cmd->client, "%s", str_c(str));
}

static void search_send_plain(struct imap_cmd *cmd, const uint32_t *nums, unsigned int count)
{
	struct ostream *output = cmd->client->conn->output;
	string_t *str = t_str_new(count * 6 + 16);
	str_append(str, "* SEARCH");
	for (unsigned int i = 0; i < count; i++)
		str_printfa(str, " %u", nums[i]);
	str_append(str, "\r\n");
	o_stream_send(output, str_data(str), str_len(str));
}

bool imap_cmd_search(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	enum search_return ret_opts = 0;
	const char *error;
	int used = search_parse_return(cmd->args, &ret_opts);
	if (used < 0) {
		imap_cmd_bad(cmd, "Invalid RETURN options.");
		return true;
	}
	struct search_key *key;
	if (imap_search_parse(client, cmd->args + used, cmd->pool, &key, &error) < 0) {
		if (strncmp(error, "BAD ", 4) == 0)
			imap_cmd_bad(cmd, error + 4);
		else
			imap_cmd_finish(cmd, "%s", error);
		return true;
	}
	array_uint32_t seqs;
	if (imap_search_run(client, key, cmd->pool, &seqs) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	if (uid) {
		for (unsigned int i = 0; i < seqs.count; i++)
			seqs.v[i] = mailbox_view_uid(client->box, seqs.v[i]);
	}
	if (used > 0 || client->enabled_imap4rev2)
		search_send_esearch(cmd, seqs.v, seqs.count, uid,
				    used > 0 ? ret_opts : SEARCH_RETURN_ALL);
	else
		search_send_plain(cmd, seqs.v, seqs.count);
	imap_cmd_finish(cmd, "OK Search completed.");
	return true;
}
