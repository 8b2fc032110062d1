/* Sequence set arguments to view sequence numbers. */
#include "imap-seqs.h"
#include "imap-arg.h"
#include "imap-seqset.h"

int imap_seqs_from_arg(struct imap_client *client, const struct imap_arg *arg, bool uid,
		       pool_t pool, array_uint32_t *seqs_r, const char **error_r)
{
	const char *set;
	imap_seq_ranges_t ranges;
	array_init(seqs_r, pool, 64);
	if (imap_arg_get_atom(arg, &set) && imap_seqset_is_saved(set)) {
		/* SEARCHRES (RFC 5182 §2.2): the saved UIDs still in the view */
		for (unsigned int i = 0; i < client->search_saved.count; i++) {
			uint32_t seq = mailbox_view_seq(client->box, client->search_saved.v[i]);
			if (seq != 0)
				array_push(seqs_r, seq);
		}
		return 0;
	}
	if (!imap_arg_get_atom(arg, &set) || imap_seqset_parse(set, pool, &ranges) < 0) {
		*error_r = "Invalid sequence set.";
		return -1;
	}
	uint32_t count = mailbox_view_count(client->box);
	if (!uid) {
		for (unsigned int i = 0; i < ranges.count; i++) {
			uint32_t s1 = ranges.v[i].seq1, s2 = ranges.v[i].seq2;
			if ((s1 != IMAP_SEQ_STAR && s1 > count) || (s2 != IMAP_SEQ_STAR && s2 > count)) {
				*error_r = "Invalid sequence set: message number beyond the mailbox size.";
				return -1;
			}
		}
		imap_seqset_resolve(&ranges, count);
		for (unsigned int i = 0; i < ranges.count; i++) {
			for (uint64_t s = ranges.v[i].seq1; s <= ranges.v[i].seq2; s++)
				array_push(seqs_r, (uint32_t)s);
		}
		return 0;
	}
	uint32_t max_uid = count == 0 ? 0 : mailbox_view_uid(client->box, count);
	imap_seqset_resolve(&ranges, max_uid);
	for (unsigned int i = 0; i < ranges.count; i++) {
		uint32_t s1, s2;
		if (!mailbox_view_uid_range(client->box, ranges.v[i].seq1, ranges.v[i].seq2, &s1, &s2))
			continue;
		for (uint64_t s = s1; s <= s2; s++)
			array_push(seqs_r, (uint32_t)s);
	}
	/* ranges are sorted and disjoint in UID space, so these are too */
	return 0;
}
