/* Carrying out the actions of a delivery, in an order chosen so that a
 * temporary failure never loses or duplicates anything:
 *   1. reject/ereject: refused at the protocol (LMTP 550) or a rejection
 *      message is sent; its temporary failure → tempfail, nothing done;
 *   2. redirects, before anything is stored: a temporary failure →
 *      tempfail with nothing stored; each redirect that went out is
 *      recorded (duplicate database, by Message-ID and address) at once,
 *      so the MTA's retry does not send it again;
 *   3. stores (keep, fileinto): one stored copy makes the delivery done;
 *      a fileinto that fails falls back to the default mailbox;
 *   4. auto-replies (vacation) once the message is safe: their failure is
 *      logged only, since retrying would store the message twice.
 * Loop protection: a message that already carries a Delivered-To: of this
 * recipient is only stored (no redirects or auto-replies); a redirect puts
 * X-Sieve-Redirected-From: with the recipient's address on the message it
 * sends (as Pigeonhole does), and a message that carries one for this
 * recipient is kept instead of being redirected again. */
#include "deliver-private.h"
#include "mail-storage.h"

#include <strings.h>

/* The default mailbox: the +detail / -m mailbox when it exists. */
static const char *deliver_default_mailbox(struct deliver_ctx *ctx)
{
	const char *name = ctx->in->mailbox;
	if (name == NULL || name[0] == '\0')
		return "INBOX";
	struct mailbox_status status;
	if (mailbox_get_status(ctx->user, name, STATUS_MESSAGES, t_pool(), &status) < 0)
		return "INBOX";
	return name;
}

static int deliver_save_write(void *context, const void *data, size_t size)
{
	return mail_save_write(context, data, size);
}

/* RFC 8579 special-use flags and the storage's bits */
static const struct {
	const char *flag;
	enum mailbox_special_use use;
} deliver_special_uses[] = {
	{ "\\All", MAILBOX_SPECIAL_ALL }, { "\\Archive", MAILBOX_SPECIAL_ARCHIVE },
	{ "\\Drafts", MAILBOX_SPECIAL_DRAFTS }, { "\\Flagged", MAILBOX_SPECIAL_FLAGGED },
	{ "\\Junk", MAILBOX_SPECIAL_JUNK }, { "\\Sent", MAILBOX_SPECIAL_SENT },
	{ "\\Trash", MAILBOX_SPECIAL_TRASH }, { "\\Important", MAILBOX_SPECIAL_IMPORTANT },
};

static enum mailbox_special_use deliver_specialuse_bit(const char *flag)
{
	for (unsigned int i = 0; i < N_ELEMENTS(deliver_special_uses); i++) {
		if (strcasecmp(deliver_special_uses[i].flag, flag) == 0)
			return deliver_special_uses[i].use;
	}
	return MAILBOX_SPECIAL_NONE;
}

/* The first selectable mailbox (or the one named mailbox) with the flag. */
static const char *deliver_specialuse_find(struct deliver_ctx *ctx, const char *mailbox,
					   const char *flag)
{
	enum mailbox_special_use use = deliver_specialuse_bit(flag);
	const struct mailbox_list_entry *entries;
	unsigned int count;
	if (use == MAILBOX_SPECIAL_NONE ||
	    mail_user_list_mailboxes(ctx->user, t_pool(), &entries, &count) < 0)
		return NULL;
	for (unsigned int i = 0; i < count; i++) {
		if ((entries[i].special_use & use) != 0 &&
		    (entries[i].attrs & (MAILBOX_ATTR_NOSELECT | MAILBOX_ATTR_NONEXISTENT)) == 0 &&
		    (mailbox == NULL || strcmp(entries[i].name, mailbox_name_canonical(mailbox)) == 0))
			return entries[i].name;
	}
	return NULL;
}

const char *deliver_specialuse_mailbox(struct deliver_ctx *ctx, const char *flag)
{
	return deliver_specialuse_find(ctx, NULL, flag);
}

int deliver_specialuse_has(struct deliver_ctx *ctx, const char *mailbox, const char *flag)
{
	return deliver_specialuse_find(ctx, mailbox, flag) != NULL ? 1 : 0;
}

/* The message from its (edited) header on, after what is already written. */
static int deliver_write_message(struct deliver_ctx *ctx, const struct deliver_action *act,
				 deliver_write_fn_t *write_fn, void *context)
{
	if (act->header == NULL)
		return deliver_message_copy(ctx->msg, 0, write_fn, context);
	if (write_fn(context, act->header->data, act->header->size) < 0)
		return -1;
	return deliver_message_copy(ctx->msg, act->header->body_offset, write_fn, context);
}

