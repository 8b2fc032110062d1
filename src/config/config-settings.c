/* The settings tables of the server's config blocks (top level, tls,
 * auth, imap, pop3, mail, service, listener, certificate, passdb/userdb;
 * delivery's are in config-settings-delivery.c), the embedded default, and
 * the typed parsing and formatting of one setting value. */
#include "config-settings.h"
#include "strnum.h"

#include <arpa/inet.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <strings.h>

#define DEF(block, field) .offset = offsetof(struct block, field)

static const char *const protocol_values[] = {
	"imap", "pop3", "lmtp", "managesieve", NULL
};

static int check_address(const char *value, const char **error_r)
{
	unsigned char addr[16];

	if (strcmp(value, "*") == 0 || inet_pton(AF_INET, value, addr) == 1 ||
	    inet_pton(AF_INET6, value, addr) == 1)
		return 0;
	*error_r = "expected an IPv4 or IPv6 address, or *";
	return -1;
}

int config_check_not_empty(const char *value, const char **error_r)
{
	if (value[0] != '\0')
		return 0;
	*error_r = "must not be empty";
	return -1;
}

const struct setting_def tern_setting_defs[] = {
	{ .key = "base_dir", .type = SETTING_TYPE_PATH,
	  DEF(tern_settings, base_dir), .default_value = "./var",
	  .check = config_check_not_empty,
	  .description = "Directory holding all of Tern's data. Relative "
		"paths in other settings are resolved against it; a relative "
		"base_dir is resolved against the current directory at "
		"startup." },
	{ .key = "log_target", .type = SETTING_TYPE_ENUM,
	  DEF(tern_settings, log_target), .default_value = "auto",
	  .values = (const char *const[]){ "auto", "stderr", "syslog", NULL },
	  .description = "Where log lines go. auto: stderr when running in "
		"the foreground, syslog otherwise." },
	{ .key = "log_level", .type = SETTING_TYPE_ENUM,
	  DEF(tern_settings, log_level), .default_value = "info",
	  .values = (const char *const[]){ "debug", "info", "warning",
					   "error", NULL },
	  .description = "Least severe level that is logged." },
	{ .key = "login_user", .type = SETTING_TYPE_STRING,
	  DEF(tern_settings, login_user), .default_value = "tern-login",
	  .check = config_check_not_empty,
	  .description = "System user the login processes (TLS and every "
		"command before authentication) run as when ternd starts as "
		"root. It must own nothing: a dedicated user (scripts/deps.sh "
		"creates tern-login), not one shared with other daemons." },
	{ .key = "login_chroot", .type = SETTING_TYPE_BOOL,
	  DEF(tern_settings, login_chroot), .default_value = "yes",
	  .description = "Chroot the login processes to base_dir/run/login, "
		"which holds only the auth process's socket, when ternd "
		"starts as root." },
	{ .key = "shutdown_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(tern_settings, shutdown_timeout_ms), .default_value = "30s",
	  .description = "How long SIGTERM waits for sessions to end before "
		"closing them." },
	{ .key = NULL }
};

/* tls.groups: an OpenSSL list; src/tls checks the names when it loads */
static int check_tls_list(const char *value, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f) {
			*error_r = "names separated by colons, without spaces";
			return -1;
		}
	}
	return 0;
}

const struct setting_def tls_setting_defs[] = {
	{ .key = "cert_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, cert_file), .default_value = "tls/cert.pem",
	  .description = "PEM certificate chain presented to clients." },
	{ .key = "key_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, key_file), .default_value = "tls/key.pem",
	  .description = "PEM private key of cert_file." },
	{ .key = "min_protocol", .type = SETTING_TYPE_ENUM,
	  DEF(tls_settings, min_protocol), .default_value = "TLSv1.2",
	  .values = (const char *const[]){ "TLSv1.2", "TLSv1.3", NULL },
	  .description = "Oldest TLS version accepted." },
	{ .key = "ciphers", .type = SETTING_TYPE_STRING,
	  DEF(tls_settings, ciphers),
	  .default_value = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20",
	  .description = "OpenSSL cipher list for TLS 1.2 and older." },
	{ .key = "cipher_suites", .type = SETTING_TYPE_STRING,
	  DEF(tls_settings, cipher_suites), .default_value = "",
	  .description = "OpenSSL cipher suites for TLS 1.3; empty keeps "
		"OpenSSL's default." },
	{ .key = "prefer_server_ciphers", .type = SETTING_TYPE_BOOL,
	  DEF(tls_settings, prefer_server_ciphers), .default_value = "yes",
	  .description = "Pick the cipher by the server's order of "
		"preference rather than the client's." },
	{ .key = "generate_self_signed", .type = SETTING_TYPE_BOOL,
	  DEF(tls_settings, generate_self_signed), .default_value = "yes",
	  .description = "At startup, create a self-signed certificate and "
		"its key when both cert_file and key_file are missing." },
	{ .key = "alt_cert_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, alt_cert_file), .default_value = "",
	  .description = "A second default certificate with a key of another "
		"type (RSA beside ECDSA); each client gets the one its "
		"signature algorithms allow. Empty: none." },
	{ .key = "alt_key_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, alt_key_file), .default_value = "",
	  .description = "PEM private key of alt_cert_file." },
	{ .key = "groups", .type = SETTING_TYPE_STRING,
	  DEF(tls_settings, groups), .default_value = "",
	  .check = check_tls_list,
	  .description = "Key exchange groups in order of preference, "
		"separated by colons (X25519:P-256:P-384); empty keeps "
		"OpenSSL's default." },
	{ .key = "session_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(tls_settings, session_timeout_ms), .default_value = "5m",
	  .max = 86400 * 1000,
	  .description = "How long a TLS session can be resumed, from a cache "
		"in each worker process (no session ticket keys; see "
		"docs/tls.md). 0: no resumption." },
	{ .key = "verify_client", .type = SETTING_TYPE_ENUM,
	  DEF(tls_settings, verify_client),
	  .default_value = TLS_VERIFY_CLIENT_VALUE_NO,
	  .values = (const char *const[]){ TLS_VERIFY_CLIENT_VALUE_NO,
					   TLS_VERIFY_CLIENT_VALUE_OPTIONAL,
					   TLS_VERIFY_CLIENT_VALUE_REQUIRED, NULL },
	  .description = "Client certificates (for SASL EXTERNAL). no: not "
		"asked for; optional: asked for, and a client without one, or "
		"with one that does not verify, goes on unidentified; "
		"required: the handshake fails without a certificate that "
		"verifies against client_ca_file." },
	{ .key = "client_ca_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, client_ca_file), .default_value = "",
	  .description = "PEM certificates of the CAs that issue client "
		"certificates; needed unless verify_client is no." },
	{ .key = "crl_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_settings, crl_file), .default_value = "",
	  .description = "PEM certificate revocation lists of the client "
		"CAs; when set, a client certificate verifies only with a "
		"current CRL of its issuer that does not list it. Empty: no "
		"revocation check." },
	{ .key = "cert_username_field", .type = SETTING_TYPE_ENUM,
	  DEF(tls_settings, cert_username_field),
	  .default_value = TLS_CERT_USERNAME_FIELD_CN,
	  .values = (const char *const[]){ TLS_CERT_USERNAME_FIELD_CN,
					   TLS_CERT_USERNAME_FIELD_EMAIL,
					   TLS_CERT_USERNAME_FIELD_SAN_EMAIL, NULL },
	  .description = "The field of a verified client certificate that "
		"names the user: the subject's commonName or emailAddress, or "
		"the first email address of its subjectAltName." },
	{ .key = NULL }
};

