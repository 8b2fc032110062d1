/* auth-master protocol client: one connection (made on first use, remade
 * after a failure), requests tagged with ids, replies parsed into userdb
 * records. Blocking calls poll the socket themselves, so they work with or
 * without the event loop; asynchronous ones watch it from the loop. */
#include "auth-master-client.h"
#include "auth-client-proto.h"
#include "buffer.h"
#include "ioloop.h"
#include "log.h"
#include "net.h"
#include "ostream.h"
#include "strnum.h"
#include "transport.h"

#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define AUTH_MASTER_DEFAULT_TIMEOUT_MS 5000
#define AUTH_MASTER_MAX_LINE_LENGTH 65536
#define AUTH_MASTER_OUTPUT_LIMIT (64 * 1024)

enum auth_master_request_type {
	AUTH_MASTER_REQUEST_USER,
	AUTH_MASTER_REQUEST_LIST,
};

struct auth_master_request {
	struct auth_master_client *client;
	struct auth_master_request *prev, *next;
	unsigned int id;
	enum auth_master_request_type type;
	auth_master_user_callback_t *user_cb;
	void *context;
	void (*list_cb)(const char *user, void *context);
	void *list_context;
	struct timeout *to; /* async: reply timeout or a deferred error */
	const char *error;  /* deferred error, static text */
	bool lost;          /* its connection failed; being finished */
};

struct auth_master_client {
	char *socket_path;
	unsigned int timeout_ms;
	struct transport *transport;
	struct istream *input;
	struct ostream *output;
	struct io *io; /* while asynchronous requests wait */
	bool got_version;
	unsigned int next_id;
	struct auth_master_request *requests;
};

/* result of a blocking call */
struct auth_master_sync {
	pool_t pool;
	bool done;
	int ret;
	const char *error;
	struct auth_master_user *user;
};

static uint64_t auth_master_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void auth_master_request_free(struct auth_master_request *req)
{
	struct auth_master_client *client = req->client;

	timeout_remove(&req->to);
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		client->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	free(req);
}

/* Delivers a final result and frees req. */
static void auth_master_request_finish(struct auth_master_request *req, int ret,
				       const struct auth_master_user *user,
				       const char *error)
{
	auth_master_user_callback_t *cb = req->user_cb;
	void *context = req->context;

	if (req->type == AUTH_MASTER_REQUEST_LIST) {
		struct auth_master_sync *sync = context;
		sync->done = true;
		sync->ret = ret;
		sync->error = error == NULL ? NULL : p_strdup(sync->pool, error);
		auth_master_request_free(req);
		return;
	}
	auth_master_request_free(req);
	cb(ret, user, error, context);
}

static void auth_master_disconnect(struct auth_master_client *client, const char *error)
{
	io_remove(&client->io);
	i_stream_destroy(&client->input);
	o_stream_destroy(&client->output);
	transport_destroy(&client->transport);
	client->got_version = false;
	/* only the requests sent on this connection fail: a callback may
	   start new ones (on a new connection) or abort others, so take one
	   marked request at a time */
	for (struct auth_master_request *r = client->requests; r != NULL; r = r->next)
		r->lost = true;
	for (;;) {
		struct auth_master_request *r = client->requests;
		while (r != NULL && !r->lost)
			r = r->next;
		if (r == NULL)
			break;
		auth_master_request_finish(r, -1, NULL, error);
	}
}

static void auth_master_attach(struct auth_master_client *client, int fd)
{
	client->transport = transport_create_fd(fd);
	client->input = i_stream_create(client->transport, AUTH_MASTER_MAX_LINE_LENGTH + 2);
	client->output = o_stream_create(client->transport, AUTH_MASTER_OUTPUT_LIMIT);
	(void)o_stream_printf(client->output, "VERSION\t%u\t%u\n", AUTH_PROTO_MASTER_MAJOR,
			      AUTH_PROTO_MASTER_MINOR);
}

