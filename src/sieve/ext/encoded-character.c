/* The encoded-character extension (RFC 5228 §2.4.2.4): "${hex:...}" and
 * "${unicode:...}" in the script's strings, decoded once at compile time
 * (the validator calls sieve_encoded_character_decode() after the
 * requires). */
#include "sieve-commands.h"

#include <strings.h>

const struct sieve_extension_def sieve_ext_encoded_character = {
	.name = "encoded-character",
};

static int hex_value(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes the body of one "${hex:...}" or "${unicode:...}" (p just after
   the ':'); returns 1 and the position after '}' if well-formed, 0 if not
   (then the text stays as it is), -1 on a forbidden value. */
static int encoded_decode_one(const char *p, bool unicode, string_t *dest,
			      const char **end_r, const char **error_r)
{
	size_t start_len = str_len(dest);
	bool any = false;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '}')
			break;
		uint32_t value = 0;
		unsigned int digits = 0;
		while (hex_value(*p) >= 0) {
			if (value > 0x10ffff)
				goto bad_value;
			value = value * 16 + (uint32_t)hex_value(*p++);
			digits++;
		}
		if (digits == 0 || (!unicode && digits != 2) ||
		    (*p != '}' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))
			goto malformed;
		if (unicode && (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))) {
			*error_r = t_strdup_printf("invalid Unicode character U+%X", value);
			return -1;
		}
		/* strings are NUL-terminated in this engine: an encoded NUL
		   cannot be part of one */
		if (value == 0) {
			*error_r = "the NUL character cannot be part of a string";
			return -1;
		}
		if (unicode)
			str_append_utf8(dest, value);
		else
			str_append_c(dest, (char)value);
		any = true;
	}
	/* RFC 5228 §2.4.2.4: at least one hex pair or code point */
	if (!any)
		goto malformed;
	*end_r = p + 1;
	return 1;
malformed:
	str_truncate(dest, start_len);
	return 0;
bad_value:
	*error_r = "invalid Unicode character (above U+10FFFF)";
	return -1;
}

/* RFC 5228 §2.4.2.4 */
static int encoded_decode_string(pool_t pool, const char **strp, const char **error_r)
{
	const char *s = *strp, *p;
	string_t *dest;

	if (strstr(s, "${") == NULL)
		return 0;
	dest = str_new(pool, strlen(s) + 1);
	while ((p = strstr(s, "${")) != NULL) {
		const char *q = p + 2, *end;
		bool unicode;
		int ret = 0;

		str_append_n(dest, s, (size_t)(p - s));
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if ((unicode = strncasecmp(q, "unicode:", 8) == 0) ||
		    strncasecmp(q, "hex:", 4) == 0)
			ret = encoded_decode_one(q + (unicode ? 8 : 4), unicode, dest, &end, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0) {
			str_append_n(dest, p, 2);
			s = p + 2;
		} else {
			s = end;
		}
	}
	str_append(dest, s);
	*strp = str_c(dest);
	return 0;
}

int sieve_encoded_character_decode(pool_t pool, struct sieve_ast_node *node,
				   const char **error_r)
{
	for (unsigned int i = 0; i < node->args.count; i++) {
		struct sieve_ast_arg *arg = &node->args.v[i];

		for (unsigned int j = 0; j < arg->string_count; j++) {
			const char *orig = arg->strings[j];

			if (encoded_decode_string(pool, &arg->strings[j], error_r) < 0) {
				*error_r = p_strdup_printf(pool, "line %u: encoded character "
							   "value in \"%s\" is invalid: %s",
							   arg->line, orig, *error_r);
				return -1;
			}
		}
	}
	for (unsigned int i = 0; i < node->tests.count; i++) {
		if (sieve_encoded_character_decode(pool, node->tests.v[i], error_r) < 0)
			return -1;
	}
	for (unsigned int i = 0; i < node->block.count; i++) {
		if (sieve_encoded_character_decode(pool, node->block.v[i], error_r) < 0)
			return -1;
	}
	return 0;
}

