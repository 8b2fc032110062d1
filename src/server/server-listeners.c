/* Binding listeners (the configured ones, the auth process's Unix sockets
 * and the indexer's socket under base_dir/run), and keeping their sockets
 * across reloads. */
#include "server-private.h"
#include "net.h"
#include "log.h"
#include "indexer-notify.h"

#include <errno.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

static bool protocol_implemented(struct master *m, const char *protocol)
{
	for (const char *const *p = m->opts->implemented_protocols; *p != NULL; p++) {
		if (strcmp(*p, protocol) == 0)
			return true;
	}
	return false;
}

static struct master_listener *
listener_find_bound(struct master *m, const struct listener_settings *set)
{
	for (unsigned int i = 0; i < m->listeners.count; i++) {
		struct master_listener *l = m->listeners.v[i];
		if (set->path[0] != '\0' ? strcmp(l->path, set->path) == 0 :
		    l->path[0] == '\0' && l->port == set->port &&
		    strcmp(l->address, set->address) == 0)
			return l;
	}
	return NULL;
}

static void listener_set_fields(struct master_listener *l, const struct listener_settings *set)
{
	free(l->name);
	free(l->protocol);
	l->name = i_strdup(set->name);
	l->protocol = i_strdup(set->protocol);
	l->tls = set->tls;
	l->in_use = true;
}

static void listener_free(struct master_listener *l)
{
	i_close_fd(&l->fd);
	if (l->path != NULL && l->path[0] != '\0')
		(void)unlink(l->path);
	free(l->name);
	free(l->protocol);
	free(l->address);
	free(l->path);
	free(l);
}

int master_listeners_update(struct master *m, const char **error_r)
{
	const struct tern_settings *set = m->config->set;
	for (unsigned int i = 0; i < m->listeners.count; i++)
		m->listeners.v[i]->in_use = false;
	for (unsigned int i = 0; i < set->listeners.count; i++) {
		const struct listener_settings *ls = set->listeners.v[i];
		if (!ls->enabled)
			continue;
		if (!protocol_implemented(m, ls->protocol)) {
			log_warning(NULL, "listener_skipped", "listener=%s protocol=%s reason=\"%s is not implemented yet\"",
				    ls->name, ls->protocol, ls->protocol);
			continue;
		}
		struct master_listener *l = listener_find_bound(m, ls);
		if (l != NULL && l->in_use) {
			/* two listeners of this configuration on one socket:
			   the second would silently take over the first */
			*error_r = t_strdup_printf("listeners %s and %s use the same address %s",
						   l->name, ls->name,
						   ls->path[0] != '\0' ? ls->path :
						   t_strdup_printf("%s:%u", ls->address, l->port));
			return -1;
		}
		if (l == NULL) {
			int fd = ls->path[0] != '\0' ?
				net_listen_unix(ls->path, LISTEN_BACKLOG, error_r) :
				net_listen_tcp(ls->address, ls->port, LISTEN_BACKLOG, error_r);
			if (fd < 0) {
				*error_r = t_strdup_printf("listener %s: %s", ls->name, *error_r);
				return -1;
			}
			l = i_zalloc(sizeof(*l));
			l->fd = fd;
			l->address = i_strdup(ls->address);
			l->path = i_strdup(ls->path);
			l->port = ls->path[0] != '\0' ? 0 : (ls->port != 0 ? ls->port : net_get_local_port(fd));
			array_push(&m->listeners, l);
			log_info(NULL, "listen", "listener=%s protocol=%s address=%s tls=%s",
				 ls->name, ls->protocol,
				 ls->path[0] != '\0' ? ls->path :
				 t_strdup_printf("%s:%u", ls->address, l->port),
				 ls->tls == LISTENER_TLS_IMPLICIT ? "implicit" :
				 ls->tls == LISTENER_TLS_STARTTLS ? "starttls" :
				 ls->tls == LISTENER_TLS_REQUIRED ? "required" : "none");
		}
		listener_set_fields(l, ls);
	}
	if (master_auth_listeners_update(m, error_r) < 0)
		return -1;
	return master_indexer_listener_update(m, error_r);
}

/* The auth process's sockets: for login workers (inside their chroot
   directory), for MTAs (Postfix's smtpd_sasl_path), and the master socket
   that only root may use (userdb lookups, resolving logins). */
static const struct {
	const char *name, *path;
	mode_t mode;
} auth_sockets[] = {
	{ "auth-login", "login/auth", 0600 },
	{ "auth-client", "auth-client", 0666 },
	{ "auth-master", "auth-master", 0600 },
};

/* The login processes' socket belongs to login_user: only they (and
   root) can claim TLS facts there. */
