/* libFuzzer target for the indexer's datagram format (src/indexer/
 * indexer-notify.c): any bytes are decoded request by request; each that
 * decodes must have a user, an absolute home, a mailbox and
 * 1..INDEXER_NOTIFY_MAX_UIDS UIDs other than 0, the position must move
 * forward within the datagram, and re-decoding its encoding must give the
 * same request. */
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
	size_t pos = 0;
	while (pos < size) {
		size_t before = pos;
		if (indexer_request_decode((const char *)data, size, &pos, uids, &req) < 0)
			return 0;
		if (pos <= before || pos > size)
			__builtin_trap();
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
		size_t pos2 = 0;
		if (indexer_request_decode(enc, len, &pos2, uids2, &req2) < 0 || pos2 != len ||
		    !same_request(&req, &req2))
			__builtin_trap();
	}
	return 0;
}