static int auth_master_connect(struct auth_master_client *client, const char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = auth_master_now_ms() + client->timeout_ms;

	if (client->transport != NULL)
		return 0;
	if (client->socket_path == NULL) {
		/* created over a connected fd: gone is gone */
		*error_r = "connection to the auth process closed";
		return -1;
	}
	if (strlen(client->socket_path) >= sizeof(sa.sun_path)) {
		*error_r = "socket path too long";
		return -1;
	}
	memcpy(sa.sun_path, client->socket_path, strlen(client->socket_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = t_strdup_printf("socket() failed: %s", strerror(errno));
		return -1;
	}
	/* EAGAIN: the listener's backlog is full; a Unix socket has no
	   connect-in-progress to wait for, so try again shortly */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if ((errno != EAGAIN && errno != EINTR) || auth_master_now_ms() >= deadline) {
			*error_r = t_strdup_printf("connect(%s) failed: %s", client->socket_path,
						   strerror(errno));
			close(fd);
			return -1;
		}
		usleep(10000);
	}
	auth_master_attach(client, fd);
	return 0;
}

static struct auth_master_request *
auth_master_request_find(struct auth_master_client *client, const char *id_str)
{
	unsigned int id;

	if (str_to_uint(id_str, &id) < 0)
		return NULL;
	for (struct auth_master_request *req = client->requests; req != NULL; req = req->next) {
		if (req->id == id)
			return req;
	}
	return NULL;
}

/* USER <id> <name> [home= uid= gid= extra...] */
static int auth_master_parse_user(const char *const *args, unsigned int count,
				  pool_t pool, struct auth_master_user *user)
{
	const char *value;

	if (count < 3 || args[2][0] == '\0')
		return -1;
	user->name = args[2];
	user->uid = (uid_t)-1;
	user->gid = (gid_t)-1;
	array_init(&user->extra, pool, count);
	for (unsigned int i = 3; i < count; i++) {
		unsigned int num;
		if ((value = auth_proto_arg_value(args[i], "home")) != NULL) {
			user->home = value;
		} else if ((value = auth_proto_arg_value(args[i], "uid")) != NULL) {
			if (str_to_uint(value, &num) < 0)
				return -1;
			user->uid = (uid_t)num;
		} else if ((value = auth_proto_arg_value(args[i], "gid")) != NULL) {
			if (str_to_uint(value, &num) < 0)
				return -1;
			user->gid = (gid_t)num;
		} else if (args[i][0] != '\0') {
			array_push(&user->extra, args[i]);
		}
	}
	return 0;
}

static int auth_master_handle_reply(struct auth_master_client *client,
				    const char *const *args, unsigned int count)
{
	if (strcmp(args[0], "SPID") == 0)
		return 0;
	if (count < 2)
		return -1;
	struct auth_master_request *req = auth_master_request_find(client, args[1]);
	if (req == NULL)
		return 0; /* aborted or timed out meanwhile */
	const char *cmd = args[0];
	if (req->type == AUTH_MASTER_REQUEST_LIST) {
		if (strcmp(cmd, "LIST") == 0 && count >= 3) {
			req->list_cb(args[2], req->list_context);
			return 0;
		}
		if (strcmp(cmd, "DONE") != 0)
			return -1;
		bool failed = count >= 3 && strcmp(args[2], "fail") == 0;
		auth_master_request_finish(req, failed ? -1 : 0, NULL,
					   failed ? "user listing failed" : NULL);
		return 0;
	}
	if (strcmp(cmd, "USER") == 0) {
		struct auth_master_user user = { .name = NULL };
		if (auth_master_parse_user(args, count, t_pool(), &user) < 0)
			return -1;
		auth_master_request_finish(req, 1, &user, NULL);
	} else if (strcmp(cmd, "NOTFOUND") == 0) {
		auth_master_request_finish(req, 0, NULL, NULL);
	} else if (strcmp(cmd, "FAIL") == 0) {
		const char *reason = count >= 3 ? auth_proto_arg_value(args[2], "reason") : NULL;
		auth_master_request_finish(req, -1, NULL, reason != NULL ? reason :
					   "auth process failed the lookup");
	} else {
		return -1;
	}
	return 0;
}

