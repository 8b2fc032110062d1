/* Tern configuration: loading tern.conf (blocks, includes, dotted keys,
 * command-line overrides) on top of the embedded defaults into typed
 * per-component settings structs. The file format and every setting are
 * described in docs/configuration.md. */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H

#include "array.h"
#include "buffer.h"

/* Limits on untrusted-ish input: a config may come from an include
   directory that other people can write to, and the fuzzer feeds it
   arbitrary bytes. */
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)
#define CONFIG_MAX_LINE_LENGTH (64 * 1024)
/* nested include statements (a includes b includes c ...) */
#define CONFIG_MAX_INCLUDE_DEPTH 16
/* files read in one load, and their total size */
#define CONFIG_MAX_FILES 1024
#define CONFIG_MAX_TOTAL_SIZE (16 * 1024 * 1024)
/* nested blocks; today's schema uses one level */
#define CONFIG_MAX_BLOCK_DEPTH 4
#define CONFIG_MAX_LISTENERS 1024
#define CONFIG_MAX_LABEL_LENGTH 64

/* All durations are in milliseconds, sizes in bytes. Strings are never
   NULL (possibly ""); enums are validated and point to static strings. */
struct tls_settings {
	const char *cert_file;
	const char *key_file;
	const char *min_protocol; /* "TLSv1.2" or "TLSv1.3" */
	const char *ciphers;
	const char *cipher_suites;
	bool prefer_server_ciphers;
	bool generate_self_signed;
	/* a second default certificate of another key type, "" = none */
	const char *alt_cert_file;
	const char *alt_key_file;
	const char *groups; /* "" = OpenSSL's default */
	unsigned int session_timeout_ms; /* 0: no resumption */
	const char *verify_client; /* TLS_VERIFY_CLIENT_VALUE_* */
	const char *client_ca_file;
	const char *crl_file;
	const char *cert_username_field; /* TLS_CERT_USERNAME_FIELD_* */
};

/* tls.verify_client values */
#define TLS_VERIFY_CLIENT_VALUE_NO "no"
#define TLS_VERIFY_CLIENT_VALUE_OPTIONAL "optional"
#define TLS_VERIFY_CLIENT_VALUE_REQUIRED "required"
/* tls.cert_username_field values */
#define TLS_CERT_USERNAME_FIELD_CN "commonName"
#define TLS_CERT_USERNAME_FIELD_EMAIL "emailAddress"
#define TLS_CERT_USERNAME_FIELD_SAN_EMAIL "subjectAltName-email"

/* certificate NAME { }: a certificate chosen by the client's server name
   (SNI) instead of tls.cert_file */
struct tls_certificate_settings {
	const char *name;
	const char *server_names; /* separated by spaces, "*.domain" allowed */
	const char *cert_file;
	const char *key_file;
	const char *alt_cert_file;
	const char *alt_key_file;
};

struct auth_settings {
	const char *passwd_file;
	/* "user*master" logins (""): the separator between the user to log in
	   as and the master user who authenticates */
	const char *master_user_separator;
	/* appended as "@domain" to login names without one ("": none) */
	const char *default_domain;
	const char *mechanisms;
	const char *default_scheme;
	unsigned int failure_delay_ms;
	/* brute-force penalty (auth-penalty.h): the failure delay doubles
	   per failure up to failure_delay_max; networks and users with too
	   many failures are refused for penalty_refuse_time */
	unsigned int failure_delay_max_ms;
	unsigned int penalty_network_failures;
	unsigned int penalty_user_failures;
	unsigned int penalty_refuse_time_ms;
	unsigned int penalty_ipv6_prefix;
	/* credential cache (auth-cache.h); cache_size 0: off */
	uint64_t cache_size;
	unsigned int cache_ttl_ms;
	unsigned int cache_negative_ttl_ms;
	bool allow_insecure_plaintext;
	/* OAUTHBEARER and XOAUTH2 token validation ("": not set) */
	const char *oauth2_jwt_keys_dir;
	const char *oauth2_jwt_secret_file;
	const char *oauth2_introspection_url;
	const char *oauth2_username_claim;
	const char *oauth2_issuer;
	const char *oauth2_audience;
	unsigned int oauth2_timeout_ms;
};

/* passdb NAME { } and userdb NAME { }: one backend each, tried in the
   order they appear. Driver-specific settings are prefixed by the driver;
   templates take %u (user), %n (local part), %d (domain), %s (service),
   %r (remote IP) and %l (local IP). */