int deliver_store_into(struct deliver_ctx *ctx, const char *name,
		       const struct deliver_action *act)
{
	struct mail_save_params params = {
		.internal_date = (time_t)-1,
		.flags = act->flags,
		.keywords = act->keywords,
	};
	struct mail_save *save = mail_save_begin(ctx->user, name, &params);
	const char *text;
	if (save == NULL) {
		enum mail_error error = mail_user_get_error(ctx->user, &text);
		if (error == MAIL_ERROR_NOTFOUND || error == MAIL_ERROR_PARAMS)
			return 0;
		goto failed;
	}
	const char *rp = ctx->in->has_return_path ? "" :
		t_strdup_printf("Return-Path: <%s>\r\n", ctx->in->sender);
	uint32_t uidvalidity, uid;
	if (mail_save_write(save, rp, strlen(rp)) < 0 ||
	    mail_save_write(save, ctx->in->trace_headers, strlen(ctx->in->trace_headers)) < 0 ||
	    deliver_write_message(ctx, act, deliver_save_write, save) < 0) {
		mail_save_abort(&save);
		goto failed;
	}
	if (mail_save_finish(&save, &uidvalidity, &uid) < 0)
		goto failed;
	ctx->result->mailbox = p_strdup(ctx->pool, name);
	ctx->result->uid = uid;
	if (ctx->result->stored_count < MAIL_DELIVER_MAX_STORED) {
		ctx->result->stored_uids[ctx->result->stored_count] = uid;
		ctx->result->stored[ctx->result->stored_count++] = ctx->result->mailbox;
	}
	log_info(ctx->in->log, "delivered", "rcpt=%s user=%s mailbox=%s uid=%u size=%llu from=%s",
		 log_value(ctx->in->rcpt), log_value(ctx->in->user->name), log_value(name), uid,
		 (unsigned long long)deliver_message_size(ctx->msg),
		 log_value(ctx->in->sender[0] == '\0' ? "<>" : ctx->in->sender));
	return 1;
failed:
	if (mail_user_get_error(ctx->user, &text) == MAIL_ERROR_OVERQUOTA)
		ctx->overquota = true;
	log_error(ctx->in->log, "delivery_failed", "rcpt=%s user=%s mailbox=%s error=%s",
		  log_value(ctx->in->rcpt), log_value(ctx->in->user->name), log_value(name),
		  log_value(text));
	return -1;
}

/* Returns 1 stored, -1 failed. */
static int deliver_store(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	const char *name = act->target == NULL ? deliver_default_mailbox(ctx) :
		mailbox_name_canonical(act->target);
	/* RFC 8579 §4: the mailbox with the special use, if there is one */
	const char *special = act->specialuse == NULL ? NULL :
		deliver_specialuse_mailbox(ctx, act->specialuse);
	if (special != NULL)
		name = special;
	int ret = deliver_store_into(ctx, name, act);
	if (ret == 0 && act->target != NULL && act->create) {
		/* RFC 5490 §3.2: fileinto :create; with :specialuse the new
		   mailbox gets the special use (RFC 8579 §4) */
		enum mailbox_special_use use = act->specialuse == NULL ? MAILBOX_SPECIAL_NONE :
			deliver_specialuse_bit(act->specialuse);
		if (mailbox_create(ctx->user, name, use) == 0 ||
		    mail_user_get_error(ctx->user, &(const char *){NULL}) == MAIL_ERROR_EXISTS)
			ret = deliver_store_into(ctx, name, act);
	}
	if (ret == 0 && strcmp(name, "INBOX") != 0) {
		/* Pigeonhole: a fileinto into a missing mailbox falls back to
		   the implicit keep rather than losing the message */
		log_warning(ctx->in->log, "fileinto_missing", "user=%s mailbox=%s fallback=INBOX",
			    log_value(ctx->in->user->name), log_value(name));
		ret = deliver_store_into(ctx, "INBOX", act);
	}
	return ret > 0 ? 1 : -1;
}

static const char *deliver_redirect_id(struct deliver_ctx *ctx, const char *address)
{
	const char *msgid = deliver_message_get_first(ctx->msg, "Message-ID");
	if (msgid == NULL)
		return NULL;
	return t_strdup_printf("%s\n%s", msgid, address);
}

/* value without surrounding blanks and one pair of angle brackets */
static const char *deliver_address_unwrap(const char *value)
{
	size_t len;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len >= 2 && value[0] == '<' && value[len - 1] == '>') {
		value++;
		len -= 2;
	}
	return t_strndup(value, len);
}

