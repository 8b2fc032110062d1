/* The session side of NOTIFY (RFC 5465): the watcher, the queue of events
 * for other mailboxes and the mailbox list, and the selected mailbox's
 * events (§5.1-5.3, §6.1).
 *
 * The watcher is the user's notification fd (mail_user_notify_fd()): every
 * commit by any process wakes it, and a wake-up reads one snapshot of all
 * mailboxes (one query per table) and compares it with the last one
 * (imap-notify-diff.c). An idle session has no timer and nothing that
 * polls; it costs an eventfd and a share of the user's inotify watch.
 * Events wait in a bounded queue while a response is being written and
 * go out as soon as none is, also between commands (§3.1: "the client
 * listens for event notifications all the time"). */
#include "imap-notify-private.h"
#include "imap-capability.h"
#include "imap-commands.h"
#include "imap-storage.h"
#include "ioloop.h"
#include "ostream.h"

/* Wake-ups closer than this are merged into one check: a burst of commits
   (an import) costs a snapshot read per interval, not per commit. */
#define IMAP_NOTIFY_CHECK_INTERVAL_MSECS 20
/* A queue that a slow reader never empties is copied into a fresh pool
   past this, so the memory of the events it did send comes back. */
#define IMAP_NOTIFY_QUEUE_POOL_MAX (256 * 1024)

static void notify_check(struct imap_notify *n);
static void notify_check_and_send(struct imap_notify *n);
static void notify_selected_arm(struct imap_notify *n);

int64_t imap_notify_selected_id(const struct imap_notify *n)
{
	struct mailbox *box = n->client->box;
	return box == NULL ? 0 : mailbox_get_view_status(box)->mailbox_id;
}

/* Between commands or in IDLE, with no response half written. */
static bool notify_can_send(const struct imap_notify *n)
{
	const struct imap_client *client = n->client;
	return !client->conn->closed && n->fetch == NULL &&
		(client->cmd == NULL || n->in_idle);
}

/* --- the queue --- */

static void notify_overflow(struct imap_notify *n)
{
	/* RFC 5465 §5.8: say so, then behave as after NOTIFY NONE; the
	   session's next chance to write sends the OK */
	n->overflowed = true;
	io_remove(&n->user_io);
	timeout_remove(&n->check_to);
	io_remove(&n->box_io);
	n->box = NULL;
	mail_user_notify_deinit(n->client->mail_user);
	mail_user_track_own_changes(n->client->mail_user, false);
	array_clear(&n->queue);
	log_info(&n->client->conn->log, "notify_overflow", "limit=%u", IMAP_NOTIFY_MAX_PENDING);
}

static bool notify_queue_full(struct imap_notify *n)
{
	if (n->overflowed)
		return true;
	if (n->queue.count < IMAP_NOTIFY_MAX_PENDING)
		return false;
	notify_overflow(n);
	return true;
}

static void notify_queue_init(struct imap_notify *n)
{
	if (n->queue_pool == NULL) {
		n->queue_pool = pool_create("notify queue", 1024);
		array_init(&n->queue, n->queue_pool, 16);
	}
}

void imap_notify_queue_status(struct imap_notify *n, const char *name,
			      enum mailbox_status_items items)
{
	notify_queue_init(n);
	/* the values are read when it is sent: one STATUS per mailbox */
	for (unsigned int i = 0; i < n->queue.count; i++) {
		struct imap_notify_pending *p = &n->queue.v[i];
		if (p->status_name != NULL && strcmp(p->status_name, name) == 0) {
			p->status_items |= items;
			return;
		}
	}
	if (notify_queue_full(n))
		return;
	struct imap_notify_pending *p = array_append_space(&n->queue);
	p->status_name = p_strdup(n->queue_pool, name);
	p->status_items = items;
}

void imap_notify_queue_line(struct imap_notify *n, const char *line)
{
	notify_queue_init(n);
	if (notify_queue_full(n))
		return;
	struct imap_notify_pending *p = array_append_space(&n->queue);
	p->line = p_strdup(n->queue_pool, line);
}

static int state_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mailbox_state *)elem)->name);
}

