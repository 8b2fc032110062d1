/* Server-side TLS (RFC 8446, RFC 5246) over OpenSSL, exposed as a
 * transport that wraps a socket transport: used for implicit TLS ports and
 * for STARTTLS upgrades (RFC 9051 §6.2.1, RFC 2595). TLS 1.2 is the
 * minimum; the certificate is chosen by the client's server name (SNI,
 * RFC 6066 §3); client certificates are verified on request (RFC 8446
 * §4.3.2, RFC 5246 §7.4.4) for SASL EXTERNAL. docs/tls.md tells the
 * whole story. */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include "buffer.h"
#include "log.h"
#include "transport.h"

struct tls_context;

/* Most certificates (blocks) and server names per context: the SNI
   lookup is a linear scan, and a config is not a certificate store. */
#define TLS_MAX_CERTIFICATES 1000
#define TLS_MAX_SERVER_NAMES 10000

/* A certificate served for some server names. Files are PEM; cert_file
   holds the certificate followed by its chain. The alt pair is optional
   ("" = none): a second certificate of another key type (RSA beside
   ECDSA) for the same names; OpenSSL serves the one the client's
   signature algorithms allow. */
struct tls_certificate {
	const char *name;          /* for error messages ("certificate NAME") */
	const char *server_names;  /* "mail.example.com *.example.org" */
	const char *cert_file, *key_file;
	const char *alt_cert_file, *alt_key_file;
};

enum tls_verify_client {
	TLS_VERIFY_CLIENT_NO,       /* don't ask for a certificate */
	/* ask; a connection without one, or with one that doesn't verify,
	   goes on unidentified */
	TLS_VERIFY_CLIENT_OPTIONAL,
	/* the handshake fails without a certificate that verifies */
	TLS_VERIFY_CLIENT_REQUIRED,
};

/* Which part of a verified client certificate is the user name */
enum tls_cert_username_field {
	TLS_CERT_USERNAME_COMMON_NAME,   /* subject CN (the last one) */
	TLS_CERT_USERNAME_EMAIL_ADDRESS, /* subject emailAddress */
	TLS_CERT_USERNAME_SAN_EMAIL,     /* first subjectAltName rfc822Name */
};

struct tls_options {
	/* the default certificate: for clients that send no server name or
	   one no certificate lists */
	const char *cert_file, *key_file;
	const char *alt_cert_file, *alt_key_file; /* NULL or "" = none */
	/* certificates by server name (RFC 6066 §3): exact names and
	   "*.domain" wildcards for one more label, case-insensitive */
	const struct tls_certificate *certificates;
	unsigned int certificate_count;

	const char *min_protocol;  /* "TLSv1.2" or "TLSv1.3" */
	const char *ciphers;       /* TLS <= 1.2 cipher list, "" = default */
	const char *cipher_suites; /* TLS 1.3 suites, "" = default */
	/* key exchange groups, "X25519:P-256", NULL or "" = OpenSSL's */
	const char *groups;
	bool prefer_server_ciphers;
	/* lifetime of a resumable session in this process's cache; 0 turns
	   resumption off */
	unsigned int session_timeout_secs;

	enum tls_verify_client verify_client;
	/* CAs that issue client certificates (PEM); required unless
	   verify_client is NO */
	const char *client_ca_file;
	/* CRLs of those CAs (PEM), NULL or "" = no revocation check */
	const char *crl_file;
	enum tls_cert_username_field cert_username_field;

	/* The contents of the files above, from tls_files_read() in another
	   process; NULL: read them from the disk. */
	const unsigned char *files;
	size_t files_size;
};

/* Largest certificate, key, CA or CRL file */
#define TLS_MAX_FILE_SIZE (64 * 1024 * 1024)

/* Loads every certificate and checks every setting; the error says which
   file or value is wrong. */
int tls_context_create(const struct tls_options *opts, struct tls_context **ctx_r,
		       const char **error_r);
void tls_context_destroy(struct tls_context **ctx);
/* Appends the contents of every file opts names to dest, as opts.files
   takes them: so that the processes that build contexts from it get the
   bytes that were checked, and need no access to the files. Private keys
   included: dest is as secret as they are. */
int tls_files_read(const struct tls_options *opts, buffer_t *dest, const char **error_r);

/* Wraps inner (taking ownership of it). The handshake runs as the stream
   reads and writes; a failed handshake is a read/write error whose text
   says why. The context must outlive the transport. */
struct transport *tls_transport_create(struct tls_context *ctx, struct transport *inner);
bool tls_transport_is_tls(const struct transport *t);
bool tls_transport_handshake_done(const struct transport *t);
/* Logs the end of the handshake with log's fields (event=tls_handshake:
   version, cipher, server name, client certificate; at info level when
   the client presented a certificate, debug otherwise). log must outlive
   t; NULL: no logging. */
void tls_transport_set_log(struct transport *t, const struct log_ctx *log);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL before the handshake. */
const char *tls_transport_get_info(const struct transport *t);
/* The server name the client sent (SNI, lowercase), or NULL: none, or
   the handshake hasn't got that far. Valid as long as t. */
const char *tls_transport_get_server_name(const struct transport *t);

/* Client certificates. All of these are false/NULL before the handshake
   ends, and on connections without a verified certificate; strings are
   valid as long as t. */
/* The client presented a certificate that verified against
   client_ca_file (and crl_file). */
bool tls_transport_get_peer_cert_verified(const struct transport *t);
/* The verified certificate's subject commonName (the last one), or NULL
   when it has none usable (not UTF-8, control characters, too long). */
const char *tls_transport_get_peer_cert_subject_cn(const struct transport *t);
/* The user name the verified certificate names by the context's
   cert_username_field, or NULL (no such field, or not usable as above). */
const char *tls_transport_get_peer_cert_username(const struct transport *t);
/* Why a presented certificate did not verify ("certificate has
   expired"), or NULL (none presented, or it verified). */
const char *tls_transport_get_peer_cert_error(const struct transport *t);

/* Creates a self-signed certificate (EC P-256, 10 years, CN and SAN for
   hostname, "localhost" and 127.0.0.1) and its key (mode 0600). */
int tls_generate_self_signed(const char *cert_file, const char *key_file,
			     const char *hostname, const char **error_r);

/* SNI matching, exposed for tests: whether pattern (an exact DNS name, or
   "*.domain" for exactly one more label) covers name; case-insensitive. */
bool tls_server_name_matches(const char *pattern, const char *name);
/* Returns 0 if pattern is usable as a certificate's server name (a DNS
   name, optionally "*." and a name of at least two labels), or -1 with
   *error_r saying why. */
int tls_server_name_pattern_check(const char *pattern, const char **error_r);

#endif