struct auth_db_settings {
	const char *name;
	const char *driver; /* passwd-file, static, pam, sql, ldap */
	const char *args;   /* passwd-file path, static fields, pam service */
	bool master;        /* passdb of master users */
	const char *username_format; /* template of the name looked up */
	const char *default_password_scheme; /* for hashes without {SCHEME} */
	/* sql */
	const char *sql_driver; /* sqlite or pgsql */
	const char *sql_connect;
	const char *sql_password_query;
	const char *sql_user_query;
	const char *sql_iterate_query;
	/* ldap */
	const char *ldap_uris;
	const char *ldap_bind_dn;
	const char *ldap_bind_password;
	const char *ldap_base;
	const char *ldap_scope; /* base, onelevel or subtree */
	const char *ldap_filter;
	bool ldap_auth_bind;
	const char *ldap_auth_bind_dn_format;
	const char *ldap_pass_attrs;
	const char *ldap_user_attrs;
	bool ldap_starttls;
	unsigned int ldap_timeout_ms;
};

struct imap_settings {
	uint64_t max_line_length;
	uint64_t max_literal_size;
	unsigned int login_timeout_ms;
	unsigned int idle_timeout_ms;
	uint64_t output_buffer_limit;
	unsigned int output_timeout_ms;
	/* RFC 5464 METADATA, METADATA-SERVER: on/off, the server's
	   /shared/admin (""), and the limits on entries */
	bool metadata;
	const char *metadata_admin;
	uint64_t metadata_max_value_size;
	unsigned int metadata_max_entries;
	unsigned int metadata_max_user_entries;
	uint64_t metadata_max_user_size;
	const char *capability_add;
	const char *capability_remove;
	/* RFC 9738 MESSAGELIMIT / SAVELIMIT: messages one command may
	   process / save (0: no limit, not advertised) */
	unsigned int message_limit;
	unsigned int save_limit;
	/* RFC 9585 INPROGRESS: time between progress responses of a long
	   command (0: none) */
	unsigned int progress_interval_ms;
	/* RFC 4467 URLAUTH: host names of this server in URLs (space
	   separated, "" = any) and the users that may fetch "submit+"
	   URLs (the submission server's logins) */
	const char *urlauth_hosts;
	const char *urlauth_submit_users;
};

/* delete_mode values */
#define POP3_DELETE_MODE_EXPUNGE "expunge"
#define POP3_DELETE_MODE_KEEP_FLAG "keep-flag"

struct pop3_settings {
	uint64_t max_line_length;
	unsigned int login_timeout_ms;
	unsigned int idle_timeout_ms;
	uint64_t output_buffer_limit;
	unsigned int output_timeout_ms;
	/* template: %u UID, %v UIDVALIDITY, %g GUID; "%08Xu": hex, 8 wide */
	const char *uidl_format;
	const char *delete_mode; /* POP3_DELETE_MODE_* */
	bool retr_sets_seen;
	unsigned int login_delay_ms; /* 0: none */
	bool lock; /* one POP3 session per maildrop at a time */
};

/* A user's Sieve scripts (src/sieve-storage, docs/managesieve.md) */
/* ManageSieve sessions (RFC 5804) */
struct managesieve_settings {
	uint64_t max_line_length;
	unsigned int login_timeout_ms;
	unsigned int idle_timeout_ms;
	uint64_t output_buffer_limit;
	unsigned int output_timeout_ms;
};

struct mail_settings {
	const char *home;   /* template: %u user, %n local part, %d domain */
	const char *driver; /* "maildir" */
	bool create_special_folders;
	/* render the message cache while saving (APPEND, LMTP) */
	bool cache_at_save;
	/* add saved messages to the full-text index in the save */
	bool index_text_at_save;
	/* MIME parsing bounds for message structure (struct
	   mime_parser_limits); past them a message is served in its
	   degraded, still RFC-compliant form */
	unsigned int mime_max_depth;
	unsigned int mime_max_parts;
	uint64_t mime_max_header_size;
};

/* lmtp { }: the LMTP delivery server (docs/lmtp.md) */
struct lmtp_settings {
	uint64_t max_message_size;
	unsigned int max_recipients;
	bool delivered_to;      /* add Delivered-To: per recipient */
	/* characters that start the +detail of a local part (any one of
	   them, Dovecot's recipient_delimiter); "": no detail addressing */
	const char *detail_delimiter;
	bool detail_to_mailbox; /* +detail selects an existing mailbox */
	const char *hostname;   /* "": the system's host name */
	unsigned int idle_timeout_ms, output_timeout_ms;
	uint64_t output_buffer_limit;
	uint64_t spool_memory_limit;
};

/* indexer { }: the background full-text indexer of delivered mail
   (src/indexer, docs/lmtp.md "Background text indexing") */
