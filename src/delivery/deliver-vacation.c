/* Vacation auto-replies (RFC 5230, RFC 6131 :seconds): when a reply may
 * be sent (§4.5-§4.7 and RFC 3834 §2: not to the null sender, automatic
 * or list mail, mailer daemons, mail not addressed to the user, or the
 * user's own mail), the response-tracking database (§4.2: one reply per
 * sender and :handle per period, in the user's duplicate database) and
 * the reply itself (§5: null envelope sender, Auto-Submitted, In-Reply-To
 * and References). */
#include "deliver-private.h"
#include "mime-address.h"

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

static bool vacation_address_matches(const char *addr, const struct deliver_ctx *ctx,
				     const struct deliver_vacation *vac)
{
	if (strcasecmp(addr, ctx->in->rcpt) == 0 || strcasecmp(addr, ctx->in->user->name) == 0)
		return true;
	/* the recipient without its +detail */
	const char *at = strrchr(ctx->in->rcpt, '@');
	const char *delims = ctx->set->lmtp.detail_delimiter;
	if (at != NULL && delims[0] != '\0') {
		size_t len = strcspn(ctx->in->rcpt, delims);
		if (len < (size_t)(at - ctx->in->rcpt) &&
		    strcasecmp(addr, t_strdup_printf("%.*s%s", (int)len, ctx->in->rcpt, at)) == 0)
			return true;
	}
	for (unsigned int i = 0; vac->addresses != NULL && vac->addresses[i] != NULL; i++) {
		if (strcasecmp(addr, vac->addresses[i]) == 0)
			return true;
	}
	return false;
}

/* RFC 5230 §4.5: one of the user's addresses in a recipient field. */
static bool vacation_is_addressed(struct deliver_ctx *ctx, const struct deliver_vacation *vac)
{
	static const char *const fields[] = {
		"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc", NULL
	};
	for (unsigned int f = 0; fields[f] != NULL; f++) {
		const char *const *values = deliver_message_get_headers(ctx->msg, fields[f]);
		for (unsigned int i = 0; values[i] != NULL; i++) {
			struct mime_address_list list = { .head = NULL };
			mime_address_parse(t_pool(), values[i], strlen(values[i]), 256, 0, &list);
			for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
				if (a->mailbox == NULL || a->domain == NULL)
					continue;
				const char *addr = a->domain[0] == '\0' ? a->mailbox :
					t_strdup_printf("%s@%s", a->mailbox, a->domain);
				if (vacation_address_matches(addr, ctx, vac))
					return true;
			}
		}
	}
	return false;
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
	const char *refusal = vacation_refusal(ctx), *error;
	if (refusal == NULL && !vacation_is_addressed(ctx, vac))
		refusal = "not addressed to the user";
	if (refusal == NULL && vacation_address_matches(ctx->in->sender, ctx, vac))
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
