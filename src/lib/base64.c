/* Base64 encoding and strict decoding (RFC 4648 §4): the standard alphabet,
 * "=" padding required, no whitespace, canonical pad bits (RFC 4648 §3.5). */
#include "base64.h"

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t size)
{
	return size_mul(size / 3 + (size % 3 != 0 ? 1 : 0), 4);
}

void base64_encode(const void *data, size_t size, buffer_t *dest)
{
	const unsigned char *src = data;
	size_t i;

	if (size == 0)
		return;
	char *out = buffer_append_space(dest, base64_encoded_size(size));
	for (i = 0; size - i >= 3; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		*out++ = base64_alphabet[(v >> 18) & 0x3f];
		*out++ = base64_alphabet[(v >> 12) & 0x3f];
		*out++ = base64_alphabet[(v >> 6) & 0x3f];
		*out++ = base64_alphabet[v & 0x3f];
	}
	if (i == size)
		return;
	uint32_t v = (uint32_t)src[i] << 16;
	if (size - i == 2)
		v |= (uint32_t)src[i + 1] << 8;
	*out++ = base64_alphabet[(v >> 18) & 0x3f];
	*out++ = base64_alphabet[(v >> 12) & 0x3f];
	*out++ = size - i == 2 ? base64_alphabet[(v >> 6) & 0x3f] : '=';
	*out = '=';
}

int base64_char_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes one 4-character quantum into out; returns the number of bytes
   (1-3) or -1. Padding is allowed only when last is true. */
static int base64_decode_quantum(const unsigned char *in, bool last, unsigned char *out)
{
	unsigned int pad = 0;
	uint32_t v = 0;

	if (last)
		pad = in[3] != '=' ? 0 : (in[2] == '=' ? 2 : 1);
	for (unsigned int i = 0; i < 4 - pad; i++) {
		int c = base64_char_value(in[i]);
		if (c < 0)
			return -1;
		v = v << 6 | (uint32_t)c;
	}
	v <<= 6 * pad;
	/* RFC 4648 §3.5: the bits under the padding must be zero, so every
	   byte string has exactly one accepted encoding */
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		return -1;
	out[0] = (unsigned char)(v >> 16);
	out[1] = (unsigned char)(v >> 8);
	out[2] = (unsigned char)v;
	return 3 - (int)pad;
}

int base64_decode(const void *src, size_t size, buffer_t *dest)
{
	const unsigned char *in = src;
	size_t orig_used = dest->used;

	/* RFC 4648 §3.2: padding is required, so the length is exact */
	if (size % 4 != 0)
		return -1;
	unsigned char *out = buffer_append_space(dest, size / 4 * 3);
	size_t out_len = 0;
	for (size_t i = 0; i < size; i += 4) {
		int n = base64_decode_quantum(in + i, i + 4 == size, out + out_len);
		if (n < 0) {
			buffer_set_used_size(dest, orig_used);
			return -1;
		}
		out_len += (size_t)n;
	}
	buffer_set_used_size(dest, orig_used + out_len);
	return 0;
}
