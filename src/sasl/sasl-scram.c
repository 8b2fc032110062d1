/* SCRAM-SHA-1 and SCRAM-SHA-256 with their -PLUS forms (RFC 5802,
 * RFC 7677; tls-exporter channel binding, RFC 9266): libgsasl parses the
 * messages and checks the proof; we answer its requests for the salt, the
 * iteration count and the stored keys from the caller's passdb. */
#include "sasl-private.h"
#include "base64.h"

#include <limits.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SASL_SCRAM_FAKE_SALT_SIZE 16

const char *sasl_scram_mech_digest(const char *mech)
{
	if (strncasecmp(mech, "SCRAM-SHA-1", 11) == 0 &&
	    (mech[11] == '\0' || strcasecmp(mech + 11, "-PLUS") == 0))
		return "SHA1";
	if (strncasecmp(mech, "SCRAM-SHA-256", 13) == 0 &&
	    (mech[13] == '\0' || strcasecmp(mech + 13, "-PLUS") == 0))
		return "SHA256";
	return NULL;
}

int sasl_scram_keys_from_password(const char *md_name, const char *password,
				  const unsigned char *salt, size_t salt_size,
				  unsigned int iter, unsigned char *stored_key,
				  unsigned char *server_key, size_t *key_size_r)
{
	const EVP_MD *md = EVP_get_digestbyname(md_name);
	unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (md == NULL || iter == 0 || iter > INT_MAX)
		return -1;
	int size = EVP_MD_get_size(md);
	bool ok = PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_size,
				    (int)iter, md, size, salted) == 1 &&
		HMAC(md, salted, size, (const unsigned char *)"Client Key", 10,
		     client_key, &len) != NULL &&
		EVP_Digest(client_key, (size_t)size, stored_key, &len, md, NULL) == 1 &&
		HMAC(md, salted, size, (const unsigned char *)"Server Key", 10,
		     server_key, &len) != NULL;
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	*key_size_r = (size_t)size;
	return ok ? 0 : -1;
}

/* A salt for users without SCRAM keys (unknown, or only a cleartext
   password): the same for the same name within this process, so that
   asking twice doesn't tell such a user from one with stored keys
   (RFC 5802 §9 on user enumeration). */
static void sasl_scram_fake_salt(const char *mech, const char *authid,
				 unsigned char salt[SASL_SCRAM_FAKE_SALT_SIZE])
{
	static unsigned char secret[32];
	static bool have_secret;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len;

	if (!have_secret) {
		if (RAND_bytes(secret, sizeof(secret)) != 1)
			i_fatal("RAND_bytes() failed");
		have_secret = true;
	}
	const char *data = t_strdup_printf("%s\n%s", mech, authid);
	if (HMAC(EVP_sha256(), secret, sizeof(secret), (const unsigned char *)data,
		 strlen(data), mac, &mac_len) == NULL)
		i_fatal("HMAC-SHA256 failed");
	memcpy(salt, mac, SASL_SCRAM_FAKE_SALT_SIZE);
}

static void sasl_scram_set_b64(struct sasl_session *s, Gsasl_property prop,
			       const unsigned char *data, size_t size)
{
	string_t *str = t_str_new(base64_encoded_size(size) + 1);
	base64_encode(data, size, str);
	(void)gsasl_property_set(s->gs, prop, str_c(str));
}

/* Turns what the passdb had into keys for this mechanism. Returns true
   if the session can check the client's proof. */
static bool sasl_scram_prepare_keys(struct sasl_session *s, const char *authid)
{
	struct sasl_credentials *c = s->creds;
	const char *md = sasl_scram_mech_digest(s->mech->name);
	int size = EVP_MD_get_size(EVP_get_digestbyname(md));

	if (c->scram_iter > 0 && c->scram_key_size == (size_t)size && c->scram_salt_size > 0)
		return true;
	c->scram_iter = 0;
	c->scram_salt_size = SASL_SCRAM_FAKE_SALT_SIZE;
	sasl_scram_fake_salt(s->mech->name, authid, c->scram_salt);
	if (c->password == NULL)
		return false;
	if (sasl_scram_keys_from_password(md, c->password, c->scram_salt,
					  c->scram_salt_size, SASL_SCRAM_DEFAULT_ITER,
					  c->scram_stored_key, c->scram_server_key,
					  &c->scram_key_size) < 0)
		return false;
	c->scram_iter = SASL_SCRAM_DEFAULT_ITER;
	return true;
}

/* The client-first message arrived (libgsasl set the identities and now
   wants the iteration count): look up the user's secret. A user we can't
   check gets a salt and count all the same and fails at the proof. */
static int sasl_scram_lookup(struct sasl_session *s)
{
	const char *authid = gsasl_property_fast(s->gs, GSASL_AUTHID);
	const char *authzid = gsasl_property_fast(s->gs, GSASL_AUTHZID);

	if (authid == NULL || s->creds != NULL)
		return GSASL_NO_CALLBACK;
	if (authzid != NULL && (authzid[0] == '\0' || strcmp(authzid, authid) == 0))
		authzid = NULL;
	s->creds = i_new(struct sasl_credentials, 1);
	int ret = s->cb->lookup_credentials(s->context, s->mech->name, authzid,
					    authid, s->creds);
	if (ret < 0) {
		s->temp_failed = true;
		return GSASL_NO_CALLBACK;
	}
	struct sasl_credentials *c = s->creds;
	if (ret == 0)
		memset(c, 0, sizeof(*c));
	if (!sasl_scram_prepare_keys(s, authid))
		c->scram_key_size = 0;
	/* the password isn't needed any more; it lives in the caller's
	   memory, so just forget the pointer */
	c->password = NULL;
	(void)gsasl_property_set(s->gs, GSASL_SCRAM_ITER,
				 t_strdup_printf("%u", c->scram_iter == 0 ?
						 SASL_SCRAM_DEFAULT_ITER : c->scram_iter));
	sasl_scram_set_b64(s, GSASL_SCRAM_SALT, c->scram_salt, c->scram_salt_size);
	return GSASL_OK;
}

int sasl_scram_property(struct sasl_session *s, Gsasl_property prop)
{
	switch (prop) {
	case GSASL_SCRAM_ITER:
	case GSASL_SCRAM_SALT:
		return sasl_scram_lookup(s);
	case GSASL_SCRAM_SERVERKEY:
	case GSASL_SCRAM_STOREDKEY:
		if (s->creds == NULL || s->creds->scram_key_size == 0)
			return GSASL_NO_CALLBACK;
		sasl_scram_set_b64(s, GSASL_SCRAM_SERVERKEY, s->creds->scram_server_key,
				   s->creds->scram_key_size);
		sasl_scram_set_b64(s, GSASL_SCRAM_STOREDKEY, s->creds->scram_stored_key,
				   s->creds->scram_key_size);
		return GSASL_OK;
	default:
		/* channel bindings were set before the first step; never a
		   cleartext GSASL_PASSWORD (see sasl_scram_prepare_keys) */
		return GSASL_NO_CALLBACK;
	}
}

int sasl_scram_verified(struct sasl_session *s)
{
	const char *authid = gsasl_property_fast(s->gs, GSASL_AUTHID);
	const char *authzid = sasl_session_get_authzid(s);

	if (s->cb->credentials_verified == NULL || authid == NULL)
		return GSASL_AUTHENTICATION_ERROR;
	int ret = s->cb->credentials_verified(s->context, authzid, authid);
	return sasl_session_callback_result(s, ret) > 0 ? GSASL_OK :
		GSASL_AUTHENTICATION_ERROR;
}
