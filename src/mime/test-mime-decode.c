/* Unit tests for mime-decode.c: lenient streaming base64 and quoted-
 * printable (RFC 2045 §6.7, §6.8) and the identity encodings; every input
 * decoded whole, byte at a time and in other chunk sizes. */
#include "test-common.h"
#include "mime-decode.h"

struct decode_test {
	enum mime_encoding encoding;
	const char *input;
	const char *output;
	size_t output_len; /* 0: strlen */
	bool errors;
};

#define B64 MIME_ENCODING_BASE64
#define QP MIME_ENCODING_QUOTED_PRINTABLE

static const struct decode_test decode_tests[] = {
	{ B64, "", "", 0, false },
	{ B64, "QUJD", "ABC", 0, false },
	{ B64, "QUJDRA==", "ABCD", 0, false },
	{ B64, "QUJDREU=", "ABCDE", 0, false },
	{ B64, "QU\r\nJD\n", "ABC", 0, false },
	{ B64, " Q U J D R A = = \r\n", "ABCD", 0, false },
	{ B64, "QUJDRA==\r\n\r\n", "ABCD", 0, false },
	{ B64, "AP8A/w==", "\0\xFF\0\xFF", 4, false },
	{ B64, "QU*JD", "ABC", 0, true },
	{ B64, "QUJDRA==garbage", "ABCD", 0, true },
	{ B64, "QUJDRA", "ABCD", 0, true },
	{ B64, "QUJDREU", "ABCDE", 0, true },
	{ B64, "Q", "", 0, true },
	{ B64, "QUJD=QUJD", "ABC", 0, true },
	{ B64, "=", "", 0, true },
	{ B64, "QQ=", "A", 0, false },
	{ QP, "hello", "hello", 0, false },
	{ QP, "caf=E9", "caf\xE9", 0, false },
	{ QP, "caf=e9", "caf\xE9", 0, false },
	{ QP, "=00=FF", "\0\xFF", 2, false },
	{ QP, "soft=\r\nbreak", "softbreak", 0, false },
	{ QP, "soft=\nbreak", "softbreak", 0, false },
	{ QP, "soft= \t\r\nbreak", "softbreak", 0, false },
	{ QP, "hard\r\nbreak\nbare", "hard\r\nbreak\nbare", 0, false },
	{ QP, "trailing   \r\nnext", "trailing\r\nnext", 0, false },
	{ QP, "trailing \t\nnext", "trailing\nnext", 0, false },
	{ QP, "keep  inner\tspaces", "keep  inner\tspaces", 0, false },
	{ QP, "end spaces  ", "end spaces", 0, false },
	{ QP, "a = b", "a = b", 0, true },
	{ QP, "a=ZZ", "a=ZZ", 0, true },
	{ QP, "a=4Z", "a=4Z", 0, true },
	{ QP, "a=4", "a=4", 0, true },
	{ QP, "a=", "a", 0, false },
	{ QP, "=\r\n", "", 0, false },
	{ QP, "a=\r", "a", 0, false },
	{ QP, "a=\rb", "a=\rb", 0, true },
	{ QP, "x\ry", "x\ry", 0, true },
	{ QP, "x\r", "x\r", 0, true },
	{ QP, "x \ry", "x \ry", 0, true },
	{ QP, "==41", "=A", 0, true },
	{ QP, "=\n=41=\n", "A", 0, false },
	{ MIME_ENCODING_7BIT, "as\0is=41", "as\0is=41", 8, false },
	{ MIME_ENCODING_BINARY, "\r\n\xFF", "\r\n\xFF", 0, false },
	{ MIME_ENCODING_UNKNOWN, "begin 644 x", "begin 644 x", 0, false },
};

static size_t test_input_len(const struct decode_test *t)
{
	/* inputs with NULs are only the identity ones, sized by output */
	return t->encoding == MIME_ENCODING_7BIT ? t->output_len : strlen(t->input);
}

