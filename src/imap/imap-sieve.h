/* Sieve on IMAP events (RFC 6785), the IMAP side: APPEND, COPY/MOVE and
 * flag changes (STORE, FETCH setting \Seen) are reported to
 * src/delivery's imapsieve (deliver-imapsieve.h), which runs the
 * administrator's and the user's scripts before the command's tagged
 * reply; their changes reach the client as untagged updates. */
#ifndef TERN_IMAP_SIEVE_H
#define TERN_IMAP_SIEVE_H

#include "imap-client.h"

/* "IMAPSIEVE=sieve://..." for CAPABILITY (RFC 6785 §2.1), or NULL when
   imapsieve.url is empty. */
const char *imap_sieve_capability(const struct imap_client *client);

/* APPEND (§2.2.1): count messages saved into mailbox. */
void imap_sieve_appended(struct imap_client *client, const char *mailbox,
			 const uint32_t *uids, unsigned int count);
/* COPY and MOVE (§2.2.2): the copies in dest (res->dest_uids). */
void imap_sieve_copied(struct imap_client *client, const char *dest,
		       const struct mail_copy_result *res);

/* Flag changes (§2.2.3) of the selected mailbox: the flags before the
   change, taken only when some script would run for FLAG (NULL
   otherwise); after the change the messages whose flags differ run the
   scripts with imap.changedflags. seqs are the command's, ascending. */
struct imap_sieve_flags;
struct imap_sieve_flags *imap_sieve_flags_before(struct imap_cmd *cmd, const uint32_t *seqs,
						 unsigned int count);
void imap_sieve_flags_after(struct imap_cmd *cmd, struct imap_sieve_flags **flags);

#endif
