/* libFuzzer target for the indexer's datagram format (src/indexer/
 * indexer-notify.c): any bytes are decoded; what decodes must have a
 * user, an absolute home, a mailbox and 1..INDEXER_NOTIFY_MAX_UIDS UIDs
 * other than 0, and must encode back to exactly the input bytes when the
 * input was in canonical form (re-decoding the encoding gives the same
 * request either way). */
#include "lib.h"
#include "indexer-notify.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_request(const struct indexer_request *a, const struct indexer_request *b)
{
	if (strcmp(a->user, b->user) != 0 || strcmp(a->home, b->home) != 0 ||
	    strcmp(a->mailbox, b->mailbox) != 0 || a->uid != b->uid || a->gid != b->gid ||
	    a->uid_count != b->uid_count)
		return false;
	return memcmp(a->uids, b->uids, a->uid_count * sizeof(a->uids[0])) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t uids[INDEXER_NOTIFY_MAX_UIDS], uids2[INDEXER_NOTIFY_MAX_UIDS];
	static char enc[INDEXER_DATAGRAM_MAX];
	struct indexer_request req, req2;
	if (size > INDEXER_DATAGRAM_MAX)
		return 0;
	if (indexer_request_decode((const char *)data, size, uids, &req) < 0)
		return 0;
	if (req.user[0] == '\0' || req.home[0] != '/' || req.mailbox[0] == '\0' ||
	    req.uid_count == 0 || req.uid_count > INDEXER_NOTIFY_MAX_UIDS)
		__builtin_trap();
	for (unsigned int i = 0; i < req.uid_count; i++) {
		if (uids[i] == 0)
			__builtin_trap();
	}
	size_t len = indexer_request_encode(&req, enc, sizeof(enc));
	if (len == 0)
		__builtin_trap(); /* it came in a datagram of at most this size */
	if (indexer_request_decode(enc, len, uids2, &req2) < 0 || !same_request(&req, &req2))
		__builtin_trap();
	return 0;
}
