/* Unit tests for password schemes: known vectors (computed with Python's
 * hashlib/crypt and the SHA-crypt specification), generate→verify round
 * trips, wrong passwords and malformed stored values. */
#include "test-common.h"
#include "auth-password.h"

#include <strings.h>

struct password_vector {
	const char *stored;
	const char *plaintext;
};

/* every vector's password matches; "secret" unless noted */
static const struct password_vector vectors[] = {
	{ "{PLAIN}secret", "secret" },
	{ "{plain}secret", "secret" },
	{ "{CLEARTEXT}secret", "secret" },
	{ "{PLAIN}", "" },
	{ "{PLAIN.b64}c2VjcmV0", "secret" },
	{ "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret" },
	{ "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret" },
	{ "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret" },
	/* hex without a suffix: told apart from base64 by its length */
	{ "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret" },
	{ "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret" },
	{ "{SHA256.hex}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b", "secret" },
	{ "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==", "secret" },
	{ "{SHA512.HEX}bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93dd0619d682ce56b4d64a9ef097761ced99e0f67265b5f76085e5b0ee7ca4696b2ad6fe2b2", "secret" },
	{ "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0", "secret" },
	{ "{SSHA}lrnu+GQ2hmduu6kbeByMsiUUzqEwMTIzNDU2Nzg5YWJj", "secret" },
	{ "{SSHA.HEX}8152bc582f58c854f580cb101d3182813dec4afe73616c74", "secret" },
	{ "{SSHA256}+E+iFJ27Yu1ODPH1UNKUmzOmUT06dwfghQJRHHnMsO5zYWx0", "secret" },
	{ "{SSHA256}ZihH3JO00/g7cVQIZf2s9TSMKuq4QmZ5ZGZJDq/TrEkwMTIzNDU2Nzg5YWJj", "secret" },
	{ "{SSHA512}E491yrR9AdCoE7rbOPYS3EZgSuZpVE65AD9xko08s6floNesY/Zpe9zMVvLix4S2FiQSJ99RIkNvhHomNO9uL3NhbHQ=", "secret" },
	{ "{SSHA512}4TQG9iTRnVI2/oMN3tjL1oXjcbrXmNPWCcyClGGWhlxVZknUFjNEahOmdIWxv1sNNc7n6nGBcPYRfr8fzL7FmDAxMjM0NTY3ODlhYmM=", "secret" },
	{ "{SMD5}mc0uWpXVVe5747A4pKhGJXNhbHQ=", "secret" },
	{ "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret" },
	{ "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "secret" },
	{ "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret" },
	{ "{MD5}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret" },
	{ "{PBKDF2}$1$abcdefghijklmnop$5000$45937b8f8cb51eb6efe003dabea51300f2777475", "secret" },
	{ "{PBKDF2}$1$x./Y$1$597acade9a3948a5a4654c4d937a409bc24b3192", "secret" },
	{ "{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "secret" },
	{ "{SHA512-CRYPT}$6$rounds=1000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zok96Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/", "secret" },
	{ "{SHA512-CRYPT}$6$saltsalt$TQjRhpJdqmLx0U8it3EsUajwkmOMMvw5vhUFc7mohzFFoj/QHrfYUHU1oSkwyCEoTUCDOiAOW135nel3bqtKe.", "p\xc3\xa4ssw\xc3\xb6rd" },
	/* from the SHA-crypt specification */
	{ "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!" },
	{ "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!" },
	{ "{SHA256-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret" },
	{ "{MD5-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret" },
	{ "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", "secret" },
	{ "{BLF-CRYPT}$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW", "secret" },
	{ "{CRYPT}$y$j9T$abcdefghijklmnopqrstu1$GlQwT/EQP1axBM3aasX7Rs1qYe36BkJ0pNJ85R3q8SB", "secret" },
	{ "{YESCRYPT}$y$j9T$abcdefghijklmnopqrstu1$GlQwT/EQP1axBM3aasX7Rs1qYe36BkJ0pNJ85R3q8SB", "secret" },
	/* no scheme prefix: crypt(3) */
	{ "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "secret" },
	{ "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret" },
};

static void test_password_vectors(void)
{
	const char *error;

	test_begin("password vectors");
	for (size_t i = 0; i < N_ELEMENTS(vectors); i++) {
		int ret = password_verify(vectors[i].plaintext, vectors[i].stored,
					  "user", &error);
		if (ret != 1)
			printf("  vector %zu (%s): ret=%d error=%s\n", i,
			       vectors[i].stored, ret, error == NULL ? "" : error);
		test_assert(ret == 1);
		ret = password_verify("wrong", vectors[i].stored, "user", &error);
		test_assert(ret == 0);
		/* a prefix of the right password must not match either */
		if (vectors[i].plaintext[0] != '\0') {
			const char *shorter = t_strndup(vectors[i].plaintext,
				strlen(vectors[i].plaintext) - 1);
			test_assert(password_verify(shorter, vectors[i].stored,
						    "user", &error) == 0);
		}
	}
	test_end();
}

static void test_password_roundtrip(void)
{
	const char *const *schemes = password_schemes_list();
	const char *hash, *error;
	pool_t pool = pool_create("test", 1024);

	test_begin("password generate and verify");
	for (unsigned int i = 0; schemes[i] != NULL; i++) {
		int ret = password_generate("p@ss w0rd", schemes[i], pool, &hash, &error);
		if (ret < 0)
			printf("  %s: %s\n", schemes[i], error);
		test_assert(ret == 0);
		if (ret < 0)
			continue;
		const char *prefix = t_strdup_printf("{%s}", schemes[i]);
		test_assert(strncmp(hash, prefix, strlen(prefix)) == 0);
		test_assert(password_verify("p@ss w0rd", hash, "u", &error) == 1);
		test_assert(password_verify("p@ss w0rD", hash, "u", &error) == 0);
		test_assert(password_verify("", hash, "u", &error) == 0);
	}
	/* encoding suffixes and case-insensitive names */
	test_assert(password_generate("x", "ssha256.hex", pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{SSHA256.HEX}", 13) == 0);
	test_assert(password_verify("x", hash, NULL, &error) == 1);
	test_assert(password_generate("x", "sha512.b64", pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{SHA512.B64}", 12) == 0);
	test_assert(password_verify("x", hash, NULL, &error) == 1);
	/* fresh salts: two hashes of the same password differ */
	const char *hash2;
	test_assert(password_generate("x", "SSHA", pool, &hash, &error) == 0);
	test_assert(password_generate("x", "SSHA", pool, &hash2, &error) == 0);
	test_assert(strcmp(hash, hash2) != 0);
	test_assert(password_generate("x", PASSWORD_SCHEME_DEFAULT, pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{SHA512-CRYPT}$6$", 17) == 0);
	test_assert(password_generate("x", "BLF-CRYPT", pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{BLF-CRYPT}$2y$10$", 18) == 0);
	test_assert(password_generate("x", "PBKDF2", pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{PBKDF2}$1$", 11) == 0);
	test_end();
	pool_destroy(&pool);
}

static void test_password_malformed(void)
{
	static const char *const malformed[] = {
		"{NOSUCH}abc",
		"{}abc",
		"{SHA.XYZ}abc",
		"{SHA512-CRYPT.HEX}$6$x$y",    /* not hex */
		"{SHA}not base64!",
		"{SHA}c2VjcmV0",             /* decodes to 6 bytes, not 20 */
		"{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05fz",
		"{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", /* no salt */
		"{SSHA256}c2FsdA==",
		"{PBKDF2}abc",
		"{PBKDF2}$1$salt$0$45937b8f8cb51eb6efe003dabea51300f2777475",
		"{PBKDF2}$1$salt$x$45937b8f8cb51eb6efe003dabea51300f2777475",
		"{PBKDF2}$1$salt$5000$45937b8f",
		"{PBKDF2}$1$salt$5000$zz937b8f8cb51eb6efe003dabea51300f2777475",
		"{PBKDF2}$1$salt$5000",
		"{MD5}garbage",
		"{SHA512-CRYPT}$6",
		"{CRYPT}*",
		"!locked",
	};
	const char *error;

	test_begin("password malformed stored values");
	for (size_t i = 0; i < N_ELEMENTS(malformed); i++) {
		error = NULL;
		int ret = password_verify("secret", malformed[i], "u", &error);
		if (ret != -1)
			printf("  %s: ret=%d\n", malformed[i], ret);
		test_assert(ret == -1);
		test_assert(error != NULL && error[0] != '\0');
	}
	test_assert(password_verify("secret", "{NOSUCH}x", "u", &error) == -1);
	test_assert(strstr(error, "NOSUCH") != NULL);
	/* empty or missing stored values never match and aren't errors */
	test_assert(password_verify("", NULL, "u", &error) == 0);
	test_assert(password_verify("", "", "u", &error) == 0);
	test_assert(password_verify("", "{CRYPT}", "u", &error) == 0);
	/* an unterminated "{" is no scheme: the whole value is a crypt hash */
	test_assert(password_verify("x", "{SHA", "u", &error) == -1);
	test_end();
}

static void test_password_generate_errors(void)
{
	const char *hash = NULL, *error;
	pool_t pool = pool_create("test", 256);

	test_begin("password generate errors");
	test_assert(password_generate("x", "NOSUCH", pool, &hash, &error) == -1);
	test_assert(strstr(error, "NOSUCH") != NULL);
	test_assert(password_generate("x", "SHA.BAD", pool, &hash, &error) == -1);
	/* as in Dovecot, any scheme's output may be encoded */
	test_assert(password_generate("x", "SHA256-CRYPT.HEX", pool, &hash, &error) == 0);
	test_assert(strncmp(hash, "{SHA256-CRYPT.HEX}243524", 24) == 0);
	test_assert(password_verify("x", hash, NULL, &error) == 1);
	test_assert(password_scheme_is_known("ssha512"));
	test_assert(password_scheme_is_known("SHA.hex"));
	test_assert(!password_scheme_is_known("ARGON2ID"));
	test_end();
	pool_destroy(&pool);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_password_vectors,
		test_password_roundtrip,
		test_password_malformed,
		test_password_generate_errors,
		NULL,
	};
	return test_run(tests);
}
