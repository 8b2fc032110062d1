/* Mailbox and server attributes: the entries of IMAP METADATA (RFC 5464),
 * also meant for Sieve's mboxmetadata and servermetadata (RFC 5490).
 * Nothing here knows IMAP: entry names are parsed and checked here
 * (RFC 5464 §3.2), values are bytes (NULs allowed).
 *
 * Every mailbox, and the server (mailbox name MAIL_ATTRIBUTE_SERVER, ""),
 * has private entries (/private/..., the user's own) and shared ones
 * (/shared/..., what every user with access to the mailbox would see;
 * without shared mailboxes that is the owner only). They are kept in the
 * user's index, follow their mailbox through RENAME (also the INBOX
 * rename, which moves them with the messages) and go with it on DELETE.
 *
 * Entries computed by the server, never stored and read-only:
 * - /private/specialuse of a mailbox: its SPECIAL-USE attributes
 *   (RFC 6154 §4), such as "\Sent"; absent when it has none.
 * - /shared/admin of the server: struct mail_attribute_settings.admin
 *   (RFC 5464 §3.2.1, a URI such as "mailto:postmaster@example.com");
 *   absent when not configured. */
#ifndef TERN_MAILBOX_ATTRIBUTE_H
#define TERN_MAILBOX_ATTRIBUTE_H

#include "mail-storage.h"

/* The mailbox name of the server's entries (RFC 5464 §3.2.1). */
#define MAIL_ATTRIBUTE_SERVER ""
/* Longest entry name, "/private/" or "/shared/" included. */
#define MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH 1024

enum mail_attribute_type {
	MAIL_ATTRIBUTE_PRIVATE = 0, /* /private/... */
	MAIL_ATTRIBUTE_SHARED = 1,  /* /shared/... */
};

/* Limits and configured values; the protocol layer fills them from its
   settings. A limit of 0 means none. */
struct mail_attribute_settings {
	/* bytes of one value */
	uint64_t max_value_size;
	/* entries of one mailbox (private and shared together), and of the
	   server */
	unsigned int max_entries;
	/* entries of the user in all mailboxes and the server, and their
	   total size (entry keys plus values) */
	unsigned int max_user_entries;
	uint64_t max_user_size;
	/* the server's /shared/admin value; NULL or "": absent */
	const char *admin;
};

struct mail_attribute {
	enum mail_attribute_type type;
	/* the entry name below /private or /shared, lower-case: "comment",
	   "vendor/example.com/x" */
	const char *key;
	/* the value, with a NUL after its last byte (which may itself hold
	   NULs: use size) */
	const unsigned char *value;
	size_t size;
	bool readonly; /* computed by the server */
};
typedef ARRAY(struct mail_attribute) array_mail_attribute_t;

/* Splits an entry name ("/private/comment") into its type and key,
   checking RFC 5464 §3.2: it starts with /private or /shared (any case),
   holds only printable ASCII without '*' and '%', has no "//" and does
   not end with '/', and is at most MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH long.
   Entry names are case-insensitive, so the key comes back lower-case
   (temporary memory); it is "" for "/private" or "/shared" themselves.
   Returns 0, or -1 with *error_r (static text) when invalid. */
int mail_attribute_entry_parse(const char *entry, enum mail_attribute_type *type_r,
			       const char **key_r, const char **error_r);
/* The entry name of type and key (temporary memory). */
const char *mail_attribute_entry_name(enum mail_attribute_type type, const char *key);

/* The functions below take a mailbox name (MAIL_ATTRIBUTE_SERVER for the
   server's entries) and a key in the form mail_attribute_entry_parse()
   returns (other spellings are case-folded and checked the same way;
   an invalid key is MAIL_ERROR_PARAMS). A mailbox that doesn't exist, or
   exists only as a \Noselect parent, is MAIL_ERROR_NOTFOUND. Errors are
   set on the user (mail_user_get_error()). set may be NULL: no limits,
   no /shared/admin. */

/* Reads one entry. Returns 1 with *attr_r (memory from pool), 0 if it
   has no value, -1 on error. The key "" never has one. */
int mail_attribute_get(struct mail_user *user, const char *mailbox,
		       enum mail_attribute_type type, const char *key,
		       const struct mail_attribute_settings *set, pool_t pool,
		       struct mail_attribute *attr_r);
/* Appends the entries of the type whose key is key or below it
   ("key/..."), every entry of the type for key "", sorted by key, to list
   (initialised by the caller; memory from pool). Returns 0 or -1. */
int mail_attribute_list(struct mail_user *user, const char *mailbox,
			enum mail_attribute_type type, const char *key,
			const struct mail_attribute_settings *set, pool_t pool,
			array_mail_attribute_t *list);

/* Changes to the entries of one mailbox (or the server), applied all or
   none at the commit. */
struct mail_attribute_transaction;

struct mail_attribute_transaction *
mail_attribute_transaction_begin(struct mail_user *user, const char *mailbox,
				 const struct mail_attribute_settings *set);
/* Queues setting an entry (value may be NULL when size is 0) or, with
   mail_attribute_unset(), removing it (an entry without a value is
   fine). Returns 0, or -1 with the error set on the user, after which
   the commit fails too: an invalid or empty key (MAIL_ERROR_PARAMS), a
   read-only entry (MAIL_ERROR_CANNOT), a value above max_value_size
   (MAIL_ERROR_LIMIT). */
int mail_attribute_set(struct mail_attribute_transaction *t, enum mail_attribute_type type,
		       const char *key, const void *value, size_t size);
int mail_attribute_unset(struct mail_attribute_transaction *t, enum mail_attribute_type type,
			 const char *key);
/* Applies the queued changes in one index transaction, and frees *t.
   Fails (nothing changed) after a failed queue call, with
   MAIL_ERROR_NOTFOUND for the mailbox, and with MAIL_ERROR_LIMIT when the
   changes would raise the mailbox's or the user's entry count, or the
   user's total size, above its limit (removing entries and shrinking
   values always work, also over a limit lowered since). So
   MAIL_ERROR_LIMIT from mail_attribute_set() means "value too large",
   from the commit "no room". Returns 0 or -1. */
int mail_attribute_transaction_commit(struct mail_attribute_transaction **t);
void mail_attribute_transaction_rollback(struct mail_attribute_transaction **t);

/* Every entry of the user as (mailbox id as in struct mailbox_state, 0
   for the server; type; key; a hash of the value), sorted by id, type
   and key: NOTIFY compares two of these to name the entries that changed
   (RFC 5465 §5.6, §5.7). Memory from pool. Returns 0 or -1. */
struct mail_attribute_digest {
	int64_t mailbox_id;
	enum mail_attribute_type type;
	const char *key;
	uint64_t value_hash;
};
int mail_attribute_digest(struct mail_user *user, pool_t pool,
			  const struct mail_attribute_digest **list_r, unsigned int *count_r);

#endif
