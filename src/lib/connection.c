/* Connection I/O driving, back-pressure and timeouts. */
#include "connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* how long a closing connection may take to deliver its last words */
#define CONNECTION_LINGER_MSECS 2000

/* Plain sockets only: a TLS peer's unread records can't be drained
   without the TLS layer, and TLS sends close_notify on destroy. */
static bool tls_like_transport(const struct connection *conn)
{
	return conn->transport->read_wants_write || conn->transport->write_wants_read ||
		conn->transport->v->pending != NULL;
}

static unsigned int connections_alive;
static struct connection *connections;
static void (*count_hook)(struct connection *conn, bool created);

static void connection_io(void *context);

static void connection_make_session_id(struct connection *conn)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static uint64_t counter;
	/* unique in this process, unguessable enough to correlate logs only */
	uint64_t v = ((uint64_t)getpid() << 32) ^ ++counter ^ (ioloop_now_ms() << 20);
	for (unsigned int i = 0; i < 12; i++) {
		conn->session_id[i] = chars[v % (sizeof(chars) - 1)];
		v = v / (sizeof(chars) - 1) + (uint64_t)i * 2654435761u;
	}
	conn->session_id[12] = '\0';
}

struct connection *connection_create(int fd, const struct net_endpoint *remote,
				     const struct net_endpoint *local,
				     const struct connection_vfuncs *v, void *context,
				     size_t max_input_buffer, size_t output_limit)
{
	pool_t pool = pool_create("connection", 1024);
	struct connection *conn = p_new(pool, struct connection, 1);
	conn->pool = pool;
	conn->refcount = 1;
	conn->v = v;
	conn->context = context;
	conn->remote = *remote;
	conn->local = *local;
	conn->transport = transport_create_fd(fd);
	conn->input = i_stream_create(conn->transport, max_input_buffer);
	conn->output = o_stream_create(conn->transport, output_limit);
	connection_make_session_id(conn);
	conn->log.session = conn->session_id;
	conn->log.remote = remote->is_unix ? "unix" : conn->remote.ip;
	conn->io = io_add(fd, IO_READ, connection_io, conn);
	connections_alive++;
	conn->next = connections;
	if (connections != NULL)
		connections->prev = conn;
	connections = conn;
	if (count_hook != NULL)
		count_hook(conn, true);
	return conn;
}

bool connection_is_local(const struct connection *conn)
{
	return conn->remote.is_unix || net_ip_is_loopback(conn->remote.ip);
}

unsigned int connection_count(void)
{
	return connections_alive;
}

void connection_ref(struct connection *conn)
{
	i_assert(conn->refcount > 0);
	conn->refcount++;
}

void connection_unref(struct connection **_conn)
{
	struct connection *conn = *_conn;
	if (conn == NULL)
		return;
	*_conn = NULL;
	i_assert(conn->refcount > 0);
	if (--conn->refcount > 0)
		return;
	if (conn->v->destroy != NULL)
		conn->v->destroy(conn);
	io_remove(&conn->io);
	timeout_remove(&conn->idle_to);
	timeout_remove(&conn->output_to);
	timeout_remove(&conn->resume_to);
	timeout_remove(&conn->linger_to);
	i_stream_destroy(&conn->input);
	o_stream_destroy(&conn->output);
	transport_destroy(&conn->transport);
	connections_alive--;
	if (count_hook != NULL)
		count_hook(conn, false);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		connections = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	pool_t pool = conn->pool;
	pool_destroy(&pool);
}

static void connection_output_timeout(void *context)
{
	struct connection *conn = context;
	connection_ref(conn);
	connection_close(conn, "output timeout: client is not reading");
	connection_unref(&conn);
}

void connection_update_io(struct connection *conn)
{
	if (conn->closed)
		return;
	enum io_condition cond = 0;
	size_t pending = o_stream_get_buffer_used(conn->output);
	bool full = o_stream_is_full(conn->output);
	if (!conn->input_paused && !full)
		cond |= conn->transport->read_wants_write ? IO_WRITE : IO_READ;
	if (pending > 0)
		cond |= conn->transport->write_wants_read ? IO_READ : IO_WRITE;
	io_set_condition(conn->io, cond);

	if (pending > 0 && conn->output_timeout_ms > 0) {
		if (conn->output_to == NULL)
			conn->output_to = timeout_add(conn->output_timeout_ms,
						      connection_output_timeout, conn);
	} else {
		timeout_remove(&conn->output_to);
	}
	if (full)
		conn->was_full = true;
}

