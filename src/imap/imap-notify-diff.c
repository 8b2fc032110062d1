/* What changed between two snapshots of a user's mailboxes, as RFC 5465
 * events: STATUS for the message events of mailboxes other than the
 * selected one (§5.1-5.3), LIST for mailbox names (§5.4: OLDNAME for a
 * rename, \NonExistent for a deletion) and subscriptions (§5.5), filtered
 * by the session's groups (§6) and leaving out what the session did
 * itself (§5). */
#include "imap-notify-private.h"
#include "imap-commands.h"
#include "imap-storage.h"

#include <stdlib.h>

static bool name_is_under(const char *name, const char *parent)
{
	size_t len = strlen(parent);
	return strncmp(name, parent, len) == 0 && name[len] == MAILBOX_HIERARCHY_SEP;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool name_in_sorted(const char *const *names, unsigned int count, const char *name)
{
	return count > 0 && bsearch(name, names, count, sizeof(*names), name_cmp) != NULL;
}

static bool group_covers(const struct imap_notify_group *g, const char *name,
			 const char *const *subs, unsigned int sub_count)
{
	switch (g->filter) {
	case IMAP_NOTIFY_FILTER_INBOXES:
		/* RFC 5465 §6.3: Sieve may file new mail into any mailbox, so
		   the server can't tell which ones receive mail: "inboxes" is
		   then the same as "personal" */
	case IMAP_NOTIFY_FILTER_PERSONAL:
		return true;
	case IMAP_NOTIFY_FILTER_SUBSCRIBED:
		/* §6.4: the subscriptions as they are now, not when NOTIFY
		   was given */
		return name_in_sorted(subs, sub_count, name);
	case IMAP_NOTIFY_FILTER_SUBTREE:
		for (unsigned int i = 0; i < g->name_count; i++) {
			if (strcmp(name, g->names[i]) == 0 || name_is_under(name, g->names[i]))
				return true;
		}
		return false;
	case IMAP_NOTIFY_FILTER_MAILBOXES:
		/* §6.6: names are not patterns */
		for (unsigned int i = 0; i < g->name_count; i++) {
			if (strcmp(name, g->names[i]) == 0)
				return true;
		}
		return false;
	}
	return false;
}

unsigned int imap_notify_spec_match(const struct imap_notify_spec *spec, const char *name,
				    unsigned int kind, const char *const *subs,
				    unsigned int sub_count)
{
	for (unsigned int i = 0; i < spec->groups.count; i++) {
		const struct imap_notify_group *g = &spec->groups.v[i];
		if (!group_covers(g, name, subs, sub_count))
			continue;
		/* NONE: the client wants nothing from these mailboxes, whatever
		   later groups say */
		if (g->events == 0)
			return 0;
		if ((g->events & kind) != 0)
			return g->events;
	}
	return 0;
}

enum mailbox_status_items imap_notify_status_items(const struct imap_notify *n,
						   unsigned int wanted)
{
	enum mailbox_status_items items = STATUS_MESSAGES | STATUS_UIDNEXT |
		STATUS_UIDVALIDITY | STATUS_UNSEEN;
	/* RFC 5465 §5.1-5.3: HIGHESTMODSEQ once CONDSTORE is on, and always
	   for FlagChange (the server supports CONDSTORE) */
	if (n->client->condstore || (wanted & IMAP_NOTIFY_FLAG_CHANGE) != 0)
		items |= STATUS_HIGHESTMODSEQ;
	return items;
}

/* The events of wanted kinds that the client asked for about name. */
static unsigned int notify_wanted(const struct imap_notify *n, const char *name,
				  unsigned int kinds, const struct mail_user_state *old_state,
				  const struct mail_user_state *new_state, unsigned int *groups_r)
{
	unsigned int wanted = 0, groups = 0;
	for (unsigned int bit = 1; bit <= kinds; bit <<= 1) {
		if ((kinds & bit) == 0)
			continue;
		unsigned int ev = imap_notify_spec_match(n->spec, name, bit, new_state->subscriptions,
							 new_state->subscription_count);
		/* an unsubscribed name was covered by "subscribed" until now */
		if (ev == 0 && old_state != NULL) {
			ev = imap_notify_spec_match(n->spec, name, bit, old_state->subscriptions,
						    old_state->subscription_count);
		}
		if ((ev & bit) != 0) {
			wanted |= bit;
			groups |= ev;
		}
	}
	if (groups_r != NULL)
		*groups_r = groups;
	return wanted;
}

/* --- message events of other mailboxes --- */

/* The mailboxes of a state by id (ids stay through a rename). */
struct state_ids {
	const struct mailbox_state **v;
	unsigned int count;
};

static int state_id_cmp(const void *p1, const void *p2)
{
	const struct mailbox_state *const *m1 = p1, *const *m2 = p2;
	return (*m1)->id < (*m2)->id ? -1 : ((*m1)->id > (*m2)->id ? 1 : 0);
}

static void state_ids_init(struct state_ids *ids, const struct mail_user_state *state)
{
	ids->count = state->mailbox_count;
	ids->v = t_new(const struct mailbox_state *, ids->count + 1);
	for (unsigned int i = 0; i < ids->count; i++)
		ids->v[i] = &state->mailboxes[i];
	qsort(ids->v, ids->count, sizeof(ids->v[0]), state_id_cmp);
}

static const struct mailbox_state *state_ids_find(const struct state_ids *ids, int64_t id)
{
	unsigned int lo = 0, hi = ids->count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (ids->v[mid]->id == id)
			return ids->v[mid];
		if (ids->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static unsigned int mailbox_changes(const struct mailbox_state *o, const struct mailbox_state *m)
{
	if (o == NULL || !o->selectable) {
		/* a new mailbox: only messages moved in with it (RENAME INBOX)
		   are news beyond its name */
		return m->messages > 0 ? IMAP_NOTIFY_MESSAGE_NEW : 0;
	}
	if (o->uidvalidity != m->uidvalidity) {
		/* recreated: everything the client knew is gone (§5.1) */
		return IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE |
			IMAP_NOTIFY_FLAG_CHANGE;
	}
	unsigned int ev = 0;
	if (m->uidnext != o->uidnext)
		ev |= IMAP_NOTIFY_MESSAGE_NEW;
	/* fewer messages than were there plus those added: some went */
	if ((uint64_t)m->messages < (uint64_t)o->messages + (m->uidnext - o->uidnext))
		ev |= IMAP_NOTIFY_MESSAGE_EXPUNGE;
	/* every change takes a modseq; one that added or removed nothing
	   changed flags, and any may have (one modseq per commit) */
	if (m->highestmodseq != o->highestmodseq || m->unseen != o->unseen)
		ev |= IMAP_NOTIFY_FLAG_CHANGE;
	return ev;
}

static void notify_diff_messages(struct imap_notify *n, const struct mail_user_state *old_state,
				 const struct mail_user_state *new_state,
				 const struct state_ids *old_ids)
{
	struct mail_user *user = n->client->mail_user;
	int64_t selected = imap_notify_selected_id(n);
	for (unsigned int i = 0; i < new_state->mailbox_count; i++) {
		const struct mailbox_state *m = &new_state->mailboxes[i];
		/* the selected mailbox's events come through its view */
		if (!m->selectable || m->id == selected)
			continue;
		const struct mailbox_state *o = state_ids_find(old_ids, m->id);
		if (o != NULL && o->selectable && o->uidvalidity == m->uidvalidity &&
		    o->highestmodseq == m->highestmodseq && o->uidnext == m->uidnext &&
		    o->messages == m->messages && o->unseen == m->unseen)
			continue;
		/* RFC 5465 §5: not the changes this session made itself */
		if (o != NULL && o->selectable && o->uidvalidity == m->uidvalidity &&
		    mail_user_changes_are_own(user, m->id, o->highestmodseq, m->highestmodseq))
			continue;
		unsigned int changes = mailbox_changes(o, m), groups;
		if (changes == 0 ||
		    notify_wanted(n, m->name, changes, old_state, new_state, &groups) == 0)
			continue;
		imap_notify_queue_status(n, m->name, imap_notify_status_items(n, groups));
	}
}

/* --- LIST for names and subscriptions --- */

static int state_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mailbox_state *)elem)->name);
}

