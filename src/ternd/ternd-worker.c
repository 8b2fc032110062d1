/* Worker process: the configuration from the master, the listeners it
 * passed down and accepting on them, the channel to the master, and
 * draining on SIGTERM (shutdown) and SIGUSR1 (retire after a reload). The
 * roles are in ternd-login.c (pre-login), ternd-mail.c (post-login),
 * src/lmtp (delivery) and src/indexer (background text indexing). */
#include "ternd-worker-private.h"
#include "buffer.h"
#include "connection.h"
#include "imap-cache-render.h"
#include "index-db.h"
#include "indexer-worker.h"
#include "lmtp-client.h"
#include "log.h"
#include "login-imap.h"
#include "login-managesieve.h"
#include "login-pop3.h"
#include "net.h"
#include "server-master.h"
#include "strnum.h"
#include "ternd-setup.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>

/* LMTP: index connections kept open for the next deliveries (index-db.h) */
#define WORKER_LMTP_PARKED_INDEXES 128
/* Every worker is woken for a new connection and the first to call
   accept() gets it. Taking one per wakeup spreads a burst of connections
   over the workers instead of letting one take them all. */
#define WORKER_ACCEPT_BATCH 1
/* An LMTP worker saves one message at a time, so an MTA's parallel
   connections must spread over the workers, but the worker that runs
   first after a burst of connections would take them all. One serving n
   connections stops accepting for n times this (at most 10 times). */
#define WORKER_LMTP_ACCEPT_PAUSE_MSECS 5

struct worker worker;

static void worker_accept(void *context);

static void worker_lmtp_resume(void *context)
{
	struct worker_listener *l = context;
	/* timeout_add_once() removed itself */
	l->pause_to = NULL;
	if (l->fd >= 0 && l->io == NULL)
		l->io = io_add(l->fd, IO_READ, worker_accept, l);
}

static void worker_lmtp_pause(struct worker_listener *l)
{
	unsigned int n = connection_count();
	if (n == 0 || l->pause_to != NULL)
		return;
	io_remove(&l->io);
	l->pause_to = timeout_add_once(I_MIN(n, 10) * WORKER_LMTP_ACCEPT_PAUSE_MSECS,
				       worker_lmtp_resume, l);
}

static void worker_accept(void *context)
{
	struct worker_listener *l = context;
	const struct service_settings *sset = config_find_service(worker.config, worker.service);
	for (unsigned int i = 0; i < WORKER_ACCEPT_BATCH; i++) {
		struct net_endpoint remote, local;
		int fd = net_accept(l->fd, &remote, &local);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED &&
			    errno != EINTR)
				log_error(NULL, "accept_failed", "listener=%s error=%s", l->name,
					  log_value(strerror(errno)));
			return;
		}
		bool pop3 = strcmp(l->protocol, "pop3") == 0;
		bool lmtp = strcmp(l->protocol, "lmtp") == 0;
		bool sieve = strcmp(l->protocol, "managesieve") == 0;
		if (sset != NULL && connection_count() >= sset->client_limit) {
			const char *bye = pop3 ?
				"-ERR [SYS/TEMP] Too many connections, try again later.\r\n" :
				lmtp ? "421 4.3.2 Too many connections, try again later.\r\n" :
				sieve ? "BYE (TRYLATER) \"Too many connections, try again later.\"\r\n" :
				"* BYE [UNAVAILABLE] Too many connections, try again later.\r\n";
			ssize_t ret = write(fd, bye, strlen(bye));
			(void)ret;
			close(fd);
			log_warning(NULL, "client_limit", "listener=%s limit=%u remote=%s",
				    l->name, sset->client_limit, remote.ip);
			continue;
		}
		if (lmtp) {
			lmtp_client_create(worker.config->set, fd, &remote, &local);
			worker_lmtp_pause(l);
			return;
		}
		if (pop3)
			login_pop3_client_create(&worker.login, fd, &remote, &local, l->tls);
		else if (sieve)
			login_managesieve_client_create(&worker.login, fd, &remote, &local,
							l->tls);
		else
			login_imap_client_create(&worker.login, fd, &remote, &local, l->tls);
	}
}

