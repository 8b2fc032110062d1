/* CATENATE (RFC 4469) parts of an APPEND or REPLACE message: TEXT
 * literals stream into the save like a message literal, URL parts are
 * copied from the user's mailboxes (any of them; relative URLs resolve
 * against the selected mailbox) or, with a URLAUTH token, from whoever
 * authorized them (RFC 4467). A part that fails fails the whole command
 * (RFC 4469 §5: BADURL, TOOBIG). Also UTF8's "(literal8)" (RFC 6855 §4),
 * which arrives in a list the same way. */
#include "imap-append.h"
#include "imap-arg.h"
#include "imap-fetch.h"
#include "imap-storage.h"
#include "imap-url-part.h"
#include "imap-urlauth.h"

static enum append_step catenate_badurl(struct imap_cmd *cmd, struct append_ctx *ctx,
					const char *url, size_t len, const char *reason)
{
	string_t *reply = t_str_new(len + 64);

	str_append(reply, "NO [BADURL ");
	imap_url_append_resp_text(reply, url, len);
	str_printfa(reply, "] %s.", reason);
	return append_fail(cmd, ctx, str_c(reply));
}

/* Copies the part's content into the message. */
static enum append_step catenate_copy(struct imap_cmd *cmd, struct append_ctx *ctx,
				      struct imap_url_part *part, const char *url, size_t len)
{
	uint64_t max = cmd->client->set->imap.max_literal_size;
	buffer_t *buf = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	const char *reply = NULL;
	int ret;

	do {
		buffer_clear(buf);
		ret = imap_url_part_read(part, buf);
		if (ret < 0) {
			buffer_free(&buf);
			return catenate_badurl(cmd, ctx, url, len, "Message can't be read");
		}
		if (buf->used > max || ctx->msg_size > max - buf->used) {
			reply = t_strdup_printf("NO [TOOBIG] Message is larger than %llu bytes.",
						(unsigned long long)max);
		} else if (mail_save_write(ctx->save, buf->data, buf->used) < 0) {
			reply = imap_storage_error_reply(cmd->client);
		}
		ctx->msg_size += buf->used;
	} while (ret > 0 && reply == NULL);
	buffer_free(&buf);
	return reply == NULL ? APPEND_STEP_CONTINUE : append_fail(cmd, ctx, reply);
}

/* The URL relative to the selected mailbox (RFC 4469 §3, RFC 5092 §7). */
static void catenate_resolve(struct imap_client *client, const struct imap_url *rel,
			     struct imap_url *url_r)
{
	struct imap_url base;

	memset(&base, 0, sizeof(base));
	if (client->box != NULL) {
		base.have_path = true;
		base.mailbox = mailbox_get_name(client->box);
		base.uidvalidity = mailbox_get_view_status(client->box)->uidvalidity;
	}
	imap_url_resolve(rel, &base, url_r);
}

/* Opens the part a URL names, in the storage of the user it belongs to.
   Returns 1, 0 with *reason_r, -1 with *reply_r. */
static int catenate_open(struct imap_cmd *cmd, const char *text, size_t len,
			 struct mail_user **owner_r, struct imap_url_part **part_r,
			 const char **reason_r, const char **reply_r)
{
	struct imap_client *client = cmd->client;
	struct imap_url rel, url;
	const char *error;
	int ret;

	if (imap_url_parse(text, len, IMAP_URL_PARSE_RELATIVE | IMAP_URL_PARSE_URLAUTH,
			   cmd->pool, &rel, &error) < 0) {
		*reason_r = t_strdup_printf("Invalid URL: %s", error);
		return 0;
	}
	catenate_resolve(client, &rel, &url);
	if (!imap_url_is_message_part(&url)) {
		*reason_r = "URL doesn't name a message";
		return 0;
	}
	*owner_r = client->mail_user;
	if (url.mechanism != NULL) {
		/* RFC 4467 §1: an authorized URL may be another user's */
		ret = imap_urlauth_verify(client, text, len, &url, owner_r, reason_r);
		if (ret <= 0) {
			*reply_r = "NO [SERVERBUG] Internal error.";
			return ret;
		}
	} else if (url.have_server && ((url.user != NULL && strcmp(url.user, client->user) != 0) ||
				       !imap_urlauth_host_is_ours(client, &url))) {
		*reason_r = "URL is not for this user on this server";
		return 0;
	}
	ret = imap_url_part_open(*owner_r, client->set, &url, part_r, reason_r);
	if (ret < 0) {
		*reply_r = *owner_r == client->mail_user ? imap_storage_error_reply(client) :
			"NO [SERVERBUG] Internal error.";
	}
	if (ret <= 0) {
		imap_url_part_close(part_r);
		imap_urlauth_release(client, owner_r);
	}
	return ret;
}

