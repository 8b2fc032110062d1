/* The master's part of the login -> mail hand-off: a login worker sends a
 * logged-in session (its socket plus the hand-off record), the master picks
 * or starts a mail worker of that protocol running as the user's uid and
 * passes both on; a mail worker sends a session back for IMAP
 * UNAUTHENTICATE, and it goes to the login worker that holds its TLS (or any
 * login worker of the protocol). The master reads only these records,
 * never client bytes. */
#include "server-private.h"
#include "auth-master-client.h"
#include "ipc-handoff.h"
#include "log.h"
#include "strnum.h"

#include <pwd.h>
#include <unistd.h>

/* A session that can't be handed over gets a last word and is closed; a
   limit is a warning (handoff_refused), anything else an error
   (handoff_failed). */
static void master_handoff_refuse_with(const char *protocol, int fd, const char *reason,
				       const char *bye)
{
	ssize_t ret = write(fd, bye, strlen(bye));
	(void)ret;
	close(fd);
	log_warning(NULL, "handoff_refused", "protocol=%s reason=%s", log_value(protocol),
		    log_value(reason));
}

static void master_handoff_refuse(const char *protocol, int fd, const char *reason)
{
	const char *bye = strcmp(protocol, "pop3") == 0 ?
		"-ERR [SYS/TEMP] Internal error, try again later.\r\n" :
		strcmp(protocol, "managesieve") == 0 ?
		"BYE (TRYLATER) \"Internal error, try again later.\"\r\n" :
		"* BYE [UNAVAILABLE] Internal error, try again later.\r\n";
	ssize_t ret = write(fd, bye, strlen(bye));
	(void)ret;
	close(fd);
	log_error(NULL, "handoff_failed", "protocol=%s reason=%s", log_value(protocol),
		  log_value(reason));
}

/* The uid/gid a user's mail worker runs as; -1 when the master's own.
   Returns 0 or -1 (refused, *reason_r). */
static int master_handoff_uid(const struct login_handoff *h, uid_t *uid_r, gid_t *gid_r,
			      const char **reason_r)
{
	uid_t uid = h->uid;
	gid_t gid = h->gid;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (uid == 0) {
		*reason_r = "userdb uid 0 is not allowed for mail access";
		return -1;
	}
	if (uid == (uid_t)-1 || (uid == geteuid() && (gid == (gid_t)-1 || gid == getegid())))
		return 0;
	if (geteuid() != 0) {
		*reason_r = t_strdup_printf("can't switch to uid %u: not running as root",
					    (unsigned int)uid);
		return -1;
	}
	if (gid == (gid_t)-1) {
		char buf[4096];
		struct passwd pw, *res;
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
			*reason_r = t_strdup_printf("uid %u has no gid in the userdb and no "
						    "passwd entry", (unsigned int)uid);
			return -1;
		}
		gid = pw.pw_gid;
	}
	*uid_r = uid;
	*gid_r = gid;
	return 0;
}

/* The least busy mail worker for the key, or a new one while the service
   has fewer than its process_count for it. */
static struct master_worker *master_mail_worker_get(struct master *m, const char *service,
						    uid_t uid, gid_t gid)
{
	const struct service_settings *sset = config_find_service(m->config, service);
	unsigned int limit = sset == NULL ? 1 : sset->process_count;
	struct master_worker *best = NULL;
	unsigned int count = 0;

	for (unsigned int i = 0; i < m->workers.count; i++) {
		struct master_worker *w = m->workers.v[i];
		if (w->role != MASTER_ROLE_MAIL || w->retiring || w->chan == NULL ||
		    w->generation != m->generation || strcmp(w->service, service) != 0 ||
		    w->uid != uid || w->gid != gid)
			continue;
		count++;
		if (sset != NULL && w->sessions >= sset->client_limit)
			continue;
		if (best == NULL || w->sessions < best->sessions)
			best = w;
	}
	if (best != NULL && (best->sessions == 0 || count >= limit))
		return best;
	struct master_worker *w = master_mail_worker_spawn(m, service, uid, gid);
	return w != NULL ? w : best;
}

/* A hand-off waiting for the auth process to say who logged in. */
struct master_handoff_pending {
	struct master_handoff_pending *prev, *next;
	struct master *m;
	pid_t login_pid;
	char *service;
	char *record;
	int fd;
	struct auth_master_request *req;
	/* what to ask which auth process */
	pid_t auth_pid;
	unsigned int request_id;
	char cookie[65];
};

static void master_handoff_route(struct master *m, pid_t login_pid, struct login_handoff *h,
				 int fd);

static void master_handoff_pending_free(struct master_handoff_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->m->handoffs_pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p->service);
	free(p->record);
	free(p);
}

static void master_handoff_refuse_pending(struct master *m, pid_t auth_pid,
					  const char *reason)
{
	struct master_handoff_pending *p = m->handoffs_pending, *next;

	for (; p != NULL; p = next) {
		next = p->next;
		if (auth_pid != 0 && p->auth_pid != auth_pid)
			continue;
		auth_master_request_abort(&p->req);
		master_handoff_refuse(p->service, p->fd, reason);
		master_handoff_pending_free(p);
	}
}

