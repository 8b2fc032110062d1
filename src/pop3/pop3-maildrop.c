/* The maildrop of a POP3 session: its lock (RFC 1939 §4, RFC 2449 §8.1.1
 * [IN-USE]) and login delay (RFC 2449 §6.5, §8.1.2 [LOGIN-DELAY]), the
 * message list taken at login, UIDLs, and the UPDATE state (§6) that
 * applies DELE and RETR to the shared storage, where IMAP sessions see the
 * expunges. */
#include "pop3-client.h"
#include "pop3-uidl.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POP3_LOCK_FILE "tern-pop3.lock"

/* flock() is tied to the open file, so the kernel drops the lock when the
   worker holding it dies: a crash never leaves a maildrop locked. The
   file's mtime is the time of the last login, for login_delay. */
int pop3_maildrop_lock(struct pop3_client *client, const char *home, const char **reply_r)
{
	const struct pop3_settings *set = &client->set->pop3;
	if (!set->lock && set->login_delay_ms == 0)
		return 1;
	const char *path = t_strdup_printf("%s/%s", home, POP3_LOCK_FILE);
	bool created = true;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		log_error(&client->conn->log, "pop3_lock_failed", "path=%s error=%s",
			  log_value(path), log_value(strerror(errno)));
		*reply_r = "[SYS/TEMP] Can't lock the mailbox.";
		return -1;
	}
	client->lock_fd = fd;
	if (set->lock && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			*reply_r = "[IN-USE] Mailbox is locked by another POP3 session.";
			return 0;
		}
		log_error(&client->conn->log, "pop3_lock_failed", "path=%s error=%s",
			  log_value(path), log_value(strerror(errno)));
		*reply_r = "[SYS/TEMP] Can't lock the mailbox.";
		return -1;
	}
	struct stat st;
	if (set->login_delay_ms > 0 && !created && fstat(fd, &st) == 0) {
		struct timespec now;
		(void)clock_gettime(CLOCK_REALTIME, &now);
		int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		int64_t last_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (now_ms - last_ms < (int64_t)set->login_delay_ms && now_ms >= last_ms - 1000) {
			*reply_r = t_strdup_printf("[LOGIN-DELAY] Logins are allowed only every %u seconds.",
						   (set->login_delay_ms + 999) / 1000);
			return 0;
		}
	}
	if (set->login_delay_ms > 0 && futimens(fd, NULL) < 0) {
		log_error(&client->conn->log, "pop3_lock_failed", "path=%s error=%s",
			  log_value(path), log_value(strerror(errno)));
	}
	return 1;
}

void pop3_maildrop_unlock(struct pop3_client *client)
{
	/* closing the fd releases the lock */
	i_close_fd(&client->lock_fd);
}

struct pop3_load_context {
	struct pop3_client *client;
	pool_t pool;
	bool want_guid;
};

static int pop3_maildrop_add(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct pop3_load_context *ctx = context;
	struct pop3_client *client = ctx->client;
	struct pop3_message *msg = &client->msgs[client->count++];
	msg->seq = seq;
	msg->uid = rec->uid;
	msg->size = rec->size;
	if (ctx->want_guid)
		msg->guid = p_strdup(ctx->pool, rec->guid);
	client->total_size += rec->size;
	return 0;
}

int pop3_maildrop_open(struct pop3_client *client)
{
	client->box = mailbox_open(client->mail_user, "INBOX", 0);
	if (client->box == NULL) {
		const char *text;
		(void)mail_user_get_error(client->mail_user, &text);
		log_error(&client->conn->log, "pop3_open_failed", "error=%s", log_value(text));
		return -1;
	}
	client->uidvalidity = mailbox_get_view_status(client->box)->uidvalidity;
	uint32_t view_count = mailbox_view_count(client->box);
	uint32_t *seqs = i_new(uint32_t, view_count + 1);
	for (uint32_t i = 0; i < view_count; i++)
		seqs[i] = i + 1;
	client->msgs = i_new(struct pop3_message, view_count + 1);
	/* messages expunged since the view was loaded are left out: the
	   numbering is fixed only from here on */
	struct pop3_load_context ctx = {
		.client = client,
		.pool = client->conn->pool,
		.want_guid = strstr(client->set->pop3.uidl_format, "g") != NULL,
	};
	int ret = mailbox_foreach_record(client->box, seqs, view_count, pop3_maildrop_add, &ctx);
	free(seqs);
	if (ret < 0) {
		const char *text;
		(void)mail_user_get_error(client->mail_user, &text);
		log_error(&client->conn->log, "pop3_open_failed", "error=%s", log_value(text));
		return -1;
	}
	return 0;
}

const char *pop3_maildrop_uidl(struct pop3_client *client, const struct pop3_message *msg)
{
	struct pop3_uidl_vars vars = {
		.uid = msg->uid,
		.uidvalidity = client->uidvalidity,
		.guid = msg->guid,
	};
	string_t *str = t_str_new(64);
	pop3_uidl_expand(str, client->set->pop3.uidl_format, &vars);
	return str_c(str);
}

/* Adds flag to the messages of seqs. Returns 0 or -1 (logged). */
static int pop3_maildrop_add_flag(struct pop3_client *client, const array_uint32_t *seqs,
				  enum mail_flags flag)
{
	if (seqs->count == 0)
		return 0;
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = flag };
	if (mailbox_update_flags(client->box, seqs->v, seqs->count, &change, t_pool(), NULL) < 0) {
		const char *text;
		(void)mail_user_get_error(client->mail_user, &text);
		log_error(&client->conn->log, "pop3_update_failed", "flag=%s error=%s",
			  flag == MAIL_SEEN ? "seen" : "deleted", log_value(text));
		return -1;
	}
	return 0;
}

int pop3_maildrop_update(struct pop3_client *client)
{
	const struct pop3_settings *set = &client->set->pop3;
	bool expunge = strcmp(set->delete_mode, POP3_DELETE_MODE_EXPUNGE) == 0;
	array_uint32_t seen, deleted, deleted_uids;
	array_init(&seen, t_pool(), 16);
	array_init(&deleted, t_pool(), 16);
	array_init(&deleted_uids, t_pool(), 16);
	for (uint32_t i = 0; i < client->count; i++) {
		const struct pop3_message *msg = &client->msgs[i];
		if (msg->retrieved && set->retr_sets_seen && !(msg->deleted && expunge))
			array_push(&seen, msg->seq);
		if (msg->deleted) {
			array_push(&deleted, msg->seq);
			array_push(&deleted_uids, msg->uid);
		}
	}
	int ret = 0;
	if (pop3_maildrop_add_flag(client, &seen, MAIL_SEEN) < 0)
		ret = -1;
	if (pop3_maildrop_add_flag(client, &deleted, MAIL_DELETED) < 0)
		return -1;
	if (expunge && deleted_uids.count > 0 &&
	    mailbox_expunge(client->box, deleted_uids.v, deleted_uids.count) < 0) {
		const char *text;
		(void)mail_user_get_error(client->mail_user, &text);
		log_error(&client->conn->log, "pop3_expunge_failed", "error=%s", log_value(text));
		return -1;
	}
	return ret;
}
