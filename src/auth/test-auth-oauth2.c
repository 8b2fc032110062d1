/* Unit tests for local JWT validation (RFC 7519, RFC 7515/7518): tokens
 * minted here with HS256/HS512, RS256 and ES256/ES384, then checked for
 * signature, algorithm (none, mismatched key types), kid selection, exp,
 * nbf, iss, aud and the username claim. */
#include "test-common.h"
#include "auth-oauth2.h"
#include "base64.h"
#include "buffer.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdlib.h>

#define TEST_NOW 1700000000L
#define TEST_SECRET "a shared secret of some length"

static char test_dir[] = "/tmp/test-auth-oauth2.XXXXXX";
static EVP_PKEY *key_rsa, *key_ec256, *key_ec384, *key_other_ec;

static const char *b64url(const void *data, size_t size)
{
	string_t *str = t_str_new(size * 2 + 4);
	base64_encode(data, size, str);
	char *p = str_dup(t_pool(), str);
	size_t len = strlen(p);
	while (len > 0 && p[len - 1] == '=')
		p[--len] = '\0';
	for (char *c = p; *c != '\0'; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	}
	return p;
}

static const char *b64url_str(const char *s)
{
	return b64url(s, strlen(s));
}

/* DER ECDSA to JWS R || S of coord bytes each */
static void ec_der_to_raw(const unsigned char *der, size_t der_len, size_t coord,
			  buffer_t *out)
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)der_len);
	unsigned char *raw = buffer_append_space(out, 2 * coord);
	i_assert(sig != NULL);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, (int)coord);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + coord, (int)coord);
	ECDSA_SIG_free(sig);
}

/* A compact JWS: header_json and payload_json as given, signed with alg
   using key (HS: the test secret). alg "none" gives an empty signature. */
static const char *mint(const char *header_json, const char *payload_json,
			const char *alg, EVP_PKEY *key)
{
	const char *input = t_strdup_printf("%s.%s", b64url_str(header_json),
					    b64url_str(payload_json));
	buffer_t *sig = buffer_create(t_pool(), 512);
	const char *md = strstr(alg, "256") != NULL ? "SHA256" :
		strstr(alg, "384") != NULL ? "SHA384" : "SHA512";

	if (strcmp(alg, "none") == 0) {
		return t_strdup_printf("%s.", input);
	} else if (alg[0] == 'H') {
		/* with a key: its public PEM as the secret (the RFC 8725 §2.1
		   key confusion) */
		const char *secret = TEST_SECRET;
		if (key != NULL) {
			BIO *bio = BIO_new(BIO_s_mem());
			char *pem;
			i_assert(PEM_write_bio_PUBKEY(bio, key) == 1);
			long pem_len = BIO_get_mem_data(bio, &pem);
			secret = t_strndup(pem, (size_t)pem_len);
			BIO_free(bio);
		}
		unsigned int len;
		unsigned char *mac = buffer_append_space(sig, EVP_MAX_MD_SIZE);
		HMAC(EVP_get_digestbyname(md), secret, (int)strlen(secret),
		     (const unsigned char *)input, strlen(input), mac, &len);
		buffer_set_used_size(sig, len);
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t len = 0;
		i_assert(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key, NULL) == 1);
		i_assert(EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input,
					strlen(input)) == 1);
		unsigned char *der = i_malloc(len);
		i_assert(EVP_DigestSign(ctx, der, &len, (const unsigned char *)input,
					strlen(input)) == 1);
		EVP_MD_CTX_free(ctx);
		if (alg[0] == 'E')
			ec_der_to_raw(der, len, strcmp(alg, "ES256") == 0 ? 32 : 48, sig);
		else
			buffer_append(sig, der, len);
		free(der);
	}
	return t_strdup_printf("%s.%s", input, b64url(sig->data, sig->used));
}

