/* Delivery: recipients looked up in the userdb at RCPT (with +detail
 * addressing), and the spooled message saved for each of them through the
 * storage API with Return-Path, Delivered-To and Received headers added.
 * A recipient's 250 leaves only after mail_save_finish() made the message
 * durable, and goes out at once, so a crash later in the transaction
 * never makes the MTA deliver it again (RFC 2033 §4.2). */
#include "lmtp-client.h"
#include "auth.h"
#include "date.h"
#include "mail-storage.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <time.h>

#define LMTP_DELIVER_CHUNK_SIZE (64 * 1024)

/* The userdb chain of the process, opened at the first lookup (a
   passwd-file re-reads itself when it changes on disk). */
static struct auth *lmtp_auth;
static const struct tern_settings *lmtp_auth_set;

void lmtp_clients_deinit(void)
{
	auth_destroy(&lmtp_auth);
}

static struct auth *lmtp_userdb(struct lmtp_client *client)
{
	const char *error;

	if (lmtp_auth != NULL && lmtp_auth_set != client->set)
		auth_destroy(&lmtp_auth);
	if (lmtp_auth == NULL &&
	    auth_create_from_settings(client->set, &lmtp_auth, &error) < 0) {
		log_error(&client->conn->log, "userdb_failed", "error=%s", log_value(error));
		return NULL;
	}
	lmtp_auth_set = client->set;
	return lmtp_auth;
}

/* Tries "user@domain", then "user" (a single-domain userdb). Returns 1, 0
   or -1 like auth_userdb_lookup(). */
static int lmtp_lookup_name(struct lmtp_client *client, struct auth *auth,
			    const char *user, const char *domain, pool_t pool,
			    struct auth_user **user_r)
{
	const char *error;
	for (unsigned int i = domain == NULL ? 1 : 0; i < 2; i++) {
		const char *name = i == 0 ? t_strdup_printf("%s@%s", user, domain) : user;
		const struct auth_db_lookup lookup = { .user = name, .service = "lmtp",
			.remote_ip = client->conn->remote.is_unix ? NULL : client->conn->remote.ip };
		int ret = auth_userdb_lookup(auth, &lookup, pool, user_r, &error);
		if (ret < 0) {
			log_error(&client->conn->log, "userdb_failed", "user=%s error=%s",
				  log_value(name), log_value(error));
			return -1;
		}
		if (ret > 0)
			return 1;
	}
	return 0;
}

int lmtp_deliver_lookup(struct lmtp_client *client, const struct lmtp_address *addr,
			pool_t pool, struct lmtp_recipient *rcpt_r)
{
	struct auth *pf = lmtp_userdb(client);
	if (pf == NULL)
		return -1;
	const char *user, *detail;
	lmtp_address_split_detail(addr->localpart, client->lset.detail_delimiter, pool,
				  &user, &detail);
	/* RFC 5321 §4.1.1.3: <Postmaster> in any case */
	if (addr->domain == NULL)
		user = "postmaster";
	char *domain = addr->domain == NULL ? NULL : t_strdup_printf("%s", addr->domain);
	for (char *p = domain; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	struct auth_user *au;
	int ret = lmtp_lookup_name(client, pf, user, domain, pool, &au);
	if (ret == 0 && detail != NULL) {
		/* a user whose name contains the delimiter */
		ret = lmtp_lookup_name(client, pf, addr->localpart, domain, pool, &au);
		detail = NULL;
	}
	if (ret <= 0)
		return ret;
	const char *home = config_mail_home(client->set, au->name, au->home);
	if (home == NULL) {
		log_warning(&client->conn->log, "rcpt_refused", "user=%s reason=\"unsafe user name\"",
			    log_value(au->name));
		return 0;
	}
	rcpt_r->address = lmtp_address_to_string(addr, pool);
	rcpt_r->user = au->name;
	rcpt_r->home = p_strdup(pool, home);
	rcpt_r->detail = detail;
	rcpt_r->uid = au->uid;
	rcpt_r->gid = au->gid;
	return 1;
}

/* The trace headers put on top of the message for rcpt (RFC 5321 §4.4). */
static const char *lmtp_deliver_headers(struct lmtp_client *client,
					const struct lmtp_recipient *rcpt, const char *date)
{
	struct connection *conn = client->conn;
	string_t *str = t_str_new(512);
	str_printfa(str, "Return-Path: <%s>\r\n", client->sender);
	if (client->lset.delivered_to)
		str_printfa(str, "Delivered-To: %s\r\n", rcpt->address);
	str_printfa(str, "Received: from %s ", client->lhlo_name);
	if (conn->remote.is_unix)
		str_append(str, "(local)");
	else if (strchr(conn->remote.ip, ':') != NULL)
		str_printfa(str, "([IPv6:%s])", conn->remote.ip);
	else
		str_printfa(str, "([%s])", conn->remote.ip);
	/* RFC 6531 §3.7.3: UTF8LMTP when the client used SMTPUTF8 */
	str_printfa(str, "\r\n\tby %s (Tern) with %s id %s\r\n\tfor <%s>; %s\r\n",
		    client->lset.hostname,
		    client->mail_params.smtputf8 ? "UTF8LMTP" : "LMTP",
		    conn->session_id, rcpt->address, date);
	return str_c(str);
}

/* The reply for a failed delivery; the details are logged. */
static const char *lmtp_deliver_error(struct lmtp_client *client, struct mail_user *user,
				      const struct lmtp_recipient *rcpt, const char *step)
{
	const char *text = "mail storage is not available";
	enum mail_error error = user == NULL ? MAIL_ERROR_TEMP :
		mail_user_get_error(user, &text);
	log_error(&client->conn->log, "delivery_failed", "rcpt=%s user=%s step=%s error=%s",
		  log_value(rcpt->address), log_value(rcpt->user), step, log_value(text));
	/* all temporary: the MTA retries. ENOSPC comes as OVERQUOTA too, and
	   a full disk must never bounce mail. */
	if (error == MAIL_ERROR_OVERQUOTA)
		return t_strdup_printf("452 4.2.2 <%s> Mailbox is full.", rcpt->address);
	return t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
			       rcpt->address);
}

