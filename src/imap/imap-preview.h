/* FETCH PREVIEW (RFC 8970): a short plain-text preview of a message, made
 * from its first text part (text/plain preferred, else text/html with the
 * markup taken out), decoded from its transfer encoding and charset to
 * UTF-8, quoted lines dropped, whitespace collapsed and cut to
 * IMAP_PREVIEW_MAX_CHARS characters. Built by feeding the message in
 * chunks of any size with bounded memory, so FETCH and the save-time
 * cache builder compute it while they stream the message anyway. */
#ifndef TERN_IMAP_PREVIEW_H
#define TERN_IMAP_PREVIEW_H

#include "buffer.h"
#include "pool.h"

/* RFC 8970 §3.1: at most 256 characters, and servers SHOULD NOT send more
   than 200. */
#define IMAP_PREVIEW_MAX_CHARS 200

struct imap_preview_builder;

struct imap_preview_builder *imap_preview_builder_create(void);
void imap_preview_builder_destroy(struct imap_preview_builder **builder);
void imap_preview_builder_feed(struct imap_preview_builder *builder, const void *data,
			       size_t size);
/* True once the preview can't change any more (a whole text/plain part
   was seen): the caller may stop feeding. */
bool imap_preview_builder_is_done(const struct imap_preview_builder *builder);
/* Ends the message and returns the preview in pool: UTF-8, no control
   characters, "" when the message has no text (RFC 8970 §3: an empty
   string, not NIL). */
const char *imap_preview_builder_finish(struct imap_preview_builder *builder, pool_t pool);

/* The preview of a whole message held in memory. */
const char *imap_preview_build(pool_t pool, const void *data, size_t size);

/* Turns UTF-8 text into a preview: with html, markup is removed and
   character references decoded first. Appends at most
   IMAP_PREVIEW_MAX_CHARS characters to dest. */
void imap_preview_from_text(string_t *dest, const char *text, size_t size, bool html);

#endif
