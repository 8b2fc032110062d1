/* APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS's
 * APPENDUID (RFC 4315), CATENATE (RFC 4469, parts in
 * imap-append-catenate.c) and UTF8 data (RFC 6855 §4); REPLACE and UID
 * REPLACE (RFC 8508), which save one message the same way and expunge
 * another in the same transaction. Message data is streamed straight
 * into the storage as it arrives and is never held whole in memory; all
 * messages of one command are committed in one transaction. */
#include "imap-append.h"
#include "date.h"
#include "imap-arg.h"
#include "imap-capability.h"
#include "imap-limits.h"
#include "imap-seqset.h"
#include "imap-sieve.h"
#include "imap-storage.h"
#include "imap-uidonly.h"
#include "istream.h"
#include "strnum.h"

static void append_ctx_free(struct append_ctx *ctx)
{
	mail_save_abort(&ctx->save);
	for (unsigned int i = 0; array_is_created(&ctx->saves) && i < ctx->saves.count; i++)
		mail_save_abort(&ctx->saves.v[i]);
	if (array_is_created(&ctx->saves))
		array_clear(&ctx->saves);
}

static void append_reply(struct imap_cmd *cmd, const char *reply)
{
	if (strncmp(reply, "BAD ", 4) == 0)
		imap_cmd_bad(cmd, reply + 4);
	else
		imap_cmd_finish(cmd, "%s", reply);
}

/* The literal a segment stops at: its last argument, or the last
   element of its last list (IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST). */
static const struct imap_arg *append_segment_stop(const struct imap_arg *args)
{
	unsigned int count = args == NULL ? 0 : imap_args_count(args);
	const struct imap_arg *last = count == 0 ? NULL : &args[count - 1];

	if (last != NULL && last->type == IMAP_ARG_LIST && last->u.list.count > 0)
		last = &last->u.list.args[last->u.list.count - 1];
	return last != NULL && last->type == IMAP_ARG_LITERAL_SIZE ? last : NULL;
}

enum append_step append_fail(struct imap_cmd *cmd, struct append_ctx *ctx, const char *reply)
{
	const struct imap_arg *literal = append_segment_stop(ctx->segment);

	append_ctx_free(ctx);
	ctx->list = APPEND_LIST_NONE;
	ctx->cat_url_literal = false;
	if (literal != NULL && !literal->literal_sync) {
		ctx->discarding = true;
		ctx->left = literal->u.literal_size;
		ctx->discard_reply = p_strdup(cmd->pool, reply);
		return APPEND_STEP_WAIT;
	}
	/* a synchronizing literal was never invited; the rest of the line
	   (more messages of a MULTIAPPEND) is dropped */
	imap_command_reader_skip_rest(cmd->client->reader);
	append_reply(cmd, reply);
	return APPEND_STEP_DONE;
}

enum append_step append_save_begin(struct imap_cmd *cmd, struct append_ctx *ctx, bool binary)
{
	struct imap_client *client = cmd->client;

	if (ctx->save != NULL)
		return APPEND_STEP_CONTINUE;
	/* RFC 3516 §4.4: binary content is stored re-encoded */
	ctx->params.convert_binary = binary;
	ctx->save = mail_save_begin(client->mail_user, ctx->mailbox, &ctx->params);
	if (ctx->save != NULL)
		return APPEND_STEP_CONTINUE;
	const char *reply = imap_storage_error_reply(client);
	/* RFC 9051 §6.3.12: TRYCREATE when the mailbox doesn't exist */
	if (strncmp(reply, "NO [NONEXISTENT]", 16) == 0)
		reply = t_strconcat("NO [TRYCREATE]", reply + 16, NULL);
	return append_fail(cmd, ctx, reply);
}

