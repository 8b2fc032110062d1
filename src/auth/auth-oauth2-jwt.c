/* Local validation of JWT access tokens (RFC 7519) in JWS compact form
 * (RFC 7515 §7.1): HS256/384/512 with the shared secret, RS256/384/512 and
 * ES256/384/512 (RFC 7518 §3) with a PEM public key per "kid". "none" and
 * anything else is refused, and the algorithm must fit the key, so a
 * public key is never taken for an HMAC secret. */
#include "auth-oauth2-private.h"
#include "base64.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#define JWT_MAX_KID_LEN 128
#define JWT_MIN_RSA_BITS 2048

enum jwt_key_type {
	JWT_KEY_HMAC,
	JWT_KEY_RSA,
	JWT_KEY_EC,
};

struct jwt_alg {
	const char *name;
	enum jwt_key_type type;
	const char *md;
	const char *curve;   /* EC: OpenSSL's group name */
	size_t ec_coord_size; /* EC: bytes of r and of s (RFC 7518 §3.4) */
};

static const struct jwt_alg jwt_algs[] = {
	{ .name = "HS256", .type = JWT_KEY_HMAC, .md = "SHA256" },
	{ .name = "HS384", .type = JWT_KEY_HMAC, .md = "SHA384" },
	{ .name = "HS512", .type = JWT_KEY_HMAC, .md = "SHA512" },
	{ .name = "RS256", .type = JWT_KEY_RSA, .md = "SHA256" },
	{ .name = "RS384", .type = JWT_KEY_RSA, .md = "SHA384" },
	{ .name = "RS512", .type = JWT_KEY_RSA, .md = "SHA512" },
	{ .name = "ES256", .type = JWT_KEY_EC, .md = "SHA256", .curve = "prime256v1",
	  .ec_coord_size = 32 },
	{ .name = "ES384", .type = JWT_KEY_EC, .md = "SHA384", .curve = "secp384r1",
	  .ec_coord_size = 48 },
	{ .name = "ES512", .type = JWT_KEY_EC, .md = "SHA512", .curve = "secp521r1",
	  .ec_coord_size = 66 },
};

/* RFC 7515 §2: base64url without padding. Returns 0 or -1. */
static int jwt_b64url_decode(const char *src, size_t len, buffer_t *dest)
{
	string_t *std = t_str_new(len + 4);

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '+' || c == '/' || c == '=')
			return -1;
		str_append_c(std, c == '-' ? '+' : c == '_' ? '/' : c);
	}
	while (str_len(std) % 4 != 0)
		str_append_c(std, '=');
	return base64_decode(str_data(std), str_len(std), dest);
}

static const struct jwt_alg *jwt_alg_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(jwt_algs); i++) {
		if (strcmp(jwt_algs[i].name, name) == 0)
			return &jwt_algs[i];
	}
	return NULL;
}

/* The key named kid (NULL: "default") in the keys directory. Returns 1,
   0 when there is no such key (the token is refused), -1 when it can't be
   read. */
static int jwt_load_key(struct auth_oauth2 *oauth, const char *kid,
			EVP_PKEY **key_r, const char **error_r)
{
	if (kid == NULL)
		kid = "default";
	size_t len = strlen(kid);
	/* kid becomes a file name: no paths, no hidden files */
	if (len == 0 || len > JWT_MAX_KID_LEN || kid[0] == '.' ||
	    strspn(kid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._-") != len) {
		*error_r = "invalid kid";
		return 0;
	}
	if (oauth->set.jwt_keys_dir[0] == '\0') {
		*error_r = "no oauth2_jwt_keys_dir for a public-key algorithm";
		return 0;
	}
	const char *path = t_strdup_printf("%s/%s.pem", oauth->set.jwt_keys_dir, kid);
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		*error_r = errno == ENOENT ? t_strdup_printf("unknown kid %s", kid) :
			t_strdup_printf("fopen(%s) failed: %s", path, strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	*key_r = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (*key_r == NULL) {
		*error_r = t_strdup_printf("%s is not a PEM public key", path);
		return -1;
	}
	return 1;
}

/* RFC 7518 §3.4: R || S, each of the curve's size, to the DER that
   OpenSSL verifies. */
static int jwt_ec_sig_to_der(const struct jwt_alg *alg, const buffer_t *sig,
			     buffer_t *der)
{
	if (sig->used != 2 * alg->ec_coord_size)
		return -1;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig->data, (int)alg->ec_coord_size, NULL);
	BIGNUM *s = BN_bin2bn(sig->data + alg->ec_coord_size, (int)alg->ec_coord_size, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	unsigned char *out = NULL;
	int len = i2d_ECDSA_SIG(es, &out);
	ECDSA_SIG_free(es);
	if (len <= 0)
		return -1;
	buffer_append(der, out, (size_t)len);
	OPENSSL_free(out);
	return 0;
}

/* The key must be of the algorithm's type (and curve, and size). */
static bool jwt_key_fits(const struct jwt_alg *alg, EVP_PKEY *key)
{
	if (alg->type == JWT_KEY_RSA)
		return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= JWT_MIN_RSA_BITS;
	char group[64];
	size_t group_len;
	return EVP_PKEY_is_a(key, "EC") &&
		EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					       sizeof(group), &group_len) == 1 &&
		strcmp(group, alg->curve) == 0;
}

static int jwt_verify_pkey(struct auth_oauth2 *oauth, const struct jwt_alg *alg,
			   const char *kid, const char *input, size_t input_len,
			   const buffer_t *sig, const char **error_r)
{
	EVP_PKEY *key = NULL;
	int ret = jwt_load_key(oauth, kid, &key, error_r);
	if (ret <= 0)
		return ret;
	buffer_t *der = buffer_create(t_pool(), 160);
	if (!jwt_key_fits(alg, key)) {
		*error_r = t_strdup_printf("key %s doesn't fit alg %s",
					   kid == NULL ? "default" : kid, alg->name);
		ret = 0;
	} else if (alg->type == JWT_KEY_EC && jwt_ec_sig_to_der(alg, sig, der) < 0) {
		*error_r = "malformed ECDSA signature";
		ret = 0;
	} else {
		const buffer_t *s = alg->type == JWT_KEY_EC ? der : sig;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		ret = ctx != NULL &&
			EVP_DigestVerifyInit_ex(ctx, NULL, alg->md, NULL, NULL, key, NULL) == 1 &&
			EVP_DigestVerify(ctx, s->data, s->used, (const unsigned char *)input,
					 input_len) == 1 ? 1 : 0;
		EVP_MD_CTX_free(ctx);
		if (ret == 0)
			*error_r = "bad signature";
	}
	EVP_PKEY_free(key);
	return ret;
}

static int jwt_verify_hmac(struct auth_oauth2 *oauth, const struct jwt_alg *alg,
			   const char *input, size_t input_len, const buffer_t *sig,
			   const char **error_r)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (oauth->secret == NULL) {
		*error_r = "no oauth2_jwt_secret_file for an HMAC algorithm";
		return 0;
	}
	if (HMAC(EVP_get_digestbyname(alg->md), oauth->secret->data, (int)oauth->secret->used,
		 (const unsigned char *)input, input_len, mac, &mac_len) == NULL) {
		*error_r = "HMAC failed";
		return -1;
	}
	if (sig->used != mac_len || CRYPTO_memcmp(mac, sig->data, mac_len) != 0) {
		*error_r = "bad signature";
		return 0;
	}
	return 1;
}

