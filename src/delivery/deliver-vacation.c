/* Vacation auto-replies (RFC 5230, RFC 6131 :seconds): when a reply may
 * be sent (§4.5-§4.7 and RFC 3834 §2: not to the null sender, automatic
 * or list mail, mailer daemons, mail not addressed to the user, or the
 * user's own mail), the response-tracking database (§4.2: one reply per
 * sender and :handle per period, in the user's duplicate database) and
 * the reply itself (§5: null envelope sender, Auto-Submitted, In-Reply-To
 * and References). */
#include "deliver-private.h"

#include <strings.h>

/* RFC 5230 §4.6: local parts that are never answered */
static bool vacation_sender_is_daemon(const char *sender)
{
	static const char *const names[] = {
		"mailer-daemon", "listserv", "majordomo", "postmaster", NULL
	};
	const char *at = strrchr(sender, '@');
	size_t len = at == NULL ? strlen(sender) : (size_t)(at - sender);
	const char *local = t_strndup(sender, len);
	for (unsigned int i = 0; names[i] != NULL; i++) {
		if (strcasecmp(local, names[i]) == 0)
			return true;
	}
	return strncasecmp(local, "owner-", 6) == 0 ||
		(len > 8 && strcasecmp(local + len - 8, "-request") == 0);
}

/* Why no reply may be sent (RFC 3834 §2, RFC 5230 §4.6), or NULL. */
static const char *vacation_refusal(struct deliver_ctx *ctx)
{
	if (ctx->in->sender[0] == '\0')
		return "null sender";
	const char *v = deliver_message_get_first(ctx->msg, "Auto-Submitted");
	if (v != NULL && strncasecmp(v, "no", 2) != 0)
		return "auto-submitted message";
	v = deliver_message_get_first(ctx->msg, "Precedence");
	if (v != NULL && (strcasecmp(v, "bulk") == 0 || strcasecmp(v, "list") == 0 ||
			  strcasecmp(v, "junk") == 0))
		return "bulk or list message";
	static const char *const list_fields[] = {
		"List-Id", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Post",
		"List-Owner", "List-Archive", NULL
	};
	for (unsigned int i = 0; list_fields[i] != NULL; i++) {
		if (deliver_message_get_first(ctx->msg, list_fields[i]) != NULL)
			return "mailing list message";
	}
	if (vacation_sender_is_daemon(ctx->in->sender))
		return "sender is a mailer daemon or list";
	return NULL;
}

static uint64_t vacation_period(const struct deliver_ctx *ctx, const struct deliver_vacation *vac)
{
	const struct sieve_settings *set = &ctx->set->sieve;
	uint64_t secs = vac->period_secs != 0 ? vac->period_secs :
		set->vacation_default_period_ms / 1000;
	if (secs < set->vacation_min_period_ms / 1000)
		secs = set->vacation_min_period_ms / 1000;
	if (set->vacation_max_period_ms != 0 && secs > set->vacation_max_period_ms / 1000)
		secs = set->vacation_max_period_ms / 1000;
	return secs;
}

static const char *vacation_compose(struct deliver_ctx *ctx, const struct deliver_vacation *vac)
{
	const char *subject = deliver_message_get_first(ctx->msg, "Subject");
	const char *msgid = deliver_message_get_first(ctx->msg, "Message-ID");
	const char *refs = deliver_message_get_first(ctx->msg, "References");
	string_t *str = t_str_new(1024);
	str_printfa(str, "From: %s\r\n", vac->from != NULL ? deliver_header_value(vac->from) :
		    t_strdup_printf("<%s>", ctx->in->rcpt));
	str_printfa(str, "To: <%s>\r\n", ctx->in->sender);
	/* RFC 5230 §5.5 */
	str_printfa(str, "Subject: %s\r\n", deliver_header_value(
		vac->subject != NULL ? vac->subject :
		t_strdup_printf("Auto: %s", subject == NULL ? "" : subject)));
	str_printfa(str, "Date: %s\r\n", deliver_date_now());
	str_printfa(str, "Message-ID: <%s@%s>\r\n", deliver_unique_token(), deliver_ctx_helo(ctx));
	/* RFC 5230 §5.8 */
	if (msgid != NULL) {
		str_printfa(str, "In-Reply-To: %s\r\n", deliver_header_value(msgid));
		str_printfa(str, "References: %s%s%s\r\n", refs == NULL ? "" :
			    deliver_header_value(refs), refs == NULL ? "" : " ",
			    deliver_header_value(msgid));
	}
	/* RFC 5230 §5.6, RFC 3834 §5 */
	str_append(str, "Auto-Submitted: auto-replied (vacation)\r\n");
	str_append(str, "Precedence: bulk\r\n");
	str_append(str, "MIME-Version: 1.0\r\n");
	if (!vac->mime)
		str_append(str, "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: 8bit\r\n\r\n");
	/* with :mime the reason starts with its own MIME header fields */
	str_append(str, vac->reason);
	return str_c(str);
}

