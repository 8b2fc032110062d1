/* RFC 2047 encoded-word and RFC 2231 §4 extended value decoding. */
#include "mime-encoded-word.h"
#include "mime-charset.h"
#include "mime-decode.h"

#include <strings.h>

#define ENCODED_WORD_CHARSET_MAX_LEN 75

struct encoded_word {
	const unsigned char *charset, *text;
	size_t charset_len, text_len, size;
	char encoding; /* 'B' or 'Q' */
};

/* Parses "=?charset?E?text?=" at p. Returns false if it is not one. */
static bool encoded_word_parse(const unsigned char *p, size_t left,
			       struct encoded_word *word_r)
{
	size_t i = 2;

	word_r->charset = p + i;
	while (i < left && p[i] != '?' && p[i] > ' ' && p[i] != '=')
		i++;
	word_r->charset_len = i - 2;
	if (word_r->charset_len == 0 ||
	    word_r->charset_len > ENCODED_WORD_CHARSET_MAX_LEN ||
	    i + 3 > left || p[i] != '?' || p[i + 2] != '?')
		return false;
	switch (p[i + 1]) {
	case 'b': case 'B':
		word_r->encoding = 'B';
		break;
	case 'q': case 'Q':
		word_r->encoding = 'Q';
		break;
	default:
		return false;
	}
	i += 3;
	word_r->text = p + i;
	/* encoded-text has no '?': the first one must start the "?=" */
	const unsigned char *q = memchr(p + i, '?', left - i);
	if (q == NULL || (size_t)(q - p) + 1 >= left || q[1] != '=')
		return false;
	word_r->text_len = (size_t)(q - word_r->text);
	word_r->size = (size_t)(q - p) + 2;
	return true;
}

bool mime_encoded_word_has_words(const void *_data, size_t size)
{
	const unsigned char *data = _data;
	struct encoded_word word;

	for (size_t pos = 0; pos + 1 < size; pos++) {
		if (data[pos] == '=' && data[pos + 1] == '?' &&
		    encoded_word_parse(data + pos, size - pos, &word))
			return true;
	}
	return false;
}

static unsigned int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return 16;
}

/* Decodes "=XX" (or "%XX") escapes; others are kept as they are. */
static void hex_escape_decode(const unsigned char *data, size_t size,
			      unsigned char escape, bool underscore_space,
			      buffer_t *dest)
{
	for (size_t i = 0; i < size; i++) {
		unsigned char c = data[i];

		if (c == escape && i + 2 < size &&
		    hex_value(data[i + 1]) < 16 && hex_value(data[i + 2]) < 16) {
			buffer_append_c(dest, (unsigned char)(hex_value(data[i + 1]) * 16 +
							      hex_value(data[i + 2])));
			i += 2;
		} else if (c == '_' && underscore_space) {
			buffer_append_c(dest, ' ');
		} else {
			buffer_append_c(dest, c);
		}
	}
}

void mime_encoded_word_q_decode(const void *data, size_t size, buffer_t *dest)
{
	hex_escape_decode(data, size, '=', true, dest);
}

void mime_rfc2231_percent_decode(const void *data, size_t size, buffer_t *dest)
{
	hex_escape_decode(data, size, '%', false, dest);
}

struct word_decoder {
	string_t *dest;
	/* decoded bytes of adjacent words in one charset, not yet converted */
	buffer_t *bytes;
	char charset[ENCODED_WORD_CHARSET_MAX_LEN + 1];
};

static void word_decoder_flush(struct word_decoder *dec)
{
	if (dec->charset[0] == '\0')
		return;
	(void)charset_to_utf8(dec->charset, dec->bytes->data, dec->bytes->used,
			      dec->dest);
	buffer_clear(dec->bytes);
	dec->charset[0] = '\0';
}

static void word_decoder_add(struct word_decoder *dec, const struct encoded_word *word)
{
	char charset[ENCODED_WORD_CHARSET_MAX_LEN + 1];
	size_t len = word->charset_len;
	const unsigned char *star = memchr(word->charset, '*', len);

	/* RFC 2231 §5: "charset*language" */
	if (star != NULL)
		len = (size_t)(star - word->charset);
	memcpy(charset, word->charset, len);
	charset[len] = '\0';
	if (strcasecmp(charset, dec->charset) != 0) {
		word_decoder_flush(dec);
		memcpy(dec->charset, charset, len + 1);
	}
	if (dec->charset[0] == '\0') {
		/* "=?*en?Q?...?=": no charset at all */
		memcpy(dec->charset, "us-ascii", sizeof("us-ascii"));
	}
	if (word->encoding == 'Q')
		mime_encoded_word_q_decode(word->text, word->text_len, dec->bytes);
	else
		(void)mime_decode(MIME_ENCODING_BASE64, word->text, word->text_len,
				  dec->bytes);
}

static bool is_only_lwsp(const unsigned char *data, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
			return false;
	}
	return true;
}

void mime_encoded_word_decode(const void *_data, size_t size, string_t *dest)
{
	const unsigned char *data = _data;
	struct word_decoder dec = { .dest = dest };
	struct encoded_word word;
	size_t pos = 0, text_start = 0;
	bool after_word = false;

	dec.bytes = buffer_create(system_pool, 128);
	while (pos + 1 < size) {
		if (data[pos] != '=' || data[pos + 1] != '?' ||
		    !encoded_word_parse(data + pos, size - pos, &word)) {
			pos++;
			continue;
		}
		if (!after_word || !is_only_lwsp(data + text_start, pos - text_start)) {
			word_decoder_flush(&dec);
			charset_utf8_append_valid(dest, data + text_start, pos - text_start);
		}
		word_decoder_add(&dec, &word);
		pos += word.size;
		text_start = pos;
		after_word = true;
	}
	word_decoder_flush(&dec);
	charset_utf8_append_valid(dest, data + text_start, size - text_start);
	buffer_free(&dec.bytes);
}

int mime_rfc2231_split(pool_t pool, const char *value, const char **charset_r,
		       const char **language_r, const char **text_r)
{
	const char *q1 = strchr(value, '\''), *q2;

	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return -1;
	*charset_r = p_strndup(pool, value, (size_t)(q1 - value));
	*language_r = p_strndup(pool, q1 + 1, (size_t)(q2 - q1 - 1));
	*text_r = q2 + 1;
	return 0;
}

int mime_rfc2231_to_utf8(const char *charset, const void *data, size_t size,
			 string_t *dest)
{
	if (charset[0] == '\0') {
		charset_utf8_append_valid(dest, data, size);
		return 0;
	}
	return charset_to_utf8(charset, data, size, dest);
}
