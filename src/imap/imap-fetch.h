/* The FETCH engine (RFC 9051 §6.4.5, §7.5.2; BINARY RFC 3516): parsed fetch
 * items, and the producer that writes FETCH responses message by message,
 * streaming message content from storage as literals with back-pressure:
 * when the output buffer is full it returns and continues after the
 * client reads. Message structure (ENVELOPE, BODYSTRUCTURE, MIME part
 * sections, BINARY) comes from one streaming MIME parse per message,
 * shared by all items of the message and cached for later commands. */
#ifndef TERN_IMAP_FETCH_H
#define TERN_IMAP_FETCH_H

#include "imap-bodystructure.h"
#include "imap-client.h"
#include "imap-parser.h"

enum fetch_item_type {
	FETCH_FLAGS,
	FETCH_UID,
	FETCH_MODSEQ,        /* RFC 7162 §3.1.4.2 */
	FETCH_INTERNALDATE,
	FETCH_SAVEDATE,      /* RFC 8514 */
	FETCH_EMAILID,       /* RFC 8474 §5 */
	FETCH_THREADID,
	FETCH_RFC822_SIZE,   /* the last of the items a record answers */
	FETCH_ENVELOPE,
	FETCH_BODY,          /* BODY: the structure without extension data */
	FETCH_BODYSTRUCTURE,
	FETCH_SECTION,       /* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
	FETCH_BINARY,        /* BINARY[...], BINARY.PEEK[...] */
	FETCH_BINARY_SIZE,   /* BINARY.SIZE[...] */
	FETCH_PREVIEW,       /* PREVIEW, PREVIEW (LAZY) (RFC 8970) */
};

enum fetch_section {
	SECTION_ALL,               /* BODY[] (whole message), BODY[1.2] (a part's body) */
	SECTION_HEADER,            /* BODY[HEADER], BODY[1.HEADER] */
	SECTION_TEXT,              /* BODY[TEXT], BODY[1.TEXT] */
	SECTION_HEADER_FIELDS,     /* BODY[HEADER.FIELDS (...)] */
	SECTION_HEADER_FIELDS_NOT, /* BODY[HEADER.FIELDS.NOT (...)] */
	SECTION_MIME,              /* BODY[1.MIME]: a part's MIME header */
};

/* Longest section-part ("1.2.3...") accepted. */
#define FETCH_SECTION_MAX_PARTS 256

struct fetch_item {
	enum fetch_item_type type;
	enum fetch_section section;
	bool peek;            /* doesn't set \Seen */
	const char *label;    /* as written in the response, e.g. "BODY[HEADER]" */
	const char *const *fields; /* HEADER.FIELDS names, NULL-terminated */
	/* section-part numbers (RFC 9051 §6.4.5), none for the message */
	const uint32_t *part;
	unsigned int part_count;
	bool partial;
	uint64_t partial_start, partial_size;
	/* PREVIEW (LAZY): NIL unless the preview is cached (RFC 8970 §3.2) */
	bool lazy;
};
typedef ARRAY(struct fetch_item) fetch_items_t;

/* Parses the fetch attributes (one item, a macro, or a list). uid_cmd
   adds the UID item UID FETCH implies (not after ENABLE UIDONLY, RFC 9586
   §3: its UIDFETCH responses carry the UID already). A lone PREVIEW atom
   may be followed by its modifier list in arg[1]: *used_r is the number
   of arguments taken (1 or 2). Returns 0, or -1 with *error_r (for a
   BAD). */
int imap_fetch_parse_items(const struct imap_arg *arg, pool_t pool, bool uid_cmd,
			   fetch_items_t *items_r, unsigned int *used_r,
			   const char **error_r);
/* True if the item needs the message's MIME structure. */
bool imap_fetch_item_needs_structure(const struct fetch_item *item);

struct imap_fetch;
struct imap_fetch *imap_fetch_begin(struct imap_cmd *cmd, const fetch_items_t *items,
				    const array_uint32_t *seqs);
/* Writes more responses. Returns 1 when done, 0 when the output is full
   (call again when it drains), -1 on an error that ends the command with
   *error_r as its tagged reply (a storage error, or NO [UNKNOWN-CTE]
   after all messages were answered). */
int imap_fetch_more(struct imap_fetch *fetch, const char **error_r);
/* Messages that were expunged before their turn came. */
unsigned int imap_fetch_get_expunged_count(const struct imap_fetch *fetch);
void imap_fetch_end(struct imap_fetch **fetch);

/* --- message structure (imap-fetch-structure.c) --- */

/* A parsed message structure, shared through a small process-wide cache
   of recently parsed messages (clients fetch BODYSTRUCTURE, then parts of
   the same message in later commands). */
struct fetch_structure {
	struct imap_structure *s;
	pool_t pool;
	unsigned int refcount;
	bool cached;
	/* the root header block as read from the file (for the message
	   cache), NULL when longer than MAIL_CACHE_MAX_HEADER */
	const unsigned char *header;
	size_t header_size;
	/* the preview (RFC 8970) of a full parse; NULL for header_only */
	const char *preview;
};

/* Parses the message's structure from storage, or takes it from the
   cache. With header_only, only the root header may be read (enough for
   ENVELOPE and HEADER sections; s->header_only tells). Returns 1 with a
   reference in *structure_r, 0 if the message was expunged, -1 on a
   storage error. */
