/* Preview text (RFC 8970 §3.1: plain text a client shows as it is): HTML
 * markup and character references turned into text, quoted lines of
 * plain text dropped, every run of whitespace and control characters
 * made one space, and the result cut on a character boundary. */
#include "imap-preview.h"

#include <ctype.h>
#include <strings.h>

struct preview_out {
	string_t *dest;
	size_t start;
	unsigned int chars;
	bool space_pending;
	bool full;
};

/* Length of the whitespace or control character at p (UTF-8), 0 if p
   starts something else. */
static size_t preview_space_len(const unsigned char *p, size_t left)
{
	if (p[0] < 0x20 || p[0] == ' ' || p[0] == 0x7f)
		return 1;
	if (left >= 2 && p[0] == 0xc2 && (p[1] == 0xa0 || (p[1] >= 0x80 && p[1] <= 0x9f)))
		return 2; /* NO-BREAK SPACE, C1 controls */
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x8f) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3; /* U+2000-200F spaces and marks, line/paragraph separators */
	if (left >= 3 && ((p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
			  (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)))
		return 3; /* IDEOGRAPHIC SPACE, BOM */
	return 0;
}

static size_t utf8_char_len(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Appends UTF-8 text, collapsing whitespace, until the preview is full. */
static void preview_out_append(struct preview_out *out, const char *text, size_t size)
{
	const unsigned char *p = (const unsigned char *)text;
	for (size_t i = 0; i < size && !out->full;) {
		size_t n = preview_space_len(p + i, size - i);
		if (n > 0) {
			out->space_pending = str_len(out->dest) > out->start;
			i += n;
			continue;
		}
		n = I_MIN(utf8_char_len(p[i]), size - i);
		if (out->chars + (out->space_pending ? 1 : 0) + 1 > IMAP_PREVIEW_MAX_CHARS) {
			out->full = true;
			break;
		}
		if (out->space_pending) {
			str_append_c(out->dest, ' ');
			out->chars++;
			out->space_pending = false;
		}
		str_append_n(out->dest, (const char *)p + i, n);
		out->chars++;
		i += n;
	}
}

/* Plain text without its quoted lines ("> ..."): replies quote what the
   reader has seen already. */
static void preview_plain(struct preview_out *out, const char *text, size_t size,
			  bool skip_quotes)
{
	size_t pos = 0;
	while (pos < size && !out->full) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t end = nl == NULL ? size : (size_t)(nl - text);
		size_t first = pos;
		while (first < end && (text[first] == ' ' || text[first] == '\t'))
			first++;
		if (!skip_quotes || first == end || text[first] != '>') {
			preview_out_append(out, text + pos, end - pos);
			preview_out_append(out, "\n", 1);
		}
		pos = end + 1;
	}
}

/* ---- HTML ---- */

static const struct {
	const char *name;
	const char *utf8;
} html_entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
	{ "nbsp", " " }, { "copy", "\xc2\xa9" }, { "reg", "\xc2\xae" },
	{ "trade", "\xe2\x84\xa2" }, { "hellip", "\xe2\x80\xa6" }, { "mdash", "\xe2\x80\x94" },
	{ "ndash", "\xe2\x80\x93" }, { "lsquo", "\xe2\x80\x98" }, { "rsquo", "\xe2\x80\x99" },
	{ "ldquo", "\xe2\x80\x9c" }, { "rdquo", "\xe2\x80\x9d" }, { "euro", "\xe2\x82\xac" },
	{ "bull", "\xe2\x80\xa2" }, { "middot", "\xc2\xb7" }, { "laquo", "\xc2\xab" },
	{ "raquo", "\xc2\xbb" }, { "shy", "" }, { "zwnj", "" }, { "zwj", "" },
};

