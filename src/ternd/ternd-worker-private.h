/* State of a worker process shared by its role files: ternd-worker.c
 * (config, listeners, signals, draining), ternd-login.c (pre-login) and
 * ternd-mail.c (post-login). */
#ifndef TERN_TERND_WORKER_PRIVATE_H
#define TERN_TERND_WORKER_PRIVATE_H

#include "ternd-worker.h"
#include "array.h"
#include "config.h"
#include "ioloop.h"
#include "ipc-channel.h"
#include "login-common.h"

struct worker_listener {
	int fd;
	char *name, *protocol;
	enum listener_tls tls;
	struct io *io;
	struct timeout *pause_to; /* lmtp: not accepting for a moment */
};

enum worker_role {
	WORKER_ROLE_LOGIN, /* imap-login, pop3-login */
	WORKER_ROLE_MAIL,  /* imap, pop3 */
	WORKER_ROLE_LMTP,
	WORKER_ROLE_AUTH,
	WORKER_ROLE_INDEXER, /* background full-text indexing (src/indexer) */
};

struct worker {
	enum worker_role role;
	const char *service; /* imap, pop3, lmtp */
	struct tern_config *config;
	struct login_context login;
	ARRAY(struct worker_listener *) listeners;
	struct ipc_channel *chan; /* to the master; login and mail roles */
	struct timeout *drain_to, *deadline_to, *load_to;
	unsigned int reported_load;
	bool draining;
};

extern struct worker worker;

/* ternd-login.c */
int worker_login_init(const char **error_r);
void worker_login_deinit(void);
void worker_login_channel_input(struct ipc_channel *chan, const void *data, size_t size,
				int fd, void *context);

/* ternd-mail.c */
int worker_mail_init(const char **error_r);
void worker_mail_deinit(void);
/* Renders the message cache at save (mail.cache_at_save), also for the
   indexer, which renders what LMTP deferred. */
void worker_cache_render_register(void);
void worker_mail_channel_input(struct ipc_channel *chan, const void *data, size_t size,
			       int fd, void *context);

/* ternd-auth.c */
int worker_auth_init(const char **error_r);
void worker_auth_stop_listening(void);
bool worker_auth_idle(void);
void worker_auth_deinit(void);

/* ternd-worker.c: stop taking new work, exit when the sessions are over */
void worker_retire(void);
/* ternd-worker.c: the master's channel is gone; the worker shuts down. */
void worker_master_lost(void);

#endif
