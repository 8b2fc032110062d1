/* One delivery from start to end: open the user's storage, check the
 * quota, run the scripts, carry out their actions, and turn what happened
 * into a status the protocol maps to its reply (LMTP 250/4xx/5xx,
 * tern-lda's exit code). */
#include "deliver-private.h"
#include "mail-storage.h"

void mail_deliver_deinit(void)
{
	deliver_sieve_deinit();
}

int deliver_ctx_duplicate(struct deliver_ctx *ctx)
{
	const char *error;
	if (ctx->dup != NULL)
		return 0;
	const char *path = t_strdup_printf("%s/%s", ctx->in->user->home, DELIVER_DUPLICATE_FILE);
	if (deliver_duplicate_open(path, ctx->now, &ctx->dup, &error) < 0) {
		log_error(ctx->in->log, "duplicate_db_failed", "user=%s error=%s",
			  log_value(ctx->in->user->name), log_value(error));
		return -1;
	}
	return 0;
}

int mail_deliver_storage_open(const struct tern_settings *set, const struct log_ctx *log,
			      const struct deliver_user *duser, bool defer_text_index,
			      struct mail_user **user_r)
{
	struct mail_user_settings mset = {
		.username = duser->name,
		.home = duser->home,
		.driver = set->mail.driver,
		.create_special_folders = set->mail.create_special_folders,
		.text_index_on_demand = defer_text_index || !set->mail.index_text_at_save,
		/* whoever indexes the text later renders the cache from the
		   same read */
		.cache_on_demand = defer_text_index,
	};
	const char *error;
	if (mail_user_init(&mset, user_r, &error) < 0) {
		log_error(log, "mail_user_init_failed", "user=%s home=%s error=%s",
			  log_value(duser->name), log_value(duser->home), log_value(error));
		return -1;
	}
	return 0;
}

/* The DATA-time quota check. Returns true when the message may go on. */
static bool deliver_quota_ok(struct deliver_ctx *ctx)
{
	struct deliver_quota quota;
	int ret = deliver_quota_get(ctx->set, ctx->in->log, ctx->in->user, &quota);
	if (ret <= 0)
		return true;
	uint64_t size = deliver_message_size(ctx->msg) + strlen(ctx->in->trace_headers) + 64;
	ret = deliver_quota_fits(ctx->user, &quota, size);
	if (ret != 0)
		return true; /* an error: let the storage decide */
	log_info(ctx->in->log, "over_quota", "rcpt=%s user=%s size=%llu",
		 log_value(ctx->in->rcpt), log_value(ctx->in->user->name),
		 (unsigned long long)size);
	ctx->result->status = MAIL_DELIVER_OVERQUOTA;
	ctx->result->permanent = !ctx->set->quota.full_tempfail;
	ctx->result->reason = "Mailbox is full";
	return false;
}

void mail_deliver(const struct mail_deliver_input *in, pool_t pool,
		  struct mail_deliver_result *result_r)
{
	struct deliver_ctx ctx = {
		.in = in, .set = in->set, .pool = pool, .msg = in->msg,
		.result = result_r, .now = time(NULL),
	};
	memset(result_r, 0, sizeof(*result_r));
	ctx.user = in->storage;
	if (ctx.user == NULL &&
	    mail_deliver_storage_open(in->set, in->log, in->user, false, &ctx.user) < 0) {
		result_r->status = MAIL_DELIVER_TEMPFAIL;
		result_r->reason = "mail storage is not available";
		return;
	}
	if (deliver_quota_ok(&ctx)) {
		deliver_action_array_t actions;
		array_init(&actions, pool, 8);
		deliver_sieve_run(&ctx, &actions);
		deliver_actions_execute(&ctx, &actions);
	}
	deliver_duplicate_close(&ctx.dup);
	if (in->storage == NULL)
		mail_user_deinit(&ctx.user);
}

int mail_deliver_quota_check(const struct tern_settings *set, const struct log_ctx *log,
			     const struct deliver_user *duser, uint64_t size)
{
	struct deliver_quota quota;
	int ret = deliver_quota_get(set, log, duser, &quota);
	if (ret <= 0)
		return ret == 0 ? 1 : -1;
	struct mail_user *user;
	if (mail_deliver_storage_open(set, log, duser, false, &user) < 0)
		return -1;
	ret = deliver_quota_fits(user, &quota, size);
	mail_user_deinit(&user);
	return ret;
}
