/* APPEND (RFC 9051 §6.3.12) with UIDPLUS's APPENDUID (RFC 4315). The
 * message literal is streamed straight into the storage as it arrives and
 * is never held whole in memory. */
#include "imap-commands.h"
#include "date.h"
#include "imap-arg.h"
#include "imap-storage.h"
#include "istream.h"

struct append_ctx {
	bool args_ready;  /* the mailbox name literal, if any, was read */
	struct mail_save *save;
	uint64_t left;    /* literal bytes still to come */
	bool discarding;  /* refused non-synchronizing literal: read and drop */
	const char *discard_reply;
	const char *mailbox;
};

static void append_ctx_free(struct append_ctx *ctx)
{
	mail_save_abort(&ctx->save);
}

/* Parses "mailbox [flags] [date] {literal}" (the literal as LITERAL_SIZE). */
static int append_parse(struct imap_cmd *cmd, const char **mailbox_r,
			struct mail_save_params *params, const struct imap_arg **literal_r,
			const char **error_r)
{
	const struct imap_arg *args = cmd->args;
	if (imap_mailbox_name_from_arg(cmd->client, &args[0], mailbox_r, error_r) < 0)
		return -1;
	*mailbox_r = p_strdup(cmd->pool, *mailbox_r);
	args++;
	memset(params, 0, sizeof(*params));
	params->internal_date = (time_t)-1;
	const struct imap_arg *list;
	unsigned int count;
	if (imap_arg_get_list(args, &list, &count)) {
		if (imap_flags_parse(list, count, cmd->pool, &params->flags,
				     &params->keywords, error_r) < 0) {
			*error_r = t_strdup_printf("BAD %s", *error_r);
			return -1;
		}
		args++;
	}
	const char *date;
	if (args->type == IMAP_ARG_STRING && imap_arg_get_string(args, &date)) {
		if (imap_date_time_parse(date, &params->internal_date,
					 &params->internal_date_tz) < 0) {
			*error_r = "BAD Invalid internal date.";
			return -1;
		}
		args++;
	}
	if (args->type != IMAP_ARG_LITERAL_SIZE || args[1].type != IMAP_ARG_EOL) {
		*error_r = "BAD APPEND needs a message literal.";
		return -1;
	}
	*literal_r = args;
	return 0;
}

static bool append_start(struct imap_cmd *cmd, struct append_ctx *ctx)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *literal;
	struct mail_save_params params;
	const char *error;
	if (append_parse(cmd, &ctx->mailbox, &params, &literal, &error) < 0) {
		/* a synchronizing literal was not invited: nothing follows;
		   a non-synchronizing one follows and must be read away */
		if (cmd->args[0].type != IMAP_ARG_EOL) {
			const struct imap_arg *a = cmd->args;
			while (a->type != IMAP_ARG_EOL && a->type != IMAP_ARG_LITERAL_SIZE)
				a++;
			if (a->type == IMAP_ARG_LITERAL_SIZE && !a->literal_sync) {
				ctx->discarding = true;
				ctx->left = a->u.literal_size;
				ctx->discard_reply = p_strdup(cmd->pool, error);
				return false;
			}
		}
		if (strncmp(error, "BAD ", 4) == 0)
			imap_cmd_bad(cmd, error + 4);
		else
			imap_cmd_send_tagged(cmd, "%s", error);
		return true;
	}
	uint64_t size = literal->u.literal_size;
	ctx->left = size;
	if (size > client->set->imap.max_literal_size) {
		if (!literal->literal_sync) {
			imap_client_disconnect(client, "[TOOBIG] Message too large.", "APPEND too large");
			return true;
		}
		imap_cmd_send_tagged(cmd, "NO [TOOBIG] Message is larger than %llu bytes.",
				     (unsigned long long)client->set->imap.max_literal_size);
		return true;
	}
	ctx->save = mail_save_begin(client->mail_user, ctx->mailbox, &params);
	if (ctx->save == NULL) {
		const char *reply = imap_storage_error_reply(client);
		/* RFC 9051 §6.3.12: TRYCREATE when the mailbox doesn't exist */
		if (strncmp(reply, "NO [NONEXISTENT]", 16) == 0)
			reply = t_strconcat("NO [TRYCREATE]", reply + 16, NULL);
		if (!literal->literal_sync) {
			ctx->discarding = true;
			ctx->discard_reply = p_strdup(cmd->pool, reply);
			return false;
		}
		imap_cmd_send_tagged(cmd, "%s", reply);
		return true;
	}
	if (literal->literal_sync)
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
			mail_save_abort(&ctx->save);
			ctx->discarding = true;
			ctx->discard_reply = p_strdup(cmd->pool, imap_storage_error_reply(cmd->client));
		}
		i_stream_skip(input, size);
		ctx->left -= size;
	}
	return true;
}

/* After the literal: the rest of the command line. Returns 1 done, 0 need
   more, -1 error (reply sent). */
static int append_read_rest(struct imap_cmd *cmd)
{
	struct imap_parser *parser = imap_command_reader_get_parser(cmd->client->reader);
	const struct imap_arg *args;
	int ret = imap_parser_read_args(parser, 0, &args);
	if (ret == 0)
		return 0;
	if (ret < 0 || args[0].type != IMAP_ARG_EOL) {
		imap_command_reader_skip_rest(cmd->client->reader);
		imap_cmd_bad(cmd, "Unexpected data after the APPEND literal (MULTIAPPEND is not supported yet).");
		return -1;
	}
	return 1;
}

/* The mailbox name may itself be a literal: read it into memory and
   parse on up to the message literal. Returns 1 ready, 0 need more, -1
   error (reply sent). */
static int append_read_args(struct imap_cmd *cmd)
{
	struct imap_parser *parser = imap_command_reader_get_parser(cmd->client->reader);
	if (cmd->context == NULL) {
		/* first call: cmd->args are fresh */
		if (cmd->args[0].type != IMAP_ARG_LITERAL_SIZE)
			return 1;
		imap_parser_literal_to_memory(parser);
	}
	const struct imap_arg *args;
	int ret = imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, &args);
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
	cmd->args = args;
	return 1;
}

bool imap_cmd_append(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	if (ctx == NULL || !ctx->args_ready) {
		int ret = append_read_args(cmd);
		if (ret < 0)
			return true;
		if (ctx == NULL)
			ctx = cmd->context = p_new(cmd->pool, struct append_ctx, 1);
		if (ret == 0)
			return false;
		ctx->args_ready = true;
		if (append_start(cmd, ctx))
			return true;
	}
	if (!append_read_literal(cmd, ctx))
		return false;
	int ret = append_read_rest(cmd);
	if (ret == 0)
		return false;
	if (ret < 0) {
		append_ctx_free(ctx);
		return true;
	}
	if (ctx->discarding) {
		append_ctx_free(ctx);
		if (strncmp(ctx->discard_reply, "BAD ", 4) == 0)
			imap_cmd_bad(cmd, ctx->discard_reply + 4);
		else
			imap_cmd_finish(cmd, "%s", ctx->discard_reply);
		return true;
	}
	uint32_t uidvalidity, uid;
	if (mail_save_finish(&ctx->save, &uidvalidity, &uid) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	imap_cmd_finish(cmd, "OK [APPENDUID %u %u] Append completed.", uidvalidity, uid);
	return true;
}

void imap_cmd_append_abort(struct imap_cmd *cmd)
{
	struct append_ctx *ctx = cmd->context;
	if (ctx != NULL)
		append_ctx_free(ctx);
}
