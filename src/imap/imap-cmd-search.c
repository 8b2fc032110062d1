/* SEARCH and UID SEARCH (RFC 9051 §6.4.4), with ESEARCH results (RFC 9051
 * §7.3.4, RFC 4731 RETURN MIN/MAX/ALL/COUNT) for IMAP4rev2 clients and
 * for any client that asks with RETURN; RETURN (SAVE) for SEARCHRES
 * (RFC 5182) and RETURN (PARTIAL first:last) paging (RFC 9394). */
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
	SEARCH_RETURN_SAVE = 0x10,
	SEARCH_RETURN_PARTIAL = 0x20,
};

/* RFC 9394 §3: results first..last (1-based), or counted from the end
   when negative */
struct search_partial {
	int64_t first, last;
};

/* Parses "n:m" or "-n:-m" (RFC 9394 partial-range). */
static int search_parse_partial(const char *str, struct search_partial *partial_r)
{
	long long a, b;
	char c;
	if (sscanf(str, "%lld:%lld%c", &a, &b, &c) != 2 || a == 0 || b == 0 ||
	    (a < 0) != (b < 0) || a > UINT32_MAX || b > UINT32_MAX ||
	    a < -(long long)UINT32_MAX || b < -(long long)UINT32_MAX ||
	    (str[0] == '-') != (a < 0))
		return -1;
	if ((a > 0 && a > b) || (a < 0 && a < b)) {
		long long t = a;
		a = b;
		b = t;
	}
	partial_r->first = a;
	partial_r->last = b;
	return 0;
}

/* Parses "RETURN (...)". Returns the number of args used, -1 on error. */
static int search_parse_return(const struct imap_arg *args, enum search_return *ret_r,
			       struct search_partial *partial_r)
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
		else if (strcasecmp(atom, "SAVE") == 0) *ret_r |= SEARCH_RETURN_SAVE;
		else if (strcasecmp(atom, "PARTIAL") == 0 && i + 1 < count &&
			 (*ret_r & SEARCH_RETURN_PARTIAL) == 0) {
			const char *range;
			if (!imap_arg_get_atom(&list[++i], &range) ||
			    search_parse_partial(range, partial_r) < 0)
				return -1;
			*ret_r |= SEARCH_RETURN_PARTIAL;
		} else return -1;
	}
	/* RFC 9394 §3.1: PARTIAL and ALL exclude each other */
	if ((*ret_r & (SEARCH_RETURN_PARTIAL | SEARCH_RETURN_ALL)) ==
	    (SEARCH_RETURN_PARTIAL | SEARCH_RETURN_ALL))
		return -1;
	/* RFC 4731 §3.1: RETURN () means ALL */
	if (*ret_r == 0)
		*ret_r = SEARCH_RETURN_ALL;
	return 2;
}

/* The slice of nums a PARTIAL range selects: *start_r and *n_r. */
static void search_partial_slice(const struct search_partial *partial, unsigned int count,
				 unsigned int *start_r, unsigned int *n_r)
{
	int64_t first, last;
	if (partial->first > 0) {
		first = partial->first - 1;
		last = partial->last - 1;
	} else {
		first = (int64_t)count + partial->last;
		last = (int64_t)count + partial->first;
	}
	if (first < 0)
		first = 0;
	if (last >= (int64_t)count)
		last = (int64_t)count - 1;
	*start_r = (unsigned int)first;
	*n_r = last < first ? 0 : (unsigned int)(last - first + 1);
}

static void search_send_esearch(struct imap_cmd *cmd, const uint32_t *nums, unsigned int count,
				bool uid, enum search_return ret, const struct search_partial *partial)
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
	if ((ret & SEARCH_RETURN_PARTIAL) != 0) {
		unsigned int start, n;
		search_partial_slice(partial, count, &start, &n);
		if (partial->first > 0)
			str_printfa(str, " PARTIAL (%lld:%lld ", (long long)partial->first,
				    (long long)partial->last);
		else
			str_printfa(str, " PARTIAL (%lld:%lld ", (long long)partial->last,
				    (long long)partial->first);
		if (n == 0)
			str_append(str, "NIL");
		else {
			imap_seq_ranges_t ranges;
			imap_seqset_from_sorted(nums + start, n, cmd->pool, &ranges);
			imap_seqset_write(&ranges, str);
		}
		str_append_c(str, ')');
	}
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

/* Saves the result's UIDs for "$" (RFC 5182); with PARTIAL only the
   selected slice (RFC 9394 §3.1). */
static void search_save(struct imap_client *client, const array_uint32_t *seqs,
			enum search_return ret, const struct search_partial *partial)
{
	unsigned int start = 0, n = seqs->count;
	if ((ret & SEARCH_RETURN_PARTIAL) != 0)
		search_partial_slice(partial, seqs->count, &start, &n);
	uint32_t *uids = t_new(uint32_t, n + 2);
	unsigned int count = 0;
	if ((ret & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT | SEARCH_RETURN_PARTIAL)) == 0 &&
	    (ret & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX)) != 0) {
		/* RFC 5182 §2.4: with only MIN and/or MAX, only those are saved */
		if (n > 0 && (ret & SEARCH_RETURN_MIN) != 0)
			uids[count++] = mailbox_view_uid(client->box, seqs->v[0]);
		if (n > 0 && (ret & SEARCH_RETURN_MAX) != 0 && (count == 0 || n > 1))
			uids[count++] = mailbox_view_uid(client->box, seqs->v[n - 1]);
	} else {
		for (unsigned int i = 0; i < n; i++)
			uids[count++] = mailbox_view_uid(client->box, seqs->v[start + i]);
	}
	imap_client_search_save(client, uids, count);
}

bool imap_cmd_search(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	enum search_return ret_opts = 0;
	struct search_partial partial = { 0, 0 };
	const char *error;
	int used = search_parse_return(cmd->args, &ret_opts, &partial);
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
		/* RFC 5182 §2.1: a failed SEARCH with SAVE empties "$" */
		if ((ret_opts & SEARCH_RETURN_SAVE) != 0)
			imap_client_search_save(client, NULL, 0);
		imap_cmd_storage_error(cmd);
		return true;
	}
	if ((ret_opts & SEARCH_RETURN_SAVE) != 0)
		search_save(client, &seqs, ret_opts, &partial);
	if (uid) {
		for (unsigned int i = 0; i < seqs.count; i++)
			seqs.v[i] = mailbox_view_uid(client->box, seqs.v[i]);
	}
	if (used > 0 || client->enabled_imap4rev2) {
		/* RFC 5182 §2.4: SAVE alone returns no ESEARCH */
		if (used == 0 || ret_opts != SEARCH_RETURN_SAVE)
			search_send_esearch(cmd, seqs.v, seqs.count, uid,
					    used > 0 ? ret_opts : SEARCH_RETURN_ALL, &partial);
	} else {
		search_send_plain(cmd, seqs.v, seqs.count);
	}
	imap_cmd_finish(cmd, "OK Search completed.");
	return true;
}
