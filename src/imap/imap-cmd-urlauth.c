/* GENURLAUTH, RESETKEY and URLFETCH (RFC 4467 §6) with URLFETCH's
 * extended forms BINARY, BODY and BODYPARTSTRUCTURE (RFC 5524 §3) and
 * partial URLs (RFC 5550 URL-PARTIAL). URLFETCH streams each part as a
 * literal with back-pressure: the command resumes when the client has
 * read what was sent. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-fetch.h"
#include "imap-quote.h"
#include "imap-storage.h"
#include "imap-url-part.h"
#include "imap-urlauth.h"

#include <strings.h>

/* URLs in one command */
#define URLFETCH_MAX_URLS 1000

bool imap_cmd_genurlauth(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	unsigned int count = imap_args_count(cmd->args);
	string_t *out = t_str_new(256);
	const char *text, *mech, *urlauth, *error;
	struct imap_url url;

	if (count == 0 || count % 2 != 0) {
		imap_cmd_bad(cmd, "GENURLAUTH takes URL and mechanism pairs.");
		return true;
	}
	str_append(out, "GENURLAUTH");
	for (unsigned int i = 0; i < count; i += 2) {
		if (!imap_arg_get_astring(&cmd->args[i], &text) ||
		    !imap_arg_get_atom(&cmd->args[i + 1], &mech)) {
			imap_cmd_bad(cmd, "GENURLAUTH takes URL and mechanism pairs.");
			return true;
		}
		if (strcasecmp(mech, IMAP_URLAUTH_MECHANISM) != 0) {
			imap_cmd_bad(cmd, "Unsupported URLAUTH mechanism.");
			return true;
		}
		if (imap_url_parse(text, strlen(text), IMAP_URL_PARSE_URLAUTH, cmd->pool,
				   &url, &error) < 0) {
			imap_cmd_bad(cmd, t_strdup_printf("Invalid URL: %s.", error));
			return true;
		}
		int ret = imap_urlauth_generate(client, text, strlen(text), &urlauth, &error);
		if (ret < 0) {
			imap_cmd_storage_error(cmd);
			return true;
		}
		if (ret == 0) {
			string_t *reply = t_str_new(256);
			str_append(reply, "NO [BADURL ");
			imap_url_append_resp_text(reply, text, strlen(text));
			str_printfa(reply, "] %s.", error);
			imap_cmd_finish(cmd, "%s", str_c(reply));
			return true;
		}
		str_append_c(out, ' ');
		imap_append_astring(out, urlauth);
	}
	imap_client_send_untagged(client, "%s", str_c(out));
	imap_cmd_finish(cmd, "OK GENURLAUTH completed.");
	return true;
}

bool imap_cmd_resetkey(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	unsigned int count = imap_args_count(cmd->args);
	const char *mailbox = NULL, *mech, *error;

	if (count > 0 &&
	    imap_mailbox_name_from_arg(client, &cmd->args[0], &mailbox, &error) < 0) {
		imap_cmd_fail(cmd, error);
		return true;
	}
	for (unsigned int i = 1; i < count; i++) {
		if (!imap_arg_get_atom(&cmd->args[i], &mech)) {
			imap_cmd_bad(cmd, "RESETKEY takes a mailbox and mechanisms.");
			return true;
		}
		if (strcasecmp(mech, IMAP_URLAUTH_MECHANISM) != 0) {
			imap_cmd_bad(cmd, "Unsupported URLAUTH mechanism.");
			return true;
		}
	}
	int ret = imap_urlauth_reset(client, mailbox);
	if (ret < 0)
		imap_cmd_storage_error(cmd);
	else if (ret == 0)
		imap_cmd_finish(cmd, "NO [NONEXISTENT] Mailbox doesn't exist.");
	else
		imap_cmd_finish(cmd, "OK RESETKEY completed.");
	return true;
}

/* ---- URLFETCH ---- */

struct urlfetch_req {
	const char *url;
	bool extended;  /* "(" url options ")" (RFC 5524) */
	bool bodypartstructure, binary, body;
};

