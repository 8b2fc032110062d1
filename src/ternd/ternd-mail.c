/* The mail role (imap, pop3): post-login sessions handed over by the master
 * (socket plus hand-off record), running as the users' uid. Reports its
 * session count so the master can spread sessions over processes, and sends
 * a session back for IMAP UNAUTHENTICATE. */
#include "ternd-worker-private.h"
#include "buffer.h"
#include "connection.h"
#include "imap-cache-render.h"
#include "imap-client.h"
#include "index-db.h"
#include "ipc-handoff.h"
#include "log.h"
#include "managesieve-client.h"
#include "pop3-client.h"

#include <unistd.h>

/* Index connections a mail worker keeps open after a session ends, for the
   user's next one (index_db_set_park_limit()): clients reconnect often,
   and opening and closing the index is most of a short session's CPU. */
#define WORKER_MAIL_PARKED_INDEXES 256

/* session count reports are coalesced over this long */
#define WORKER_MAIL_LOAD_DELAY_MS 100

static const struct connection_vfuncs mail_released_vfuncs = { .input = NULL };

static void worker_mail_send_load(void *context ATTR_UNUSED)
{
	worker.load_to = NULL;
	unsigned int load = connection_count();
	if (load == worker.reported_load || worker.chan == NULL)
		return;
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "LOAD\t%u", load);
	if (ipc_channel_send(worker.chan, msg, (size_t)len, -1) == 0)
		worker.reported_load = load;
}

static void worker_mail_count_changed(struct connection *conn, bool created)
{
	/* the master counts sessions per user and address */
	if (!created && worker.chan != NULL) {
		const char *msg = t_strdup_printf("END\t%s", conn->session_id);
		(void)ipc_channel_send(worker.chan, msg, strlen(msg), -1);
	}
	if (worker.load_to == NULL)
		worker.load_to = timeout_add_once(WORKER_MAIL_LOAD_DELAY_MS,
						  worker_mail_send_load, NULL);
}

static void worker_mail_handoff(const char *record, int fd)
{
	const struct tern_settings *set = worker.config->set;
	struct login_handoff h;
	const char *error = "wrong protocol";

	if (login_handoff_parse(record, t_pool(), &h, &error) < 0 ||
	    strcmp(h.protocol, worker.service) != 0) {
		log_error(NULL, "handoff_failed", "error=%s", log_value(error));
		close(fd);
		return;
	}
	bool pop3 = strcmp(h.protocol, "pop3") == 0;
	bool sieve = strcmp(h.protocol, "managesieve") == 0;
	size_t max_line = pop3 ? set->pop3.max_line_length : set->imap.max_line_length;
	uint64_t out_limit = pop3 ? set->pop3.output_buffer_limit :
		set->imap.output_buffer_limit;
	unsigned int out_timeout = pop3 ? set->pop3.output_timeout_ms :
		set->imap.output_timeout_ms;
	if (sieve) {
		/* literals stream through the parser: a line's worth */
		max_line = set->managesieve.max_line_length;
		out_limit = set->managesieve.output_buffer_limit;
		out_timeout = set->managesieve.output_timeout_ms;
	}
	struct connection *conn =
		connection_create(fd, &h.remote, &h.local, &mail_released_vfuncs, NULL,
				  max_line + 1024, out_limit);
	snprintf(conn->session_id, sizeof(conn->session_id), "%s", h.session_id);
	connection_set_output_timeout(conn, out_timeout);
	if (i_stream_inject(conn->input, h.input, h.input_size) < 0) {
		connection_close(conn, "pipelined input too large");
		return;
	}
	connection_ref(conn);
	if (pop3)
		pop3_client_create(set, conn, &h);
	else if (sieve)
		managesieve_client_create(set, conn, &h);
	else
		imap_client_create(set, conn, &h);
	/* commands pipelined behind the login are buffered already */
	if (h.input_size > 0 && !conn->closed)
		connection_input_resume(conn);
	connection_unref(&conn);
}

