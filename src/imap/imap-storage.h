/* Between IMAP and the storage API: mailbox names as the client writes
 * them (modified UTF-7 for IMAP4rev1 clients, UTF-8 after ENABLE
 * IMAP4rev2: RFC 9051 §5.1), storage errors as response codes (RFC 9051
 * §7.1), and flag lists. */
#ifndef TERN_IMAP_STORAGE_H
#define TERN_IMAP_STORAGE_H

#include "imap-client.h"
#include "imap-parser.h"

/* Converts a mailbox name argument to the storage's UTF-8 name. Returns 0,
   or -1 with *error_r the text for a BAD/NO. */
int imap_mailbox_name_from_arg(struct imap_client *client, const struct imap_arg *arg,
			       const char **name_r, const char **error_r);
/* Appends the name as the client expects it, quoted as an astring. */
void imap_append_mailbox_name(struct imap_client *client, string_t *dest, const char *name);
/* "NO [CODE] text" for the last storage error (a full tagged reply text). */
const char *imap_storage_error_reply(struct imap_client *client);
/* Parses a flag list "(\Seen $Label)" or a single flag. Returns 0, or -1
   with *error_r. \Recent is refused (RFC 9051 §2.3.2). */
/* RFC 8474 §7 objectid: 1-255 of ALPHA, DIGIT, '_', '-'. */
bool imap_objectid_is_valid(const char *id);
/* Appends the mailbox's MAILBOXID (RFC 8474 §4): "F", its UIDVALIDITY and
   index id in hex. Stable across renames; a mailbox created again after a
   delete has another UIDVALIDITY, so another id. */
void imap_mailboxid_append(string_t *str, const struct mailbox_status *status);

/* RFC 6154 attribute names, by bit of enum mailbox_special_use (bit 0
   first); NULL-terminated. */
extern const char *const imap_special_use_names[];
/* CREATE's "(USE (attrs))" (RFC 6154 §3). Returns 1 with *use_r, 0 with
   a NO reply text (an attribute a real mailbox can't have), -1 with a BAD
   text. */
int imap_special_use_parse(const struct imap_arg *list, unsigned int count,
			   enum mailbox_special_use *use_r, const char **error_r);
int imap_flags_parse(const struct imap_arg *args, unsigned int count, pool_t pool,
		     uint32_t *flags_r, const char *const **keywords_r, const char **error_r);
/* Appends "(\Seen \Flagged kw)" (with \Recent when recent). */
void imap_flags_write(string_t *dest, uint32_t flags, const char *const *keywords, bool recent);
/* FLAGS and PERMANENTFLAGS lines for the selected mailbox. */
void imap_client_send_flags(struct imap_client *client, bool permanent);

#endif
