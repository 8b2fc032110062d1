/* The SORT engine (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO): sort
 * criteria, and the matches of a search program with the keys that
 * sorting and threading compare, read from the index (no message file). */
#ifndef TERN_IMAP_SORT_H
#define TERN_IMAP_SORT_H

#include "imap-client.h"
#include "imap-parser.h"

#define IMAP_SORT_MAX_CRITERIA 16

struct search_key;

enum imap_sort_criterion {
	IMAP_SORT_ARRIVAL, IMAP_SORT_CC, IMAP_SORT_DATE, IMAP_SORT_FROM, IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT, IMAP_SORT_TO, IMAP_SORT_DISPLAYFROM, IMAP_SORT_DISPLAYTO,
};

struct imap_sort_spec {
	enum imap_sort_criterion criterion;
	bool reverse;
};

/* One matched message with what sorting and threading compare. */
struct imap_sort_msg {
	uint32_t seq, uid;
	time_t internal_date, date;
	uint64_t size;
	const char *from, *to, *cc, *display_from, *display_to, *subject;
	const char *message_id, *in_reply_to, *references;
	bool subject_reply, has_date;
};

/* Parses a sort-criteria list into specs[IMAP_SORT_MAX_CRITERIA].
   Returns 0 or -1 (invalid). */
int imap_sort_parse_criteria(const struct imap_arg *arg, struct imap_sort_spec *specs,
			     unsigned int *count_r);

/* Runs the search program and loads its matches (ascending) with the
   keys in fields (enum search_key_fields), their DATE, and if
   all_records their arrival date and size. Returns 0 or -1 (storage
   error). */
int imap_sort_load(struct imap_client *client, struct search_key *key, unsigned int fields,
		   bool all_records, pool_t pool, struct imap_sort_msg **msgs_r,
		   unsigned int *count_r);

/* Appends the sequence numbers of the program's matches in sort order.
   Returns 0 or -1 (storage error). */
int imap_sort_run(struct imap_client *client, struct search_key *key,
		  const struct imap_sort_spec *specs, unsigned int spec_count, pool_t pool,
		  array_uint32_t *seqs_r);

#endif
