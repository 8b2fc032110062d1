/* Base subject extraction for SORT SUBJECT and THREAD (RFC 5256 §2.1):
 * strips "Re:", "Fwd:", "[list]" blobs, "(fwd)" trailers and "[fwd: ...]"
 * wrappers. Storage-free; case folding is the caller's job. */
#ifndef TERN_SEARCH_SUBJECT_H
#define TERN_SEARCH_SUBJECT_H

#include "pool.h"

/* Returns the base subject of subject (RFC 5256 §2.1 steps (1)-(6)).
 *
 * subject is the Subject header already decoded from RFC 2047 encoded
 * words to UTF-8; it may still contain folding (CR, LF, tabs). NULL means
 * the message has no Subject and gives "".
 *
 * The result is NOT case-folded: callers fold it (i;unicode-casemap,
 * RFC 5051) before comparing. Prefixes and trailers are matched
 * ASCII-case-insensitively and only ASCII bytes are ever removed, so a
 * multi-byte UTF-8 character is never split. Work is linear in the length
 * of subject whatever its content.
 *
 * *is_reply_or_fwd_r (may be NULL) is set to true when a subj-refwd
 * ("Re:", "Fw:", "Fwd:"), a "(fwd)" trailer or a "[fwd: ...]" wrapper was
 * removed, which THREAD=REFERENCES step (5) needs; false otherwise.
 *
 * The result is allocated from pool (its first byte is the start of the
 * allocation, so p_free() works for system_pool). */
const char *search_subject_base(pool_t pool, const char *subject,
				bool *is_reply_or_fwd_r);

#endif
