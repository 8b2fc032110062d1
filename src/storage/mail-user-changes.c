/* What NOTIFY (RFC 5465) compares between wake-ups: the state of all of a
 * user's mailboxes read in one index snapshot, the mailbox list's version,
 * and which changes the user made itself (RFC 5465 §5: "The server SHOULD
 * omit notifying the client if the event is caused by this client").
 *
 * Message changes are told apart by modseq: every commit that changes a
 * mailbox takes exactly one new modseq of it, so the changes between two
 * state reads are the modseqs between the two HIGHESTMODSEQs, and they are
 * all the session's own exactly when it noted each of them. Mailbox list
 * changes have no modseq; the index keeps a per-user list version instead
 * (the "list_version" counter), raised inside each transaction that
 * creates, deletes or renames a mailbox or changes a subscription. */
#include "mail-storage-private.h"

#define MAIL_USER_LIST_VERSION_KEY "list_version"
/* raised by every commit that changes a METADATA entry (RFC 5464) */
#define MAIL_USER_ATTRIBUTE_VERSION_KEY "attribute_version"
/* the own-change ring's "mailbox id" of attribute versions (0 is the list) */
#define MAIL_OWN_ATTRIBUTES (-1)
/* a write transaction changes at most a source and a destination mailbox
   and the list; more pending notes are dropped (counted as not own) */
#define MAIL_USER_OWN_PENDING_MAX 8

struct mail_own_change {
	int64_t mailbox_id; /* 0: a list version */
	uint64_t modseq;
};

struct mail_own_changes {
	struct mail_own_change ring[MAIL_USER_OWN_CHANGES_MAX];
	unsigned int count, next;
	struct mail_own_change pending[MAIL_USER_OWN_PENDING_MAX];
	unsigned int pending_count;
};

void mail_user_track_own_changes(struct mail_user *user, bool track)
{
	if (!track) {
		mail_user_own_changes_free(user);
		return;
	}
	if (user->own == NULL)
		user->own = i_new(struct mail_own_changes, 1);
}

void mail_user_own_changes_free(struct mail_user *user)
{
	i_free(user->own);
}

void mail_user_own_change(struct mail_user *user, int64_t mailbox_id, uint64_t modseq)
{
	struct mail_own_changes *own = user->own;
	if (own == NULL || own->pending_count == MAIL_USER_OWN_PENDING_MAX)
		return;
	own->pending[own->pending_count++] = (struct mail_own_change){ mailbox_id, modseq };
}

void mail_user_own_index_change(struct mail_user *user, const struct index_change *ch)
{
	/* a change context that changed nothing takes no modseq */
	if (user->own != NULL && index_change_has_changes(ch)) {
		mail_user_own_change(user, index_change_get_mailbox(ch)->id,
				     index_change_get_modseq(ch));
	}
}

void mail_user_own_changes_committed(struct mail_user *user, bool committed)
{
	struct mail_own_changes *own = user->own;
	if (own == NULL)
		return;
	for (unsigned int i = 0; committed && i < own->pending_count; i++) {
		own->ring[own->next] = own->pending[i];
		own->next = (own->next + 1) % MAIL_USER_OWN_CHANGES_MAX;
		if (own->count < MAIL_USER_OWN_CHANGES_MAX)
			own->count++;
	}
	own->pending_count = 0;
}

static bool own_has(const struct mail_own_changes *own, int64_t mailbox_id, uint64_t modseq)
{
	for (unsigned int i = 0; i < own->count; i++) {
		if (own->ring[i].mailbox_id == mailbox_id && own->ring[i].modseq == modseq)
			return true;
	}
	return false;
}

static bool own_range(const struct mail_own_changes *own, int64_t mailbox_id,
		      uint64_t from, uint64_t to)
{
	/* a range longer than the ring can't be all noted */
	if (own == NULL || to <= from || to - from > own->count)
		return false;
	for (uint64_t m = from + 1; m <= to; m++) {
		if (!own_has(own, mailbox_id, m))
			return false;
	}
	return true;
}

bool mail_user_changes_are_own(struct mail_user *user, int64_t mailbox_id,
			       uint64_t from_modseq, uint64_t to_modseq)
{
	return mailbox_id != 0 && own_range(user->own, mailbox_id, from_modseq, to_modseq);
}

bool mail_user_list_changes_are_own(struct mail_user *user, uint64_t from_version,
				    uint64_t to_version)
{
	return own_range(user->own, 0, from_version, to_version);
}

bool mail_user_attribute_changes_are_own(struct mail_user *user, uint64_t from_version,
					 uint64_t to_version)
{
	return own_range(user->own, MAIL_OWN_ATTRIBUTES, from_version, to_version);
}

int mail_user_attributes_changed_locked(struct mail_user *user)
{
	uint64_t version;
	if (index_db_counter_bump(user->db, MAIL_USER_ATTRIBUTE_VERSION_KEY, &version) < 0)
		return mail_user_set_index_error(user, "raise attribute version");
	mail_user_own_change(user, MAIL_OWN_ATTRIBUTES, version);
	return 0;
}

int mail_user_list_changed_locked(struct mail_user *user)
{
	uint64_t version;
	if (index_db_counter_bump(user->db, MAIL_USER_LIST_VERSION_KEY, &version) < 0)
		return mail_user_set_index_error(user, "raise list version");
	mail_user_own_change(user, 0, version);
	return 0;
}

/* --- the state --- */

static int mail_user_state_read(struct mail_user *user, pool_t pool,
				struct mail_user_state *state_r)
{
	struct index_mailbox *list;
	unsigned int count;
	array_str_t subs;
	array_init(&subs, pool, 16);
	if (index_db_counter_get(user->db, MAIL_USER_LIST_VERSION_KEY, &state_r->list_version) < 0 ||
	    index_db_counter_get(user->db, MAIL_USER_ATTRIBUTE_VERSION_KEY,
				 &state_r->attribute_version) < 0 ||
	    index_mailbox_list(user->db, pool, &list, &count) < 0 ||
	    index_subscriptions_list(user->db, pool, &subs) < 0)
		return -1;
	struct mailbox_state *boxes = p_new(pool, struct mailbox_state, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		boxes[i] = (struct mailbox_state){
			.id = list[i].id,
			.name = list[i].name,
			.selectable = list[i].selectable,
			.uidvalidity = list[i].uidvalidity,
			.uidnext = list[i].uidnext,
			.messages = list[i].messages,
			.unseen = list[i].unseen,
			.highestmodseq = list[i].highestmodseq,
			.special_use = list[i].special_use,
		};
	}
	state_r->mailboxes = boxes;
	state_r->mailbox_count = count;
	state_r->subscriptions = subs.v;
	state_r->subscription_count = subs.count;
	return 0;
}

int mail_user_get_state(struct mail_user *user, pool_t pool, struct mail_user_state *state_r)
{
	mail_user_clear_error(user);
	memset(state_r, 0, sizeof(*state_r));
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "read state");
	int ret = mail_user_state_read(user, pool, state_r);
	index_db_rollback(user->db);
	if (ret < 0)
		return mail_user_set_index_error(user, "read state");
	return 0;
}
