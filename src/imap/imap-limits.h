/* MESSAGELIMIT and SAVELIMIT (RFC 9738): how many messages one command
 * may process (FETCH, SEARCH, STORE, MOVE, UID EXPUNGE) or save (COPY,
 * APPEND). A UID command naming more processes the messages with the
 * lowest UIDs up to the limit and answers OK [LIMIT], so the client goes
 * on from the next UID; a command by sequence numbers, and COPY, which is
 * all or nothing, are refused with NO [LIMIT]. */
#ifndef TERN_IMAP_LIMITS_H
#define TERN_IMAP_LIMITS_H

#include "imap-client.h"

#define IMAP_LIMIT_NO_REPLY \
	"NO [LIMIT] Too many messages for one command; use UID ranges within the limit."
#define IMAP_LIMIT_SAVE_NO_REPLY "NO [LIMIT] Too many messages to save in one command."

/* imap.message_limit (0: none). */
unsigned int imap_limit_messages(const struct imap_client *client);
/* imap.save_limit, or the message limit when that is 0 (0: none). */
unsigned int imap_limit_save(const struct imap_client *client);

/* Applies the message limit to a command's messages (seqs ascending, as
   UID sets resolve). Returns 1 when seqs was cut to the limit (answer OK
   [LIMIT]), 0 when it is within it, -1 when the command must be refused
   (by sequence numbers: IMAP_LIMIT_NO_REPLY). */
int imap_limit_apply(struct imap_cmd *cmd, array_uint32_t *seqs);

/* The tagged OK of a UID command that processed only part of its set. */
#define IMAP_LIMIT_OK_CODE "[LIMIT] "

#endif