static void notify_send_status(struct imap_notify *n, const struct imap_notify_pending *p)
{
	const struct mailbox_state *m = n->snap.mailbox_count == 0 ? NULL :
		bsearch(p->status_name, n->snap.mailboxes, n->snap.mailbox_count,
			sizeof(n->snap.mailboxes[0]), state_name_cmp);
	/* gone (or renamed) since: the LIST that says so is on its way */
	if (m == NULL || !m->selectable)
		return;
	struct mailbox_status status = {
		.mailbox_id = m->id,
		.messages = m->messages,
		.uidnext = m->uidnext,
		.uidvalidity = m->uidvalidity,
		.unseen = m->unseen,
		.highestmodseq = m->highestmodseq,
	};
	imap_status_send(n->client, p->status_name, p->status_items, &status);
}

static void notify_queue_compact(struct imap_notify *n)
{
	pool_t pool = pool_create("notify queue", 1024);
	ARRAY(struct imap_notify_pending) queue;
	array_init(&queue, pool, n->queue.count + 1);
	for (unsigned int i = 0; i < n->queue.count; i++) {
		struct imap_notify_pending p = n->queue.v[i];
		p.status_name = p.status_name == NULL ? NULL : p_strdup(pool, p.status_name);
		p.line = p.line == NULL ? NULL : p_strdup(pool, p.line);
		array_push(&queue, p);
	}
	array_free(&n->queue);
	pool_destroy(&n->queue_pool);
	n->queue_pool = pool;
	n->queue.v = queue.v;
	n->queue.count = queue.count;
	n->queue.alloc = queue.alloc;
	n->queue.pool = queue.pool;
}

/* Writes queued events until the output is full. Returns true when the
   queue is empty. */
static bool notify_flush_queue(struct imap_notify *n)
{
	struct ostream *output = n->client->conn->output;
	unsigned int i = 0;
	o_stream_cork(output);
	for (; i < n->queue.count && !o_stream_is_full(output); i++) {
		const struct imap_notify_pending *p = &n->queue.v[i];
		if (p->status_name != NULL)
			notify_send_status(n, p);
		else
			imap_client_send_untagged(n->client, "%s", p->line);
	}
	o_stream_uncork(output);
	if (i < n->queue.count) {
		array_delete(&n->queue, 0, i);
		if (pool_get_allocated(n->queue_pool) > IMAP_NOTIFY_QUEUE_POOL_MAX)
			notify_queue_compact(n);
		return false;
	}
	if (n->queue_pool != NULL) {
		array_free(&n->queue);
		pool_destroy(&n->queue_pool);
	}
	return true;
}

/* --- the watcher --- */

/* A command other than IDLE runs: the check waits for its end (the
   command's responses can't take events anyway), when
   imap_notify_output() runs it; many changes during a long command cost
   one check. */
static bool notify_busy(const struct imap_notify *n)
{
	return n->client->cmd != NULL && !n->in_idle;
}

static void notify_check_timeout(void *context)
{
	struct imap_notify *n = context;
	n->check_to = NULL;
	notify_check_and_send(n);
}

static void notify_user_wake(void *context)
{
	struct imap_notify *n = context;
	uint64_t now = ioloop_now_ms();
	/* the fd is level-triggered: clear it whatever comes next */
	mail_user_notify_clear(n->client->mail_user);
	if (notify_busy(n)) {
		n->check_pending = true;
		return;
	}
	if (n->check_to != NULL)
		return;
	if (now < n->last_check_ms + IMAP_NOTIFY_CHECK_INTERVAL_MSECS) {
		n->check_to = timeout_add_once(
			(unsigned int)(n->last_check_ms + IMAP_NOTIFY_CHECK_INTERVAL_MSECS - now),
			notify_check_timeout, n);
		return;
	}
	notify_check_and_send(n);
}

static int notify_read_state(struct imap_notify *n, pool_t *pool_r, struct mail_user_state *state_r)
{
	*pool_r = pool_create("notify state", 4096);
	if (mail_user_get_state(n->client->mail_user, *pool_r, state_r) < 0) {
		const char *text;
		mail_user_get_error(n->client->mail_user, &text);
		log_error(&n->client->conn->log, "notify_state_failed", "error=%s", log_value(text));
		pool_destroy(pool_r);
		return -1;
	}
	return 0;
}

