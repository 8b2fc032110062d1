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
#include "login-managesieve.h"
#include "login-pop3.h"
#include "login-proxy.h"
#include "net.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Client bytes taken along when a TLS session comes back
   (UNAUTHENTICATE); more can't be pipelined input of a login command. */
#define WORKER_LOGIN_RESUME_MAX_INPUT (1024 * 1024)
/* How long a starting login worker waits for the auth process. */
#define WORKER_LOGIN_AUTH_WAIT_MS 10000

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

/* IMAP and ManageSieve UNAUTHENTICATE: the session returns to the
   pre-login engine. */
static void worker_login_resume(const char *record, int fd)
{
	struct login_handoff h;
	const char *error = "not an IMAP or ManageSieve session";

	if (login_handoff_parse(record, t_pool(), &h, &error) < 0 ||
	    (strcmp(h.protocol, "imap") != 0 && strcmp(h.protocol, "managesieve") != 0)) {
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
		/* what the proxy relayed after the mail process's last read
		   is still unread in its end of the socketpair */
		string_t *input = t_str_new(h.input_size + 256);
		str_append_n(input, h.input, h.input_size);
		char buf[4096];
		ssize_t n;
		while (str_len(input) < WORKER_LOGIN_RESUME_MAX_INPUT &&
		       (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			str_append_n(input, buf, (size_t)n);
		conn = login_proxy_detach(proxy, str_data(input), str_len(input));
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
	if (strcmp(h.protocol, "managesieve") == 0)
		login_managesieve_client_resume(&worker.login, conn, h.starttls);
	else
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

static bool worker_login_chrooted;

/* LeakSanitizer (test builds) reads /proc at exit, which a chrooted
   process can't see: it is off for chrooted login workers. The function
   is LSan's documented hook; other builds never call it. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return worker_login_chrooted ? 1 : 0;
}

/* Running as root: become login_user, chrooted to base_dir/run/login, so
   a bug in TLS or pre-login parsing can reach neither mail nor passwords.
   Returns the auth socket's path as seen afterwards, or NULL. */
static const char *worker_login_drop_privileges(const char **error_r)
{
	const struct tern_settings *set = worker.config->set;
	const char *dir = t_strdup_printf("%s/run/login", set->base_dir);
	char buf[4096];
	struct passwd pw, *res;

	if (geteuid() != 0)
		return t_strdup_printf("%s/auth", dir);
	if (getpwnam_r(set->login_user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		*error_r = t_strdup_printf("login_user %s does not exist", set->login_user);
		return NULL;
	}
	if (pw.pw_uid == 0) {
		*error_r = "login_user must not be root";
		return NULL;
	}
	/* what the libraries would load lazily, loaded while it is there */
	tzset();
	if (set->login_chroot) {
		if (chroot(dir) < 0 || chdir("/") < 0) {
			*error_r = t_strdup_printf("chroot(%s) failed: %s", dir,
						   strerror(errno));
			return NULL;
		}
		worker_login_chrooted = true;
	}
	if (setgroups(1, &pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 || setuid(pw.pw_uid) < 0) {
		*error_r = t_strdup_printf("can't become %s: %s", set->login_user,
					   strerror(errno));
		return NULL;
	}
	/* no way back */
	if (setuid(0) == 0) {
		*error_r = "could regain root after dropping privileges";
		return NULL;
	}
	return set->login_chroot ? "/auth" : t_strdup_printf("%s/auth", dir);
}

int worker_login_init(const char **error_r)
{
	const struct tern_settings *set = worker.config->set;
	const char *auth_path = worker_login_drop_privileges(error_r);
	if (auth_path == NULL)
		return -1;

	/* worker.login.tls was set up from the master's copy of the TLS
	   files (ternd-worker.c); authentication is the auth process's */
	const struct auth_client_settings aset = {
		.socket_path = auth_path,
		.allow_insecure_plaintext = set->auth.allow_insecure_plaintext,
	};
	worker.login.auth = auth_client_create(&aset);
	worker.login.set = set;
	/* greetings list the mechanisms: accept clients only once the auth
	   process has told us them (it starts at the same time as we do) */
	uint64_t deadline = ioloop_now_ms() + WORKER_LOGIN_AUTH_WAIT_MS;
	while (!auth_client_is_ready(worker.login.auth) && ioloop_now_ms() < deadline &&
	       !worker.draining)
		ioloop_run_once(50);
	if (!auth_client_is_ready(worker.login.auth))
		log_warning(NULL, "auth_not_ready", "socket=%s", log_value(aset.socket_path));
	worker.login.handoff = worker_login_handoff;
	return 0;
}

void worker_login_deinit(void)
{
	auth_client_destroy(&worker.login.auth);
	tls_context_destroy(&worker.login.tls);
}
