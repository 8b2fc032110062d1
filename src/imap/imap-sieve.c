/* Sieve on IMAP events (RFC 6785), the IMAP side: which commands are
 * events and what they pass on. APPEND (§2.2.1, each message of a
 * MULTIAPPEND separately), COPY and MOVE (§2.2.2, cause COPY) and flag
 * changes by STORE or by a FETCH that sets \Seen (§2.2.3, cause FLAG,
 * with the flags that changed per message) run the scripts through
 * src/delivery before the tagged reply. Changes the scripts make are not
 * events themselves (§6). */
#include "imap-sieve.h"
#include "deliver-imapsieve.h"

#include <strings.h>

struct imap_sieve_flag_state {
	uint32_t uid;
	uint32_t flags;
	const char *const *keywords;
};

struct imap_sieve_flags {
	ARRAY(struct imap_sieve_flag_state) before;
	const uint32_t *seqs;
	unsigned int count;
};

const char *imap_sieve_capability(const struct imap_client *client)
{
	return deliver_imapsieve_capability(client->set);
}

static void imap_sieve_session(struct imap_client *client, struct deliver_imapsieve_session *s_r)
{
	/* the mail home, as the session's storage found it */
	*s_r = (struct deliver_imapsieve_session){
		.set = client->set, .log = &client->conn->log, .user = client->mail_user,
		.username = client->user,
		.home = config_mail_home(client->set, client->user, client->home),
	};
}

void imap_sieve_appended(struct imap_client *client, const char *mailbox,
			 const uint32_t *uids, unsigned int count)
{
	struct deliver_imapsieve_session s;
	imap_sieve_session(client, &s);
	const struct deliver_imapsieve_event ev = {
		.cause = DELIVER_IMAPSIEVE_APPEND, .mailbox = mailbox, .uids = uids, .count = count,
	};
	deliver_imapsieve_run(&s, &ev);
}

void imap_sieve_copied(struct imap_client *client, const char *dest,
		       const struct mail_copy_result *res)
{
	struct deliver_imapsieve_session s;
	imap_sieve_session(client, &s);
	const struct deliver_imapsieve_event ev = {
		.cause = DELIVER_IMAPSIEVE_COPY, .mailbox = dest,
		.src_mailbox = client->box == NULL ? NULL : mailbox_get_name(client->box),
		.uids = res->dest_uids.v, .count = res->dest_uids.count,
	};
	deliver_imapsieve_run(&s, &ev);
}

static int imap_sieve_flags_collect(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct imap_sieve_flags *f = context;
	struct imap_sieve_flag_state *st = array_append_space(&f->before);
	pool_t pool = f->before.pool;
	unsigned int n = 0;
	st->uid = rec->uid;
	st->flags = rec->flags & MAIL_FLAGS_MASK;
	/* the record's memory lasts for the callback only */
	while (rec->keywords != NULL && rec->keywords[n] != NULL)
		n++;
	const char **keywords = p_new(pool, const char *, n + 1);
	for (unsigned int i = 0; i < n; i++)
		keywords[i] = p_strdup(pool, rec->keywords[i]);
	st->keywords = keywords;
	return 0;
}

struct imap_sieve_flags *imap_sieve_flags_before(struct imap_cmd *cmd, const uint32_t *seqs,
						 unsigned int count)
{
	struct imap_client *client = cmd->client;
	struct deliver_imapsieve_session s;
	if (client->box == NULL || count == 0)
		return NULL;
	imap_sieve_session(client, &s);
	if (deliver_imapsieve_wanted(&s, DELIVER_IMAPSIEVE_FLAG, mailbox_get_name(client->box),
				     NULL) <= 0)
		return NULL;
	struct imap_sieve_flags *f = p_new(cmd->pool, struct imap_sieve_flags, 1);
	array_init(&f->before, cmd->pool, count);
	if (mailbox_foreach_record_flags(client->box, seqs, count, imap_sieve_flags_collect, f) < 0)
		return NULL;
	f->seqs = p_memdup(cmd->pool, seqs, sizeof(*seqs) * count);
	f->count = count;
	return f;
}

static bool imap_sieve_keyword_in(const char *keyword, const char *const *list)
{
	for (unsigned int i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcasecmp(list[i], keyword) == 0)
			return true;
	}
	return false;
}

/* RFC 6785 §4.5: the names of the flags that differ, space separated. */
static const char *imap_sieve_changed_names(const struct imap_sieve_flag_state *before,
					    const struct mail_record *after)
{
	static const struct { uint32_t flag; const char *name; } names[] = {
		{ MAIL_ANSWERED, "\\Answered" }, { MAIL_FLAGGED, "\\Flagged" },
		{ MAIL_DELETED, "\\Deleted" }, { MAIL_SEEN, "\\Seen" },
		{ MAIL_DRAFT, "\\Draft" },
	};
	string_t *str = t_str_new(64);
	uint32_t diff = before->flags ^ (after->flags & MAIL_FLAGS_MASK);
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if ((diff & names[i].flag) != 0)
			str_printfa(str, "%s%s", str_len(str) > 0 ? " " : "", names[i].name);
	}
	for (unsigned int i = 0; before->keywords[i] != NULL; i++) {
		if (!imap_sieve_keyword_in(before->keywords[i], after->keywords))
			str_printfa(str, "%s%s", str_len(str) > 0 ? " " : "", before->keywords[i]);
	}
	for (unsigned int i = 0; after->keywords != NULL && after->keywords[i] != NULL; i++) {
		if (!imap_sieve_keyword_in(after->keywords[i], before->keywords))
			str_printfa(str, "%s%s", str_len(str) > 0 ? " " : "", after->keywords[i]);
	}
	return str_c(str);
}

struct imap_sieve_flags_diff {
	struct imap_sieve_flags *f;
	unsigned int pos;
	pool_t pool;
	array_uint32_t uids;
	array_str_t changed;
};

static int imap_sieve_flags_compare(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct imap_sieve_flags_diff *d = context;
	const struct imap_sieve_flags *f = d->f;
	/* both walks are in sequence (so UID) order */
	while (d->pos < f->before.count && f->before.v[d->pos].uid < rec->uid)
		d->pos++;
	if (d->pos == f->before.count || f->before.v[d->pos].uid != rec->uid)
		return 0;
	const char *changed = imap_sieve_changed_names(&f->before.v[d->pos], rec);
	if (changed[0] != '\0') {
		array_push(&d->uids, rec->uid);
		array_push(&d->changed, p_strdup(d->pool, changed));
	}
	return 0;
}

void imap_sieve_flags_after(struct imap_cmd *cmd, struct imap_sieve_flags **_f)
{
	struct imap_sieve_flags *f = *_f;
	struct imap_client *client = cmd->client;
	if (f == NULL)
		return;
	*_f = NULL;
	struct imap_sieve_flags_diff d = { .f = f, .pool = cmd->pool };
	array_init(&d.uids, cmd->pool, f->count);
	array_init(&d.changed, cmd->pool, f->count);
	if (client->box == NULL ||
	    mailbox_foreach_record_flags(client->box, f->seqs, f->count, imap_sieve_flags_compare,
					 &d) < 0 || d.uids.count == 0)
		return;
	struct deliver_imapsieve_session s;
	imap_sieve_session(client, &s);
	const struct deliver_imapsieve_event ev = {
		.cause = DELIVER_IMAPSIEVE_FLAG, .mailbox = mailbox_get_name(client->box),
		.uids = d.uids.v, .count = d.uids.count, .changed_flags = d.changed.v,
	};
	deliver_imapsieve_run(&s, &ev);
}
