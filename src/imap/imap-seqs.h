/* Turning a command's sequence set or UID set argument into the sorted
 * list of sequence numbers of the selected mailbox's view it names. */
#ifndef TERN_IMAP_SEQS_H
#define TERN_IMAP_SEQS_H

#include "imap-client.h"
#include "imap-parser.h"

/* uid: the set holds UIDs (UID commands); missing UIDs are skipped.
   Otherwise a number above the message count is an error (RFC 9051 §9:
   the client can't know such a message). Returns 0, or -1 with *error_r
   the text for a BAD. */
int imap_seqs_from_arg(struct imap_client *client, const struct imap_arg *arg, bool uid,
		       pool_t pool, array_uint32_t *seqs_r, const char **error_r);

#endif