/* certificate.NAME.server_names: DNS names and *.domain wildcards
   separated by spaces; src/tls checks each name fully when it loads. */
static int check_server_names(const char *value, const char **error_r)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(" .-_*", *p) != NULL)) {
			*error_r = "server names are DNS names or *.domain, "
				"separated by spaces";
			return -1;
		}
	}
	return 0;
}

const struct setting_def certificate_setting_defs[] = {
	{ .key = "server_names", .type = SETTING_TYPE_STRING,
	  DEF(tls_certificate_settings, server_names), .default_value = "",
	  .check = check_server_names,
	  .description = "Server names (SNI, RFC 6066 §3) the certificate "
		"is for, separated by spaces: exact names and *.domain "
		"wildcards for one more label, matched case-insensitively; "
		"an exact name wins over a wildcard. A name may be in one "
		"certificate only." },
	{ .key = "cert_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_certificate_settings, cert_file), .default_value = "",
	  .description = "PEM certificate chain for these names (required)." },
	{ .key = "key_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_certificate_settings, key_file), .default_value = "",
	  .description = "PEM private key of cert_file (required)." },
	{ .key = "alt_cert_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_certificate_settings, alt_cert_file), .default_value = "",
	  .description = "A second certificate for the same names with a "
		"key of another type (RSA beside ECDSA). Empty: none." },
	{ .key = "alt_key_file", .type = SETTING_TYPE_PATH,
	  DEF(tls_certificate_settings, alt_key_file), .default_value = "",
	  .description = "PEM private key of alt_cert_file." },
	{ .key = NULL }
};

const struct setting_def auth_setting_defs[] = {
	{ .key = "passwd_file", .type = SETTING_TYPE_PATH,
	  DEF(auth_settings, passwd_file), .default_value = "passwd",
	  .description = "Users and their password hashes, in the "
		"passwd-file format." },
	{ .key = "master_user_separator", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, master_user_separator), .default_value = "*",
	  .description = "Separator in a login name of the form "
		"user*master: master authenticates with its own password "
		"(from a passdb with master = yes) and is logged in as user. "
		"Empty turns the form off; SASL authorization identities "
		"work either way." },
	{ .key = "default_domain", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, default_domain), .default_value = "",
	  .description = "Domain appended as @domain to login names "
		"without one, before any lookup." },
	{ .key = "mechanisms", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, mechanisms), .default_value = "PLAIN LOGIN",
	  .description = "SASL mechanisms offered, separated by spaces." },
	{ .key = "default_scheme", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, default_scheme), .default_value = "SHA512-CRYPT",
	  .description = "Password scheme of new hashes when none is "
		"given." },
	{ .key = "failure_delay", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, failure_delay_ms), .default_value = "2s",
	  .description = "Delay before a failed authentication is "
		"answered." },
	{ .key = "failure_delay_max", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, failure_delay_max_ms), .default_value = "15s",
	  .description = "Each further failure from the same network or "
		"for the same user doubles failure_delay, up to this. The "
		"delay also holds back the next attempt's answer, right or "
		"wrong, so guessing can't be sped up by giving up early." },
	{ .key = "penalty_network_failures", .type = SETTING_TYPE_UINT,
	  DEF(auth_settings, penalty_network_failures), .default_value = "100",
	  .min = 0, .max = 1000000,
	  .description = "Failures from one network (an IPv4 address, an "
		"IPv6 prefix) after which its attempts are refused without "
		"checking the password, until penalty_refuse_time after the "
		"last failure. 0: never." },
	{ .key = "penalty_user_failures", .type = SETTING_TYPE_UINT,
	  DEF(auth_settings, penalty_user_failures), .default_value = "50",
	  .min = 0, .max = 1000000,
	  .description = "Failures for one user name, from several networks "
		"(each network counts at most 3), after which the user's "
		"attempts are refused for penalty_refuse_time. 0: never." },
	{ .key = "penalty_refuse_time", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, penalty_refuse_time_ms), .default_value = "15m",
	  .min = 1000,
	  .description = "How long refusals last after the last failure." },
	{ .key = "penalty_ipv6_prefix", .type = SETTING_TYPE_UINT,
	  DEF(auth_settings, penalty_ipv6_prefix), .default_value = "64",
	  .min = 1, .max = 128,
	  .description = "IPv6 addresses are counted by this prefix, so a "
		"host can't escape its penalty by changing addresses." },
	{ .key = "cache_size", .type = SETTING_TYPE_SIZE,
	  DEF(auth_settings, cache_size), .default_value = "0",
	  .description = "Memory for caching passdb and userdb results in "
		"the auth process (0: no cache). Worth it with SQL or LDAP "
		"backends; a changed password is noticed at once (a cached "
		"hash that doesn't match is looked up again), other changes "
		"after cache_ttl or `ternctl auth cache flush`." },
	{ .key = "cache_ttl", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, cache_ttl_ms), .default_value = "1h",
	  .min = 1000,
	  .description = "How long a cached result is used." },
	{ .key = "cache_negative_ttl", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, cache_negative_ttl_ms), .default_value = "1h",
	  .description = "How long a cached \"no such user\" is used (0: "
		"not cached)." },
	{ .key = "allow_insecure_plaintext", .type = SETTING_TYPE_BOOL,
	  DEF(auth_settings, allow_insecure_plaintext), .default_value = "no",
	  .description = "Allow plaintext authentication on connections "
		"that are neither TLS nor loopback." },
	{ .key = "oauth2_jwt_keys_dir", .type = SETTING_TYPE_PATH,
	  DEF(auth_settings, oauth2_jwt_keys_dir), .default_value = "",
	  .description = "OAUTHBEARER/XOAUTH2: directory of PEM public keys "
		"for JWTs signed with RS256/384/512 or ES256/384/512, named "
		"KID.pem after the token's kid (default.pem for tokens "
		"without one)." },
	{ .key = "oauth2_jwt_secret_file", .type = SETTING_TYPE_PATH,
	  DEF(auth_settings, oauth2_jwt_secret_file), .default_value = "",
	  .description = "OAUTHBEARER/XOAUTH2: file with the shared secret "
		"of JWTs signed with HS256/384/512 (a trailing newline is "
		"not part of it)." },
	{ .key = "oauth2_introspection_url", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, oauth2_introspection_url), .default_value = "",
	  .description = "OAUTHBEARER/XOAUTH2: RFC 7662 introspection "
		"endpoint for tokens that aren't JWTs, or when no JWT keys are "
		"set; client credentials go in the URL "
		"(https://id:secret@host/path)." },
	{ .key = "oauth2_username_claim", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, oauth2_username_claim), .default_value = "email",
	  .description = "OAUTHBEARER/XOAUTH2: the claim whose value is the "
		"user name (such as email, sub or preferred_username)." },
	{ .key = "oauth2_issuer", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, oauth2_issuer), .default_value = "",
	  .description = "OAUTHBEARER/XOAUTH2: when set, a token's iss "
		"claim must be this." },
	{ .key = "oauth2_audience", .type = SETTING_TYPE_STRING,
	  DEF(auth_settings, oauth2_audience), .default_value = "",
	  .description = "OAUTHBEARER/XOAUTH2: when set, a token's aud "
		"claim must be or contain this." },
	{ .key = "oauth2_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(auth_settings, oauth2_timeout_ms), .default_value = "5s",
	  .description = "OAUTHBEARER/XOAUTH2: how long an introspection "
		"request may take (the login process waits for it)." },
	{ .key = NULL }
};

