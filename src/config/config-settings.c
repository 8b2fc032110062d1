/* The settings tables of every config block, the embedded default, and the
 * typed parsing and formatting of one setting value. */
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

static int check_not_empty(const char *value, const char **error_r)
{
	if (value[0] != '\0')
		return 0;
	*error_r = "must not be empty";
	return -1;
}

const struct setting_def tern_setting_defs[] = {
	{ .key = "base_dir", .type = SETTING_TYPE_PATH,
	  DEF(tern_settings, base_dir), .default_value = "./var",
	  .check = check_not_empty,
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
	  .check = check_not_empty,
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

/* lmtp.detail_delimiter: printable ASCII that can't be part of a domain
   or break an address apart */
static int check_detail_delimiter(const char *value, const char **error_r)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || strchr("@<>\"\\", *p) != NULL) {
			*error_r = "expected printable characters other than @ < > \" \\";
			return -1;
		}
	}
	return 0;
}

/* quota.default_rule: "" or "*:storage=SIZE" / "*:messages=N" (more
   rules separated by spaces) */
static int check_quota_rule(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
		uint64_t num;
		if (strncmp(tok, "*:storage=", 10) == 0 && str_parse_size(tok + 10, &num) == 0)
			continue;
		if (strncmp(tok, "*:messages=", 11) == 0 && str_to_uint64(tok + 11, &num) == 0)
			continue;
		*error_r = "expected *:storage=SIZE or *:messages=N";
		return -1;
	}
	return 0;
}

/* sieve.spamtest_status_header and the like: "" or "Header-Name" with
   an optional ": regex" (POSIX extended) */
static int check_status_header(const char *value, const char **error_r)
{
	const char *colon = strchr(value, ':');
	size_t len = colon == NULL ? strlen(value) : (size_t)(colon - value);
	for (size_t i = 0; i < len; i++) {
		if (value[i] <= ' ' || value[i] > '~') {
			*error_r = "expected a header name, optionally followed by ': regex'";
			return -1;
		}
	}
	if (colon == NULL)
		return 0;
	if (len == 0) {
		*error_r = "the header name is missing before ':'";
		return -1;
	}
	const char *re = colon + 1;
	while (*re == ' ' || *re == '\t')
		re++;
	regex_t preg;
	if (regcomp(&preg, re, REG_EXTENDED) != 0) {
		*error_r = "invalid regular expression";
		return -1;
	}
	regfree(&preg);
	return 0;
}

/* sieve.spamtest_max_value: "" or a positive decimal number */
static int check_decimal(const char *value, const char **error_r)
{
	char *end;
	if (value[0] == '\0')
		return 0;
	double d = strtod(value, &end);
	if (*end != '\0' || !(d > 0)) {
		*error_r = "expected a positive number";
		return -1;
	}
	return 0;
}

/* sieve.spamtest_text_values: "N:text" items separated by commas */
static int check_text_values(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
		char *end;
		while (*tok == ' ')
			tok++;
		long n = strtol(tok, &end, 10);
		if (end == tok || *end != ':' || n < 1 || n > 10) {
			*error_r = "expected N:text items (N 1-10) separated by commas";
			return -1;
		}
	}
	return 0;
}

/* imapsieve_mailbox.causes: APPEND, COPY and FLAG */
static int check_imapsieve_causes(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, " ,"); tok != NULL; tok = strtok(NULL, " ,")) {
		if (strcasecmp(tok, "APPEND") != 0 && strcasecmp(tok, "COPY") != 0 &&
		    strcasecmp(tok, "FLAG") != 0) {
			*error_r = "expected APPEND, COPY and/or FLAG";
			return -1;
		}
	}
	return 0;
}

