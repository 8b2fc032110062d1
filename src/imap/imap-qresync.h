/* QRESYNC (RFC 7162 §3.2): resynchronising a mailbox in one round trip.
 * SELECT/EXAMINE (QRESYNC (uidvalidity modseq [known-uids ...])) reports
 * what the client missed since modseq as VANISHED (EARLIER) and FETCH
 * (UID FLAGS MODSEQ); UID FETCH (CHANGEDSINCE n VANISHED) does the same
 * for a UID set; and a session with QRESYNC enabled gets VANISHED
 * instead of EXPUNGE (imap-sync.c). */
#ifndef TERN_IMAP_QRESYNC_H
#define TERN_IMAP_QRESYNC_H

#include "imap-client.h"
#include "imap-parser.h"
#include "imap-seqset.h"

/* The QRESYNC select parameter's value. */
struct imap_qresync_select {
	uint32_t uidvalidity;
	uint64_t modseq;
	/* the UIDs the client knows (unresolved; '*' is refused); none
	   given: every UID (RFC 7162 §3.2.5.1) */
	imap_seq_ranges_t known_uids;
	bool have_known_uids;
	/* the sequence match data was given (refused after UIDONLY, RFC
	   9586 §3) */
	bool have_seq_match;
};

/* Parses "(uidvalidity modseq [known-uids [(known-seqs known-uids)]])".
   The sequence match data only helps servers that forget expunges; it is
   checked and then unused. Returns 0, or -1 with *error_r for a BAD. */
int imap_qresync_parse_select(const struct imap_arg *arg, pool_t pool,
			      struct imap_qresync_select *qr_r, const char **error_r);

/* After SELECT/EXAMINE's responses (the view is fresh): when the
   UIDVALIDITY matches, sends VANISHED (EARLIER) for the known UIDs
   expunged since modseq, then FETCH (UID FLAGS MODSEQ) of the known
   messages changed since. Returns 0 or -1 (storage error). */
int imap_qresync_select_send(struct imap_client *client, const struct imap_qresync_select *qr);

/* Sends "* VANISHED (EARLIER) set" of the UIDs in resolved uid ranges
   expunged after modseq and no longer in the view (UID FETCH ...
   (CHANGEDSINCE modseq VANISHED), RFC 7162 §3.2.6). Returns 0 or -1. */
int imap_qresync_send_vanished_earlier(struct imap_client *client, uint64_t modseq,
				       const imap_seq_ranges_t *uids);

/* Sends "* VANISHED set" for sorted UIDs that left the view (§3.2.10). */
void imap_qresync_send_vanished(struct imap_client *client, const uint32_t *uids,
				unsigned int count);

#endif
