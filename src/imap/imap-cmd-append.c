/* APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502) and UIDPLUS's
 * APPENDUID (RFC 4315). Each message literal is streamed straight into the
 * storage as it arrives and is never held whole in memory; all messages
 * of one command are committed in one transaction. */
#include "imap-commands.h"
#include "date.h"
#include "imap-arg.h"
#include "imap-seqset.h"
#include "imap-storage.h"
#include "istream.h"

/* messages in one MULTIAPPEND; each keeps a temporary file open */
#define APPEND_MAX_MESSAGES 1000

struct append_ctx {
	bool args_ready;  /* the mailbox name literal, if any, was read */
	bool name_literal_started;
	const char *mailbox;
	ARRAY(struct mail_save *) saves; /* finished literals */
	struct mail_save *save;          /* the literal being read */
	uint64_t left;    /* literal bytes still to come */
	bool discarding;  /* refused non-synchronizing literal: read and drop */
	const char *discard_reply;
};

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

/* Fails the command. A non-synchronizing literal that follows must still
   be read away; a synchronizing one was never invited. Returns true when
   the reply was sent. */
static bool append_fail(struct imap_cmd *cmd, struct append_ctx *ctx,
			const struct imap_arg *literal, const char *reply)
{
	append_ctx_free(ctx);
	if (literal != NULL && literal->type == IMAP_ARG_LITERAL_SIZE && !literal->literal_sync) {
		ctx->discarding = true;
		ctx->left = literal->u.literal_size;
		ctx->discard_reply = p_strdup(cmd->pool, reply);
		return false;
	}
	/* the rest of the line (more messages of a MULTIAPPEND) is dropped */
	imap_command_reader_skip_rest(cmd->client->reader);
	append_reply(cmd, reply);
	return true;
}

static const struct imap_arg *find_literal(const struct imap_arg *args)
{
	while (args->type != IMAP_ARG_EOL && args->type != IMAP_ARG_LITERAL_SIZE)
		args++;
	return args;
}

/* Starts one message: "[flags] [date] {literal}". Returns true when the
   command is over (a reply was sent). */
static bool append_message_start(struct imap_cmd *cmd, struct append_ctx *ctx,
				 const struct imap_arg *args)
{
	struct imap_client *client = cmd->client;
	struct mail_save_params params;
	const char *error;
	memset(&params, 0, sizeof(params));
	params.internal_date = (time_t)-1;
	const struct imap_arg *list;
	unsigned int count;
	if (imap_arg_get_list(args, &list, &count)) {
		if (imap_flags_parse(list, count, cmd->pool, &params.flags,
				     &params.keywords, &error) < 0)
			return append_fail(cmd, ctx, find_literal(args), t_strdup_printf("BAD %s", error));
		args++;
	}
	const char *date;
	if (args->type == IMAP_ARG_STRING && imap_arg_get_string(args, &date)) {
		if (imap_date_time_parse(date, &params.internal_date, &params.internal_date_tz) < 0)
			return append_fail(cmd, ctx, find_literal(args), "BAD Invalid internal date.");
		args++;
	}
	if (args->type != IMAP_ARG_LITERAL_SIZE || args[1].type != IMAP_ARG_EOL)
		return append_fail(cmd, ctx, find_literal(args), "BAD APPEND needs a message literal.");
	uint64_t size = args->u.literal_size;
	if (size > client->set->imap.max_literal_size) {
		if (!args->literal_sync) {
			append_ctx_free(ctx);
			imap_client_disconnect(client, "[TOOBIG] Message too large.", "APPEND too large");
			return true;
		}
		return append_fail(cmd, ctx, args, t_strdup_printf(
			"NO [TOOBIG] Message is larger than %llu bytes.",
			(unsigned long long)client->set->imap.max_literal_size));
	}
	/* RFC 3516 §4.4: binary content is stored re-encoded */
	params.convert_binary = args->literal8;
	if (ctx->saves.count >= APPEND_MAX_MESSAGES)
		return append_fail(cmd, ctx, args, "NO [LIMIT] Too many messages in one APPEND.");
	ctx->save = mail_save_begin(client->mail_user, ctx->mailbox, &params);
	if (ctx->save == NULL) {
		const char *reply = imap_storage_error_reply(client);
		/* RFC 9051 §6.3.12: TRYCREATE when the mailbox doesn't exist */
		if (strncmp(reply, "NO [NONEXISTENT]", 16) == 0)
			reply = t_strconcat("NO [TRYCREATE]", reply + 16, NULL);
		return append_fail(cmd, ctx, args, reply);
	}
	ctx->left = size;
	if (args->literal_sync)
		o_stream_send_str(client->conn->output, "+ OK\r\n");
	return false;
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
		if (ctx->save != NULL && mail_save_write(ctx->save, data, size) < 0) {
			/* keep reading the literal away, then fail */
			const char *reply = imap_storage_error_reply(cmd->client);
			append_ctx_free(ctx);
			ctx->discarding = true;
			ctx->discard_reply = p_strdup(cmd->pool, reply);
		}
		i_stream_skip(input, size);
		ctx->left -= size;
	}
	if (ctx->save != NULL) {
		array_push(&ctx->saves, ctx->save);
		ctx->save = NULL;
	}
	return true;
}

