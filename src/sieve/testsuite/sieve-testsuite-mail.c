/* Carrying out a result in the runner's simulated world: keep and fileinto
 * store into the in-memory mailboxes (with imap4flags flags and editheader
 * changes), redirect, reject (RFC 5429 §2.1), vacation (RFC 5230 §5) and
 * mailto notifications (RFC 5436) become messages in the outgoing queue
 * that test_message :smtp reads back. */
#include "sieve-testsuite-ext.h"
#include "sieve-extension.h"
#include "date.h"
#include "mime-address.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *sieve_testsuite_action_name(const struct sieve_action *action)
{
	switch (action->type) {
	case SIEVE_ACTION_KEEP: return "keep";
	case SIEVE_ACTION_FILEINTO: return "store";
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
						      const struct sieve_result *result,
						      const struct sieve_action *action)
{
	const struct sieve_testsuite_message *msg = ts->msg;
	string_t *data;

	if (result->header_edits.count == 0 || action->header_edits == 0)
		return ts->msg;
	data = t_str_new(msg->size + 256);
	sieve_header_edits_apply_action(result, action, msg->data, msg->body_offset, data);
	str_append_n(data, msg->data + msg->body_offset, msg->size - msg->body_offset);
	struct sieve_testsuite_message *edited =
		sieve_testsuite_message_parse(str_data(data), str_len(data));
	array_push(&ts->messages, edited);
	return edited;
}

/* The store's naming rule (as a Maildir++ or IMAP store has): the
   hierarchy separator '/' never starts or ends a name nor stands twice. */
static bool mailbox_name_storable(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[0] != '/' && name[len - 1] != '/' &&
		strstr(name, "//") == NULL;
}

static int execute_store(struct sieve_testsuite *ts, const struct sieve_result *result,
			 const struct sieve_action *action)
{
	const char *name = action->type == SIEVE_ACTION_KEEP ? "INBOX" : action->target;
	struct sieve_testsuite_mailbox *box = sieve_testsuite_mailbox_find(ts, name);
	unsigned int flag_count = 0;

	if (box == NULL && !mailbox_name_storable(name)) {
		sieve_testsuite_error_add(ts, t_strdup_printf(
			"failed to store into mailbox '%s': invalid mailbox name", name));
		return -1;
	}

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
	if (sieve_testsuite_mailbox_save(ts, box, stored_message(ts, result, action),
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

/* The user's address a redirect names in X-Sieve-Redirected-From:
   sieve_user_email, else the final recipient. */
static const char *redirect_user_address(struct sieve_testsuite *ts)
{
	const char *user_email = sieve_testsuite_setting_get(ts, "sieve_user_email");

	return user_email != NULL && *user_email != '\0' ? user_email : ts->envelope.to;
}

/* The message went through this user's redirect before: redirecting it
   again would loop. */
static bool redirect_is_loop(struct sieve_testsuite *ts, const char *user)
{
	const char *const *values =
		sieve_testsuite_message_headers(ts->msg, t_pool(), "X-Sieve-Redirected-From");

	for (unsigned int i = 0; user != NULL && values[i] != NULL; i++) {
		const char *v = values[i];
		size_t len;

		while (*v == ' ' || *v == '\t')
			v++;
		len = strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len > 2 && v[0] == '<' && v[len - 1] == '>') {
			v++;
			len -= 2;
		}
		if (strlen(user) == len && strncasecmp(v, user, len) == 0)
			return true;
	}
	return false;
}

static int execute_redirect(struct sieve_testsuite *ts, const struct sieve_result *result,
			    const struct sieve_action *action)
{
	/* RFC 5293 §1: the edited message is what gets redirected */
	const struct sieve_testsuite_message *msg = stored_message(ts, result, action);
	string_t *data = t_str_new(msg->size + 128);
	const char *user = redirect_user_address(ts);

	/* either of the user's addresses in the trace means it was here */
	if (redirect_is_loop(ts, user) || redirect_is_loop(ts, ts->envelope.to)) {
		/* kept instead, as delivery does with a loop */
		struct sieve_action keep = {
			.type = SIEVE_ACTION_KEEP, .header_edits = action->header_edits,
		};
		return ts->implicit_kept ? 0 : execute_store(ts, result, &keep);
	}
	if (user != NULL)
		header_add(data, "X-Sieve-Redirected-From", user);
	str_append_n(data, msg->data, msg->size);
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

static bool setting_yes(struct sieve_testsuite *ts, const char *name)
{
	const char *value = sieve_testsuite_setting_get(ts, name);

	return value != NULL && strcasecmp(value, "yes") == 0;
}

/* The reply's subject: :subject, else the configured template ("%$" or
   "%{subject}" is the original subject) or "Auto: " + the original's,
   else the configured default; at most sieve_vacation_max_subject_codepoints
   characters, "…" marking a cut. */
static const char *vacation_subject(struct sieve_testsuite *ts, const struct sieve_vacation *vac)
{
	const char *tmpl = sieve_testsuite_setting_get(ts, "sieve_vacation_default_subject_template");
	const char *dflt = sieve_testsuite_setting_get(ts, "sieve_vacation_default_subject");
	const char *max_str = sieve_testsuite_setting_get(ts, "sieve_vacation_max_subject_codepoints");
	const char *subject = vac->subject, *orig = vac->original_subject;
	unsigned long max = max_str == NULL ? 256 : strtoul(max_str, NULL, 10);
	size_t pos = 0, chars = 0;

	if (subject == NULL || *subject == '\0') {
		if (orig == NULL) {
			subject = dflt != NULL && *dflt != '\0' ? dflt : "Automated reply";
		} else if (tmpl != NULL && *tmpl != '\0') {
			string_t *str = t_str_new(128);

			for (const char *p = tmpl; *p != '\0'; p++) {
				if (p[0] == '%' && p[1] == '$') {
					str_append(str, orig);
					p++;
				} else if (strncmp(p, "%{subject}", 10) == 0) {
					str_append(str, orig);
					p += 9;
				} else {
					str_append_c(str, *p);
				}
			}
			subject = str_c(str);
		} else {
			subject = t_strconcat("Auto: ", orig, NULL);
		}
	}
	/* count UTF-8 characters; cut one short to make room for "…" */
	for (; subject[pos] != '\0'; chars++) {
		if (chars + 1 == max && strlen(subject + pos) > 0) {
			size_t rest = pos, n = 0;

			while (subject[rest] != '\0' && n < 2) {
				rest++;
				while ((subject[rest] & 0xc0) == 0x80)
					rest++;
				n++;
			}
			if (n > 1)
				return t_strconcat(t_strndup(subject, pos), "\xe2\x80\xa6", NULL);
		}
		pos++;
		while ((subject[pos] & 0xc0) == 0x80)
			pos++;
	}
	return subject;
}

/* RFC 5230 §5: the To header names the reply's recipient as the original
   message did (Sender, Resent-From or From holding that address, with its
   display name). */
static const char *vacation_to(struct sieve_testsuite *ts, const char *recipient)
{
	static const char *const headers[] = { "Sender", "Resent-From", "From" };
	bool any = setting_yes(ts, "sieve_vacation_to_header_ignore_envelope");

	for (unsigned int i = 0; i < N_ELEMENTS(headers); i++) {
		const char *value = first_header(ts, headers[i]);
		struct mime_address_list list = { NULL, NULL, 0 };

		if (value == NULL)
			continue;
		mime_address_parse(t_pool(), value, strlen(value), 64, 0, &list);
		for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
			const char *addr;

			if (a->domain == NULL || *a->domain == '\0' || a->invalid)
				continue;
			addr = t_strconcat(a->mailbox, "@", a->domain, NULL);
			if (!any && strcasecmp(addr, recipient) != 0)
				continue;
			if (a->name == NULL)
				return t_strdup_printf("<%s>", addr);
			string_t *str = t_str_new(128);

			str_append_c(str, '"');
			for (const char *p = a->name; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					str_append_c(str, '\\');
				str_append_c(str, *p);
			}
			str_printfa(str, "\" <%s>", addr);
			return str_c(str);
		}
	}
	return t_strdup_printf("<%s>", recipient);
}

/* RFC 5230 §5: the reply, sent with the null reverse path (§5.1). */
static int execute_vacation(struct sieve_testsuite *ts, const struct sieve_vacation *vac)
{
	const char *to = vac->recipient, *from = vac->from;
	const char *references = first_header(ts, "References");
	string_t *data = t_str_new(1024);

	/* no duplicate-response database here, as in pigeonhole's runner:
	   every test expects its reply */
	if (from == NULL)
		from = vac->reply_from != NULL ? vac->reply_from : ts->envelope.to;
	header_add(data, "X-Sieve", "Tern tern-sieve-test");
	compose_date_and_id(data);
	header_add(data, "From", from == NULL ? "" : from);
	header_add(data, "To", vacation_to(ts, to));
	header_add(data, "Subject", vacation_subject(ts, vac));
	/* RFC 5230 §5.8: In-Reply-To and References thread the reply */
	if (vac->original_message_id != NULL) {
		header_add(data, "In-Reply-To", vac->original_message_id);
		header_add(data, "References", references == NULL ? vac->original_message_id :
			   t_strconcat(references, "\r\n ", vac->original_message_id, NULL));
	} else if (references != NULL) {
		header_add(data, "References", references);
	}
	header_add(data, "Auto-Submitted", "auto-replied (vacation)");
	header_add(data, "Precedence", "bulk");
	header_add(data, "MIME-Version", "1.0");
	if (!vac->mime) {
		header_add(data, "Content-Type", "text/plain; charset=utf-8");
		header_add(data, "Content-Transfer-Encoding", "8bit");
		str_append(data, "\r\n");
	}
	str_append(data, vac->reason);
	/* RFC 5230 §5.1 wants the null path; Pigeonhole can be told to
	   send from the recipient instead */
	return sieve_testsuite_send(ts, setting_yes(ts, "sieve_vacation_send_from_recipient") &&
				    ts->envelope.to != NULL ? ts->envelope.to : "",
				    to, str_data(data), str_len(data));
}

/* sieve_notify_mailto_envelope_from: the null path stays null; the
   setting (sender, recipient, orig_recipient, user_email, postmaster,
   <address>) wins; by default :from, else the postmaster */
static const char *notify_envelope_from(struct sieve_testsuite *ts,
					const struct sieve_notify *notify)
{
	const char *setting = sieve_testsuite_setting_get(ts, "sieve_notify_mailto_envelope_from");
	const char *user_email = sieve_testsuite_setting_get(ts, "sieve_user_email");
	const char *postmaster = sieve_testsuite_setting_get(ts, "postmaster_address");

	if (postmaster == NULL)
		postmaster = "postmaster@example.com";
	if (ts->envelope.from == NULL || *ts->envelope.from == '\0')
		return "";
	if (setting == NULL || *setting == '\0' || strcmp(setting, "default") == 0)
		return notify->from != NULL ? notify->from : postmaster;
	if (strcmp(setting, "sender") == 0)
		return ts->envelope.from;
	if (strcmp(setting, "recipient") == 0)
		return ts->envelope.to != NULL ? ts->envelope.to : "";
	if (strcmp(setting, "orig_recipient") == 0)
		return ts->envelope.orig_to != NULL ? ts->envelope.orig_to : ts->envelope.to;
	if (strcmp(setting, "user_email") == 0)
		return user_email != NULL ? user_email : ts->envelope.to;
	if (setting[0] == '<' && strlen(setting) >= 2)
		return t_strndup(setting + 1, strlen(setting) - 2);
	return postmaster;
}

static void notify_header_list(string_t *dest, const char *name, const struct sieve_mailto *mailto,
			       enum sieve_mailto_field field, const bool *skip)
{
	bool first = true;

	for (unsigned int i = 0; i < mailto->recipients.count; i++) {
		if (mailto->recipients.v[i].field != field || skip[i])
			continue;
		if (first)
			str_printfa(dest, "%s: %s", name, mailto->recipients.v[i].text);
		else
			str_printfa(dest, ",\r\n\t%s", mailto->recipients.v[i].text);
		first = false;
	}
	if (!first)
		str_append(dest, "\r\n");
}

/* RFC 5436 §2: one message per recipient of the mailto URI; recipients
   an earlier notification of this result reached are left out (§2.7) */
static int execute_notify(struct sieve_testsuite *ts, const struct sieve_notify *notify,
			  array_str_t *notified)
{
	static const char *const priorities[] = {
		"1 (Highest)", "High", "3 (Normal)", "Normal", "5 (Lowest)", "Low",
	};
	const struct sieve_mailto *mailto = notify->mailto;
	const char *subject, *body, *from = notify_envelope_from(ts, notify);
	unsigned int prio = notify->importance[0] == '1' ? 0 : notify->importance[0] == '3' ? 2 : 1;
	string_t *data = t_str_new(1024);
	bool *skip;

	if (mailto == NULL || notify->suppress_reason != NULL)
		return 0;
	skip = t_new(bool, mailto->recipients.count + 1);
	for (unsigned int i = 0; i < mailto->recipients.count; i++) {
		for (unsigned int j = 0; j < notified->count; j++) {
			if (strcasecmp(notified->v[j], mailto->recipients.v[i].address) == 0)
				skip[i] = true;
		}
	}
	subject = mailto->subject != NULL ? mailto->subject :
		notify->message != NULL ? notify->message : first_header(ts, "Subject");
	body = mailto->body != NULL ? mailto->body :
		notify->message != NULL ? notify->message : "";
	header_add(data, "X-Sieve", "Tern Sieve (tern-sieve-test)");
	header_add(data, "From", notify->from != NULL ? notify->from :
		   t_strdup_printf("Postmaster <%s>", "postmaster@example.com"));
	notify_header_list(data, "To", mailto, SIEVE_MAILTO_TO, skip);
	notify_header_list(data, "Cc", mailto, SIEVE_MAILTO_CC, skip);
	header_add(data, "Subject", subject == NULL ? "Notification" : subject);
	for (unsigned int i = 0; i < mailto->headers.count; i++)
		header_add(data, mailto->headers.v[i].name, mailto->headers.v[i].value);
	compose_date_and_id(data);
	header_add(data, "Auto-Submitted", "auto-notified; owner-email=\"recipient@example.com\"");
	header_add(data, "Precedence", "bulk");
	header_add(data, "X-Priority", priorities[prio * 2]);
	header_add(data, "Importance", priorities[prio * 2 + 1]);
	header_add(data, "Content-Type", "text/plain; charset=utf-8");
	header_add(data, "Content-Transfer-Encoding", "8bit");
	str_append(data, "\r\n");
	str_append(data, body);
	str_append(data, "\r\n");
	for (unsigned int i = 0; i < mailto->recipients.count; i++) {
		if (skip[i])
			continue;
		array_push(notified, p_strdup(ts->pool, mailto->recipients.v[i].address));
		if (sieve_testsuite_send(ts, from, mailto->recipients.v[i].address,
					 str_data(data), str_len(data)) < 0)
			return -1;
	}
	return 0;
}

static int execute_action(struct sieve_testsuite *ts, const struct sieve_result *result,
			  const struct sieve_action *action, array_str_t *notified)
{
	switch (action->type) {
	case SIEVE_ACTION_KEEP:
	case SIEVE_ACTION_FILEINTO:
		return execute_store(ts, result, action);
	case SIEVE_ACTION_REDIRECT:
		return execute_redirect(ts, result, action);
	case SIEVE_ACTION_REJECT:
	case SIEVE_ACTION_EREJECT:
		return execute_reject(ts, action);
	case SIEVE_ACTION_VACATION:
		/* RFC 5230 §4.5/§4.6: the engine decided no reply goes out */
		if (action->vacation->suppress_reason != NULL)
			return 0;
		return execute_vacation(ts, action->vacation);
	case SIEVE_ACTION_NOTIFY:
		return execute_notify(ts, action->notify, notified);
	case SIEVE_ACTION_DISCARD:
		return 0;
	}
	return 0;
}

int sieve_testsuite_result_execute(struct sieve_testsuite *ts, struct sieve_run *run)
{
	const struct sieve_result *result = sieve_run_get_result(run);
	struct sieve_action keep = { .type = SIEVE_ACTION_KEEP, .implicit = true };
	array_str_t notified;
	int ret = 0;

	array_init(&notified, t_pool(), 8);
	for (unsigned int i = ts->executed_actions; i < result->actions.count; i++) {
		if (execute_action(ts, result, &result->actions.v[i], &notified) < 0)
			ret = -1;
	}
	ts->executed_actions = result->actions.count;
	/* scripts run after this one meet these actions as carried out */
	sieve_run_mark_executed(run);
	for (unsigned int i = 0; i < result->duplicate_marks.count; i++)
		array_push(&ts->duplicates, p_strdup(ts->pool, result->duplicate_marks.v[i].id));
	/* RFC 5228 §2.10.6: a failed action falls back to keep */
	if ((ret < 0 || sieve_run_implicit_keep(run)) && !ts->implicit_kept) {
		ts->implicit_kept = true;
		/* the fallback keeps the message as it came */
		keep.header_edits = ret < 0 ? 0 : result->header_edits.count;
		if (execute_store(ts, result, &keep) < 0)
			ret = -1;
	}
	return ret;
}