void master_handoff_shutdown(struct master *m)
{
	master_handoff_refuse_pending(m, 0, "server shutting down");
	/* the auth processes drain once nobody is connected */
	for (unsigned int i = 0; i < m->workers.count; i++)
		auth_master_client_destroy(&m->workers.v[i]->auth_master);
}

void master_handoff_retire_idle(struct master *m)
{
	uint64_t now = ioloop_now_ms();

	for (unsigned int i = 0; i < m->workers.count; i++) {
		struct master_worker *w = m->workers.v[i];
		const struct service_settings *sset =
			config_find_service(m->config, w->service);
		if (w->role != MASTER_ROLE_MAIL || w->retiring || w->chan == NULL ||
		    w->sessions > 0 || sset == NULL || sset->mail_idle_timeout_ms == 0 ||
		    now - w->idle_since_ms < sset->mail_idle_timeout_ms)
			continue;
		/* on the channel, so it comes after any hand-off sent before;
		   from now on sessions go elsewhere */
		w->retiring = true;
		(void)ipc_channel_send(w->chan, "RETIRE", 6, -1);
		log_debug(NULL, "worker_retire", "service=%s worker_pid=%ld reason=idle",
			  w->service, (long)w->pid);
	}
}

void master_handoff_auth_gone(struct master *m, struct master_worker *w)
{
	master_handoff_refuse_pending(m, w->pid, "auth process died");
	auth_master_client_destroy(&w->auth_master);
}

/* The master's connection to the auth process that made a login. */
static struct auth_master_client *master_auth_client(struct master *m, pid_t auth_pid)
{
	for (unsigned int i = 0; i < m->workers.count; i++) {
		struct master_worker *w = m->workers.v[i];
		if (w->pid == auth_pid && w->auth_master != NULL)
			return w->auth_master;
	}
	return NULL;
}

static void master_handoff_resolved(int ret, const struct auth_master_user *user,
				    const char *error, void *context);

static void master_handoff_resolve(struct master_handoff_pending *p)
{
	const struct auth_master_login login = {
		.client_pid = p->login_pid,
		.request_id = p->request_id,
		.cookie = p->cookie,
	};
	struct auth_master_client *client = master_auth_client(p->m, p->auth_pid);
	if (client == NULL) {
		master_handoff_refuse(p->service, p->fd,
				      "the auth process that made the login is gone");
		master_handoff_pending_free(p);
		return;
	}
	p->req = auth_master_login_resolve_async(client, &login, master_handoff_resolved, p);
}

static void master_handoff_resolved(int ret, const struct auth_master_user *user,
				    const char *error, void *context)
{
	struct master_handoff_pending *p = context;
	struct login_handoff h;
	const char *perror;

	p->req = NULL;
	if (ret <= 0 || login_handoff_parse(p->record, t_pool(), &h, &perror) < 0) {
		master_handoff_refuse(p->service, p->fd, t_strdup_printf(
			"login not confirmed by the auth process: %s",
			ret < 0 ? error : ret == 0 ? "unknown login" : perror));
	} else {
		/* the auth process's word, not the login worker's */
		h.user = user->name;
		h.home = user->home == NULL ? "" : user->home;
		h.uid = user->uid;
		h.gid = user->gid;
		h.userdb_extra.count = 0;
		for (unsigned int i = 0; i < user->extra.count; i++)
			array_push(&h.userdb_extra, user->extra.v[i]);
		master_handoff_route(p->m, p->login_pid, &h, p->fd);
	}
	master_handoff_pending_free(p);
}


/* "spid:cuid:request_id:cookie" from the login worker; its pid is ours. */
static int master_handoff_login_parse(const char *ref, pid_t login_pid,
				      struct auth_master_login *login_r, pid_t *auth_pid_r)
{
	char cookie[65];
	long spid;
	unsigned int cuid, id;

	if (sscanf(ref, "%ld:%u:%u:%64[0-9a-fA-F]", &spid, &cuid, &id, cookie) != 4 ||
	    spid <= 0)
		return -1;
	*auth_pid_r = (pid_t)spid;
	login_r->client_pid = login_pid;
	login_r->request_id = id;
	login_r->cookie = t_strdup(cookie);
	return 0;
}

