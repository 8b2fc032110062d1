/* The message part an IMAP URL names (RFC 5092 imessagepart: mailbox,
 * UIDVALIDITY, UID, SECTION, PARTIAL), read from a user's storage for
 * CATENATE (RFC 4469) and URLFETCH (RFC 4467, RFC 5524): its content as
 * BODY[section] gives it, its decoded content as BINARY[section] does,
 * and its BODYSTRUCTURE. Content is produced in bounded chunks by the
 * FETCH section code (imap-fetch-content.c), never held whole. */
#ifndef TERN_IMAP_URL_PART_H
#define TERN_IMAP_URL_PART_H

#include "imap-client.h"
#include "imap-url.h"

struct imap_url_part;

/* Opens the message url names in user's storage (the mailbox read-only,
   any of the user's mailboxes) and sets up its section. The URL must name
   a message (imap_url_is_message_part()). Returns 1, 0 when the URL names
   nothing there (no such mailbox, another UIDVALIDITY, no such message or
   section; *error_r says which, for a BADURL or a NIL), -1 on a storage
   error (set on user). */
int imap_url_part_open(struct mail_user *user, const struct tern_settings *set,
		       const struct imap_url *url, struct imap_url_part **part_r,
		       const char **error_r);
void imap_url_part_close(struct imap_url_part **part);

/* Switches to the decoded content (RFC 5524 BINARY, RFC 3516 §4.2).
   Returns 1, 0 when the section is not a body part or its transfer
   encoding can't be decoded, -1 on a storage error. */
int imap_url_part_set_binary(struct imap_url_part *part);
/* The content's size after the URL's PARTIAL, and whether it has to be a
   literal8 (decoded content, or NULs). Reads the content once when the
   size isn't known from the structure. Returns 0 or -1. */
int imap_url_part_get_size(struct imap_url_part *part, uint64_t *size_r, bool *literal8_r);
/* Appends the next content (about 64 KiB at most) to dest. Returns 1 if
   more may follow, 0 at the end, -1 on a read error. */
int imap_url_part_read(struct imap_url_part *part, buffer_t *dest);
/* Appends the BODYSTRUCTURE of the part the URL names, with its
   parentheses (RFC 5524 BODYPARTSTRUCTURE). Returns false when the
   section is not a body part (HEADER, TEXT, MIME). */
bool imap_url_part_write_bodystructure(struct imap_url_part *part, string_t *dest);

#endif
