/* Parsing RETURN options, writing ESEARCH result data and saving "$",
 * shared by SEARCH and SORT (RFC 4731, RFC 5182, RFC 5267 §3 and §4,
 * RFC 9394 §3). */
#include "imap-search-return.h"
#include "imap-arg.h"
#include "imap-search.h"
#include "imap-storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Parses "n:m" or "-n:-m" (RFC 9394 partial-range). */
static int search_parse_partial(const char *str, struct imap_search_return_opts *opts)
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
	opts->partial_first = a;
	opts->partial_last = b;
	return 0;
}

static enum imap_search_return search_return_option(const char *atom)
{
	static const struct { const char *name; enum imap_search_return flag; } names[] = {
		{ "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
		{ "ALL", IMAP_SEARCH_RETURN_ALL }, { "COUNT", IMAP_SEARCH_RETURN_COUNT },
		{ "SAVE", IMAP_SEARCH_RETURN_SAVE }, { "UPDATE", IMAP_SEARCH_RETURN_UPDATE },
		{ "CONTEXT", IMAP_SEARCH_RETURN_CONTEXT },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(atom, names[i].name) == 0)
			return names[i].flag;
	}
	return 0;
}

int imap_search_return_parse(const struct imap_arg *args, struct imap_search_return_opts *opts_r)
{
	memset(opts_r, 0, sizeof(*opts_r));
	opts_r->flags = IMAP_SEARCH_RETURN_ALL;
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_atom_equals(&args[0], "RETURN"))
		return 0;
	if (!imap_arg_get_list(&args[1], &list, &count))
		return -1;
	enum imap_search_return flags = 0, flag;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		if (!imap_arg_get_atom(&list[i], &atom))
			return -1;
		if (strcasecmp(atom, "PARTIAL") == 0 && i + 1 < count &&
		    (flags & IMAP_SEARCH_RETURN_PARTIAL) == 0) {
			const char *range;
			if (!imap_arg_get_atom(&list[++i], &range) ||
			    search_parse_partial(range, opts_r) < 0)
				return -1;
			flags |= IMAP_SEARCH_RETURN_PARTIAL;
		} else if ((flag = search_return_option(atom)) != 0) {
			flags |= flag;
		} else {
			return -1;
		}
	}
	/* RFC 9394 §3.1: PARTIAL and ALL exclude each other */
	if ((flags & (IMAP_SEARCH_RETURN_PARTIAL | IMAP_SEARCH_RETURN_ALL)) ==
	    (IMAP_SEARCH_RETURN_PARTIAL | IMAP_SEARCH_RETURN_ALL))
		return -1;
	/* RFC 4731 §3.1: RETURN () means ALL; so does a lone CONTEXT hint */
	if ((flags & ~IMAP_SEARCH_RETURN_CONTEXT) == 0)
		flags |= IMAP_SEARCH_RETURN_ALL;
	opts_r->flags = flags;
	opts_r->given = true;
	return 2;
}

void imap_search_return_partial_slice(const struct imap_search_return_opts *opts,
				      unsigned int count, unsigned int *start_r,
				      unsigned int *n_r)
{
	int64_t first, last;
	if (opts->partial_first > 0) {
		first = opts->partial_first - 1;
		last = opts->partial_last - 1;
	} else {
		first = (int64_t)count + opts->partial_last;
		last = (int64_t)count + opts->partial_first;
	}
	if (first < 0)
		first = 0;
	if (last >= (int64_t)count)
		last = (int64_t)count - 1;
	*start_r = (unsigned int)first;
	*n_r = last < first ? 0 : (unsigned int)(last - first + 1);
}

void imap_search_return_write_tag(string_t *dest, const char *tag, bool uid)
{
	str_printfa(dest, "ESEARCH (TAG \"%s\")", tag);
	if (uid)
		str_append(dest, " UID");
}

void imap_search_return_write_set(string_t *dest, const uint32_t *nums, unsigned int count)
{
	for (unsigned int i = 0; i < count; ) {
		unsigned int end = i;
		while (end + 1 < count && nums[end + 1] == nums[end] + 1)
			end++;
		if (i > 0)
			str_append_c(dest, ',');
		str_append_uint(dest, nums[i]);
		if (end > i) {
			str_append_c(dest, ':');
			str_append_uint(dest, nums[end]);
		}
		i = end + 1;
	}
}

static void search_write_partial(string_t *dest, const struct imap_search_return_opts *opts,
				 const uint32_t *nums, unsigned int count)
{
	unsigned int start, n;
	imap_search_return_partial_slice(opts, count, &start, &n);
	/* the range as the client gave it, lower end first */
	if (opts->partial_first > 0)
		str_printfa(dest, " PARTIAL (%lld:%lld ", (long long)opts->partial_first,
			    (long long)opts->partial_last);
	else
		str_printfa(dest, " PARTIAL (%lld:%lld ", (long long)opts->partial_last,
			    (long long)opts->partial_first);
	if (n == 0)
		str_append(dest, "NIL");
	else
		imap_search_return_write_set(dest, nums + start, n);
	str_append_c(dest, ')');
}

