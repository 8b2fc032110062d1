/* Post-login IMAP session: command loop, response writing, teardown. */
#include "imap-client.h"
#include "imap-capability.h"
#include "imap-sieve.h"
#include "imap-commands.h"
#include "imap-notify.h"
#include "imap-quote.h"
#include "imap-search-update.h"
#include "imap-storage.h"
#include "istream.h"

static void imap_client_input(struct connection *conn);

/* Deferred storage work (flags mirrored into file names) runs in slices
   of this length once the session has had no input for this long, so
   commands (almost) never wait for it. */
#define IMAP_CLIENT_DEFERRED_DELAY_MSECS 20
#define IMAP_CLIENT_DEFERRED_SLICE_MSECS 5

const char *imap_client_capability(struct imap_client *client)
{
	struct imap_capability_opts opts = {
		.authenticated = true,
		.append_limit = client->set->imap.max_literal_size,
		.message_limit = client->set->imap.message_limit,
		.save_limit = client->set->imap.save_limit,
		.metadata = client->set->imap.metadata,
		.remove = client->set->imap.capability_remove,
		.add = client->set->imap.capability_add,
	};
	/* RFC 6785 §2.1: IMAPSIEVE= names the ManageSieve server */
	const char *imapsieve = imap_sieve_capability(client);
	if (imapsieve != NULL)
		opts.add = t_strconcat(imapsieve, " ", opts.add == NULL ? "" : opts.add, NULL);
	return imap_capability_string(&opts);
}

void imap_client_send_line(struct imap_client *client, const char *line)
{
	struct ostream *output = client->conn->output;
	o_stream_cork(output);
	o_stream_send_str(output, line);
	o_stream_send(output, "\r\n", 2);
	o_stream_uncork(output);
}

void imap_client_send_untagged(struct imap_client *client, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	const char *text = p_strdup_vprintf(t_pool(), fmt, args);
	va_end(args);
	o_stream_cork(client->conn->output);
	o_stream_send(client->conn->output, "* ", 2);
	imap_client_send_line(client, text);
	o_stream_uncork(client->conn->output);
}

void imap_cmd_send_tagged(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	const char *text = p_strdup_vprintf(t_pool(), fmt, args);
	va_end(args);
	imap_client_send_line(cmd->client, t_strdup_printf("%s %s", cmd->tag, text));
}

void imap_cmd_bad(struct imap_cmd *cmd, const char *text)
{
	imap_cmd_send_tagged(cmd, "BAD %s", text);
	cmd->client->bad_count++;
}

void imap_cmd_finish(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	const char *text = p_strdup_vprintf(t_pool(), fmt, args);
	va_end(args);
	/* RFC 9051 §7.5.1: no EXPUNGE while a FETCH, STORE or SEARCH by
	   sequence number is answered, since the client can't know which
	   numbers they refer to */
	bool no_expunges = strcmp(cmd->name, "FETCH") == 0 || strcmp(cmd->name, "STORE") == 0 ||
		strcmp(cmd->name, "SEARCH") == 0 || strcmp(cmd->name, "SORT") == 0 ||
		strcmp(cmd->name, "THREAD") == 0;
	/* NOOP and CHECK are how clients poll: look at the disk too */
	bool full = strcmp(cmd->name, "NOOP") == 0 || strcmp(cmd->name, "CHECK") == 0;
	imap_client_sync(cmd->client, (no_expunges ? IMAP_SYNC_NO_EXPUNGES : 0) |
			 (full ? IMAP_SYNC_FULL : 0));
	imap_cmd_send_tagged(cmd, "%s", text);
}

void imap_cmd_fail(struct imap_cmd *cmd, const char *reply)
{
	if (strncmp(reply, "BAD ", 4) == 0)
		imap_cmd_bad(cmd, reply + 4);
	else
		imap_cmd_finish(cmd, "%s", reply);
}

void imap_cmd_storage_error(struct imap_cmd *cmd)
{
	imap_cmd_finish(cmd, "%s", imap_storage_error_reply(cmd->client));
}

void imap_client_unselect(struct imap_client *client)
{
	imap_search_update_clear(client);
	imap_notify_unselect(client);
	mailbox_close(&client->box);
	client->announced_keyword_count = 0;
	imap_client_search_save(client, NULL, 0);
}