/* imap.capability_add/_remove: atoms separated by spaces (RFC 9051 §9
   capability = ("AUTH=" auth-type) / atom; atom-specials ( ) { SP CTL
   % * " \ ]). */
static int check_capability_list(const char *value, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p != ' ' && (*p < 0x21 || *p >= 0x7f ||
				  strchr("(){%*\"\\]", *p) != NULL)) {
			*error_r = "capabilities are atoms separated by spaces";
			return -1;
		}
	}
	return 0;
}

/* The remove list may not hide what a client needs to talk to us at
   all: the base protocol, STARTTLS, LOGINDISABLED and AUTH=. */
static int check_capability_remove_list(const char *value, const char **error_r)
{
	if (check_capability_list(value, error_r) < 0)
		return -1;
	for (const char *p = value; *p != '\0';) {
		size_t len = strcspn(p, " ");
		const char *name = t_strndup(p, len);
		if (strncasecmp(name, "AUTH", 4) == 0 &&
		    (name[4] == '\0' || name[4] == '=')) {
			*error_r = "SASL mechanisms are chosen with auth.mechanisms";
			return -1;
		}
		if (strcasecmp(name, "IMAP4rev1") == 0 || strcasecmp(name, "IMAP4") == 0 ||
		    strcasecmp(name, "STARTTLS") == 0 || strcasecmp(name, "LOGINDISABLED") == 0) {
			*error_r = t_strdup_printf("%s can't be removed", name);
			return -1;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* imap.metadata_admin goes out as a METADATA value: printable ASCII
   (RFC 5464 §3.2.1 asks for a URI). */
static int check_metadata_admin(const char *value, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			*error_r = "must be a URI in printable ASCII";
			return -1;
		}
	}
	return 0;
}

/* imap.urlauth_hosts, imap.urlauth_submit_users: names separated by
   spaces, printable ASCII. */
static int check_urlauth_names(const char *value, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < ' ' || *p >= 0x7f) {
			*error_r = "names are printable ASCII separated by spaces";
			return -1;
		}
	}
	return 0;
}

