/* The login side's connection to the auth process: connecting (and
 * reconnecting with back-off when the auth process restarts), the
 * handshake (VERSION, MECH, SPID, CUID, COOKIE, DONE) and reading reply
 * lines for the requests (auth-client-request.c). */
#include "auth-client-private.h"
#include "buffer.h"
#include "log.h"
#include "net.h"
#include "strnum.h"
#include "transport.h"

#include <errno.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define AUTH_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS 60000
#define AUTH_CLIENT_DEFAULT_QUEUE_TIMEOUT_MS 10000
#define AUTH_CLIENT_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000
#define AUTH_CLIENT_DEFAULT_RECONNECT_MIN_MS 100
#define AUTH_CLIENT_DEFAULT_RECONNECT_MAX_MS 5000
#define AUTH_CLIENT_DEFAULT_MAX_REQUESTS 4096
/* output beyond this is still buffered (requests are bounded by
   max_requests); it only marks the stream as full */
#define AUTH_CLIENT_OUTPUT_LIMIT (256 * 1024)

static void auth_client_reconnect(void *context);

static void auth_client_update_io(struct auth_client *client)
{
	if (client->io == NULL)
		return;
	io_set_condition(client->io, o_stream_get_buffer_used(client->output) > 0 ?
			 IO_READ | IO_WRITE : IO_READ);
}

void auth_client_send(struct auth_client *client, const char *line)
{
	i_assert(client->state != AUTH_CLIENT_STATE_DISCONNECTED);
	if (o_stream_send_str(client->output, line) < 0) {
		auth_client_disconnect_later(client, "write failed");
		return;
	}
	auth_client_update_io(client);
}

static void auth_client_schedule_reconnect(struct auth_client *client)
{
	if (client->socket_path == NULL || client->reconnect_to != NULL)
		return;
	client->reconnect_to = timeout_add_once(client->reconnect_delay_ms,
						auth_client_reconnect, client);
	client->reconnect_delay_ms = I_MIN(client->reconnect_delay_ms * 2,
					   client->set.reconnect_max_ms);
}

static void auth_client_disconnect(struct auth_client *client, const char *reason)
{
	if (client->state == AUTH_CLIENT_STATE_DISCONNECTED)
		return;
	log_warning(NULL, "auth_client_disconnected", "socket=%s reason=%s",
		    log_value(client->socket_path == NULL ? "fd" : client->socket_path),
		    log_value(reason));
	io_remove(&client->io);
	timeout_remove(&client->handshake_to);
	timeout_remove(&client->disconnect_to);
	i_stream_destroy(&client->input);
	o_stream_destroy(&client->output);
	transport_destroy(&client->transport);
	client->state = AUTH_CLIENT_STATE_DISCONNECTED;
	auth_client_requests_connection_lost(client, client->socket_path != NULL);
	auth_client_schedule_reconnect(client);
}

static void auth_client_disconnect_timeout(void *context)
{
	struct auth_client *client = context;

	client->disconnect_to = NULL;
	auth_client_disconnect(client, client->disconnect_reason);
}

void auth_client_disconnect_later(struct auth_client *client, const char *reason)
{
	if (client->disconnect_to != NULL)
		return;
	client->disconnect_reason = reason;
	client->disconnect_to = timeout_add_once(0, auth_client_disconnect_timeout, client);
}

static void auth_client_handshake_timeout(void *context)
{
	struct auth_client *client = context;

	client->handshake_to = NULL;
	auth_client_disconnect(client, "handshake timed out");
}

static int auth_client_handle_mech(struct auth_client *client, const char *const *args,
				   unsigned int count)
{
	if (count < 2 || args[1][0] == '\0')
		return -1;
	struct auth_client_mech *mech = array_append_space(&client->new_mechs);
	mech->name = p_strdup(client->handshake_pool, args[1]);
	for (unsigned int i = 2; i < count; i++) {
		if (strcmp(args[i], "plaintext") == 0)
			mech->plaintext = true;
		else if (strcmp(args[i], "private") == 0)
			mech->private_mech = true;
	}
	return 0;
}

static void auth_client_handshake_done(struct auth_client *client)
{
	/* the new list replaces the old one only now, so a half-finished
	   handshake never leaves the login without mechanisms */
	pool_t old = client->mech_pool;
	client->mech_pool = client->handshake_pool;
	client->mechs.v = client->new_mechs.v;
	client->mechs.count = client->new_mechs.count;
	client->mechs.alloc = client->new_mechs.alloc;
	client->mechs.pool = client->mech_pool;
	client->handshake_pool = NULL;
	pool_destroy(&old);
	client->server_pid = client->new_server_pid;
	client->cuid = client->new_cuid;
	memcpy(client->cookie, client->new_cookie, sizeof(client->cookie));

	timeout_remove(&client->handshake_to);
	client->state = AUTH_CLIENT_STATE_READY;
	client->reconnect_delay_ms = client->set.reconnect_min_ms;
	client->connect_error_logged = false;
	log_debug(NULL, "auth_client_connected", "spid=%ld cuid=%u mechs=%u",
		  (long)client->server_pid, client->cuid, client->mechs.count);
	auth_client_requests_send_queued(client);
}