struct indexer_settings {
	bool enabled;
	unsigned int delay_ms;     /* quiet time after a user's last delivery */
	unsigned int max_delay_ms; /* longest wait of a delivered message */
	unsigned int max_queued;   /* messages waiting, over all users */
	unsigned int nice;         /* scheduling priority, 0..19 */
};

/* sieve { }: Sieve at delivery (docs/lmtp.md, docs/sieve.md) */
struct sieve_settings {
	/* the user's active script and the ManageSieve script directory:
	   templates with %h (home) and %u (user) */
	const char *script;
	const char *script_dir;
	/* administrator scripts (a file, or a directory of *.sieve run in
	   name order), "": none */
	const char *before;
	const char *after;
	/* ManageSieve storage limits, 0: none */
	unsigned int quota_max_scripts;
	uint64_t quota_max_storage;
	uint64_t max_script_size;
	unsigned int max_cpu_time_ms;
	unsigned int max_redirects;
	unsigned int max_actions;
	/* RFC 5230 §4.1 :days bounds (max 0: none) and default, RFC 6131
	   :seconds too */
	unsigned int vacation_min_period_ms;
	unsigned int vacation_max_period_ms;
	unsigned int vacation_default_period_ms;
	/* a redirected message is not redirected again to the same address
	   within this time (a retried delivery, a loop) */
	unsigned int redirect_duplicate_period_ms;
	/* append runtime errors to "<script>.log" for the user to see */
	bool user_log;
	/* RFC 6609 include :global scripts: NAME.sieve in this directory
	   ("": none) */
	const char *global_dir;
	/* RFC 5235 spamtest/virustest: where the scanner's verdict is
	   (docs/lmtp.md "Spam and virus tests") */
	const char *spamtest_status_type; /* "score", "strlen" or "text" */
	const char *spamtest_status_header; /* "Header[: regex]", "": none */
	const char *spamtest_max_header;    /* "Header[: regex]" or "" */
	const char *spamtest_max_value;     /* decimal, or "" */
	const char *spamtest_text_values;   /* "N:text, ..." (1..10) */
	const char *virustest_status_type;
	const char *virustest_status_header;
	const char *virustest_max_header;
	const char *virustest_max_value;
	const char *virustest_text_values;  /* "N:text, ..." (1..5) */
	/* RFC 5293 editheader: header fields scripts may not change
	   (space-separated names) and the largest field addheader adds */
	const char *editheader_protected;
	const char *editheader_forbid_add;
	const char *editheader_forbid_delete;
	uint64_t editheader_max_header_size;
};

/* imapsieve { }: Sieve scripts run on IMAP events (RFC 6785,
   docs/imapsieve.md) */
struct imapsieve_settings {
	/* the ManageSieve URL advertised as IMAPSIEVE= (RFC 6785 §2.1);
	   "": the users' own scripts (METADATA /shared/imapsieve/script)
	   are not run and nothing is advertised */
	const char *url;
	/* a message whose keep the scripts cancelled is expunged, not only
	   flagged \Deleted (RFC 6785 §2.2.4) */
	bool expunge_discarded;
};

/* imapsieve_mailbox NAME { }: an administrator's scripts for IMAP events
   in the mailboxes matching name */
struct imapsieve_mailbox_settings {
	const char *label;
	const char *name;   /* mailbox name pattern: '*' any, '?' one char */
	const char *causes; /* of "APPEND COPY FLAG", space separated */
	const char *from;   /* COPY: source mailbox pattern ("*": any) */
	const char *before; /* scripts run before the user's ("": none) */
	const char *after;  /* and after it */
};

/* submission { }: where redirects, auto-replies and rejections go */
struct submission_settings {
	const char *host;          /* "host:port" over SMTP; "": sendmail */
	const char *sendmail_path; /* run as "-i -f SENDER -- RCPT" */
	unsigned int timeout_ms;
	/* envelope sender of redirects: "" keeps the original sender */
	const char *redirect_sender;
	/* From: of rejection messages; "": postmaster@<lmtp hostname> */
	const char *postmaster_address;
};

/* quota { }: the delivery-side storage limit (docs/lmtp.md) */
struct quota_settings {
	/* rule for users without a quota_rule userdb field, e.g.
	   "*:storage=1G" or "*:messages=10000"; "": no limit */
	const char *default_rule;
	/* over quota is temporary (452 4.2.2, lda exit 75) rather than
	   permanent (552 5.2.2, lda exit 77) */
	bool full_tempfail;
};

struct service_settings {
	const char *name; /* "imap", "pop3", "lmtp" or "managesieve" */
	unsigned int process_count;
	unsigned int client_limit;
	/* logged-in sessions of one user (from one address); 0: no limit */
	unsigned int max_user_connections;
	unsigned int max_userip_connections;
	/* imap/pop3: a mail worker without sessions this long exits (0:
	   never) */
	unsigned int mail_idle_timeout_ms;
};