static int master_auth_socket_chown(struct master *m, const char *name, const char *path)
{
	struct passwd *pw;

	if (strcmp(name, "auth-login") != 0 || geteuid() != 0)
		return 0;
	pw = getpwnam(m->config->set->login_user);
	if (pw == NULL) {
		errno = ENOENT;
		return -1;
	}
	return chown(path, pw->pw_uid, pw->pw_gid);
}

static int master_run_dir_create(const char *path, const char **error_r)
{
	struct stat st;
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		*error_r = t_strdup_printf("mkdir(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	/* reachable by the login user (the chroot is in it), writable by
	   root only: nothing but sockets */
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = t_strdup_printf("%s is not a directory", path);
		return -1;
	}
	if ((st.st_mode & 07777) != 0755 && chmod(path, 0755) < 0) {
		*error_r = t_strdup_printf("chmod(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The bound socket at path, or NULL. */
static struct master_listener *listener_find_path(struct master *m, const char *path)
{
	for (unsigned int i = 0; i < m->listeners.count; i++) {
		if (strcmp(m->listeners.v[i]->path, path) == 0)
			return m->listeners.v[i];
	}
	return NULL;
}

/* Keeps fd, a Unix socket the master bound at path for its processes. */
static struct master_listener *listener_add_unix(struct master *m, int fd, const char *path,
						 const char *name, const char *protocol)
{
	struct master_listener *l = i_zalloc(sizeof(*l));
	l->fd = fd;
	l->address = i_strdup("");
	l->path = i_strdup(path);
	l->name = i_strdup(name);
	l->protocol = i_strdup(protocol);
	array_push(&m->listeners, l);
	return l;
}

int master_auth_listeners_update(struct master *m, const char **error_r)
{
	const char *run = t_strdup_printf("%s/run", m->config->set->base_dir);
	if (master_run_dir_create(run, error_r) < 0 ||
	    master_run_dir_create(t_strdup_printf("%s/login", run), error_r) < 0)
		return -1;
	for (size_t i = 0; i < N_ELEMENTS(auth_sockets); i++) {
		const char *path = t_strdup_printf("%s/%s", run, auth_sockets[i].path);
		struct master_listener *l = listener_find_path(m, path);
		if (l == NULL) {
			int fd = net_listen_unix(path, LISTEN_BACKLOG, error_r);
			if (fd < 0)
				return -1;
			if (chmod(path, auth_sockets[i].mode) < 0 ||
			    master_auth_socket_chown(m, auth_sockets[i].name, path) < 0) {
				*error_r = t_strdup_printf("chmod/chown(%s) failed: %s", path,
							   strerror(errno));
				close(fd);
				return -1;
			}
			l = listener_add_unix(m, fd, path, auth_sockets[i].name, "auth");
		}
		l->in_use = true;
	}
	return 0;
}

/* The indexer's datagram socket (src/indexer/indexer-notify.h): only root
   (LMTP) may send to it. Bound here, not by the indexer, so requests wait
   in it while the indexer restarts. */
static int master_indexer_socket_bind(const char *path, const char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*error_r = t_strdup_printf("socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*error_r = t_strdup_printf("socket() failed: %s", strerror(errno));
		return -1;
	}
	(void)unlink(path);
	mode_t old_umask = umask(0077);
	int ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (ret < 0 || chmod(path, 0600) < 0) {
		*error_r = t_strdup_printf("bind(%s) failed: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* room for bursts while the indexer is busy or restarting */
	int size = 4 * 1024 * 1024;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

int master_indexer_listener_update(struct master *m, const char **error_r)
{
	if (!m->config->set->indexer.enabled)
		return 0;
	const char *path = t_strdup_printf("%s/%s", m->config->set->base_dir,
					   INDEXER_SOCKET_NAME);
	struct master_listener *l = listener_find_path(m, path);
	if (l == NULL) {
		int fd = master_indexer_socket_bind(path, error_r);
		if (fd < 0)
			return -1;
		l = listener_add_unix(m, fd, path, "indexer", "indexer");
	}
	l->in_use = true;
	return 0;
}

void master_listeners_close_unused(struct master *m)
{
	for (unsigned int i = 0; i < m->listeners.count;) {
		struct master_listener *l = m->listeners.v[i];
		if (l->in_use) {
			i++;
			continue;
		}
		log_info(NULL, "unlisten", "listener=%s", l->name);
		listener_free(l);
		array_delete(&m->listeners, i, 1);
	}
}

void master_listeners_close_all(struct master *m)
{
	for (unsigned int i = 0; i < m->listeners.count; i++)
		listener_free(m->listeners.v[i]);
	array_clear(&m->listeners);
}