/* Returns 0, or -1 for a broken handshake (reason in *error_r). */
static int auth_client_handle_handshake(struct auth_client *client, const char *const *args,
					unsigned int count, const char **error_r)
{
	unsigned int num;

	if (!client->got_version) {
		if (strcmp(args[0], "VERSION") != 0 || count < 3 ||
		    str_to_uint(args[1], &num) < 0) {
			*error_r = "handshake did not start with VERSION";
			return -1;
		}
		if (num != AUTH_PROTO_CLIENT_MAJOR) {
			*error_r = "unsupported protocol major version";
			return -1;
		}
		client->got_version = true;
		return 0;
	}
	if (strcmp(args[0], "MECH") == 0) {
		*error_r = "invalid MECH line";
		return auth_client_handle_mech(client, args, count);
	} else if (strcmp(args[0], "SPID") == 0) {
		*error_r = "invalid SPID";
		if (count < 2 || str_to_uint(args[1], &num) < 0)
			return -1;
		client->new_server_pid = (pid_t)num;
	} else if (strcmp(args[0], "CUID") == 0) {
		*error_r = "invalid CUID";
		if (count < 2 || str_to_uint(args[1], &client->new_cuid) < 0)
			return -1;
	} else if (strcmp(args[0], "COOKIE") == 0) {
		*error_r = "invalid COOKIE";
		if (count < 2 || !auth_proto_cookie_is_valid(args[1]))
			return -1;
		memcpy(client->new_cookie, args[1], AUTH_PROTO_COOKIE_HEX_LEN + 1);
	} else if (strcmp(args[0], "DONE") == 0) {
		*error_r = "handshake without COOKIE";
		if (client->new_cookie[0] == '\0')
			return -1;
		auth_client_handshake_done(client);
	}
	/* other lines are extensions we don't know: ignored */
	return 0;
}

static void auth_client_handle_line(struct auth_client *client, char *line)
{
	const char *args[AUTH_PROTO_MAX_ARGS], *error;
	int count = auth_proto_split(line, args, N_ELEMENTS(args));

	if (count < 0) {
		auth_client_disconnect_later(client, "invalid line from the auth process");
		return;
	}
	if (client->state == AUTH_CLIENT_STATE_HANDSHAKE) {
		if (auth_client_handle_handshake(client, args, (unsigned int)count, &error) < 0)
			auth_client_disconnect_later(client, error);
		return;
	}
	auth_client_request_handle_reply(client, args, (unsigned int)count);
}

static void auth_client_input(struct auth_client *client)
{
	ssize_t ret = i_stream_read(client->input);
	char *line;
	const char *error;

	if (ret == -1) {
		auth_client_disconnect(client, i_stream_is_eof(client->input) ?
				       "auth process closed the connection" :
				       "read failed");
		return;
	}
	while (client->disconnect_to == NULL &&
	       client->state != AUTH_CLIENT_STATE_DISCONNECTED) {
		int r = auth_proto_next_line(client->input, AUTH_PROTO_MAX_LINE_LENGTH,
					     &line, &error);
		if (r < 0) {
			auth_client_disconnect(client, error);
			return;
		}
		if (r == 0)
			break;
		auth_client_handle_line(client, line);
	}
}

static void auth_client_io(void *context)
{
	struct auth_client *client = context;

	if (o_stream_get_buffer_used(client->output) > 0 &&
	    o_stream_flush(client->output) < 0) {
		auth_client_disconnect(client, "write failed");
		return;
	}
	auth_client_input(client);
	if (client->state != AUTH_CLIENT_STATE_DISCONNECTED)
		auth_client_update_io(client);
}