enum listener_tls {
	LISTENER_TLS_NONE,
	LISTENER_TLS_STARTTLS,
	LISTENER_TLS_IMPLICIT,
	/* STARTTLS, and no authentication of any kind before it (Dovecot's
	   ssl = required), loopback included */
	LISTENER_TLS_REQUIRED,
};

struct listener_settings {
	const char *name;
	const char *protocol; /* "imap", "pop3", "lmtp" or "managesieve" */
	const char *address;  /* IP literal, "*" or "::" */
	unsigned int port;    /* 0 when path is used */
	const char *path;     /* Unix socket, absolute, or "" */
	enum listener_tls tls;
	bool enabled;
};

struct tern_settings {
	const char *base_dir; /* always absolute */
	const char *log_target; /* "auto", "stderr" or "syslog" */
	const char *log_level;  /* "debug", "info", "warning" or "error" */
	unsigned int shutdown_timeout_ms;
	/* login workers run as this user, chrooted to base_dir/run/login,
	   when ternd starts as root */
	const char *login_user;
	bool login_chroot;

	struct tls_settings tls;
	struct auth_settings auth;
	struct imap_settings imap;
	struct pop3_settings pop3;
	struct mail_settings mail;
	struct lmtp_settings lmtp;
	struct indexer_settings indexer;
	struct sieve_settings sieve;
	struct submission_settings submission;
	struct quota_settings quota;
	struct managesieve_settings managesieve;
	struct imapsieve_settings imapsieve;
	/* imapsieve_mailbox blocks in config order; not created while
	   empty */
	ARRAY(struct imapsieve_mailbox_settings *) imapsieve_mailboxes;

	/* all listeners, including disabled ones, in the order the embedded
	   default and then the config defined them */
	ARRAY(struct listener_settings *) listeners;
	ARRAY(struct service_settings *) services;
	/* certificate blocks in config order; not created while empty */
	ARRAY(struct tls_certificate_settings *) certificates;
	/* in the order the config defined them; both empty: auth.passwd_file
	   is the passdb and the userdb */
	ARRAY(struct auth_db_settings *) passdbs;
	ARRAY(struct auth_db_settings *) userdbs;
};

struct tern_config {
	pool_t pool;      /* everything below is allocated from it */
	/* file loaded; NULL for the embedded default and config_load_string() */
	const char *path;
	struct tern_settings *set;
};

/* Loads the embedded default, then the file at path (NULL: no file), then
   overrides: a NULL-terminated list (or NULL) of "dotted.key=value"
   strings such as "imap.max_line_length=1M" or "listener.imaps.port=1993".
   Relative paths are resolved against base_dir, base_dir against the
   current directory. Returns 0 with *config_r set, or -1 with *error_r set
   ("FILE:LINE: message"). *error_r lives in the temporary pool (t_pool()),
   so copy it before t_pool_clear(). */
int config_load(const char *path, const char *const *overrides,
		struct tern_config **config_r, const char **error_r);
/* Same, with the config text given as a string; name is used in error
   messages. Includes are resolved against the directory part of name; when
   name has no '/' the text may not use include at all, so tests and the
   fuzzer never read files by accident. */
int config_load_string(const char *text, const char *name,
		       const char *const *overrides,
		       struct tern_config **config_r, const char **error_r);
/* Frees the config and all its settings; *config becomes NULL. Accepts
   NULL. */
void config_free(struct tern_config **config);

/* Appends the settings in config-file syntax. With non_default_only, only
   the settings that differ from the embedded default (a listener or
   service block appears only when something in it differs; new listeners
   always appear). Paths under base_dir are written relative to it. Loading
   the output (with the same current directory) gives the same settings. */
void config_dump(const struct tern_config *config, bool non_default_only,
		 string_t *dest);

/* Returns the service named name ("imap", "pop3", "lmtp", "managesieve"),
   or NULL. */
const struct service_settings *
config_find_service(const struct tern_config *config, const char *name);

/* The mail home of user: userdb_home if set, else mail.home with %u
   (user), %n (local part) and %d (domain) expanded, relative results under
   base_dir. NULL when the user name can't be part of a path. Temporary
   memory. */
const char *config_mail_home(const struct tern_settings *set, const char *user,
			     const char *userdb_home);

/* Appends the Markdown reference of every setting (key, type, default,
   description) and of the embedded default. docs/configuration.md is its
   hand-written introduction followed by exactly this text. */
void config_doc_markdown(string_t *dest);

#endif