/* True if the message already went out through a redirect of this
   recipient (its X-Sieve-Redirected-From). */
static bool deliver_redirected_before(struct deliver_ctx *ctx)
{
	if (!ctx->msg->parsed)
		return false;
	const char *const *values = deliver_message_get_headers(ctx->msg,
								"X-Sieve-Redirected-From");
	for (unsigned int i = 0; values[i] != NULL; i++) {
		if (strcasecmp(deliver_address_unwrap(values[i]), ctx->in->rcpt) == 0)
			return true;
	}
	return false;
}

int deliver_redirect(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	if (deliver_redirected_before(ctx)) {
		/* sending it on again would make a loop; the caller keeps it */
		log_warning(ctx->in->log, "redirect_loop",
			    "user=%s to=%s reason=x-sieve-redirected-from action=keep",
			    log_value(ctx->in->user->name), log_value(act->target));
		return 0;
	}
	const char *id = deliver_redirect_id(ctx, act->target), *error;
	if (id != NULL && deliver_ctx_duplicate(ctx) == 0 &&
	    deliver_duplicate_exists(ctx->dup, "redirect", id, strlen(id), ctx->now)) {
		log_info(ctx->in->log, "redirect_duplicate", "user=%s to=%s",
			 log_value(ctx->in->user->name), log_value(act->target));
		return 1;
	}
	const char *sender = ctx->set->submission.redirect_sender[0] != '\0' ?
		ctx->set->submission.redirect_sender : ctx->in->sender;
	/* the mark a later delivery to this recipient finds; then the
	   script's header changes (RFC 5293) */
	const char *prefix = ctx->in->trace_headers;
	if (strpbrk(ctx->in->rcpt, "\r\n") == NULL)
		prefix = t_strdup_printf("%sX-Sieve-Redirected-From: %s\r\n", prefix,
					 ctx->in->rcpt);
	const struct deliver_submit_request req = {
		.sender = sender, .rcpt = act->target, .helo = deliver_ctx_helo(ctx),
		.prefix = act->header == NULL ? prefix :
			t_strconcat(prefix, t_strndup(act->header->data, act->header->size), NULL),
		.body = ctx->msg, .body_offset = act->header == NULL ? 0 : act->header->body_offset,
	};
	int ret = deliver_submit(&ctx->set->submission, &req, &error);
	if (ret <= 0) {
		log_error(ctx->in->log, "redirect_failed", "user=%s to=%s temporary=%s error=%s",
			  log_value(ctx->in->user->name), log_value(act->target),
			  ret < 0 ? "yes" : "no", log_value(error));
		return ret;
	}
	log_info(ctx->in->log, "redirected", "user=%s to=%s from=%s",
		 log_value(ctx->in->user->name), log_value(act->target),
		 log_value(sender[0] == '\0' ? "<>" : sender));
	if (id != NULL && ctx->dup != NULL) {
		deliver_duplicate_mark(ctx->dup, "redirect", id, strlen(id),
				       ctx->now + ctx->set->sieve.redirect_duplicate_period_ms / 1000);
		if (deliver_duplicate_commit(ctx->dup, &error) < 0)
			log_error(ctx->in->log, "duplicate_db_failed", "user=%s error=%s",
				  log_value(ctx->in->user->name), log_value(error));
	}
	return 1;
}

static void deliver_set_status(struct deliver_ctx *ctx, enum mail_deliver_status status,
			       const char *reason)
{
	ctx->result->status = status;
	ctx->result->reason = reason == NULL ? NULL : p_strdup(ctx->pool, reason);
}

/* Step 1. Returns true when the delivery is decided. */
static bool deliver_actions_reject(struct deliver_ctx *ctx, const deliver_action_array_t *actions)
{
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *act = &actions->v[i];
		if (act->type != DELIVER_ACTION_REJECT && act->type != DELIVER_ACTION_EREJECT)
			continue;
		/* RFC 5429 §2.1.1: ereject refuses at the protocol level when
		   it can; tern-lda -e returns reject's text to the MTA too */
		if ((act->type == DELIVER_ACTION_EREJECT && ctx->in->can_reject) ||
		    ctx->in->reject_to_caller) {
			deliver_set_status(ctx, MAIL_DELIVER_REJECTED, act->target);
			return true;
		}
		int ret = deliver_reject_send(ctx, act->target);
		deliver_set_status(ctx, ret < 0 ? MAIL_DELIVER_TEMPFAIL : MAIL_DELIVER_OK,
				   ret < 0 ? "sending the rejection failed" : NULL);
		return true;
	}
	return false;
}