void imap_client_enable_condstore(struct imap_client *client)
{
	if (client->condstore)
		return;
	client->condstore = true;
	if (client->box != NULL) {
		imap_client_send_untagged(client, "OK [HIGHESTMODSEQ %llu] Highest modseq.",
					  (unsigned long long)mailbox_get_view_status(client->box)->highestmodseq);
	}
}

void imap_client_search_save(struct imap_client *client, const uint32_t *uids,
			     unsigned int count)
{
	if (!array_is_created(&client->search_saved))
		array_init(&client->search_saved, system_pool, count + 1);
	array_clear(&client->search_saved);
	array_reserve(&client->search_saved, count);
	if (count > 0)
		memcpy(client->search_saved.v, uids, count * sizeof(*uids));
	client->search_saved.count = count;
}

void imap_client_disconnect(struct imap_client *client, const char *bye_text, const char *reason)
{
	if (bye_text != NULL)
		imap_client_send_untagged(client, "BYE %s", bye_text);
	connection_close(client->conn, reason);
}

static void *imap_client_lookup(const char *name, void *context,
				enum imap_parser_flags *flags_r)
{
	struct imap_client *client = context;
	const struct imap_command *command = imap_command_find(name);
	/* a command whose capability the operator removed is unknown */
	if (command != NULL &&
	    !imap_capability_allows_command(client->set->imap.capability_remove, name))
		command = NULL;
	*flags_r = command == NULL ? 0 : command->parse_flags;
	return (void *)command;
}

static void imap_cmd_free(struct imap_client *client)
{
	struct imap_cmd *cmd = client->cmd;
	client->cmd = NULL;
	if (cmd->def->abort != NULL)
		cmd->def->abort(cmd);
	imap_notify_command_done(client, cmd);
	pool_destroy(&cmd->pool);
	imap_command_reader_next(client->reader);
}

/* Runs the current command. Returns true when it finished. */
static bool imap_client_run_cmd(struct imap_client *client)
{
	struct imap_cmd *cmd = client->cmd;
	unsigned int bad_before = client->bad_count;
	if (cmd->def->state == IMAP_STATE_SELECTED && client->box == NULL &&
	    cmd->context == NULL) {
		imap_cmd_bad(cmd, "No mailbox selected.");
		imap_cmd_free(client);
		return true;
	}
	if (!cmd->def->func(cmd))
		return false;
	if (client->bad_count == bad_before)
		client->bad_count = 0;
	imap_cmd_free(client);
	return true;
}

static void imap_client_start_cmd(struct imap_client *client,
				  const struct imap_command_input *input)
{
	pool_t pool = pool_create("imap command", 1024);
	struct imap_cmd *cmd = p_new(pool, struct imap_cmd, 1);
	cmd->client = client;
	cmd->pool = pool;
	cmd->def = input->command;
	cmd->tag = p_strdup(pool, input->tag);
	cmd->name = p_strdup(pool, input->name);
	cmd->args = input->args; /* parser memory, valid until reader_next() */
	client->cmd = cmd;
}

/* Between commands, or in IDLE: the states where the session only waits. */
static bool imap_client_is_waiting(const struct imap_client *client)
{
	return client->cmd == NULL || client->cmd->def->func == imap_cmd_idle;
}

static void imap_client_run_deferred(void *context)
{
	struct imap_client *client = context;
	client->deferred_to = NULL;
	if (client->box == NULL || !mailbox_has_deferred(client->box))
		return;
	if (!imap_client_is_waiting(client) || i_stream_get_data_size(client->conn->input) > 0) {
		/* busy: look again after the command */
		client->deferred_to = timeout_add_once(IMAP_CLIENT_DEFERRED_DELAY_MSECS,
						       imap_client_run_deferred, client);
		return;
	}
	int ret = mailbox_run_deferred(client->box, IMAP_CLIENT_DEFERRED_SLICE_MSECS);
	if (ret > 0) {
		/* a zero delay still lets waiting input in first */
		client->deferred_to = timeout_add_once(0, imap_client_run_deferred, client);
	} else if (client->cmd != NULL) {
		/* IDLE keeps no caches while it waits */
		mail_user_release_memory(client->mail_user);
	}
}

static void imap_client_schedule_deferred(struct imap_client *client)
{
	if (client->deferred_to == NULL && client->box != NULL && !client->conn->closed &&
	    mailbox_has_deferred(client->box))
		client->deferred_to = timeout_add_once(IMAP_CLIENT_DEFERRED_DELAY_MSECS,
						       imap_client_run_deferred, client);
}