/* "URL" astring: the part it names is copied into the message. */
static enum append_step catenate_url(struct imap_cmd *cmd, struct append_ctx *ctx,
				     const struct imap_arg *arg)
{
	const char *text, *reason = NULL, *reply = NULL;
	struct mail_user *owner = NULL;
	struct imap_url_part *part = NULL;
	enum append_step step;

	if ((step = append_save_begin(cmd, ctx, false)) != APPEND_STEP_CONTINUE)
		return step;
	if (!imap_arg_get_astring(arg, &text))
		return append_fail(cmd, ctx, "BAD CATENATE URL needs a string.");
	size_t len = strlen(text);
	int ret = catenate_open(cmd, text, len, &owner, &part, &reason, &reply);
	if (ret < 0)
		return append_fail(cmd, ctx, reply);
	if (ret == 0)
		return catenate_badurl(cmd, ctx, text, len, reason);
	step = catenate_copy(cmd, ctx, part, text, len);
	imap_url_part_close(&part);
	imap_urlauth_release(cmd->client, &owner);
	return step;
}

/* "TEXT" literal (or literal8 with BINARY, RFC 3516 §4.4): the first part
   decides whether the message is stored as binary content. */
static enum append_step catenate_text(struct imap_cmd *cmd, struct append_ctx *ctx,
				      const struct imap_arg *literal)
{
	enum append_step step;

	if (literal->type != IMAP_ARG_LITERAL_SIZE)
		return append_fail(cmd, ctx, "BAD CATENATE TEXT needs a literal.");
	if ((step = append_save_begin(cmd, ctx, literal->literal8)) != APPEND_STEP_CONTINUE)
		return step;
	/* a literal8 later in a message saved as it is may still be text */
	ctx->check_nuls = literal->literal8 && !ctx->params.convert_binary;
	return append_accept_literal(cmd, ctx, literal);
}

/* RFC 6855 §4: "UTF8" SP "(" literal8 ")": one literal, 8-bit text. */
static enum append_step append_utf8_parts(struct imap_cmd *cmd, struct append_ctx *ctx,
					  const struct imap_arg *list, unsigned int count)
{
	enum append_step step;

	if (ctx->cat_parts == 1 && count == 0)
		return APPEND_STEP_CONTINUE;
	if (ctx->cat_parts != 0 || count != 1 || list[0].type != IMAP_ARG_LITERAL_SIZE)
		return append_fail(cmd, ctx, "BAD UTF8 takes one literal.");
	ctx->cat_parts++;
	if ((step = append_save_begin(cmd, ctx, false)) != APPEND_STEP_CONTINUE)
		return step;
	ctx->check_nuls = true;
	return append_accept_literal(cmd, ctx, &list[0]);
}

enum append_step append_list_parts(struct imap_cmd *cmd, struct append_ctx *ctx,
				   const struct imap_arg *list, unsigned int count)
{
	enum append_step step;
	unsigned int i = 0;

	if (ctx->list == APPEND_LIST_UTF8)
		return append_utf8_parts(cmd, ctx, list, count);
	if (ctx->cat_url_literal) {
		/* the URL sent as a literal, now read into memory */
		ctx->cat_url_literal = false;
		if (count == 0 || (step = catenate_url(cmd, ctx, &list[0])) != APPEND_STEP_CONTINUE)
			return count == 0 ? append_fail(cmd, ctx, "BAD Missing URL.") : step;
		i = 1;
	}
	for (; i < count; i += 2) {
		const struct imap_arg *value = &list[i + 1];
		if (++ctx->cat_parts > APPEND_MAX_CATENATE_PARTS)
			return append_fail(cmd, ctx, "NO [LIMIT] Too many CATENATE parts.");
		if (imap_arg_atom_equals(&list[i], "TEXT"))
			return catenate_text(cmd, ctx, value);
		if (!imap_arg_atom_equals(&list[i], "URL") || value->type == IMAP_ARG_EOL)
			return append_fail(cmd, ctx, "BAD Invalid CATENATE part.");
		if (value->type == IMAP_ARG_LITERAL_SIZE) {
			/* URL {n}: read into memory, it opens the next segment */
			if ((step = append_save_begin(cmd, ctx, false)) != APPEND_STEP_CONTINUE)
				return step;
			imap_parser_literal_to_memory(
				imap_command_reader_get_parser(cmd->client->reader));
			ctx->cat_url_literal = true;
			return APPEND_STEP_WAIT;
		}
		if ((step = catenate_url(cmd, ctx, value)) != APPEND_STEP_CONTINUE)
			return step;
	}
	if (ctx->cat_parts == 0)
		return append_fail(cmd, ctx, "BAD CATENATE needs at least one part.");
	return APPEND_STEP_CONTINUE;
}
