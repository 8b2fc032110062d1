/* Finding the user of a recipient address in the userdb (the passdb/userdb
 * chain of src/auth, used in-process) with +detail addressing, and running
 * a delivery as that user's uid. Shared by LMTP and tern-lda. */
#ifndef TERN_DELIVER_USER_H
#define TERN_DELIVER_USER_H

#include "mail-deliver.h"

struct auth;

/* Splits localpart at the first of any character in delims (Dovecot's
   recipient_delimiter): *user_r before it, *detail_r after it (NULL when
   there is none or it is the first character). Strings from pool. */
void deliver_address_split_detail(const char *localpart, const char *delims, pool_t pool,
				  const char **user_r, const char **detail_r);

/* Looks up exactly name. Returns 1 with *user_r (from pool), 0 for an
   unknown user or a name unusable in a path, -1 on a userdb failure
   (*error_r). */
int deliver_user_lookup(struct auth *auth, const struct tern_settings *set,
			const char *name, const char *service, const char *remote_ip,
			pool_t pool, struct deliver_user *user_r, const char **error_r);

/* Looks up a recipient address: "user@domain", then "user" (a
   single-domain userdb); when neither exists and the local part had a
   detail, the whole local part. domain may be NULL. *detail_r is the
   detail that was split off (NULL if none). Returns 1/0/-1 as above. */
int deliver_user_lookup_address(struct auth *auth, const struct tern_settings *set,
				const char *localpart, const char *domain,
				const char *service, const char *remote_ip, pool_t pool,
				struct deliver_user *user_r, const char **detail_r,
				const char **error_r);

/* Runs as the user: with root privileges (LMTP), switches the effective
   uid/gid to the user's. Returns 1 switched, 0 nothing to do (no uid, not
   root, or uid 0), -1 on failure (*error_r). */
int deliver_user_become(const struct deliver_user *user, const char **error_r);
/* Undoes a deliver_user_become() that returned 1; fatal on failure. */
void deliver_user_become_root(void);
/* For a process that serves one user (tern-lda started as root): drops
   root for good to the user's uid/gid. Returns 0 (also when there is
   nothing to do), -1 (*error_r). */
int deliver_user_drop_privileges(const struct deliver_user *user, const char **error_r);

#endif