struct urlfetch_ctx {
	ARRAY(struct urlfetch_req) reqs;
	unsigned int idx;
	/* the literal being sent */
	struct imap_url_part *part;
	struct mail_user *owner;
	uint64_t left;
	bool streaming;
	buffer_t *chunk;
};

/* Parses every argument before anything is sent. */
static int urlfetch_parse_args(struct imap_cmd *cmd, struct urlfetch_ctx *ctx)
{
	unsigned int count = imap_args_count(cmd->args);
	const struct imap_arg *list;
	unsigned int list_count;

	if (count == 0 || count > URLFETCH_MAX_URLS)
		return -1;
	array_init(&ctx->reqs, cmd->pool, count);
	for (unsigned int i = 0; i < count; i++) {
		struct urlfetch_req *req = array_append_space(&ctx->reqs);
		const char *url, *opt;
		if (imap_arg_get_astring(&cmd->args[i], &url)) {
			req->url = p_strdup(cmd->pool, url);
			continue;
		}
		if (!imap_arg_get_list(&cmd->args[i], &list, &list_count) || list_count < 2 ||
		    !imap_arg_get_astring(&list[0], &url))
			return -1;
		req->url = p_strdup(cmd->pool, url);
		req->extended = true;
		for (unsigned int j = 1; j < list_count; j++) {
			if (!imap_arg_get_atom(&list[j], &opt))
				return -1;
			if (strcasecmp(opt, "BODYPARTSTRUCTURE") == 0)
				req->bodypartstructure = true;
			else if (strcasecmp(opt, "BINARY") == 0)
				req->binary = true;
			else if (strcasecmp(opt, "BODY") == 0)
				req->body = true;
			else
				return -1;
		}
		if (req->binary && req->body)
			return -1;
	}
	return 0;
}

/* The part of a URL this session may read, or NULL (NIL). */
static struct imap_url_part *urlfetch_open(struct imap_cmd *cmd, struct urlfetch_ctx *ctx,
					   const char *text)
{
	struct imap_client *client = cmd->client;
	struct imap_url url;
	struct imap_url_part *part = NULL;
	const char *error;
	size_t len = strlen(text);

	if (imap_url_parse(text, len, IMAP_URL_PARSE_URLAUTH, cmd->pool, &url, &error) < 0 ||
	    imap_urlauth_verify(client, text, len, &url, &ctx->owner, &error) <= 0) {
		log_debug(&client->conn->log, "urlfetch_nil", "reason=%s", log_value(error));
		return NULL;
	}
	int ret = imap_url_part_open(ctx->owner, client->set, &url, &part, &error);
	if (ret <= 0) {
		log_debug(&client->conn->log, "urlfetch_nil", "reason=%s",
			  log_value(ret < 0 ? "storage error" : error));
		imap_url_part_close(&part);
		imap_urlauth_release(client, &ctx->owner);
	}
	return part;
}

/* Writes the response up to its literal's data. Returns false when the
   URL's answer is NIL (the line was finished). */
static bool urlfetch_start(struct imap_cmd *cmd, struct urlfetch_ctx *ctx,
			   const struct urlfetch_req *req)
{
	string_t *out = t_str_new(1024);
	uint64_t size = 0;
	bool literal8 = false, ok;

	str_append(out, "* URLFETCH ");
	imap_append_astring(out, req->url);
	ctx->part = urlfetch_open(cmd, ctx, req->url);
	ok = ctx->part != NULL;
	bool want_data = !req->extended || req->binary || req->body;
	int ret = 1;
	/* first: BODYPARTSTRUCTURE then describes the decoded content */
	if (ok && req->binary)
		ret = imap_url_part_set_binary(ctx->part);
	ok = ok && ret >= 0;
	if (ok && req->extended) {
		str_append(out, " (");
		if (req->bodypartstructure) {
			str_append(out, "BODYPARTSTRUCTURE ");
			ok = imap_url_part_write_bodystructure(ctx->part, out);
		}
	}
	if (ok && want_data && ret > 0)
		ok = imap_url_part_get_size(ctx->part, &size, &literal8) == 0;
	if (!ok) {
		str_truncate(out, 0);
		str_append(out, "* URLFETCH ");
		imap_append_astring(out, req->url);
		str_append(out, " NIL\r\n");
		o_stream_send(cmd->client->conn->output, str_data(out), str_len(out));
		imap_url_part_close(&ctx->part);
		imap_urlauth_release(cmd->client, &ctx->owner);
		return false;
	}
	if (want_data) {
		if (!req->extended)
			str_append_c(out, ' ');
		else
			str_append(out, req->binary ? (req->bodypartstructure ? " BINARY " : "BINARY ") :
				   (req->bodypartstructure ? " BODY " : "BODY "));
		/* BINARY NIL: the part's encoding can't be undone */
		if (ret == 0)
			str_append(out, "NIL");
		else
			str_printfa(out, "%s{%llu}\r\n", literal8 ? "~" : "",
				    (unsigned long long)size);
	}
	o_stream_send(cmd->client->conn->output, str_data(out), str_len(out));
	ctx->left = want_data && ret > 0 ? size : 0;
	ctx->streaming = true;
	return true;
}