/* RFC 5230 §4.2: the handle defaults to what makes two actions
   different replies */
static const char *vacation_handle(const struct deliver_vacation *vac)
{
	if (vac->handle != NULL)
		return vac->handle;
	return t_strdup_printf("%s\n%s\n%s\n%d", vac->reason,
			       vac->subject == NULL ? "" : vac->subject,
			       vac->from == NULL ? "" : vac->from, vac->mime ? 1 : 0);
}

int deliver_vacation_execute(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	const struct deliver_vacation *vac = act->vacation;
	/* the engine checked §4.5 (addressed to the user) and §4.6; these
	   RFC 3834 rules are checked here again as the last line */
	const char *refusal = vac->suppress_reason, *error;
	if (refusal == NULL)
		refusal = vacation_refusal(ctx);
	if (refusal == NULL && strcasecmp(ctx->in->sender, ctx->in->rcpt) == 0)
		refusal = "sender is the user";
	if (refusal != NULL) {
		log_info(ctx->in->log, "vacation_skipped", "user=%s sender=%s reason=%s",
			 log_value(ctx->in->user->name), log_value(ctx->in->sender),
			 log_value(refusal));
		return 0;
	}
	uint64_t period = vacation_period(ctx, vac);
	const char *id = t_strdup_printf("%s\n%s", ctx->in->sender, vacation_handle(vac));
	if (deliver_ctx_duplicate(ctx) < 0)
		return -1; /* no tracking: better no reply than a flood */
	if (period > 0 && deliver_duplicate_exists(ctx->dup, "vacation", id, strlen(id), ctx->now)) {
		log_info(ctx->in->log, "vacation_skipped", "user=%s sender=%s reason=%s",
			 log_value(ctx->in->user->name), log_value(ctx->in->sender),
			 "already replied");
		return 0;
	}
	const struct deliver_submit_request req = {
		.sender = "", .rcpt = ctx->in->sender, .helo = deliver_ctx_helo(ctx),
		.prefix = vacation_compose(ctx, vac),
	};
	if (deliver_submit(&ctx->set->submission, &req, &error) <= 0) {
		log_error(ctx->in->log, "vacation_failed", "user=%s to=%s error=%s",
			  log_value(ctx->in->user->name), log_value(ctx->in->sender),
			  log_value(error));
		return -1;
	}
	log_info(ctx->in->log, "vacation_sent", "user=%s to=%s period=%llu",
		 log_value(ctx->in->user->name), log_value(ctx->in->sender),
		 (unsigned long long)period);
	if (period > 0) {
		deliver_duplicate_mark(ctx->dup, "vacation", id, strlen(id),
				       ctx->now + (time_t)period);
		if (deliver_duplicate_commit(ctx->dup, &error) < 0)
			log_error(ctx->in->log, "duplicate_db_failed", "user=%s error=%s",
				  log_value(ctx->in->user->name), log_value(error));
	}
	return 1;
}

/* Why no notification may be sent (RFC 5436 §2.7: never for automatic
   mail), or NULL. A bounce may be notified about: it is not answered. */