static const struct setting_def lmtp_setting_defs[] = {
	{ .key = "max_message_size", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, max_message_size), .default_value = "50M",
	  .min = 1024,
	  .description = "Largest message accepted (advertised as SIZE, "
		"RFC 1870); bigger ones get 552 5.3.4 for every recipient." },
	{ .key = "max_recipients", .type = SETTING_TYPE_UINT,
	  DEF(lmtp_settings, max_recipients), .default_value = "50",
	  .min = 1, .max = 10000,
	  .description = "Recipients per transaction; more get 452 4.5.3 "
		"and the MTA sends them in a new transaction." },
	{ .key = "delivered_to", .type = SETTING_TYPE_BOOL,
	  DEF(lmtp_settings, delivered_to), .default_value = "yes",
	  .description = "Add a Delivered-To: header with the recipient's "
		"address to each stored copy (MTAs use it to detect loops)." },
	{ .key = "detail_delimiter", .type = SETTING_TYPE_STRING,
	  DEF(lmtp_settings, detail_delimiter), .default_value = "+",
	  .check = check_detail_delimiter,
	  .description = "Characters that separate a local part from its "
		"detail (user+detail@domain): any one of them, the first "
		"found, as Dovecot's recipient_delimiter. Empty: no detail "
		"addressing. Also used by tern-lda -a." },
	{ .key = "detail_to_mailbox", .type = SETTING_TYPE_BOOL,
	  DEF(lmtp_settings, detail_to_mailbox), .default_value = "yes",
	  .description = "Deliver user+detail@domain into the mailbox named "
		"detail when it exists (else INBOX), unless a Sieve script "
		"decides otherwise." },
	{ .key = "hostname", .type = SETTING_TYPE_STRING,
	  DEF(lmtp_settings, hostname), .default_value = "",
	  .description = "Name in the greeting, Received: headers and "
		"rejection messages; empty: the system's host name." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(lmtp_settings, idle_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Close a session idle this long with 421 4.4.2 "
		"(RFC 5321 §4.5.3.2.7 asks for 5 minutes)." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(lmtp_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Close a session whose client doesn't read its "
		"replies for this long." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, output_buffer_limit), .default_value = "64k",
	  .min = 1024,
	  .description = "Replies buffered for a client before the session "
		"stops reading commands until the client reads." },
	{ .key = "spool_memory_limit", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, spool_memory_limit), .default_value = "128k",
	  .min = 0, .max = 64 * 1024 * 1024,
	  .description = "A message is held in memory up to this size, "
		"then in an unlinked temporary file under base_dir." },
	{ .key = NULL }
};

