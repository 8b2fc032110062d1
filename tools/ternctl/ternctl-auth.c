/* ternctl auth: asks the running server's auth process, over its sockets
 * under base_dir/run, whether a password is right (the client socket, as an
 * MTA would), what the userdb says of a user, and to flush its credential
 * cache (the master socket, root only). */
#include "ternctl.h"
#include "auth-client-proto.h"
#include "base64.h"
#include "buffer.h"
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define AUTH_TIMEOUT_MS 20000

struct auth_conn {
	int fd;
	char buf[AUTH_PROTO_MAX_LINE_LENGTH + 2];
	size_t used;
};

static int auth_conn_open(struct auth_conn *c, const char *name)
{
	const struct tern_config *config;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (ternctl_config_get(&config) < 0)
		return -1;
	const char *path = t_strdup_printf("%s/run/%s", config->set->base_dir, name);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ternctl_error("socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->used = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ternctl_error("can't connect to the auth process at %s: %s "
			      "(is ternd running?)", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		return -1;
	}
	return 0;
}

static int auth_conn_send(struct auth_conn *c, const char *text)
{
	size_t len = strlen(text);
	while (len > 0) {
		ssize_t ret = write(c->fd, text, len);
		if (ret <= 0) {
			ternctl_error("write to the auth process failed: %s", strerror(errno));
			return -1;
		}
		text += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/* The next line, without its LF, or NULL after printing why. */
static char *auth_conn_line(struct auth_conn *c)
{
	for (;;) {
		char *lf = memchr(c->buf, '\n', c->used);
		if (lf != NULL) {
			*lf = '\0';
			char *line = p_strndup(t_pool(), c->buf, (size_t)(lf - c->buf));
			c->used -= (size_t)(lf + 1 - c->buf);
			memmove(c->buf, lf + 1, c->used);
			return line;
		}
		if (c->used >= sizeof(c->buf) - 1) {
			ternctl_error("line from the auth process too long");
			return NULL;
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		if (poll(&pfd, 1, AUTH_TIMEOUT_MS) <= 0) {
			ternctl_error("no answer from the auth process");
			return NULL;
		}
		ssize_t ret = read(c->fd, c->buf + c->used, sizeof(c->buf) - 1 - c->used);
		if (ret <= 0) {
			ternctl_error("the auth process closed the connection");
			return NULL;
		}
		c->used += (size_t)ret;
	}
}

/* Waits for the reply line to request id 1, split into args; the
   handshake lines (VERSION, MECH, SPID ...) are skipped. */
static int auth_conn_reply(struct auth_conn *c, const char **args, unsigned int max_args)
{
	static const char *const replies[] = {
		"OK", "FAIL", "CONT", "USER", "NOTFOUND",
	};
	for (;;) {
		char *line = auth_conn_line(c);
		if (line == NULL)
			return -1;
		int count = auth_proto_split(line, args, max_args);
		if (count < 2 || strcmp(args[1], "1") != 0)
			continue;
		for (size_t i = 0; i < N_ELEMENTS(replies); i++) {
			if (strcmp(args[0], replies[i]) == 0)
				return count;
		}
	}
}

static void auth_print_fields(const char *const *args, int from, int count)
{
	for (int i = from; i < count; i++)
		printf("  %s\n", args[i]);
}

/* A PLAIN authentication on the client socket, as an MTA does. */
static int auth_test_password(const char *user, const char *password)
{
	struct auth_conn c;
	const char *args[AUTH_PROTO_MAX_ARGS];

	if (auth_conn_open(&c, "auth-client") < 0)
		return -1;
	buffer_t *msg = buffer_create(t_pool(), 128);
	buffer_append_c(msg, '\0');
	buffer_append(msg, user, strlen(user));
	buffer_append_c(msg, '\0');
	buffer_append(msg, password, strlen(password));
	string_t *line = t_str_new(256);
	str_printfa(line, "VERSION\t1\t2\nCPID\t%ld\nAUTH\t1\tPLAIN\tservice=ternctl"
		    "\tsecured\tnologin\tresp=", (long)getpid());
	base64_encode(msg->data, msg->used, line);
	str_append_c(line, '\n');
	int ret = auth_conn_send(&c, str_c(line));
	explicit_bzero(line->data, line->alloc);
	int count = ret < 0 ? -1 : auth_conn_reply(&c, args, N_ELEMENTS(args));
	close(c.fd);
	if (count < 0)
		return -1;
	if (strcmp(args[0], "OK") == 0) {
		printf("passdb: %s auth succeeded\n", user);
		auth_print_fields(args, 2, count);
		return 1;
	}
	printf("passdb: %s auth failed\n", user);
	auth_print_fields(args, 2, count);
	return 0;
}

/* A userdb lookup on the master socket. */
static int auth_test_userdb(const char *user)
{
	struct auth_conn c;
	const char *args[AUTH_PROTO_MAX_ARGS];

	if (auth_conn_open(&c, "auth-master") < 0)
		return -1;
	string_t *line = t_str_new(128);
	str_append(line, "VERSION\t1\t0\nUSER\t1\t");
	auth_proto_escape(line, user);
	str_append(line, "\tservice=ternctl\n");
	int count = auth_conn_send(&c, str_c(line)) < 0 ? -1 :
		auth_conn_reply(&c, args, N_ELEMENTS(args));
	close(c.fd);
	if (count < 0)
		return -1;
	if (strcmp(args[0], "USER") == 0) {
		printf("userdb: %s\n", count > 2 ? args[2] : user);
		auth_print_fields(args, 3, count);
		return 1;
	}
	printf("userdb: %s %s\n", user, strcmp(args[0], "NOTFOUND") == 0 ?
	       "not found" : "lookup failed");
	auth_print_fields(args, 2, count);
	return strcmp(args[0], "NOTFOUND") == 0 ? 0 : -1;
}

static int auth_cache_flush_cmd(const char *user)
{
	struct auth_conn c;
	const char *args[AUTH_PROTO_MAX_ARGS];

	if (auth_conn_open(&c, "auth-master") < 0)
		return TERNCTL_EXIT_ERROR;
	string_t *line = t_str_new(128);
	str_append(line, "VERSION\t1\t0\nCACHE-FLUSH\t1");
	if (user != NULL) {
		str_append_c(line, '\t');
		auth_proto_escape(line, user);
	}
	str_append_c(line, '\n');
	int count = auth_conn_send(&c, str_c(line)) < 0 ? -1 :
		auth_conn_reply(&c, args, N_ELEMENTS(args));
	close(c.fd);
	if (count < 3 || strcmp(args[0], "OK") != 0) {
		if (count >= 0)
			ternctl_error("the auth process refused the flush");
		return TERNCTL_EXIT_ERROR;
	}
	printf("%s cache entries flushed\n", args[2]);
	return TERNCTL_EXIT_OK;
}

static int auth_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	if (argc >= 2 && strcmp(argv[1], "test") == 0 && (argc == 3 || argc == 4)) {
		int ret = argc == 4 ? auth_test_password(argv[2], argv[3]) : 1;
		if (ret < 0)
			return TERNCTL_EXIT_ERROR;
		int uret = auth_test_userdb(argv[2]);
		if (uret < 0)
			return TERNCTL_EXIT_ERROR;
		return ret == 0 ? TERNCTL_EXIT_ERROR : uret == 0 ? TERNCTL_EXIT_NOUSER :
			TERNCTL_EXIT_OK;
	}
	if (argc >= 3 && strcmp(argv[1], "cache") == 0 && strcmp(argv[2], "flush") == 0 &&
	    argc <= 4)
		return auth_cache_flush_cmd(argc == 4 ? argv[3] : NULL);
	return ternctl_usage_error(cmd, NULL);
}

const struct ternctl_command ternctl_cmd_auth = {
	.name = "auth",
	.usage = "auth test USER [PASSWORD]\n"
		 "auth cache flush [USER]",
	.summary = "ask the running auth process: check a password (as an MTA "
		   "would) and show the userdb fields; flush its credential cache",
	.run = auth_run,
};