const struct setting_def imap_setting_defs[] = {
	{ .key = "max_line_length", .type = SETTING_TYPE_SIZE,
	  DEF(imap_settings, max_line_length), .default_value = "64k",
	  .min = 1024,
	  .description = "Longest command line a client may send, literals "
		"excluded." },
	{ .key = "max_literal_size", .type = SETTING_TYPE_SIZE,
	  DEF(imap_settings, max_literal_size), .default_value = "64M",
	  .description = "Largest literal a client may send (an APPENDed "
		"message, for example)." },
	{ .key = "login_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(imap_settings, login_timeout_ms), .default_value = "1m",
	  .min = 1000,
	  .description = "Disconnect a client that is idle this long before "
		"logging in." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(imap_settings, idle_timeout_ms), .default_value = "30m",
	  .min = 1000,
	  .description = "Log out a logged-in client that is idle this "
		"long. RFC 9051 §5.4 asks for at least 30 minutes; shorter "
		"values are meant for tests." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(imap_settings, output_buffer_limit), .default_value = "256k",
	  .min = 1024,
	  .description = "Output buffered for a client before the server "
		"stops producing more until the client reads." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(imap_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Disconnect a client that does not read its pending "
		"output for this long." },
	{ .key = "metadata", .type = SETTING_TYPE_BOOL,
	  DEF(imap_settings, metadata), .default_value = "yes",
	  .description = "Offer METADATA and METADATA-SERVER (RFC 5464): "
		"GETMETADATA and SETMETADATA on entries of mailboxes and of "
		"the server, kept in the user's index. no removes the "
		"capabilities and the commands." },
	{ .key = "metadata_admin", .type = SETTING_TYPE_STRING,
	  DEF(imap_settings, metadata_admin), .default_value = "",
	  .check = check_metadata_admin,
	  .description = "Value of the server's read-only /shared/admin "
		"entry, a URI for reaching the administrator (RFC 5464 "
		"§3.2.1), for example mailto:postmaster@example.com. Empty: "
		"the entry does not exist." },
	{ .key = "metadata_max_value_size", .type = SETTING_TYPE_SIZE,
	  DEF(imap_settings, metadata_max_value_size), .default_value = "32k",
	  .min = 1,
	  .description = "Largest value of one entry; SETMETADATA of a "
		"larger one is NO [METADATA MAXSIZE n]. Values travel in "
		"memory, so a command with more than imap.max_line_length of "
		"literals is refused before this is checked." },
	{ .key = "metadata_max_entries", .type = SETTING_TYPE_UINT,
	  DEF(imap_settings, metadata_max_entries), .default_value = "256",
	  .min = 1, .max = 1000000,
	  .description = "Most entries of one mailbox (private and shared "
		"together), and of the server; a SETMETADATA adding more is "
		"NO [METADATA TOOMANY]." },
	{ .key = "metadata_max_user_entries", .type = SETTING_TYPE_UINT,
	  DEF(imap_settings, metadata_max_user_entries), .default_value = "10000",
	  .min = 1, .max = 10000000,
	  .description = "Most entries of a user in all mailboxes and the "
		"server together; more is NO [METADATA TOOMANY]." },
	{ .key = "metadata_max_user_size", .type = SETTING_TYPE_SIZE,
	  DEF(imap_settings, metadata_max_user_size), .default_value = "1M",
	  .min = 1,
	  .description = "Most bytes (entry names and values) a user's "
		"entries may take together; a SETMETADATA that would pass "
		"it is NO [METADATA TOOMANY]. Also bounds what one "
		"GETMETADATA holds in memory." },
	{ .key = "capability_add", .type = SETTING_TYPE_STRING,
	  DEF(imap_settings, capability_add), .default_value = "",
	  .check = check_capability_list,
	  .description = "Extra capabilities to advertise, separated by "
		"spaces (for example ones a proxy in front adds)." },
	{ .key = "capability_remove", .type = SETTING_TYPE_STRING,
	  DEF(imap_settings, capability_remove), .default_value = "",
	  .check = check_capability_remove_list,
	  .description = "Capabilities not to advertise, separated by "
		"spaces; NAME also removes NAME=... (THREAD, SORT=DISPLAY). "
		"Commands and ENABLE of a removed capability are refused as "
		"unknown. IMAP4rev1, STARTTLS, LOGINDISABLED and AUTH= "
		"can't be removed (mechanisms: auth.mechanisms)." },
	{ .key = "message_limit", .type = SETTING_TYPE_UINT,
	  DEF(imap_settings, message_limit), .default_value = "0",
	  .min = 0, .max = 1000000000,
	  .description = "Most messages one FETCH, SEARCH, STORE, MOVE or UID "
		"EXPUNGE may process, advertised as MESSAGELIMIT (RFC 9738); a "
		"UID command over it processes the lowest UIDs and answers OK "
		"[LIMIT], one by sequence numbers is NO [LIMIT]. 0: no limit." },
	{ .key = "save_limit", .type = SETTING_TYPE_UINT,
	  DEF(imap_settings, save_limit), .default_value = "0",
	  .min = 0, .max = 1000000000,
	  .description = "Most messages one COPY or APPEND may save, "
		"advertised as SAVELIMIT (RFC 9738); more is NO [LIMIT]. 0: "
		"imap.message_limit applies to COPY, and APPEND has no limit." },
	{ .key = "progress_interval", .type = SETTING_TYPE_DURATION,
	  DEF(imap_settings, progress_interval_ms), .default_value = "10s",
	  .description = "How often a long command (SEARCH that fills the "
		"text index, big FETCH, COPY, MOVE, EXPUNGE, SORT, THREAD) "
		"reports its progress with OK [INPROGRESS] (RFC 9585). 0: "
		"never." },
	{ .key = "urlauth_hosts", .type = SETTING_TYPE_STRING,
	  DEF(imap_settings, urlauth_hosts), .default_value = "",
	  .check = check_urlauth_names,
	  .description = "Host names (and IP literals) that name this "
		"server in the imap:// URLs of GENURLAUTH, URLFETCH and "
		"CATENATE (RFC 4467, RFC 4469), separated by spaces; a URL "
		"for another host is refused. Empty: any host (a URLAUTH "
		"token is only valid on the server whose key signed it)." },
	{ .key = "urlauth_submit_users", .type = SETTING_TYPE_STRING,
	  DEF(imap_settings, urlauth_submit_users), .default_value = "",
	  .check = check_urlauth_names,
	  .description = "Users, separated by spaces, that may URLFETCH "
		"URLs authorized for \"submit+user\" (RFC 4467 §3): the "
		"logins of the message submission server (RFC 4468 BURL). "
		"Empty: nobody." },
	{ .key = NULL }
};

/* A POP3 UIDL template: text of printable non-space ASCII and variables
   %[0][width][X|L|U...]<u|v|g|%>. It must use %u or %g, or the UIDLs of a
   maildrop would not be unique, and give at most 70 characters (RFC 1939
   §7). The same grammar is expanded by src/pop3/proto/pop3-uidl.c. */
static int check_uidl_format(const char *value, const char **error_r)
{
	bool unique = false;
	unsigned int max_len = 0;

	for (const char *p = value; *p != '\0'; p++) {
		if (*p != '%') {
			if (*p <= ' ' || *p > '~') {
				*error_r = "UIDLs may contain only printable ASCII without spaces";
				return -1;
			}
			max_len++;
			continue;
		}
		bool zero_pad = *++p == '0', hex = false;
		unsigned int width = 0, len;
		for (; *p >= '0' && *p <= '9'; p++)
			width = I_MIN(width * 10 + (unsigned int)(*p - '0'), 1000);
		for (; *p == 'X' || *p == 'L' || *p == 'U'; p++)
			hex = hex || *p == 'X';
		if (*p == 'u' || *p == 'v')
			len = hex ? 8 : 10;
		else if (*p == 'g')
			len = 32;
		else if (*p == '%')
			len = 1;
		else {
			*error_r = "unknown variable (expected %u UID, %v UIDVALIDITY, %g GUID or %%)";
			return -1;
		}
		unique = unique || *p == 'u' || *p == 'g';
		max_len += zero_pad ? I_MAX(width, len) : (width > 0 ? I_MIN(width, len) : len);
	}
	if (!unique) {
		*error_r = "must contain %u or %g so that every message has its own UIDL";
		return -1;
	}
	if (max_len > 70) {
		*error_r = "UIDLs could be longer than the 70 characters RFC 1939 allows";
		return -1;
	}
	return 0;
}

static const struct setting_def pop3_setting_defs[] = {
	{ .key = "max_line_length", .type = SETTING_TYPE_SIZE,
	  DEF(pop3_settings, max_line_length), .default_value = "64k",
	  .min = 1024,
	  .description = "Longest command line (or AUTH response) a client "
		"may send. Longer lines are answered with -ERR and skipped." },
	{ .key = "login_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(pop3_settings, login_timeout_ms), .default_value = "1m",
	  .min = 1000,
	  .description = "Disconnect a client that is idle this long before "
		"logging in." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(pop3_settings, idle_timeout_ms), .default_value = "10m",
	  .min = 1000,
	  .description = "Disconnect a logged-in client that is idle this "
		"long, without deleting anything. RFC 1939 §3 asks for at "
		"least 10 minutes; shorter values are meant for tests." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(pop3_settings, output_buffer_limit), .default_value = "256k",
	  .min = 1024,
	  .description = "Output buffered for a client before the server "
		"stops producing more (a RETR pauses) until the client reads." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(pop3_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Disconnect a client that does not read its pending "
		"output for this long." },
	{ .key = "uidl_format", .type = SETTING_TYPE_STRING,
	  DEF(pop3_settings, uidl_format), .default_value = "%08Xu%08Xv",
	  .check = check_uidl_format,
	  .description = "How a message's UIDL is made: `%u` is its IMAP UID, "
		"`%v` the mailbox's UIDVALIDITY, `%g` its GUID (EMAILID), `%%` "
		"a percent sign; a `0` and a width pad with zeros, `X` writes "
		"a number in hex, `L` and `U` change case. The default is "
		"Dovecot's, so clients moving from Dovecot do not download "
		"their mail again. Changing it makes every client see new "
		"messages." },
	{ .key = "delete_mode", .type = SETTING_TYPE_ENUM,
	  DEF(pop3_settings, delete_mode), .default_value = POP3_DELETE_MODE_EXPUNGE,
	  .values = (const char *const[]){ POP3_DELETE_MODE_EXPUNGE,
					   POP3_DELETE_MODE_KEEP_FLAG, NULL },
	  .description = "What DELE does at QUIT: expunge removes the "
		"messages; keep-flag only sets \\Deleted on them, so they "
		"stay visible over IMAP (and to later POP3 sessions)." },
	{ .key = "retr_sets_seen", .type = SETTING_TYPE_BOOL,
	  DEF(pop3_settings, retr_sets_seen), .default_value = "yes",
	  .description = "Set \\Seen, at QUIT, on the messages retrieved "
		"whole with RETR (TOP never sets it)." },
	{ .key = "login_delay", .type = SETTING_TYPE_DURATION,
	  DEF(pop3_settings, login_delay_ms), .default_value = "0",
	  .description = "Shortest time between two POP3 logins of a user "
		"(RFC 2449 LOGIN-DELAY, advertised in whole seconds); a login "
		"sooner is refused with -ERR [LOGIN-DELAY]. 0 turns it off." },
	{ .key = "lock", .type = SETTING_TYPE_BOOL,
	  DEF(pop3_settings, lock), .default_value = "yes",
	  .description = "Lock the maildrop for the session (RFC 1939 §4): "
		"a second POP3 session of the user is refused with -ERR "
		"[IN-USE]. no lets sessions overlap; a message deleted by one "
		"is then an error to retrieve in the other." },
	{ .key = NULL }
};

static const char *const mail_driver_values[] = { "maildir", NULL };

const struct setting_def mail_setting_defs[] = {
	{ .key = "home", .type = SETTING_TYPE_STRING,
	  DEF(mail_settings, home), .default_value = "mail/%u",
	  .description = "Mail home of users whose userdb entry has no home: "
		"a path template where %u is the login name, %n its local "
		"part and %d its domain (empty without '@'). A relative "
		"result is taken under base_dir. Mail is kept in its "
		"Maildir/ and the index in tern-index.db." },
	{ .key = "driver", .type = SETTING_TYPE_ENUM,
	  DEF(mail_settings, driver), .default_value = "maildir",
	  .values = mail_driver_values,
	  .description = "How message content is stored." },
	{ .key = "create_special_folders", .type = SETTING_TYPE_BOOL,
	  DEF(mail_settings, create_special_folders), .default_value = "yes",
	  .description = "Create Drafts, Sent, Trash, Junk and Archive, with "
		"their special-use attributes (RFC 6154), for a new user." },
	{ .key = "index_text_at_save", .type = SETTING_TYPE_BOOL,
	  DEF(mail_settings, index_text_at_save), .default_value = "yes",
	  .description = "Add each saved message (APPEND, LMTP) to the "
		"full-text index in the save's own transaction, so text "
		"searches never wait for indexing. With no, saving costs about "
		"half as much (the trigram index is most of a save's CPU) and "
		"the first SEARCH BODY/TEXT of a mailbox indexes what arrived "
		"since (about a millisecond per message): for bulk imports, or "
		"delivery-heavy servers that rarely search." },
	{ .key = "cache_at_save", .type = SETTING_TYPE_BOOL,
	  DEF(mail_settings, cache_at_save), .default_value = "yes",
	  .description = "Parse each message as it is saved (APPEND, LMTP) "
		"and store its ENVELOPE, BODYSTRUCTURE and header block in "
		"the index, so the first FETCH of them needs no file read. "
		"With no, they are stored by the first FETCH instead; saving "
		"is then a little cheaper." },
	{ .key = "mime_max_depth", .type = SETTING_TYPE_UINT,
	  DEF(mail_settings, mime_max_depth), .default_value = "99",
	  .min = 1, .max = 10000,
	  .description = "Deepest MIME nesting parsed for BODYSTRUCTURE and "
		"body sections; deeper parts are served as opaque content "
		"(99 is Dovecot's limit, so structures agree)." },
	{ .key = "mime_max_parts", .type = SETTING_TYPE_UINT,
	  DEF(mail_settings, mime_max_parts), .default_value = "10000",
	  .min = 1, .max = 1000000,
	  .description = "MIME parts parsed per message; past it boundaries "
		"are no longer recognised and the rest stays in the current "
		"part." },
	{ .key = "mime_max_header_size", .type = SETTING_TYPE_SIZE,
	  DEF(mail_settings, mime_max_header_size), .default_value = "10M",
	  .min = 1024,
	  .description = "Header bytes parsed per message (all parts); past "
		"it fields are not parsed, sizes stay exact." },
	{ .key = NULL }
};

const struct setting_def service_setting_defs[] = {
	{ .key = "process_count", .type = SETTING_TYPE_UINT,
	  DEF(service_settings, process_count), .default_value = "2",
	  .min = 1, .max = 1024,
	  .description = "Processes started for the service." },
	{ .key = "client_limit", .type = SETTING_TYPE_UINT,
	  DEF(service_settings, client_limit), .default_value = "10000",
	  .min = 1, .max = 100000,
	  .description = "Connections one process serves at a time." },
	{ .key = "max_user_connections", .type = SETTING_TYPE_UINT,
	  DEF(service_settings, max_user_connections), .default_value = "0",
	  .min = 0, .max = 1000000,
	  .description = "Logged-in sessions one user may have in this "
		"service at once, from anywhere (0: no limit); more are "
		"refused with a BYE [LIMIT] (POP3: -ERR [IN-USE])." },
	{ .key = "max_userip_connections", .type = SETTING_TYPE_UINT,
	  DEF(service_settings, max_userip_connections), .default_value = "10",
	  .min = 0, .max = 1000000,
	  .description = "Logged-in sessions one user may have in this "
		"service from one remote address (Dovecot's "
		"mail_max_userip_connections; 0: no limit)." },
	{ .key = "mail_idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(service_settings, mail_idle_timeout_ms), .default_value = "1m",
	  .description = "A mail process (one per protocol and user id, "
		"started on demand) that has had no session for this long "
		"exits (0: never), so a server with many system users doesn't "
		"keep a process for each." },
	{ .key = NULL }
};

const struct setting_def listener_setting_defs[] = {
	{ .key = "protocol", .type = SETTING_TYPE_ENUM,
	  DEF(listener_settings, protocol), .values = protocol_values,
	  .description = "Protocol served. Default: the listener's name, "
		"without a trailing s (imaps serves imap); other names must "
		"set it." },
	{ .key = "address", .type = SETTING_TYPE_STRING,
	  DEF(listener_settings, address), .default_value = "127.0.0.1",
	  .check = check_address,
	  .description = "IPv4 or IPv6 address to listen on; `*` or `::` "
		"for all addresses." },
	{ .key = "port", .type = SETTING_TYPE_UINT,
	  DEF(listener_settings, port), .default_value = "0",
	  .min = 0, .max = 65535,
	  .description = "TCP port. An enabled listener needs a port or a "
		"path, not both." },
	{ .key = "path", .type = SETTING_TYPE_PATH,
	  DEF(listener_settings, path), .default_value = "",
	  .description = "Unix socket to listen on instead of address and "
		"port." },
	{ .key = "tls", .type = SETTING_TYPE_ENUM_INDEX,
	  DEF(listener_settings, tls),
	  .values = (const char *const[]){ "none", "starttls", "implicit",
					   "required", NULL },
	  .description = "implicit: TLS from the first byte; starttls: "
		"plaintext, upgraded by STARTTLS (STLS in POP3); required: "
		"like starttls, but no authentication of any kind (LOGIN, "
		"AUTHENTICATE, USER/PASS, AUTH, APOP) before STARTTLS, even "
		"from loopback (Dovecot's ssl = required); none: plaintext "
		"only. Default: implicit when the name is the protocol plus s "
		"(imaps), none for lmtp, starttls otherwise." },
	{ .key = "enabled", .type = SETTING_TYPE_BOOL,
	  DEF(listener_settings, enabled), .default_value = "yes",
	  .description = "Set to no to turn off a listener, such as one of "
		"the embedded default." },
	{ .key = NULL }
};

const struct setting_def auth_db_setting_defs[] = {
	{ .key = "driver", .type = SETTING_TYPE_ENUM,
	  DEF(auth_db_settings, driver), .default_value = "passwd-file",
	  .values = (const char *const[]){ "passwd-file", "static", "pam",
					   "sql", "ldap", "passwd", NULL },
	  .description = "Backend: passwd-file (Dovecot's format), static "
		"(fixed fields), pam (system users; passdb only), sql "
		"(SQLite or PostgreSQL), ldap or passwd (system users; "
		"userdb only)." },
	{ .key = "args", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, args), .default_value = "",
	  .description = "passwd-file: the file's path (relative paths "
		"resolve against base_dir); static: space-separated "
		"key=value fields (password=, uid=, gid=, home=, extra "
		"fields; values are templates); pam: the PAM service name "
		"(default the protocol's, such as imap)." },
	{ .key = "master", .type = SETTING_TYPE_BOOL,
	  DEF(auth_db_settings, master), .default_value = "no",
	  .description = "passdb only: this passdb holds master users, who "
		"may log in as any user (user*master, or a SASL "
		"authorization identity)." },
	{ .key = "username_format", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, username_format), .default_value = "%u",
	  .description = "Template of the name this backend looks up; %n "
		"drops the domain of a user@domain login." },
	{ .key = "default_password_scheme", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, default_password_scheme),
	  .default_value = "CRYPT",
	  .description = "Scheme of stored passwords that carry no "
		"{SCHEME} prefix." },
	{ .key = "sql_driver", .type = SETTING_TYPE_ENUM,
	  DEF(auth_db_settings, sql_driver), .default_value = "sqlite",
	  .values = (const char *const[]){ "sqlite", "pgsql", NULL },
	  .description = "sql: the database engine." },
	{ .key = "sql_connect", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, sql_connect), .default_value = "",
	  .description = "sql: the SQLite database file, or a PostgreSQL "
		"connection string (libpq's key=value or URI form)." },
	{ .key = "sql_password_query", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, sql_password_query), .default_value = "",
	  .description = "sql passdb: query returning the columns user and "
		"password, plus any extra fields (userdb_ prefixed columns "
		"go to the userdb); template values are escaped." },
	{ .key = "sql_user_query", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, sql_user_query), .default_value = "",
	  .description = "sql userdb: query returning home, uid, gid and "
		"extra fields." },
	{ .key = "sql_iterate_query", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, sql_iterate_query), .default_value = "",
	  .description = "sql userdb: query listing every user (column "
		"user, or username and domain), for ternctl." },
	{ .key = "ldap_uris", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_uris), .default_value = "",
	  .description = "ldap: server URIs, space-separated "
		"(ldap://host:389, ldaps://host, ldapi://%2Frun%2Fslapd)." },
	{ .key = "ldap_bind_dn", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_bind_dn), .default_value = "",
	  .description = "ldap: DN to bind as for searches (empty: "
		"anonymous)." },
	{ .key = "ldap_bind_password", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_bind_password), .default_value = "",
	  .description = "ldap: password of ldap_bind_dn." },
	{ .key = "ldap_base", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_base), .default_value = "",
	  .description = "ldap: search base (a template)." },
	{ .key = "ldap_scope", .type = SETTING_TYPE_ENUM,
	  DEF(auth_db_settings, ldap_scope), .default_value = "subtree",
	  .values = (const char *const[]){ "base", "onelevel", "subtree",
					   NULL },
	  .description = "ldap: search scope." },
	{ .key = "ldap_filter", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_filter),
	  .default_value = "(&(objectClass=posixAccount)(uid=%u))",
	  .description = "ldap: search filter (a template; values are "
		"escaped per RFC 4515)." },
	{ .key = "ldap_auth_bind", .type = SETTING_TYPE_BOOL,
	  DEF(auth_db_settings, ldap_auth_bind), .default_value = "no",
	  .description = "ldap passdb: check the password by binding as "
		"the user (no: search, then compare the userPassword "
		"attribute)." },
	{ .key = "ldap_auth_bind_dn_format", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_auth_bind_dn_format), .default_value = "",
	  .description = "ldap passdb with ldap_auth_bind: the user's DN as "
		"a template (such as uid=%n,ou=people,dc=example,dc=com), "
		"so no search is needed; empty: search for it first." },
	{ .key = "ldap_pass_attrs", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_pass_attrs),
	  .default_value = "uid=user,userPassword=password",
	  .description = "ldap passdb: attribute=field pairs, "
		"comma-separated." },
	{ .key = "ldap_user_attrs", .type = SETTING_TYPE_STRING,
	  DEF(auth_db_settings, ldap_user_attrs),
	  .default_value = "homeDirectory=home,uidNumber=uid,gidNumber=gid",
	  .description = "ldap userdb: attribute=field pairs, "
		"comma-separated." },
	{ .key = "ldap_starttls", .type = SETTING_TYPE_BOOL,
	  DEF(auth_db_settings, ldap_starttls), .default_value = "no",
	  .description = "ldap: upgrade ldap:// connections with StartTLS." },
	{ .key = "ldap_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(auth_db_settings, ldap_timeout_ms), .default_value = "5s",
	  .min = 100,
	  .description = "ldap: time limit of one operation." },
	{ .key = NULL }
};

