/* What the listeners (authd.c), the two protocols (authd-client.c,
 * authd-master.c) and the table of logins waiting for the master
 * (authd-logins.c) share. */
#ifndef TERN_AUTHD_PRIVATE_H
#define TERN_AUTHD_PRIVATE_H

#include "authd.h"
#include "auth-client-proto.h"
#include "auth-user.h"
#include "connection.h"

struct authd_listener;
struct authd_client_conn;
struct authd_master_conn;
struct authd_logins;

struct authd {
	struct auth *auth;
	struct authd_settings set;
	pid_t pid;
	/* the MECH lines of the client handshake */
	char *mech_lines;
	unsigned int next_cuid;
	struct authd_listener *listeners;
	struct authd_client_conn *client_conns;
	struct authd_master_conn *master_conns;
	unsigned int client_conn_count, master_conn_count;
	struct authd_logins *logins;
};

/* authd-client.c */
/* trusted: a login process's connection, whose TLS facts are believed */
void authd_client_conn_create(struct authd *authd, int fd, const struct net_endpoint *remote,
			      const struct net_endpoint *local, bool trusted);
void authd_client_conns_destroy_all(struct authd *authd);

/* authd-master.c */
void authd_master_conn_create(struct authd *authd, int fd, const struct net_endpoint *remote,
			      const struct net_endpoint *local);
void authd_master_conns_destroy_all(struct authd *authd);

/* authd-logins.c: successful logins by (cookie, request id), each
   answered once to REQUEST, dropped after ttl_ms, or when max are waiting
   or max_per_conn of one client connection (oldest first). */
struct authd_logins *authd_logins_create(unsigned int ttl_ms, unsigned int max,
					 unsigned int max_per_conn);
void authd_logins_destroy(struct authd_logins **logins);
void authd_logins_add(struct authd_logins *logins, pid_t client_pid, const char *cookie,
		      unsigned int request_id, const struct auth_user *user);
/* Returns 1 with the login's userdb record (copied into pool) and forgets
   it; 0 if there is no such login; -1 if there is one but client_pid
   isn't the pid it was made for (*error_r set; it is forgotten too, as
   someone is guessing). */
int authd_logins_take(struct authd_logins *logins, pid_t client_pid, const char *cookie,
		      unsigned int request_id, pool_t pool, struct auth_user **user_r,
		      const char **error_r);
unsigned int authd_logins_count(const struct authd_logins *logins);

/* Appends "\t" + escaped fields of user: home=, uid=, gid=, extra. */
void authd_append_user_fields(string_t *str, const struct auth_user *user);

#endif
