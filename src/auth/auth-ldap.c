/* One libldap connection of the ldap passdb/userdb: opened at the first
 * operation, bound as the service account (or anonymously), reopened after
 * the server went away with an exponential back-off, plus RFC 4515 filter
 * and RFC 4514 DN value escaping. Every call is synchronous with a time
 * limit: the auth code runs it in the worker, which waits meanwhile. */
#include "auth-ldap.h"
#include "buffer.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* After a failed connect the server is not tried again for this long,
   doubled at every further failure, so a down server makes logins fail at
   once instead of each waiting for the connect timeout. */
#define AUTH_LDAP_BACKOFF_MIN_MS 500
#define AUTH_LDAP_BACKOFF_MAX_MS 30000

struct auth_ldap_conn {
	struct auth_ldap_conn_settings set;
	LDAP *ld;
	uint64_t retry_at_ms;    /* don't connect before (monotonic) */
	unsigned int backoff_ms; /* 0 while the server answers */
	char last_error[256];
};

static uint64_t auth_ldap_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval auth_ldap_timeval(unsigned int msecs)
{
	return (struct timeval){ .tv_sec = msecs / 1000,
				 .tv_usec = (suseconds_t)(msecs % 1000) * 1000 };
}

int auth_ldap_uris_check(const char *uris, const char **error_r)
{
	const char *p = uris;
	unsigned int count = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, " \t,");
		if (len > 0) {
			LDAPURLDesc *lud;
			const char *uri = t_strndup(p, len);
			if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS) {
				*error_r = t_strdup_printf("invalid LDAP URI '%s'", uri);
				return -1;
			}
			ldap_free_urldesc(lud);
			count++;
		}
		p += len;
		if (*p != '\0')
			p++;
	}
	if (count == 0) {
		*error_r = "ldap_uris is not set";
		return -1;
	}
	return 0;
}

struct auth_ldap_conn *auth_ldap_conn_create(const struct auth_ldap_conn_settings *set)
{
	struct auth_ldap_conn *conn = i_new(struct auth_ldap_conn, 1);
	conn->set = *set;
	return conn;
}

static void auth_ldap_conn_close(struct auth_ldap_conn *conn)
{
	if (conn->ld != NULL) {
		(void)ldap_unbind_ext(conn->ld, NULL, NULL);
		conn->ld = NULL;
	}
}

void auth_ldap_conn_destroy(struct auth_ldap_conn **_conn)
{
	struct auth_ldap_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	auth_ldap_conn_close(conn);
	i_free(conn);
}

/* Errors after which the connection is unusable: the server is gone, the
   connect failed or timed out, or the server says it won't serve. */
