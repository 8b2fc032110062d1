/* Sequence sets (RFC 9051 §9 "sequence-set"): "1:5,7,10:*", and "$" for a
 * saved search result (RFC 5182). Ranges are kept as written; '*' is
 * IMAP_SEQ_STAR until the caller resolves it against the mailbox. */
#ifndef TERN_IMAP_SEQSET_H
#define TERN_IMAP_SEQSET_H

#include "array.h"
#include "buffer.h"

/* 0 is never a valid nz-number, so 4294967295 stays a number */
#define IMAP_SEQ_STAR ((uint32_t)0)

struct imap_seq_range {
	uint32_t seq1, seq2; /* seq1 <= seq2 after resolving */
};
typedef ARRAY(struct imap_seq_range) imap_seq_ranges_t;

/* Parses str into ranges (pool memory). Returns 0, or -1 for invalid
   syntax (0 is not a valid number). "$" is not accepted here. */
int imap_seqset_parse(const char *str, pool_t pool, imap_seq_ranges_t *ranges_r);
/* True if str is "$". */
bool imap_seqset_is_saved(const char *str);
/* Replaces IMAP_SEQ_STAR by max, orders each range, then sorts and merges
   the ranges. With max = 0 (empty mailbox) '*' means nothing: ranges made
   only of '*' disappear, and "n:*" becomes "max..n" clipped per RFC 9051
   §9 (n:* with n > max is the same as max:n). */
void imap_seqset_resolve(imap_seq_ranges_t *ranges, uint32_t max);
/* Total count of numbers in resolved ranges. */
uint64_t imap_seqset_count(const imap_seq_ranges_t *ranges);
/* True if num is in the resolved ranges (binary search). */
bool imap_seqset_contains(const imap_seq_ranges_t *ranges, uint32_t num);
/* Appends the ranges as a compact sequence set ("1:3,5"). */
void imap_seqset_write(const imap_seq_ranges_t *ranges, string_t *dest);
/* Builds ranges from a sorted list of numbers. */
void imap_seqset_from_sorted(const uint32_t *nums, unsigned int count, pool_t pool,
			     imap_seq_ranges_t *ranges_r);

#endif