static void auth_client_attach(struct auth_client *client, int fd)
{
	client->transport = transport_create_fd(fd);
	client->input = i_stream_create(client->transport, AUTH_PROTO_MAX_LINE_LENGTH + 2);
	client->output = o_stream_create(client->transport, AUTH_CLIENT_OUTPUT_LIMIT);
	client->io = io_add(fd, IO_READ, auth_client_io, client);
	client->state = AUTH_CLIENT_STATE_HANDSHAKE;
	client->got_version = false;
	pool_destroy(&client->handshake_pool);
	client->handshake_pool = pool_create("auth client handshake", 512);
	array_init(&client->new_mechs, client->handshake_pool, 8);
	client->new_cookie[0] = '\0';
	client->new_server_pid = 0;
	client->new_cuid = 0;
	client->handshake_to = timeout_add_once(client->set.handshake_timeout_ms,
						auth_client_handshake_timeout, client);
	auth_client_send(client, t_strdup_printf("VERSION\t%u\t%u\nCPID\t%ld\n",
						 AUTH_PROTO_CLIENT_MAJOR, AUTH_PROTO_CLIENT_MINOR,
						 (long)getpid()));
}

/* Returns the connected fd, or -1 (errno set). */
static int auth_client_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a Unix socket connects at once or fails (EAGAIN when the backlog
	   is full): either way no waiting for completion */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void auth_client_reconnect(void *context)
{
	struct auth_client *client = context;

	client->reconnect_to = NULL;
	int fd = auth_client_connect_unix(client->socket_path);
	if (fd < 0) {
		/* one warning per outage, not one per retry */
		if (!client->connect_error_logged) {
			log_warning(NULL, "auth_client_connect_failed", "socket=%s error=%s",
				    log_value(client->socket_path), log_value(strerror(errno)));
			client->connect_error_logged = true;
		}
		auth_client_schedule_reconnect(client);
		return;
	}
	auth_client_attach(client, fd);
}

static struct auth_client *auth_client_new(const struct auth_client_settings *set)
{
	struct auth_client *client = i_zalloc(sizeof(*client));

	client->set = *set;
	client->set.socket_path = NULL;
	if (client->set.request_timeout_ms == 0)
		client->set.request_timeout_ms = AUTH_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS;
	if (client->set.queue_timeout_ms == 0)
		client->set.queue_timeout_ms = AUTH_CLIENT_DEFAULT_QUEUE_TIMEOUT_MS;
	if (client->set.handshake_timeout_ms == 0)
		client->set.handshake_timeout_ms = AUTH_CLIENT_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	if (client->set.reconnect_min_ms == 0)
		client->set.reconnect_min_ms = AUTH_CLIENT_DEFAULT_RECONNECT_MIN_MS;
	if (client->set.reconnect_max_ms < client->set.reconnect_min_ms)
		client->set.reconnect_max_ms = I_MAX(AUTH_CLIENT_DEFAULT_RECONNECT_MAX_MS,
						     client->set.reconnect_min_ms);
	if (client->set.max_requests == 0)
		client->set.max_requests = AUTH_CLIENT_DEFAULT_MAX_REQUESTS;
	client->reconnect_delay_ms = client->set.reconnect_min_ms;
	client->mech_pool = pool_create("auth client mechs", 256);
	array_init(&client->mechs, client->mech_pool, 4);
	client->requests = hash_table_create(system_pool, direct_hash, direct_cmp);
	return client;
}

struct auth_client *auth_client_create(const struct auth_client_settings *set)
{
	struct auth_client *client = auth_client_new(set);

	i_assert(set->socket_path != NULL);
	client->socket_path = i_strdup(set->socket_path);
	auth_client_reconnect(client);
	return client;
}

struct auth_client *auth_client_create_fd(int fd, const struct auth_client_settings *set)
{
	struct auth_client *client = auth_client_new(set);

	(void)net_set_nonblock(fd);
	auth_client_attach(client, fd);
	return client;
}

void auth_client_destroy(struct auth_client **_client)
{
	struct auth_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	auth_client_requests_free_all(client);
	io_remove(&client->io);
	timeout_remove(&client->reconnect_to);
	timeout_remove(&client->handshake_to);
	timeout_remove(&client->disconnect_to);
	i_stream_destroy(&client->input);
	o_stream_destroy(&client->output);
	transport_destroy(&client->transport);
	hash_table_destroy(&client->requests);
	pool_destroy(&client->handshake_pool);
	pool_destroy(&client->mech_pool);
	i_free(client->socket_path);
	free(client);
}

bool auth_client_is_ready(const struct auth_client *client)
{
	return client->state == AUTH_CLIENT_STATE_READY;
}

const char *auth_client_get_mechanisms(struct auth_client *client, bool secured)
{
	string_t *str = t_str_new(64);
	bool plaintext_ok = secured || client->set.allow_insecure_plaintext;

	for (unsigned int i = 0; i < client->mechs.count; i++) {
		const struct auth_client_mech *mech = &client->mechs.v[i];
		if (mech->private_mech || (mech->plaintext && !plaintext_ok))
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, mech->name);
	}
	return str_c(str);
}
