/* QRESYNC (RFC 7162 §3.2): the SELECT/EXAMINE parameter, VANISHED
 * (EARLIER) for a UID set, and the VANISHED response that replaces
 * EXPUNGE. The index keeps every expunge with its modseq, so VANISHED
 * (EARLIER) is always exact and the sequence match data is not needed. */
#include "imap-qresync.h"
#include "imap-arg.h"
#include "imap-storage.h"
#include "strnum.h"

/* A set of known numbers: '*' is not allowed (RFC 7162 §7 known-uids) */
static bool parse_seqset_arg(const struct imap_arg *arg, pool_t pool, imap_seq_ranges_t *r)
{
	const char *str;
	if (!imap_arg_get_atom(arg, &str) || imap_seqset_parse(str, pool, r) < 0)
		return false;
	for (unsigned int i = 0; i < r->count; i++) {
		if (r->v[i].seq1 == IMAP_SEQ_STAR || r->v[i].seq2 == IMAP_SEQ_STAR)
			return false;
	}
	return true;
}

int imap_qresync_parse_select(const struct imap_arg *arg, pool_t pool,
			      struct imap_qresync_select *qr_r, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count, i = 2;
	const char *uidvalidity, *modseq;
	uint64_t num;
	memset(qr_r, 0, sizeof(*qr_r));
	*error_r = "QRESYNC takes (uidvalidity modseq [known-uids] [(seqs uids)]).";
	if (!imap_arg_get_list(arg, &list, &count) || count < 2 || count > 4 ||
	    !imap_arg_get_atom(&list[0], &uidvalidity) ||
	    str_to_uint64(uidvalidity, &num) < 0 || num == 0 || num > UINT32_MAX ||
	    !imap_arg_get_atom(&list[1], &modseq) ||
	    str_to_uint64(modseq, &qr_r->modseq) < 0 || qr_r->modseq > INT64_MAX)
		return -1;
	qr_r->uidvalidity = (uint32_t)num;
	if (i < count && list[i].type != IMAP_ARG_LIST) {
		if (!parse_seqset_arg(&list[i], pool, &qr_r->known_uids))
			return -1;
		qr_r->have_known_uids = true;
		i++;
	}
	if (i < count) {
		/* (known-sequence-set known-uid-set), RFC 7162 §3.2.5.2 */
		const struct imap_arg *match;
		unsigned int match_count;
		imap_seq_ranges_t seqs, uids;
		if (!imap_arg_get_list(&list[i], &match, &match_count) || match_count != 2 ||
		    !parse_seqset_arg(&match[0], pool, &seqs) ||
		    !parse_seqset_arg(&match[1], pool, &uids))
			return -1;
		qr_r->have_seq_match = true;
		i++;
	}
	return i == count ? 0 : -1;
}

void imap_qresync_send_vanished(struct imap_client *client, const uint32_t *uids,
				unsigned int count)
{
	if (count == 0)
		return;
	imap_seq_ranges_t ranges;
	imap_seqset_from_sorted(uids, count, t_pool(), &ranges);
	string_t *str = t_str_new(128);
	str_append(str, "VANISHED ");
	imap_seqset_write(&ranges, str);
	imap_client_send_untagged(client, "%s", str_c(str));
}

int imap_qresync_send_vanished_earlier(struct imap_client *client, uint64_t modseq,
				       const imap_seq_ranges_t *uids)
{
	pool_t pool = pool_create("vanished", 1024);
	array_uint32_t expunged;
	if (mailbox_expunged_since(client->box, modseq, pool, &expunged) < 0) {
		pool_destroy(&pool);
		return -1;
	}
	/* those still in the view get a plain VANISHED at the next sync */
	unsigned int n = 0;
	for (unsigned int i = 0; i < expunged.count; i++) {
		uint32_t uid = expunged.v[i];
		if (imap_seqset_contains(uids, uid) && mailbox_view_seq(client->box, uid) == 0)
			expunged.v[n++] = uid;
	}
	if (n > 0) {
		imap_seq_ranges_t ranges;
		imap_seqset_from_sorted(expunged.v, n, pool, &ranges);
		string_t *str = str_new(pool, 128);
		str_append(str, "VANISHED (EARLIER) ");
		imap_seqset_write(&ranges, str);
		imap_client_send_untagged(client, "%s", str_c(str));
	}
	pool_destroy(&pool);
	return 0;
}

int imap_qresync_select_send(struct imap_client *client, const struct imap_qresync_select *qr)
{
	const struct mailbox_status *st = mailbox_get_view_status(client->box);
	/* RFC 7162 §3.2.5.1: another UIDVALIDITY means a full resync */
	if (qr->uidvalidity != st->uidvalidity)
		return 0;
	pool_t pool = pool_create("qresync select", 1024);
	imap_seq_ranges_t known;
	uint32_t max_uid = st->uidnext > 0 ? st->uidnext - 1 : 0;
	if (qr->have_known_uids) {
		array_init(&known, pool, qr->known_uids.count + 1);
		for (unsigned int i = 0; i < qr->known_uids.count; i++)
			array_push(&known, qr->known_uids.v[i]);
	} else {
		/* none given: 1:<UIDNEXT-1> */
		array_init(&known, pool, 1);
		struct imap_seq_range all = { 1, IMAP_SEQ_STAR };
		array_push(&known, all);
	}
	imap_seqset_resolve(&known, max_uid);
	int ret = imap_qresync_send_vanished_earlier(client, qr->modseq, &known);
	array_uint32_t changed;
	if (ret == 0)
		ret = mailbox_view_changed_since(client->box, qr->modseq, pool, &changed);
	if (ret == 0) {
		unsigned int n = 0;
		for (unsigned int i = 0; i < changed.count; i++) {
			uint32_t uid = mailbox_view_uid(client->box, changed.v[i]);
			if (imap_seqset_contains(&known, uid))
				changed.v[n++] = changed.v[i];
		}
		imap_client_send_flag_fetches(client, changed.v, n);
	}
	pool_destroy(&pool);
	return ret;
}