static void imap_client_input_run(struct imap_client *client);

static imap_client_unauthenticated_t *unauthenticated_callback;

void imap_client_set_unauthenticated_callback(imap_client_unauthenticated_t *callback)
{
	unauthenticated_callback = callback;
}

/* Frees the session but not the connection (destroy without the close). */
static void imap_client_free(struct imap_client *client)
{
	timeout_remove(&client->deferred_to);
	imap_notify_deinit(client);
	if (client->cmd != NULL)
		imap_cmd_free(client);
	imap_client_unselect(client);
	array_free(&client->search_saved);
	mail_user_deinit(&client->mail_user);
	imap_command_reader_destroy(&client->reader);
	i_free(client->user);
	i_free(client->home);
	free(client);
}

/* After UNAUTHENTICATE's OK (RFC 8437 §3): the session ends and the
   connection, with its TLS and COMPRESS layers and whatever the client
   pipelined, goes back to the pre-login engine. */
static void imap_client_unauthenticate(struct imap_client *client)
{
	struct connection *conn = client->conn;
	bool starttls = client->starttls_offered, tls = client->tls;
	unsigned int login_pid = client->login_pid;
	log_info(&conn->log, "unauthenticate", "in=%llu out=%llu",
		 (unsigned long long)i_stream_get_offset(conn->input),
		 (unsigned long long)o_stream_get_offset(conn->output));
	imap_client_free(client);
	conn->context = NULL;
	conn->v = NULL;
	conn->log.user = NULL;
	unauthenticated_callback(conn, starttls, tls, login_pid);
}

static void imap_client_input(struct connection *conn)
{
	struct imap_client *client = conn->context;
	/* the session is busy: deferred work waits until it is quiet again */
	timeout_remove(&client->deferred_to);
	/* one write for all the replies to what the client sent (SELECT's
	   untagged lines, pipelined commands): behind a login worker's TLS
	   relay every write is a wakeup, a TLS record and a TCP segment.
	   When the buffer filled up while corked but uncorking sent it all,
	   no drain event will come: go on at once (as imap_fetch_more()). */
	bool again;
	do {
		o_stream_cork(conn->output);
		imap_client_input_run(client);
		again = o_stream_is_full(conn->output);
		o_stream_uncork(conn->output);
		again = again && !conn->closed && !o_stream_is_full(conn->output) &&
			!o_stream_is_failed(conn->output);
	} while (again);
	if (client->unauthenticate && !conn->closed) {
		imap_client_unauthenticate(client);
		return;
	}
	imap_client_schedule_deferred(client);
}

static void imap_client_input_run(struct imap_client *client)
{
	struct connection *conn = client->conn;
	while (!conn->closed && !client->logout && !client->unauthenticate &&
	       !o_stream_is_full(conn->output)) {
		if (client->cmd != NULL) {
			if (!imap_client_run_cmd(client))
				return;
			if (client->bad_count >= IMAP_CLIENT_MAX_BAD_COMMANDS) {
				imap_client_disconnect(client, "Too many invalid IMAP commands.",
						       "too many invalid commands");
				return;
			}
			continue;
		}
		if (client->shutting_down) {
			imap_client_disconnect(client, "Server shutting down.", "server shutting down");
			return;
		}
		/* NOTIFY (RFC 5465): what waited goes out between commands */
		if (client->notify != NULL && !imap_notify_output(client))
			return;
		struct imap_command_input input;
		int ret = imap_command_reader_read(client->reader, imap_client_lookup, client, &input);
		if (ret == IMAP_READER_NEED_MORE)
			return;
		if (ret == IMAP_READER_FATAL) {
			connection_close(conn, "fatal protocol error");
			return;
		}
		if (ret == IMAP_READER_BAD) {
			if (++client->bad_count >= IMAP_CLIENT_MAX_BAD_COMMANDS)
				imap_client_disconnect(client, "Too many invalid IMAP commands.",
						       "too many invalid commands");
			continue;
		}
		imap_client_start_cmd(client, &input);
	}
	if (client->logout && !conn->closed)
		connection_close(conn, "logged out");
}

static void imap_client_output_drained(struct connection *conn)
{
	imap_client_input(conn);
}

static void imap_client_idle_timeout(struct connection *conn)
{
	struct imap_client *client = conn->context;
	imap_client_disconnect(client, "Disconnected for inactivity.", "inactivity timeout");
}

