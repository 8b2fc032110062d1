/* State of the master shared by its files. */
#ifndef TERN_SERVER_PRIVATE_H
#define TERN_SERVER_PRIVATE_H

#include "server-master.h"
#include "array.h"
#include "ioloop.h"
#include "ipc-channel.h"

struct master_listener {
	char *name, *protocol, *address, *path;
	unsigned int port;
	enum listener_tls tls;
	int fd;
	bool in_use; /* in the current configuration */
};

enum master_role {
	/* accepts on the service's listeners: imap-login, pop3-login, lmtp */
	MASTER_ROLE_LISTEN,
	/* post-login sessions of one protocol as one uid, handed over by
	   the master: imap, pop3 */
	MASTER_ROLE_MAIL,
};

struct master;

struct master_worker {
	struct master *master;
	pid_t pid;
	char *service; /* imap, pop3, lmtp */
	enum master_role role;
	unsigned int generation;
	uint64_t started_ms;
	bool retiring; /* told to stop accepting; exits when idle */
	/* mail role: the uid/gid it runs as ((uid_t)-1: the master's) and
	   its sessions (as it last reported, plus hand-offs since) */
	uid_t uid;
	gid_t gid;
	unsigned int sessions;
	uint64_t idle_since_ms; /* when sessions last became 0 */
	/* login and mail roles: messages to and from the master */
	struct ipc_channel *chan;
	/* auth role: our own master-protocol connection to it, to resolve
	   the logins it made */
	struct auth_master_client *auth_master;
};

struct master {
	const struct master_options *opts;
	struct tern_config *config;
	unsigned int generation;
	int config_fd; /* memfd holding the current config for workers */
	/* the same plus the TLS files, for login workers only */
	int tls_config_fd;
	ARRAY(struct master_listener *) listeners;
	ARRAY(struct master_worker *) workers;
	struct timeout *restart_to, *kill_to, *idle_to;
	struct master_handoff_pending *handoffs_pending;
	struct master_sessions *sessions; /* server-sessions.c */
	bool shutting_down;
};

/* server-listeners.c */
/* Binds the enabled listeners of m->config whose protocol is implemented,
   reusing sockets already bound at the same address. Returns 0 or -1. */
int master_listeners_update(struct master *m, const char **error_r);
/* Binds the auth process's Unix sockets under base_dir/run (part of
   master_listeners_update()). */
int master_auth_listeners_update(struct master *m, const char **error_r);
/* Binds the indexer's datagram socket, base_dir/run/indexer, when
   indexer.enabled (part of master_listeners_update()). */
int master_indexer_listener_update(struct master *m, const char **error_r);
void master_listeners_close_unused(struct master *m);
void master_listeners_close_all(struct master *m);

/* server-workers.c */
void master_workers_spawn_all(struct master *m);
/* A listening worker of service (imap-login for imap). */
int master_worker_spawn(struct master *m, const char *service);
/* A mail process for service running as uid/gid ((uid_t)-1: as the
   master). Returns the worker or NULL. */
struct master_worker *master_mail_worker_spawn(struct master *m, const char *service,
					       uid_t uid, gid_t gid);
/* The name a worker runs as (--worker ROLE): imap-login, imap, lmtp... */
const char *master_worker_role_name(const struct master_worker *w);
void master_workers_signal(struct master *m, int signo, bool only_old);
/* Reaps exited children; restarts crashed workers. */
void master_workers_reap(struct master *m);
struct master_worker *master_worker_find(struct master *m, pid_t pid);
unsigned int master_workers_count(struct master *m);

/* server-sessions.c: logged-in sessions per user and per user + IP */
/* Returns -1 (*reason_r names the limit) if one more session of user
   from ip would pass the service's limits. */
int master_sessions_check(struct master *m, const struct service_settings *sset,
			  const char *user, const char *ip, const char **reason_r);
void master_sessions_add(struct master *m, const char *service, const char *session_id,
			 const char *user, const char *ip);
void master_sessions_end(struct master *m, const char *session_id);
void master_sessions_deinit(struct master *m);

/* server-handoff.c */
/* Retires mail workers that have had no session for
   service.mail_idle_timeout (the master's periodic check). */
void master_handoff_retire_idle(struct master *m);
/* Refuses the hand-offs still waiting for the auth process and closes the
   connection to it. */
void master_handoff_shutdown(struct master *m);
/* An auth worker is gone: hand-offs waiting for it are refused. */
void master_handoff_auth_gone(struct master *m, struct master_worker *w);
/* A message from a login or mail worker's channel. */
void master_handoff_input(struct ipc_channel *chan, const void *data, size_t size,
			  int fd, void *context);

#endif
