/* Carrying out a result in the runner's simulated world: keep and fileinto
 * store into the in-memory mailboxes (with imap4flags flags and editheader
 * changes), redirect, reject (RFC 5429 §2.1), vacation (RFC 5230 §5) and
 * mailto notifications (RFC 5436) become messages in the outgoing queue
 * that test_message :smtp reads back. */
#include "sieve-testsuite-ext.h"
#include "sieve-extension.h"
#include "date.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *sieve_testsuite_action_name(const struct sieve_action *action)
{
	switch (action->type) {
	case SIEVE_ACTION_KEEP: return "keep";
	case SIEVE_ACTION_FILEINTO:
		return strcasecmp(action->target, "INBOX") == 0 ? "keep" : "store";
	case SIEVE_ACTION_REDIRECT: return "redirect";
	case SIEVE_ACTION_REJECT: return "reject";
	case SIEVE_ACTION_EREJECT: return "ereject";
	case SIEVE_ACTION_DISCARD: return "discard";
	case SIEVE_ACTION_VACATION: return "vacation";
	case SIEVE_ACTION_NOTIFY: return "notify";
	}
	return "";
}

/* The message as stored: editheader's changes applied to its header. */
static struct sieve_testsuite_message *stored_message(struct sieve_testsuite *ts,
						      const struct sieve_result *result)
{
	const struct sieve_testsuite_message *msg = ts->msg;
	string_t *data;

	if (result->header_edits.count == 0)
		return ts->msg;
	data = t_str_new(msg->size + 256);
	sieve_header_edits_apply(result, msg->data, msg->body_offset, data);
	str_append_n(data, msg->data + msg->body_offset, msg->size - msg->body_offset);
	struct sieve_testsuite_message *edited =
		sieve_testsuite_message_parse(str_data(data), str_len(data));
	array_push(&ts->messages, edited);
	return edited;
}

static int execute_store(struct sieve_testsuite *ts, const struct sieve_result *result,
			 const struct sieve_action *action)
{
	const char *name = action->type == SIEVE_ACTION_KEEP ? "INBOX" : action->target;
	struct sieve_testsuite_mailbox *box = sieve_testsuite_mailbox_find(ts, name);
	unsigned int flag_count = 0;

	if (box == NULL && action->create)
		box = sieve_testsuite_mailbox_create(ts, name);
	if (box == NULL) {
		sieve_testsuite_error_add(ts, t_strdup_printf(
			"failed to store into mailbox '%s': Mailbox doesn't exist: %s", name, name));
		return -1;
	}
	if (action->flags != NULL) {
		while (action->flags[flag_count] != NULL)
			flag_count++;
	}
	if (sieve_testsuite_mailbox_save(ts, box, stored_message(ts, result),
					 action->flags, flag_count) < 0) {
		sieve_testsuite_error_add(ts, t_strdup_printf(
			"failed to store into mailbox '%s': too many messages", name));
		return -1;
	}
	return 0;
}

static void header_add(string_t *dest, const char *name, const char *value)
{
	str_printfa(dest, "%s: %s\r\n", name, value);
}

static const char *first_header(struct sieve_testsuite *ts, const char *name)
{
	const char *const *values = sieve_testsuite_message_headers(ts->msg, t_pool(), name);

	return values[0];
}

/* sieve_redirect_envelope_from: sender (default), recipient,
   orig_recipient, user_email, postmaster or an explicit <address> */
static const char *redirect_envelope_from(struct sieve_testsuite *ts)
{
	const char *setting = sieve_testsuite_setting_get(ts, "sieve_redirect_envelope_from");
	const char *user_email = sieve_testsuite_setting_get(ts, "sieve_user_email");
	const char *postmaster = sieve_testsuite_setting_get(ts, "postmaster_address");

	/* RFC 5228 §4.2: the null path stays the null path */
	if (setting == NULL || strcmp(setting, "sender") == 0 || ts->envelope.from == NULL ||
	    *ts->envelope.from == '\0')
		return ts->envelope.from;
	if (strcmp(setting, "recipient") == 0)
		return ts->envelope.to;
	if (strcmp(setting, "orig_recipient") == 0)
		return ts->envelope.orig_to;
	if (strcmp(setting, "user_email") == 0)
		return user_email != NULL ? user_email : ts->envelope.to;
	if (strcmp(setting, "postmaster") == 0)
		return postmaster != NULL ? postmaster : "postmaster@example.com";
	if (setting[0] == '<' && strlen(setting) >= 2)
		return t_strndup(setting + 1, strlen(setting) - 2);
	return ts->envelope.from;
}

