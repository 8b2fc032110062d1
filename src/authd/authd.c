/* The auth process's listeners: client and master sockets kept apart by
 * type, connection limits, and the mechanism list every client handshake
 * announces. */
#include "authd-private.h"
#include "ioloop.h"
#include "log.h"
#include "net.h"
#include "sasl-server.h"

#include <strings.h>
#include <unistd.h>

#define AUTHD_DEFAULT_MAX_REQUESTS 4096
#define AUTHD_DEFAULT_MAX_CONNECTIONS 1024
#define AUTHD_DEFAULT_REQUEST_TIMEOUT_MS (5 * 60 * 1000)
#define AUTHD_DEFAULT_LOGIN_TTL_MS 60000
#define AUTHD_DEFAULT_MAX_PENDING_LOGINS 16384
#define AUTHD_DEFAULT_MAX_PENDING_LOGINS_PER_CONN 1024
#define AUTHD_DEFAULT_OUTPUT_TIMEOUT_MS 60000

struct authd_listener {
	struct authd *authd;
	struct authd_listener *next;
	int fd;
	struct io *io;
	bool master;
	/* login processes' socket: their word on TLS facts (client
	   certificate, channel binding) is taken */
	bool trusted;
};

/* MECH lines (Dovecot protocol §MECH): flags tell clients such as Postfix
   which mechanisms their security options allow. */
static char *authd_mech_lines(struct auth *auth)
{
	string_t *str = t_str_new(128);
	const char *p = auth_get_mechanisms(auth, true);

	while (*p != '\0') {
		const char *end = strchr(p, ' ');
		const char *mech = end == NULL ? p : t_strndup(p, (size_t)(end - p));
		str_append(str, "MECH\t");
		auth_proto_escape(str, mech);
		if (sasl_mech_is_plaintext(mech))
			str_append(str, "\tplaintext");
		if (strcasecmp(mech, "ANONYMOUS") == 0)
			str_append(str, "\tanonymous");
		str_append_c(str, '\n');
		p = end == NULL ? "" : end + 1;
	}
	/* APOP isn't SASL: only our own POP3 login asks for it; "private"
	   keeps MTAs from offering it */
	str_append(str, "MECH\tAPOP\tprivate\n");
	return i_strdup(str_c(str));
}

struct authd *authd_create(struct auth *auth, const struct authd_settings *set)
{
	struct authd *authd = i_zalloc(sizeof(*authd));

	authd->auth = auth;
	authd->set = *set;
#define AUTHD_DEFAULT(field, value) \
	if (authd->set.field == 0) authd->set.field = (value)
	AUTHD_DEFAULT(max_line_length, AUTH_PROTO_MAX_LINE_LENGTH);
	AUTHD_DEFAULT(max_requests_per_connection, AUTHD_DEFAULT_MAX_REQUESTS);
	AUTHD_DEFAULT(max_connections, AUTHD_DEFAULT_MAX_CONNECTIONS);
	AUTHD_DEFAULT(request_timeout_ms, AUTHD_DEFAULT_REQUEST_TIMEOUT_MS);
	AUTHD_DEFAULT(login_ttl_ms, AUTHD_DEFAULT_LOGIN_TTL_MS);
	AUTHD_DEFAULT(max_pending_logins, AUTHD_DEFAULT_MAX_PENDING_LOGINS);
	AUTHD_DEFAULT(max_pending_logins_per_connection,
		      AUTHD_DEFAULT_MAX_PENDING_LOGINS_PER_CONN);
	AUTHD_DEFAULT(output_timeout_ms, AUTHD_DEFAULT_OUTPUT_TIMEOUT_MS);
#undef AUTHD_DEFAULT
	authd->pid = getpid();
	authd->mech_lines = authd_mech_lines(auth);
	authd->logins = authd_logins_create(authd->set.login_ttl_ms,
					    authd->set.max_pending_logins,
					    authd->set.max_pending_logins_per_connection);
	return authd;
}

unsigned int authd_client_connection_count(const struct authd *authd)
{
	return authd->client_conn_count;
}

void authd_stop_listening(struct authd *authd)
{
	while (authd->listeners != NULL) {
		struct authd_listener *l = authd->listeners;
		authd->listeners = l->next;
		io_remove(&l->io);
		i_close_fd(&l->fd);
		free(l);
	}
}

void authd_destroy(struct authd **_authd)
{
	struct authd *authd = *_authd;

	if (authd == NULL)
		return;
	*_authd = NULL;
	authd_stop_listening(authd);
	authd_client_conns_destroy_all(authd);
	authd_master_conns_destroy_all(authd);
	authd_logins_destroy(&authd->logins);
	i_free(authd->mech_lines);
	free(authd);
}

static void authd_add_connection(struct authd *authd, bool master, bool trusted, int fd,
				 const struct net_endpoint *remote,
				 const struct net_endpoint *local)
{
	unsigned int count = master ? authd->master_conn_count : authd->client_conn_count;

	if (count >= authd->set.max_connections) {
		log_warning(NULL, "authd_connection_limit", "socket=%s limit=%u",
			    master ? "master" : "client", authd->set.max_connections);
		close(fd);
		return;
	}
	if (master)
		authd_master_conn_create(authd, fd, remote, local);
	else
		authd_client_conn_create(authd, fd, remote, local, trusted);
}

static void authd_listener_accept(void *context)
{
	struct authd_listener *l = context;
	struct net_endpoint remote, local;

	int fd = net_accept(l->fd, &remote, &local);
	if (fd < 0)
		return;
	authd_add_connection(l->authd, l->master, l->trusted, fd, &remote, &local);
}

static void authd_add_listener(struct authd *authd, int listen_fd, bool master,
			       bool trusted)
{
	struct authd_listener *l = i_zalloc(sizeof(*l));

	(void)net_set_nonblock(listen_fd);
	l->authd = authd;
	l->fd = listen_fd;
	l->master = master;
	l->trusted = trusted;
	l->io = io_add(listen_fd, IO_READ, authd_listener_accept, l);
	l->next = authd->listeners;
	authd->listeners = l;
}

void authd_add_client_listener(struct authd *authd, int listen_fd)
{
	authd_add_listener(authd, listen_fd, false, false);
}

void authd_add_login_listener(struct authd *authd, int listen_fd)
{
	authd_add_listener(authd, listen_fd, false, true);
}

void authd_add_master_listener(struct authd *authd, int listen_fd)
{
	authd_add_listener(authd, listen_fd, true, false);
}

static void authd_add_fd(struct authd *authd, int fd, bool master)
{
	struct net_endpoint ep = { .is_unix = true };

	(void)net_set_nonblock(fd);
	authd_add_connection(authd, master, false, fd, &ep, &ep);
}

void authd_add_client_connection(struct authd *authd, int fd)
{
	authd_add_fd(authd, fd, false);
}

void authd_add_master_connection(struct authd *authd, int fd)
{
	authd_add_fd(authd, fd, true);
}

unsigned int authd_pending_login_count(const struct authd *authd)
{
	return authd_logins_count(authd->logins);
}