/* "fd:name:protocol:tls,..." from the master */
static int worker_parse_listeners(const char *env)
{
	const char *p = env;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *item = t_strndup(p, len);
		char fd_s[16], name[128], proto[32];
		int tls;
		if (sscanf(item, "%15[0-9]:%127[^:]:%31[^:]:%d", fd_s, name, proto, &tls) != 4)
			return -1;
		struct worker_listener *l = i_zalloc(sizeof(*l));
		if (str_to_int64(fd_s, &(int64_t){0}) < 0)
			return -1;
		l->fd = atoi(fd_s);
		l->name = i_strdup(name);
		l->protocol = i_strdup(proto);
		l->tls = (enum listener_tls)tls;
		array_push(&worker.listeners, l);
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The indexer: the datagram socket the master bound is its to read and
   close (draining doesn't close it under the indexer's feet) */
static int worker_indexer_init(const char **error_r)
{
	for (unsigned int i = 0; i < worker.listeners.count; i++) {
		struct worker_listener *l = worker.listeners.v[i];
		if (strcmp(l->protocol, "indexer") == 0 && l->fd >= 0) {
			int fd = l->fd;
			l->fd = -1;
			/* LMTP leaves the message cache to the indexer's read */
			worker_cache_render_register();
			return indexer_worker_init(worker.config->set, fd, error_r);
		}
	}
	*error_r = "no indexer socket from the master";
	return -1;
}

static void worker_stop_listening(void)
{
	if (worker.role == WORKER_ROLE_AUTH)
		worker_auth_stop_listening();
	for (unsigned int i = 0; i < worker.listeners.count; i++) {
		struct worker_listener *l = worker.listeners.v[i];
		io_remove(&l->io);
		timeout_remove(&l->pause_to);
		i_close_fd(&l->fd);
	}
}

static void worker_drain_check(void *context ATTR_UNUSED)
{
	if (worker.role == WORKER_ROLE_AUTH ? worker_auth_idle() : connection_count() == 0)
		ioloop_stop();
}

static void worker_deadline(void *context ATTR_UNUSED)
{
	worker.deadline_to = NULL;
	log_warning(NULL, "shutdown_timeout", "connections=%u", connection_count());
	connection_close_all("server shutting down (timeout)");
	ioloop_stop();
}

static void worker_start_draining(void)
{
	if (worker.draining)
		return;
	worker.draining = true;
	worker_stop_listening();
	worker.drain_to = timeout_add(50, worker_drain_check, NULL);
}

static void worker_sig_term(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
	worker_start_draining();
	if (worker.deadline_to == NULL) {
		worker.deadline_to = timeout_add_once(worker.config->set->shutdown_timeout_ms,
						      worker_deadline, NULL);
		connection_shutdown_all();
	}
}

void worker_retire(void)
{
	worker_start_draining();
}

static void worker_sig_retire(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
	/* after a reload: established sessions go on until they end */
	worker_start_draining();
}

static void worker_sig_ignore(int signo ATTR_UNUSED, void *context ATTR_UNUSED)
{
}

/* *text_r: what the master sent, the config text and after a NUL the TLS
   files (ternd_setup_tls_files()); the caller frees it. */
static int worker_load_config(string_t **text_r, const char **error_r)
{
	const char *fd_s = getenv(MASTER_ENV_CONFIG_FD);
	unsigned int fd;
	if (fd_s == NULL || str_to_uint(fd_s, &fd) < 0) {
		*error_r = "no configuration from the master (run ternd, not the worker)";
		return -1;
	}
	string_t *text = str_new(system_pool, 8192);
	char buf[8192];
	ssize_t ret;
	off_t off = 0;
	while ((ret = pread((int)fd, buf, sizeof(buf), off)) > 0) {
		str_append_n(text, buf, (size_t)ret);
		off += ret;
	}
	close((int)fd);
	*text_r = text;
	return config_load_string(str_c(text), "master", NULL, &worker.config, error_r);
}

static void worker_tls_init(const string_t *text)
{
	size_t config_len = strlen((const char *)str_data(text));
	const unsigned char *files = config_len < str_len(text) ?
		str_data(text) + config_len + 1 : NULL;
	size_t files_size = files == NULL ? 0 : str_len(text) - config_len - 1;
	const char *error;
	/* the master checked these very bytes; failing anyway, serve without
	   TLS rather than not at all */
	if (ternd_setup_tls_context(worker.config->set, files, files_size,
				    &worker.login.tls, &error) < 0) {
		log_error(NULL, "tls_init_failed", "error=%s", log_value(error));
		worker.login.tls = NULL;
	}
}

void worker_master_lost(void)
{
	/* the master is gone (or broke the channel): no new sessions can
	   come or go; finish what runs, as on SIGTERM */
	ipc_channel_destroy(&worker.chan);
	if (!worker.draining)
		log_error(NULL, "master_lost", NULL);
	raise(SIGTERM);
}

static int worker_role_parse(const char *role)
{
	static const struct {
		const char *name, *service;
		enum worker_role role;
	} roles[] = {
		{ "imap-login", "imap", WORKER_ROLE_LOGIN },
		{ "pop3-login", "pop3", WORKER_ROLE_LOGIN },
		{ "imap", "imap", WORKER_ROLE_MAIL },
		{ "pop3", "pop3", WORKER_ROLE_MAIL },
		{ "managesieve-login", "managesieve", WORKER_ROLE_LOGIN },
		{ "managesieve", "managesieve", WORKER_ROLE_MAIL },
		{ "lmtp", "lmtp", WORKER_ROLE_LMTP },
		{ "auth", "auth", WORKER_ROLE_AUTH },
		{ "indexer", "indexer", WORKER_ROLE_INDEXER },
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++) {
		if (strcmp(roles[i].name, role) == 0) {
			worker.role = roles[i].role;
			worker.service = roles[i].service;
			return 0;
		}
	}
	return -1;
}

static int worker_channel_open(const char **error_r)
{
	const char *env = getenv(MASTER_ENV_CHANNEL_FD);
	unsigned int fd;
	if (env == NULL || str_to_uint(env, &fd) < 0) {
		*error_r = "no channel to the master";
		return -1;
	}
	worker.chan = ipc_channel_create((int)fd, worker.role == WORKER_ROLE_LOGIN ?
					 worker_login_channel_input :
					 worker_mail_channel_input, NULL);
	return 0;
}

static int worker_init(const char *role, const char **error_r)
{
	if (worker_role_parse(role) < 0) {
		*error_r = t_strdup_printf("unknown worker role '%s'", role);
		return -1;
	}
	string_t *text = NULL;
	int ret = worker_load_config(&text, error_r);
	/* only login workers hold TLS */
	if (ret == 0 && worker.role == WORKER_ROLE_LOGIN)
		worker_tls_init(text);
	/* the private keys in it are not needed any more */
	if (text != NULL)
		explicit_bzero(text->data, text->alloc);
	str_free(&text);
	if (ret < 0)
		return -1;
	/* before a login worker's chroot: syslog needs /dev/log */
	enum log_level level;
	if (log_level_parse(worker.config->set->log_level, &level) == 0)
		log_set_level(level);
	ternd_log_setup(role, worker.config->set->log_target,
			getenv(TERND_ENV_FOREGROUND) != NULL);
	array_init(&worker.listeners, system_pool, 4);
	const char *env = getenv(MASTER_ENV_LISTEN_FDS);
	if (worker.role != WORKER_ROLE_MAIL &&
	    (env == NULL || worker_parse_listeners(env) < 0)) {
		*error_r = "invalid listener list from the master";
		return -1;
	}
	if ((worker.role == WORKER_ROLE_LOGIN || worker.role == WORKER_ROLE_MAIL) &&
	    worker_channel_open(error_r) < 0)
		return -1;
	if (worker.role == WORKER_ROLE_AUTH)
		return worker_auth_init(error_r);
	if (worker.role == WORKER_ROLE_INDEXER)
		return worker_indexer_init(error_r);
	if (worker.role == WORKER_ROLE_LOGIN) {
		if (worker_login_init(error_r) < 0)
			return -1;
	} else if (worker_mail_init(error_r) < 0) {
		/* lmtp saves mail too: the same cache renderer */
		return -1;
	}
	/* a delivery opens the recipient's index for one message: keep the
	   connections of the recent recipients open (index-db.h) */
	if (worker.role == WORKER_ROLE_LMTP)
		index_db_set_park_limit(WORKER_LMTP_PARKED_INDEXES);
	for (unsigned int i = 0; i < worker.listeners.count; i++) {
		struct worker_listener *l = worker.listeners.v[i];
		/* a SIGTERM during the init closed them already */
		if (l->fd >= 0)
			l->io = io_add(l->fd, IO_READ, worker_accept, l);
	}
	return 0;
}

static void worker_deinit(void)
{
	worker_stop_listening();
	for (unsigned int i = 0; i < worker.listeners.count; i++) {
		free(worker.listeners.v[i]->name);
		free(worker.listeners.v[i]->protocol);
		free(worker.listeners.v[i]);
	}
	array_free(&worker.listeners);
	timeout_remove(&worker.drain_to);
	timeout_remove(&worker.deadline_to);
	if (worker.role == WORKER_ROLE_LOGIN)
		worker_login_deinit();
	else if (worker.role == WORKER_ROLE_AUTH)
		worker_auth_deinit();
	else if (worker.role == WORKER_ROLE_INDEXER)
		indexer_worker_deinit();
	else
		worker_mail_deinit();
	lmtp_clients_deinit();
	index_db_set_park_limit(0);
	ipc_channel_destroy(&worker.chan);
	config_free(&worker.config);
}

/* A mail worker becomes the user's uid/gid the master named, before it
   reads anything. Returns 0 or -1. */
static int worker_drop_privileges(const char **error_r)
{
	const char *uid_s = getenv(MASTER_ENV_UID), *gid_s = getenv(MASTER_ENV_GID);
	unsigned int uid, gid;

	if (uid_s == NULL)
		return 0;
	if (gid_s == NULL || str_to_uint(uid_s, &uid) < 0 || str_to_uint(gid_s, &gid) < 0 ||
	    uid == 0) {
		*error_r = "invalid uid/gid from the master";
		return -1;
	}
	gid_t g = (gid_t)gid;
	if (geteuid() == 0 &&
	    (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid((uid_t)uid) < 0)) {
		*error_r = t_strdup_printf("can't become uid %u gid %u: %s", uid, gid,
					   strerror(errno));
		return -1;
	}
	if (getuid() != (uid_t)uid || geteuid() != (uid_t)uid || setuid(0) == 0) {
		*error_r = t_strdup_printf("not running as uid %u", uid);
		return -1;
	}
	return 0;
}

int ternd_worker_main(const char *role)
{
	const char *error;
	log_set_service(role);
	if (worker_drop_privileges(&error) < 0) {
		log_error(NULL, "worker_init_failed", "error=%s", log_value(error));
		return 89;
	}
	ioloop_init();
	(void)signal(SIGPIPE, SIG_IGN);
	signal_add(SIGTERM, worker_sig_term, NULL);
	signal_add(SIGUSR1, worker_sig_retire, NULL);
	/* Ctrl-C reaches the whole process group: the master decides */
	signal_add(SIGINT, worker_sig_ignore, NULL);
	signal_add(SIGHUP, worker_sig_ignore, NULL);
	if (worker_init(role, &error) < 0) {
		log_error(NULL, "worker_init_failed", "error=%s", log_value(error));
		return 89;
	}
	ioloop_run();
	worker_deinit();
	ioloop_deinit();
	return 0;
}
