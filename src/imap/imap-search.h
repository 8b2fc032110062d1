/* SEARCH keys (RFC 9051 §6.4.4): parsing into a tree and matching
 * messages. Text keys (HEADER, FROM..SUBJECT, BODY, TEXT) are answered by
 * the user's full-text index (mailbox_search_text(): decoded text,
 * i;unicode-casemap substrings); the rest from the message records. */
#ifndef TERN_IMAP_SEARCH_H
#define TERN_IMAP_SEARCH_H

#include "imap-client.h"
#include "imap-parser.h"
#include "imap-seqset.h"

struct search_key;

/* The reply to a charset that isn't supported (RFC 9051 §6.4.4). */
#define IMAP_SEARCH_BADCHARSET_REPLY "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset."
/* UTF-8, US-ASCII, and every charset iconv converts (RFC 9051 §6.4.4:
   others get NO [BADCHARSET]). */
bool imap_search_charset_is_supported(const char *charset);
/* Parses the search program (after an optional CHARSET). Returns 0, or -1
   with *error_r the full reply text ("BAD ..." or "NO [BADCHARSET] ..."). */
int imap_search_parse(struct imap_client *client, const struct imap_arg *args, pool_t pool,
		      struct search_key **key_r, const char **error_r);
/* Parses a search program whose strings are in charset (NULL: UTF-8;
   already checked with imap_search_charset_is_supported()), as SORT and
   THREAD give it. */
int imap_search_parse_charset(struct imap_client *client, const struct imap_arg *args,
			      const char *charset, pool_t pool, struct search_key **key_r,
			      const char **error_r);
/* True if the program has a MODSEQ key (RFC 7162 §3.1.5): the reply then
   carries the result's highest modseq, and CONDSTORE is on. */
bool imap_search_uses_modseq(const struct search_key *key);
/* True if the program has a sequence set key by message number (not "$",
   which holds UIDs): refused after ENABLE UIDONLY (RFC 9586 §3). */
bool imap_search_uses_seqnums(const struct search_key *key);
/* After imap_search_run(): the sequence numbers [*seq1_r, *seq2_r] the
   program's top-level sequence and UID sets allow at most (the whole
   view without any). False if they allow none. For MESSAGELIMIT's window
   (RFC 9738). */
bool imap_search_seq_bounds(struct imap_client *client, const struct search_key *key,
			    uint32_t *seq1_r, uint32_t *seq2_r);
/* Appends the sequence numbers of matching messages (ascending). Returns
   0 or -1 (storage error). */
int imap_search_run(struct imap_client *client, const struct search_key *key, pool_t pool,
		    array_uint32_t *seqs_r);

#endif