static int auth_master_handle_line(struct auth_master_client *client, char *line)
{
	const char *args[AUTH_PROTO_MAX_ARGS];
	int count = auth_proto_split(line, args, N_ELEMENTS(args));
	unsigned int major;

	if (count < 0)
		return -1;
	if (!client->got_version) {
		if (strcmp(args[0], "VERSION") != 0 || count < 3 ||
		    str_to_uint(args[1], &major) < 0 || major != AUTH_PROTO_MASTER_MAJOR)
			return -1;
		client->got_version = true;
		return 0;
	}
	return auth_master_handle_reply(client, args, (unsigned int)count);
}

/* Reads and handles what arrived. Returns 0, or -1 after disconnecting. */
static int auth_master_input(struct auth_master_client *client)
{
	const char *error;
	char *line;

	ssize_t ret = i_stream_read(client->input);
	if (ret == -1) {
		auth_master_disconnect(client, "auth process closed the connection");
		return -1;
	}
	while (client->input != NULL) {
		int r = auth_proto_next_line(client->input, AUTH_MASTER_MAX_LINE_LENGTH,
					     &line, &error);
		if (r == 0)
			break;
		if (r < 0 || auth_master_handle_line(client, line) < 0) {
			auth_master_disconnect(client, r < 0 ? error :
					       "invalid reply from the auth process");
			return -1;
		}
	}
	return client->input == NULL ? -1 : 0;
}

static void auth_master_update_io(struct auth_master_client *client)
{
	if (client->io != NULL) {
		io_set_condition(client->io, o_stream_get_buffer_used(client->output) > 0 ?
				 IO_READ | IO_WRITE : IO_READ);
	}
}

static void auth_master_io(void *context)
{
	struct auth_master_client *client = context;

	if (o_stream_get_buffer_used(client->output) > 0 &&
	    o_stream_flush(client->output) < 0) {
		auth_master_disconnect(client, "write to the auth process failed");
		return;
	}
	if (auth_master_input(client) == 0)
		auth_master_update_io(client);
}

/* Waits until sync is done, the time is up or the connection fails. */
static void auth_master_wait(struct auth_master_client *client, struct auth_master_request *req,
			     struct auth_master_sync *sync)
{
	uint64_t deadline = auth_master_now_ms() + client->timeout_ms;

	while (!sync->done) {
		uint64_t now = auth_master_now_ms();
		if (now >= deadline) {
			auth_master_request_free(req);
			sync->ret = -1;
			sync->error = "auth process timed out";
			return;
		}
		struct pollfd pfd = {
			.fd = client->transport->fd,
			.events = POLLIN | (o_stream_get_buffer_used(client->output) > 0 ?
					    POLLOUT : 0),
		};
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR) {
			auth_master_disconnect(client, "poll() failed");
			continue;
		}
		if ((pfd.revents & POLLOUT) != 0 && o_stream_flush(client->output) < 0) {
			auth_master_disconnect(client, "write to the auth process failed");
			continue;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
			(void)auth_master_input(client);
	}
}

static struct auth_master_request *
auth_master_request_new(struct auth_master_client *client, enum auth_master_request_type type,
			void *context)
{
	struct auth_master_request *req = i_zalloc(sizeof(*req));

	req->client = client;
	req->type = type;
	req->context = context;
	if (++client->next_id == 0)
		client->next_id = 1;
	req->id = client->next_id;
	req->next = client->requests;
	if (client->requests != NULL)
		client->requests->prev = req;
	client->requests = req;
	return req;
}

static void auth_master_append_param(string_t *str, const char *key, const char *value)
{
	if (value == NULL)
		return;
	str_printfa(str, "\t%s=", key);
	auth_proto_escape(str, value);
}

static const char *auth_master_user_line(unsigned int id, const struct auth_master_lookup *lookup)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "USER\t%u\t", id);
	auth_proto_escape(str, lookup->user);
	auth_master_append_param(str, "service", lookup->service);
	auth_master_append_param(str, "rip", lookup->remote_ip);
	auth_master_append_param(str, "lip", lookup->local_ip);
	str_append_c(str, '\n');
	return str_c(str);
}

