/* Delivery: recipients looked up in the userdb at RCPT (with +detail
 * addressing and the quota check), and the spooled message handed to
 * src/delivery for each of them (Sieve, storage, forwarding) with the
 * Delivered-To and Received headers it puts on top. A recipient's 250
 * leaves only after its delivery made the message durable, and goes out
 * at once, so a crash later in the transaction never makes the MTA deliver
 * it again (RFC 2033 §4.2). */
#include "lmtp-client.h"
#include "auth.h"
#include "date.h"
#include "deliver-user.h"

#include <time.h>

/* The userdb chain of the process, opened at the first lookup (a
   passwd-file re-reads itself when it changes on disk). */
static struct auth *lmtp_auth;
static const struct tern_settings *lmtp_auth_set;

void lmtp_clients_deinit(void)
{
	auth_destroy(&lmtp_auth);
	mail_deliver_deinit();
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

int lmtp_deliver_lookup(struct lmtp_client *client, const struct lmtp_address *addr,
			pool_t pool, struct lmtp_recipient *rcpt_r)
{
	struct auth *auth = lmtp_userdb(client);
	if (auth == NULL)
		return -1;
	/* RFC 5321 §4.1.1.3: <Postmaster> in any case */
	const char *localpart = addr->domain == NULL ? "postmaster" : addr->localpart;
	const char *error, *detail;
	int ret = deliver_user_lookup_address(auth, client->set, localpart, addr->domain, "lmtp",
					      client->conn->remote.is_unix ? NULL :
					      client->conn->remote.ip, pool, &rcpt_r->user,
					      &detail, &error);
	if (ret < 0) {
		log_error(&client->conn->log, "userdb_failed", "rcpt=%s error=%s",
			  log_value(localpart), log_value(error));
		return -1;
	}
	if (ret == 0)
		return 0;
	rcpt_r->address = lmtp_address_to_string(addr, pool);
	rcpt_r->detail = detail;
	return 1;
}

/* The quota reply: 452 4.2.2 while quota.full_tempfail (Dovecot's
   quota_full_tempfail), else 552 5.2.2 (RFC 3463 §3.3). */
static const char *lmtp_quota_reply(struct lmtp_client *client, const char *address,
				    bool permanent)
{
	return permanent ?
		t_strdup_printf("552 5.2.2 <%s> Quota exceeded (mailbox for user is full)", address) :
		t_strdup_printf("452 4.2.2 <%s> Quota exceeded (mailbox for user is full)", address);
}

const char *lmtp_deliver_quota_refusal(struct lmtp_client *client,
				       const struct lmtp_recipient *rcpt)
{
	const char *error;
	int switched = deliver_user_become(&rcpt->user, &error);
	if (switched < 0) {
		log_error(&client->conn->log, "quota_check_failed", "user=%s error=%s",
			  log_value(rcpt->user.name), log_value(error));
		return NULL; /* the delivery checks again */
	}
	int ret = mail_deliver_quota_check(client->set, &client->conn->log, &rcpt->user,
					   client->mail_params.size);
	if (switched > 0)
		deliver_user_become_root();
	if (ret != 0)
		return NULL;
	log_info(&client->conn->log, "rcpt_over_quota", "rcpt=%s user=%s",
		 log_value(rcpt->address), log_value(rcpt->user.name));
	return lmtp_quota_reply(client, rcpt->address, !client->set->quota.full_tempfail);
}

/* The trace headers put on top of the message for rcpt (RFC 5321 §4.4);
   Return-Path is added by the delivery. */
static const char *lmtp_deliver_headers(struct lmtp_client *client,
					const struct lmtp_recipient *rcpt, const char *date)
{
	struct connection *conn = client->conn;
	string_t *str = t_str_new(512);
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

/* The reply for a delivery's result. */
static const char *lmtp_deliver_reply(struct lmtp_client *client,
				      const struct lmtp_recipient *rcpt,
				      const struct mail_deliver_result *result)
{
	switch (result->status) {
	case MAIL_DELIVER_OK:
		client->deliveries++;
		if (result->mailbox == NULL)
			return t_strdup_printf("250 2.0.0 <%s> %s Delivered.", rcpt->address,
					       client->conn->session_id);
		return t_strdup_printf("250 2.0.0 <%s> %s Saved as UID %u.", rcpt->address,
				       client->conn->session_id, result->uid);
	case MAIL_DELIVER_OVERQUOTA:
		return lmtp_quota_reply(client, rcpt->address, result->permanent);
	case MAIL_DELIVER_REJECTED:
		/* RFC 5429 §2.1.1: ereject's text in the reply, one line */
		return t_strdup_printf("550 5.7.1 <%s> %s", rcpt->address,
				       t_strndup(result->reason, strcspn(result->reason, "\r\n")));
	case MAIL_DELIVER_TEMPFAIL:
		break;
	}
	return t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
			       rcpt->address);
}

/* Delivers to one recipient as the recipient's uid. Returns the reply. */
static const char *lmtp_deliver_one(struct lmtp_client *client, struct deliver_message *msg,
				    const struct lmtp_recipient *rcpt, const char *date)
{
	const char *error;
	lmtp_storage_prepare(client, &rcpt->user);
	int switched = deliver_user_become(&rcpt->user, &error);
	if (switched < 0) {
		log_error(&client->conn->log, "delivery_failed", "rcpt=%s user=%s error=%s",
			  log_value(rcpt->address), log_value(rcpt->user.name), log_value(error));
		return t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
				       rcpt->address);
	}
	bool detail_box = rcpt->detail != NULL && rcpt->detail[0] != '\0' &&
		client->lset.detail_to_mailbox;
	const struct mail_deliver_input in = {
		.set = client->set, .log = &client->conn->log,
		.session_id = client->conn->session_id, .sender = client->sender,
		.rcpt = rcpt->address, .user = &rcpt->user,
		.mailbox = detail_box ? rcpt->detail : NULL,
		.trace_headers = lmtp_deliver_headers(client, rcpt, date),
		.can_reject = true, .msg = msg,
		.storage = lmtp_storage_open(client, &rcpt->user),
	};
	pool_t pool = pool_create("lmtp delivery", 2048);
	struct mail_deliver_result result;
	mail_deliver(&in, pool, &result);
	const char *reply = lmtp_deliver_reply(client, rcpt, &result);
	if (switched > 0)
		deliver_user_become_root();
	lmtp_storage_delivered(client, &rcpt->user, &result);
	pool_destroy(&pool);
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

static ssize_t lmtp_deliver_spool_pread(void *context, void *buf, size_t size, uint64_t offset)
{
	return lmtp_spool_pread(context, buf, size, offset);
}

void lmtp_deliver_all(struct lmtp_client *client)
{
	const char *date = lmtp_deliver_date();
	const struct deliver_source source = {
		.pread = lmtp_deliver_spool_pread, .context = &client->spool,
		.size = client->spool.size,
	};
	struct deliver_message *msg = deliver_message_create(&source);
	for (unsigned int i = 0; i < client->rcpts.count; i++) {
		const struct lmtp_recipient *rcpt = &client->rcpts.v[i];
		const char *reply;
		if (client->spool.failed) {
			reply = t_strdup_printf("451 4.3.0 <%s> Temporary failure, try again later.",
						rcpt->address);
		} else {
			reply = lmtp_deliver_one(client, msg, rcpt, date);
		}
		lmtp_client_send_line(client, reply);
		lmtp_client_flush(client);
	}
	deliver_message_destroy(&msg);
}
