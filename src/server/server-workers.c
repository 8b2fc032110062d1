/* Spawning worker processes (listening ones per service, mail ones on
 * demand per uid), and reaping and restarting them. */
#include "server-private.h"
#include "buffer.h"
#include "auth-master-client.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A worker that dies sooner than this after starting is restarted only
   after this delay, so a worker that crashes at startup can't fork-bomb */
#define WORKER_RESTART_THROTTLE_MS 1000

static const char *listen_fds_env(struct master *m, const char *service)
{
	string_t *str = t_str_new(128);
	for (unsigned int i = 0; i < m->listeners.count; i++) {
		struct master_listener *l = m->listeners.v[i];
		if (!l->in_use || strcmp(l->protocol, service) != 0)
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ',');
		str_printfa(str, "%d:%s:%s:%d", l->fd, l->name, l->protocol, (int)l->tls);
	}
	return str_c(str);
}

static void clear_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

const char *master_worker_role_name(const struct master_worker *w)
{
	if (w->role == MASTER_ROLE_MAIL || strcmp(w->service, "lmtp") == 0 ||
	    strcmp(w->service, "auth") == 0 || strcmp(w->service, "indexer") == 0)
		return w->service;
	return t_strdup_printf("%s-login", w->service);
}

static ATTR_NORETURN void worker_exec(struct master *m, const struct master_worker *w,
				      const char *fds_env, int chan_fd, int auth_master_fd)
{
	/* in the child: signals back to normal, die with the master */
	ioloop_signals_reset();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
	if (fds_env != NULL) {
		for (unsigned int i = 0; i < m->listeners.count; i++) {
			if (m->listeners.v[i]->in_use &&
			    strcmp(m->listeners.v[i]->protocol, w->service) == 0)
				clear_cloexec(m->listeners.v[i]->fd);
		}
		setenv(MASTER_ENV_LISTEN_FDS, fds_env, 1);
	}
	/* only login workers (which hold the TLS) get the TLS files */
	bool login = w->role == MASTER_ROLE_LISTEN && (strcmp(w->service, "imap") == 0 ||
						       strcmp(w->service, "pop3") == 0 ||
						       strcmp(w->service, "managesieve") == 0);
	int config_fd = login ? m->tls_config_fd : m->config_fd;
	clear_cloexec(config_fd);
	char fd_str[16];
	snprintf(fd_str, sizeof(fd_str), "%d", config_fd);
	setenv(MASTER_ENV_CONFIG_FD, fd_str, 1);
	if (chan_fd >= 0) {
		clear_cloexec(chan_fd);
		snprintf(fd_str, sizeof(fd_str), "%d", chan_fd);
		setenv(MASTER_ENV_CHANNEL_FD, fd_str, 1);
	}
	if (auth_master_fd >= 0) {
		clear_cloexec(auth_master_fd);
		snprintf(fd_str, sizeof(fd_str), "%d", auth_master_fd);
		setenv(MASTER_ENV_AUTH_MASTER_FD, fd_str, 1);
	}
	if (w->uid != (uid_t)-1) {
		/* the worker drops to it right after exec: the binary may be
		   somewhere the user can't reach */
		snprintf(fd_str, sizeof(fd_str), "%u", (unsigned int)w->uid);
		setenv(MASTER_ENV_UID, fd_str, 1);
		snprintf(fd_str, sizeof(fd_str), "%u", (unsigned int)w->gid);
		setenv(MASTER_ENV_GID, fd_str, 1);
	}
	const char *role = master_worker_role_name(w);
	char *const argv[] = { (char *)"ternd", (char *)"--worker", (char *)role, NULL };
	execv(m->opts->exe_path, argv);
	fprintf(stderr, "execv(%s) failed: %s\n", m->opts->exe_path, strerror(errno));
	_exit(89);
}

static struct master_worker *worker_start(struct master *m, const char *service,
					  enum master_role role, uid_t uid, gid_t gid,
					  const char *fds_env)
{
	struct master_worker *w = i_zalloc(sizeof(*w));
	w->master = m;
	w->service = i_strdup(service);
	w->role = role;
	w->uid = uid;
	w->gid = gid;
	w->generation = m->generation;
	w->started_ms = ioloop_now_ms();
	w->idle_since_ms = w->started_ms;

	int fds[2] = { -1, -1 };
	bool channel = strcmp(service, "lmtp") != 0 && strcmp(service, "auth") != 0 &&
		strcmp(service, "indexer") != 0;
	bool auth = strcmp(service, "auth") == 0;
	if (auth && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0) {
		log_error(NULL, "spawn_failed", "service=%s error=%s", service,
			  log_value(strerror(errno)));
		free(w->service);
		free(w);
		return NULL;
	}
	if (channel && ipc_channel_pair(fds) < 0) {
		log_error(NULL, "spawn_failed", "service=%s error=%s", service,
			  log_value(strerror(errno)));
		free(w->service);
		free(w);
		return NULL;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error(NULL, "spawn_failed", "service=%s error=%s", service,
			  log_value(strerror(errno)));
		if (channel || auth) {
			close(fds[0]);
			close(fds[1]);
		}
		free(w->service);
		free(w);
		return NULL;
	}
	if (pid == 0) {
		if (channel || auth)
			close(fds[0]);
		worker_exec(m, w, fds_env, channel ? fds[1] : -1, auth ? fds[1] : -1);
	}
	w->pid = pid;
	if (channel) {
		close(fds[1]);
		w->chan = ipc_channel_create(fds[0], master_handoff_input, w);
	} else if (auth) {
		close(fds[1]);
		w->auth_master = auth_master_client_create_fd(fds[0], 0);
	}
	array_push(&m->workers, w);
	log_debug(NULL, "spawn", "service=%s role=%s worker_pid=%ld", service,
		  master_worker_role_name(w), (long)pid);
	return w;
}

