/* The FETCH engine (RFC 9051 §6.4.5, §7.5.2): parsed fetch items, and the
 * producer that writes FETCH responses message by message, streaming
 * message content from storage as literals with back-pressure: when the
 * output buffer is full it returns and continues after the client reads. */
#ifndef TERN_IMAP_FETCH_H
#define TERN_IMAP_FETCH_H

#include "imap-client.h"
#include "imap-parser.h"

enum fetch_item_type {
	FETCH_FLAGS,
	FETCH_UID,
	FETCH_INTERNALDATE,
	FETCH_RFC822_SIZE,
	FETCH_SECTION, /* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
};

enum fetch_section {
	SECTION_ALL,               /* BODY[] */
	SECTION_HEADER,            /* BODY[HEADER] */
	SECTION_TEXT,              /* BODY[TEXT] */
	SECTION_HEADER_FIELDS,     /* BODY[HEADER.FIELDS (...)] */
	SECTION_HEADER_FIELDS_NOT, /* BODY[HEADER.FIELDS.NOT (...)] */
};

struct fetch_item {
	enum fetch_item_type type;
	enum fetch_section section;
	bool peek;            /* doesn't set \Seen */
	const char *label;    /* as written in the response, e.g. "BODY[HEADER]" */
	const char *const *fields; /* HEADER.FIELDS names, NULL-terminated */
	bool partial;
	uint64_t partial_start, partial_size;
};
typedef ARRAY(struct fetch_item) fetch_items_t;

/* Parses the fetch attributes (one item, a macro, or a list). Returns 0,
   or -1 with *error_r (for a BAD). */
int imap_fetch_parse_items(const struct imap_arg *arg, pool_t pool, bool uid_cmd,
			   fetch_items_t *items_r, const char **error_r);

struct imap_fetch;
struct imap_fetch *imap_fetch_begin(struct imap_cmd *cmd, const fetch_items_t *items,
				    const array_uint32_t *seqs);
/* Writes more responses. Returns 1 when done, 0 when the output is full
   (call again when it drains), -1 on a storage error (reply text in
   *error_r). */
int imap_fetch_more(struct imap_fetch *fetch, const char **error_r);
/* Messages that were expunged before their turn came. */
unsigned int imap_fetch_get_expunged_count(const struct imap_fetch *fetch);
void imap_fetch_end(struct imap_fetch **fetch);

/* Header block helpers (imap-fetch-header.c). */
/* Size of the header block including the empty line that ends it (or all
   of data when there is none). */
size_t imap_header_block_size(const unsigned char *data, size_t size, bool eof);
/* Appends the fields of header that are (or with exclude: are not) named
   in fields, in CRLF form, followed by the final CRLF (RFC 9051 §6.4.5). */
void imap_header_filter(const unsigned char *header, size_t size, const char *const *fields,
			bool exclude, string_t *dest);
/* Appends data with every bare LF turned into CRLF. */
void imap_append_crlf(string_t *dest, const unsigned char *data, size_t size);
/* Size of data with every bare LF turned into CRLF. */
uint64_t imap_crlf_size(const unsigned char *data, size_t size);

#endif
