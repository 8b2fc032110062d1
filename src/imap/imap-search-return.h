/* What SEARCH and SORT return (RFC 4731 ESEARCH, RFC 5267 ESORT and
 * CONTEXT, RFC 5182 SAVE, RFC 9394 PARTIAL): parsing "RETURN (...)" and
 * writing the ESEARCH response of a result list. */
#ifndef TERN_IMAP_SEARCH_RETURN_H
#define TERN_IMAP_SEARCH_RETURN_H

#include "imap-client.h"
#include "imap-parser.h"

enum imap_search_return {
	IMAP_SEARCH_RETURN_MIN = 0x01,
	IMAP_SEARCH_RETURN_MAX = 0x02,
	IMAP_SEARCH_RETURN_ALL = 0x04,
	IMAP_SEARCH_RETURN_COUNT = 0x08,
	IMAP_SEARCH_RETURN_SAVE = 0x10,
	IMAP_SEARCH_RETURN_PARTIAL = 0x20,
	/* RFC 5267 §4.3: keep the result up to date with ADDTO/REMOVEFROM */
	IMAP_SEARCH_RETURN_UPDATE = 0x40,
	/* RFC 5267 §4.2: a hint that more is coming; nothing to do */
	IMAP_SEARCH_RETURN_CONTEXT = 0x80,
};

struct imap_search_return_opts {
	enum imap_search_return flags;
	/* RFC 9394 §3: results first..last (1-based), or counted from the
	   end when negative */
	int64_t partial_first, partial_last;
	bool given; /* a RETURN (...) was there */
};

/* Parses an optional "RETURN (...)" at args. Returns how many args it
   used (0 or 2), or -1 if they are invalid. Without RETURN, or with an
   empty list, flags is ALL (RFC 4731 §3.1). */
int imap_search_return_parse(const struct imap_arg *args, struct imap_search_return_opts *opts_r);

/* The slice of a count-long result that PARTIAL selects. */
void imap_search_return_partial_slice(const struct imap_search_return_opts *opts,
				      unsigned int count, unsigned int *start_r,
				      unsigned int *n_r);

/* Appends "ESEARCH (TAG "tag")" and " UID" if uid. */
void imap_search_return_write_tag(string_t *dest, const char *tag, bool uid);
/* Appends the return data of a result in its order (mailbox order for
   SEARCH, sort order for SORT: MIN is the first, MAX the last). */
void imap_search_return_write(string_t *dest, const struct imap_search_return_opts *opts,
			      const uint32_t *nums, unsigned int count);
/* Appends nums, in their order, as a sequence-set whose ranges only join
   runs of consecutive increasing numbers (RFC 5267 §3.2). */
void imap_search_return_write_set(string_t *dest, const uint32_t *nums, unsigned int count);

/* Sends "* ESEARCH ..." for cmd's result nums (in result order), with
   "MODSEQ modseq" unless modseq is 0. */
void imap_search_return_send(struct imap_cmd *cmd, const struct imap_search_return_opts *opts,
			     bool uid, const uint32_t *nums, unsigned int count,
			     uint64_t modseq);
/* The MODSEQ a result reports (RFC 7162 §3.1.5, §3.1.6) when the program
   has a MODSEQ key (which also enables CONDSTORE), else 0: the highest
   modseq of the messages the reply shows (only MIN and/or MAX when only
   those were asked, the PARTIAL slice, else all of them). seqs are
   sequence numbers in result order. *modseq_r is 0 when no message is
   shown. Returns 0 or -1 (storage error). */
struct search_key;
int imap_search_return_modseq(struct imap_client *client, const struct search_key *key,
			      const struct imap_search_return_opts *opts,
			      const uint32_t *seqs, unsigned int count, uint64_t *modseq_r);
/* Saves the result's UIDs for "$" (RFC 5182): all, or only MIN and/or
   MAX when only those were asked (§2.4), or the PARTIAL slice (RFC 9394
   §3.1). seqs are sequence numbers in result order. */
void imap_search_return_save(struct imap_client *client, const struct imap_search_return_opts *opts,
			     const uint32_t *seqs, unsigned int count);

#endif