static void utf8_append_code_point(string_t *dest, uint32_t c)
{
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		str_append_c(dest, (char)c);
	} else if (c < 0x800) {
		str_append_c(dest, (char)(0xc0 | (c >> 6)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		str_append_c(dest, (char)(0xe0 | (c >> 12)));
		str_append_c(dest, (char)(0x80 | ((c >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	} else {
		str_append_c(dest, (char)(0xf0 | (c >> 18)));
		str_append_c(dest, (char)(0x80 | ((c >> 12) & 0x3f)));
		str_append_c(dest, (char)(0x80 | ((c >> 6) & 0x3f)));
		str_append_c(dest, (char)(0x80 | (c & 0x3f)));
	}
}

/* A character reference at text[0] == '&': appends what it stands for
   and returns its length, or 0 if it isn't one (the '&' is then text). */
static size_t html_entity(const char *text, size_t size, string_t *dest)
{
	size_t end = 1;
	while (end < size && end < 12 && text[end] != ';' &&
	       (isalnum((unsigned char)text[end]) || text[end] == '#'))
		end++;
	if (end >= size || text[end] != ';' || end == 1)
		return 0;
	if (text[1] == '#') {
		bool hex = end > 2 && (text[2] == 'x' || text[2] == 'X');
		uint32_t c = 0;
		size_t i = hex ? 3 : 2;
		if (i == end)
			return 0;
		for (; i < end; i++) {
			int d = hex && isxdigit((unsigned char)text[i]) ?
				(isdigit((unsigned char)text[i]) ? text[i] - '0' :
				 (tolower((unsigned char)text[i]) - 'a' + 10)) :
				isdigit((unsigned char)text[i]) ? text[i] - '0' : -1;
			if (d < 0)
				return 0;
			c = c > 0x10ffff ? c : c * (hex ? 16 : 10) + (uint32_t)d;
		}
		utf8_append_code_point(dest, c);
		return end + 1;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(html_entities); i++) {
		const char *name = html_entities[i].name;
		if (strlen(name) == end - 1 && strncmp(text + 1, name, end - 1) == 0) {
			str_append(dest, html_entities[i].utf8);
			return end + 1;
		}
	}
	return 0;
}

/* Elements whose content is not text to show. */
static bool html_tag_is_hidden(const char *name, size_t len)
{
	static const char *const hidden[] = { "head", "script", "style", "title", "template" };
	for (unsigned int i = 0; i < N_ELEMENTS(hidden); i++) {
		if (strlen(hidden[i]) == len && strncasecmp(name, hidden[i], len) == 0)
			return true;
	}
	return false;
}

/* Where the tag at text[pos] == '<' ends (after '>'), or size. */
static size_t html_tag_end(const char *text, size_t size, size_t pos)
{
	if (size - pos >= 4 && memcmp(text + pos, "<!--", 4) == 0) {
		for (size_t i = pos + 4; i + 2 < size; i++) {
			if (memcmp(text + i, "-->", 3) == 0)
				return i + 3;
		}
		return size;
	}
	char quote = '\0';
	for (size_t i = pos + 1; i < size; i++) {
		if (quote != '\0') {
			if (text[i] == quote)
				quote = '\0';
		} else if (text[i] == '"' || text[i] == '\'') {
			quote = text[i];
		} else if (text[i] == '>') {
			return i + 1;
		}
	}
	return size;
}

/* Skips a hidden element's content: past its end tag "</name>". */
static size_t html_skip_hidden(const char *text, size_t size, size_t pos, const char *name,
			       size_t len)
{
	for (size_t i = pos; i + len + 2 <= size; i++) {
		if (text[i] == '<' && text[i + 1] == '/' &&
		    strncasecmp(text + i + 2, name, len) == 0)
			return html_tag_end(text, size, i);
	}
	return size;
}

/* HTML to text: tags become spaces (the collapse merges them; inline
   markup inside a word is rare in mail), hidden elements vanish. */
static void html_to_text(const char *text, size_t size, string_t *dest)
{
	size_t pos = 0;
	while (pos < size) {
		char c = text[pos];
		if (c == '&') {
			size_t n = html_entity(text + pos, size - pos, dest);
			if (n > 0) {
				pos += n;
				continue;
			}
		} else if (c == '<') {
			size_t end = html_tag_end(text, size, pos);
			const char *name = text + pos + 1;
			size_t len = 0;
			while (pos + 1 + len < end && isalnum((unsigned char)name[len]))
				len++;
			pos = end;
			if (len > 0 && html_tag_is_hidden(name, len) && text[end - 2] != '/')
				pos = html_skip_hidden(text, size, pos, name, len);
			str_append_c(dest, ' ');
			continue;
		}
		str_append_c(dest, c);
		pos++;
	}
}

void imap_preview_from_text(string_t *dest, const char *text, size_t size, bool html)
{
	struct preview_out out = { .dest = dest, .start = str_len(dest) };
	if (html) {
		string_t *plain = str_new(system_pool, size + 1);
		html_to_text(text, size, plain);
		preview_out_append(&out, str_c(plain), str_len(plain));
		str_free(&plain);
		return;
	}
	preview_plain(&out, text, size, true);
	if (str_len(dest) == out.start) {
		/* all of it quoted: the quote is the text */
		preview_plain(&out, text, size, false);
	}
}
