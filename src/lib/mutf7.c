/* Modified UTF-7 (RFC 3501 §5.1.3): printable ASCII stands for itself,
 * "&" is "&-", and other characters are UTF-16 in modified base64 ("," for
 * "/") between "&" and "-". */
#include "mutf7.h"

static const char mbase64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Decodes one UTF-8 character. Returns its length, or -1 if invalid. */
static int utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp_r)
{
	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	int len;
	uint32_t cp, min;
	if ((p[0] & 0xe0) == 0xc0) { len = 2; cp = p[0] & 0x1f; min = 0x80; }
	else if ((p[0] & 0xf0) == 0xe0) { len = 3; cp = p[0] & 0x0f; min = 0x800; }
	else if ((p[0] & 0xf8) == 0xf0) { len = 4; cp = p[0] & 0x07; min = 0x10000; }
	else return -1;
	if (end - p < len)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	return len;
}

bool utf8_is_valid_printable(const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	while (*p != '\0') {
		uint32_t cp;
		int len = utf8_decode(p, p + strlen((const char *)p), &cp);
		if (len < 0 || cp < 0x20 || cp == 0x7f)
			return false;
		p += len;
	}
	return true;
}

static void flush_b64(uint32_t *bits, unsigned int *nbits, string_t *dest, bool final)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		str_append_c(dest, mbase64[(*bits >> *nbits) & 0x3f]);
	}
	if (final && *nbits > 0) {
		str_append_c(dest, mbase64[(*bits << (6 - *nbits)) & 0x3f]);
		*nbits = 0;
	}
}

int mutf7_encode(const char *src, size_t src_len, string_t *dest)
{
	const unsigned char *p = (const unsigned char *)src, *end = p + src_len;
	bool in_b64 = false;
	uint32_t bits = 0;
	unsigned int nbits = 0;
	while (p < end) {
		uint32_t cp;
		int len = utf8_decode(p, end, &cp);
		if (len < 0)
			return -1;
		p += len;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_b64) {
				flush_b64(&bits, &nbits, dest, true);
				str_append_c(dest, '-');
				in_b64 = false;
			}
			str_append(dest, cp == '&' ? "&-" : (char[]){ (char)cp, '\0' });
			continue;
		}
		if (!in_b64) {
			str_append_c(dest, '&');
			in_b64 = true;
		}
		uint16_t units[2];
		unsigned int n = 1;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[0] = (uint16_t)(0xd800 | (cp >> 10));
			units[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
			n = 2;
		} else {
			units[0] = (uint16_t)cp;
		}
		for (unsigned int i = 0; i < n; i++) {
			bits = (bits << 16) | units[i];
			nbits += 16;
			flush_b64(&bits, &nbits, dest, false);
		}
	}
	if (in_b64) {
		flush_b64(&bits, &nbits, dest, true);
		str_append_c(dest, '-');
	}
	return 0;
}

static int b64_value(char c)
{
	const char *p = strchr(mbase64, c);
	return c == '\0' || p == NULL ? -1 : (int)(p - mbase64);
}

/* Decodes "&...-" starting after the '&' (up to end). Returns the bytes
   consumed including '-', or -1. */
static int decode_b64_run(const char *p, const char *end, string_t *dest)
{
	uint32_t bits = 0;
	unsigned int nbits = 0;
	uint32_t high = 0;
	const char *start = p;
	bool any = false;
	for (; p < end && *p != '-'; p++) {
		int v = b64_value(*p);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;
		any = true;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return -1;
			str_append_utf8(dest, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return -1;
		} else if (unit >= 0x20 && unit <= 0x7e) {
			return -1; /* printable ASCII must not be encoded */
		} else {
			str_append_utf8(dest, unit);
		}
	}
	/* leftover bits must be zero padding of less than a unit */
	if (p == end || !any || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return (int)(p - start) + 1;
}

int mutf7_decode(const char *src, size_t len, string_t *dest)
{
	const char *p = src, *end = src + len;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			str_append_c(dest, (char)c);
			p++;
			continue;
		}
		p++;
		if (p < end && *p == '-') {
			str_append_c(dest, '&');
			p++;
			continue;
		}
		int used = decode_b64_run(p, end, dest);
		if (used < 0)
			return -1;
		p += used;
		/* "&AGE-&AGI-" would be a non-canonical split */
		if (p + 1 < end && *p == '&' && p[1] != '-')
			return -1;
	}
	return 0;
}
