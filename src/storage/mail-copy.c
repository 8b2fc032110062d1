/* COPY and MOVE (RFC 9051 §6.4.7, RFC 6851): the messages appear in the
 * destination and (for MOVE) leave the source in one index transaction,
 * so other sessions see all or nothing; UIDPLUS data (RFC 4315 COPYUID)
 * is returned. Content is shared through the driver (hard links). */
#include "mail-storage-private.h"
#include "index-cache.h"
#include "index-search.h"

#include <time.h>

struct mail_copy_ctx {
	struct mailbox *box;
	struct mail_user *user;
	pool_t pool;
	struct index_change *src_ch, *dest_ch;
	const char *src_dir, *dest_dir;
	ARRAY(struct index_message) msgs;      /* source rows */
	ARRAY(struct index_message) new_msgs;  /* destination rows */
	bool move, sources_removed;
};

static int mail_copy_read_sources(struct mail_copy_ctx *ctx, const uint32_t *seqs,
				  unsigned int count)
{
	struct mailbox *box = ctx->box;
	for (unsigned int i = 0; i < count; i++) {
		if (seqs[i] < 1 || seqs[i] > box->uids.count) {
			return mail_user_set_error(ctx->user, MAIL_ERROR_PARAMS,
						   "Invalid message sequence number.");
		}
		struct index_message msg;
		int ret = index_message_get(ctx->user->db, box->id, box->uids.v[seqs[i] - 1],
					    ctx->pool, &msg);
		if (ret < 0)
			return mail_user_set_index_error(ctx->user, "read message");
		if (ret == 0) {
			return mail_user_set_error(ctx->user, MAIL_ERROR_EXPUNGED,
						   "Some of the messages no longer exist.");
		}
		array_push(&ctx->msgs, msg);
	}
	return 0;
}

/* Defines the source keywords in the destination and rewrites each
   message's keywords in the destination's spelling. */
static int mail_copy_keywords(struct mail_copy_ctx *ctx, struct index_message *msg)
{
	const char *const *kws = mail_keywords_split(ctx->pool, msg->keywords);
	unsigned int count = 0;
	while (kws[count] != NULL)
		count++;
	if (count == 0)
		return 0;
	const char **copy = p_new(ctx->pool, const char *, count + 1);
	memcpy(copy, kws, count * sizeof(*copy));
	int64_t dest_id = index_change_get_mailbox(ctx->dest_ch)->id;
	int ret = index_keywords_define(ctx->user->db, dest_id, ctx->pool, copy, count);
	if (ret <= 0) {
		return ret < 0 ? mail_user_set_index_error(ctx->user, "define keywords") :
			mail_user_set_error(ctx->user, MAIL_ERROR_LIMIT, "Too many keywords.");
	}
	msg->keywords = mail_keywords_join(ctx->pool, copy, count);
	return 0;
}

static int mail_copy_files(struct mail_copy_ctx *ctx)
{
	struct mail_user *user = ctx->user;
	int64_t stamp = mail_own_change_begin(user, ctx->dest_dir);
	time_t now = time(NULL);
	for (unsigned int i = 0; i < ctx->msgs.count; i++) {
		const struct index_message *src = &ctx->msgs.v[i];
		struct index_message *msg = array_append_space(&ctx->new_msgs);
		*msg = *src;
		msg->save_date = now;
		int ret = user->v->copy_file(user, ctx->src_dir, src, ctx->dest_dir, src->flags,
					     ctx->pool, &msg->filename, &msg->fileinfo);
		if (ret <= 0) {
			ctx->new_msgs.count--;
			if (ret < 0)
				return -1;
			return mail_user_set_error(user, MAIL_ERROR_EXPUNGED,
						   "Some of the messages no longer exist.");
		}
		mailbox_progress(ctx->box, i + 1, ctx->msgs.count);
	}
	mail_own_change_end(user, ctx->dest_dir, stamp, ctx->dest_ch);
	return user->v->sync_dir(user, ctx->dest_dir);
}

static int mail_copy_index(struct mail_copy_ctx *ctx, struct mail_copy_result *result)
{
	for (unsigned int i = 0; i < ctx->new_msgs.count; i++) {
		struct index_message *msg = &ctx->new_msgs.v[i];
		if (mail_copy_keywords(ctx, msg) < 0)
			return -1;
		if (index_change_append(ctx->dest_ch, msg) < 0)
			return mail_user_set_index_error(ctx->user, "copy");
		/* the search data goes along, so the copy needs no re-read */
		if (index_search_copy(ctx->user->db, ctx->box->id, ctx->msgs.v[i].uid,
				      index_change_get_mailbox(ctx->dest_ch)->id, msg->uid,
				      ctx->move) < 0)
			return mail_user_set_index_error(ctx->user, "copy search data");
		if (index_cache_copy(ctx->user->db, ctx->box->id, ctx->msgs.v[i].uid,
				     index_change_get_mailbox(ctx->dest_ch)->id, msg->uid) < 0)
			return mail_user_set_index_error(ctx->user, "copy message cache");
		array_push(&result->src_uids, ctx->msgs.v[i].uid);
		array_push(&result->dest_uids, msg->uid);
	}
	if (!ctx->move)
		return 0;
	struct mail_user *user = ctx->user;
	int64_t stamp = mail_own_change_begin(user, ctx->src_dir);
	/* removed before the commit, like an expunge: a crash leaves only
	   the destination's copy, which the next sync indexes */
	ctx->sources_removed = true;
	for (unsigned int i = 0; i < ctx->msgs.count; i++) {
		if (user->v->expunge_file(user, ctx->src_dir, &ctx->msgs.v[i]) < 0)
			return -1;
	}
	mail_own_change_end(user, ctx->src_dir, stamp, ctx->src_ch);
	if (user->v->sync_dir(user, ctx->src_dir) < 0)
		return -1;
	for (unsigned int i = 0; i < ctx->msgs.count; i++) {
		if (index_change_expunge(ctx->src_ch, &ctx->msgs.v[i]) < 0)
			return mail_user_set_index_error(user, "move");
	}
	return 0;
}