static const struct mailbox_state *state_find(const struct mail_user_state *state,
					      const char *name)
{
	if (state->mailbox_count == 0)
		return NULL;
	return bsearch(name, state->mailboxes, state->mailbox_count,
		       sizeof(state->mailboxes[0]), state_name_cmp);
}

/* Children sort right after "name/" ('/' is below every other character a
   name level may hold but ' '-'.', which sort before it either way). */
static bool state_has_children(const struct mail_user_state *state, const char *name)
{
	const char *prefix = t_strdup_printf("%s/", name);
	unsigned int lo = 0, hi = state->mailbox_count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (strcmp(state->mailboxes[mid].name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < state->mailbox_count && name_is_under(state->mailboxes[lo].name, name);
}

/* RFC 5465 §5.4, §5.5: the name's attributes after the change, computed
   as LIST would. */
static void notify_list_attrs(string_t *str, const struct mail_user_state *state,
			      const char *name)
{
	size_t start = str_len(str);
#define ATTR(a) do { if (str_len(str) > start) str_append_c(str, ' '); str_append(str, a); } while (0)
	const struct mailbox_state *m = state_find(state, name);
	if (m == NULL) {
		ATTR("\\NonExistent");
	} else {
		if (!m->selectable)
			ATTR("\\Noselect");
		ATTR(state_has_children(state, name) ? "\\HasChildren" : "\\HasNoChildren");
	}
	if (name_in_sorted(state->subscriptions, state->subscription_count, name))
		ATTR("\\Subscribed");
	for (unsigned int i = 0; m != NULL && imap_special_use_names[i] != NULL; i++) {
		if ((m->special_use & (1u << i)) != 0)
			ATTR(imap_special_use_names[i]);
	}
#undef ATTR
}

static void notify_queue_list(struct imap_notify *n, const struct mail_user_state *state,
			      const char *name, const char *old_name)
{
	string_t *str = t_str_new(128);
	str_append(str, "LIST (");
	notify_list_attrs(str, state, name);
	str_append(str, ") \"/\" ");
	imap_append_mailbox_name(n->client, str, name);
	if (old_name != NULL) {
		str_append(str, " (\"OLDNAME\" (");
		imap_append_mailbox_name(n->client, str, old_name);
		str_append(str, "))");
	}
	imap_notify_queue_line(n, str_c(str));
}

static void notify_diff_names(struct imap_notify *n, const struct mail_user_state *old_state,
			      const struct mail_user_state *new_state,
			      const struct state_ids *old_ids, array_str_t *renamed)
{
	struct state_ids new_ids;
	state_ids_init(&new_ids, new_state);
	const unsigned int kind = IMAP_NOTIFY_MAILBOX_NAME;
	for (unsigned int i = 0; i < new_state->mailbox_count; i++) {
		const struct mailbox_state *m = &new_state->mailboxes[i];
		const struct mailbox_state *o = state_ids_find(old_ids, m->id);
		if (o != NULL && strcmp(o->name, m->name) != 0) {
			if (notify_wanted(n, m->name, kind, old_state, new_state, NULL) == 0 &&
			    notify_wanted(n, o->name, kind, old_state, new_state, NULL) == 0)
				continue;
			notify_queue_list(n, new_state, m->name, o->name);
			array_push(renamed, o->name);
			array_push(renamed, m->name);
		} else if ((o == NULL || o->selectable != m->selectable) &&
			   notify_wanted(n, m->name, kind, old_state, new_state, NULL) != 0) {
			/* created, or deleted with its children kept (\Noselect),
			   or created over such a parent */
			notify_queue_list(n, new_state, m->name, NULL);
		}
	}
	for (unsigned int i = 0; i < old_state->mailbox_count; i++) {
		const struct mailbox_state *o = &old_state->mailboxes[i];
		if (state_ids_find(&new_ids, o->id) == NULL &&
		    notify_wanted(n, o->name, kind, old_state, new_state, NULL) != 0)
			notify_queue_list(n, new_state, o->name, NULL);
	}
}

static bool name_in_array(const array_str_t *names, const char *name)
{
	for (unsigned int i = 0; i < names->count; i++) {
		if (strcmp(names->v[i], name) == 0)
			return true;
	}
	return false;
}

static void notify_diff_subscriptions(struct imap_notify *n,
				      const struct mail_user_state *old_state,
				      const struct mail_user_state *new_state,
				      const array_str_t *renamed)
{
	const char *const *a = old_state->subscriptions, *const *b = new_state->subscriptions;
	unsigned int ai = 0, bi = 0;
	while (ai < old_state->subscription_count || bi < new_state->subscription_count) {
		int cmp = ai == old_state->subscription_count ? 1 :
			bi == new_state->subscription_count ? -1 : strcmp(a[ai], b[bi]);
		if (cmp == 0) {
			ai++;
			bi++;
			continue;
		}
		const char *name = cmp < 0 ? a[ai++] : b[bi++];
		/* a rename's LIST with OLDNAME says it already */
		if (name_in_array(renamed, name))
			continue;
		if (notify_wanted(n, name, IMAP_NOTIFY_SUBSCRIPTION_CHANGE, old_state,
				  new_state, NULL) != 0)
			notify_queue_list(n, new_state, name, NULL);
	}
}

static bool spec_wants(const struct imap_notify_spec *spec, unsigned int kinds)
{
	for (unsigned int i = 0; i < spec->groups.count; i++) {
		if ((spec->groups.v[i].events & kinds) != 0)
			return true;
	}
	return false;
}

/* --- METADATA entries (RFC 5465 §5.6, §5.7) --- */

int imap_notify_read_attributes(struct imap_notify *n)
{
	if (!spec_wants(n->spec, IMAP_NOTIFY_METADATA_EVENTS) &&
	    (n->spec->selected_events & IMAP_NOTIFY_METADATA_EVENTS) == 0)
		return 0;
	pool_t pool = pool_create("notify attributes", 1024);
	const struct mail_attribute_digest *attrs;
	unsigned int count;
	if (mail_attribute_digest(n->client->mail_user, pool, &attrs, &count) < 0) {
		pool_destroy(&pool);
		return -1;
	}
	pool_destroy(&n->attr_pool);
	n->attr_pool = pool;
	n->attrs = attrs;
	n->attr_count = count;
	return 0;
}

static int attr_digest_cmp(const struct mail_attribute_digest *a,
			   const struct mail_attribute_digest *b)
{
	if (a->mailbox_id != b->mailbox_id)
		return a->mailbox_id < b->mailbox_id ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* Whether the session wants to hear of entry changes of the mailbox
   (0: the server's entries). */
static bool notify_attr_wanted(struct imap_notify *n, const struct mail_user_state *state,
			       const struct state_ids *ids, int64_t mailbox_id,
			       const char **name_r)
{
	const struct imap_notify_spec *spec = n->spec;
	if (mailbox_id == 0) {
		*name_r = "";
		return spec_wants(spec, IMAP_NOTIFY_SERVER_METADATA_CHANGE) ||
			(spec->selected_events & IMAP_NOTIFY_SERVER_METADATA_CHANGE) != 0;
	}
	const struct mailbox_state *m = state_ids_find(ids, mailbox_id);
	if (m == NULL)
		return false; /* deleted: MailboxName tells */
	*name_r = m->name;
	if (spec->selected_set && mailbox_id == imap_notify_selected_id(n))
		return (spec->selected_events & IMAP_NOTIFY_MAILBOX_METADATA_CHANGE) != 0;
	return notify_wanted(n, m->name, IMAP_NOTIFY_MAILBOX_METADATA_CHANGE, NULL,
			     state, NULL) != 0;
}

/* Appends the changed entry's name to the mailbox's pending METADATA
   response (RFC 5464 §4.4.2: "METADATA mailbox entry *(SP entry)"),
   queueing the previous mailbox's response when the mailbox changes. */
static void notify_attr_changed(struct imap_notify *n, const struct mail_user_state *state,
				const struct state_ids *ids,
				const struct mail_attribute_digest *d, string_t *line,
				int64_t *line_id)
{
	const char *name;
	if (*line_id != d->mailbox_id && str_len(line) > 0) {
		imap_notify_queue_line(n, str_c(line));
		str_truncate(line, 0);
	}
	if (!notify_attr_wanted(n, state, ids, d->mailbox_id, &name))
		return;
	if (str_len(line) == 0) {
		str_append(line, "METADATA ");
		if (d->mailbox_id == 0)
			str_append(line, "\"\"");
		else
			imap_append_mailbox_name(n->client, line, name);
		*line_id = d->mailbox_id;
	}
	str_printfa(line, " /%s/%s", d->type == MAIL_ATTRIBUTE_SHARED ? "shared" : "private",
		    d->key);
}

static void notify_diff_attributes(struct imap_notify *n, const struct mail_user_state *state)
{
	const struct mail_attribute_digest *old = n->attrs;
	unsigned int old_count = n->attr_count;
	pool_t old_pool = n->attr_pool;
	n->attr_pool = NULL;
	if (imap_notify_read_attributes(n) < 0) {
		n->attr_pool = old_pool;
		return;
	}
	struct state_ids ids;
	state_ids_init(&ids, state);
	/* both lists are sorted: walk them together */
	string_t *line = t_str_new(256);
	int64_t line_id = -1;
	unsigned int i = 0, j = 0;
	while (i < old_count || j < n->attr_count) {
		int cmp = i == old_count ? 1 : j == n->attr_count ? -1 :
			attr_digest_cmp(&old[i], &n->attrs[j]);
		if (cmp < 0)
			notify_attr_changed(n, state, &ids, &old[i++], line, &line_id);
		else if (cmp > 0)
			notify_attr_changed(n, state, &ids, &n->attrs[j++], line, &line_id);
		else {
			if (old[i].value_hash != n->attrs[j].value_hash)
				notify_attr_changed(n, state, &ids, &n->attrs[j], line, &line_id);
			i++;
			j++;
		}
	}
	if (str_len(line) > 0)
		imap_notify_queue_line(n, str_c(line));
	pool_destroy(&old_pool);
}

void imap_notify_diff(struct imap_notify *n, const struct mail_user_state *old_state,
		      const struct mail_user_state *new_state)
{
	struct state_ids old_ids;
	state_ids_init(&old_ids, old_state);
	if (old_state->list_version != new_state->list_version &&
	    !mail_user_list_changes_are_own(n->client->mail_user, old_state->list_version,
					    new_state->list_version)) {
		array_str_t renamed;
		array_init(&renamed, t_pool(), 8);
		if (spec_wants(n->spec, IMAP_NOTIFY_MAILBOX_NAME))
			notify_diff_names(n, old_state, new_state, &old_ids, &renamed);
		if (spec_wants(n->spec, IMAP_NOTIFY_SUBSCRIPTION_CHANGE))
			notify_diff_subscriptions(n, old_state, new_state, &renamed);
	}
	if (spec_wants(n->spec, IMAP_NOTIFY_MESSAGE_EVENTS))
		notify_diff_messages(n, old_state, new_state, &old_ids);
	if (n->attr_pool != NULL && old_state->attribute_version != new_state->attribute_version) {
		if (mail_user_attribute_changes_are_own(n->client->mail_user,
							old_state->attribute_version,
							new_state->attribute_version))
			(void)imap_notify_read_attributes(n);
		else
			notify_diff_attributes(n, new_state);
	}
}

void imap_notify_watch_dirs(struct imap_notify *n, const struct mail_user_state *state)
{
	struct mail_user *user = n->client->mail_user;
	mail_user_notify_unwatch_mailboxes(user);
	unsigned int count = 0;
	for (unsigned int i = 0; i < state->mailbox_count && count < IMAP_NOTIFY_MAX_DIR_WATCHES; i++) {
		const struct mailbox_state *m = &state->mailboxes[i];
		if (!m->selectable ||
		    notify_wanted(n, m->name, IMAP_NOTIFY_MESSAGE_EVENTS, NULL, state, NULL) == 0)
			continue;
		/* other programs deliver into INBOX; for the rest, only the
		   mailboxes the client named are worth a watch each */
		bool named = strcmp(m->name, "INBOX") == 0;
		for (unsigned int g = 0; g < n->spec->groups.count && !named; g++) {
			const struct imap_notify_group *grp = &n->spec->groups.v[g];
			named = (grp->filter == IMAP_NOTIFY_FILTER_MAILBOXES ||
				 grp->filter == IMAP_NOTIFY_FILTER_SUBTREE) &&
				grp->events != 0 && group_covers(grp, m->name, NULL, 0);
		}
		if (named && mail_user_notify_watch_mailbox(user, m->name) == 0)
			count++;
	}
}

void imap_notify_send_status(struct imap_client *client)
{
	struct imap_notify *n = client->notify;
	if (n == NULL || n->snap_pool == NULL)
		return;
	/* RFC 5465 §3.1: for each mailbox other than the selected one whose
	   message events are watched; the items are those of a change */
	int64_t selected = imap_notify_selected_id(n);
	for (unsigned int i = 0; i < n->snap.mailbox_count; i++) {
		const struct mailbox_state *m = &n->snap.mailboxes[i];
		unsigned int groups;
		if (!m->selectable || m->id == selected ||
		    notify_wanted(n, m->name, IMAP_NOTIFY_MESSAGE_EVENTS, NULL, &n->snap,
				  &groups) == 0)
			continue;
		enum mailbox_status_items items = imap_notify_status_items(n, groups);
		struct mailbox_status status;
		/* (a STATUS looks at the disk: other programs' deliveries
		   count) */
		if (mailbox_get_status(client->mail_user, m->name, items, t_pool(), &status) == 0)
			imap_status_send(client, m->name, items, &status);
	}
}
