/* Mailbox names as Maildir++ folder names, so that other Maildir tools see
 * the usual names: "a/b" is the folder ".a.b", each level in modified
 * UTF-7 (RFC 3501 §5.1.3, as Dovecot and Courier store them), and the two
 * characters that would break the layout inside a level escaped: '.' (the
 * Maildir++ separator) as "~2E" and '~' (the escape itself) as "~7E".
 * INBOX is the Maildir root itself. */
#include "maildir-private.h"

#include <ctype.h>

static const char mutf7_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Decodes one UTF-8 code point (the name was validated already). */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	unsigned int len;
	if (s[0] < 0x80) {
		cp = s[0];
		len = 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		len = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		len = 3;
	} else {
		cp = s[0] & 0x07;
		len = 4;
	}
	for (unsigned int i = 1; i < len && s[i] != '\0'; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	*p = s + len;
	return cp;
}

struct mutf7_out {
	string_t *str;
	uint32_t bits;
	unsigned int nbits;
	bool in_b64;
};

static void mutf7_put16(struct mutf7_out *out, uint16_t unit)
{
	out->bits = (out->bits << 16) | unit;
	out->nbits += 16;
	while (out->nbits >= 6) {
		out->nbits -= 6;
		str_append_c(out->str, mutf7_alphabet[(out->bits >> out->nbits) & 0x3f]);
	}
}

static void mutf7_end_run(struct mutf7_out *out)
{
	if (!out->in_b64)
		return;
	if (out->nbits > 0)
		str_append_c(out->str, mutf7_alphabet[(out->bits << (6 - out->nbits)) & 0x3f]);
	str_append_c(out->str, '-');
	out->in_b64 = false;
	out->nbits = 0;
	out->bits = 0;
}

static void maildir_level_encode(string_t *dest, const char *level, size_t len)
{
	struct mutf7_out out = { .str = dest };
	const unsigned char *p = (const unsigned char *)level, *end = p + len;
	while (p < end) {
		uint32_t cp = utf8_next(&p);
		if (cp >= 0x20 && cp <= 0x7e) {
			mutf7_end_run(&out);
			if (cp == '&')
				str_append(dest, "&-");
			else if (cp == '.')
				str_append(dest, "~2E");
			else if (cp == '~')
				str_append(dest, "~7E");
			else
				str_append_c(dest, (char)cp);
			continue;
		}
		if (!out.in_b64) {
			str_append_c(dest, '&');
			out.in_b64 = true;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			mutf7_put16(&out, (uint16_t)(0xd800 | (cp >> 10)));
			mutf7_put16(&out, (uint16_t)(0xdc00 | (cp & 0x3ff)));
		} else {
			mutf7_put16(&out, (uint16_t)cp);
		}
	}
	mutf7_end_run(&out);
}

const char *maildir_name_to_dir(const char *name)
{
	if (strcmp(name, "INBOX") == 0)
		return "";
	string_t *dest = t_str_new(strlen(name) * 2 + 2);
	for (const char *level = name;;) {
		const char *sep = strchr(level, MAILBOX_HIERARCHY_SEP);
		size_t len = sep == NULL ? strlen(level) : (size_t)(sep - level);
		str_append_c(dest, '.');
		maildir_level_encode(dest, level, len);
		if (sep == NULL)
			break;
		level = sep + 1;
	}
	return str_c(dest);
}

static void utf8_append(string_t *dest, uint32_t cp)
{
	if (cp < 0x80) {
		str_append_c(dest, (char)cp);
	} else if (cp < 0x800) {
		str_append_c(dest, (char)(0xc0 | (cp >> 6)));
		str_append_c(dest, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		str_append_c(dest, (char)(0xe0 | (cp >> 12)));
		str_append_c(dest, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (cp & 0x3f)));
	} else {
		str_append_c(dest, (char)(0xf0 | (cp >> 18)));
		str_append_c(dest, (char)(0x80 | ((cp >> 12) & 0x3f)));
		str_append_c(dest, (char)(0x80 | ((cp >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decodes a base64 run (after '&', up to and excluding '-'). */
static int mutf7_decode_run(string_t *dest, const char *run, size_t len)
{
	uint32_t bits = 0, high = 0;
	unsigned int nbits = 0;
	for (size_t i = 0; i < len; i++) {
		const char *pos = strchr(mutf7_alphabet, run[i]);
		if (pos == NULL || run[i] == '\0')
			return -1;
		bits = (bits << 6) | (uint32_t)(pos - mutf7_alphabet);
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;
		if (unit >= 0xd800 && unit <= 0xdbff) {
			if (high != 0)
				return -1;
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			if (high == 0)
				return -1;
			utf8_append(dest, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
		} else {
			/* printable ASCII must not be base64-encoded */
			if (high != 0 || (unit >= 0x20 && unit <= 0x7e))
				return -1;
			utf8_append(dest, unit);
		}
	}
	if (high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)toupper((unsigned char)c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int maildir_level_decode(string_t *dest, const char *level, size_t len)
{
	/* undo the ~XX escapes first */
	string_t *mutf7 = t_str_new(len + 1);
	for (size_t i = 0; i < len; i++) {
		if (level[i] != '~') {
			str_append_c(mutf7, level[i]);
			continue;
		}
		if (i + 2 >= len)
			return -1;
		int hi = hex_value(level[i + 1]), lo = hi < 0 ? -1 : hex_value(level[i + 2]);
		int c = lo < 0 ? -1 : (hi << 4 | lo);
		if (c < 0x20 || c > 0x7e || c == MAILBOX_HIERARCHY_SEP)
			return -1;
		str_append_c(mutf7, (char)c);
		i += 2;
	}
	const char *s = str_c(mutf7);
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] != '&') {
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
				return -1;
			str_append_c(dest, s[i]);
			continue;
		}
		const char *end = strchr(s + i + 1, '-');
		if (end == NULL)
			return -1;
		size_t run_len = (size_t)(end - (s + i + 1));
		if (run_len == 0)
			str_append_c(dest, '&');
		else if (mutf7_decode_run(dest, s + i + 1, run_len) < 0)
			return -1;
		i += run_len + 1;
	}
	return 0;
}

int maildir_dir_to_name(const char *dir, const char **name_r)
{
	if (dir[0] == '\0') {
		*name_r = "INBOX";
		return 0;
	}
	if (dir[0] != '.' || dir[1] == '\0')
		return -1;
	string_t *name = t_str_new(strlen(dir) + 8);
	for (const char *level = dir + 1;;) {
		const char *sep = strchr(level, '.');
		size_t len = sep == NULL ? strlen(level) : (size_t)(sep - level);
		if (str_len(name) > 0)
			str_append_c(name, MAILBOX_HIERARCHY_SEP);
		if (len == 0 || maildir_level_decode(name, level, len) < 0)
			return -1;
		if (sep == NULL)
			break;
		level = sep + 1;
	}
	if (!mailbox_name_is_valid(str_c(name)))
		return -1;
	*name_r = mailbox_name_canonical(str_c(name));
	return 0;
}
