/* Fuzzes the server side of the SASL mechanisms (RFC 4422) with client
 * messages: the first byte picks the mechanism, the rest is split at "\n"
 * into the client's messages (the first is the initial response). The
 * callbacks accept every user with a fixed password, so the fuzzer also
 * reaches the steps after a successful lookup. No crash, no leak, and a
 * finished session takes no more steps. */
#include "pool.h"
#include "sasl-server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_mechs[] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
	"SCRAM-SHA-256-PLUS", "OAUTHBEARER", "XOAUTH2", "EXTERNAL",
};

static int fuzz_verify_plain(void *context, const char *authzid,
			     const char *authcid, const char *password)
{
	return strcmp(password, "pw") == 0 ? 1 : 0;
}

static int fuzz_lookup(void *context, const char *mech, const char *authzid,
		       const char *authcid, struct sasl_credentials *creds_r)
{
	if (authcid[0] == 'x')
		return authcid[1] == 't' ? -1 : 0;
	creds_r->password = "pw";
	return 1;
}

static int fuzz_verified(void *context, const char *authzid, const char *authcid)
{
	return 1;
}

static int fuzz_token(void *context, const char *mech, const char *authzid,
		      const char *token)
{
	return token[0] == 'g' ? 1 : token[0] == 't' ? -1 : 0;
}

static int fuzz_external(void *context, const char *authzid)
{
	return authzid == NULL || strcmp(authzid, "me") == 0 ? 1 : 0;
}

static const struct sasl_callbacks fuzz_callbacks = {
	.verify_plain = fuzz_verify_plain,
	.lookup_credentials = fuzz_lookup,
	.credentials_verified = fuzz_verified,
	.verify_token = fuzz_token,
	.verify_external = fuzz_external,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	const char *error;

	if (!initialised) {
		if (sasl_server_init(&error) < 0)
			__builtin_trap();
		initialised = true;
	}
	if (size == 0)
		return 0;
	const char *mech = fuzz_mechs[data[0] % N_ELEMENTS(fuzz_mechs)];
	struct sasl_session *s = sasl_session_begin(mech, &fuzz_callbacks, NULL, &error);
	if (s == NULL)
		__builtin_trap();
	if ((data[0] & 0x80) != 0) {
		static const unsigned char cb[SASL_CHANNEL_BINDING_SIZE];
		sasl_session_set_channel_binding(s, cb, sizeof(cb));
	}
	const uint8_t *p = data + 1, *end = data + size;
	bool first = true;
	int ret = 0;
	while (ret == 0) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl == NULL ? end : nl) - p);
		buffer_t *out = buffer_create(t_pool(), 64);
		/* an empty first message stands for "no initial response" */
		ret = sasl_session_step(s, p, len, !first || len > 0, out, &error);
		first = false;
		t_pool_clear();
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (ret != 0) {
		buffer_t *out = buffer_create(t_pool(), 16);
		if (sasl_session_step(s, "x", 1, true, out, &error) != -1)
			__builtin_trap();
	}
	sasl_session_end(&s);
	t_pool_clear();
	return 0;
}
