/* Mailbox names and management: validation, LIST entries, CREATE, DELETE,
 * RENAME, (UN)SUBSCRIBE and STATUS (RFC 9051 §6.3.4-6.3.11). The index is
 * authoritative; the driver only creates, removes and renames locations. */
#include "mail-storage-private.h"

#include <strings.h>

const char *mailbox_name_canonical(const char *name)
{
	if (strncasecmp(name, "INBOX", 5) != 0 || (name[5] != '\0' && name[5] != '/'))
		return name;
	if (strncmp(name, "INBOX", 5) == 0)
		return name;
	return t_strdup_printf("INBOX%s", name + 5);
}

/* Length of the UTF-8 sequence at p, 0 if invalid (overlong, surrogate,
   above U+10FFFF, truncated). */
static unsigned int utf8_seq_len(const unsigned char *p)
{
	unsigned int len;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (unsigned int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool mailbox_name_is_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > MAILBOX_NAME_MAX_LENGTH)
		return false;
	unsigned int levels = 1;
	const unsigned char *level = (const unsigned char *)name;
	for (const unsigned char *p = level;; ) {
		if (*p == MAILBOX_HIERARCHY_SEP || *p == '\0') {
			size_t level_len = (size_t)(p - level);
			/* empty levels: leading, doubled or trailing separators */
			if (level_len == 0 ||
			    (level_len == 1 && level[0] == '.') ||
			    (level_len == 2 && level[0] == '.' && level[1] == '.'))
				return false;
			if (*p == '\0')
				break;
			if (++levels > MAILBOX_MAX_LEVELS)
				return false;
			level = ++p;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			return false;
		unsigned int n = utf8_seq_len(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

static int mailbox_name_check(struct mail_user *user, const char *name, bool creating)
{
	if (!mailbox_name_is_valid(name))
		return mail_user_set_error(user, MAIL_ERROR_PARAMS, "Invalid mailbox name.");
	/* LIST wildcards in a name make the name unlistable by pattern */
	if (creating && strpbrk(name, "*%") != NULL) {
		return mail_user_set_error(user, MAIL_ERROR_PARAMS,
					   "Mailbox name can't contain * or %.");
	}
	return 0;
}

static bool name_is_under(const char *name, const char *parent)
{
	size_t len = strlen(parent);
	return strncmp(name, parent, len) == 0 && name[len] == MAILBOX_HIERARCHY_SEP;
}

static int mailbox_has_children(struct mail_user *user, const char *name, bool *children_r)
{
	struct index_mailbox *list;
	unsigned int count;
	if (index_mailbox_list(user->db, t_pool(), &list, &count) < 0)
		return mail_user_set_index_error(user, "list mailboxes");
	*children_r = false;
	for (unsigned int i = 0; i < count && !*children_r; i++)
		*children_r = name_is_under(list[i].name, name);
	return 0;
}

/* --- create --- */

static int mailbox_dir_in_use(struct mail_user *user, const char *dir, bool *in_use_r)
{
	struct index_mailbox *list;
	unsigned int count;
	if (index_mailbox_list(user->db, t_pool(), &list, &count) < 0)
		return mail_user_set_index_error(user, "list mailboxes");
	*in_use_r = false;
	for (unsigned int i = 0; i < count; i++) {
		if (list[i].dir == NULL || strcmp(list[i].dir, dir) != 0)
			continue;
		/* a renamed mailbox whose location wasn't moved yet */
		if (mailbox_fix_dir_locked(user, &list[i]) < 0)
			return -1;
		struct index_mailbox mb;
		if (index_mailbox_get(user->db, list[i].id, t_pool(), &mb) < 0)
			return mail_user_set_index_error(user, "read mailbox");
		*in_use_r = mb.dir != NULL && strcmp(mb.dir, dir) == 0;
	}
	return 0;
}

int mailbox_fix_dir_locked(struct mail_user *user, const struct index_mailbox *mb)
{
	if (!mb->selectable || mb->dir == NULL)
		return 0;
	const char *want = user->v->mailbox_dir_name(user, mb->name);
	if (strcmp(want, mb->dir) == 0)
		return 0;
	bool have_old = user->v->mailbox_dir_exists(user, mb->dir);
	if (user->v->mailbox_dir_exists(user, want)) {
		/* a crash after moving the location but before recording it */
		if (have_old)
			return 0;
	} else if (have_old) {
		if (user->v->mailbox_dir_rename(user, mb->dir, want) < 0)
			return -1;
	} else {
		return 0;
	}
	if (index_mailbox_set_dir(user->db, mb->id, want) < 0)
		return mail_user_set_index_error(user, "set mailbox location");
	return 0;
}

/* Creates a selectable mailbox (or turns a \Noselect parent into one). */
static int mailbox_create_one(struct mail_user *user, const char *name,
			      enum mailbox_special_use special_use,
			      const struct index_mailbox *existing)
{
	const char *dir = user->v->mailbox_dir_name(user, name);
	bool in_use = false;
	if (mailbox_dir_in_use(user, dir, &in_use) < 0)
		return -1;
	if (in_use) {
		return mail_user_set_internal_error(user, "create_mailbox", t_strdup_printf(
			"location %s of new mailbox %s is used by another mailbox", dir, name));
	}
	int created = user->v->mailbox_dir_create(user, dir);
	if (created < 0)
		return -1;
	int64_t id;
	if (existing != NULL) {
		id = existing->id;
		if (index_mailbox_reset(user->db, id, dir) < 0 ||
		    (special_use != 0 &&
		     index_mailbox_set_special_use(user->db, id, special_use) < 0))
			return mail_user_set_index_error(user, "create mailbox");
	} else if (index_mailbox_create(user->db, name, dir, special_use, &id) < 0) {
		return mail_user_set_index_error(user, "create mailbox");
	}
	/* a new, empty location matches the index; one that existed (a
	   Maildir from before) is scanned when the mailbox is opened */
	int64_t stamp = created > 0 ? user->v->disk_stamp(user, dir) : 0;
	if (stamp != 0 && index_mailbox_set_disk_stamp(user->db, id, stamp) < 0)
		return mail_user_set_index_error(user, "create mailbox");
	return 0;
}

/* RFC 9051 §6.3.4: superior names that don't exist are created. */
static int mailbox_create_parents_locked(struct mail_user *user, const char *name)
{
	for (const char *p = strchr(name, MAILBOX_HIERARCHY_SEP); p != NULL;
	     p = strchr(p + 1, MAILBOX_HIERARCHY_SEP)) {
		const char *parent = t_strndup(name, (size_t)(p - name));
		struct index_mailbox mb;
		int ret = index_mailbox_lookup(user->db, parent, t_pool(), &mb);
		if (ret < 0)
			return mail_user_set_index_error(user, "look up mailbox");
		if (ret == 0 && mailbox_create_one(user, parent, 0, NULL) < 0)
			return -1;
	}
	return 0;
}

static int mailbox_check_count(struct mail_user *user)
{
	struct index_mailbox *list;
	unsigned int count;
	if (index_mailbox_list(user->db, t_pool(), &list, &count) < 0)
		return mail_user_set_index_error(user, "list mailboxes");
	if (count >= MAIL_USER_MAILBOXES_MAX)
		return mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many mailboxes.");
	return 0;
}

int mailbox_create_locked(struct mail_user *user, const char *name,
			  enum mailbox_special_use special_use)
{
	if (mailbox_check_count(user) < 0 || mailbox_create_parents_locked(user, name) < 0)
		return -1;
	struct index_mailbox mb;
	int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret > 0 && mb.selectable)
		return mail_user_set_error(user, MAIL_ERROR_EXISTS, "Mailbox already exists.");
	return mailbox_create_one(user, name, special_use, ret > 0 ? &mb : NULL);
}

int mailbox_create(struct mail_user *user, const char *name,
		   enum mailbox_special_use special_use)
{
	mail_user_clear_error(user);
	/* RFC 9051 §6.3.4: a trailing separator only declares the intent to
	   create children */
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == MAILBOX_HIERARCHY_SEP)
		name = t_strndup(name, len - 1);
	if (mailbox_name_check(user, name, true) < 0)
		return -1;
	name = mailbox_name_canonical(name);
	if (strcmp(name, "INBOX") == 0)
		return mail_user_set_error(user, MAIL_ERROR_EXISTS, "Mailbox already exists.");
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (mailbox_create_locked(user, name, special_use) < 0 ||
	    mail_user_list_changed_locked(user) < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	mail_user_notify_changed(user);
	return 0;
}

/* --- delete --- */

/* Removes \Noselect parents of name that no longer have children. */
static int mailbox_remove_empty_parents(struct mail_user *user, const char *name)
{
	const char *p;
	while ((p = strrchr(name, MAILBOX_HIERARCHY_SEP)) != NULL) {
		name = t_strndup(name, (size_t)(p - name));
		struct index_mailbox mb;
		bool children = false;
		int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
		if (ret < 0)
			return mail_user_set_index_error(user, "look up mailbox");
		if (ret == 0 || mb.selectable)
			return 0;
		if (mailbox_has_children(user, name, &children) < 0)
			return -1;
		if (children)
			return 0;
		if (index_mailbox_remove(user->db, mb.id) < 0)
			return mail_user_set_index_error(user, "remove mailbox");
	}
	return 0;
}

static int mailbox_delete_locked(struct mail_user *user, const char *name)
{
	struct index_mailbox mb;
	/* set by mailbox_has_children(); initialised for GCC -O3's flow analysis */
	bool children = false;
	int ret = index_mailbox_lookup(user->db, name, t_pool(), &mb);
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret == 0)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	if (mailbox_has_children(user, name, &children) < 0)
		return -1;
	if (!mb.selectable && children) {
		/* RFC 9051 §6.3.5 */
		return mail_user_set_error(user, MAIL_ERROR_CANNOT,
					   "Mailbox has children, delete them first.");
	}
	if (mb.selectable && user->v->mailbox_dir_delete(user, mb.dir) < 0)
		return -1;
	if (children)
		ret = index_mailbox_reset(user->db, mb.id, NULL);
	else
		ret = index_mailbox_remove(user->db, mb.id);
	if (ret < 0)
		return mail_user_set_index_error(user, "delete mailbox");
	return mailbox_remove_empty_parents(user, name);
}

int mailbox_delete(struct mail_user *user, const char *name)
{
	mail_user_clear_error(user);
	if (mailbox_name_check(user, name, false) < 0)
		return -1;
	name = mailbox_name_canonical(name);
	if (strcmp(name, "INBOX") == 0)
		return mail_user_set_error(user, MAIL_ERROR_CANNOT, "INBOX can't be deleted.");
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (mailbox_delete_locked(user, name) < 0 || mail_user_list_changed_locked(user) < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	mail_user_notify_changed(user);
	return 0;
}

/* --- rename --- */

static int mailbox_rename_subscriptions(struct mail_user *user, const char *old_name,
					const char *new_name)
{
	array_str_t subs;
	array_init(&subs, t_pool(), 16);
	if (index_subscriptions_list(user->db, t_pool(), &subs) < 0)
		return mail_user_set_index_error(user, "list subscriptions");
	size_t old_len = strlen(old_name);
	for (unsigned int i = 0; i < subs.count; i++) {
		const char *sub = subs.v[i];
		if (strcmp(sub, old_name) != 0 && !name_is_under(sub, old_name))
			continue;
		const char *renamed = t_strdup_printf("%s%s", new_name, sub + old_len);
		if (index_subscription_set(user->db, sub, false) < 0 ||
		    index_subscription_set(user->db, renamed, true) < 0)
			return mail_user_set_index_error(user, "rename subscription");
	}
	return 0;
}

/* Renames old_name and its children in the index; renamed gets their new
   names (their locations follow after the commit). */
static int mailbox_rename_locked(struct mail_user *user, const char *old_name,
				 const char *new_name, array_str_t *renamed)
{
	struct index_mailbox *list, mb;
	unsigned int count;
	int ret = index_mailbox_lookup(user->db, old_name, t_pool(), &mb);
	if (ret < 0 || index_mailbox_list(user->db, t_pool(), &list, &count) < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	if (ret == 0)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	size_t old_len = strlen(old_name);
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(list[i].name, old_name) != 0 && !name_is_under(list[i].name, old_name))
			continue;
		const char *target = t_strdup_printf("%s%s", new_name, list[i].name + old_len);
		if (strlen(target) > MAILBOX_NAME_MAX_LENGTH || !mailbox_name_is_valid(target))
			return mail_user_set_error(user, MAIL_ERROR_PARAMS, "New name is too long.");
		if ((ret = index_mailbox_lookup(user->db, target, t_pool(), &mb)) != 0) {
			if (ret < 0)
				return mail_user_set_index_error(user, "look up mailbox");
			return mail_user_set_error(user, MAIL_ERROR_EXISTS,
						   "Target mailbox already exists.");
		}
		array_push(renamed, target);
	}
	if (mailbox_create_parents_locked(user, new_name) < 0)
		return -1;
	unsigned int n = 0;
	for (unsigned int i = 0; i < count; i++) {
		if (strcmp(list[i].name, old_name) != 0 && !name_is_under(list[i].name, old_name))
			continue;
		if (index_mailbox_set_name(user->db, list[i].id, renamed->v[n++]) < 0)
			return mail_user_set_index_error(user, "rename mailbox");
	}
	if (mailbox_rename_subscriptions(user, old_name, new_name) < 0)
		return -1;
	return mailbox_remove_empty_parents(user, old_name);
}

/* After the names are committed, locations follow; a crash in between
   leaves an old location that mailbox_fix_dir_locked() moves later. */
static void mailbox_rename_dirs(struct mail_user *user, const array_str_t *names)
{
	if (mail_user_begin_write(user) < 0)
		return;
	for (unsigned int i = 0; i < names->count; i++) {
		struct index_mailbox mb;
		int ret = index_mailbox_lookup(user->db, names->v[i], t_pool(), &mb);
		if (ret < 0 || (ret > 0 && mailbox_fix_dir_locked(user, &mb) < 0)) {
			mail_user_rollback(user);
			return;
		}
	}
	(void)mail_user_commit(user);
}

static int mailbox_rename_inbox(struct mail_user *user, const char *new_name)
{
	/* RFC 9051 §6.3.6: the messages move to a new mailbox; INBOX stays.
	   Its metadata entries go along, as they do in any other rename. */
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (mailbox_create_locked(user, new_name, 0) < 0 ||
	    mailbox_attributes_move_locked(user, "INBOX", new_name) < 0 ||
	    mail_user_list_changed_locked(user) < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	if (box == NULL)
		return -1;
	uint32_t count = mailbox_view_count(box);
	int ret = 0;
	if (count > 0) {
		uint32_t *seqs = i_new(uint32_t, count);
		for (uint32_t i = 0; i < count; i++)
			seqs[i] = i + 1;
		pool_t pool = pool_create("rename inbox", 1024);
		struct mail_copy_result res;
		ret = mailbox_copy(box, seqs, count, new_name, true, pool, &res);
		pool_destroy(&pool);
		free(seqs);
	}
	mailbox_close(&box);
	mail_user_notify_changed(user);
	return ret;
}

int mailbox_rename(struct mail_user *user, const char *old_name, const char *new_name)
{
	mail_user_clear_error(user);
	if (mailbox_name_check(user, old_name, false) < 0 ||
	    mailbox_name_check(user, new_name, true) < 0)
		return -1;
	old_name = mailbox_name_canonical(old_name);
	new_name = mailbox_name_canonical(new_name);
	if (strcmp(new_name, "INBOX") == 0 || strcmp(old_name, new_name) == 0)
		return mail_user_set_error(user, MAIL_ERROR_EXISTS, "Target mailbox already exists.");
	if (strcmp(old_name, "INBOX") == 0)
		return mailbox_rename_inbox(user, new_name);
	if (name_is_under(new_name, old_name)) {
		return mail_user_set_error(user, MAIL_ERROR_CANNOT,
					   "Can't rename a mailbox under itself.");
	}
	array_str_t renamed;
	array_init(&renamed, t_pool(), 8);
	if (mail_user_begin_write(user) < 0)
		return -1;
	if (mailbox_rename_locked(user, old_name, new_name, &renamed) < 0 ||
	    mail_user_list_changed_locked(user) < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	mailbox_rename_dirs(user, &renamed);
	mail_user_clear_error(user);
	mail_user_notify_changed(user);
	return 0;
}

int mailbox_set_subscribed(struct mail_user *user, const char *name, bool subscribed)
{
	mail_user_clear_error(user);
	if (mailbox_name_check(user, name, false) < 0)
		return -1;
	name = mailbox_name_canonical(name);
	array_str_t subs;
	array_init(&subs, t_pool(), 16);
	if (mail_user_begin_write(user) < 0)
		return -1;
	int ret = 0;
	if (subscribed && index_subscriptions_list(user->db, t_pool(), &subs) == 0 &&
	    subs.count >= MAIL_USER_SUBSCRIPTIONS_MAX)
		ret = mail_user_set_error(user, MAIL_ERROR_LIMIT, "Too many subscriptions.");
	else if (index_subscription_set(user->db, name, subscribed) < 0)
		ret = mail_user_set_index_error(user, "set subscription");
	else
		ret = mail_user_list_changed_locked(user);
	if (ret < 0) {
		mail_user_rollback(user);
		return -1;
	}
	if (mail_user_commit(user) < 0)
		return -1;
	/* NOTIFY's SubscriptionChange (RFC 5465 §5.5) */
	mail_user_notify_changed(user);
	return 0;
}

/* --- list --- */

static int list_entry_cmp(const void *p1, const void *p2)
{
	const struct mailbox_list_entry *e1 = p1, *e2 = p2;
	bool inbox1 = strcmp(e1->name, "INBOX") == 0, inbox2 = strcmp(e2->name, "INBOX") == 0;
	if (inbox1 || inbox2)
		return inbox1 && inbox2 ? 0 : (inbox1 ? -1 : 1);
	return strcmp(e1->name, e2->name);
}

static bool name_has_children(const struct index_mailbox *list, unsigned int count,
			      const char *name)
{
	/* children sort after "name/" and before "name0" ('0' follows '/') */
	const char *prefix = t_strdup_printf("%s/", name);
	unsigned int lo = 0, hi = count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (strcmp(list[mid].name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && name_is_under(list[lo].name, name);
}

static bool name_in_sorted(const array_str_t *names, const char *name)
{
	unsigned int lo = 0, hi = names->count;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int cmp = strcmp(names->v[mid], name);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int mail_user_list_mailboxes(struct mail_user *user, pool_t pool,
			     const struct mailbox_list_entry **entries_r,
			     unsigned int *count_r)
{
	mail_user_clear_error(user);
	struct index_mailbox *list;
	unsigned int count;
	array_str_t subs;
	array_init(&subs, t_pool(), 16);
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "list mailboxes");
	int ret = index_mailbox_list(user->db, t_pool(), &list, &count);
	if (ret == 0)
		ret = index_subscriptions_list(user->db, t_pool(), &subs);
	index_db_rollback(user->db);
	if (ret < 0)
		return mail_user_set_index_error(user, "list mailboxes");

	ARRAY(struct mailbox_list_entry) entries;
	array_init(&entries, pool, count + subs.count + 1);
	for (unsigned int i = 0; i < count; i++) {
		struct mailbox_list_entry *e = array_append_space(&entries);
		e->name = p_strdup(pool, list[i].name);
		e->special_use = list[i].special_use;
		if (!list[i].selectable)
			e->attrs |= MAILBOX_ATTR_NOSELECT;
		e->attrs |= name_has_children(list, count, list[i].name) ?
			MAILBOX_ATTR_HASCHILDREN : MAILBOX_ATTR_HASNOCHILDREN;
		if (name_in_sorted(&subs, list[i].name))
			e->attrs |= MAILBOX_ATTR_SUBSCRIBED;
	}
	for (unsigned int i = 0; i < subs.count; i++) {
		bool exists = false;
		for (unsigned int lo = 0, hi = count; lo < hi && !exists; ) {
			unsigned int mid = lo + (hi - lo) / 2;
			int cmp = strcmp(list[mid].name, subs.v[i]);
			exists = cmp == 0;
			if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (exists)
			continue;
		struct mailbox_list_entry *e = array_append_space(&entries);
		e->name = p_strdup(pool, subs.v[i]);
		e->attrs = MAILBOX_ATTR_NONEXISTENT | MAILBOX_ATTR_SUBSCRIBED |
			(name_has_children(list, count, subs.v[i]) ?
			 MAILBOX_ATTR_HASCHILDREN : MAILBOX_ATTR_HASNOCHILDREN);
	}
	qsort(entries.v, entries.count, sizeof(entries.v[0]), list_entry_cmp);
	*entries_r = entries.v;
	*count_r = entries.count;
	return 0;
}