static void imap_client_shutdown(struct connection *conn)
{
	struct imap_client *client = conn->context;
	client->shutting_down = true;
	/* between commands: say BYE now; otherwise after the running one
	   (which IDLE ends at once) */
	if (client->cmd == NULL)
		imap_client_disconnect(client, "Server shutting down.", "server shutting down");
	else
		imap_client_input(conn);
}

static void imap_client_destroy(struct connection *conn)
{
	struct imap_client *client = conn->context;
	log_info(&conn->log, "disconnect", "reason=%s in=%llu out=%llu",
		 log_value(conn->close_reason == NULL ? "" : conn->close_reason),
		 (unsigned long long)i_stream_get_offset(conn->input),
		 (unsigned long long)o_stream_get_offset(conn->output));
	imap_client_free(client);
}

static const struct connection_vfuncs imap_client_vfuncs = {
	.input = imap_client_input,
	.output_drained = imap_client_output_drained,
	.idle_timeout = imap_client_idle_timeout,
	.shutdown = imap_client_shutdown,
	.destroy = imap_client_destroy,
};


/* The passdb's "referral" field for a successful login (RFC 2221 §4.1),
   or NULL; with nologin the login side refuses with NO [REFERRAL]. */
static const char *imap_client_login_referral(const struct login_handoff *handoff)
{
	for (unsigned int i = 0; i < handoff->userdb_extra.count; i++) {
		const char *field = handoff->userdb_extra.v[i];
		if (strncmp(field, "referral=", 9) == 0 &&
		    imap_resp_code_text_is_valid(field + 9))
			return field + 9;
	}
	return NULL;
}

void imap_client_create(const struct tern_settings *set, struct connection *conn,
			const struct login_handoff *handoff)
{
	struct imap_client *client = i_zalloc(sizeof(*client));
	client->conn = conn;
	client->set = set;
	/* malloc, not the connection pool: UNAUTHENTICATE can make one
	   connection log in many times */
	client->user = i_strdup(handoff->user);
	client->home = i_strdup(handoff->home);
	client->starttls_offered = handoff->starttls;
	client->tls = handoff->tls;
	client->login_pid = handoff->login_pid;
	conn->log.user = client->user;
	conn->v = &imap_client_vfuncs;
	conn->context = client;
	struct imap_parser_limits limits = {
		.max_line_length = set->imap.max_line_length,
		/* literals held in memory (in any command but APPEND, whose
		   message literal streams to disk) are bounded like a line */
		.max_literal_size = I_MIN(set->imap.max_line_length, set->imap.max_literal_size),
		.max_list_depth = 64,
		.max_args = 100000,
	};
	client->reader = imap_command_reader_create(conn->input, conn->output, &limits);
	connection_set_idle_timeout(conn, set->imap.idle_timeout_ms);

	const char *error = "unsafe user name";
	struct mail_user_settings mset = {
		.username = client->user,
		.home = config_mail_home(set, client->user, handoff->home),
		.driver = set->mail.driver,
		.create_special_folders = set->mail.create_special_folders,
		.text_index_on_demand = !set->mail.index_text_at_save,
	};
	if (mset.home == NULL || mail_user_init(&mset, &client->mail_user, &error) < 0) {
		log_error(&conn->log, "mail_user_init_failed", "home=%s error=%s",
			  log_value(mset.home), log_value(error));
		if (handoff->tag[0] != '\0')
			o_stream_printf(conn->output, "%s NO [UNAVAILABLE] Mail storage is not available.\r\n",
					handoff->tag);
		connection_close(conn, "mail storage unavailable");
		return;
	}
	log_info(&conn->log, "login", "protocol=imap mech=%s tls=%s",
		 handoff->mech, handoff->tls ? log_value(handoff->tls_info) : "no");
	const char *referral = imap_client_login_referral(handoff);
	if (handoff->tag[0] == '\0') {
		/* PREAUTH-like hand-offs have no command to answer */
	} else if (referral != NULL) {
		/* RFC 2221 §4.1: logged in, but the user should use the
		   referred server from now on; one response code per line */
		o_stream_printf(conn->output, "* CAPABILITY %s\r\n%s OK [REFERRAL %s] Logged in\r\n",
				imap_client_capability(client), handoff->tag, referral);
	} else {
		o_stream_printf(conn->output, "%s OK [CAPABILITY %s] Logged in\r\n",
				handoff->tag, imap_client_capability(client));
	}
	connection_update_io(conn);
}
