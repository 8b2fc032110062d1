/* The login role (imap-login, pop3-login): TLS, the pre-login engines and
 * authentication; a logged-in session goes to the master with its socket
 * (plaintext) or with one end of a socketpair while this process keeps
 * relaying the TLS (login-proxy.h). Sessions coming back after IMAP
 * UNAUTHENTICATE resume here. */
#include "ternd-worker-private.h"
#include "buffer.h"
#include "connection.h"
#include "imap-client.h"
#include "ipc-handoff.h"
#include "log.h"
#include "login-imap.h"
#include "login-pop3.h"
#include "login-proxy.h"
#include "net.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connection whose socket went to another process: nothing left to do
   but free it. */
static const struct connection_vfuncs released_vfuncs = { .input = NULL };

static void worker_login_handoff(struct connection *conn, const struct login_handoff *h)
{
	string_t *str = t_str_new(512);
	str_append(str, "HANDOFF\t");
	login_handoff_serialize(h, str);

	if (login_connection_is_tls(conn)) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0) {
			conn->v = &released_vfuncs;
			log_error(&conn->log, "handoff_failed", "error=%s",
				  log_value(strerror(errno)));
			connection_close(conn, "internal error");
			return;
		}
		int ret = ipc_channel_send(worker.chan, str_data(str), str_len(str), sp[1]);
		close(sp[1]);
		(void)login_proxy_create(conn, sp[0]);
		if (ret < 0)
			connection_close(conn, "hand-off to the master failed");
		return;
	}
	/* the login engine's last output must reach the client before the
	   mail process writes the tagged OK */
	(void)o_stream_flush(conn->output);
	conn->v = &released_vfuncs;
	if (o_stream_get_buffer_used(conn->output) > 0 ||
	    ipc_channel_send(worker.chan, str_data(str), str_len(str),
			     conn->transport->fd) < 0) {
		connection_close(conn, "hand-off to the master failed");
		return;
	}
	connection_release(conn);
}

/* IMAP UNAUTHENTICATE: the session returns to the pre-login engine. */
static void worker_login_resume(const char *record, int fd)
{
	struct login_handoff h;
	const char *error;

	if (login_handoff_parse(record, t_pool(), &h, &error) < 0 ||
	    strcmp(h.protocol, "imap") != 0) {
		log_error(NULL, "resume_failed", "error=%s", log_value(error));
		close(fd);
		return;
	}
	struct connection *conn;
	if (h.tls) {
		struct login_proxy *proxy = login_proxy_find(h.session_id);
		/* the mail process's end: everything it wrote is queued */
		if (proxy == NULL) {
			close(fd);
			return;
		}
		conn = login_proxy_detach(proxy, h.input, h.input_size);
		close(fd);
		if (conn == NULL)
			return;
	} else {
		const struct imap_settings *iset = &worker.config->set->imap;
		conn = connection_create(fd, &h.remote, &h.local, &released_vfuncs, NULL,
					 iset->max_line_length + 1024, iset->output_buffer_limit);
		snprintf(conn->session_id, sizeof(conn->session_id), "%s", h.session_id);
		if (i_stream_inject(conn->input, h.input, h.input_size) < 0) {
			connection_close(conn, "pipelined input too large");
			return;
		}
	}
	login_imap_client_resume(&worker.login, conn, h.starttls);
}

void worker_login_channel_input(struct ipc_channel *chan ATTR_UNUSED, const void *data,
				size_t size, int fd, void *context ATTR_UNUSED)
{
	if (data == NULL) {
		worker_master_lost();
		return;
	}
	const char *msg = t_strndup(data, size);
	if (strncmp(msg, "RESUME\t", 7) == 0 && fd >= 0) {
		worker_login_resume(msg + 7, fd);
		return;
	}
	log_error(NULL, "master_message_invalid", NULL);
	if (fd >= 0)
		close(fd);
}

int worker_login_init(const char **error_r)
{
	const struct tern_settings *set = worker.config->set;

	/* worker.login.tls was set up from the master's copy of the TLS
	   files (ternd-worker.c) */
	if (auth_create_from_settings(set, &worker.login.auth, error_r) < 0)
		return -1;
	worker.login.set = set;
	worker.login.handoff = worker_login_handoff;
	return 0;
}

void worker_login_deinit(void)
{
	auth_destroy(&worker.login.auth);
	tls_context_destroy(&worker.login.tls);
}