static const struct setting_def sieve_setting_defs[] = {
	{ .key = "script_dir", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, script_dir), .default_value = "%h/sieve",
	  .check = check_not_empty,
	  .description = "Directory of a user's Sieve scripts, one NAME.sieve "
		"file each (Pigeonhole's layout). %h is the user's home, %u "
		"the login name, %n its local part, %d its domain; a relative "
		"path is taken under the home." },
	{ .key = "script", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, script), .default_value = "%h/.dovecot.sieve",
	  .check = check_not_empty,
	  .description = "The active script: a symlink to one file of "
		"script_dir, which ManageSieve SETACTIVE replaces. A regular "
		"file here is run at delivery too; activating a script moves "
		"it into script_dir as dovecot.orig, as Pigeonhole does." },
	{ .key = "before", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, before), .default_value = "",
	  .description = "Administrator script run before the user's: a "
		"file, or a directory whose *.sieve files run in name order. "
		"The next script runs only while the message is still kept "
		"(no fileinto, redirect or discard cancelled the keep)." },
	{ .key = "after", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, after), .default_value = "",
	  .description = "Administrator script run after the user's, on the "
		"same terms as before." },
	{ .key = "quota_max_scripts", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, quota_max_scripts), .default_value = "0",
	  .max = 1000000,
	  .description = "Scripts a user may store (0: no limit); beyond it "
		"PUTSCRIPT answers NO (QUOTA/MAXSCRIPTS)." },
	{ .key = "quota_max_storage", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, quota_max_storage), .default_value = "0",
	  .description = "Total size of a user's scripts (0: no limit); "
		"beyond it PUTSCRIPT answers NO (QUOTA)." },
	{ .key = "max_script_size", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, max_script_size), .default_value = "1M",
	  .min = 1024, .max = 16 * 1024 * 1024,
	  .description = "Largest script: a larger one is not run at "
		"delivery (the message is kept and the error logged), and "
		"ManageSieve refuses it with NO (QUOTA/MAXSIZE) and limits "
		"literals to it." },
	{ .key = "max_cpu_time", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, max_cpu_time_ms), .default_value = "30s",
	  .min = 10,
	  .description = "CPU time a script may use on one message. A script "
		"that used more is treated as failed (its actions are "
		"dropped, the message is kept) and is not run again until "
		"the file changes." },
	{ .key = "max_redirects", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, max_redirects), .default_value = "4",
	  .min = 0, .max = 64,
	  .description = "Redirect actions one script may cause; more is a "
		"runtime error (the message is kept). Advertised as "
		"ManageSieve MAXREDIRECTS." },
	{ .key = "max_actions", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, max_actions), .default_value = "32",
	  .min = 1, .max = 1024,
	  .description = "Actions one script may cause." },
	{ .key = "vacation_min_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_min_period_ms), .default_value = "1d",
	  .description = "Shortest interval between two vacation replies to "
		"the same sender (RFC 5230 §4.1); shorter :days or :seconds "
		"are raised to it. 0 allows any." },
	{ .key = "vacation_max_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_max_period_ms), .default_value = "0",
	  .description = "Longest interval; longer :days are lowered to it. "
		"0: no upper bound." },
	{ .key = "vacation_default_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_default_period_ms), .default_value = "7d",
	  .min = 1000,
	  .description = "Interval when the script gives no :days." },
	{ .key = "redirect_duplicate_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, redirect_duplicate_period_ms), .default_value = "12h",
	  .description = "A message (by Message-ID) redirected to an address "
		"is not redirected there again within this time: a delivery "
		"the MTA retries, or a forwarding loop, sends it once." },
	{ .key = "user_log", .type = SETTING_TYPE_BOOL,
	  DEF(sieve_settings, user_log), .default_value = "yes",
	  .description = "Append errors of the user's script to "
		"<script>.log (at most 64 KiB) so the user can see them." },
	{ .key = "global_dir", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, global_dir), .default_value = "",
	  .description = "Directory of the scripts that `include :global "
		"\"NAME\"` reads (NAME.sieve, RFC 6609). Empty: :global "
		"includes find nothing." },
	{ .key = "spamtest_status_type", .type = SETTING_TYPE_ENUM,
	  DEF(sieve_settings, spamtest_status_type), .default_value = "score",
	  .values = (const char *const[]){ "score", "strlen", "text", NULL },
	  .description = "How spamtest (RFC 5235) reads the value that "
		"spamtest_status_header finds: score, a number scaled by "
		"the maximum onto 1-10; strlen, the value's length (\"*****\") "
		"scaled the same way; text, looked up in "
		"spamtest_text_values." },
	{ .key = "spamtest_status_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_status_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header holding the spam verdict, optionally "
		"with a POSIX extended regular expression whose first group "
		"(or whole match) is the value: `X-Spam-Score: "
		"^(-?[0-9.]+)`. Empty: spamtest always finds \"0\" (not "
		"tested). A message without the header, or whose value "
		"doesn't match, is \"0\" too." },
	{ .key = "spamtest_max_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_max_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header (and regex) holding the score that "
		"counts as certainly spam (score and strlen types), e.g. "
		"`X-Spam-Status: required=([0-9.]+)`; used before "
		"spamtest_max_value." },
	{ .key = "spamtest_max_value", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_max_value), .default_value = "",
	  .check = check_decimal,
	  .description = "The score (or string length) that counts as "
		"certainly spam when spamtest_max_header gives none. Empty: "
		"10." },
	{ .key = "spamtest_text_values", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_text_values), .default_value = "",
	  .check = check_text_values,
	  .description = "For status type text: `N:text` items separated by "
		"commas; a value equal to text (case-insensitively) is "
		"spamtest value N (1 not spam ... 10 spam), e.g. `1:No, "
		"10:Yes`." },
	{ .key = "virustest_status_type", .type = SETTING_TYPE_ENUM,
	  DEF(sieve_settings, virustest_status_type), .default_value = "score",
	  .values = (const char *const[]){ "score", "strlen", "text", NULL },
	  .description = "The same as spamtest_status_type for virustest "
		"(values 1 clean ... 5 infected)." },
	{ .key = "virustest_status_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_status_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header (and regex) of the virus verdict. "
		"Empty: virustest always finds \"0\"." },
	{ .key = "virustest_max_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_max_header), .default_value = "",
	  .check = check_status_header,
	  .description = "As spamtest_max_header, for virustest." },
	{ .key = "virustest_max_value", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_max_value), .default_value = "",
	  .check = check_decimal,
	  .description = "As spamtest_max_value, for virustest. Empty: 5." },
	{ .key = "virustest_text_values", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_text_values), .default_value = "",
	  .check = check_text_values,
	  .description = "As spamtest_text_values, with N from 1 (clean) to "
		"5 (infected)." },
	{ .key = "editheader_protected", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_protected), .default_value = "",
	  .description = "Header fields (names separated by spaces) that "
		"editheader's addheader and deleteheader (RFC 5293) may "
		"neither add nor delete; such edits are ignored. Subject is "
		"always editable; Received and Auto-Submitted are never "
		"deleted. Invalid names are ignored." },
	{ .key = "editheader_forbid_add", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_forbid_add), .default_value = "",
	  .description = "Header fields addheader may not add." },
	{ .key = "editheader_forbid_delete", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_forbid_delete), .default_value = "",
	  .description = "Header fields deleteheader may not delete." },
	{ .key = "editheader_max_header_size", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, editheader_max_header_size), .default_value = "8k",
	  .min = 1024, .max = 1024 * 1024,
	  .description = "Largest header field (name and value) addheader "
		"may add; a larger constant one is a compile error, a larger "
		"computed one a runtime error (the message is kept)." },
	{ .key = NULL }
};