static const char *hdr(const char *alg, const char *kid)
{
	if (kid == NULL)
		return t_strdup_printf("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	return t_strdup_printf("{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
}

static const char *claims(const char *extra)
{
	return t_strdup_printf("{\"sub\":\"1234\",\"email\":\"alice@example.com\","
			       "\"iss\":\"https://idp.example.com\",\"aud\":[\"mail\",\"web\"],"
			       "\"iat\":%ld,\"exp\":%ld%s}", TEST_NOW - 10, TEST_NOW + 300,
			       extra == NULL ? "" : extra);
}

static void write_pubkey(const char *name, EVP_PKEY *key)
{
	FILE *f = fopen(t_strdup_printf("%s/%s.pem", test_dir, name), "w");
	i_assert(f != NULL);
	i_assert(PEM_write_PUBKEY(f, key) == 1);
	fclose(f);
}

static struct auth_oauth2 *make_oauth(const char *issuer, const char *audience,
				      const char *claim)
{
	struct auth_oauth2_settings set = {
		.jwt_keys_dir = test_dir,
		.jwt_secret_file = t_strdup_printf("%s/secret", test_dir),
		.username_claim = claim, .issuer = issuer, .audience = audience,
	};
	struct auth_oauth2 *oauth;
	const char *error;

	if (auth_oauth2_create(&set, &oauth, &error) < 0)
		i_fatal("%s", error);
	return oauth;
}

/* Returns the validation result; *user_r or the error in *error_r. */
static int check(struct auth_oauth2 *oauth, const char *token, const char **user_r,
		 const char **error_r)
{
	*user_r = NULL;
	*error_r = NULL;
	return auth_oauth2_jwt_validate(oauth, token, TEST_NOW, user_r, error_r);
}

static void test_jwt_good(void)
{
	struct auth_oauth2 *oauth = make_oauth("", "", "");
	const char *user, *error;

	test_begin("JWT good tokens");
	test_assert(check(oauth, mint(hdr("HS256", NULL), claims(NULL), "HS256", NULL),
			  &user, &error) == 1);
	test_assert_strcmp(user, "alice@example.com");
	test_assert(check(oauth, mint(hdr("HS512", "ignored"), claims(NULL), "HS512", NULL),
			  &user, &error) == 1);
	test_assert(check(oauth, mint(hdr("RS256", "rsa1"), claims(NULL), "RS256", key_rsa),
			  &user, &error) == 1);
	test_assert(check(oauth, mint(hdr("ES256", "ec1"), claims(NULL), "ES256", key_ec256),
			  &user, &error) == 1);
	test_assert(check(oauth, mint(hdr("ES384", "ec384"), claims(NULL), "ES384", key_ec384),
			  &user, &error) == 1);
	/* no kid: default.pem */
	test_assert(check(oauth, mint(hdr("ES256", NULL), claims(NULL), "ES256", key_ec256),
			  &user, &error) == 1);
	/* exp a little in the past is within the leeway; a float exp */
	const char *late = t_strdup_printf("{\"email\":\"bob\",\"exp\":%ld}", TEST_NOW - 30);
	test_assert(check(oauth, mint(hdr("HS256", NULL), late, "HS256", NULL),
			  &user, &error) == 1);
	test_assert_strcmp(user, "bob");
	const char *fexp = t_strdup_printf("{\"email\":\"bob\",\"exp\":%ld.5}", TEST_NOW + 30);
	test_assert(check(oauth, mint(hdr("HS256", NULL), fexp, "HS256", NULL),
			  &user, &error) == 1);
	auth_oauth2_destroy(&oauth);
	test_assert(oauth == NULL);

	/* another claim, issuer and audience configured and right */
	oauth = make_oauth("https://idp.example.com", "mail", "sub");
	test_assert(check(oauth, mint(hdr("RS256", "rsa1"), claims(NULL), "RS256", key_rsa),
			  &user, &error) == 1);
	test_assert_strcmp(user, "1234");
	auth_oauth2_destroy(&oauth);
	test_end();
}

static void test_jwt_time(void)
{
	struct auth_oauth2 *oauth = make_oauth("", "", "");
	const char *user, *error;

	test_begin("JWT exp and nbf");
	const char *expired = t_strdup_printf("{\"email\":\"a\",\"exp\":%ld}", TEST_NOW - 3600);
	test_assert(check(oauth, mint(hdr("HS256", NULL), expired, "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "token expired");
	test_assert(user == NULL);
	test_assert(check(oauth, mint(hdr("HS256", NULL), "{\"email\":\"a\"}", "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "no exp claim");
	test_assert(check(oauth, mint(hdr("HS256", NULL), "{\"email\":\"a\",\"exp\":\"soon\"}",
				      "HS256", NULL), &user, &error) == 0);
	const char *future = t_strdup_printf(",\"nbf\":%ld", TEST_NOW + 3600);
	test_assert(check(oauth, mint(hdr("HS256", NULL), claims(future), "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "token not valid yet (nbf)");
	const char *soon = t_strdup_printf(",\"nbf\":%ld", TEST_NOW + 20);
	test_assert(check(oauth, mint(hdr("HS256", NULL), claims(soon), "HS256", NULL),
			  &user, &error) == 1);
	auth_oauth2_destroy(&oauth);
	test_end();
}

static void test_jwt_signature(void)
{
	struct auth_oauth2 *oauth = make_oauth("", "", "");
	const char *user, *error;

	test_begin("JWT signatures and algorithms");
	/* signed by a key that isn't the kid's */
	test_assert(check(oauth, mint(hdr("ES256", "ec1"), claims(NULL), "ES256", key_other_ec),
			  &user, &error) == 0);
	test_assert_strcmp(error, "bad signature");
	/* a payload changed after signing */
	const char *tok = mint(hdr("HS256", NULL), claims(NULL), "HS256", NULL);
	const char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
	const char *forged = t_strdup_printf("%.*s.%s%s", (int)(dot1 - tok), tok,
		b64url_str("{\"email\":\"admin\",\"exp\":9999999999}"), dot2);
	test_assert(check(oauth, forged, &user, &error) == 0);
	test_assert_strcmp(error, "bad signature");
	/* alg none, unsigned or with the signature dropped */
	test_assert(check(oauth, mint(hdr("none", NULL), claims(NULL), "none", NULL),
			  &user, &error) == 0);
	const char *none = mint("{\"alg\":\"none\"}", claims(NULL), "HS256", NULL);
	test_assert(check(oauth, none, &user, &error) == 0);
	test_assert_strcmp(error, "alg none not accepted");
	/* the RSA public key as an HMAC secret (RFC 8725 §2.1) */
	test_assert(check(oauth, mint(hdr("HS256", "rsa1"), claims(NULL), "HS256", key_rsa),
			  &user, &error) == 0);
	test_assert_strcmp(error, "bad signature");
	test_assert(check(oauth, mint(hdr("HS256", "rsa1"), claims(NULL), "HS256", NULL),
			  &user, &error) == 1); /* the real secret: fine */
	test_assert(check(oauth, mint(hdr("RS256", "ec1"), claims(NULL), "ES256", key_ec256),
			  &user, &error) == 0);
	test_assert_strcmp(error, "key ec1 doesn't fit alg RS256");
	/* ES384 token against a P-256 key */
	test_assert(check(oauth, mint(hdr("ES384", "ec1"), claims(NULL), "ES384", key_ec384),
			  &user, &error) == 0);
	/* other algorithms, crit, odd headers */
	test_assert(check(oauth, mint(hdr("PS256", "rsa1"), claims(NULL), "RS256", key_rsa),
			  &user, &error) == 0);
	test_assert(check(oauth, mint("{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}",
				      claims(NULL), "HS256", NULL), &user, &error) == 0);
	test_assert_strcmp(error, "crit header not supported");
	test_assert(check(oauth, mint("{\"alg\":\"ES256\",\"kid\":5}", claims(NULL),
				      "ES256", key_ec256), &user, &error) == 0);
	test_assert(check(oauth, mint("[1,2]", claims(NULL), "HS256", NULL),
			  &user, &error) == 0);
	/* malformed compact forms */
	static const char *const bad[] = {
		"", "abc", "a.b", "a.b.c.d", "..", "eyJhbGciOiJIUzI1NiJ9.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.!!!", "e30=.e30.AAAA",
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		test_assert(check(oauth, bad[i], &user, &error) == 0);
	/* a signed payload that isn't a JSON object */
	test_assert(check(oauth, mint(hdr("HS256", NULL), "\"alice\"", "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "malformed JWT claims");
	auth_oauth2_destroy(&oauth);
	test_end();
}

static void test_jwt_kid(void)
{
	struct auth_oauth2 *oauth = make_oauth("", "", "");
	const char *user, *error;

	test_begin("JWT kid selection");
	/* each kid names its own key */
	test_assert(check(oauth, mint(hdr("ES256", "ec2"), claims(NULL), "ES256", key_other_ec),
			  &user, &error) == 1);
	test_assert(check(oauth, mint(hdr("ES256", "ec2"), claims(NULL), "ES256", key_ec256),
			  &user, &error) == 0);
	test_assert(check(oauth, mint(hdr("ES256", "nosuch"), claims(NULL), "ES256", key_ec256),
			  &user, &error) == 0);
	test_assert_strcmp(error, "unknown kid nosuch");
	/* kid is a file name: no way out of the directory */
	static const char *const kids[] = { "../ec1", ".hidden", "a/b", "", "ec1.pem\\x" };
	for (size_t i = 0; i < N_ELEMENTS(kids); i++) {
		test_assert(check(oauth, mint(hdr("ES256", kids[i]), claims(NULL), "ES256",
					      key_ec256), &user, &error) == 0);
	}
	/* an unreadable key file is an internal error, not a bad token */
	FILE *f = fopen(t_strdup_printf("%s/garbage.pem", test_dir), "w");
	fputs("not a key\n", f);
	fclose(f);
	test_assert(check(oauth, mint(hdr("ES256", "garbage"), claims(NULL), "ES256", key_ec256),
			  &user, &error) == -1);
	auth_oauth2_destroy(&oauth);
	test_end();
}

static void test_jwt_claims(void)
{
	struct auth_oauth2 *oauth = make_oauth("https://idp.example.com", "mail", "");
	const char *user, *error;

	test_begin("JWT iss, aud and user claims");
	const char *wrong_iss = t_strdup_printf("{\"email\":\"a\",\"exp\":%ld,"
		"\"iss\":\"https://evil.example.com\",\"aud\":\"mail\"}", TEST_NOW + 60);
	test_assert(check(oauth, mint(hdr("HS256", NULL), wrong_iss, "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "wrong issuer (iss)");
	const char *wrong_aud = t_strdup_printf("{\"email\":\"a\",\"exp\":%ld,"
		"\"iss\":\"https://idp.example.com\",\"aud\":[\"web\"]}", TEST_NOW + 60);
	test_assert(check(oauth, mint(hdr("HS256", NULL), wrong_aud, "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "wrong audience (aud)");
	const char *no_aud = t_strdup_printf("{\"email\":\"a\",\"exp\":%ld,"
		"\"iss\":\"https://idp.example.com\"}", TEST_NOW + 60);
	test_assert(check(oauth, mint(hdr("HS256", NULL), no_aud, "HS256", NULL),
			  &user, &error) == 0);
	const char *aud_str = t_strdup_printf("{\"email\":\"a\",\"exp\":%ld,"
		"\"iss\":\"https://idp.example.com\",\"aud\":\"mail\"}", TEST_NOW + 60);
	test_assert(check(oauth, mint(hdr("HS256", NULL), aud_str, "HS256", NULL),
			  &user, &error) == 1);
	auth_oauth2_destroy(&oauth);

	oauth = make_oauth("", "", "preferred_username");
	test_assert(check(oauth, mint(hdr("HS256", NULL), claims(NULL), "HS256", NULL),
			  &user, &error) == 0);
	test_assert_strcmp(error, "no usable preferred_username claim");
	test_assert(check(oauth, mint(hdr("HS256", NULL),
				      claims(",\"preferred_username\":\"a\\nb\""), "HS256", NULL),
			  &user, &error) == 0);
	test_assert(check(oauth, mint(hdr("HS256", NULL),
				      claims(",\"preferred_username\":7"), "HS256", NULL),
			  &user, &error) == 0);
	test_assert(check(oauth, mint(hdr("HS256", NULL),
				      claims(",\"preferred_username\":\"carol\""), "HS256", NULL),
			  &user, &error) == 1);
	test_assert_strcmp(user, "carol");
	auth_oauth2_destroy(&oauth);
	test_end();
}

static void test_oauth2_create(void)
{
	struct auth_oauth2_settings set = { .jwt_keys_dir = "" };
	struct auth_oauth2 *oauth;
	const char *error, *user;

	test_begin("oauth2 settings");
	test_assert(auth_oauth2_create(&set, &oauth, &error) == 0 && oauth == NULL);
	set.jwt_keys_dir = "/nonexistent/keys";
	test_assert(auth_oauth2_create(&set, &oauth, &error) == -1);
	set.jwt_keys_dir = "";
	set.jwt_secret_file = "/nonexistent/secret";
	test_assert(auth_oauth2_create(&set, &oauth, &error) == -1);
	/* keys only: HS tokens fail, and opaque tokens without introspection */
	set = (struct auth_oauth2_settings){ .jwt_keys_dir = test_dir };
	test_assert(auth_oauth2_create(&set, &oauth, &error) == 0 && oauth != NULL);
	test_assert(auth_oauth2_jwt_validate(oauth, mint(hdr("HS256", NULL), claims(NULL),
							 "HS256", NULL), TEST_NOW,
					     &user, &error) == 0);
	test_assert(auth_oauth2_validate(oauth, "opaque-token", &user, &error) == 0);
	auth_oauth2_destroy(&oauth);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_jwt_good,
		test_jwt_time,
		test_jwt_signature,
		test_jwt_kid,
		test_jwt_claims,
		test_oauth2_create,
		NULL,
	};

	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp failed");
	key_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	key_ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key_ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	key_other_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	i_assert(key_rsa != NULL && key_ec256 != NULL && key_ec384 != NULL &&
		 key_other_ec != NULL);
	write_pubkey("rsa1", key_rsa);
	write_pubkey("ec1", key_ec256);
	write_pubkey("default", key_ec256);
	write_pubkey("ec384", key_ec384);
	write_pubkey("ec2", key_other_ec);
	FILE *f = fopen(t_strdup_printf("%s/secret", test_dir), "w");
	fputs(TEST_SECRET "\n", f);
	fclose(f);

	int ret = test_run(tests);
	EVP_PKEY_free(key_rsa);
	EVP_PKEY_free(key_ec256);
	EVP_PKEY_free(key_ec384);
	EVP_PKEY_free(key_other_ec);
	if (system(t_strdup_printf("rm -rf %s", test_dir)) != 0)
		ret = 1;
	return ret;
}
