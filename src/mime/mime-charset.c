/* Charset conversion to UTF-8 through iconv, and UTF-8 validation with
 * U+FFFD replacement (Unicode §3.9 "maximal subpart" practice). */
#include "mime-charset.h"

#include <errno.h>
#include <iconv.h>
#include <strings.h>

#define CHARSET_NAME_MAX_LEN 64

/* Labels whose real-world meaning is a superset charset, as in the WHATWG
   Encoding Standard: mailers label Windows-1252 text ISO-8859-1 and so on. */
static const struct {
	const char *label, *charset;
} charset_aliases[] = {
	{ "iso-8859-1", "WINDOWS-1252" },
	{ "iso8859-1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" },
	{ "latin1", "WINDOWS-1252" },
	{ "latin-1", "WINDOWS-1252" },
	{ "l1", "WINDOWS-1252" },
	{ "iso-8859-9", "WINDOWS-1254" },
	{ "latin5", "WINDOWS-1254" },
	{ "iso-8859-11", "WINDOWS-874" },
	{ "tis-620", "WINDOWS-874" },
	{ "gb2312", "GB18030" },
	{ "gb_2312-80", "GB18030" },
	{ "gbk", "GB18030" },
	{ "x-gbk", "GB18030" },
	{ "euc-cn", "GB18030" },
	{ "ks_c_5601-1987", "CP949" },
	{ "euc-kr", "CP949" },
	{ "shift_jis", "WINDOWS-31J" },
	{ "shift-jis", "WINDOWS-31J" },
	{ "x-sjis", "WINDOWS-31J" },
	{ "sjis", "WINDOWS-31J" },
	{ "big5", "CP950" },
};

static const char *const charset_utf8_names[] = {
	"utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us",
	"x-unknown-ascii",
};

/* One cached descriptor: a message's parts nearly always share one
   charset, and iconv_open() loads gconv modules. */
static struct {
	char name[CHARSET_NAME_MAX_LEN + 1];
	iconv_t cd;
	bool valid;
} charset_cache;

bool charset_is_utf8(const char *charset)
{
	for (unsigned int i = 0; i < N_ELEMENTS(charset_utf8_names); i++) {
		if (strcasecmp(charset, charset_utf8_names[i]) == 0)
			return true;
	}
	return false;
}

static bool charset_name_is_plausible(const char *charset)
{
	size_t len = strlen(charset);

	if (len == 0 || len > CHARSET_NAME_MAX_LEN)
		return false;
	/* '/' would reach iconv's "//TRANSLIT"-style suffix syntax */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)charset[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-_.:+()", c) != NULL))
			return false;
	}
	return true;
}

static const char *charset_resolve(const char *charset)
{
	for (unsigned int i = 0; i < N_ELEMENTS(charset_aliases); i++) {
		if (strcasecmp(charset, charset_aliases[i].label) == 0)
			return charset_aliases[i].charset;
	}
	return charset;
}

static iconv_t charset_open(const char *charset)
{
	const char *name = charset_resolve(charset);

	if (charset_cache.valid && strcasecmp(charset_cache.name, name) == 0) {
		/* back to the initial shift state */
		(void)iconv(charset_cache.cd, NULL, NULL, NULL, NULL);
		return charset_cache.cd;
	}
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return cd;
	charset_deinit();
	snprintf(charset_cache.name, sizeof(charset_cache.name), "%s", name);
	charset_cache.cd = cd;
	charset_cache.valid = true;
	return cd;
}

void charset_deinit(void)
{
	if (charset_cache.valid) {
		iconv_close(charset_cache.cd);
		charset_cache.valid = false;
	}
}

bool charset_is_known(const char *charset)
{
	if (charset_is_utf8(charset))
		return true;
	return charset_name_is_plausible(charset) &&
		charset_open(charset) != (iconv_t)-1;
}

static void charset_iconv(iconv_t cd, const unsigned char *data, size_t size,
			  string_t *dest)
{
	char outbuf[4096];
	char *in = (char *)data;
	size_t inleft = size;

	while (inleft > 0) {
		char *out = outbuf;
		size_t outleft = sizeof(outbuf);
		size_t ret = iconv(cd, &in, &inleft, &out, &outleft);
		int err = errno;

		charset_utf8_append_valid(dest, outbuf, (size_t)(out - outbuf));
		if (ret != (size_t)-1)
			break;
		if (err == E2BIG)
			continue;
		str_append(dest, MIME_UTF8_REPLACEMENT);
		if (err != EILSEQ) {
			/* EINVAL: the input ends inside a multibyte sequence */
			break;
		}
		in++;
		inleft--;
	}
	/* a stateful charset may still owe a shift sequence's output */
	char *out = outbuf;
	size_t outleft = sizeof(outbuf);
	(void)iconv(cd, NULL, NULL, &out, &outleft);
	charset_utf8_append_valid(dest, outbuf, (size_t)(out - outbuf));
}

int charset_to_utf8(const char *charset, const void *data, size_t size,
		    string_t *dest)
{
	if (charset_is_utf8(charset)) {
		charset_utf8_append_valid(dest, data, size);
		return 0;
	}
	iconv_t cd = charset_name_is_plausible(charset) ?
		charset_open(charset) : (iconv_t)-1;
	if (cd == (iconv_t)-1) {
		charset_utf8_append_valid(dest, data, size);
		return -1;
	}
	charset_iconv(cd, data, size, dest);
	return 0;
}

/* Returns the length of the valid UTF-8 sequence at p, or 0 and the length
   of the invalid maximal subpart (at least 1) in *skip_r. */
static size_t utf8_sequence(const unsigned char *p, size_t left, size_t *skip_r)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* not past U+10FFFF */
	} else {
		*skip_r = 1;
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (i >= left || p[i] < lo || p[i] > hi) {
			*skip_r = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

bool charset_utf8_is_valid(const void *data, size_t size)
{
	const unsigned char *p = data;
	size_t i = 0, skip;

	while (i < size) {
		size_t len = utf8_sequence(p + i, size - i, &skip);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

void charset_utf8_append_valid(string_t *dest, const void *data, size_t size)
{
	const unsigned char *p = data;
	size_t i = 0, start = 0, skip;

	while (i < size) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = utf8_sequence(p + i, size - i, &skip);
		if (len > 0) {
			i += len;
			continue;
		}
		str_append_n(dest, p + start, i - start);
		str_append(dest, MIME_UTF8_REPLACEMENT);
		i += skip;
		start = i;
	}
	str_append_n(dest, p + start, i - start);
}
