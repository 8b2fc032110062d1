/* Mailbox names as Maildir++ folder names, so that other Maildir tools see
 * the usual names: "a/b" is the folder ".a.b", each level in modified
 * UTF-7 (RFC 3501 §5.1.3, as Dovecot and Courier store them), and the two
 * characters that would break the layout inside a level escaped: '.' (the
 * Maildir++ separator) as "~2E" and '~' (the escape itself) as "~7E".
 * INBOX is the Maildir root itself. */
#include "maildir-private.h"
#include "mutf7.h"

#include <ctype.h>

static void maildir_level_encode(string_t *dest, const char *level, size_t len)
{
	/* modified UTF-7 never produces '.' or '~' itself, so escaping after
	   encoding is unambiguous; the name was validated as UTF-8 already */
	string_t *mutf7 = t_str_new(len * 2 + 8);
	if (mutf7_encode(level, len, mutf7) < 0)
		i_panic("maildir: mailbox name level is not valid UTF-8");
	for (const char *p = str_c(mutf7); *p != '\0'; p++) {
		if (*p == '.')
			str_append(dest, "~2E");
		else if (*p == '~')
			str_append(dest, "~7E");
		else
			str_append_c(dest, *p);
	}
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
	return mutf7_decode(str_c(mutf7), str_len(mutf7), dest);
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
