/* Mailbox rows of the index (names, UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ,
 * cached counts, driver location), the keywords defined per mailbox and
 * the subscription list. Names are stored as given (UTF-8, '/' hierarchy,
 * "INBOX" canonical); validating them is the storage layer's job. */
#ifndef TERN_INDEX_MAILBOX_H
#define TERN_INDEX_MAILBOX_H

#include "array.h"
#include "index-db.h"

/* Limits on keywords: per mailbox, and the length of one. */
#define INDEX_KEYWORDS_MAX 256
#define INDEX_KEYWORD_MAX_LENGTH 128

struct index_mailbox {
	int64_t id;
	const char *name;
	const char *dir; /* NULL for a \Noselect parent */
	bool selectable;
	uint32_t special_use;
	uint32_t uidvalidity, uidnext, first_recent_uid;
	uint32_t messages, unseen, deleted;
	uint64_t vsize, highestmodseq, mirror_modseq;
	int64_t disk_stamp;
};

/* Lookups return 1 and fill *mb_r (strings from pool), 0 if there is no
   such mailbox, -1 on error. */
int index_mailbox_lookup(struct index_db *db, const char *name, pool_t pool,
			 struct index_mailbox *mb_r);
int index_mailbox_get(struct index_db *db, int64_t id, pool_t pool,
		      struct index_mailbox *mb_r);
/* All rows sorted by name (byte order). Returns 0 or -1. */
int index_mailbox_list(struct index_db *db, pool_t pool, struct index_mailbox **list_r,
		       unsigned int *count_r);

/* The user's totals over every mailbox: messages and their RFC822.SIZE,
   summed from the mailbox rows' exact counts in one query (quota).
   Returns 0 or -1. */
int index_mailbox_usage(struct index_db *db, uint64_t *messages_r, uint64_t *vsize_r);

/* The functions below need a write transaction; they return 0 or -1. */

/* Adds a mailbox (selectable with a fresh UIDVALIDITY when dir != NULL,
   else a \Noselect parent). */
int index_mailbox_create(struct index_db *db, const char *name, const char *dir,
			 uint32_t special_use, int64_t *id_r);
/* Turns a \Noselect parent into a real, empty mailbox at dir (dir != NULL)
   with a new UIDVALIDITY, or a mailbox into a \Noselect parent (dir ==
   NULL). Either way its messages, expunge records and keywords go. */
int index_mailbox_reset(struct index_db *db, int64_t id, const char *dir);
/* Removes the row and everything belonging to it. */
int index_mailbox_remove(struct index_db *db, int64_t id);
int index_mailbox_set_name(struct index_db *db, int64_t id, const char *name);
int index_mailbox_set_dir(struct index_db *db, int64_t id, const char *dir);
int index_mailbox_set_special_use(struct index_db *db, int64_t id, uint32_t special_use);
int index_mailbox_set_disk_stamp(struct index_db *db, int64_t id, int64_t stamp);
/* Raises mirror_modseq to modseq (never lowers it). */
int index_mailbox_set_mirror_modseq(struct index_db *db, int64_t id, uint64_t modseq);
/* RFC 3501 \Recent: claims UIDs [*first_r, *uidnext_r) for the caller
   and moves the mailbox's first-recent UID to uidnext. The range is empty
   when another session claimed them already. */
int index_mailbox_claim_recent(struct index_db *db, int64_t id, uint32_t *first_r,
			       uint32_t *uidnext_r);
/* Recomputes the cached counts and the UID map from the message rows
   (repair after index_mailbox_check() found them wrong). */
int index_mailbox_recount(struct index_db *db, int64_t id);

/* Compares the cached counts and the UID map with the message rows.
   Returns 0 if they agree, 1 with *problem_r (temporary memory) if not,
   -1 on error. */
int index_mailbox_check(struct index_db *db, int64_t id, const char **problem_r);

/* Keywords defined in the mailbox, sorted. Returns 0 or -1. */
int index_keywords_list(struct index_db *db, int64_t mailbox_id, pool_t pool,
			array_str_t *keywords);
/* Defines keywords (write transaction) and replaces each with the spelling
   already defined (keywords are compared case-insensitively). Returns 1,
   0 if INDEX_KEYWORDS_MAX would be exceeded (nothing defined), -1. */
int index_keywords_define(struct index_db *db, int64_t mailbox_id, pool_t pool,
			  const char **keywords, unsigned int count);

/* Subscriptions. list returns names sorted; set adds or removes one. */
int index_subscriptions_list(struct index_db *db, pool_t pool, array_str_t *names);
int index_subscription_set(struct index_db *db, const char *name, bool subscribed);

#endif