enum append_step append_accept_literal(struct imap_cmd *cmd, struct append_ctx *ctx,
				       const struct imap_arg *literal)
{
	struct imap_client *client = cmd->client;
	uint64_t max = client->set->imap.max_literal_size;
	uint64_t size = literal->u.literal_size;

	if (size > max && !literal->literal_sync) {
		/* its data follows whatever we answer, and it's too much to
		   read away */
		append_ctx_free(ctx);
		imap_client_disconnect(client, "[TOOBIG] Message too large.", "APPEND too large");
		return APPEND_STEP_DONE;
	}
	/* RFC 7889: APPENDLIMIT is the whole message's, CATENATE parts
	   together (RFC 4469 §5 TOOBIG) */
	if (size > max || ctx->msg_size > max - size) {
		return append_fail(cmd, ctx, t_strdup_printf(
			"NO [TOOBIG] Message is larger than %llu bytes.", (unsigned long long)max));
	}
	ctx->msg_size += size;
	ctx->left = size;
	if (literal->literal_sync)
		o_stream_send_str(client->conn->output, "+ OK\r\n");
	return APPEND_STEP_WAIT;
}

/* The message is complete: it joins the command's saves. */
static void append_message_end(struct append_ctx *ctx)
{
	array_push(&ctx->saves, ctx->save);
	ctx->save = NULL;
	ctx->list = APPEND_LIST_NONE;
}

/* "[flags] [date]" before a message's data. */
static enum append_step append_message_params(struct imap_cmd *cmd, struct append_ctx *ctx,
					      const struct imap_arg **_args)
{
	const struct imap_arg *args = *_args, *list;
	unsigned int count;
	const char *error, *date;

	memset(&ctx->params, 0, sizeof(ctx->params));
	ctx->params.internal_date = (time_t)-1;
	ctx->msg_size = 0;
	ctx->cat_parts = 0;
	if (imap_arg_get_list(args, &list, &count)) {
		if (imap_flags_parse(list, count, cmd->pool, &ctx->params.flags,
				     &ctx->params.keywords, &error) < 0)
			return append_fail(cmd, ctx, t_strdup_printf("BAD %s", error));
		args++;
	}
	if (args->type == IMAP_ARG_STRING && imap_arg_get_string(args, &date)) {
		if (imap_date_time_parse(date, &ctx->params.internal_date,
					 &ctx->params.internal_date_tz) < 0)
			return append_fail(cmd, ctx, "BAD Invalid internal date.");
		args++;
	}
	*_args = args;
	return APPEND_STEP_CONTINUE;
}

/* One message: "[flags] [date] {literal}", "... CATENATE (parts)" or
   "... UTF8 (literal8)". Moves *_args past what it used. */
static enum append_step append_message_start(struct imap_cmd *cmd, struct append_ctx *ctx,
					     const struct imap_arg **_args)
{
	const struct imap_arg *args, *list;
	unsigned int count;
	enum append_step step;

	if (ctx->replace && ctx->saves.count > 0)
		return append_fail(cmd, ctx, "BAD REPLACE takes one message.");
	if (ctx->saves.count >= APPEND_MAX_MESSAGES)
		return append_fail(cmd, ctx, "NO [LIMIT] Too many messages in one APPEND.");
	/* RFC 9738 SAVELIMIT: a MULTIAPPEND is all or nothing */
	unsigned int save_limit = imap_limit_save(cmd->client);
	if (save_limit != 0 && ctx->saves.count >= save_limit)
		return append_fail(cmd, ctx, IMAP_LIMIT_SAVE_NO_REPLY);
	if ((step = append_message_params(cmd, ctx, _args)) != APPEND_STEP_CONTINUE)
		return step;
	args = *_args;
	if (args->type == IMAP_ARG_LITERAL_SIZE) {
		/* the parser stops at a literal: it ends the segment */
		step = append_save_begin(cmd, ctx, args->literal8);
		if (step == APPEND_STEP_CONTINUE)
			step = append_accept_literal(cmd, ctx, args);
		return step;
	}
	if (imap_arg_atom_equals(args, "CATENATE") && imap_arg_get_list(&args[1], &list, &count)) {
		/* not there when imap.capability_remove takes it out */
		if (imap_capability_is_removed(cmd->client->set->imap.capability_remove, "CATENATE"))
			return append_fail(cmd, ctx, "BAD APPEND needs a message literal.");
		ctx->list = APPEND_LIST_CATENATE;
	} else if (imap_arg_atom_equals(args, "UTF8") && imap_arg_get_list(&args[1], &list, &count)) {
		/* RFC 6855 §4: only after ENABLE UTF8=ACCEPT */
		if (!cmd->client->utf8_accept)
			return append_fail(cmd, ctx, "BAD UTF8 data needs ENABLE UTF8=ACCEPT.");
		ctx->list = APPEND_LIST_UTF8;
	} else {
		return append_fail(cmd, ctx, "BAD APPEND needs a message literal.");
	}
	*_args = args + 2;
	return append_list_parts(cmd, ctx, list, count);
}

