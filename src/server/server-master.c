/* The master's main loop: startup, signals, reload and shutdown. */
#include "server-private.h"
#include "buffer.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

/* how often idle mail workers are looked for */
#define MASTER_IDLE_CHECK_MS 1000

static void master_idle_check(void *context)
{
	struct master *m = context;
	if (!m->shutting_down)
		master_handoff_retire_idle(m);
}

/* extra time after shutdown_timeout before workers are killed */
#define MASTER_KILL_GRACE_MS 5000

/* Workers read the exact configuration the master loaded from a memfd, so
   a config file edited between the two loads can't make them disagree. */
static int master_config_fd_create(struct master *m, const struct tern_config *config,
				   bool attach, const char **error_r)
{
	string_t *str = t_str_new(4096);
	config_dump(config, false, str);
	if (attach && m->opts->config_attach != NULL) {
		str_append_c(str, '\0');
		if (m->opts->config_attach(config, str, error_r) < 0) {
			explicit_bzero(str->data, str->alloc);
			return -1;
		}
	}
	int fd = memfd_create("tern-config", MFD_CLOEXEC);
	if (fd < 0) {
		*error_r = t_strdup_printf("memfd_create() failed: %s", strerror(errno));
		explicit_bzero(str->data, str->alloc);
		return -1;
	}
	const unsigned char *p = str_data(str);
	size_t left = str_len(str);
	while (left > 0) {
		ssize_t ret = write(fd, p, left);
		if (ret <= 0) {
			*error_r = t_strdup_printf("write(memfd) failed: %s", strerror(errno));
			close(fd);
			explicit_bzero(str->data, str->alloc);
			return -1;
		}
		p += ret;
		left -= (size_t)ret;
	}
	/* the attachment holds the TLS private keys */
	explicit_bzero(str->data, str->alloc);
	return fd;
}

static int master_apply_config(struct master *m, struct tern_config *config,
			       const char **error_r)
{
	if (m->opts->check_config != NULL && m->opts->check_config(config, error_r) < 0)
		return -1;
	/* the TLS files go only to the login workers, which hold the TLS */
	int fd = master_config_fd_create(m, config, false, error_r);
	if (fd < 0)
		return -1;
	int tls_fd = master_config_fd_create(m, config, true, error_r);
	if (tls_fd < 0) {
		close(fd);
		return -1;
	}
	struct tern_config *old = m->config;
	m->config = config;
	if (master_listeners_update(m, error_r) < 0) {
		m->config = old;
		close(fd);
		close(tls_fd);
		/* restore in_use flags for the old configuration */
		if (old != NULL) {
			const char *error2;
			(void)master_listeners_update(m, &error2);
		}
		return -1;
	}
	i_close_fd(&m->config_fd);
	i_close_fd(&m->tls_config_fd);
	m->config_fd = fd;
	m->tls_config_fd = tls_fd;
	m->generation++;
	config_free(&old);
	enum log_level level;
	if (log_level_parse(config->set->log_level, &level) == 0)
		log_set_level(level);
	return 0;
}

static void master_check_done(struct master *m)
{
	if (m->shutting_down && master_workers_count(m) == 0)
		ioloop_stop();
}

static void master_kill_workers(void *context)
{
	struct master *m = context;
	m->kill_to = NULL;
	log_warning(NULL, "shutdown_kill", "workers=%u", master_workers_count(m));
	master_workers_signal(m, SIGKILL, false);
}

static void master_sig_shutdown(int signo, void *context)
{
	struct master *m = context;
	if (m->shutting_down) {
		if (signo == SIGINT) /* a second Ctrl-C: don't wait */
			master_workers_signal(m, SIGKILL, false);
		return;
	}
	log_info(NULL, "shutdown", "signal=%d workers=%u", signo, master_workers_count(m));
	m->shutting_down = true;
	master_listeners_close_all(m);
	master_handoff_shutdown(m);
	master_workers_signal(m, SIGTERM, false);
	m->kill_to = timeout_add_once(m->config->set->shutdown_timeout_ms + MASTER_KILL_GRACE_MS,
				      master_kill_workers, m);
	master_check_done(m);
}

static void master_sig_reload(int signo ATTR_UNUSED, void *context)
{
	struct master *m = context;
	if (m->shutting_down)
		return;
	struct tern_config *config;
	const char *error;
	if (config_load(m->opts->config_path, m->opts->overrides, &config, &error) < 0) {
		log_error(NULL, "reload_failed", "error=%s", log_value(error));
		return;
	}
	if (master_apply_config(m, config, &error) < 0) {
		log_error(NULL, "reload_failed", "error=%s", log_value(error));
		config_free(&config);
		return;
	}
	/* old workers stop accepting and exit when their sessions end */
	master_workers_signal(m, SIGUSR1, true);
	master_workers_spawn_all(m);
	master_listeners_close_unused(m);
	log_info(NULL, "reload", "generation=%u", m->generation);
}

static void master_sig_child(int signo ATTR_UNUSED, void *context)
{
	struct master *m = context;
	master_workers_reap(m);
	master_check_done(m);
}

int master_run(const struct master_options *opts, struct tern_config *config)
{
	struct master m = { .opts = opts, .config_fd = -1, .tls_config_fd = -1 };
	const char *error;
	array_init(&m.listeners, system_pool, 8);
	array_init(&m.workers, system_pool, 8);
	signal_add(SIGCHLD, master_sig_child, &m);
	if (master_apply_config(&m, config, &error) < 0) {
		log_error(NULL, "startup_failed", "error=%s", log_value(error));
		config_free(&config);
		master_listeners_close_all(&m);
		return 1;
	}
	signal_add(SIGTERM, master_sig_shutdown, &m);
	signal_add(SIGINT, master_sig_shutdown, &m);
	signal_add(SIGHUP, master_sig_reload, &m);
	(void)signal(SIGPIPE, SIG_IGN);
	master_workers_spawn_all(&m);
	m.idle_to = timeout_add(MASTER_IDLE_CHECK_MS, master_idle_check, &m);
	log_info(NULL, "started", "version=" TERN_VERSION " config=%s",
		 log_value(opts->config_path == NULL ? "(embedded default)" : opts->config_path));
	ioloop_run();

	timeout_remove(&m.kill_to);
	timeout_remove(&m.idle_to);
	master_handoff_shutdown(&m);
	master_sessions_deinit(&m);
	timeout_remove(&m.restart_to);
	master_listeners_close_all(&m);
	array_free(&m.listeners);
	array_free(&m.workers);
	i_close_fd(&m.config_fd);
	i_close_fd(&m.tls_config_fd);
	config_free(&m.config);
	log_info(NULL, "stopped", NULL);
	return 0;
}