static int auth_db_label_check(const char *label, const char **error_r)
{
	for (const char *p = label; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			*error_r = t_strdup_printf(
				"invalid passdb/userdb name '%s' (letters, "
				"digits, '_' and '-' only)", label);
			return -1;
		}
	}
	return 0;
}

static void *passdb_item_add(struct tern_settings *set, pool_t pool,
			     const char *label)
{
	struct auth_db_settings *db = p_new(pool, struct auth_db_settings, 1);
	db->name = p_strdup(pool, label);
	array_push(&set->passdbs, db);
	return db;
}

static void *userdb_item_add(struct tern_settings *set, pool_t pool,
			     const char *label)
{
	struct auth_db_settings *db = p_new(pool, struct auth_db_settings, 1);
	db->name = p_strdup(pool, label);
	array_push(&set->userdbs, db);
	return db;
}

static int service_label_check(const char *label, const char **error_r)
{
	for (unsigned int i = 0; protocol_values[i] != NULL; i++) {
		if (strcmp(label, protocol_values[i]) == 0)
			return 0;
	}
	*error_r = t_strdup_printf("unknown service '%s' (expected imap, pop3, "
				   "lmtp or managesieve)", label);
	return -1;
}

static void *service_item_add(struct tern_settings *set, pool_t pool,
			      const char *label)
{
	struct service_settings *service = p_new(pool, struct service_settings, 1);
	service->name = p_strdup(pool, label);
	array_push(&set->services, service);
	return service;
}

