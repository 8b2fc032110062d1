/* UIDONLY (RFC 9586): after ENABLE UIDONLY the session never sees a
 * message sequence number. Commands that take or return them are BAD
 * [UIDREQUIRED], FETCH responses become "* uid UIDFETCH (...)" and
 * expunges are reported as VANISHED (imap-sync.c). */
#ifndef TERN_IMAP_UIDONLY_H
#define TERN_IMAP_UIDONLY_H

#include "imap-client.h"

#define IMAP_UIDONLY_BAD "[UIDREQUIRED] Message sequence numbers can't be used after ENABLE UIDONLY."

/* Appends the start of a FETCH response for the message at seq with uid:
   "* seq FETCH (", or "* uid UIDFETCH (" after ENABLE UIDONLY (RFC 9586 §3). */
void imap_uidonly_fetch_begin(const struct imap_client *client, string_t *dest, uint32_t seq,
			      uint32_t uid);

/* RFC 9586 §3: FETCH, STORE, SEARCH, COPY, MOVE, SORT and THREAD
   without UID take or return sequence numbers. Returns true if cmd may
   run; otherwise it has answered BAD [UIDREQUIRED]. */
bool imap_uidonly_check_cmd(struct imap_cmd *cmd);

#endif