/* Sends what can be sent now, when the session is only waiting. */
static void notify_send_now(struct imap_notify *n)
{
	struct imap_client *client = n->client;
	if (client->notify != n || !notify_can_send(n))
		return;
	struct connection *conn = client->conn;
	connection_ref(conn);
	/* (this may end NOTIFY, and free n, after an overflow) */
	(void)imap_notify_output(client);
	connection_update_io(conn);
	/* a waiting session keeps no index caches (like IDLE) */
	if (!conn->closed)
		mail_user_release_memory(client->mail_user);
	connection_unref(&conn);
}

static void notify_check(struct imap_notify *n)
{
	struct mail_user *user = n->client->mail_user;
	n->check_pending = false;
	n->last_check_ms = ioloop_now_ms();
	mail_user_notify_clear(user);
	pool_t pool;
	struct mail_user_state state;
	if (notify_read_state(n, &pool, &state) < 0)
		return;
	imap_notify_diff(n, &n->snap, &state);
	if (n->overflowed) {
		pool_destroy(&pool);
	} else {
		if (state.list_version != n->snap.list_version)
			imap_notify_watch_dirs(n, &state);
		pool_destroy(&n->snap_pool);
		n->snap_pool = pool;
		n->snap = state;
	}
}

static void notify_check_and_send(struct imap_notify *n)
{
	if (notify_busy(n)) {
		n->check_pending = true;
		return;
	}
	notify_check(n);
	notify_send_now(n);
}

/* --- the selected mailbox --- */

static void notify_selected_disarm(struct imap_notify *n)
{
	io_remove(&n->box_io);
	n->box = NULL;
	n->box_dirty = false;
}

static void notify_fetch_end(struct imap_notify *n)
{
	if (n->fetch != NULL)
		imap_fetch_end(&n->fetch);
	pool_destroy(&n->fetch_pool);
}

/* Writes more of the MessageNew FETCH. Returns true when it is done. */
static bool notify_fetch_more(struct imap_notify *n)
{
	const char *error = NULL;
	int ret = imap_fetch_more(n->fetch, &error);
	if (ret == 0)
		return false;
	if (ret < 0) {
		/* the messages are there, only their FETCH failed; nothing
		   to answer, so tell it untagged (RFC 9051 §7.1.2) */
		imap_client_send_untagged(n->client, "NO %s",
					  error != NULL && strncmp(error, "NO ", 3) == 0 ?
					  error + 3 : "Fetching the new messages failed.");
	}
	notify_fetch_end(n);
	return true;
}

/* RFC 5465 §5.2: EXISTS, then a FETCH of what the client asked for about
   each new message (UID always), but not for messages the session added
   itself (its APPEND, COPY, MOVE): when every change since the last time
   was its own. Messages below known_uidnext are done. */
static void notify_fetch_new(struct imap_notify *n)
{
	struct mailbox *box = n->client->box;
	const struct mailbox_status *vs = mailbox_get_view_status(box);
	uint32_t uidnext = vs->uidnext, seq1, seq2;
	bool fetch = n->spec->have_new_items && n->known_uidnext < uidnext &&
		!mail_user_changes_are_own(n->client->mail_user, vs->mailbox_id,
					   n->known_modseq, vs->highestmodseq) &&
		mailbox_view_uid_range(box, n->known_uidnext, uidnext - 1, &seq1, &seq2);
	n->known_uidnext = uidnext;
	n->known_modseq = vs->highestmodseq;
	if (!fetch)
		return;
	n->fetch_pool = pool_create("notify fetch", 1024);
	struct imap_cmd *cmd = p_new(n->fetch_pool, struct imap_cmd, 1);
	cmd->client = n->client;
	cmd->pool = n->fetch_pool;
	/* no command asked for it: a tag no command can have makes an
	   INPROGRESS report say NIL (RFC 9585 §3) */
	cmd->tag = "]";
	cmd->name = "NOTIFY";
	array_uint32_t *seqs = p_new(n->fetch_pool, array_uint32_t, 1);
	array_init(seqs, n->fetch_pool, seq2 - seq1 + 1);
	for (uint32_t seq = seq1; seq <= seq2; seq++)
		array_push(seqs, seq);
	n->fetch = imap_fetch_begin(cmd, &n->spec->new_items, seqs);
	(void)notify_fetch_more(n);
}