static int listener_label_check(const char *label, const char **error_r)
{
	/* labels appear in dotted keys and log fields: keep them plain */
	for (const char *p = label; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			*error_r = t_strdup_printf(
				"invalid listener name '%s' (letters, digits, "
				"'_' and '-' only)", label);
			return -1;
		}
	}
	return 0;
}

static void *listener_item_add(struct tern_settings *set, pool_t pool,
			       const char *label)
{
	struct listener_settings *listener =
		p_new(pool, struct listener_settings, 1);
	listener->name = p_strdup(pool, label);
	array_push(&set->listeners, listener);
	return listener;
}

static int certificate_label_check(const char *label, const char **error_r)
{
	if (listener_label_check(label, error_r) == 0)
		return 0;
	*error_r = t_strdup_printf("invalid certificate name '%s' (letters, "
				   "digits, '_' and '-' only)", label);
	return -1;
}

static void *certificate_item_add(struct tern_settings *set, pool_t pool,
				  const char *label)
{
	struct tls_certificate_settings *cert =
		p_new(pool, struct tls_certificate_settings, 1);
	cert->name = p_strdup(pool, label);
	if (!array_is_created(&set->certificates))
		array_init(&set->certificates, pool, 4);
	array_push(&set->certificates, cert);
	return cert;
}