static const struct setting_def imapsieve_setting_defs[] = {
	{ .key = "url", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_settings, url), .default_value = "",
	  .description = "The ManageSieve server of this IMAP server, "
		"`sieve://host[:port]`, advertised as IMAPSIEVE= (RFC 6785 "
		"§2.1). Set, the users' own scripts named by the METADATA "
		"entry /shared/imapsieve/script run on IMAP events (needs "
		"imap.metadata). Empty: only imapsieve_mailbox scripts run "
		"and nothing is advertised." },
	{ .key = "expunge_discarded", .type = SETTING_TYPE_BOOL,
	  DEF(imapsieve_settings, expunge_discarded), .default_value = "no",
	  .description = "A message whose keep a script cancelled "
		"(discard, fileinto, redirect) is expunged at once (as a "
		"UID EXPUNGE of it alone) rather than only flagged \\Deleted "
		"(RFC 6785 §2.2.4)." },
	{ .key = NULL }
};

static const struct setting_def imapsieve_mailbox_setting_defs[] = {
	{ .key = "name", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, name), .default_value = "",
	  .description = "The mailboxes the block applies to: a name, with "
		"`*` for any characters and `?` for one (`*` alone: every "
		"mailbox). Empty: the block is not used." },
	{ .key = "causes", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, causes), .default_value = "APPEND COPY",
	  .check = check_imapsieve_causes,
	  .description = "The IMAP events that run the scripts: APPEND, "
		"COPY (MOVE too) and FLAG (a STORE that changed flags), "
		"separated by spaces." },
	{ .key = "from", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, from), .default_value = "*",
	  .description = "For COPY: the mailbox the messages came from, a "
		"pattern like name (`*`: any)." },
	{ .key = "before", .type = SETTING_TYPE_PATH,
	  DEF(imapsieve_mailbox_settings, before), .default_value = "",
	  .description = "Script run before the user's own (a file, or a "
		"directory whose *.sieve files run in name order)." },
	{ .key = "after", .type = SETTING_TYPE_PATH,
	  DEF(imapsieve_mailbox_settings, after), .default_value = "",
	  .description = "Script run after the user's own, while the "
		"message is still kept." },
	{ .key = NULL }
};

static const struct setting_def submission_setting_defs[] = {
	{ .key = "host", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, host), .default_value = "",
	  .description = "host:port of the SMTP server (usually the local "
		"MTA, plain SMTP) that redirects, vacation replies and "
		"rejection messages are sent through. Empty: sendmail_path." },
	{ .key = "sendmail_path", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, sendmail_path),
	  .default_value = "/usr/sbin/sendmail",
	  .description = "Program run as `sendmail_path -i -f SENDER -- "
		"RCPT` with the message on its input, when host is empty." },
	{ .key = "timeout", .type = SETTING_TYPE_DURATION,
	  DEF(submission_settings, timeout_ms), .default_value = "30s",
	  .min = 100,
	  .description = "Time allowed per SMTP reply, or for sendmail to "
		"finish; past it the submission failed temporarily." },
	{ .key = "redirect_sender", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, redirect_sender), .default_value = "",
	  .description = "Envelope sender of redirected messages: empty "
		"keeps the original sender (the redirect is transparent); an "
		"address replaces it (for SPF-strict relays)." },
	{ .key = "postmaster_address", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, postmaster_address), .default_value = "",
	  .description = "From: of rejection messages (Sieve reject); "
		"empty: postmaster@ the LMTP host name." },
	{ .key = NULL }
};

static const struct setting_def quota_setting_defs[] = {
	{ .key = "default_rule", .type = SETTING_TYPE_STRING,
	  DEF(quota_settings, default_rule), .default_value = "",
	  .check = check_quota_rule,
	  .description = "Limit for users whose userdb entry has no "
		"quota_rule field: *:storage=SIZE and/or *:messages=N "
		"separated by spaces; *:storage=0 means none. Empty: no "
		"limit. Checked at delivery only (LMTP RCPT and DATA, "
		"tern-lda)." },
	{ .key = "full_tempfail", .type = SETTING_TYPE_BOOL,
	  DEF(quota_settings, full_tempfail), .default_value = "yes",
	  .description = "Over quota is a temporary failure (452 4.2.2, "
		"tern-lda exit 75: the MTA retries) rather than a permanent "
		"one (552 5.2.2, exit 77: the sender gets a bounce)." },
	{ .key = NULL }
};

