/* State of the master shared by its files. */
#ifndef TERN_SERVER_PRIVATE_H
#define TERN_SERVER_PRIVATE_H

#include "server-master.h"
#include "array.h"
#include "ioloop.h"

struct master_listener {
	char *name, *protocol, *address, *path;
	unsigned int port;
	enum listener_tls tls;
	int fd;
	bool in_use; /* in the current configuration */
};

struct master_worker {
	pid_t pid;
	char *service;
	unsigned int generation;
	uint64_t started_ms;
	bool retiring; /* told to stop accepting; exits when idle */
};

struct master {
	const struct master_options *opts;
	struct tern_config *config;
	unsigned int generation;
	int config_fd; /* memfd holding the current config for workers */
	ARRAY(struct master_listener *) listeners;
	ARRAY(struct master_worker *) workers;
	struct timeout *restart_to, *kill_to;
	bool shutting_down;
};

/* server-listeners.c */
/* Binds the enabled listeners of m->config whose protocol is implemented,
   reusing sockets already bound at the same address. Returns 0 or -1. */
int master_listeners_update(struct master *m, const char **error_r);
void master_listeners_close_unused(struct master *m);
void master_listeners_close_all(struct master *m);

/* server-workers.c */
void master_workers_spawn_all(struct master *m);
int master_worker_spawn(struct master *m, const char *service);
void master_workers_signal(struct master *m, int signo, bool only_old);
/* Reaps exited children; restarts crashed workers. */
void master_workers_reap(struct master *m);
struct master_worker *master_worker_find(struct master *m, pid_t pid);
unsigned int master_workers_count(struct master *m);

#endif