const struct config_block_def config_block_top = {
	.name = NULL,
	.defs = tern_setting_defs,
	.description = "Settings outside any block.",
};

static const struct config_block_def config_block_tls = {
	.name = "tls",
	.defs = tls_setting_defs,
	.offset = offsetof(struct tern_settings, tls),
	.description = "TLS for implicit-TLS listeners and STARTTLS.",
};

static const struct config_block_def config_block_auth = {
	.name = "auth",
	.defs = auth_setting_defs,
	.offset = offsetof(struct tern_settings, auth),
	.description = "Authentication of users, for every protocol.",
};

static const struct config_block_def config_block_imap = {
	.name = "imap",
	.defs = imap_setting_defs,
	.offset = offsetof(struct tern_settings, imap),
	.description = "IMAP sessions: limits and timeouts.",
};

static const struct config_block_def config_block_pop3 = {
	.name = "pop3",
	.defs = pop3_setting_defs,
	.offset = offsetof(struct tern_settings, pop3),
	.description = "POP3 sessions: limits, timeouts, UIDLs and what DELE "
		"and RETR do to the mailbox.",
};

static const struct config_block_def config_block_mail = {
	.name = "mail",
	.defs = mail_setting_defs,
	.offset = offsetof(struct tern_settings, mail),
	.description = "Where and how users' mail is stored.",
};

const struct config_block_def config_block_service = {
	.name = "service",
	.defs = service_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct service_settings),
	.label_check = service_label_check,
	.item_add = service_item_add,
	.description = "Processes serving one protocol. NAME is imap, pop3, "
		"lmtp or managesieve; all four exist in the embedded "
		"default.",
};

const struct config_block_def config_block_listener = {
	.name = "listener",
	.defs = listener_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct listener_settings),
	.label_check = listener_label_check,
	.item_add = listener_item_add,
	.description = "A socket accepting clients. NAME is any name made of "
		"letters, digits, '_' and '-'; a block naming a listener of "
		"the embedded default changes only the settings it sets.",
};

const struct config_block_def config_block_certificate = {
	.name = "certificate",
	.defs = certificate_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct tls_certificate_settings),
	.label_check = certificate_label_check,
	.item_add = certificate_item_add,
	.description = "A TLS certificate for the server names a client may "
		"ask for (SNI); clients that ask for no name or another one "
		"get tls.cert_file. NAME is any name made of letters, digits, "
		"'_' and '-'. The tls block's other settings apply to every "
		"certificate. See docs/tls.md.",
};

const struct config_block_def config_block_passdb = {
	.name = "passdb",
	.defs = auth_db_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct auth_db_settings),
	.label_check = auth_db_label_check,
	.item_add = passdb_item_add,
	.description = "A password database, tried in the order of the "
		"blocks until one knows the user. With no passdb block, "
		"auth.passwd_file is the only one.",
};

const struct config_block_def config_block_userdb = {
	.name = "userdb",
	.defs = auth_db_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct auth_db_settings),
	.label_check = auth_db_label_check,
	.item_add = userdb_item_add,
	.description = "A user database (home, uid, gid, quota and other "
		"fields), tried in order until one knows the user. With no "
		"userdb block, auth.passwd_file is the only one. A passdb's "
		"userdb_ fields override the userdb's.",
};

const struct config_block_def *const config_blocks[] = {
	&config_block_top, &config_block_tls, &config_block_auth,
	&config_block_imap, &config_block_pop3, &config_block_mail,
	&config_block_lmtp, &config_block_indexer, &config_block_sieve, &config_block_submission,
	&config_block_quota, &config_block_managesieve, &config_block_imapsieve,
	&config_block_service,
	&config_block_listener,
	&config_block_passdb, &config_block_userdb,
	&config_block_certificate,
	&config_block_imapsieve_mailbox,
	NULL
};

const char config_embedded_default[] =
	"service imap {\n}\n"
	"service pop3 {\n}\n"
	/* a delivery waits for its fsyncs; an MTA delivers over parallel
	   connections (Postfix: up to 20 per destination) */
	"service lmtp {\n  process_count = 8\n}\n"
	"service managesieve {\n}\n"
	"listener imap {\n  protocol = imap\n  port = 1143\n  tls = starttls\n}\n"
	"listener imaps {\n  protocol = imap\n  port = 1993\n  tls = implicit\n}\n"
	"listener pop3 {\n  protocol = pop3\n  port = 1110\n  tls = starttls\n}\n"
	"listener pop3s {\n  protocol = pop3\n  port = 1995\n  tls = implicit\n}\n"
	"listener lmtp {\n  protocol = lmtp\n  port = 2424\n  tls = none\n}\n"
	"listener managesieve {\n  protocol = managesieve\n  port = 4190\n"
	"  tls = starttls\n}\n";

const struct config_block_def *config_block_find(const char *name)
{
	for (unsigned int i = 1; config_blocks[i] != NULL; i++) {
		if (strcmp(config_blocks[i]->name, name) == 0)
			return config_blocks[i];
	}
	return NULL;
}

int setting_def_find(const struct setting_def *defs, const char *key)
{
	for (int i = 0; defs[i].key != NULL; i++) {
		if (strcmp(defs[i].key, key) == 0)
			return i;
	}
	return -1;
}

const char *config_listener_protocol_from_name(const char *label)
{
	size_t len = strlen(label);

	for (unsigned int i = 0; protocol_values[i] != NULL; i++) {
		const char *proto = protocol_values[i];
		size_t plen = strlen(proto);
		if (strcmp(label, proto) == 0 ||
		    (len == plen + 1 && strncmp(label, proto, plen) == 0 &&
		     label[plen] == 's'))
			return proto;
	}
	return NULL;
}

enum listener_tls config_listener_tls_default(const char *label,
					      const char *protocol)
{
	size_t plen = strlen(protocol);

	if (strncmp(label, protocol, plen) == 0 && strcmp(label + plen, "s") == 0)
		return LISTENER_TLS_IMPLICIT;
	if (strcmp(protocol, "lmtp") == 0)
		return LISTENER_TLS_NONE;
	return LISTENER_TLS_STARTTLS;
}

/* ---- values ---- */

static uint64_t setting_max(const struct setting_def *def)
{
	if (def->max != 0)
		return def->max;
	switch (def->type) {
	case SETTING_TYPE_UINT:
	case SETTING_TYPE_DURATION:
		return UINT_MAX;
	default:
		return UINT64_MAX;
	}
}

static const char *setting_format_number(const struct setting_def *def,
					 uint64_t value)
{
	switch (def->type) {
	case SETTING_TYPE_SIZE:
		return str_format_size(value);
	case SETTING_TYPE_DURATION:
		return str_format_duration_ms(value);
	default:
		return t_strdup_printf("%llu", (unsigned long long)value);
	}
}

