/* The message cache's renderings (ENVELOPE, BODY, BODYSTRUCTURE and the
 * root header block, struct mail_cache_fields) from a parsed structure:
 * used by FETCH when it parsed a message, and registered with the storage
 * as its cache builder so that saving a message (APPEND, LMTP) renders
 * them while the content streams by. */
#ifndef TERN_IMAP_CACHE_RENDER_H
#define TERN_IMAP_CACHE_RENDER_H

#include "imap-bodystructure.h"
#include "mail-storage.h"

/* Fills fields_r from s (strings from pool); header is the root header
   block (NULL when unknown or too long). BODY and BODYSTRUCTURE are left
   NULL for a header-only structure. */
void imap_cache_render(const struct imap_structure *s, const unsigned char *header,
		       size_t header_size, pool_t pool, struct mail_cache_fields *fields_r);

/* Registers the save-time renderer with the storage, parsing with limits
   (copied). Called once per process that saves mail. */
void imap_cache_render_register(const struct mime_parser_limits *limits);

#endif