/* Runs the arguments of one segment. Returns WAIT when a literal is to
   be read (or was sent to memory), DONE when the reply was sent. */
static enum append_step append_segment(struct imap_cmd *cmd, struct append_ctx *ctx,
				       const struct imap_arg *args);

/* Parses up to the next literal (or the line's end). Returns 1 with
   *args_r, 0 need more, -1 error (reply sent). */
static int append_read_args(struct imap_cmd *cmd, bool to_memory, const struct imap_arg **args_r)
{
	struct imap_parser *parser = imap_command_reader_get_parser(cmd->client->reader);
	if (to_memory)
		imap_parser_literal_to_memory(parser);
	int ret = imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE |
					IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST, args_r);
	if (ret == 0) {
		if (imap_parser_want_continuation(parser))
			o_stream_send_str(cmd->client->conn->output, "+ OK\r\n");
		return 0;
	}
	if (ret < 0) {
		enum imap_parse_error code;
		bool fatal;
		const char *error = imap_parser_get_error(parser, &code, &fatal);
		if (fatal) {
			imap_client_disconnect(cmd->client, error, "fatal protocol error");
			return -1;
		}
		imap_command_reader_skip_rest(cmd->client->reader);
		imap_cmd_bad(cmd, error);
		return -1;
	}
	return 1;
}

/* Moves buffered literal bytes into the save (or drops them). Returns
   true when the whole literal has been read. */
static bool append_read_literal(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	struct istream *input = cmd->client->conn->input;
	while (ctx->left > 0) {
		size_t size;
		const unsigned char *data = i_stream_get_data(input, &size);
		if (size == 0)
			return false;
		if (size > ctx->left)
			size = (size_t)ctx->left;
		const char *reply = NULL;
		if (ctx->discarding) {
			/* dropped */
		} else if (ctx->check_nuls && memchr(data, '\0', size) != NULL) {
			/* RFC 3516 §4.4: binary content in a message that is
			   stored as it is (its first part was not binary) */
			reply = ctx->list == APPEND_LIST_UTF8 ?
				"NO [UNKNOWN-CTE] UTF8 data can't contain NULs." :
				"NO [UNKNOWN-CTE] Binary data only when the message's first part is binary.";
		} else if (mail_save_write(ctx->save, data, size) < 0) {
			reply = imap_storage_error_reply(cmd->client);
		}
		if (reply != NULL) {
			/* keep reading the literal away, then fail */
			append_ctx_free(ctx);
			ctx->list = APPEND_LIST_NONE;
			ctx->discarding = true;
			ctx->discard_reply = p_strdup(cmd->pool, reply);
		}
		i_stream_skip(input, size);
		ctx->left -= size;
	}
	ctx->check_nuls = false;
	if (ctx->save != NULL && ctx->list == APPEND_LIST_NONE && !ctx->cat_url_literal)
		append_message_end(ctx);
	return true;
}

/* After a failure: further non-synchronizing literals are read away, a
   synchronizing one (never invited) or the line's end ends the command. */
static enum append_step append_discard_segment(struct imap_cmd *cmd, struct append_ctx *ctx,
					       const struct imap_arg *args)
{
	const struct imap_arg *literal = append_segment_stop(args);

	if (literal != NULL && !literal->literal_sync) {
		ctx->left = literal->u.literal_size;
		return APPEND_STEP_WAIT;
	}
	if (literal != NULL)
		imap_command_reader_skip_rest(cmd->client->reader);
	append_reply(cmd, ctx->discard_reply);
	return APPEND_STEP_DONE;
}

/* REPLACE: "* OK [APPENDUID]" before the expunge, as RFC 8508 §4.3
   advises (and the tagged OK also carries it, unless QRESYNC's
   HIGHESTMODSEQ must: RFC 7162 §3.2.10 as for UID EXPUNGE, §4.5). */
