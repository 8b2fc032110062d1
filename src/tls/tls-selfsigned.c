/* Self-signed certificate generation for first start (make run). */
#include "tls.h"
#include "tls-private.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	int ret = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return ret;
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname)
{
	X509 *cert = X509_new();
	if (cert == NULL)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	bool ok = RAND_bytes(serial, sizeof(serial)) == 1 &&
		(serial[0] &= 0x7f, (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL) &&
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL &&
		X509_set_version(cert, 2) == 1 &&
		X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
		X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400) != NULL &&
		X509_set_pubkey(cert, key) == 1;
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(cert);
	ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				(const unsigned char *)"Tern self-signed", -1, -1, 0) == 1 &&
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				(const unsigned char *)hostname, -1, -1, 0) == 1 &&
		X509_set_issuer_name(cert, name) == 1;
	const char *san = strcmp(hostname, "localhost") == 0 ?
		"DNS:localhost,IP:127.0.0.1,IP:::1" :
		t_strdup_printf("DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
	ok = ok && add_ext(cert, NID_subject_alt_name, san) == 0 &&
		add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		add_ext(cert, NID_key_usage, "critical,digitalSignature") == 0 &&
		add_ext(cert, NID_ext_key_usage, "serverAuth") == 0 &&
		X509_sign(cert, key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static int write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key,
		     const char **error_r)
{
	const char *tmp = t_strdup_printf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %s", tmp, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		*error_r = t_strdup_printf("fdopen(%s) failed", tmp);
		return -1;
	}
	bool ok = cert != NULL ? PEM_write_X509(f, cert) == 1 :
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		*error_r = t_strdup_printf("writing %s failed: %s", path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int tls_generate_self_signed(const char *cert_file, const char *key_file,
			     const char *hostname, const char **error_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (key == NULL) {
		*error_r = t_strdup_printf("generating a key failed: %s", tls_last_error());
		return -1;
	}
	X509 *cert = make_cert(key, hostname);
	int ret = -1;
	if (cert == NULL)
		*error_r = t_strdup_printf("creating a certificate failed: %s", tls_last_error());
	else if (write_pem(key_file, 0600, NULL, key, error_r) == 0 &&
		 write_pem(cert_file, 0644, cert, NULL, error_r) == 0)
		ret = 0;
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