static int execute_redirect(struct sieve_testsuite *ts, const struct sieve_action *action)
{
	string_t *data = t_str_new(ts->msg->size + 128);

	if (ts->envelope.to != NULL)
		header_add(data, "X-Sieve-Redirected-From", ts->envelope.to);
	str_append_n(data, ts->msg->data, ts->msg->size);
	return sieve_testsuite_send(ts, redirect_envelope_from(ts), action->target,
				    str_data(data), str_len(data));
}

static void compose_date_and_id(string_t *dest)
{
	static unsigned int seq;

	header_add(dest, "Date", rfc5322_date_format(time(NULL), 0));
	str_printfa(dest, "Message-ID: <tern-sieve-test.%u@example.com>\r\n", ++seq);
}

/* RFC 5429 §2.1 / RFC 3798: a reject is an MDN to the envelope sender. */
static int execute_reject(struct sieve_testsuite *ts, const struct sieve_action *action)
{
	const char *sender = ts->envelope.from, *recipient = ts->envelope.to;
	const char *subject = first_header(ts, "Subject");
	string_t *data = t_str_new(1024 + ts->msg->size);

	if (sender == NULL || *sender == '\0')
		return 0; /* nobody to tell */
	header_add(data, "From", t_strdup_printf("Mail Delivery Subsystem <%s>",
		sieve_testsuite_setting_get(ts, "postmaster_address") != NULL ?
		sieve_testsuite_setting_get(ts, "postmaster_address") : "postmaster@example.com"));
	header_add(data, "To", t_strdup_printf("<%s>", sender));
	header_add(data, "Subject", t_strdup_printf("Rejected: %s", subject == NULL ? "" : subject));
	compose_date_and_id(data);
	header_add(data, "Auto-Submitted", "auto-replied (rejected)");
	header_add(data, "Precedence", "bulk");
	header_add(data, "MIME-Version", "1.0");
	header_add(data, "Content-Type", "multipart/report; report-type=disposition-notification;"
		   " boundary=\"tern-reject\"");
	str_append(data, "\r\nThis is a MIME-encapsulated message\r\n\r\n--tern-reject\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	str_printfa(data, "%s\r\n\r\n--tern-reject\r\n"
		    "Content-Type: message/disposition-notification\r\n\r\n"
		    "Reporting-UA: tern-sieve-test\r\n"
		    "Final-Recipient: rfc822; %s\r\n"
		    "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n"
		    "--tern-reject\r\nContent-Type: message/rfc822\r\n\r\n",
		    action->target, recipient == NULL ? "" : recipient);
	str_append_n(data, ts->msg->data, ts->msg->size);
	str_append(data, "\r\n--tern-reject--\r\n");
	return sieve_testsuite_send(ts, "", sender, str_data(data), str_len(data));
}

/* RFC 5230 §5: the reply, sent with the null reverse path (§5.1). */
static int execute_vacation(struct sieve_testsuite *ts, const struct sieve_vacation *vac)
{
	const char *to = vac->recipient, *from = vac->from;
	const char *subject = vac->subject;
	string_t *data = t_str_new(1024);

	/* no duplicate-response database here, as in pigeonhole's runner:
	   every test expects its reply */
	if (from == NULL)
		from = ts->envelope.to;
	if (subject == NULL) {
		subject = t_strconcat("Auto: ", vac->original_subject == NULL ? "" :
				      vac->original_subject, NULL);
	}
	header_add(data, "X-Sieve", "Tern tern-sieve-test");
	if (vac->original_message_id != NULL) {
		header_add(data, "In-Reply-To", vac->original_message_id);
		header_add(data, "References", vac->original_message_id);
	}
	compose_date_and_id(data);
	header_add(data, "From", from == NULL ? "" : from);
	header_add(data, "To", to);
	header_add(data, "Subject", subject);
	header_add(data, "Auto-Submitted", "auto-replied (vacation)");
	header_add(data, "Precedence", "bulk");
	header_add(data, "MIME-Version", "1.0");
	if (!vac->mime) {
		header_add(data, "Content-Type", "text/plain; charset=utf-8");
		header_add(data, "Content-Transfer-Encoding", "8bit");
		str_append(data, "\r\n");
	}
	str_append(data, vac->reason);
	return sieve_testsuite_send(ts, "", to, str_data(data), str_len(data));
}

