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

/* The address of a mailto: URI (RFC 6068), %XX-decoded; NULL if none. */
static const char *notify_mailto_address(const char *method)
{
	if (strncasecmp(method, "mailto:", 7) != 0)
		return NULL;
	const char *p = method + 7;
	size_t len = strcspn(p, "?,");
	string_t *str = t_str_new(len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned int c;
		if (p[i] == '%' && i + 2 < len + 1 && sscanf(p + i + 1, "%2x", &c) == 1) {
			str_append_c(str, (char)c);
			i += 2;
		} else {
			str_append_c(str, p[i]);
		}
	}
	const char *addr = str_c(str);
	if (addr[0] == '\0' || strchr(addr, '@') == NULL || strpbrk(addr, "\r\n<> ") != NULL)
		return NULL;
	return addr;
}

int deliver_notify_execute(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	const struct deliver_notify *n = act->notify;
	const char *to = notify_mailto_address(n->method), *error;
	/* RFC 5436 §2.7: never for automatic mail */
	const char *refusal = to == NULL ? "unsupported notification method" :
		vacation_refusal(ctx);
	if (refusal != NULL && to != NULL && ctx->in->sender[0] == '\0')
		refusal = NULL; /* a bounce may be notified about; it is not answered */
	if (refusal != NULL) {
		log_info(ctx->in->log, "notify_skipped", "user=%s method=%s reason=%s",
			 log_value(ctx->in->user->name), log_value(n->method), log_value(refusal));
		return 0;
	}
	const char *subject = deliver_message_get_first(ctx->msg, "Subject");
	const char *from = deliver_message_get_first(ctx->msg, "From");
	const char *text = n->message != NULL ? n->message :
		t_strdup_printf("New mail from %s: %s", from == NULL ? "unknown" : from,
				subject == NULL ? "" : subject);
	string_t *str = t_str_new(512);
	str_printfa(str, "From: %s\r\n", deliver_header_value(
		n->from != NULL ? n->from : deliver_postmaster_address(ctx)));
	str_printfa(str, "To: <%s>\r\n", to);
	str_printfa(str, "Subject: %s\r\n", deliver_header_value(text));
	str_printfa(str, "Date: %s\r\n", deliver_date_now());
	str_printfa(str, "Message-ID: <%s@%s>\r\n", deliver_unique_token(), deliver_ctx_helo(ctx));
	/* RFC 5436 §2.7 */
	str_append(str, "Auto-Submitted: auto-notified\r\n");
	str_append(str, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n\r\n");
	str_printfa(str, "%s\r\n", text);
	const struct deliver_submit_request req = {
		.sender = "", .rcpt = to, .helo = deliver_ctx_helo(ctx), .prefix = str_c(str),
	};
	if (deliver_submit(&ctx->set->submission, &req, &error) <= 0) {
		log_error(ctx->in->log, "notify_failed", "user=%s to=%s error=%s",
			  log_value(ctx->in->user->name), log_value(to), log_value(error));
		return -1;
	}
	log_info(ctx->in->log, "notify_sent", "user=%s to=%s", log_value(ctx->in->user->name),
		 log_value(to));
	return 1;
}