/* The protected header: alg, kid; no critical extensions we'd have to
   understand (RFC 7515 §4.1.11). */
static int jwt_parse_header(const char *b64, size_t len, const struct jwt_alg **alg_r,
			    const char **kid_r, const char **error_r)
{
	buffer_t *buf = buffer_create(t_pool(), len);
	struct json_object *header = jwt_b64url_decode(b64, len, buf) < 0 ? NULL :
		auth_oauth2_json_parse(buf->data, buf->used);
	struct json_object *alg, *kid, *crit;
	int ret = 0;

	*kid_r = NULL;
	if (header == NULL)
		*error_r = "malformed JWT header";
	else if (!json_object_object_get_ex(header, "alg", &alg) ||
		 !json_object_is_type(alg, json_type_string))
		*error_r = "no alg in JWT header";
	else if ((*alg_r = jwt_alg_find(json_object_get_string(alg))) == NULL)
		*error_r = t_strdup_printf("alg %.16s not accepted",
					   json_object_get_string(alg));
	else if (json_object_object_get_ex(header, "crit", &crit))
		*error_r = "crit header not supported";
	else if (json_object_object_get_ex(header, "kid", &kid) &&
		 !json_object_is_type(kid, json_type_string))
		*error_r = "kid is not a string";
	else {
		if (json_object_object_get_ex(header, "kid", &kid))
			*kid_r = t_strdup(json_object_get_string(kid));
		ret = 1;
	}
	json_object_put(header);
	return ret;
}

int auth_oauth2_jwt_validate(struct auth_oauth2 *oauth, const char *token,
			     time_t now, const char **user_r, const char **error_r)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 == NULL ? NULL : strchr(dot1 + 1, '.');
	const struct jwt_alg *alg;
	const char *kid;

	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL || dot2[1] == '\0') {
		*error_r = "not a signed JWT";
		return 0;
	}
	int ret = jwt_parse_header(token, (size_t)(dot1 - token), &alg, &kid, error_r);
	if (ret <= 0)
		return ret;
	buffer_t *sig = buffer_create(t_pool(), 512);
	if (jwt_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig) < 0) {
		*error_r = "malformed JWT signature";
		return 0;
	}
	size_t input_len = (size_t)(dot2 - token);
	ret = alg->type == JWT_KEY_HMAC ?
		jwt_verify_hmac(oauth, alg, token, input_len, sig, error_r) :
		jwt_verify_pkey(oauth, alg, kid, token, input_len, sig, error_r);
	if (ret <= 0)
		return ret;
	/* only now is the payload ours to read */
	buffer_t *payload = buffer_create(t_pool(), input_len);
	struct json_object *claims =
		jwt_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload) < 0 ? NULL :
		auth_oauth2_json_parse(payload->data, payload->used);
	if (claims == NULL) {
		*error_r = "malformed JWT claims";
		return 0;
	}
	ret = auth_oauth2_check_claims(oauth, claims, now, true, user_r, error_r);
	json_object_put(claims);
	return ret;
}
