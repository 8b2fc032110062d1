/* IMAP URLs (RFC 5092) with the URLAUTH parts of RFC 4467 (";EXPIRE=",
 * ";URLAUTH=access:mechanism:token") and ";PARTIAL=" (RFC 5092 §5,
 * RFC 5550 URL-PARTIAL): a storage-free parser of absolute URLs
 * ("imap://user;AUTH=*@host:143/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=1.2")
 * and of the relative references CATENATE (RFC 4469 §3) and the other
 * commands take ("/INBOX/;UID=20", ";UID=20/;SECTION=TEXT"), resolved
 * against a base URL (RFC 3986 §5.2 for this grammar). Every field is
 * percent-decoded and bounded; mailbox names are UTF-8 (RFC 5092 §3.1
 * and §9: generators convert modified UTF-7 to UTF-8, so a name here is
 * never modified UTF-7). */
#ifndef TERN_IMAP_URL_H
#define TERN_IMAP_URL_H

#include "buffer.h"

#include <time.h>

/* Bounds on the whole URL and on each decoded field; longer is an
   error, never a truncation. */
#define IMAP_URL_MAX_LENGTH 8192
#define IMAP_URL_MAX_USER 255
#define IMAP_URL_MAX_HOST 255
#define IMAP_URL_MAX_MAILBOX 1024
#define IMAP_URL_MAX_SECTION 1024
#define IMAP_URL_MAX_SEARCH 4096
#define IMAP_URL_MAX_MECHANISM 64
/* RFC 4467 §9: enc-urlauth = 32*HEXDIG; ours are 64 */
#define IMAP_URL_MIN_TOKEN 32
#define IMAP_URL_MAX_TOKEN 256

enum imap_url_parse_flags {
	/* accept relative references (RFC 3986 §4.2): "//host/...",
	   "/mailbox/...", "mailbox/;UID=..", ";UID=..", ";SECTION=..",
	   ";PARTIAL=.." */
	IMAP_URL_PARSE_RELATIVE = 0x01,
	/* accept ";EXPIRE=" and ";URLAUTH=" after a message part
	   (RFC 4467 §3) */
	IMAP_URL_PARSE_URLAUTH = 0x02,
};

/* RFC 4467 §3 access identifiers */
enum imap_url_access {
	IMAP_URL_ACCESS_NONE = 0,
	IMAP_URL_ACCESS_ANONYMOUS, /* "anonymous" */
	IMAP_URL_ACCESS_AUTHUSER,  /* "authuser" */
	IMAP_URL_ACCESS_USER,      /* "user+" access_user */
	IMAP_URL_ACCESS_SUBMIT,    /* "submit+" access_user */
};

/* A parsed URL. Strings are decoded, NUL-terminated and from the parse
   pool; NULL (or 0) means the part is absent. */
struct imap_url {
	/* the scheme and server were given ("imap://" or "//host") */
	bool have_server;
	const char *user;     /* enc-user */
	const char *auth_type;/* ";AUTH=" value: "*" or a SASL mechanism */
	const char *host;     /* as written, lowercased; "[...]" kept */
	unsigned int port;    /* 0: none given */

	/* "/" after the server: a path was given (maybe empty) */
	bool have_path;
	const char *mailbox;  /* UTF-8 */
	uint32_t uidvalidity;
	uint32_t uid;
	const char *section;  /* section-text as for BODY[...], e.g. "1.2.MIME" */
	bool have_partial;
	uint32_t partial_offset;
	uint32_t partial_length; /* 0: to the end */
	const char *search;   /* "?" search program (a message list URL) */

	/* RFC 4467 */
	bool have_expire;
	time_t expire;
	enum imap_url_access access;
	const char *access_user; /* USER and SUBMIT */
	const char *mechanism;   /* as written; NULL in a "rump" URL */
	const char *token;       /* hex as written */
	/* bytes of the URL text that the token signs: everything before the
	   ":" that starts the mechanism (the whole URL of a rump) */
	size_t rump_length;
};

/* Parses url (len bytes; may contain NULs, which are errors). Returns 0,
   or -1 with *error_r (static or temporary memory). The result's strings
   come from pool. */
int imap_url_parse(const char *url, size_t len, enum imap_url_parse_flags flags,
		   pool_t pool, struct imap_url *url_r, const char **error_r);

/* Resolves a relative reference against base (RFC 3986 §5.2.2 for this
   grammar): what rel gives replaces base from the first part it gives
   on; everything after that part comes from rel only. A reference with
   a server is returned as it is. */
void imap_url_resolve(const struct imap_url *rel, const struct imap_url *base,
		      struct imap_url *url_r);

/* True when the URL names one message (a mailbox and a UID, no search):
   what CATENATE and URLFETCH take. */
bool imap_url_is_message_part(const struct imap_url *url);

/* Appends url for a response code's text ([BADURL url], RFC 4469 §6
   url-resp-text: TEXT-CHAR except "]"): bytes that don't fit (controls,
   "]", 8-bit, "%" itself stays) are percent-encoded, and at most
   IMAP_URL_MAX_LENGTH bytes are written. */
void imap_url_append_resp_text(string_t *dest, const char *url, size_t len);

/* Appends str percent-encoded for a URL's enc-mailbox, enc-user or
   enc-section (RFC 5092 §9 bchar/achar): unreserved and sub-delims-sh
   characters as they are, everything else as %XX. path_chars keeps ':'
   '@' '/' (bchar) as well. */
void imap_url_append_encoded(string_t *dest, const char *str, bool path_chars);

#endif