/* Starts the save: into the mailbox named by the detail when it exists,
   else INBOX. */
static struct mail_save *lmtp_deliver_begin(struct lmtp_client *client, struct mail_user *user,
					    const struct lmtp_recipient *rcpt,
					    const char **mailbox_r)
{
	struct mail_save_params params = { .internal_date = (time_t)-1 };
	if (rcpt->detail != NULL && rcpt->detail[0] != '\0' && client->lset.detail_to_mailbox) {
		struct mail_save *save = mail_save_begin(user, rcpt->detail, &params);
		if (save != NULL) {
			*mailbox_r = rcpt->detail;
			return save;
		}
		const char *text;
		enum mail_error error = mail_user_get_error(user, &text);
		if (error != MAIL_ERROR_NOTFOUND && error != MAIL_ERROR_PARAMS)
			return NULL;
	}
	*mailbox_r = "INBOX";
	return mail_save_begin(user, "INBOX", &params);
}

static int lmtp_deliver_write(struct lmtp_client *client, struct mail_save *save,
			      const char *headers, unsigned char *buf)
{
	if (mail_save_write(save, headers, strlen(headers)) < 0)
		return -1;
	uint64_t offset = 0;
	ssize_t ret;
	while ((ret = lmtp_spool_pread(&client->spool, buf, LMTP_DELIVER_CHUNK_SIZE,
				       offset)) > 0) {
		if (mail_save_write(save, buf, (size_t)ret) < 0)
			return -1;
		offset += (uint64_t)ret;
	}
	if (ret < 0) {
		log_error(&client->conn->log, "spool_failed", "error=%s",
			  log_value(strerror(errno)));
		return -1;
	}
	return 0;
}

/* The LMTP worker runs as root so it can deliver to users of different
   uids: each delivery runs with the recipient's uid/gid as effective ids,
   so the files it creates are the user's. Returns 1 switched, 0 nothing to
   do, -1 failed (*error_r). */
static int lmtp_deliver_become(const struct lmtp_recipient *rcpt, const char **error_r)
{
	gid_t gid = rcpt->gid;

	if (rcpt->uid == (uid_t)-1 || geteuid() != 0 || rcpt->uid == 0)
		return 0;
	if (gid == (gid_t)-1) {
		char pwbuf[4096];
		struct passwd pw, *res;
		if (getpwuid_r(rcpt->uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || res == NULL) {
			*error_r = t_strdup_printf("uid %u has no gid", (unsigned int)rcpt->uid);
			return -1;
		}
		gid = pw.pw_gid;
	}
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(rcpt->uid) < 0) {
		*error_r = t_strdup_printf("can't become uid %u: %s", (unsigned int)rcpt->uid,
					   strerror(errno));
		(void)seteuid(0);
		(void)setegid(0);
		return -1;
	}
	return 1;
}

