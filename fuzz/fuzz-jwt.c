/* Fuzzes local JWT validation (RFC 7519, RFC 7515 compact form). With the
 * first byte even the input is the token as it came; odd, it is
 * "header\npayload" JSON that we sign with the HS256 secret ourselves, so
 * the claim checks behind the signature get fuzzed too. No crash, no
 * leak, and a valid result always has a user. */
#include "auth-oauth2.h"
#include "base64.h"
#include "buffer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FUZZ_SECRET "fuzz-secret"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[] = "/tmp/fuzz-jwt.XXXXXX";
static char fuzz_secret_path[sizeof(fuzz_dir) + 8];

static void fuzz_cleanup(void)
{
	(void)unlink(fuzz_secret_path);
	(void)rmdir(fuzz_dir);
}

static struct auth_oauth2 *fuzz_oauth(void)
{
	static struct auth_oauth2 *oauth;
	if (oauth != NULL)
		return oauth;
	if (mkdtemp(fuzz_dir) == NULL)
		__builtin_trap();
	snprintf(fuzz_secret_path, sizeof(fuzz_secret_path), "%s/secret", fuzz_dir);
	atexit(fuzz_cleanup);
	const char *dir = fuzz_dir, *path = fuzz_secret_path;
	FILE *f = fopen(path, "w");
	fputs(FUZZ_SECRET, f);
	fclose(f);
	struct auth_oauth2_settings set = {
		.jwt_keys_dir = dir, .jwt_secret_file = path,
		.issuer = "iss", .audience = "aud", .username_claim = "email",
	};
	const char *error;
	if (auth_oauth2_create(&set, &oauth, &error) < 0)
		__builtin_trap();
	return oauth;
}

static void fuzz_b64url(const void *data, size_t size, string_t *dest)
{
	string_t *b64 = t_str_new(size * 2 + 4);
	base64_encode(data, size, b64);
	for (size_t i = 0; i < str_len(b64); i++) {
		char c = (char)str_data(b64)[i];
		if (c != '=')
			str_append_c(dest, c == '+' ? '-' : c == '/' ? '_' : c);
	}
}

static const char *fuzz_sign(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (nl == NULL)
		return NULL;
	string_t *token = t_str_new(size * 2 + 64);
	fuzz_b64url(data, (size_t)(nl - data), token);
	str_append_c(token, '.');
	fuzz_b64url(nl + 1, size - (size_t)(nl - data) - 1, token);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len;
	HMAC(EVP_sha256(), FUZZ_SECRET, strlen(FUZZ_SECRET), str_data(token), str_len(token),
	     mac, &mac_len);
	str_append_c(token, '.');
	fuzz_b64url(mac, mac_len, token);
	return str_c(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_oauth2 *oauth = fuzz_oauth();
	const char *user = NULL, *error = NULL, *token;

	if (size == 0)
		return 0;
	token = (data[0] & 1) == 0 ? t_strndup(data + 1, size - 1) : fuzz_sign(data + 1, size - 1);
	if (token != NULL &&
	    auth_oauth2_jwt_validate(oauth, token, 1700000000, &user, &error) > 0 &&
	    (user == NULL || user[0] == '\0'))
		__builtin_trap();
	t_pool_clear();
	return 0;
}
