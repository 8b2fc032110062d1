/* URLAUTH (RFC 4467): mailbox access keys (one random key per user and
 * mailbox, kept in the user's storage), the INTERNAL mechanism (an
 * HMAC-SHA256 of the "rump" URL under that key, RFC 4467 §7), the access
 * identifiers (anonymous, authuser, user+name, submit+name) and the
 * storage of a URL's owner, who may be another user of this server. */
#ifndef TERN_IMAP_URLAUTH_H
#define TERN_IMAP_URLAUTH_H

#include "imap-client.h"
#include "imap-url.h"

#define IMAP_URLAUTH_MECHANISM "INTERNAL"

/* True if an absolute URL's host (and user) may name this server:
   imap.urlauth_hosts lists its names, any when empty. */
bool imap_urlauth_host_is_ours(struct imap_client *client, const struct imap_url *url);

/* GENURLAUTH (RFC 4467 §6): the URL with its ":INTERNAL:token" (temporary
   memory). The URL must be an absolute rump of the session user's own
   mailbox, which must exist; its key is made on first use. Returns 1, 0
   with *error_r (a reason for NO [BADURL]), -1 on a storage error (on
   client->mail_user). */
int imap_urlauth_generate(struct imap_client *client, const char *text, size_t len,
			  const char **urlauth_r, const char **error_r);

/* RESETKEY (RFC 4467 §6): forgets the keys of mailbox (NULL: of all the
   user's mailboxes), so every URL they signed stops working. Returns 1,
   0 if the mailbox doesn't exist, -1 on a storage error. */
int imap_urlauth_reset(struct imap_client *client, const char *mailbox);

/* Checks a URL with a URLAUTH token for this session (RFC 4467 §7, §8):
   a server of ours, the access identifier, the expiry, the owner's key
   and the token. On success *user_r is the owner's storage: the
   session's own, or another user's, which imap_urlauth_release()
   closes. Returns 1, 0 with *error_r (the URL is not valid: NIL or
   BADURL), -1 on an internal error (logged). */
int imap_urlauth_verify(struct imap_client *client, const char *text, size_t len,
			const struct imap_url *url, struct mail_user **user_r,
			const char **error_r);
void imap_urlauth_release(struct imap_client *client, struct mail_user **user);

#endif