static bool auth_ldap_is_conn_error(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
		rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

/* Closes the connection and holds off the next connect. */
static void auth_ldap_conn_failed(struct auth_ldap_conn *conn, const char *error)
{
	auth_ldap_conn_close(conn);
	conn->backoff_ms = conn->backoff_ms == 0 ? AUTH_LDAP_BACKOFF_MIN_MS :
		I_MIN(conn->backoff_ms * 2, AUTH_LDAP_BACKOFF_MAX_MS);
	conn->retry_at_ms = auth_ldap_now_ms() + conn->backoff_ms;
	snprintf(conn->last_error, sizeof(conn->last_error), "%s", error);
	log_warning(NULL, "ldap_failed", "db=%s error=%s retry_ms=%u",
		    log_value(conn->set.name), log_value(error), conn->backoff_ms);
}

static void auth_ldap_conn_succeeded(struct auth_ldap_conn *conn)
{
	if (conn->backoff_ms != 0) {
		log_info(NULL, "ldap_reconnected", "db=%s", log_value(conn->set.name));
		conn->backoff_ms = 0;
	}
}

static int auth_ldap_conn_set_options(struct auth_ldap_conn *conn, const char **error_r)
{
	const int version = LDAP_VERSION3;
	struct timeval tv = auth_ldap_timeval(conn->set.timeout_ms);

	/* referrals would be chased with our credentials to another server,
	   and restarts keep a signal from failing a call */
	if (ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
		*error_r = "ldap_set_option() failed";
		return -1;
	}
	return 0;
}

static int auth_ldap_simple_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred = {
		.bv_val = (char *)password, .bv_len = strlen(password),
	};
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* Opens the connection unless it is open; with a service bind_dn, binds
   as it. Fails at once while the back-off lasts. */
static int auth_ldap_conn_connect(struct auth_ldap_conn *conn, const char **error_r)
{
	if (conn->ld != NULL)
		return 0;
	uint64_t now = auth_ldap_now_ms();
	if (now < conn->retry_at_ms) {
		*error_r = t_strdup_printf("LDAP server unavailable (%s), retrying in %u ms",
					   conn->last_error,
					   (unsigned int)(conn->retry_at_ms - now));
		return -1;
	}
	/* libldap takes the URI list separated by spaces or commas and tries
	   them in order */
	int rc = ldap_initialize(&conn->ld, conn->set.uris);
	if (rc != LDAP_SUCCESS) {
		conn->ld = NULL;
		*error_r = t_strdup_printf("ldap_initialize(%s): %s", conn->set.uris,
					   ldap_err2string(rc));
		auth_ldap_conn_failed(conn, *error_r);
		return -1;
	}
	if (auth_ldap_conn_set_options(conn, error_r) < 0) {
		auth_ldap_conn_failed(conn, *error_r);
		return -1;
	}
	if (conn->set.starttls) {
		rc = ldap_start_tls_s(conn->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			*error_r = t_strdup_printf("StartTLS failed: %s", ldap_err2string(rc));
			auth_ldap_conn_failed(conn, *error_r);
			return -1;
		}
	}
	if (conn->set.bind_dn != NULL) {
		/* "" and "" is an anonymous bind, which also checks that the
		   server answers */
		rc = auth_ldap_simple_bind(conn->ld, conn->set.bind_dn,
					   conn->set.bind_password);
		if (rc != LDAP_SUCCESS) {
			*error_r = t_strdup_printf("bind as '%s' failed: %s", conn->set.bind_dn,
						   ldap_err2string(rc));
			auth_ldap_conn_failed(conn, *error_r);
			return -1;
		}
		auth_ldap_conn_succeeded(conn);
	}
	return 0;
}

/* After an operation failed with rc: closes a dead connection, and says
   whether to try again at once (the connection had worked before, e.g. the
   server restarted since, so a fresh one may well work; not after a
   timeout, which would only double the wait for a hung server). */
static bool auth_ldap_conn_retry(struct auth_ldap_conn *conn, int rc, bool was_open,
				 unsigned int attempt, const char *error)
{
	if (!auth_ldap_is_conn_error(rc))
		return false;
	if (was_open && attempt == 0 && rc != LDAP_TIMEOUT) {
		auth_ldap_conn_close(conn);
		return true;
	}
	auth_ldap_conn_failed(conn, error);
	return false;
}

int auth_ldap_conn_search(struct auth_ldap_conn *conn, const char *base, int scope,
			  const char *filter, char **attrs, int sizelimit,
			  LDAP **ld_r, LDAPMessage **res_r, bool *truncated_r,
			  const char **error_r)
{
	struct timeval tv = auth_ldap_timeval(conn->set.timeout_ms);

	*truncated_r = false;
	for (unsigned int attempt = 0;; attempt++) {
		bool was_open = conn->ld != NULL;
		if (auth_ldap_conn_connect(conn, error_r) < 0)
			return -1;
		LDAPMessage *res = NULL;
		int rc = ldap_search_ext_s(conn->ld, base, scope, filter, attrs, 0,
					   NULL, NULL, &tv, sizelimit, &res);
		if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED ||
		    rc == LDAP_NO_SUCH_OBJECT) {
			*truncated_r = rc == LDAP_SIZELIMIT_EXCEEDED;
			*ld_r = conn->ld;
			*res_r = res;
			auth_ldap_conn_succeeded(conn);
			return 1;
		}
		if (res != NULL)
			ldap_msgfree(res);
		*error_r = t_strdup_printf("search %s in '%s' failed: %s", filter, base,
					   ldap_err2string(rc));
		if (!auth_ldap_conn_retry(conn, rc, was_open, attempt, *error_r))
			return -1;
	}
}

int auth_ldap_conn_bind(struct auth_ldap_conn *conn, const char *dn,
			const char *password, const char **error_r)
{
	/* RFC 4513 §5.1.2: a name with an empty password is an
	   unauthenticated bind, which servers answer with success */
	if (password[0] == '\0' || dn[0] == '\0')
		return 0;
	for (unsigned int attempt = 0;; attempt++) {
		bool was_open = conn->ld != NULL;
		if (auth_ldap_conn_connect(conn, error_r) < 0)
			return -1;
		int rc = auth_ldap_simple_bind(conn->ld, dn, password);
		if (rc == LDAP_SUCCESS || rc == LDAP_INVALID_CREDENTIALS) {
			auth_ldap_conn_succeeded(conn);
			return rc == LDAP_SUCCESS ? 1 : 0;
		}
		*error_r = t_strdup_printf("bind as '%s' failed: %s", dn, ldap_err2string(rc));
		if (!auth_ldap_conn_retry(conn, rc, was_open, attempt, *error_r))
			return -1;
	}
}

static const char *auth_ldap_escape(const char *value, const char *specials,
				    bool dn)
{
	size_t len = strlen(value);
	string_t *str = t_str_new(len * 3 + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		bool edge = dn && ((i == 0 && (c == ' ' || c == '#')) ||
				   (i == len - 1 && c == ' '));
		if (c < 0x20 || c >= 0x7f || strchr(specials, c) != NULL || edge)
			str_printfa(str, "\\%02x", c);
		else
			str_append_c(str, (char)c);
	}
	return str_c(str);
}

const char *auth_ldap_escape_filter(const char *value)
{
	return auth_ldap_escape(value, "*()\\", false);
}

const char *auth_ldap_escape_dn(const char *value)
{
	return auth_ldap_escape(value, "\"+,;<>\\=", true);
}
