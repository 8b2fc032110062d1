/* URLAUTH (RFC 4467): keys, tokens, access identifiers and URL owners.
 * A token is HMAC-SHA256 (RFC 2104) of the rump URL's exact bytes under
 * the mailbox access key of the URL's mailbox, written as 64 hex digits;
 * keys are per user and mailbox (by the index's mailbox id and
 * UIDVALIDITY, so a mailbox deleted and created again gets a new one)
 * and kept with mail_user_secret_get(). */
#include "imap-urlauth.h"
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define URLAUTH_TOKEN_SIZE 32 /* SHA-256 */
#define URLAUTH_KEY_PREFIX "urlauth/"

/* The userdb, opened at the first URL of another user (it re-reads
   itself when it changes on disk). */
static struct auth *urlauth_auth;
static const struct tern_settings *urlauth_auth_set;

/* True if name is one of the space-separated words of list. */
static bool urlauth_list_has(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, " ");
		if (n == len && n > 0 && strncasecmp(p, name, n) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

bool imap_urlauth_host_is_ours(struct imap_client *client, const struct imap_url *url)
{
	const char *hosts = client->set->imap.urlauth_hosts;

	if (!url->have_server)
		return true;
	return hosts[0] == '\0' || urlauth_list_has(hosts, url->host);
}

/* The key name of a mailbox: its index id and UIDVALIDITY. Returns 1, 0
   if the mailbox doesn't exist (or has another UIDVALIDITY than the URL
   asks for), -1 on a storage error. */
static int urlauth_key_name(struct mail_user *user, const char *mailbox, uint32_t uidvalidity,
			    const char **name_r)
{
	struct mailbox_status status;
	const char *text;

	if (mailbox_get_status(user, mailbox, STATUS_UIDVALIDITY, t_pool(), &status) < 0)
		return mail_user_get_error(user, &text) == MAIL_ERROR_NOTFOUND ? 0 : -1;
	if (uidvalidity != 0 && uidvalidity != status.uidvalidity)
		return 0;
	*name_r = t_strdup_printf(URLAUTH_KEY_PREFIX "%lld/%u", (long long)status.mailbox_id,
				  status.uidvalidity);
	return 1;
}

static void urlauth_hmac(const unsigned char key[MAIL_USER_SECRET_SIZE], const char *data,
			 size_t len, unsigned char token_r[URLAUTH_TOKEN_SIZE])
{
	unsigned int token_len = URLAUTH_TOKEN_SIZE;

	if (HMAC(EVP_sha256(), key, MAIL_USER_SECRET_SIZE, (const unsigned char *)data, len,
		 token_r, &token_len) == NULL || token_len != URLAUTH_TOKEN_SIZE)
		i_panic("HMAC-SHA256 failed");
}

int imap_urlauth_generate(struct imap_client *client, const char *text, size_t len,
			  const char **urlauth_r, const char **error_r)
{
	struct imap_url url;
	const char *key_name, *error;
	unsigned char key[MAIL_USER_SECRET_SIZE], token[URLAUTH_TOKEN_SIZE];

	if (imap_url_parse(text, len, IMAP_URL_PARSE_URLAUTH, t_pool(), &url, &error) < 0) {
		*error_r = t_strdup_printf("Invalid URL: %s", error);
		return 0;
	}
	/* RFC 4467 §6: an authimapurlrump of the session's own mailbox */
	if (url.access == IMAP_URL_ACCESS_NONE || url.mechanism != NULL) {
		*error_r = "Not a URLAUTH rump URL";
		return 0;
	}
	if (url.user == NULL || strcmp(url.user, client->user) != 0 ||
	    !imap_urlauth_host_is_ours(client, &url)) {
		*error_r = "URL is not for this user on this server";
		return 0;
	}
	int ret = urlauth_key_name(client->mail_user, url.mailbox, url.uidvalidity, &key_name);
	if (ret <= 0) {
		*error_r = "Mailbox doesn't exist";
		return ret;
	}
	if (mail_user_secret_get(client->mail_user, key_name, true, key) < 0)
		return -1;
	urlauth_hmac(key, text, len, token);
	string_t *str = t_str_new(len + 80);
	str_append_n(str, text, len);
	str_append(str, ":" IMAP_URLAUTH_MECHANISM ":");
	for (unsigned int i = 0; i < URLAUTH_TOKEN_SIZE; i++)
		str_printfa(str, "%02x", token[i]);
	OPENSSL_cleanse(key, sizeof(key));
	*urlauth_r = str_c(str);
	return 1;
}

int imap_urlauth_reset(struct imap_client *client, const char *mailbox)
{
	const char *key_name;

	if (mailbox == NULL)
		return mail_user_secret_reset(client->mail_user, URLAUTH_KEY_PREFIX) < 0 ? -1 : 1;
	int ret = urlauth_key_name(client->mail_user, mailbox, 0, &key_name);
	if (ret <= 0)
		return ret;
	/* the name's UIDVALIDITY part too: keys of earlier incarnations
	   of the mailbox id are never used again */
	const char *prefix = t_strndup(key_name, strrchr(key_name, '/') + 1 - key_name);
	return mail_user_secret_reset(client->mail_user, prefix) < 0 ? -1 : 1;
}

/* RFC 4467 §3 access identifiers, for the session's user. */
static bool urlauth_access_allowed(struct imap_client *client, const struct imap_url *url)
{
	switch (url->access) {
	case IMAP_URL_ACCESS_ANONYMOUS:
	case IMAP_URL_ACCESS_AUTHUSER:
		/* every session here has logged in */
		return true;
	case IMAP_URL_ACCESS_USER:
		return strcmp(url->access_user, client->user) == 0;
	case IMAP_URL_ACCESS_SUBMIT:
		/* the submission server fetches on the named user's behalf */
		return urlauth_list_has(client->set->imap.urlauth_submit_users, client->user);
	case IMAP_URL_ACCESS_NONE:
		break;
	}
	return false;
}

static struct auth *urlauth_userdb(struct imap_client *client)
{
	const char *error;

	if (urlauth_auth != NULL && urlauth_auth_set != client->set)
		auth_destroy(&urlauth_auth);
	if (urlauth_auth == NULL &&
	    auth_create_from_settings(client->set, &urlauth_auth, &error) < 0) {
		log_error(&client->conn->log, "userdb_failed", "error=%s", log_value(error));
		return NULL;
	}
	urlauth_auth_set = client->set;
	return urlauth_auth;
}

/* Opens the storage of another user of this server. Returns 1, 0 when
   there is no such user or storage (*error_r), -1 (logged). */
static int urlauth_open_user(struct imap_client *client, const char *name,
			     struct mail_user **user_r, const char **error_r)
{
	const struct tern_settings *set = client->set;
	struct auth *pf = urlauth_userdb(client);
	struct auth_user *au;
	const char *error;
	struct stat st;

	if (pf == NULL)
		return -1;
	const struct auth_db_lookup lookup = { .user = name, .service = "imap" };
	int ret = auth_userdb_lookup(pf, &lookup, t_pool(), &au, &error);
	if (ret < 0) {
		log_error(&client->conn->log, "userdb_failed", "user=%s error=%s",
			  log_value(name), log_value(error));
		return -1;
	}
	const char *home = ret == 0 ? NULL : config_mail_home(set, au->name, au->home);
	/* a user who never logged in has no keys: don't create a home */
	if (home == NULL || stat(home, &st) < 0) {
		*error_r = "No such user";
		return 0;
	}
	struct mail_user_settings mset = {
		.username = au->name,
		.home = home,
		.driver = set->mail.driver,
		.text_index_on_demand = !set->mail.index_text_at_save,
	};
	if (mail_user_init(&mset, user_r, &error) < 0) {
		log_error(&client->conn->log, "mail_user_init_failed", "user=%s error=%s",
			  log_value(name), log_value(error));
		return -1;
	}
	return 1;
}

void imap_urlauth_release(struct imap_client *client, struct mail_user **user)
{
	if (*user == NULL || *user == client->mail_user)
		*user = NULL;
	else
		mail_user_deinit(user);
}

static bool urlauth_hex_decode(const char *hex, unsigned char *data, size_t size)
{
	if (strlen(hex) != size * 2)
		return false;
	for (size_t i = 0; i < size; i++) {
		unsigned int byte;
		if (sscanf(hex + i * 2, "%2x", &byte) != 1)
			return false;
		data[i] = (unsigned char)byte;
	}
	return true;
}

/* The owner's key and the token; 1, 0 (*error_r), -1. */
static int urlauth_check_token(struct mail_user *owner, const char *text,
			       const struct imap_url *url, const char **error_r)
{
	unsigned char key[MAIL_USER_SECRET_SIZE], token[URLAUTH_TOKEN_SIZE];
	unsigned char given[URLAUTH_TOKEN_SIZE];
	const char *key_name;

	int ret = urlauth_key_name(owner, url->mailbox, url->uidvalidity, &key_name);
	if (ret == 0) {
		*error_r = "Mailbox doesn't exist";
		return 0;
	}
	if (ret > 0)
		ret = mail_user_secret_get(owner, key_name, false, key);
	if (ret < 0)
		return -1;
	if (ret == 0 || !urlauth_hex_decode(url->token, given, sizeof(given))) {
		*error_r = "Invalid URLAUTH";
		return 0;
	}
	urlauth_hmac(key, text, url->rump_length, token);
	OPENSSL_cleanse(key, sizeof(key));
	if (CRYPTO_memcmp(token, given, sizeof(token)) != 0) {
		*error_r = "Invalid URLAUTH";
		return 0;
	}
	return 1;
}

int imap_urlauth_verify(struct imap_client *client, const char *text, size_t len,
			const struct imap_url *url, struct mail_user **user_r,
			const char **error_r)
{
	i_assert(url->rump_length <= len);
	*user_r = NULL;
	if (url->mechanism == NULL || url->user == NULL || !imap_url_is_message_part(url)) {
		*error_r = "Not a URLAUTH URL";
		return 0;
	}
	if (strcasecmp(url->mechanism, IMAP_URLAUTH_MECHANISM) != 0) {
		*error_r = "Unsupported URLAUTH mechanism";
		return 0;
	}
	if (!imap_urlauth_host_is_ours(client, url)) {
		*error_r = "URL is not for this server";
		return 0;
	}
	if (url->have_expire && url->expire <= time(NULL)) {
		*error_r = "URL has expired";
		return 0;
	}
	if (!urlauth_access_allowed(client, url)) {
		*error_r = "URL is not for this user";
		return 0;
	}
	int ret = 1;
	if (strcmp(url->user, client->user) == 0)
		*user_r = client->mail_user;
	else
		ret = urlauth_open_user(client, url->user, user_r, error_r);
	if (ret > 0)
		ret = urlauth_check_token(*user_r, text, url, error_r);
	if (ret < 0 && *user_r != NULL) {
		const char *text_err;
		(void)mail_user_get_error(*user_r, &text_err);
		log_error(&client->conn->log, "urlauth_failed", "owner=%s error=%s",
			  log_value(url->user), log_value(text_err));
	}
	if (ret <= 0 && *user_r != NULL)
		imap_urlauth_release(client, user_r);
	return ret;
}