void imap_search_return_write(string_t *dest, const struct imap_search_return_opts *opts,
			      const uint32_t *nums, unsigned int count)
{
	enum imap_search_return flags = opts->flags;
	if (count > 0) {
		if ((flags & IMAP_SEARCH_RETURN_MIN) != 0)
			str_printfa(dest, " MIN %u", nums[0]);
		if ((flags & IMAP_SEARCH_RETURN_MAX) != 0)
			str_printfa(dest, " MAX %u", nums[count - 1]);
		if ((flags & IMAP_SEARCH_RETURN_ALL) != 0) {
			str_append(dest, " ALL ");
			imap_search_return_write_set(dest, nums, count);
		}
	}
	if ((flags & IMAP_SEARCH_RETURN_COUNT) != 0)
		str_printfa(dest, " COUNT %u", count);
	if ((flags & IMAP_SEARCH_RETURN_PARTIAL) != 0)
		search_write_partial(dest, opts, nums, count);
}

void imap_search_return_send(struct imap_cmd *cmd, const struct imap_search_return_opts *opts,
			     bool uid, const uint32_t *nums, unsigned int count,
			     uint64_t modseq)
{
	string_t *str = t_str_new(256);
	imap_search_return_write_tag(str, cmd->tag, uid);
	imap_search_return_write(str, opts, nums, count);
	if (modseq != 0)
		str_printfa(str, " MODSEQ %llu", (unsigned long long)modseq);
	imap_client_send_untagged(cmd->client, "%s", str_c(str));
}

static int search_modseq_cb(const struct mail_record *rec, uint32_t seq ATTR_UNUSED,
			    void *context)
{
	uint64_t *highest = context;
	if (rec->modseq > *highest)
		*highest = rec->modseq;
	return 0;
}

int imap_search_return_modseq(struct imap_client *client, const struct search_key *key,
			      const struct imap_search_return_opts *opts,
			      const uint32_t *seqs, unsigned int count, uint64_t *modseq_r)
{
	*modseq_r = 0;
	if (!imap_search_uses_modseq(key))
		return 0;
	/* RFC 7162 §3.1: a MODSEQ key enables CONDSTORE */
	imap_client_enable_condstore(client);
	/* a plain SEARCH/SORT reply shows all */
	enum imap_search_return ret = opts->given ? opts->flags : IMAP_SEARCH_RETURN_ALL;
	unsigned int start = 0, n = count;
	if ((ret & IMAP_SEARCH_RETURN_PARTIAL) != 0)
		imap_search_return_partial_slice(opts, count, &start, &n);
	if (n == 0)
		return 0;
	uint32_t *shown = t_new(uint32_t, n + 1);
	unsigned int shown_count = 0;
	if ((ret & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT |
		    IMAP_SEARCH_RETURN_PARTIAL)) == 0) {
		if ((ret & IMAP_SEARCH_RETURN_MIN) != 0)
			shown[shown_count++] = seqs[0];
		if ((ret & IMAP_SEARCH_RETURN_MAX) != 0 && (shown_count == 0 || count > 1))
			shown[shown_count++] = seqs[count - 1];
	} else {
		memcpy(shown, seqs + start, n * sizeof(*shown));
		shown_count = n;
	}
	/* the record reader wants ascending numbers */
	qsort(shown, shown_count, sizeof(*shown), uint32_cmp);
	return shown_count == 0 ? 0 :
		mailbox_foreach_record_flags(client->box, shown, shown_count, search_modseq_cb,
					     modseq_r);
}

void imap_search_return_save(struct imap_client *client, const struct imap_search_return_opts *opts,
			     const uint32_t *seqs, unsigned int count)
{
	enum imap_search_return ret = opts->flags;
	unsigned int start = 0, n = count;
	if ((ret & IMAP_SEARCH_RETURN_PARTIAL) != 0)
		imap_search_return_partial_slice(opts, count, &start, &n);
	uint32_t *uids = t_new(uint32_t, n + 2);
	unsigned int saved = 0;
	if ((ret & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT |
		    IMAP_SEARCH_RETURN_PARTIAL)) == 0 &&
	    (ret & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX)) != 0) {
		/* RFC 5182 §2.4: with only MIN and/or MAX, only those are saved */
		if (n > 0 && (ret & IMAP_SEARCH_RETURN_MIN) != 0)
			uids[saved++] = mailbox_view_uid(client->box, seqs[0]);
		if (n > 0 && (ret & IMAP_SEARCH_RETURN_MAX) != 0 && (saved == 0 || n > 1))
			uids[saved++] = mailbox_view_uid(client->box, seqs[n - 1]);
	} else {
		for (unsigned int i = 0; i < n; i++)
			uids[saved++] = mailbox_view_uid(client->box, seqs[start + i]);
	}
	/* "$" is a set: ascending, whatever the result order */
	qsort(uids, saved, sizeof(*uids), uint32_cmp);
	imap_client_search_save(client, uids, saved);
}