static void test_decode_table(void)
{
	test_begin("transfer decoding");
	for (unsigned int i = 0; i < N_ELEMENTS(decode_tests); i++) {
		const struct decode_test *t = &decode_tests[i];
		size_t in_len = test_input_len(t);
		size_t out_len = t->output_len != 0 ? t->output_len : strlen(t->output);

		for (size_t chunk = 1; chunk <= in_len + 1; chunk++) {
			struct mime_decoder *decoder = mime_decoder_create(t->encoding);
			buffer_t *out = t_str_new(64);

			for (size_t pos = 0; pos < in_len; pos += chunk) {
				mime_decoder_decode(decoder, t->input + pos,
						    I_MIN(chunk, in_len - pos), out);
			}
			int ret = mime_decoder_finish(decoder, out);
			if (out->used != out_len || memcmp(out->data, t->output, out_len) != 0 ||
			    (ret < 0) != t->errors)
				printf("  case %u chunk %zu: '%s'\n", i, chunk, str_c(out));
			test_assert(out->used == out_len &&
				    memcmp(out->data, t->output, out_len) == 0);
			test_assert((ret < 0) == t->errors);
			test_assert(mime_decoder_had_errors(decoder) == t->errors);
			mime_decoder_destroy(&decoder);
			test_assert(decoder == NULL);
		}
		buffer_t *out = t_str_new(64);
		test_assert((mime_decode(t->encoding, t->input, in_len, out) < 0) == t->errors);
		test_assert(out->used == out_len && memcmp(out->data, t->output, out_len) == 0);
	}
	test_end();
}

static void test_decode_long(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	buffer_t *encoded = t_str_new(100000), *decoded = t_str_new(80000);
	struct mime_decoder *decoder = mime_decoder_create(MIME_ENCODING_BASE64);

	test_begin("transfer decoding long input");
	/* 76-character lines of all 256 byte values */
	for (unsigned int i = 0; i < 4096; i++) {
		str_append_c(encoded, alphabet[i % 64]);
		if (i % 76 == 75)
			str_append(encoded, "\r\n");
	}
	mime_decoder_decode(decoder, encoded->data, encoded->used, decoded);
	test_assert(mime_decoder_finish(decoder, decoded) == 0);
	test_assert(decoded->used == 4096 / 4 * 3);
	/* reset: the same decoder, a new body */
	mime_decoder_reset(decoder);
	buffer_clear(decoded);
	mime_decoder_decode(decoder, "QUJD", 4, decoded);
	test_assert(mime_decoder_finish(decoder, decoded) == 0 && decoded->used == 3);
	mime_decoder_destroy(&decoder);

	/* a very long whitespace run in quoted-printable is let through in
	   bounded pieces, and the trailing part still dropped */
	buffer_t *qp = t_str_new(10000);
	str_append_c(qp, 'a');
	for (unsigned int i = 0; i < 5000; i++)
		str_append_c(qp, ' ');
	str_append(qp, "\r\nb");
	buffer_clear(decoded);
	test_assert(mime_decode(MIME_ENCODING_QUOTED_PRINTABLE, qp->data, qp->used,
				decoded) == 0);
	test_assert(decoded->used < qp->used && decoded->data[0] == 'a' &&
		    memcmp(decoded->data + decoded->used - 3, "\r\nb", 3) == 0);
	test_end();
}

static void test_encoding_names(void)
{
	test_begin("encoding names");
	test_assert(mime_encoding_from_name(NULL) == MIME_ENCODING_7BIT);
	test_assert(mime_encoding_from_name("BASE64") == MIME_ENCODING_BASE64);
	test_assert(mime_encoding_from_name("Quoted-Printable") ==
		    MIME_ENCODING_QUOTED_PRINTABLE);
	test_assert(mime_encoding_from_name("8bit") == MIME_ENCODING_8BIT);
	test_assert(mime_encoding_from_name("binary") == MIME_ENCODING_BINARY);
	test_assert(mime_encoding_from_name("x-uuencode") == MIME_ENCODING_UNKNOWN);
	test_assert(mime_encoding_from_name("") == MIME_ENCODING_UNKNOWN);
	test_assert_strcmp(mime_encoding_name(MIME_ENCODING_QUOTED_PRINTABLE),
			   "quoted-printable");
	test_assert_strcmp(mime_encoding_name(MIME_ENCODING_UNKNOWN), "unknown");
	test_assert(mime_encoding_is_identity(MIME_ENCODING_8BIT) &&
		    !mime_encoding_is_identity(MIME_ENCODING_BASE64) &&
		    !mime_encoding_is_identity(MIME_ENCODING_UNKNOWN));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_decode_table,
		test_decode_long,
		test_encoding_names,
		NULL
	};
	return test_run(tests);
}