/* Parses up to the next literal (or the line's end). Returns 1 with
   *args_r, 0 need more, -1 error (reply sent). first: the mailbox name
   may itself be a literal, still unread. */
static int append_read_args(struct imap_cmd *cmd, bool to_memory, const struct imap_arg **args_r)
{
	struct imap_parser *parser = imap_command_reader_get_parser(cmd->client->reader);
	if (to_memory)
		imap_parser_literal_to_memory(parser);
	int ret = imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, args_r);
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

/* All literals read: commit them together. */
static void append_finish(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	if (ctx->discarding) {
		append_reply(cmd, ctx->discard_reply);
		return;
	}
	unsigned int count = ctx->saves.count;
	uint32_t uidvalidity, *uids = p_new(cmd->pool, uint32_t, count);
	if (mail_save_finish_multi(ctx->saves.v, count, &uidvalidity, uids) < 0) {
		array_clear(&ctx->saves);
		imap_cmd_storage_error(cmd);
		return;
	}
	array_clear(&ctx->saves);
	imap_seq_ranges_t ranges;
	imap_seqset_from_sorted(uids, count, cmd->pool, &ranges);
	string_t *set = t_str_new(64);
	imap_seqset_write(&ranges, set);
	imap_cmd_finish(cmd, "OK [APPENDUID %u %s] Append completed.", uidvalidity, str_c(set));
}

static bool append_begin(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	const char *error;
	array_init(&ctx->saves, cmd->pool, 4);
	if (imap_mailbox_name_from_arg(cmd->client, &cmd->args[0], &ctx->mailbox, &error) < 0)
		return append_fail(cmd, ctx, find_literal(cmd->args), error);
	ctx->mailbox = p_strdup(cmd->pool, ctx->mailbox);
	return append_message_start(cmd, ctx, cmd->args + 1);
}

bool imap_cmd_append(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	const struct imap_arg *args;
	if (ctx == NULL) {
		ctx = cmd->context = p_new(cmd->pool, struct append_ctx, 1);
		/* a literal mailbox name is read into memory first */
		ctx->args_ready = cmd->args[0].type != IMAP_ARG_LITERAL_SIZE;
		if (ctx->args_ready) {
			if (append_begin(cmd, ctx))
				return true;
		}
	}
	if (!ctx->args_ready) {
		bool first = !ctx->name_literal_started;
		ctx->name_literal_started = true;
		int ret = append_read_args(cmd, first, &args);
		if (ret < 0)
			return true;
		if (ret == 0)
			return false;
		cmd->args = args;
		ctx->args_ready = true;
		if (append_begin(cmd, ctx))
			return true;
	}
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
		if (args[0].type == IMAP_ARG_EOL) {
			append_finish(cmd, ctx);
			return true;
		}
		if (ctx->discarding) {
			/* after a failure, read away further non-synchronizing
			   literals; a synchronizing one ends the command */
			const struct imap_arg *lit = find_literal(args);
			if (lit->type == IMAP_ARG_LITERAL_SIZE && !lit->literal_sync) {
				ctx->left = lit->u.literal_size;
				continue;
			}
			imap_command_reader_skip_rest(cmd->client->reader);
			append_reply(cmd, ctx->discard_reply);
			return true;
		}
		if (append_message_start(cmd, ctx, args))
			return true;
	}
}

void imap_cmd_append_abort(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	if (ctx != NULL)
		append_ctx_free(ctx);
}
