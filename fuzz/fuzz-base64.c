/* Fuzzes strict base64 decoding (SASL responses, RFC 4648 §4): no crash,
 * and whatever decodes encodes back to the same text. */
#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buffer_t *decoded = buffer_create(system_pool, size + 1);
	if (base64_decode(data, size, decoded) == 0) {
		buffer_t *encoded = buffer_create(system_pool, size + 4);
		base64_encode(decoded->data, decoded->used, encoded);
		if (encoded->used != size || memcmp(encoded->data, data, size) != 0)
			__builtin_trap();
		buffer_free(&encoded);
	}
	buffer_free(&decoded);
	return 0;
}