static const char *setting_values_list(const char *const *values)
{
	string_t *str = t_str_new(64);

	for (unsigned int i = 0; values[i] != NULL; i++) {
		if (i > 0)
			str_append(str, values[i + 1] == NULL ? " or " : ", ");
		str_append(str, values[i]);
	}
	return str_c(str);
}

static int setting_parse_enum(const struct setting_def *def, const char *value,
			      const char *dotted_key, int *idx_r,
			      const char **error_r)
{
	for (int i = 0; def->values[i] != NULL; i++) {
		if (strcasecmp(def->values[i], value) == 0) {
			*idx_r = i;
			return 0;
		}
	}
	*error_r = t_strdup_printf("invalid value '%s' for %s (expected %s)",
				   value, dotted_key,
				   setting_values_list(def->values));
	return -1;
}

static int setting_parse_number(const struct setting_def *def,
				const char *value, const char *dotted_key,
				uint64_t *num_r, const char **error_r)
{
	static const char *const type_names[] = {
		[SETTING_TYPE_UINT] = "number",
		[SETTING_TYPE_SIZE] = "size",
		[SETTING_TYPE_DURATION] = "duration",
	};
	int ret;

	if (def->type == SETTING_TYPE_SIZE)
		ret = str_parse_size(value, num_r);
	else if (def->type == SETTING_TYPE_DURATION)
		ret = str_parse_duration_ms(value, num_r);
	else
		ret = str_to_uint64(value, num_r);
	if (ret < 0) {
		*error_r = t_strdup_printf("invalid %s '%s' for %s",
					   type_names[def->type], value,
					   dotted_key);
		return -1;
	}
	if (*num_r < def->min) {
		*error_r = t_strdup_printf("value '%s' for %s is below the minimum %s",
					   value, dotted_key,
					   setting_format_number(def, def->min));
		return -1;
	}
	if (*num_r > setting_max(def)) {
		*error_r = t_strdup_printf("value '%s' for %s is above the maximum %s",
					   value, dotted_key,
					   setting_format_number(def, setting_max(def)));
		return -1;
	}
	return 0;
}

static int setting_parse_bool(const char *value, const char *dotted_key,
			      bool *bool_r, const char **error_r)
{
	if (strcasecmp(value, "yes") == 0)
		*bool_r = true;
	else if (strcasecmp(value, "no") == 0)
		*bool_r = false;
	else {
		*error_r = t_strdup_printf("invalid boolean '%s' for %s "
					   "(expected yes or no)",
					   value, dotted_key);
		return -1;
	}
	return 0;
}

int setting_parse(const struct setting_def *def, void *target, pool_t pool,
		  const char *dotted_key, const char *value,
		  const char **error_r)
{
	void *field = (char *)target + def->offset;
	const char *error;
	uint64_t num;
	int idx;

	if (def->check != NULL && def->check(value, &error) < 0) {
		*error_r = t_strdup_printf("invalid value '%s' for %s: %s",
					   value, dotted_key, error);
		return -1;
	}
	switch (def->type) {
	case SETTING_TYPE_STRING:
	case SETTING_TYPE_PATH:
		*(const char **)field = p_strdup(pool, value);
		return 0;
	case SETTING_TYPE_BOOL:
		return setting_parse_bool(value, dotted_key, field, error_r);
	case SETTING_TYPE_UINT:
	case SETTING_TYPE_DURATION:
		if (setting_parse_number(def, value, dotted_key, &num, error_r) < 0)
			return -1;
		*(unsigned int *)field = (unsigned int)num;
		return 0;
	case SETTING_TYPE_SIZE:
		return setting_parse_number(def, value, dotted_key, field, error_r);
	case SETTING_TYPE_ENUM:
	case SETTING_TYPE_ENUM_INDEX:
		if (setting_parse_enum(def, value, dotted_key, &idx, error_r) < 0)
			return -1;
		if (def->type == SETTING_TYPE_ENUM)
			*(const char **)field = def->values[idx];
		else
			*(int *)field = idx;
		return 0;
	}
	i_unreached();
}

void setting_apply_defaults(const struct setting_def *defs, void *target,
			    pool_t pool)
{
	const char *error;

	for (unsigned int i = 0; defs[i].key != NULL; i++) {
		if (defs[i].default_value == NULL)
			continue;
		if (setting_parse(&defs[i], target, pool, defs[i].key,
				  defs[i].default_value, &error) < 0)
			i_panic("bad default in settings table: %s", error);
	}
}

static const char *setting_format_path(const char *path, const char *base_dir)
{
	size_t len;

	if (base_dir == NULL)
		return path;
	len = strlen(base_dir);
	if (len > 0 && base_dir[len - 1] == '/')
		len--;
	if (strncmp(path, base_dir, len) == 0 && path[len] == '/' &&
	    path[len + 1] != '\0')
		return path + len + 1;
	return path;
}

const char *setting_format(const struct setting_def *def, const void *target,
			   const char *base_dir)
{
	const void *field = (const char *)target + def->offset;
	const char *str;

	switch (def->type) {
	case SETTING_TYPE_STRING:
	case SETTING_TYPE_ENUM:
		str = *(const char *const *)field;
		return str == NULL ? "" : str;
	case SETTING_TYPE_PATH:
		str = *(const char *const *)field;
		return str == NULL ? "" : setting_format_path(str, base_dir);
	case SETTING_TYPE_BOOL:
		return *(const bool *)field ? "yes" : "no";
	case SETTING_TYPE_UINT:
		return t_strdup_printf("%u", *(const unsigned int *)field);
	case SETTING_TYPE_DURATION:
		return str_format_duration_ms(*(const unsigned int *)field);
	case SETTING_TYPE_SIZE:
		return str_format_size(*(const uint64_t *)field);
	case SETTING_TYPE_ENUM_INDEX:
		return def->values[*(const int *)field];
	}
	i_unreached();
}

const char *setting_type_describe(const struct setting_def *def)
{
	static const char *const names[] = {
		[SETTING_TYPE_STRING] = "string",
		[SETTING_TYPE_PATH] = "path",
		[SETTING_TYPE_BOOL] = "yes/no",
		[SETTING_TYPE_UINT] = "number",
		[SETTING_TYPE_SIZE] = "size",
		[SETTING_TYPE_DURATION] = "duration",
	};
	string_t *str;

	if (def->type == SETTING_TYPE_ENUM || def->type == SETTING_TYPE_ENUM_INDEX) {
		str = t_str_new(64);
		str_append(str, "one of");
		for (unsigned int i = 0; def->values[i] != NULL; i++)
			str_printfa(str, "%s `%s`", i == 0 ? "" : ",", def->values[i]);
		return str_c(str);
	}
	if (def->type == SETTING_TYPE_UINT)
		return t_strdup_printf("number %llu–%llu",
				       (unsigned long long)def->min,
				       (unsigned long long)setting_max(def));
	if (def->min != 0)
		return t_strdup_printf("%s (at least %s)", names[def->type],
				       setting_format_number(def, def->min));
	return names[def->type];
}
