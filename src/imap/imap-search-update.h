/* Update contexts (RFC 5267 §4.3, CONTEXT=SEARCH and CONTEXT=SORT): a
 * SEARCH or SORT with RETURN (UPDATE) keeps its result, and the session
 * tells the client how it changes with ESEARCH ADDTO and REMOVEFROM
 * until CANCELUPDATE or the mailbox is closed. */
#ifndef TERN_IMAP_SEARCH_UPDATE_H
#define TERN_IMAP_SEARCH_UPDATE_H

#include "imap-client.h"
#include "imap-sort.h"

/* How many contexts a session keeps; more get NOUPDATE (RFC 5267
   §4.3.1: at least one, more SHOULD be possible). */
#define IMAP_SEARCH_UPDATE_MAX 8

struct search_key;

/* True if tag is the tag of an active context. */
bool imap_search_update_exists(struct imap_client *client, const char *tag);
/* Starts a context for a program parsed into pool (which the context
   then owns) whose current result is seqs (in result order). specs is
   NULL for SEARCH, the criteria for SORT. Returns false if the session
   has too many contexts already (pool is left to the caller). */
bool imap_search_update_add(struct imap_client *client, const char *tag, bool uid, pool_t pool,
			    struct search_key *key, const struct imap_sort_spec *specs,
			    unsigned int spec_count, const uint32_t *seqs, unsigned int count);
/* Ends the context of tag. Returns false if there is none. */
bool imap_search_update_cancel(struct imap_client *client, const char *tag);
/* Ends every context (the mailbox is being closed). */
void imap_search_update_clear(struct imap_client *client);

/* For a searching command with these return options: the pool to parse
   its program into (a new one for an UPDATE context, else the
   command's). Returns false after answering BAD (the tag names an active
   context, RFC 5267 §4.3). */
struct imap_search_return_opts;
bool imap_search_update_start(struct imap_cmd *cmd, const struct imap_search_return_opts *opts,
			      pool_t *pool_r);
/* Frees pool if imap_search_update_start() made it (the command failed). */
void imap_search_update_discard(struct imap_cmd *cmd, pool_t pool);
/* Then, with the program and its result (sequence numbers in result
   order): starts the context if pool is not the command's, or says
   NOUPDATE (RFC 5267 §4.3.1). */
void imap_search_update_finish(struct imap_cmd *cmd, bool uid, pool_t pool,
			       struct search_key *key, const struct imap_sort_spec *specs,
			       unsigned int spec_count, const uint32_t *seqs, unsigned int count);

/* Sends REMOVEFROM for results among these expunged UIDs; called before
   their EXPUNGE responses (RFC 5267 §4.3.4), with the view already
   without them. */
void imap_search_update_expunged(struct imap_client *client, const array_uint32_t *uids);
/* Sends the changes of each context's result since it was last told, if
   the mailbox changed; called after EXISTS (RFC 5267 §4.3.3). */
void imap_search_update_refresh(struct imap_client *client);

#endif
