/* Unit tests for base64.c: RFC 4648 §10 test vectors, strict rejection of
 * malformed input, and round trips of pseudo-random data. */
#include "test-common.h"
#include "base64.h"

#define VECTOR(plain, encoded) { plain, sizeof(plain) - 1, encoded }

static const struct {
	const char *plain;
	size_t plain_len; /* the plain texts may contain NULs */
	const char *encoded;
} base64_vectors[] = {
	/* RFC 4648 §10 */
	VECTOR("", ""),
	VECTOR("f", "Zg=="),
	VECTOR("fo", "Zm8="),
	VECTOR("foo", "Zm9v"),
	VECTOR("foob", "Zm9vYg=="),
	VECTOR("fooba", "Zm9vYmE="),
	VECTOR("foobar", "Zm9vYmFy"),
	/* SASL PLAIN (RFC 4616) and a few more */
	VECTOR("\0user\0pass", "AHVzZXIAcGFzcw=="),
	VECTOR("\xff\xfe\xfd", "//79"),
	VECTOR("\xfb\xff", "+/8="),
	VECTOR("Man is distinguished", "TWFuIGlzIGRpc3Rpbmd1aXNoZWQ="),
};

static void test_base64_encode(void)
{
	test_begin("base64_encode");
	for (unsigned int i = 0; i < N_ELEMENTS(base64_vectors); i++) {
		buffer_t *buf = buffer_create(t_pool(), 0);
		buffer_append(buf, "pre", 3);
		base64_encode(base64_vectors[i].plain, base64_vectors[i].plain_len, buf);
		test_assert_strcmp(str_c(buf), t_strdup_printf("pre%s", base64_vectors[i].encoded));
		test_assert(base64_encoded_size(base64_vectors[i].plain_len) ==
			    strlen(base64_vectors[i].encoded));
	}
	test_assert(base64_encoded_size(0) == 0);
	test_assert(base64_encoded_size(1) == 4);
	test_assert(base64_encoded_size(3) == 4);
	test_assert(base64_encoded_size(4) == 8);
	test_end();
}

static void test_base64_decode(void)
{
	test_begin("base64_decode");
	for (unsigned int i = 0; i < N_ELEMENTS(base64_vectors); i++) {
		buffer_t *buf = buffer_create(t_pool(), 0);
		buffer_append(buf, "pre", 3);
		const char *enc = base64_vectors[i].encoded;
		test_assert(base64_decode(enc, strlen(enc), buf) == 0);
		test_assert(buf->used == 3 + base64_vectors[i].plain_len);
		test_assert(memcmp(buf->data, "pre", 3) == 0);
		test_assert(memcmp(buf->data + 3, base64_vectors[i].plain, base64_vectors[i].plain_len) == 0);
	}
	test_end();
}

static void test_base64_decode_invalid(void)
{
	static const char *const invalid[] = {
		/* bad lengths (RFC 4648 §3.2: padding is required) */
		"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYmE",
		/* bad padding */
		"=", "==", "===", "====", "A===", "Zg=A", "Z=g=", "=Zg=", "Zg==Zg==",
		"Zm8=Zm9v", "Zm9v====", "Zm=8",
		/* pad bits not zero (RFC 4648 §3.5) */
		"Zh==", "Zm9=", "Zm/=", "AB==", "AAB=",
		/* characters outside the alphabet, whitespace included */
		"Zm9v\n", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\r\nYmFy", "Zm\t9v",
		"Zm-_", "Zm.v", "Zm9v*A==", "\x80\x80\x80\x80", "Zm9\xff",
		"Zm\xc3\xb6", "Zm9v!AAA",
	};

	test_begin("base64_decode invalid");
	for (unsigned int i = 0; i < N_ELEMENTS(invalid); i++) {
		buffer_t *buf = buffer_create(t_pool(), 0);
		buffer_append(buf, "keep", 4);
		if (base64_decode(invalid[i], strlen(invalid[i]), buf) != -1) {
			printf("  accepted: '%s'\n", invalid[i]);
			test_assert(false);
		}
		/* a failed decode leaves dest as it was */
		test_assert(buf->used == 4 && strcmp(str_c(buf), "keep") == 0);
	}
	/* an embedded NUL is not in the alphabet either */
	buffer_t *buf = buffer_create(t_pool(), 0);
	test_assert(base64_decode("Zm9v\0AAA", 8, buf) == -1);
	test_assert(base64_decode("Zg=\0", 4, buf) == -1);
	test_assert(buf->used == 0);
	/* only size bytes are looked at */
	test_assert(base64_decode("Zm9vjunk", 4, buf) == 0);
	test_assert(buf->used == 3 && memcmp(buf->data, "foo", 3) == 0);
	test_end();
}

static uint32_t test_rand_state = 2463534242u;

/* xorshift32: deterministic, so failures reproduce */
static uint32_t test_rand(void)
{
	test_rand_state ^= test_rand_state << 13;
	test_rand_state ^= test_rand_state >> 17;
	test_rand_state ^= test_rand_state << 5;
	return test_rand_state;
}

static void test_base64_round_trip(void)
{
	unsigned char data[1024];

	test_begin("base64 round trip");
	for (unsigned int round = 0; round < 2000; round++) {
		size_t size = round < 64 ? round : test_rand() % sizeof(data);
		for (size_t i = 0; i < size; i++)
			data[i] = (unsigned char)test_rand();
		buffer_t *enc = buffer_create(t_pool(), 0);
		buffer_t *dec = buffer_create(t_pool(), 0);
		base64_encode(data, size, enc);
		test_assert(enc->used == base64_encoded_size(size));
		test_assert(base64_decode(enc->data, enc->used, dec) == 0);
		test_assert(dec->used == size && memcmp(dec->data, data, size) == 0);
		if (enc->used > 0) {
			/* any single character changed to one outside the
			   alphabet is rejected */
			size_t pos = test_rand() % enc->used;
			enc->data[pos] = "!-_ \n=\x80"[test_rand() % 7];
			buffer_clear(dec);
			bool pad_ok = enc->data[pos] == '=' && pos >= enc->used - 2;
			if (!pad_ok)
				test_assert(base64_decode(enc->data, enc->used, dec) == -1);
		}
		if (round % 100 == 0)
			t_pool_clear();
	}
	/* every byte value */
	for (unsigned int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	buffer_t *enc = buffer_create(system_pool, 0);
	buffer_t *dec = buffer_create(system_pool, 0);
	base64_encode(data, 256, enc);
	test_assert(base64_decode(enc->data, enc->used, dec) == 0);
	test_assert(dec->used == 256 && memcmp(dec->data, data, 256) == 0);
	buffer_free(&enc);
	buffer_free(&dec);
	test_assert(enc == NULL && dec == NULL);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_base64_encode,
		test_base64_decode,
		test_base64_decode_invalid,
		test_base64_round_trip,
		NULL
	};
	return test_run(tests);
}