static const char *auth_master_request_line(unsigned int id, const struct auth_master_login *login)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "REQUEST\t%u\t%ld\t%u\t", id, (long)login->client_pid,
		    login->request_id);
	auth_proto_escape(str, login->cookie);
	str_append_c(str, '\n');
	return str_c(str);
}

static void auth_master_user_copy(pool_t pool, const struct auth_master_user *src,
				  struct auth_master_user **user_r)
{
	struct auth_master_user *user = p_malloc(pool, sizeof(*user));

	user->name = p_strdup(pool, src->name);
	user->home = src->home == NULL ? NULL : p_strdup(pool, src->home);
	user->uid = src->uid;
	user->gid = src->gid;
	array_init(&user->extra, pool, src->extra.count);
	for (unsigned int i = 0; i < src->extra.count; i++)
		array_push(&user->extra, p_strdup(pool, src->extra.v[i]));
	*user_r = user;
}

static void auth_master_sync_callback(int ret, const struct auth_master_user *user,
				      const char *error, void *context)
{
	struct auth_master_sync *sync = context;

	sync->done = true;
	sync->ret = ret;
	sync->error = error == NULL ? NULL : p_strdup(sync->pool, error);
	if (user != NULL)
		auth_master_user_copy(sync->pool, user, &sync->user);
}

typedef const char *auth_master_line_func_t(unsigned int id, const void *arg);

/* Sends a new blocking request and waits for its result. */
static int auth_master_run_sync(struct auth_master_client *client,
				struct auth_master_request *req,
				auth_master_line_func_t *line_func, const void *arg,
				struct auth_master_sync *sync, const char **error_r)
{
	(void)o_stream_send_str(client->output, line_func(req->id, arg));
	auth_master_wait(client, req, sync);
	if (sync->ret < 0)
		*error_r = sync->error;
	return sync->ret;
}

static const char *auth_master_user_line_func(unsigned int id, const void *arg)
{
	return auth_master_user_line(id, arg);
}

static const char *auth_master_request_line_func(unsigned int id, const void *arg)
{
	return auth_master_request_line(id, arg);
}

static const char *auth_master_list_line_func(unsigned int id, const void *arg)
{
	string_t *str = t_str_new(64);

	str_printfa(str, "LIST\t%u", id);
	if (arg != NULL) {
		str_append(str, "\tuser=");
		auth_proto_escape(str, arg);
	}
	str_append_c(str, '\n');
	return str_c(str);
}

static int auth_master_lookup_sync(struct auth_master_client *client,
				   auth_master_line_func_t *line_func, const void *arg,
				   pool_t pool, struct auth_master_user **user_r,
				   const char **error_r)
{
	int ret = -1;

	*user_r = NULL;
	/* a connection kept from an earlier call may have died with an auth
	   process restart: then the request never arrived, try once more */
	for (unsigned int attempt = 0; attempt < 2; attempt++) {
		struct auth_master_sync sync = { .pool = pool };
		bool reused = client->transport != NULL;
		if (auth_master_connect(client, error_r) < 0)
			return -1;
		struct auth_master_request *req =
			auth_master_request_new(client, AUTH_MASTER_REQUEST_USER, &sync);
		req->user_cb = auth_master_sync_callback;
		ret = auth_master_run_sync(client, req, line_func, arg, &sync, error_r);
		*user_r = sync.user;
		if (ret >= 0 || !reused || client->transport != NULL)
			break;
	}
	return ret;
}

int auth_master_user_lookup(struct auth_master_client *client,
			    const struct auth_master_lookup *lookup, pool_t pool,
			    struct auth_master_user **user_r, const char **error_r)
{
	return auth_master_lookup_sync(client, auth_master_user_line_func, lookup, pool,
				       user_r, error_r);
}

int auth_master_login_resolve(struct auth_master_client *client,
			      const struct auth_master_login *login, pool_t pool,
			      struct auth_master_user **user_r, const char **error_r)
{
	return auth_master_lookup_sync(client, auth_master_request_line_func, login, pool,
				       user_r, error_r);
}