static const char *uri_decode(const char *str, size_t len)
{
	string_t *dest = t_str_new(len);

	for (size_t i = 0; i < len; i++) {
		if (str[i] == '%' && i + 2 < len) {
			char hex[3] = { str[i + 1], str[i + 2], '\0' };
			str_append_c(dest, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			str_append_c(dest, str[i]);
		}
	}
	return str_c(dest);
}

/* RFC 5436: mailto:to1,to2?subject=..&body=.. */
static int execute_notify(struct sieve_testsuite *ts, const struct sieve_notify *notify)
{
	const char *uri = notify->method, *query, *recipients, *subject = NULL, *body = NULL;
	const char *from = sieve_testsuite_setting_get(ts, "sieve_notify_mailto_envelope_from");
	string_t *data = t_str_new(1024);

	if (strncasecmp(uri, "mailto:", 7) != 0)
		return 0;
	uri += 7;
	query = strchr(uri, '?');
	recipients = query == NULL ? uri : t_strndup(uri, query - uri);
	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(++p, '&'), *eq = strchr(p, '=');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

		if (eq != NULL && (size_t)(eq - p) < len) {
			const char *value = uri_decode(eq + 1, len - (eq + 1 - p));
			if ((size_t)(eq - p) == 7 && strncasecmp(p, "subject", 7) == 0)
				subject = value;
			else if ((size_t)(eq - p) == 4 && strncasecmp(p, "body", 4) == 0)
				body = value;
		}
		p = end;
	}
	if (subject == NULL)
		subject = notify->message != NULL ? notify->message : first_header(ts, "Subject");
	header_add(data, "From", notify->from != NULL ? notify->from : "postmaster@example.com");
	header_add(data, "To", uri_decode(recipients, strlen(recipients)));
	header_add(data, "Subject", subject == NULL ? "" : subject);
	compose_date_and_id(data);
	header_add(data, "Auto-Submitted", "auto-notified; owner-email=\"recipient@example.com\"");
	header_add(data, "Precedence", "bulk");
	str_append(data, "\r\n");
	str_append(data, body != NULL ? body : (notify->message != NULL ? notify->message : ""));
	str_append(data, "\r\n");
	if (from == NULL || strcmp(from, "sender") == 0 || strcmp(from, "default") == 0)
		from = "";
	else if (strcmp(from, "recipient") == 0)
		from = ts->envelope.to;
	for (const char *p = uri_decode(recipients, strlen(recipients)); *p != '\0';) {
		const char *comma = strchr(p, ',');
		const char *rcpt = comma == NULL ? p : t_strndup(p, comma - p);

		if (sieve_testsuite_send(ts, from, rcpt, str_data(data), str_len(data)) < 0)
			return -1;
		p = comma == NULL ? "" : comma + 1;
	}
	return 0;
}

static int execute_action(struct sieve_testsuite *ts, const struct sieve_result *result,
			  const struct sieve_action *action)
{
	switch (action->type) {
	case SIEVE_ACTION_KEEP:
	case SIEVE_ACTION_FILEINTO:
		return execute_store(ts, result, action);
	case SIEVE_ACTION_REDIRECT:
		return execute_redirect(ts, action);
	case SIEVE_ACTION_REJECT:
	case SIEVE_ACTION_EREJECT:
		return execute_reject(ts, action);
	case SIEVE_ACTION_VACATION:
		return execute_vacation(ts, action->vacation);
	case SIEVE_ACTION_NOTIFY:
		return execute_notify(ts, action->notify);
	case SIEVE_ACTION_DISCARD:
		return 0;
	}
	return 0;
}

int sieve_testsuite_result_execute(struct sieve_testsuite *ts, struct sieve_run *run)
{
	const struct sieve_result *result = sieve_run_get_result(run);
	struct sieve_action keep = { .type = SIEVE_ACTION_KEEP, .implicit = true };
	int ret = 0;

	for (unsigned int i = ts->executed_actions; i < result->actions.count; i++) {
		if (execute_action(ts, result, &result->actions.v[i]) < 0)
			ret = -1;
	}
	ts->executed_actions = result->actions.count;
	for (unsigned int i = 0; i < result->duplicate_marks.count; i++)
		array_push(&ts->duplicates, p_strdup(ts->pool, result->duplicate_marks.v[i].id));
	/* RFC 5228 §2.10.6: a failed action falls back to keep */
	if ((ret < 0 || sieve_run_implicit_keep(run)) && !ts->implicit_kept) {
		ts->implicit_kept = true;
		if (execute_store(ts, result, &keep) < 0)
			ret = -1;
	}
	return ret;
}