int imap_fetch_structure_get(struct imap_client *client, const struct mail_record *rec,
			     bool header_only, struct fetch_structure **structure_r);
void imap_fetch_structure_unref(struct fetch_structure **structure);
/* The header-only structure of a cached root header block (parsed in
   memory; structure->header points to header, which must outlive it). */
struct fetch_structure *imap_fetch_structure_from_header(const unsigned char *header,
							 size_t size);
/* Empties the cache (for leak checkers and tests). */
void imap_fetch_structure_cache_clear(void);

/* --- section contents (imap-fetch-content.c) --- */

enum fetch_segment_type {
	FETCH_SEG_COPY,          /* bytes in CRLF form */
	FETCH_SEG_FILTER,        /* header fields named (or not) in a list */
	FETCH_SEG_BINARY_HEADER, /* header with Content-Transfer-Encoding: binary */
	FETCH_SEG_DECODE,        /* a body decoded from its transfer encoding */
};

struct fetch_segment {
	enum fetch_segment_type type;
	/* physical range in the message file */
	uint64_t start, end;
	enum mime_encoding encoding;    /* DECODE */
	const char *const *fields;      /* FILTER */
	bool exclude;                   /* FILTER: HEADER.FIELDS.NOT */
	/* FILTER: end with an empty line even if the header had none, and
	   end an unterminated last line */
	bool add_missing_eoh;
	/* COPY: leave out the range's final line ending (it belongs to the
	   boundary line that follows) */
	bool trim_final_eol;
};

/* A literal's content: segments of the message file, in file order, each
   transformed; produced in one sequential read. */
struct fetch_content {
	ARRAY(struct fetch_segment) segments;
	/* BINARY: NULs kept; otherwise sent as 0x80 (no IMAP string can hold
	   a NUL, RFC 9051 §4.3) */
	bool binary;
	/* set while producing: some segment was decoded or rewritten */
	bool converted;
	/* the bytes to read instead of the message file (a cached header
	   block: the file's first mem_size bytes); set after the setup */
	const unsigned char *mem;
	size_t mem_size;

	struct istream *input;
	uint64_t pos;          /* physical offset of input */
	unsigned int seg_idx;
	bool seg_started;
	bool prev_cr;          /* the last byte read was CR */
	bool out_prev_cr;      /* the last byte of decoded output was CR */
	struct mime_decoder *decoder;
	buffer_t *decoded;     /* scratch for decoded bytes */
	/* header filter state (FILTER, BINARY_HEADER) */
	buffer_t *line;        /* the start of a field line until its name is known */
	bool at_line_start, in_line, collecting, field_included, header_ended;
	bool output_at_line_start;
};

/* Finds the part a section-part names (RFC 9051 §6.4.5, as other servers
   resolve it: "1" of a non-multipart message is the message itself, a
   message/rfc822 part's numbers continue in its message). NULL if it
   doesn't exist. */
const struct mime_part *imap_fetch_find_part(const struct imap_structure *s,
					     const uint32_t *path, unsigned int count);
/* Sets up content for a BODY section item. Returns 1, or 0 if the section
   doesn't exist (then the content is empty). msg_size is the message's
   CRLF size (RFC822.SIZE). *size_r is the exact size when it is known
   without reading (-1 if the content must be measured). */
int imap_fetch_content_section(struct fetch_content *content, pool_t pool,
			       const struct imap_structure *s, const struct fetch_item *item,
			       uint64_t msg_size, int64_t *size_r);
/* Sets up content for BINARY[section] of part (include_hdr for the whole
   message). Returns 1, 0 if the section doesn't exist, -1 if some part
   has a transfer encoding that can't be decoded (RFC 3516 §4.3
   UNKNOWN-CTE). */
int imap_fetch_content_binary(struct fetch_content *content, pool_t pool,
			      const struct imap_structure *s, const struct fetch_item *item);
/* Opens the message for producing content. Returns 1, 0 if expunged,
   -1 on error. */
int imap_fetch_content_open(struct fetch_content *content, struct mailbox *box, uint32_t uid);
/* Appends the next output (about FETCH_CONTENT_CHUNK bytes at most) to
   dest. Returns 1 if something may follow, 0 at the end, -1 on a read
   error. */
#define FETCH_CONTENT_CHUNK (64 * 1024)
int imap_fetch_content_read(struct fetch_content *content, buffer_t *dest);
void imap_fetch_content_close(struct fetch_content *content);
/* Reads the whole content: its size, and whether it holds NULs. */
int imap_fetch_content_measure(struct fetch_content *content, struct mailbox *box,
			       uint32_t uid, uint64_t *size_r, bool *has_nuls_r);

/* --- header blocks (imap-fetch-header.c) --- */

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

/* Streaming header filter for FETCH_SEG_FILTER and FETCH_SEG_BINARY_HEADER
   segments: feeds the segment's physical bytes, appending the output in
   CRLF form to dest. imap_fetch_header_filter_end() finishes the block. */
void imap_fetch_header_filter_begin(struct fetch_content *content);
void imap_fetch_header_filter_feed(struct fetch_content *content, const struct fetch_segment *seg,
				   const unsigned char *data, size_t size, buffer_t *dest);
void imap_fetch_header_filter_end(struct fetch_content *content, const struct fetch_segment *seg,
				  buffer_t *dest);

#endif