/* Reports the selected mailbox's changes unasked. In IDLE, and with
   "selected", expunges go out too; with "selected-delayed" they wait for a
   command that may report them (RFC 5465 §6.1). */
static void notify_selected_sync(struct imap_notify *n)
{
	struct imap_client *client = n->client;
	struct mailbox *box = client->box;
	n->box_dirty = false;
	if ((n->spec->selected_events & IMAP_NOTIFY_FLAG_CHANGE) == 0) {
		/* without FlagChange, flag changes alone are no event: they
		   go out with the next EXISTS/EXPUNGE or command */
		struct mailbox_status status;
		if (mailbox_get_status(client->mail_user, mailbox_get_name(box), 0, t_pool(),
				       &status) == 0) {
			bool same = status.uidnext == n->seen_uidnext &&
				status.messages == n->seen_messages;
			n->seen_uidnext = status.uidnext;
			n->seen_messages = status.messages;
			if (same)
				return;
		}
	}
	enum imap_sync_flags flags = IMAP_SYNC_FULL;
	if (n->spec->selected_delayed && !n->in_idle)
		flags |= IMAP_SYNC_NO_EXPUNGES;
	imap_client_sync(client, flags);
	if (client->conn->closed || client->box != box)
		return;
	notify_fetch_new(n);
}

static void notify_box_wake(void *context)
{
	struct imap_notify *n = context;
	struct imap_client *client = n->client;
	mailbox_notify_clear(client->box);
	if (!notify_can_send(n)) {
		/* a command's end reports it, or imap_notify_output() */
		n->box_dirty = true;
		return;
	}
	struct connection *conn = client->conn;
	connection_ref(conn);
	notify_selected_sync(n);
	connection_update_io(conn);
	connection_unref(&conn);
}

static void notify_selected_arm(struct imap_notify *n)
{
	struct imap_client *client = n->client;
	if (n->box == client->box && (n->box_io != NULL || client->box == NULL))
		return;
	notify_selected_disarm(n);
	if (client->box == NULL || n->spec->selected_events == 0)
		return;
	int fd = mailbox_notify_fd(client->box);
	if (fd < 0) {
		log_error(&client->conn->log, "notify_watch_failed", "mailbox=%s",
			  log_value(mailbox_get_name(client->box)));
		return;
	}
	n->box = client->box;
	n->box_io = io_add(fd, IO_READ, notify_box_wake, n);
	const struct mailbox_status *vs = mailbox_get_view_status(client->box);
	n->known_uidnext = vs->uidnext;
	n->known_modseq = vs->highestmodseq;
	/* just opened: no expunge is pending, the view's count is the
	   index's */
	n->seen_uidnext = vs->uidnext;
	n->seen_messages = vs->messages;
}

/* --- hooks --- */

void imap_notify_command_done(struct imap_client *client, const struct imap_cmd *cmd)
{
	struct imap_notify *n = client->notify;
	if (n == NULL || cmd->def == NULL)
		return;
	n->cmd_done = true;
}

/* After a command: the selected mailbox may be another one, the command's
   sync may have shown others' new messages (their FETCH follows) or left
   expunges that "selected" sends at once. */
static void notify_after_command(struct imap_notify *n)
{
	struct imap_client *client = n->client;
	n->cmd_done = false;
	if (client->box != n->box || n->box_io == NULL)
		notify_selected_arm(n);
	if (n->box_io == NULL || client->conn->closed)
		return;
	if (n->box_dirty ||
	    (!n->spec->selected_delayed && mailbox_view_has_pending_expunges(client->box)))
		notify_selected_sync(n);
	else
		notify_fetch_new(n);
}

/* RFC 5465 §5.8: "OK [NOTIFICATIONOVERFLOW]", then as after NOTIFY NONE */
static void notify_overflow_end(struct imap_client *client)
{
	imap_client_send_untagged(client, "OK [NOTIFICATIONOVERFLOW] Too many events "
				  "waited to be sent, NOTIFY is off.");
	imap_notify_none(client);
}

