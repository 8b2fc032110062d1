/* The submission client: a minimal blocking SMTP client (RFC 5321: EHLO
 * with a HELO fallback, MAIL, RCPT, DATA with dot-stuffing §4.5.2, QUIT)
 * and the sendmail-binary alternative. Every wait is bounded by the
 * timeout; replies are bounded in length and lines. */
#include "deliver-submit.h"
#include "deliver-private.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUBMIT_REPLY_LINE_MAX 4096
#define SUBMIT_REPLY_MAX_LINES 100
#define SUBMIT_OUT_BUF_SIZE 8192

struct submit_conn {
	int fd;
	unsigned int timeout_ms;
	bool smtp;           /* CRLF + dot-stuffing, else LF (sendmail) */
	bool line_start, pending_cr;
	unsigned char out[SUBMIT_OUT_BUF_SIZE];
	size_t out_used;
	char in[SUBMIT_REPLY_LINE_MAX * 2];
	size_t in_used;
	const char *error;
};

static int submit_wait(struct submit_conn *conn, short events)
{
	struct pollfd pfd = { .fd = conn->fd, .events = events };
	int ret;
	do {
		ret = poll(&pfd, 1, (int)conn->timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0) {
		conn->error = "timed out";
		return -1;
	}
	if (ret < 0) {
		conn->error = t_strdup_printf("poll() failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int submit_write_raw(struct submit_conn *conn, const void *data, size_t size)
{
	const unsigned char *p = data;
	while (size > 0) {
		if (submit_wait(conn, POLLOUT) < 0)
			return -1;
		ssize_t n = conn->smtp ? send(conn->fd, p, size, MSG_NOSIGNAL) :
			write(conn->fd, p, size);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			conn->error = t_strdup_printf("write failed: %s", strerror(errno));
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static int submit_flush(struct submit_conn *conn)
{
	int ret = submit_write_raw(conn, conn->out, conn->out_used);
	conn->out_used = 0;
	return ret;
}

static int submit_out_c(struct submit_conn *conn, unsigned char c)
{
	if (conn->out_used == sizeof(conn->out) && submit_flush(conn) < 0)
		return -1;
	conn->out[conn->out_used++] = c;
	return 0;
}

/* Message data with line ends normalised (CRLF for SMTP, LF for
   sendmail) and, for SMTP, lines starting with "." doubled. */
static int submit_write_data(void *context, const void *data, size_t size)
{
	struct submit_conn *conn = context;
	const unsigned char *p = data;
	for (size_t i = 0; i < size; i++) {
		unsigned char c = p[i];
		if (conn->pending_cr) {
			conn->pending_cr = false;
			if (c != '\n' && submit_out_c(conn, '\r') < 0)
				return -1;
		}
		if (c == '\r') {
			conn->pending_cr = true;
			continue;
		}
		if (c == '\n') {
			if ((conn->smtp && submit_out_c(conn, '\r') < 0) ||
			    submit_out_c(conn, '\n') < 0)
				return -1;
			conn->line_start = true;
			continue;
		}
		if (conn->line_start && c == '.' && conn->smtp && submit_out_c(conn, '.') < 0)
			return -1;
		conn->line_start = false;
		if (submit_out_c(conn, c) < 0)
			return -1;
	}
	return 0;
}

static int submit_write_message(struct submit_conn *conn,
				const struct deliver_submit_request *req)
{
	conn->line_start = true;
	conn->pending_cr = false;
	if (submit_write_data(conn, req->prefix, strlen(req->prefix)) < 0)
		return -1;
	if (req->body != NULL &&
	    deliver_message_copy(req->body, req->body_offset, submit_write_data, conn) < 0) {
		if (conn->error == NULL)
			conn->error = "reading the message failed";
		return -1;
	}
	if (req->suffix != NULL && submit_write_data(conn, req->suffix, strlen(req->suffix)) < 0)
		return -1;
	if (conn->pending_cr && submit_out_c(conn, '\r') < 0)
		return -1;
	/* the last line must end before the terminating dot */
	if (!conn->line_start && submit_write_data(conn, "\n", 1) < 0)
		return -1;
	return submit_flush(conn);
}

/* Reads one line (without CRLF) into conn->in. Returns 0 or -1. */
static int submit_read_line(struct submit_conn *conn, const char **line_r)
{
	for (;;) {
		char *lf = memchr(conn->in, '\n', conn->in_used);
		if (lf != NULL) {
			*lf = '\0';
			if (lf > conn->in && lf[-1] == '\r')
				lf[-1] = '\0';
			*line_r = t_strdup_printf("%s", conn->in);
			size_t used = (size_t)(lf - conn->in) + 1;
			memmove(conn->in, lf + 1, conn->in_used - used);
			conn->in_used -= used;
			return 0;
		}
		if (conn->in_used >= SUBMIT_REPLY_LINE_MAX) {
			conn->error = "reply line too long";
			return -1;
		}
		if (submit_wait(conn, POLLIN) < 0)
			return -1;
		ssize_t n = recv(conn->fd, conn->in + conn->in_used,
				 sizeof(conn->in) - conn->in_used, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			conn->error = n == 0 ? "connection closed" :
				t_strdup_printf("read failed: %s", strerror(errno));
			return -1;
		}
		conn->in_used += (size_t)n;
	}
}

/* Reads a (multi-line) reply. Returns its code, or -1. *text_r is the
   last line. */
static int submit_read_reply(struct submit_conn *conn, const char **text_r)
{
	for (unsigned int i = 0; i < SUBMIT_REPLY_MAX_LINES; i++) {
		const char *line;
		if (submit_read_line(conn, &line) < 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			conn->error = t_strdup_printf("invalid reply: %s", line);
			return -1;
		}
		if (line[3] != '-') {
			*text_r = line;
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		}
	}
	conn->error = "reply has too many lines";
	return -1;
}

/* Sends cmd (NULL: none) and reads the reply. Returns 1 if it is 2xx/3xx
   as expected, 0 for a 5xx, -1 for a 4xx or an I/O error. */
static int submit_cmd(struct submit_conn *conn, const char *cmd, int expect)
{
	const char *text;
	if (cmd != NULL) {
		const char *line = t_strdup_printf("%s\r\n", cmd);
		if (submit_write_raw(conn, line, strlen(line)) < 0)
			return -1;
	}
	int code = submit_read_reply(conn, &text);
	if (code < 0)
		return -1;
	if (code / 100 == expect / 100)
		return 1;
	conn->error = t_strdup_printf("%s: %s", cmd == NULL ? "greeting" :
				      t_strndup(cmd, strcspn(cmd, " ")), text);
	return code >= 500 ? 0 : -1;
}

static int submit_connect(const char *hostport, unsigned int timeout_ms, const char **error_r)
{
	const char *host = hostport, *port = "25";
	const char *colon = strrchr(hostport, ':');
	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		if (end == NULL) {
			*error_r = "invalid submission.host";
			return -1;
		}
		host = t_strndup(hostport + 1, (size_t)(end - hostport - 1));
		if (end[1] == ':')
			port = end + 2;
	} else if (colon != NULL && strchr(hostport, ':') == colon) {
		host = t_strndup(hostport, (size_t)(colon - hostport));
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *res;
	int ret = getaddrinfo(host, port, &hints, &res);
	if (ret != 0) {
		*error_r = t_strdup_printf("%s: %s", hostport, gai_strerror(ret));
		return -1;
	}
	int fd = -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			*error_r = t_strdup_printf("connect(%s) failed: %s", hostport, strerror(errno));
			i_close_fd(&fd);
			continue;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&pfd, 1, (int)timeout_ms) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			*error_r = t_strdup_printf("connect(%s) failed: %s", hostport,
						   err != 0 ? strerror(err) : "timed out");
			i_close_fd(&fd);
		}
	}
	freeaddrinfo(res);
	return fd;
}

static int submit_smtp_session(struct submit_conn *conn, const struct deliver_submit_request *req)
{
	int ret = submit_cmd(conn, NULL, 220);
	if (ret > 0) {
		ret = submit_cmd(conn, t_strdup_printf("EHLO %s", req->helo), 250);
		if (ret == 0)
			ret = submit_cmd(conn, t_strdup_printf("HELO %s", req->helo), 250);
	}
	if (ret > 0)
		ret = submit_cmd(conn, t_strdup_printf("MAIL FROM:<%s>", req->sender), 250);
	if (ret > 0)
		ret = submit_cmd(conn, t_strdup_printf("RCPT TO:<%s>", req->rcpt), 250);
	if (ret > 0)
		ret = submit_cmd(conn, "DATA", 354);
	if (ret > 0) {
		if (submit_write_message(conn, req) < 0 ||
		    submit_write_raw(conn, ".\r\n", 3) < 0)
			return -1;
		ret = submit_cmd(conn, NULL, 250);
	}
	if (ret > 0)
		(void)submit_cmd(conn, "QUIT", 221);
	return ret;
}

static int deliver_submit_smtp(const struct submission_settings *set,
			       const struct deliver_submit_request *req, const char **error_r)
{
	struct submit_conn *conn = i_zalloc(sizeof(*conn));
	conn->smtp = true;
	conn->timeout_ms = set->timeout_ms;
	conn->fd = submit_connect(set->host, set->timeout_ms, error_r);
	if (conn->fd < 0) {
		free(conn);
		return -1;
	}
	int ret = submit_smtp_session(conn, req);
	if (ret <= 0)
		*error_r = t_strdup_printf("%s: %s", set->host,
					   conn->error == NULL ? "failed" : conn->error);
	i_close_fd(&conn->fd);
	free(conn);
	return ret;
}

/* Waits for the sendmail child for at most timeout_ms, then kills it.
   Returns its wait status, or -1 on a timeout. */
static int submit_waitpid(pid_t pid, unsigned int timeout_ms)
{
	int status;
	for (unsigned int waited = 0;; waited += 10) {
		pid_t ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return status;
		if (ret < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static pid_t submit_spawn(const struct submission_settings *set,
			  const struct deliver_submit_request *req, int *fd_r)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(75);
		/* "<>": sendmail's way to say the null sender */
		const char *sender = req->sender[0] == '\0' ? "<>" : req->sender;
		execl(set->sendmail_path, set->sendmail_path, "-i", "-f", sender, "--",
		      req->rcpt, (char *)NULL);
		_exit(75);
	}
	close(pfd[0]);
	if (pid < 0) {
		close(pfd[1]);
		return -1;
	}
	*fd_r = pfd[1];
	return pid;
}

static int deliver_submit_sendmail(const struct submission_settings *set,
				   const struct deliver_submit_request *req, const char **error_r)
{
	struct submit_conn *conn = i_zalloc(sizeof(*conn));
	conn->timeout_ms = set->timeout_ms;
	pid_t pid = submit_spawn(set, req, &conn->fd);
	if (pid < 0) {
		*error_r = t_strdup_printf("running %s failed: %s", set->sendmail_path,
					   strerror(errno));
		free(conn);
		return -1;
	}
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int wret = submit_write_message(conn, req);
	signal(SIGPIPE, old_pipe);
	i_close_fd(&conn->fd);
	int status = submit_waitpid(pid, set->timeout_ms);
	int ret;
	if (status < 0) {
		*error_r = t_strdup_printf("%s timed out", set->sendmail_path);
		ret = -1;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && wret == 0) {
		ret = 1;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		int code = WEXITSTATUS(status);
		*error_r = t_strdup_printf("%s exited with %d", set->sendmail_path, code);
		/* sysexits.h: the permanent ones; the rest may work later */
		ret = code == 64 || code == 65 || code == 67 || code == 68 ||
			code == 77 ? 0 : -1;
	} else {
		*error_r = t_strdup_printf("%s failed: %s", set->sendmail_path,
					   conn->error != NULL ? conn->error : "killed");
		ret = -1;
	}
	free(conn);
	return ret;
}

int deliver_submit(const struct submission_settings *set,
		   const struct deliver_submit_request *req, const char **error_r)
{
	*error_r = NULL;
	if (set->host[0] != '\0')
		return deliver_submit_smtp(set, req, error_r);
	return deliver_submit_sendmail(set, req, error_r);
}
