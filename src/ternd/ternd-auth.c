/* The auth role: the one process that owns the passdb/userdb backends,
 * the SASL mechanisms and the brute-force penalty (src/auth), serving
 * login workers and MTAs on the client sockets and the master and LMTP on
 * the root-only master socket, in Dovecot's auth protocol (src/authd). */
#include "ternd-worker-private.h"
#include "auth.h"
#include "authd.h"
#include "log.h"
#include "server-master.h"
#include "strnum.h"

#include <stdlib.h>

static struct auth *worker_auth;
static struct authd *worker_authd;

int worker_auth_init(const char **error_r)
{
	const struct authd_settings aset = { 0 };

	if (auth_create_from_settings(worker.config->set, &worker_auth, error_r) < 0)
		return -1;
	worker_authd = authd_create(worker_auth, &aset);
	/* the master's own connection, for resolving the logins we make */
	const char *env = getenv(MASTER_ENV_AUTH_MASTER_FD);
	unsigned int fd;
	if (env != NULL && str_to_uint(env, &fd) == 0)
		authd_add_master_connection(worker_authd, (int)fd);
	for (unsigned int i = 0; i < worker.listeners.count; i++) {
		struct worker_listener *l = worker.listeners.v[i];
		/* authd owns the listening sockets from now on */
		if (strcmp(l->name, "auth-master") == 0)
			authd_add_master_listener(worker_authd, l->fd);
		else if (strcmp(l->name, "auth-login") == 0)
			authd_add_login_listener(worker_authd, l->fd);
		else
			authd_add_client_listener(worker_authd, l->fd);
		l->fd = -1;
	}
	return 0;
}

bool worker_auth_idle(void)
{
	/* the master's connection doesn't count: it stays until we exit */
	return worker_authd == NULL || authd_client_connection_count(worker_authd) == 0;
}

void worker_auth_stop_listening(void)
{
	if (worker_authd != NULL)
		authd_stop_listening(worker_authd);
}

void worker_auth_deinit(void)
{
	authd_destroy(&worker_authd);
	auth_destroy(&worker_auth);
}