/* Steps 2 and 3. Returns false on a temporary failure (status set). */
static bool deliver_actions_forward_and_store(struct deliver_ctx *ctx,
					      const deliver_action_array_t *actions)
{
	bool need_keep = false;
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *act = &actions->v[i];
		if (act->type != DELIVER_ACTION_REDIRECT)
			continue;
		if (ctx->loop) {
			log_warning(ctx->in->log, "redirect_loop", "user=%s to=%s action=keep",
				    log_value(ctx->in->user->name), log_value(act->target));
			need_keep = true;
			continue;
		}
		int ret = deliver_redirect(ctx, act);
		if (ret < 0) {
			deliver_set_status(ctx, MAIL_DELIVER_TEMPFAIL, "redirect failed");
			return false;
		}
		if (ret == 0)
			need_keep = true; /* never lose a message that could not go */
	}
	unsigned int stores = 0, stored = 0;
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *act = &actions->v[i];
		if (act->type != DELIVER_ACTION_STORE)
			continue;
		stores++;
		if (act->target == NULL)
			need_keep = false;
		if (deliver_store(ctx, act) > 0)
			stored++;
	}
	if (need_keep) {
		const struct deliver_action keep = { .type = DELIVER_ACTION_STORE, .implicit = true };
		stores++;
		if (deliver_store(ctx, &keep) > 0)
			stored++;
	}
	if (stores > 0 && stored == 0) {
		deliver_set_status(ctx, ctx->overquota ? MAIL_DELIVER_OVERQUOTA :
				   MAIL_DELIVER_TEMPFAIL, "storing failed");
		/* the storage enforces no quota yet: its OVERQUOTA is a full
		   disk, which must never bounce mail */
		ctx->result->permanent = false;
		return false;
	}
	if (stores == 0)
		log_info(ctx->in->log, "discarded", "rcpt=%s user=%s from=%s",
			 log_value(ctx->in->rcpt), log_value(ctx->in->user->name),
			 log_value(ctx->in->sender[0] == '\0' ? "<>" : ctx->in->sender));
	return true;
}

/* RFC 7352 §3: the duplicate test's ids count once the message is
   delivered */
static void deliver_actions_record_duplicates(struct deliver_ctx *ctx)
{
	const char *error;
	if (!array_is_created(&ctx->duplicate_marks) || ctx->duplicate_marks.count == 0 ||
	    deliver_ctx_duplicate(ctx) < 0)
		return;
	for (unsigned int i = 0; i < ctx->duplicate_marks.count; i++) {
		const struct deliver_duplicate_id *d = &ctx->duplicate_marks.v[i];
		deliver_duplicate_mark(ctx->dup, "duplicate", d->id, strlen(d->id),
				       ctx->now + (time_t)d->period_secs);
	}
	if (deliver_duplicate_commit(ctx->dup, &error) < 0)
		log_error(ctx->in->log, "duplicate_db_failed", "user=%s error=%s",
			  log_value(ctx->in->user->name), log_value(error));
}

/* True if the message already went through this recipient. */
static bool deliver_is_loop(struct deliver_ctx *ctx)
{
	const char *const *values = deliver_message_get_headers(ctx->msg, "Delivered-To");
	for (unsigned int i = 0; values[i] != NULL; i++) {
		const char *v = values[i];
		size_t len = strlen(v);
		if (v[0] == '<' && len > 2 && v[len - 1] == '>')
			v = t_strndup(v + 1, len - 2);
		if (strcasecmp(v, ctx->in->rcpt) == 0)
			return true;
	}
	return false;
}

void deliver_actions_execute(struct deliver_ctx *ctx, const deliver_action_array_t *actions)
{
	deliver_set_status(ctx, MAIL_DELIVER_OK, NULL);
	ctx->loop = ctx->msg->parsed && deliver_is_loop(ctx);
	if (deliver_actions_reject(ctx, actions))
		return;
	if (!deliver_actions_forward_and_store(ctx, actions))
		return;
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *act = &actions->v[i];
		if (act->type == DELIVER_ACTION_VACATION && !ctx->loop)
			(void)deliver_vacation_execute(ctx, act);
		else if (act->type == DELIVER_ACTION_NOTIFY && !ctx->loop)
			(void)deliver_notify_execute(ctx, act);
	}
	deliver_actions_record_duplicates(ctx);
}
