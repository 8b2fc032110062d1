/* IDLE (RFC 9051 §6.3.13, RFC 2177): changes to the selected mailbox are
 * pushed as they happen, from any process, without polling: the session
 * watches the storage's notification fd and wakes only when it fires.
 * After NOTIFY, IDLE sends exactly the events NOTIFY asked for (RFC 5465
 * §4), which imap-notify.c watches and sends. */
#include "imap-commands.h"
#include "imap-notify.h"
#include "ioloop.h"
#include "istream.h"

#include <strings.h>

/* keep NATs and firewalls from dropping an idle connection */
#define IMAP_IDLE_KEEPALIVE_MSECS (2 * 60 * 1000)

struct idle_ctx {
	struct io *notify_io;
	struct timeout *keepalive_to;
	bool notify; /* NOTIFY is active and sends the events */
	bool done;
};

static void idle_notify(void *context)
{
	struct imap_cmd *cmd = context;
	struct imap_client *client = cmd->client;
	struct connection *conn = client->conn;
	connection_ref(conn);
	mailbox_notify_clear(client->box);
	imap_client_sync(client, IMAP_SYNC_FULL);
	connection_update_io(conn);
	connection_unref(&conn);
}

static void idle_keepalive(void *context)
{
	struct imap_cmd *cmd = context;
	/* not in the middle of a NOTIFY FETCH: the next one comes soon */
	if (imap_notify_is_busy(cmd->client))
		return;
	imap_client_send_untagged(cmd->client, "OK Still here");
	connection_update_io(cmd->client->conn);
}

static void idle_stop(struct imap_client *client, struct idle_ctx *ctx)
{
	io_remove(&ctx->notify_io);
	timeout_remove(&ctx->keepalive_to);
	if (ctx->notify) {
		ctx->notify = false;
		imap_notify_idle_end(client);
	}
}

bool imap_cmd_idle(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct idle_ctx *ctx = cmd->context;
	if (ctx == NULL) {
		if (cmd->args[0].type != IMAP_ARG_EOL) {
			imap_cmd_bad(cmd, "IDLE takes no arguments.");
			return true;
		}
		ctx = cmd->context = p_new(cmd->pool, struct idle_ctx, 1);
		/* report what happened before we start waiting */
		imap_client_sync(client, IMAP_SYNC_FULL);
		o_stream_send_str(client->conn->output, "+ idling\r\n");
		ctx->notify = imap_notify_idle_begin(client);
		if (client->box != NULL && !ctx->notify) {
			int fd = mailbox_notify_fd(client->box);
			if (fd >= 0)
				ctx->notify_io = io_add(fd, IO_READ, idle_notify, cmd);
		}
		ctx->keepalive_to = timeout_add(IMAP_IDLE_KEEPALIVE_MSECS, idle_keepalive, cmd);
		/* an idle session shouldn't hold the index connection's caches:
		   thousands of them wait for hours */
		mail_user_release_memory(client->mail_user);
	}
	/* a NOTIFY FETCH being written goes first: DONE waits for it */
	if (ctx->notify && !imap_notify_output(client))
		return false;
	if (client->shutting_down) {
		idle_stop(client, ctx);
		imap_cmd_send_tagged(cmd, "OK Idle ended: server shutting down.");
		return true;
	}
	const char *line;
	int ret = imap_command_reader_read_line(client->reader, &line);
	if (ret == 0)
		return false;
	idle_stop(client, ctx);
	if (ret < 0 || strcasecmp(line, "DONE") != 0) {
		imap_cmd_bad(cmd, "Expected DONE.");
		return true;
	}
	imap_cmd_finish(cmd, "OK Idle completed.");
	return true;
}

void imap_cmd_idle_abort(struct imap_cmd *cmd)
{
	struct idle_ctx *ctx = cmd->context;
	if (ctx != NULL)
		idle_stop(cmd->client, ctx);
}
