/* Rejection messages for the Sieve reject action (RFC 5429 §2.1.1): an
 * MDN (RFC 3798 §3) with the disposition "deleted", the script's reason
 * as its human-readable part and the original message attached, sent from
 * the null sender to the envelope sender. Never sent for mail from the
 * null sender (RFC 5429 §2.1: such a message is discarded). Also the
 * pieces auto-replies share: the postmaster address, our host name, new
 * Message-IDs and header encoding. */
#include "deliver-private.h"
#include "date.h"

#include <sys/random.h>
#include <unistd.h>

const char *deliver_ctx_helo(const struct deliver_ctx *ctx)
{
	const char *host = ctx->set->lmtp.hostname;
	static char name[256];
	if (host[0] != '\0')
		return host;
	if (name[0] == '\0' && (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0'))
		strcpy(name, "localhost");
	return name;
}

const char *deliver_postmaster_address(const struct deliver_ctx *ctx)
{
	const char *addr = ctx->set->submission.postmaster_address;
	if (addr[0] != '\0')
		return addr;
	return t_strdup_printf("postmaster@%s", deliver_ctx_helo(ctx));
}

/* A new unique Message-ID / MIME boundary token. */
const char *deliver_unique_token(void)
{
	static unsigned int counter;
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return t_strdup_printf("%llx.%x.%u.%016llx", (unsigned long long)time(NULL),
			       (unsigned int)getpid(), ++counter, (unsigned long long)rnd);
}

const char *deliver_date_now(void)
{
	time_t now = time(NULL);
	struct tm tm;
	int tz = 0;
	if (localtime_r(&now, &tm) != NULL)
		tz = (int)(tm.tm_gmtoff / 60);
	return rfc5322_date_format(now, tz);
}

/* A header value made safe for one line: control characters (CR, LF)
   become spaces, so script text can't add header fields. 8-bit text is
   left as UTF-8 (RFC 6532). */
const char *deliver_header_value(const char *value)
{
	char *v = t_strdup_printf("%s", value);
	for (char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
	}
	return v;
}

static const char *deliver_reject_compose(struct deliver_ctx *ctx, const char *reason,
					  const char *boundary, const char **suffix_r)
{
	const char *subject = deliver_message_get_first(ctx->msg, "Subject");
	const char *msgid = deliver_message_get_first(ctx->msg, "Message-ID");
	string_t *str = t_str_new(1024);
	str_printfa(str, "From: Mail Delivery System <%s>\r\n", deliver_postmaster_address(ctx));
	str_printfa(str, "To: <%s>\r\n", ctx->in->sender);
	str_printfa(str, "Subject: Rejected: %s\r\n",
		    deliver_header_value(subject == NULL ? "(no subject)" : subject));
	str_printfa(str, "Date: %s\r\n", deliver_date_now());
	str_printfa(str, "Message-ID: <%s@%s>\r\n", deliver_unique_token(), deliver_ctx_helo(ctx));
	if (msgid != NULL)
		str_printfa(str, "In-Reply-To: %s\r\n", deliver_header_value(msgid));
	/* RFC 3834 §5 */
	str_append(str, "Auto-Submitted: auto-replied (rejected)\r\n");
	str_append(str, "MIME-Version: 1.0\r\n");
	str_printfa(str, "Content-Type: multipart/report; "
		    "report-type=disposition-notification;\r\n\tboundary=\"%s\"\r\n\r\n", boundary);
	str_append(str, "This is a MIME-encapsulated message.\r\n\r\n");
	str_printfa(str, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
	str_printfa(str, "Your message to <%s> was automatically rejected:\r\n%s\r\n\r\n",
		    ctx->in->rcpt, reason);
	/* RFC 3798 §3.1 */
	str_printfa(str, "--%s\r\nContent-Type: message/disposition-notification\r\n\r\n",
		    boundary);
	str_printfa(str, "Reporting-UA: %s; Tern\r\n", deliver_ctx_helo(ctx));
	str_printfa(str, "Final-Recipient: rfc822; %s\r\n", ctx->in->rcpt);
	if (msgid != NULL)
		str_printfa(str, "Original-Message-ID: %s\r\n", deliver_header_value(msgid));
	str_append(str, "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n");
	str_printfa(str, "--%s\r\nContent-Type: message/rfc822\r\n\r\n", boundary);
	*suffix_r = t_strdup_printf("\r\n--%s--\r\n", boundary);
	return str_c(str);
}

int deliver_reject_send(struct deliver_ctx *ctx, const char *reason)
{
	if (ctx->in->sender[0] == '\0' || ctx->loop) {
		log_info(ctx->in->log, "rejected", "rcpt=%s user=%s sender=<> action=discard",
			 log_value(ctx->in->rcpt), log_value(ctx->in->user->name));
		return 1;
	}
	const char *boundary = t_strdup_printf("reject-%s", deliver_unique_token());
	const char *suffix, *error;
	const char *prefix = deliver_reject_compose(ctx, reason, boundary, &suffix);
	const struct deliver_submit_request req = {
		.sender = "", .rcpt = ctx->in->sender, .helo = deliver_ctx_helo(ctx),
		.prefix = prefix, .body = ctx->msg, .suffix = suffix,
	};
	int ret = deliver_submit(&ctx->set->submission, &req, &error);
	if (ret <= 0) {
		log_error(ctx->in->log, "reject_failed", "rcpt=%s user=%s to=%s temporary=%s error=%s",
			  log_value(ctx->in->rcpt), log_value(ctx->in->user->name),
			  log_value(ctx->in->sender), ret < 0 ? "yes" : "no", log_value(error));
		return ret < 0 ? -1 : 0;
	}
	log_info(ctx->in->log, "rejected", "rcpt=%s user=%s to=%s reason=%s",
		 log_value(ctx->in->rcpt), log_value(ctx->in->user->name),
		 log_value(ctx->in->sender), log_value(reason));
	return 1;
}