static void append_replace_done(struct imap_cmd *cmd, uint32_t uidvalidity, uint32_t uid)
{
	struct imap_client *client = cmd->client;

	imap_client_send_untagged(client, "OK [APPENDUID %u %u] Replacement message saved.",
				  uidvalidity, uid);
	if (client->qresync) {
		imap_client_sync(client, 0);
		if (client->box != NULL) {
			imap_cmd_send_tagged(cmd, "OK [HIGHESTMODSEQ %llu] Replace completed.",
					     (unsigned long long)mailbox_get_view_status(client->box)->highestmodseq);
			return;
		}
	}
	imap_cmd_finish(cmd, "OK [APPENDUID %u %u] Replace completed.", uidvalidity, uid);
}

/* All data read: commit the messages together. */
static void append_finish(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	unsigned int count = ctx->saves.count;
	uint32_t uidvalidity, *uids = p_new(cmd->pool, uint32_t, count + 1);

	if (count == 0) {
		append_fail(cmd, ctx, "BAD APPEND needs a message.");
		return;
	}
	int ret = ctx->replace ?
		mail_save_finish_replace(&ctx->saves.v[0], cmd->client->box, ctx->replace_uid,
					 &uidvalidity, uids) :
		mail_save_finish_multi(ctx->saves.v, count, &uidvalidity, uids);
	array_clear(&ctx->saves);
	if (ret < 0) {
		imap_cmd_storage_error(cmd);
		return;
	}
	/* RFC 6785 §2.2.1: each message is an event */
	imap_sieve_appended(cmd->client, ctx->mailbox, uids, count);
	if (ctx->replace) {
		append_replace_done(cmd, uidvalidity, uids[0]);
		return;
	}
	imap_seq_ranges_t ranges;
	imap_seqset_from_sorted(uids, count, cmd->pool, &ranges);
	string_t *set = t_str_new(64);
	imap_seqset_write(&ranges, set);
	imap_cmd_finish(cmd, "OK [APPENDUID %u %s] Append completed.", uidvalidity, str_c(set));
}

static enum append_step append_segment(struct imap_cmd *cmd, struct append_ctx *ctx,
				       const struct imap_arg *args)
{
	enum append_step step;

	ctx->segment = args;
	if (ctx->discarding)
		return append_discard_segment(cmd, ctx, args);
	if (ctx->list != APPEND_LIST_NONE) {
		/* the open list goes on (IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST) */
		i_assert(args[0].type == IMAP_ARG_LIST);
		step = append_list_parts(cmd, ctx, args[0].u.list.args, args[0].u.list.count);
		if (step != APPEND_STEP_CONTINUE)
			return step;
		append_message_end(ctx);
		args++;
	}
	while (args->type != IMAP_ARG_EOL) {
		step = append_message_start(cmd, ctx, &args);
		if (step != APPEND_STEP_CONTINUE)
			return step;
		append_message_end(ctx);
	}
	append_finish(cmd, ctx);
	return APPEND_STEP_DONE;
}

/* REPLACE's message: a sequence number (or "*") in the selected mailbox,
   a UID with UID REPLACE. Returns CONTINUE, or DONE/WAIT after a
   failure. */
static enum append_step append_replace_target(struct imap_cmd *cmd, struct append_ctx *ctx,
					      const char *str)
{
	struct imap_client *client = cmd->client;
	bool uid_cmd = cmd->name[0] == 'U';
	uint32_t count = mailbox_view_count(client->box), num, uid;

	if (!uid_cmd && client->uidonly)
		return append_fail(cmd, ctx, t_strconcat("BAD ", IMAP_UIDONLY_BAD, NULL));
	if (str == NULL ||
	    (strcmp(str, "*") != 0 && (str_to_uint32(str, &num) < 0 || num == 0 || str[0] == '0')))
		return append_fail(cmd, ctx, "BAD Invalid message number.");
	if (strcmp(str, "*") == 0)
		num = uid_cmd ? (count == 0 ? 0 : mailbox_view_uid(client->box, count)) : count;
	if (!uid_cmd) {
		/* RFC 9051 §9 seq-number: beyond the mailbox is BAD */
		if (num == 0 || num > count)
			return append_fail(cmd, ctx, "BAD Invalid message sequence number.");
		uid = mailbox_view_uid(client->box, num);
	} else {
		uid = num;
		if (num == 0 || mailbox_view_seq(client->box, num) == 0)
			return append_fail(cmd, ctx, "NO Message to replace doesn't exist.");
	}
	/* refused before the client sends the new message */
	if (mailbox_is_readonly(client->box))
		return append_fail(cmd, ctx, "NO [READ-ONLY] Mailbox is read-only.");
	ctx->replace_uid = uid;
	return APPEND_STEP_CONTINUE;
}

