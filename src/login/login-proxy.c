/* Relaying a logged-in TLS session between the client connection and the
 * mail process's socketpair end (login-proxy.h). */
#include "login-proxy.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOGIN_PROXY_READ_SIZE 16384

struct login_proxy {
	struct login_proxy *prev, *next;
	struct connection *conn;
	int fd;
	struct io *io;
	/* client input couldn't all be written to fd: waiting for IO_WRITE */
	bool to_mail_blocked;
	/* the client closed its side: fd was half-closed */
	bool client_eof;
};

static struct login_proxy *proxies;
static unsigned int proxy_count;

static void login_proxy_fd_io(void *context);

static void login_proxy_update_io(struct login_proxy *proxy)
{
	enum io_condition cond = 0;
	if (!o_stream_is_full(proxy->conn->output))
		cond |= IO_READ;
	if (proxy->to_mail_blocked)
		cond |= IO_WRITE;
	if (cond == 0)
		io_remove(&proxy->io);
	else if (proxy->io == NULL)
		proxy->io = io_add(proxy->fd, cond, login_proxy_fd_io, proxy);
	if (proxy->io != NULL)
		io_set_condition(proxy->io, cond);
}

/* Client -> mail: writes what is buffered. Returns -1 if fd failed. */
static int login_proxy_to_mail(struct login_proxy *proxy)
{
	struct connection *conn = proxy->conn;
	size_t size;
	const unsigned char *data = i_stream_get_data(conn->input, &size);

	while (size > 0) {
		ssize_t ret = send(proxy->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		i_stream_skip(conn->input, (size_t)ret);
		data = i_stream_get_data(conn->input, &size);
	}
	bool blocked = size > 0;
	if (blocked != proxy->to_mail_blocked) {
		proxy->to_mail_blocked = blocked;
		if (blocked)
			connection_input_pause(conn);
		else
			connection_input_resume(conn);
	}
	if (!blocked && i_stream_is_eof(conn->input) && !proxy->client_eof) {
		proxy->client_eof = true;
		(void)shutdown(proxy->fd, SHUT_WR);
	}
	return 0;
}

/* Mail -> client. Returns -1 at EOF or error of fd. */
static int login_proxy_from_mail(struct login_proxy *proxy)
{
	unsigned char buf[LOGIN_PROXY_READ_SIZE];

	while (!o_stream_is_full(proxy->conn->output)) {
		ssize_t ret = recv(proxy->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (ret == 0)
			return -1;
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		if (o_stream_send(proxy->conn->output, buf, (size_t)ret) < 0)
			return -1;
	}
	connection_update_io(proxy->conn);
	return 0;
}

static void login_proxy_fd_io(void *context)
{
	struct login_proxy *proxy = context;
	struct connection *conn = proxy->conn;

	if (proxy->to_mail_blocked && login_proxy_to_mail(proxy) < 0) {
		connection_close(conn, "relay to mail process failed");
		return;
	}
	if (login_proxy_from_mail(proxy) < 0) {
		connection_close(conn, "session ended");
		return;
	}
	login_proxy_update_io(proxy);
}

static void login_proxy_input(struct connection *conn)
{
	struct login_proxy *proxy = conn->context;
	if (login_proxy_to_mail(proxy) < 0) {
		connection_close(conn, "relay to mail process failed");
		return;
	}
	login_proxy_update_io(proxy);
}

static void login_proxy_output_drained(struct connection *conn)
{
	struct login_proxy *proxy = conn->context;
	login_proxy_update_io(proxy);
	/* input isn't read while the output is full: what TLS decrypted
	   meanwhile waits in the transport, and no fd event will say so */
	if (!proxy->to_mail_blocked)
		connection_input_resume(conn);
}

static void login_proxy_shutdown(struct connection *conn ATTR_UNUSED)
{
	/* the mail process says BYE; we relay it and close after */
}

static void login_proxy_free(struct login_proxy *proxy)
{
	io_remove(&proxy->io);
	if (proxy->fd >= 0)
		close(proxy->fd);
	if (proxy->prev != NULL)
		proxy->prev->next = proxy->next;
	else
		proxies = proxy->next;
	if (proxy->next != NULL)
		proxy->next->prev = proxy->prev;
	proxy_count--;
	free(proxy);
}

static void login_proxy_destroy(struct connection *conn)
{
	struct login_proxy *proxy = conn->context;
	if (proxy != NULL)
		login_proxy_free(proxy);
}

static const struct connection_vfuncs login_proxy_vfuncs = {
	.input = login_proxy_input,
	.output_drained = login_proxy_output_drained,
	.shutdown = login_proxy_shutdown,
	.destroy = login_proxy_destroy,
};

struct login_proxy *login_proxy_create(struct connection *conn, int fd)
{
	struct login_proxy *proxy = i_zalloc(sizeof(*proxy));

	proxy->conn = conn;
	proxy->fd = fd;
	proxy->next = proxies;
	if (proxies != NULL)
		proxies->prev = proxy;
	proxies = proxy;
	proxy_count++;
	i_stream_skip(conn->input, i_stream_get_data_size(conn->input));
	conn->v = &login_proxy_vfuncs;
	conn->context = proxy;
	/* idleness is the mail process's business now */
	connection_set_idle_timeout(conn, 0);
	proxy->io = io_add(fd, IO_READ, login_proxy_fd_io, proxy);
	connection_update_io(conn);
	return proxy;
}

struct login_proxy *login_proxy_find(const char *session_id)
{
	for (struct login_proxy *p = proxies; p != NULL; p = p->next) {
		if (strcmp(p->conn->session_id, session_id) == 0)
			return p;
	}
	return NULL;
}

struct connection *login_proxy_detach(struct login_proxy *proxy,
				      const void *input_prefix, size_t prefix_size)
{
	struct connection *conn = proxy->conn;

	/* everything the mail process wrote before letting go is there */
	(void)login_proxy_from_mail(proxy);
	conn->context = NULL;
	conn->v = NULL;
	bool was_blocked = proxy->to_mail_blocked;
	login_proxy_free(proxy);
	if (was_blocked)
		connection_input_resume(conn);
	if (i_stream_inject(conn->input, input_prefix, prefix_size) < 0) {
		conn->v = &login_proxy_vfuncs;
		connection_close(conn, "pipelined input too large");
		return NULL;
	}
	return conn;
}

unsigned int login_proxy_count(void)
{
	return proxy_count;
}
