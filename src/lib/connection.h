/* A client connection: fd, transport, input and output streams, the event
 * loop watch and the inactivity and output timeouts, with back-pressure:
 * while the output buffer is over its limit or input is paused, the fd is
 * not watched for reading, so a client that never reads its responses
 * cannot make us buffer without bound.
 *
 * Lifetime: the owner's destroy callback runs when the last reference goes,
 * which is never inside one of the owner's own callbacks; after
 * connection_close() the owner must just return. */
#ifndef TERN_CONNECTION_H
#define TERN_CONNECTION_H

#include "istream.h"
#include "log.h"
#include "net.h"
#include "ostream.h"
#include "pool.h"

struct connection;

struct connection_vfuncs {
	/* New input is buffered in conn->input, or the input buffer is full. */
	void (*input)(struct connection *conn);
	/* The output buffer dropped below its limit after having been full
	   (optional): producers that paused may go on. */
	void (*output_drained)(struct connection *conn);
	/* No input for the idle timeout (optional; default: close). The owner
	   typically sends a BYE and calls connection_close(). */
	void (*idle_timeout)(struct connection *conn);
	/* The process is shutting down (optional; default: close): say BYE
	   at the next point where the protocol allows it, then close. */
	void (*shutdown)(struct connection *conn);
	/* Called once, when the connection is freed (optional). */
	void (*destroy)(struct connection *conn);
};

struct connection {
	pool_t pool; /* freed with the connection */
	struct transport *transport;
	struct istream *input;
	struct ostream *output;
	const struct connection_vfuncs *v;
	void *context;
	struct net_endpoint remote, local;
	char session_id[16];
	struct log_ctx log; /* session, remote and (after login) user */
	bool closed;
	const char *close_reason;

	/* private */
	struct connection *prev, *next; /* all connections of the process */
	struct io *io;
	struct timeout *idle_to, *output_to, *resume_to, *linger_to;
	unsigned int idle_timeout_ms, output_timeout_ms;
	unsigned int refcount;
	bool input_paused, was_full, half_closed;
};

/* Takes ownership of fd. */
struct connection *connection_create(int fd, const struct net_endpoint *remote,
				     const struct net_endpoint *local,
				     const struct connection_vfuncs *v, void *context,
				     size_t max_input_buffer, size_t output_limit);
/* Moves the streams onto a new transport that wraps the old one (STARTTLS).
   The connection then owns and destroys only the new transport. */
void connection_set_transport(struct connection *conn, struct transport *t);
void connection_input_pause(struct connection *conn);
/* Resumes reading and processes already-buffered input from the loop. */
void connection_input_resume(struct connection *conn);
/* 0 disables. The idle timer restarts on each read. */
void connection_set_idle_timeout(struct connection *conn, unsigned int msecs);
/* Closes a connection whose output has been stuck for msecs. */
void connection_set_output_timeout(struct connection *conn, unsigned int msecs);
/* Re-evaluates what the fd is watched for; call after queuing output from
   outside a connection callback. */
void connection_update_io(struct connection *conn);
/* Sends what can be sent right now, then disconnects. reason is logged. */
void connection_close(struct connection *conn, const char *reason);
/* The socket now belongs to another process (it was passed on): drops
   conn's reference like connection_close(), but only closes this
   process's descriptor, without flushing, lingering or shutdown(), which
   would affect the other process's copy. */
void connection_release(struct connection *conn);
void connection_ref(struct connection *conn);
void connection_unref(struct connection **conn);
/* True when remote is loopback or a Unix socket. */
bool connection_is_local(const struct connection *conn);
/* Number of live connections in this process. */
unsigned int connection_count(void);
/* Called from inside connection_create() (created) and the final unref
   (the connection is being freed: read only its session_id) whenever
   connection_count() changed; NULL removes it. */
void connection_set_count_hook(void (*hook)(struct connection *conn, bool created));
/* Calls every connection's shutdown callback (or closes it). */
void connection_shutdown_all(void);
/* Closes every connection right away. */
void connection_close_all(const char *reason);

#endif