/* The mailbox argument (and REPLACE's message) read: runs the rest. */
static enum append_step append_begin(struct imap_cmd *cmd, struct append_ctx *ctx,
				     const struct imap_arg *args)
{
	const char *error;
	enum append_step step;

	array_init(&ctx->saves, cmd->pool, 4);
	ctx->segment = args;
	/* RFC 8508 §3.5: REPLACE is valid only in the selected state */
	if (ctx->replace && cmd->client->box == NULL)
		return append_fail(cmd, ctx, "BAD No mailbox selected.");
	if (ctx->replace && (step = append_replace_target(cmd, ctx, ctx->replace_target)) !=
	    APPEND_STEP_CONTINUE)
		return step;
	if (imap_mailbox_name_from_arg(cmd->client, &args[0], &ctx->mailbox, &error) < 0)
		return append_fail(cmd, ctx, error);
	ctx->mailbox = p_strdup(cmd->pool, ctx->mailbox);
	if (args[1].type == IMAP_ARG_EOL)
		return append_fail(cmd, ctx, "BAD APPEND needs a message.");
	ctx->segment = args;
	return append_segment(cmd, ctx, args + 1);
}

/* Reads literals and segments until the command is answered. Returns
   true when it was. */
static bool append_run(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	const struct imap_arg *args;

	for (;;) {
		if (!append_read_literal(cmd, ctx))
			return false;
		int ret = append_read_args(cmd, false, &args);
		if (ret < 0) {
			append_ctx_free(ctx);
			return true;
		}
		if (ret == 0)
			return false;
		if (append_segment(cmd, ctx, args) == APPEND_STEP_DONE)
			return true;
	}
}

static bool append_cmd(struct imap_cmd *cmd, bool replace)
{
	struct append_ctx *ctx = cmd->context;
	const struct imap_arg *args;
	/* REPLACE's mailbox comes after the message number */
	unsigned int name_idx = replace ? 1 : 0;

	if (ctx == NULL) {
		ctx = cmd->context = p_new(cmd->pool, struct append_ctx, 1);
		ctx->replace = replace;
		if (replace && cmd->args[0].type == IMAP_ARG_EOL) {
			imap_cmd_bad(cmd, "REPLACE needs a message number.");
			return true;
		}
		/* kept: a literal mailbox name starts a new segment */
		const char *num;
		if (replace && imap_arg_get_atom(&cmd->args[0], &num))
			ctx->replace_target = p_strdup(cmd->pool, num);
		/* a literal mailbox name is read into memory first */
		ctx->args_ready = cmd->args[name_idx].type != IMAP_ARG_LITERAL_SIZE;
		if (ctx->args_ready &&
		    append_begin(cmd, ctx, cmd->args + name_idx) == APPEND_STEP_DONE)
			return true;
	}
	if (!ctx->args_ready) {
		bool first = !ctx->name_literal_started;
		ctx->name_literal_started = true;
		int ret = append_read_args(cmd, first, &args);
		if (ret < 0)
			return true;
		if (ret == 0)
			return false;
		ctx->args_ready = true;
		if (append_begin(cmd, ctx, args) == APPEND_STEP_DONE)
			return true;
	}
	return append_run(cmd, ctx);
}

bool imap_cmd_append(struct imap_cmd *cmd)
{
	return append_cmd(cmd, false);
}

bool imap_cmd_replace(struct imap_cmd *cmd)
{
	return append_cmd(cmd, true);
}

void imap_cmd_append_abort(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	if (ctx != NULL)
		append_ctx_free(ctx);
}