/* Sends literal bytes; false when the output is full. */
static bool urlfetch_stream(struct imap_cmd *cmd, struct urlfetch_ctx *ctx)
{
	struct ostream *output = cmd->client->conn->output;

	while (ctx->left > 0) {
		if (o_stream_is_full(output))
			return false;
		buffer_clear(ctx->chunk);
		int ret = imap_url_part_read(ctx->part, ctx->chunk);
		size_t n = (size_t)I_MIN((uint64_t)ctx->chunk->used, ctx->left);
		o_stream_send(output, ctx->chunk->data, n);
		ctx->left -= n;
		if (ret <= 0 && ctx->left > 0) {
			/* shorter than measured: keep the protocol in sync */
			log_error(&cmd->client->conn->log, "urlfetch_short",
				  "missing=%llu", (unsigned long long)ctx->left);
			char pad[1024];
			memset(pad, ' ', sizeof(pad));
			for (; ctx->left > 0; ctx->left -= I_MIN(ctx->left, sizeof(pad)))
				o_stream_send(output, pad, (size_t)I_MIN(ctx->left, sizeof(pad)));
		}
	}
	return true;
}

static void urlfetch_ctx_free(struct imap_cmd *cmd, struct urlfetch_ctx *ctx)
{
	imap_url_part_close(&ctx->part);
	imap_urlauth_release(cmd->client, &ctx->owner);
	if (ctx->chunk != NULL)
		buffer_free(&ctx->chunk);
}

bool imap_cmd_urlfetch(struct imap_cmd *cmd)
{
	struct urlfetch_ctx *ctx = cmd->context;

	if (ctx == NULL) {
		ctx = cmd->context = p_new(cmd->pool, struct urlfetch_ctx, 1);
		if (urlfetch_parse_args(cmd, ctx) < 0) {
			imap_cmd_bad(cmd, "URLFETCH takes URLs, or (URL options).");
			return true;
		}
		ctx->chunk = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	}
	while (ctx->idx < ctx->reqs.count) {
		const struct urlfetch_req *req = &ctx->reqs.v[ctx->idx];
		if (!ctx->streaming && !urlfetch_start(cmd, ctx, req)) {
			ctx->idx++;
			continue;
		}
		if (!urlfetch_stream(cmd, ctx))
			return false;
		o_stream_send_str(cmd->client->conn->output, req->extended ? ")\r\n" : "\r\n");
		imap_url_part_close(&ctx->part);
		imap_urlauth_release(cmd->client, &ctx->owner);
		ctx->streaming = false;
		ctx->idx++;
		if (o_stream_is_full(cmd->client->conn->output))
			return false;
	}
	urlfetch_ctx_free(cmd, ctx);
	imap_cmd_finish(cmd, "OK URLFETCH completed.");
	return true;
}

void imap_cmd_urlfetch_abort(struct imap_cmd *cmd)
{
	struct urlfetch_ctx *ctx = cmd->context;

	if (ctx != NULL)
		urlfetch_ctx_free(cmd, ctx);
}