int master_worker_spawn(struct master *m, const char *service)
{
	const char *fds_env = listen_fds_env(m, service);
	if (fds_env[0] == '\0')
		return 0; /* no listener for this service */
	return worker_start(m, service, MASTER_ROLE_LISTEN, (uid_t)-1, (gid_t)-1,
			    fds_env) == NULL ? -1 : 0;
}

struct master_worker *master_mail_worker_spawn(struct master *m, const char *service,
					       uid_t uid, gid_t gid)
{
	return worker_start(m, service, MASTER_ROLE_MAIL, uid, gid, NULL);
}

void master_workers_spawn_all(struct master *m)
{
	const struct tern_settings *set = m->config->set;
	/* one auth process owns the passdb/userdb, penalties and caches */
	(void)master_worker_spawn(m, "auth");
	/* one indexer: it runs when the rest leaves CPU time */
	if (set->indexer.enabled)
		(void)master_worker_spawn(m, "indexer");
	for (unsigned int i = 0; i < set->services.count; i++) {
		const struct service_settings *s = set->services.v[i];
		for (unsigned int n = 0; n < s->process_count; n++) {
			if (master_worker_spawn(m, s->name) < 0)
				break;
		}
	}
}

void master_workers_signal(struct master *m, int signo, bool only_old)
{
	for (unsigned int i = 0; i < m->workers.count; i++) {
		struct master_worker *w = m->workers.v[i];
		if (only_old && w->generation == m->generation)
			continue;
		if (signo == SIGUSR1)
			w->retiring = true;
		(void)kill(w->pid, signo);
	}
}

struct master_worker *master_worker_find(struct master *m, pid_t pid)
{
	for (unsigned int i = 0; i < m->workers.count; i++) {
		if (m->workers.v[i]->pid == pid)
			return m->workers.v[i];
	}
	return NULL;
}

unsigned int master_workers_count(struct master *m)
{
	return m->workers.count;
}

static void master_restart_pending(void *context);

static void worker_exited(struct master *m, struct master_worker *w, int status)
{
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	const char *how = WIFSIGNALED(status) ?
		t_strdup_printf("signal=%d", WTERMSIG(status)) :
		t_strdup_printf("status=%d", WEXITSTATUS(status));
	/* mail workers exit by themselves when idle */
	bool expected = m->shutting_down || w->retiring || w->generation != m->generation ||
		(w->role == MASTER_ROLE_MAIL && clean);
	if (clean && expected)
		log_debug(NULL, "worker_exit", "service=%s worker_pid=%ld %s", w->service, (long)w->pid, how);
	else
		log_error(NULL, "worker_died", "service=%s worker_pid=%ld %s", w->service, (long)w->pid, how);
	if (expected || w->role == MASTER_ROLE_MAIL)
		return; /* mail workers start on demand */
	/* replace it: at once, unless it died young */
	if (ioloop_now_ms() - w->started_ms >= WORKER_RESTART_THROTTLE_MS)
		(void)master_worker_spawn(m, w->service);
	else if (m->restart_to == NULL)
		m->restart_to = timeout_add_once(WORKER_RESTART_THROTTLE_MS, master_restart_pending, m);
}

/* Brings every service back to its process_count. */
static void master_restart_pending(void *context)
{
	struct master *m = context;
	m->restart_to = NULL;
	if (m->shutting_down)
		return;
	const struct tern_settings *set = m->config->set;
	bool have_auth = false, have_indexer = false;
	for (unsigned int j = 0; j < m->workers.count; j++) {
		struct master_worker *w = m->workers.v[j];
		if (w->generation == m->generation && strcmp(w->service, "auth") == 0)
			have_auth = true;
		if (w->generation == m->generation && strcmp(w->service, "indexer") == 0)
			have_indexer = true;
	}
	if (!have_auth)
		(void)master_worker_spawn(m, "auth");
	if (!have_indexer && set->indexer.enabled)
		(void)master_worker_spawn(m, "indexer");
	for (unsigned int i = 0; i < set->services.count; i++) {
		const struct service_settings *s = set->services.v[i];
		unsigned int have = 0;
		for (unsigned int j = 0; j < m->workers.count; j++) {
			struct master_worker *w = m->workers.v[j];
			if (w->generation == m->generation && w->role == MASTER_ROLE_LISTEN &&
			    strcmp(w->service, s->name) == 0)
				have++;
		}
		for (; have < s->process_count; have++) {
			if (master_worker_spawn(m, s->name) < 0)
				break;
		}
	}
}

void master_workers_reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned int i = 0; i < m->workers.count; i++) {
			struct master_worker *w = m->workers.v[i];
			if (w->pid != pid)
				continue;
			array_delete(&m->workers, i, 1);
			worker_exited(m, w, status);
			ipc_channel_destroy(&w->chan);
			if (w->auth_master != NULL)
				master_handoff_auth_gone(m, w);
			free(w->service);
			free(w);
			break;
		}
	}
}