static void connection_handle_output(struct connection *conn)
{
	if (o_stream_get_buffer_used(conn->output) == 0)
		return;
	/* a producer that stopped at a full buffer waits for output_drained;
	   it may have filled it since the last check (inside the previous
	   output_drained call, between the two flushes of connection_io),
	   and a flush that drains it must still wake it, or it waits forever */
	if (o_stream_is_full(conn->output))
		conn->was_full = true;
	size_t before = o_stream_get_buffer_used(conn->output);
	int ret = o_stream_flush(conn->output);
	if (ret < 0) {
		/* the transport knows best (TLS errors have their own text) */
		const char *error = conn->transport->error_text != NULL ?
			conn->transport->error_text : strerror(o_stream_get_error(conn->output));
		connection_close(conn, t_strdup_printf("write failed: %s", error));
		return;
	}
	if (o_stream_get_buffer_used(conn->output) < before && conn->output_to != NULL)
		timeout_reset(conn->output_to);
	if (conn->was_full && !o_stream_is_full(conn->output)) {
		conn->was_full = false;
		if (conn->v->output_drained != NULL)
			conn->v->output_drained(conn);
	}
}

static void connection_handle_input(struct connection *conn)
{
	ssize_t ret = i_stream_read(conn->input);
	if (ret == 0)
		return;
	if (ret == -1) {
		if (i_stream_is_eof(conn->input))
			connection_close(conn, "disconnected by client");
		else
			connection_close(conn, t_strdup_printf("read failed: %s",
				i_stream_get_error_text(conn->input)));
		return;
	}
	if (conn->idle_to != NULL)
		timeout_reset(conn->idle_to);
	conn->v->input(conn);
	if (ret == -2 && !conn->closed && !conn->input_paused &&
	    i_stream_get_data_size(conn->input) >= i_stream_get_max_buffer_size(conn->input)) {
		/* the owner left a full buffer unconsumed: reading on would spin */
		log_error(&conn->log, "input_stuck", "size=%zu", i_stream_get_data_size(conn->input));
		connection_close(conn, "input buffer full");
		return;
	}
	/* decrypted data the fd won't announce again */
	if (!conn->closed && !conn->input_paused && transport_pending(conn->transport) > 0)
		connection_input_resume(conn);
}

static void connection_io(void *context)
{
	struct connection *conn = context;
	connection_ref(conn);
	connection_handle_output(conn);
	if (!conn->closed && !conn->input_paused && !o_stream_is_full(conn->output))
		connection_handle_input(conn);
	if (!conn->closed)
		connection_handle_output(conn);
	connection_update_io(conn);
	connection_unref(&conn);
}

void connection_set_transport(struct connection *conn, struct transport *t)
{
	/* the new transport owns the old one */
	conn->transport = t;
	i_stream_set_transport(conn->input, t);
	o_stream_set_transport(conn->output, t);
	connection_update_io(conn);
}

void connection_input_pause(struct connection *conn)
{
	conn->input_paused = true;
	timeout_remove(&conn->resume_to);
	connection_update_io(conn);
}

static void connection_resume_input(void *context)
{
	struct connection *conn = context;
	conn->resume_to = NULL;
	if (conn->closed || conn->input_paused)
		return;
	connection_ref(conn);
	if (i_stream_get_data_size(conn->input) > 0)
		conn->v->input(conn);
	if (!conn->closed && !conn->input_paused &&
	    transport_pending(conn->transport) > 0)
		connection_handle_input(conn);
	if (!conn->closed)
		connection_handle_output(conn);
	connection_update_io(conn);
	connection_unref(&conn);
}

void connection_input_resume(struct connection *conn)
{
	conn->input_paused = false;
	if (conn->closed)
		return;
	if (conn->resume_to == NULL &&
	    (i_stream_get_data_size(conn->input) > 0 || transport_pending(conn->transport) > 0))
		conn->resume_to = timeout_add_once(0, connection_resume_input, conn);
	connection_update_io(conn);
}

static void connection_idle_timeout(void *context)
{
	struct connection *conn = context;
	connection_ref(conn);
	if (conn->v->idle_timeout != NULL)
		conn->v->idle_timeout(conn);
	else
		connection_close(conn, "inactivity timeout");
	connection_unref(&conn);
}