static int mail_copy_begin(struct mail_copy_ctx *ctx, const char *dest_name)
{
	struct mail_user *user = ctx->user;
	struct index_mailbox dest;
	int ret = index_mailbox_lookup(user->db, dest_name, ctx->pool, &dest);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret == 0 || !dest.selectable ||
	    index_change_begin(user->db, dest.id, &ctx->dest_ch) == 0) {
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND,
					   "Destination mailbox doesn't exist.");
	}
	if (ctx->dest_ch == NULL)
		return mail_user_set_index_error(user, "copy");
	ctx->dest_dir = p_strdup(ctx->pool, index_change_get_mailbox(ctx->dest_ch)->dir);
	if (!ctx->move) {
		/* the source's current location (it may have been renamed) */
		struct index_mailbox src;
		ret = index_mailbox_get(user->db, ctx->box->id, ctx->pool, &src);
		if (ret < 0)
			return mail_user_set_index_error(user, "look up mailbox");
		if (ret == 0 || !src.selectable)
			return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
		ctx->src_dir = src.dir;
		return 0;
	}
	if (dest.id == ctx->box->id) {
		ctx->src_ch = ctx->dest_ch;
	} else if ((ret = index_change_begin(user->db, ctx->box->id, &ctx->src_ch)) <= 0) {
		return ret < 0 ? mail_user_set_index_error(user, "move") :
			mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox was deleted.");
	}
	ctx->src_dir = p_strdup(ctx->pool, index_change_get_mailbox(ctx->src_ch)->dir);
	return 0;
}

static void mail_copy_cleanup(struct mail_copy_ctx *ctx)
{
	if (ctx->src_ch == ctx->dest_ch)
		ctx->src_ch = NULL;
	index_change_abort(&ctx->src_ch);
	index_change_abort(&ctx->dest_ch);
}

/* The index commit failed: remove the copies, unless the sources are
   gone (a move), in which case the copies are all that's left. */
static void mail_copy_revert(struct mail_copy_ctx *ctx, bool sources_removed)
{
	if (sources_removed)
		return;
	for (unsigned int i = 0; i < ctx->new_msgs.count; i++)
		(void)ctx->user->v->expunge_file(ctx->user, ctx->dest_dir, &ctx->new_msgs.v[i]);
}

static int mail_copy_run(struct mail_copy_ctx *ctx, const uint32_t *seqs, unsigned int count,
			 const char *dest_name, struct mail_copy_result *result)
{
	struct mail_user *user = ctx->user;
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = mail_copy_begin(ctx, dest_name);
	if (ret == 0)
		ret = mail_copy_read_sources(ctx, seqs, count);
	if (ret == 0)
		ret = mail_copy_files(ctx);
	if (ret == 0)
		ret = mail_copy_index(ctx, result);
	if (ret == 0) {
		if (ctx->src_ch != NULL && ctx->src_ch != ctx->dest_ch)
			mail_user_own_index_change(user, ctx->src_ch);
		mail_user_own_index_change(user, ctx->dest_ch);
		if (ctx->src_ch != NULL && ctx->src_ch != ctx->dest_ch &&
		    index_change_finish(&ctx->src_ch) < 0)
			ret = mail_user_set_index_error(user, "move");
		ctx->src_ch = NULL;
		result->uidvalidity = index_change_get_mailbox(ctx->dest_ch)->uidvalidity;
		if (index_change_finish(&ctx->dest_ch) < 0 && ret == 0)
			ret = mail_user_set_index_error(user, "copy");
	}
	mail_copy_cleanup(ctx);
	if (ret < 0) {
		mail_user_rollback(user);
		mail_copy_revert(ctx, ctx->sources_removed);
		return -1;
	}
	if (mail_user_commit(user) < 0) {
		mail_copy_revert(ctx, ctx->move);
		return -1;
	}
	return 0;
}

int mailbox_copy(struct mailbox *box, const uint32_t *seqs, unsigned int count,
		 const char *dest_name, bool move, pool_t pool,
		 struct mail_copy_result *result_r)
{
	struct mail_user *user = box->user;
	mail_user_clear_error(user);
	memset(result_r, 0, sizeof(*result_r));
	array_init(&result_r->src_uids, pool, count + 1);
	array_init(&result_r->dest_uids, pool, count + 1);
	if (move && mailbox_is_readonly(box))
		return mail_user_set_error(user, MAIL_ERROR_PERM, "Mailbox is read-only.");
	if (!mailbox_name_is_valid(dest_name)) {
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND,
					   "Destination mailbox doesn't exist.");
	}
	if (count == 0)
		return 0;
	struct mail_copy_ctx ctx = {
		.box = box, .user = user, .move = move,
		.pool = pool_create("mail copy", 4096),
	};
	array_init(&ctx.msgs, ctx.pool, count);
	array_init(&ctx.new_msgs, ctx.pool, count);
	int ret = mail_copy_run(&ctx, seqs, count, mailbox_name_canonical(dest_name), result_r);
	pool_destroy(&ctx.pool);
	if (ret < 0) {
		array_clear(&result_r->src_uids);
		array_clear(&result_r->dest_uids);
		return -1;
	}
	mail_user_notify_changed(user);
	return 0;
}