static const struct setting_def managesieve_setting_defs[] = {
	{ .key = "max_line_length", .type = SETTING_TYPE_SIZE,
	  DEF(managesieve_settings, max_line_length), .default_value = "8k",
	  .min = 1024, .max = 1024 * 1024,
	  .description = "Longest command line a client may send, literal "
		"contents not counted; a longer one is answered with NO and "
		"skipped." },
	{ .key = "login_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, login_timeout_ms), .default_value = "1m",
	  .min = 1000,
	  .description = "Disconnect a client that is idle this long before "
		"logging in." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, idle_timeout_ms), .default_value = "30m",
	  .min = 1000,
	  .description = "Disconnect a logged-in client that is idle this "
		"long." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(managesieve_settings, output_buffer_limit), .default_value = "256k",
	  .min = 1024,
	  .description = "Output buffered for a client before the server "
		"stops reading its commands until it reads." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Disconnect a client that does not read its pending "
		"output for this long." },
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

static int imapsieve_mailbox_label_check(const char *label, const char **error_r)
{
	for (const char *p = label; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			*error_r = t_strdup_printf(
				"invalid imapsieve_mailbox name '%s' (letters, "
				"digits, '_' and '-' only)", label);
			return -1;
		}
	}
	return 0;
}

static void *imapsieve_mailbox_item_add(struct tern_settings *set, pool_t pool,
					const char *label)
{
	struct imapsieve_mailbox_settings *mb =
		p_new(pool, struct imapsieve_mailbox_settings, 1);
	mb->label = p_strdup(pool, label);
	if (!array_is_created(&set->imapsieve_mailboxes))
		array_init(&set->imapsieve_mailboxes, pool, 4);
	array_push(&set->imapsieve_mailboxes, mb);
	return mb;
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

static const struct config_block_def config_block_lmtp = {
	.name = "lmtp",
	.defs = lmtp_setting_defs,
	.offset = offsetof(struct tern_settings, lmtp),
	.description = "LMTP delivery sessions: limits, timeouts, headers "
		"and +detail addressing (docs/lmtp.md).",
};

static const struct config_block_def config_block_sieve = {
	.name = "sieve",
	.defs = sieve_setting_defs,
	.offset = offsetof(struct tern_settings, sieve),
	.description = "Users' Sieve scripts: where they are stored "
		"(docs/managesieve.md), how they run at delivery (LMTP and "
		"tern-lda), their limits and vacation periods.",
};

static const struct config_block_def config_block_submission = {
	.name = "submission",
	.defs = submission_setting_defs,
	.offset = offsetof(struct tern_settings, submission),
	.description = "How delivery sends mail: redirects, vacation "
		"replies and rejection messages.",
};

static const struct config_block_def config_block_quota = {
	.name = "quota",
	.defs = quota_setting_defs,
	.offset = offsetof(struct tern_settings, quota),
	.description = "The storage limit checked at delivery.",
};

static const struct config_block_def config_block_managesieve = {
	.name = "managesieve",
	.defs = managesieve_setting_defs,
	.offset = offsetof(struct tern_settings, managesieve),
	.description = "ManageSieve sessions (RFC 5804): limits and timeouts.",
};

static const struct config_block_def config_block_imapsieve = {
	.name = "imapsieve",
	.defs = imapsieve_setting_defs,
	.offset = offsetof(struct tern_settings, imapsieve),
	.description = "Sieve scripts run on IMAP events (RFC 6785, "
		"docs/imapsieve.md): the users' own, named by METADATA.",
};

const struct config_block_def config_block_imapsieve_mailbox = {
	.name = "imapsieve_mailbox",
	.defs = imapsieve_mailbox_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct imapsieve_mailbox_settings),
	.label_check = imapsieve_mailbox_label_check,
	.item_add = imapsieve_mailbox_item_add,
	.description = "Administrator scripts run on IMAP events in the "
		"mailboxes matching name, e.g. a report to the spam filter "
		"when a message is moved to Junk (docs/imapsieve.md). NAME "
		"is any name made of letters, digits, '_' and '-'; the "
		"scripts of every matching block run, in config order.",
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
	&config_block_lmtp, &config_block_sieve, &config_block_submission,
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
	"service lmtp {\n}\n"
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