int auth_master_user_list(struct auth_master_client *client, const char *mask,
			  void (*cb)(const char *user, void *context), void *context,
			  const char **error_r)
{
	struct auth_master_sync sync = { .pool = t_pool() };

	if (auth_master_connect(client, error_r) < 0)
		return -1;
	struct auth_master_request *req =
		auth_master_request_new(client, AUTH_MASTER_REQUEST_LIST, &sync);
	req->list_cb = cb;
	req->list_context = context;
	return auth_master_run_sync(client, req, auth_master_list_line_func, mask, &sync,
				    error_r);
}

static void auth_master_request_timeout(void *context)
{
	struct auth_master_request *req = context;

	req->to = NULL;
	auth_master_request_finish(req, -1, NULL, req->error != NULL ? req->error :
				   "auth process timed out");
}

static struct auth_master_request *
auth_master_start_async(struct auth_master_client *client,
			auth_master_line_func_t *line_func, const void *arg,
			auth_master_user_callback_t *cb, void *context)
{
	const char *error;
	struct auth_master_request *req;

	if (auth_master_connect(client, &error) < 0) {
		req = auth_master_request_new(client, AUTH_MASTER_REQUEST_USER, context);
		req->user_cb = cb;
		/* static: the connect error text is temporary memory */
		req->error = "auth process unreachable";
		log_warning(NULL, "auth_master_connect_failed", "error=%s", log_value(error));
		req->to = timeout_add_once(0, auth_master_request_timeout, req);
		return req;
	}
	req = auth_master_request_new(client, AUTH_MASTER_REQUEST_USER, context);
	req->user_cb = cb;
	(void)o_stream_send_str(client->output, line_func(req->id, arg));
	if (client->io == NULL)
		client->io = io_add(client->transport->fd, IO_READ, auth_master_io, client);
	auth_master_update_io(client);
	req->to = timeout_add_once(client->timeout_ms, auth_master_request_timeout, req);
	return req;
}

struct auth_master_request *
auth_master_user_lookup_async(struct auth_master_client *client,
			      const struct auth_master_lookup *lookup,
			      auth_master_user_callback_t *cb, void *context)
{
	return auth_master_start_async(client, auth_master_user_line_func, lookup, cb, context);
}

struct auth_master_request *
auth_master_login_resolve_async(struct auth_master_client *client,
				const struct auth_master_login *login,
				auth_master_user_callback_t *cb, void *context)
{
	return auth_master_start_async(client, auth_master_request_line_func, login, cb,
				       context);
}

void auth_master_request_abort(struct auth_master_request **_req)
{
	struct auth_master_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	/* a late reply finds no request and is dropped */
	auth_master_request_free(req);
}

struct auth_master_client *auth_master_client_create(const char *socket_path,
						     unsigned int timeout_ms)
{
	struct auth_master_client *client = i_zalloc(sizeof(*client));

	client->socket_path = i_strdup(socket_path);
	client->timeout_ms = timeout_ms == 0 ? AUTH_MASTER_DEFAULT_TIMEOUT_MS : timeout_ms;
	return client;
}

struct auth_master_client *auth_master_client_create_fd(int fd, unsigned int timeout_ms)
{
	struct auth_master_client *client = i_zalloc(sizeof(*client));

	client->timeout_ms = timeout_ms == 0 ? AUTH_MASTER_DEFAULT_TIMEOUT_MS : timeout_ms;
	auth_master_attach(client, fd);
	return client;
}

void auth_master_client_destroy(struct auth_master_client **_client)
{
	struct auth_master_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	while (client->requests != NULL)
		auth_master_request_free(client->requests);
	io_remove(&client->io);
	i_stream_destroy(&client->input);
	o_stream_destroy(&client->output);
	transport_destroy(&client->transport);
	i_free(client->socket_path);
	free(client);
}

const char *auth_master_user_extra_get(const struct auth_master_user *user, const char *key)
{
	size_t len = strlen(key);

	for (unsigned int i = 0; i < user->extra.count; i++) {
		const char *field = user->extra.v[i];
		if (strncmp(field, key, len) != 0)
			continue;
		if (field[len] == '\0')
			return "";
		if (field[len] == '=')
			return field + len + 1;
	}
	return NULL;
}