bool imap_notify_output(struct imap_client *client)
{
	struct imap_notify *n = client->notify;
	if (n == NULL || client->conn->closed)
		return true;
	if (n->fetch != NULL && !notify_fetch_more(n))
		return false;
	if (n->check_pending && !n->overflowed)
		notify_check(n);
	if (n->overflowed) {
		notify_overflow_end(client);
		return true;
	}
	if (n->cmd_done && !n->in_idle) {
		notify_after_command(n);
		if (n->fetch != NULL)
			return false;
	} else if (n->box_dirty && n->box_io != NULL) {
		notify_selected_sync(n);
		if (n->fetch != NULL)
			return false;
	}
	if (n->queue.count > 0 && !notify_flush_queue(n))
		return false;
	return !o_stream_is_full(client->conn->output);
}

void imap_notify_unselect(struct imap_client *client)
{
	struct imap_notify *n = client->notify;
	if (n == NULL)
		return;
	notify_fetch_end(n);
	notify_selected_disarm(n);
}

bool imap_notify_idle_begin(struct imap_client *client)
{
	struct imap_notify *n = client->notify;
	if (n == NULL)
		return false;
	n->in_idle = true;
	/* what waited is sent now; then everything as it happens */
	if (n->check_pending && !n->overflowed)
		notify_check(n);
	if (n->overflowed) {
		/* IDLE is plain IDLE again */
		notify_overflow_end(client);
		return false;
	}
	if (n->cmd_done)
		notify_after_command(n);
	else if (n->box_dirty && n->box_io != NULL)
		notify_selected_sync(n);
	if (n->fetch == NULL && n->queue.count > 0)
		(void)notify_flush_queue(n);
	return true;
}

void imap_notify_idle_end(struct imap_client *client)
{
	if (client->notify != NULL)
		client->notify->in_idle = false;
}

bool imap_notify_is_busy(const struct imap_client *client)
{
	return client->notify != NULL && client->notify->fetch != NULL;
}

/* --- setting up --- */

static void notify_free(struct imap_notify **_n)
{
	struct imap_notify *n = *_n;
	*_n = NULL;
	notify_fetch_end(n);
	notify_selected_disarm(n);
	io_remove(&n->user_io);
	timeout_remove(&n->check_to);
	if (n->queue_pool != NULL) {
		array_free(&n->queue);
		pool_destroy(&n->queue_pool);
	}
	pool_destroy(&n->snap_pool);
	pool_destroy(&n->attr_pool);
	pool_destroy(&n->spec->pool);
	free(n);
}

void imap_notify_deinit(struct imap_client *client)
{
	if (client->notify == NULL)
		return;
	notify_free(&client->notify);
	mail_user_notify_deinit(client->mail_user);
	mail_user_track_own_changes(client->mail_user, false);
}

void imap_notify_none(struct imap_client *client)
{
	imap_notify_deinit(client);
}

int imap_notify_set(struct imap_client *client, struct imap_notify_spec *spec)
{
	imap_notify_deinit(client);
	struct imap_notify *n = i_zalloc(sizeof(*n));
	n->client = client;
	n->spec = spec;
	client->notify = n;
	struct mail_user *user = client->mail_user;
	/* §5: own changes are told apart by the modseqs they took */
	mail_user_track_own_changes(user, true);
	if (spec->groups.count > 0 || (spec->selected_events & IMAP_NOTIFY_METADATA_EVENTS) != 0) {
		int fd = mail_user_notify_fd(user);
		if (fd < 0 || notify_read_state(n, &n->snap_pool, &n->snap) < 0 ||
		    imap_notify_read_attributes(n) < 0) {
			imap_notify_deinit(client);
			return -1;
		}
		n->user_io = io_add(fd, IO_READ, notify_user_wake, n);
		n->last_check_ms = ioloop_now_ms();
		imap_notify_watch_dirs(n, &n->snap);
	}
	notify_selected_arm(n);
	return 0;
}

unsigned int imap_notify_supported_events(const struct imap_client *client)
{
	unsigned int events = IMAP_NOTIFY_SUPPORTED_EVENTS;
	if (client->set->imap.metadata &&
	    !imap_capability_is_removed(client->set->imap.capability_remove, "METADATA"))
		events |= IMAP_NOTIFY_METADATA_EVENTS;
	return events;
}