static void master_handoff_from_login(struct master *m, struct master_worker *lw,
				      const char *record, int fd)
{
	struct login_handoff h;
	struct auth_master_login login;
	const char *error;

	if (fd < 0 || login_handoff_parse(record, t_pool(), &h, &error) < 0) {
		log_error(NULL, "handoff_failed", "worker_pid=%ld error=%s", (long)lw->pid,
			  log_value(fd < 0 ? "no socket" : error));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (strcmp(h.protocol, lw->service) != 0) {
		master_handoff_refuse(lw->service, fd, "protocol mismatch");
		return;
	}
	pid_t auth_pid;
	if (master_handoff_login_parse(h.auth_ref, lw->pid, &login, &auth_pid) < 0) {
		master_handoff_refuse(lw->service, fd, "no auth reference");
		return;
	}
	struct master_handoff_pending *p = i_zalloc(sizeof(*p));
	p->m = m;
	p->login_pid = lw->pid;
	p->service = i_strdup(lw->service);
	p->record = i_strdup(record);
	p->fd = fd;
	p->next = m->handoffs_pending;
	if (p->next != NULL)
		p->next->prev = p;
	m->handoffs_pending = p;
	p->auth_pid = auth_pid;
	p->request_id = login.request_id;
	snprintf(p->cookie, sizeof(p->cookie), "%s", login.cookie);
	master_handoff_resolve(p);
}

static void master_handoff_route(struct master *m, pid_t login_pid, struct login_handoff *h,
				 int fd)
{
	const char *error;
	uid_t uid;
	gid_t gid;

	const struct service_settings *sset = config_find_service(m->config, h->protocol);
	if (master_sessions_check(m, sset, h->user, h->remote.ip, &error) < 0) {
		master_handoff_refuse_with(h->protocol, fd, t_strdup_printf(
			"user=%s rip=%s %s", h->user, h->remote.ip, error),
			strcmp(h->protocol, "pop3") == 0 ?
			"-ERR [IN-USE] Too many connections for this user.\r\n" :
			strcmp(h->protocol, "managesieve") == 0 ?
			"BYE (TRYLATER) \"Too many connections for this user.\"\r\n" :
			t_strdup_printf("* BYE [LIMIT] Maximum number of connections "
					"from user+IP exceeded (%s)\r\n", error));
		return;
	}
	if (master_handoff_uid(h, &uid, &gid, &error) < 0) {
		master_handoff_refuse(h->protocol, fd, t_strdup_printf("user=%s %s", h->user, error));
		return;
	}
	struct master_worker *mw = master_mail_worker_get(m, h->protocol, uid, gid);
	if (mw == NULL) {
		master_handoff_refuse(h->protocol, fd, "no mail worker");
		return;
	}
	h->login_pid = (unsigned int)login_pid;
	string_t *str = t_str_new(512);
	str_append(str, "HANDOFF\t");
	login_handoff_serialize(h, str);
	if (ipc_channel_send(mw->chan, str_data(str), str_len(str), fd) < 0) {
		master_handoff_refuse(h->protocol, fd, "mail worker channel failed");
		return;
	}
	close(fd);
	mw->sessions++;
	master_sessions_add(m, h->protocol, h->session_id, h->user, h->remote.ip);
}

/* UNAUTHENTICATE: back to the login worker holding the session's TLS, or
   to any current login worker of the protocol for a plaintext one. */
static void master_handoff_resume(struct master *m, struct master_worker *mw,
				  const char *record, int fd)
{
	struct login_handoff h;
	const char *error;
	struct master_worker *target = NULL;

	if (fd < 0 || login_handoff_parse(record, t_pool(), &h, &error) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (unsigned int i = 0; i < m->workers.count && target == NULL; i++) {
		struct master_worker *w = m->workers.v[i];
		if (w->role != MASTER_ROLE_LISTEN || w->chan == NULL ||
		    strcmp(w->service, mw->service) != 0)
			continue;
		if (h.tls ? (unsigned int)w->pid == h.login_pid :
		    w->generation == m->generation && !w->retiring)
			target = w;
	}
	string_t *str = t_str_new(512);
	str_append(str, "RESUME\t");
	str_append(str, record);
	if (target == NULL || ipc_channel_send(target->chan, str_data(str), str_len(str), fd) < 0)
		log_warning(NULL, "resume_failed", "session=%s", log_value(h.session_id));
	close(fd);
}

void master_handoff_input(struct ipc_channel *chan, const void *data, size_t size,
			  int fd, void *context)
{
	struct master_worker *w = context;
	struct master *m = w->master;

	if (data == NULL) {
		/* the worker is gone or broke the channel; reaping follows */
		ipc_channel_destroy(&w->chan);
		return;
	}
	const char *msg = t_strndup(data, size);
	unsigned int n;
	if (w->role == MASTER_ROLE_LISTEN && strncmp(msg, "HANDOFF\t", 8) == 0) {
		master_handoff_from_login(m, w, msg + 8, fd);
	} else if (w->role == MASTER_ROLE_MAIL && strncmp(msg, "RESUME\t", 7) == 0) {
		master_handoff_resume(m, w, msg + 7, fd);
	} else if (w->role == MASTER_ROLE_MAIL && strncmp(msg, "END\t", 4) == 0) {
		master_sessions_end(m, msg + 4);
		if (fd >= 0)
			close(fd);
	} else if (w->role == MASTER_ROLE_MAIL && strncmp(msg, "LOAD\t", 5) == 0 &&
		   str_to_uint(msg + 5, &n) == 0) {
		if (n == 0 && w->sessions > 0)
			w->idle_since_ms = ioloop_now_ms();
		w->sessions = n;
		if (fd >= 0)
			close(fd);
	} else {
		log_error(NULL, "worker_message_invalid", "worker_pid=%ld", (long)w->pid);
		if (fd >= 0)
			close(fd);
	}
	(void)chan;
}