static void lmtp_deliver_become_root(void)
{
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
		i_fatal("can't return to root after a delivery: %s", strerror(errno));
}

/* Saves the message for one recipient. Returns the reply to send. */
static const char *lmtp_deliver_one_as_user(struct lmtp_client *client,
					    const struct lmtp_recipient *rcpt,
					    const char *date, unsigned char *buf)
{
	struct mail_user_settings mset = {
		.username = rcpt->user,
		.home = rcpt->home,
		.driver = client->set->mail.driver,
		.create_special_folders = client->set->mail.create_special_folders,
		.text_index_on_demand = !client->set->mail.index_text_at_save,
	};
	struct mail_user *user;
	const char *error, *mailbox, *reply;
	if (mail_user_init(&mset, &user, &error) < 0) {
		log_error(&client->conn->log, "mail_user_init_failed", "user=%s home=%s error=%s",
			  log_value(rcpt->user), log_value(rcpt->home), log_value(error));
		return lmtp_deliver_error(client, NULL, rcpt, "init");
	}
	struct mail_save *save = lmtp_deliver_begin(client, user, rcpt, &mailbox);
	uint32_t uidvalidity, uid;
	if (save == NULL)
		reply = lmtp_deliver_error(client, user, rcpt, "begin");
	else if (lmtp_deliver_write(client, save, lmtp_deliver_headers(client, rcpt, date),
				    buf) < 0) {
		mail_save_abort(&save);
		reply = lmtp_deliver_error(client, user, rcpt, "write");
	} else if (mail_save_finish(&save, &uidvalidity, &uid) < 0) {
		reply = lmtp_deliver_error(client, user, rcpt, "finish");
	} else {
		log_info(&client->conn->log, "delivered",
			 "rcpt=%s user=%s mailbox=%s uid=%u size=%llu from=%s",
			 log_value(rcpt->address), log_value(rcpt->user), log_value(mailbox),
			 uid, (unsigned long long)client->spool.size,
			 log_value(client->sender[0] == '\0' ? "<>" : client->sender));
		client->deliveries++;
		reply = t_strdup_printf("250 2.0.0 <%s> %s Saved as UID %u.",
					rcpt->address, client->conn->session_id, uid);
	}
	mail_user_deinit(&user);
	return reply;
}

/* Saves the message for one recipient, as the recipient's uid. Returns
   the reply to send. */
static const char *lmtp_deliver_one(struct lmtp_client *client,
				    const struct lmtp_recipient *rcpt, const char *date,
				    unsigned char *buf)
{
	const char *error;
	int switched = lmtp_deliver_become(rcpt, &error);

	if (switched < 0) {
		log_error(&client->conn->log, "delivery_failed", "rcpt=%s user=%s error=%s",
			  log_value(rcpt->address), log_value(rcpt->user), log_value(error));
		return t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
				       rcpt->address);
	}
	const char *reply = lmtp_deliver_one_as_user(client, rcpt, date, buf);
	if (switched > 0)
		lmtp_deliver_become_root();
	return reply;
}

static const char *lmtp_deliver_date(void)
{
	time_t now = time(NULL);
	struct tm tm;
	int tz = 0;
	if (localtime_r(&now, &tm) != NULL)
		tz = (int)(tm.tm_gmtoff / 60);
	return rfc5322_date_format(now, tz);
}

void lmtp_deliver_all(struct lmtp_client *client)
{
	const char *date = lmtp_deliver_date();
	unsigned char *buf = NULL;
	for (unsigned int i = 0; i < client->rcpts.count; i++) {
		const struct lmtp_recipient *rcpt = &client->rcpts.v[i];
		const char *reply;
		if (client->spool.failed) {
			reply = t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
						rcpt->address);
		} else {
			if (buf == NULL)
				buf = i_malloc(LMTP_DELIVER_CHUNK_SIZE);
			reply = lmtp_deliver_one(client, rcpt, date, buf);
		}
		lmtp_client_send_line(client, reply);
		lmtp_client_flush(client);
	}
	free(buf);
}
