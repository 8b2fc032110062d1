/* What a client certificate says about its owner: whether it verified,
 * its subject commonName, and the user name for SASL EXTERNAL (RFC 4422
 * Appendix A) taken from the field tls.cert_username_field names. */
#include "tls-private.h"
#include "pool.h"

#include <openssl/x509v3.h>

/* Longest name taken from a certificate; a user name is much shorter */
#define TLS_PEER_NAME_MAX 255

/* A copy of the UTF-8 text, or NULL when it can't be a name: empty, too
   long, or with NULs or control characters that would corrupt a log line
   or an auth request. */
static char *tls_name_dup(const unsigned char *data, int len)
{
	if (len <= 0 || len > TLS_PEER_NAME_MAX)
		return NULL;
	for (int i = 0; i < len; i++) {
		if (data[i] < 0x20 || data[i] == 0x7f)
			return NULL;
	}
	char *name = i_malloc((size_t)len + 1);
	memcpy(name, data, (size_t)len);
	name[len] = '\0';
	return name;
}

/* The last entry nid of the subject: with several, the last is the most
   specific (the order of RFC 4514 is reversed). */
static char *tls_subject_field(X509 *cert, int nid)
{
	const X509_NAME *subject = X509_get_subject_name(cert);
	int idx = -1;
	for (int next; (next = X509_NAME_get_index_by_NID(subject, nid, idx)) >= 0; )
		idx = next;
	if (idx < 0)
		return NULL;
	const ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, value);
	char *name = len < 0 ? NULL : tls_name_dup(utf8, len);
	OPENSSL_free(utf8);
	return name;
}

/* The first rfc822Name of the subjectAltName extension */
static char *tls_san_email(X509 *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	char *email = NULL;
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_EMAIL)
			continue;
		/* an IA5String: ASCII, so no conversion */
		email = tls_name_dup(ASN1_STRING_get0_data(gn->d.rfc822Name),
				     ASN1_STRING_length(gn->d.rfc822Name));
		break;
	}
	GENERAL_NAMES_free(names);
	return email;
}

void tls_peer_cert_read(SSL *ssl, enum tls_verify_client verify,
			enum tls_cert_username_field field,
			struct tls_peer_cert *peer_r)
{
	memset(peer_r, 0, sizeof(*peer_r));
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (verify == TLS_VERIFY_CLIENT_NO || cert == NULL)
		return;
	long result = SSL_get_verify_result(ssl);
	if (result != X509_V_OK) {
		peer_r->error = i_strdup(X509_verify_cert_error_string(result));
		return;
	}
	peer_r->verified = true;
	peer_r->subject_cn = tls_subject_field(cert, NID_commonName);
	switch (field) {
	case TLS_CERT_USERNAME_COMMON_NAME:
		if (peer_r->subject_cn != NULL)
			peer_r->username = i_strdup(peer_r->subject_cn);
		break;
	case TLS_CERT_USERNAME_EMAIL_ADDRESS:
		peer_r->username = tls_subject_field(cert, NID_pkcs9_emailAddress);
		break;
	case TLS_CERT_USERNAME_SAN_EMAIL:
		peer_r->username = tls_san_email(cert);
		break;
	}
}

void tls_peer_cert_free(struct tls_peer_cert *peer)
{
	i_free(peer->subject_cn);
	i_free(peer->username);
	i_free(peer->error);
	peer->verified = false;
}