static const char *notify_refusal(struct deliver_ctx *ctx, const struct deliver_notify *n)
{
	if (n->mailto == NULL)
		return "unsupported notification method";
	if (n->suppress_reason != NULL)
		return n->suppress_reason;
	if (ctx->in->sender[0] == '\0')
		return NULL;
	return vacation_refusal(ctx);
}

/* "To:"/"Cc:" with the URI's recipients of that kind as written; nothing
   when there are none (Bcc recipients are never shown) */
static void notify_append_recipients(string_t *str, const char *field,
				     const struct sieve_mailto *mailto,
				     enum sieve_mailto_field kind)
{
	bool first = true;
	for (unsigned int i = 0; i < mailto->recipients.count; i++) {
		const struct sieve_mailto_recipient *r = &mailto->recipients.v[i];
		if (r->field != kind)
			continue;
		str_append(str, first ? field : ",\r\n ");
		str_append(str, deliver_header_value(r->text));
		first = false;
	}
	if (!first)
		str_append(str, "\r\n");
}

/* RFC 5436 §2.2-§2.7: the notification message for the mailto URI */
static const char *notify_compose(struct deliver_ctx *ctx, const struct deliver_notify *n)
{
	const struct sieve_mailto *mailto = n->mailto;
	const char *subject = deliver_message_get_first(ctx->msg, "Subject");
	const char *from = deliver_message_get_first(ctx->msg, "From");
	const char *summary = n->message != NULL ? n->message :
		t_strdup_printf("New mail from %s: %s", from == NULL ? "unknown" : from,
				subject == NULL ? "" : subject);
	string_t *str = t_str_new(512);
	str_printfa(str, "From: %s\r\n", deliver_header_value(
		n->from != NULL ? n->from : deliver_postmaster_address(ctx)));
	notify_append_recipients(str, "To: ", mailto, SIEVE_MAILTO_TO);
	notify_append_recipients(str, "Cc: ", mailto, SIEVE_MAILTO_CC);
	/* §2.3: the URI's subject wins over :message */
	str_printfa(str, "Subject: %s\r\n", deliver_header_value(
		mailto->subject != NULL ? mailto->subject : summary));
	for (unsigned int i = 0; i < mailto->headers.count; i++) {
		const struct sieve_mailto_header *h = &mailto->headers.v[i];
		str_printfa(str, "%s: %s\r\n", h->name, deliver_header_value(h->value));
	}
	str_printfa(str, "Date: %s\r\n", deliver_date_now());
	str_printfa(str, "Message-ID: <%s@%s>\r\n", deliver_unique_token(), deliver_ctx_helo(ctx));
	str_append(str, "Auto-Submitted: auto-notified\r\n");
	str_append(str, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n\r\n");
	/* §2.4: the URI's body, else the :message text */
	str_printfa(str, "%s\r\n", mailto->body != NULL ? mailto->body : summary);
	return str_c(str);
}

int deliver_notify_execute(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	const struct deliver_notify *n = act->notify;
	const char *refusal = notify_refusal(ctx, n), *error;
	if (refusal != NULL) {
		log_info(ctx->in->log, "notify_skipped", "user=%s method=%s reason=%s",
			 log_value(ctx->in->user->name), log_value(n->method), log_value(refusal));
		return 0;
	}
	const char *message = notify_compose(ctx, n);
	int ret = 1;
	/* one submission per recipient: a refused one doesn't stop the rest */
	for (unsigned int i = 0; i < n->mailto->recipients.count; i++) {
		const char *to = n->mailto->recipients.v[i].address;
		const struct deliver_submit_request req = {
			.sender = "", .rcpt = to, .helo = deliver_ctx_helo(ctx), .prefix = message,
		};
		if (deliver_submit(&ctx->set->submission, &req, &error) <= 0) {
			log_error(ctx->in->log, "notify_failed", "user=%s to=%s error=%s",
				  log_value(ctx->in->user->name), log_value(to), log_value(error));
			ret = -1;
			continue;
		}
		log_info(ctx->in->log, "notify_sent", "user=%s to=%s",
			 log_value(ctx->in->user->name), log_value(to));
	}
	return ret;
}