void connection_set_idle_timeout(struct connection *conn, unsigned int msecs)
{
	timeout_remove(&conn->idle_to);
	conn->idle_timeout_ms = msecs;
	if (msecs > 0 && !conn->closed)
		conn->idle_to = timeout_add(msecs, connection_idle_timeout, conn);
}

void connection_set_output_timeout(struct connection *conn, unsigned int msecs)
{
	conn->output_timeout_ms = msecs;
	timeout_remove(&conn->output_to);
	connection_update_io(conn);
}

static void connection_linger_end(struct connection *conn)
{
	io_remove(&conn->io);
	timeout_remove(&conn->linger_to);
	connection_unref(&conn);
}

static void connection_linger_timeout(void *context)
{
	struct connection *conn = context;
	conn->linger_to = NULL; /* a once-timeout frees itself */
	connection_linger_end(conn);
}

/* While lingering: send what is left, then half-close, and read and drop
   whatever the client still sends until it closes or time runs out. */
static void connection_linger_io(void *context)
{
	struct connection *conn = context;
	char buf[4096];
	if (o_stream_get_buffer_used(conn->output) > 0) {
		if (o_stream_flush(conn->output) < 0) {
			connection_linger_end(conn);
			return;
		}
	}
	if (o_stream_get_buffer_used(conn->output) == 0 && !conn->half_closed) {
		conn->half_closed = true;
		(void)shutdown(conn->transport->fd, SHUT_WR);
	}
	ssize_t ret = recv(conn->transport->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (ret == 0 || (ret < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		connection_linger_end(conn);
		return;
	}
	io_set_condition(conn->io, o_stream_get_buffer_used(conn->output) > 0 ?
			 IO_READ | IO_WRITE : IO_READ);
}

void connection_close(struct connection *conn, const char *reason)
{
	if (conn->closed)
		return;
	conn->closed = true;
	conn->close_reason = p_strdup(conn->pool, reason);
	/* last words (BYE) go out if the socket takes them now */
	int flushed = o_stream_flush(conn->output);
	io_remove(&conn->io);
	timeout_remove(&conn->idle_to);
	timeout_remove(&conn->output_to);
	timeout_remove(&conn->resume_to);
	/* Closing a socket that has unread input makes the kernel reset the
	   connection and throw away output not yet delivered, BYE included.
	   So unless the peer is gone or stuck, linger briefly: flush,
	   half-close, drain. TLS close_notify is sent at destroy. */
	bool linger = flushed >= 0 && conn->transport->fd >= 0 && !conn->transport->eof &&
		conn->transport->error == 0 && !tls_like_transport(conn) &&
		strncmp(reason, "output timeout", 14) != 0;
	if (!linger) {
		connection_unref(&conn);
		return;
	}
	if (flushed == 1) {
		/* all sent: the peer sees EOF now, we drain until it closes */
		conn->half_closed = true;
		(void)shutdown(conn->transport->fd, SHUT_WR);
	}
	conn->io = io_add(conn->transport->fd, IO_READ | (flushed == 0 ? IO_WRITE : 0),
			  connection_linger_io, conn);
	conn->linger_to = timeout_add_once(CONNECTION_LINGER_MSECS, connection_linger_timeout, conn);
}

void connection_set_count_hook(void (*hook)(struct connection *conn, bool created))
{
	count_hook = hook;
}

void connection_release(struct connection *conn)
{
	i_assert(!conn->closed);
	conn->closed = true;
	conn->close_reason = "handed over";
	io_remove(&conn->io);
	timeout_remove(&conn->idle_to);
	timeout_remove(&conn->output_to);
	timeout_remove(&conn->resume_to);
	connection_unref(&conn);
}

static void connection_foreach(bool shutdown, const char *reason)
{
	/* hold references so that closing one can't free the next under us */
	unsigned int count = 0;
	for (struct connection *c = connections; c != NULL; c = c->next)
		count++;
	struct connection **list = i_new(struct connection *, count + 1);
	unsigned int n = 0;
	for (struct connection *c = connections; c != NULL; c = c->next) {
		if (!c->closed) {
			connection_ref(c);
			list[n++] = c;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct connection *c = list[i];
		if (!c->closed) {
			if (shutdown && c->v->shutdown != NULL)
				c->v->shutdown(c);
			else
				connection_close(c, reason);
		}
		connection_unref(&c);
	}
	free(list);
}

void connection_shutdown_all(void)
{
	connection_foreach(true, "server shutting down");
}

void connection_close_all(const char *reason)
{
	connection_foreach(false, reason);
}