/* After UNAUTHENTICATE's OK: the socket and what the client pipelined go
   back through the master to a login process. */
static void worker_mail_send_back(struct connection *conn, const char *protocol,
				  bool starttls, bool tls, unsigned int login_pid)
{
	conn->v = &mail_released_vfuncs;
	/* the OK must be out before another process writes to the client */
	(void)o_stream_flush(conn->output);
	/* and whatever the client sent already is read, so it travels too */
	while (i_stream_read(conn->input) > 0) ;
	if (o_stream_get_buffer_used(conn->output) > 0 || i_stream_is_eof(conn->input) ||
	    i_stream_get_error(conn->input) != 0) {
		connection_close(conn, "unauthenticate: client not reading");
		return;
	}
	struct login_handoff h = {
		.protocol = protocol, .user = "", .home = "", .uid = (uid_t)-1,
		.gid = (gid_t)-1, .session_id = conn->session_id,
		.remote = conn->remote, .local = conn->local, .tls = tls,
		.starttls = starttls, .login_pid = login_pid, .mech = "", .tag = "",
	};
	h.input = i_stream_get_data(conn->input, &h.input_size);
	string_t *str = t_str_new(256);
	str_append(str, "RESUME\t");
	login_handoff_serialize(&h, str);
	if (ipc_channel_send(worker.chan, str_data(str), str_len(str),
			     conn->transport->fd) < 0) {
		connection_close(conn, "unauthenticate: master channel failed");
		return;
	}
	connection_release(conn);
}

static void worker_mail_unauthenticated(struct connection *conn, bool starttls, bool tls,
					unsigned int login_pid)
{
	worker_mail_send_back(conn, "imap", starttls, tls, login_pid);
}

static void worker_mail_sieve_unauthenticated(struct connection *conn, bool starttls,
					      bool tls, unsigned int login_pid)
{
	worker_mail_send_back(conn, "managesieve", starttls, tls, login_pid);
}

void worker_mail_channel_input(struct ipc_channel *chan ATTR_UNUSED, const void *data,
			       size_t size, int fd, void *context ATTR_UNUSED)
{
	if (data == NULL) {
		worker_master_lost();
		return;
	}
	const char *msg = t_strndup(data, size);
	if (strncmp(msg, "HANDOFF\t", 8) == 0 && fd >= 0) {
		/* even when retiring: the master sent it before it knew */
		worker_mail_handoff(msg + 8, fd);
		return;
	}
	if (strcmp(msg, "RETIRE") == 0 && fd < 0) {
		/* idle: exit once the sessions (if one just came) are done */
		worker_retire();
		return;
	}
	log_error(NULL, "master_message_invalid", NULL);
	if (fd >= 0)
		close(fd);
}

int worker_mail_init(const char **error_r ATTR_UNUSED)
{
	imap_client_set_unauthenticated_callback(worker_mail_unauthenticated);
	managesieve_client_set_unauthenticated_callback(worker_mail_sieve_unauthenticated);
	connection_set_count_hook(worker_mail_count_changed);
	if (worker.role == WORKER_ROLE_MAIL)
		index_db_set_park_limit(WORKER_MAIL_PARKED_INDEXES);
	worker_cache_render_register();
	return 0;
}

void worker_cache_render_register(void)
{
	const struct tern_settings *set = worker.config->set;
	if (!set->mail.cache_at_save)
		return;
	/* the bounds FETCH parses with, so that both render alike */
	const struct mime_parser_limits limits = {
		.max_depth = set->mail.mime_max_depth,
		.max_parts = set->mail.mime_max_parts,
		.max_header_size = (size_t)set->mail.mime_max_header_size,
	};
	imap_cache_render_register(&limits);
}

void worker_mail_deinit(void)
{
	connection_set_count_hook(NULL);
	timeout_remove(&worker.load_to);
	index_db_set_park_limit(0);
}
