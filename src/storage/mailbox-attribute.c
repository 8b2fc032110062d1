/* Mailbox and server attributes (RFC 5464 METADATA entries) over the
 * index's attribute rows: entry-name checks, the server-computed entries
 * (/private/specialuse, /shared/admin), all-or-nothing changes with the
 * per-mailbox and per-user limits. */
#include "mailbox-attribute.h"
#include "mail-storage-private.h"
#include "index-attribute.h"

#include <strings.h>

struct mail_attribute_change {
	enum mail_attribute_type type;
	const char *key;
	const unsigned char *value; /* NULL: remove */
	size_t size;
};

struct mail_attribute_transaction {
	struct mail_user *user;
	pool_t pool;
	const char *mailbox;
	struct mail_attribute_settings set;
	ARRAY(struct mail_attribute_change) changes;
	bool failed;
};

/* RFC 6154 attribute names by bit of enum mailbox_special_use, lowest
   first (\Important is RFC 8457's). */
static const char *const mail_attribute_special_use_names[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged",
	"\\Junk", "\\Sent", "\\Trash", "\\Important",
};

/* RFC 5464 §3.2 on the part after "/private" or "/shared" (or on a key
   given without it): printable ASCII without '*' and '%', no empty
   level. */
static int mail_attribute_key_check(const char *key, const char **error_r)
{
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*error_r = "Entry name can't contain control characters.";
			return -1;
		}
		if (*p >= 0x80) {
			*error_r = "Entry name must be ASCII.";
			return -1;
		}
		if (*p == '*' || *p == '%') {
			*error_r = "Entry name can't contain '*' or '%'.";
			return -1;
		}
		if (*p == '/' && p[1] == '/') {
			*error_r = "Entry name can't contain consecutive '/'.";
			return -1;
		}
	}
	size_t len = strlen(key);
	if (len > 0 && key[len - 1] == '/') {
		*error_r = "Entry name can't end with '/'.";
		return -1;
	}
	return 0;
}

static const char *mail_attribute_lcase(const char *key)
{
	char *lower = t_strdup(key);
	for (char *p = lower; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return lower;
}

int mail_attribute_entry_parse(const char *entry, enum mail_attribute_type *type_r,
			       const char **key_r, const char **error_r)
{
	if (entry[0] != '/') {
		*error_r = "Entry name must begin with '/'.";
		return -1;
	}
	if (strlen(entry) > MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH) {
		*error_r = "Entry name is too long.";
		return -1;
	}
	if (mail_attribute_key_check(entry, error_r) < 0)
		return -1;
	const char *rest;
	if (strncasecmp(entry, "/private", 8) == 0 && (entry[8] == '\0' || entry[8] == '/')) {
		*type_r = MAIL_ATTRIBUTE_PRIVATE;
		rest = entry + 8;
	} else if (strncasecmp(entry, "/shared", 7) == 0 && (entry[7] == '\0' || entry[7] == '/')) {
		*type_r = MAIL_ATTRIBUTE_SHARED;
		rest = entry + 7;
	} else {
		*error_r = "Entry name must begin with /private or /shared.";
		return -1;
	}
	*key_r = mail_attribute_lcase(rest[0] == '/' ? rest + 1 : rest);
	return 0;
}

const char *mail_attribute_entry_name(enum mail_attribute_type type, const char *key)
{
	const char *prefix = type == MAIL_ATTRIBUTE_PRIVATE ? "/private" : "/shared";
	return key[0] == '\0' ? prefix : t_strdup_printf("%s/%s", prefix, key);
}

/* Checks and case-folds a key given to the API; "" (the root) only when
   allow_root. */
static int mail_attribute_key_normalize(struct mail_user *user, const char *key,
					bool allow_root, const char **key_r)
{
	const char *error;
	if (key[0] == '/')
		error = "Entry key must not begin with '/'.";
	else if (key[0] == '\0' && !allow_root)
		error = "Entry name must name an entry below /private or /shared.";
	else if (strlen(key) + 9 > MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH)
		error = "Entry name is too long.";
	else if (mail_attribute_key_check(key, &error) == 0) {
		*key_r = mail_attribute_lcase(key);
		return 0;
	}
	return mail_user_set_error(user, MAIL_ERROR_PARAMS, error);
}

static bool mail_attribute_is_readonly(bool server, enum mail_attribute_type type,
				       const char *key)
{
	if (type == MAIL_ATTRIBUTE_PRIVATE)
		return strcmp(key, "specialuse") == 0;
	return server && strcmp(key, "admin") == 0;
}

/* The server-computed entry of the type, if there is one: returns true
   with *attr_r. mb is NULL for the server. */
static bool mail_attribute_computed(const struct index_mailbox *mb,
				    enum mail_attribute_type type,
				    const struct mail_attribute_settings *set, pool_t pool,
				    struct mail_attribute *attr_r)
{
	const char *key = NULL, *value = NULL;
	if (type == MAIL_ATTRIBUTE_PRIVATE && mb != NULL && mb->special_use != 0) {
		string_t *str = t_str_new(64);
		for (unsigned int i = 0; i < N_ELEMENTS(mail_attribute_special_use_names); i++) {
			if ((mb->special_use & (1U << i)) == 0)
				continue;
			if (str_len(str) > 0)
				str_append_c(str, ' ');
			str_append(str, mail_attribute_special_use_names[i]);
		}
		key = "specialuse";
		value = str_c(str);
	} else if (type == MAIL_ATTRIBUTE_SHARED && mb == NULL && set != NULL &&
		   set->admin != NULL && set->admin[0] != '\0') {
		key = "admin";
		value = set->admin;
	}
	if (key == NULL || value[0] == '\0')
		return false;
	attr_r->type = type;
	attr_r->key = p_strdup(pool, key);
	attr_r->value = (const unsigned char *)p_strdup(pool, value);
	attr_r->size = strlen(value);
	attr_r->readonly = true;
	return true;
}

/* In a transaction: the index id of mailbox (INDEX_ATTRIBUTE_SERVER for
   the server, whose *mb_r stays zeroed) and its row (strings in temporary
   memory). Returns 0 or -1 with the error set. */
static int mail_attribute_mailbox_lookup(struct mail_user *user, const char *mailbox,
					 struct index_mailbox *mb_r, int64_t *id_r)
{
	memset(mb_r, 0, sizeof(*mb_r));
	if (mailbox[0] == '\0') {
		*id_r = INDEX_ATTRIBUTE_SERVER;
		return 0;
	}
	int ret = 0;
	if (mailbox_name_is_valid(mailbox)) {
		ret = index_mailbox_lookup(user->db, mailbox_name_canonical(mailbox),
					   t_pool(), mb_r);
	}
	if (ret < 0)
		return mail_user_set_index_error(user, "look up mailbox");
	/* a \Noselect parent is only a name: it can't have entries */
	if (ret == 0 || !mb_r->selectable)
		return mail_user_set_error(user, MAIL_ERROR_NOTFOUND, "Mailbox doesn't exist.");
	*id_r = mb_r->id;
	return 0;
}

int mail_attribute_get(struct mail_user *user, const char *mailbox,
		       enum mail_attribute_type type, const char *key,
		       const struct mail_attribute_settings *set, pool_t pool,
		       struct mail_attribute *attr_r)
{
	mail_user_clear_error(user);
	if (mail_attribute_key_normalize(user, key, true, &key) < 0)
		return -1;
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "read attribute");
	struct index_mailbox mb;
	int64_t id;
	int ret = mail_attribute_mailbox_lookup(user, mailbox, &mb, &id);
	memset(attr_r, 0, sizeof(*attr_r));
	if (ret == 0 && key[0] != '\0') {
		bool server = id == INDEX_ATTRIBUTE_SERVER;
		if (mail_attribute_is_readonly(server, type, key)) {
			/* a read-only key is the one computed entry of its
			   type, when there is one */
			ret = mail_attribute_computed(server ? NULL : &mb, type, set, pool,
						      attr_r) ? 1 : 0;
		} else {
			ret = index_attribute_get(user->db, id, (enum index_attribute_type)type,
						  key, pool, &attr_r->value, &attr_r->size);
			if (ret < 0)
				mail_user_set_index_error(user, "read attribute");
			attr_r->type = type;
			attr_r->key = p_strdup(pool, key);
		}
	}
	index_db_rollback(user->db);
	return ret;
}

/* Inserts the computed entry into the sorted list when it is at or below
   key. */
static void mail_attribute_list_merge(array_mail_attribute_t *list, unsigned int first,
				      const struct mail_attribute *computed, const char *key)
{
	size_t len = strlen(key);
	if (len > 0 && strcmp(computed->key, key) != 0 &&
	    (strncmp(computed->key, key, len) != 0 || computed->key[len] != '/'))
		return;
	unsigned int pos = first;
	while (pos < list->count && strcmp(list->v[pos].key, computed->key) < 0)
		pos++;
	array_append_space(list);
	memmove(&list->v[pos + 1], &list->v[pos], (list->count - 1 - pos) * sizeof(list->v[0]));
	list->v[pos] = *computed;
}

int mail_attribute_list(struct mail_user *user, const char *mailbox,
			enum mail_attribute_type type, const char *key,
			const struct mail_attribute_settings *set, pool_t pool,
			array_mail_attribute_t *list)
{
	mail_user_clear_error(user);
	if (mail_attribute_key_normalize(user, key, true, &key) < 0)
		return -1;
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "list attributes");
	struct index_mailbox mb;
	int64_t id;
	array_index_attribute_t rows;
	array_init(&rows, pool, 16);
	int ret = mail_attribute_mailbox_lookup(user, mailbox, &mb, &id);
	if (ret == 0 && index_attribute_list(user->db, id, (enum index_attribute_type)type,
					     key, pool, &rows) < 0)
		ret = mail_user_set_index_error(user, "list attributes");
	index_db_rollback(user->db);
	if (ret < 0)
		return -1;
	unsigned int first = list->count;
	for (unsigned int i = 0; i < rows.count; i++) {
		struct mail_attribute *attr = array_append_space(list);
		attr->type = type;
		attr->key = rows.v[i].key;
		attr->value = rows.v[i].value;
		attr->size = rows.v[i].size;
	}
	struct mail_attribute computed;
	if (mail_attribute_computed(id == INDEX_ATTRIBUTE_SERVER ? NULL : &mb, type, set,
				    pool, &computed))
		mail_attribute_list_merge(list, first, &computed, key);
	return 0;
}

/* --- changes --- */

struct mail_attribute_transaction *
mail_attribute_transaction_begin(struct mail_user *user, const char *mailbox,
				 const struct mail_attribute_settings *set)
{
	pool_t pool = pool_create("mail attribute transaction", 1024);
	struct mail_attribute_transaction *t = p_new(pool, struct mail_attribute_transaction, 1);
	t->user = user;
	t->pool = pool;
	t->mailbox = p_strdup(pool, mailbox);
	if (set != NULL) {
		t->set = *set;
		t->set.admin = set->admin == NULL ? NULL : p_strdup(pool, set->admin);
	}
	array_init(&t->changes, pool, 4);
	mail_user_clear_error(user);
	return t;
}

static int mail_attribute_queue(struct mail_attribute_transaction *t,
				enum mail_attribute_type type, const char *key,
				const void *value, size_t size)
{
	struct mail_user *user = t->user;
	if (t->failed)
		return -1;
	t->failed = true;
	if (mail_attribute_key_normalize(user, key, false, &key) < 0)
		return -1;
	if (mail_attribute_is_readonly(t->mailbox[0] == '\0', type, key)) {
		return mail_user_set_error(user, MAIL_ERROR_CANNOT, t_strdup_printf(
			"The %s entry can't be changed.", mail_attribute_entry_name(type, key)));
	}
	if (value != NULL && t->set.max_value_size != 0 && size > t->set.max_value_size) {
		return mail_user_set_error(user, MAIL_ERROR_LIMIT, t_strdup_printf(
			"The value of %s is too large (at most %llu bytes).",
			mail_attribute_entry_name(type, key),
			(unsigned long long)t->set.max_value_size));
	}
	struct mail_attribute_change *change = array_append_space(&t->changes);
	change->type = type;
	change->key = p_strdup(t->pool, key);
	change->size = size;
	if (value != NULL) {
		unsigned char *copy = p_malloc(t->pool, size + 1);
		if (size > 0)
			memcpy(copy, value, size);
		change->value = copy;
	}
	t->failed = false;
	return 0;
}

int mail_attribute_set(struct mail_attribute_transaction *t, enum mail_attribute_type type,
		       const char *key, const void *value, size_t size)
{
	return mail_attribute_queue(t, type, key, value == NULL ? "" : value, size);
}

int mail_attribute_unset(struct mail_attribute_transaction *t, enum mail_attribute_type type,
			 const char *key)
{
	return mail_attribute_queue(t, type, key, NULL, 0);
}

struct mail_attribute_usage {
	unsigned int mailbox_count, user_count;
	uint64_t user_size;
};

static int mail_attribute_usage_get(struct mail_user *user, int64_t id,
				    struct mail_attribute_usage *usage_r)
{
	if (index_attribute_count(user->db, id, &usage_r->mailbox_count) < 0 ||
	    index_attribute_usage(user->db, &usage_r->user_count, &usage_r->user_size) < 0)
		return mail_user_set_index_error(user, "count attributes");
	return 0;
}

/* A limit only stops growth: a user above a limit lowered later can still
   remove entries and shrink values. */
static int mail_attribute_check_limits(struct mail_attribute_transaction *t,
				       const struct mail_attribute_usage *before,
				       const struct mail_attribute_usage *after)
{
	const struct mail_attribute_settings *set = &t->set;
	const char *error = NULL;
	if (set->max_entries != 0 && after->mailbox_count > before->mailbox_count &&
	    after->mailbox_count > set->max_entries) {
		error = t_strdup_printf("Too many entries (at most %u for %s).", set->max_entries,
					t->mailbox[0] == '\0' ? "the server" : "a mailbox");
	} else if (set->max_user_entries != 0 && after->user_count > before->user_count &&
		   after->user_count > set->max_user_entries) {
		error = t_strdup_printf("Too many entries (at most %u in all).",
					set->max_user_entries);
	} else if (set->max_user_size != 0 && after->user_size > before->user_size &&
		   after->user_size > set->max_user_size) {
		error = t_strdup_printf("Entries would take too much space (at most %llu bytes).",
					(unsigned long long)set->max_user_size);
	}
	if (error == NULL)
		return 0;
	return mail_user_set_error(t->user, MAIL_ERROR_LIMIT, error);
}

static int mail_attribute_commit_locked(struct mail_attribute_transaction *t)
{
	struct mail_user *user = t->user;
	struct index_mailbox mb;
	int64_t id;
	if (mail_attribute_mailbox_lookup(user, t->mailbox, &mb, &id) < 0)
		return -1;
	struct mail_attribute_usage before, after;
	if (mail_attribute_usage_get(user, id, &before) < 0)
		return -1;
	for (unsigned int i = 0; i < t->changes.count; i++) {
		const struct mail_attribute_change *c = &t->changes.v[i];
		enum index_attribute_type type = (enum index_attribute_type)c->type;
		int ret = c->value == NULL ?
			index_attribute_unset(user->db, id, type, c->key) :
			index_attribute_set(user->db, id, type, c->key, c->value, c->size);
		if (ret < 0)
			return mail_user_set_index_error(user, "set attribute");
	}
	if (mail_attribute_usage_get(user, id, &after) < 0 ||
	    mail_attribute_check_limits(t, &before, &after) < 0)
		return -1;
	/* NOTIFY's MailboxMetadataChange / ServerMetadataChange (RFC 5465) */
	return mail_user_attributes_changed_locked(user);
}

int mail_attribute_transaction_commit(struct mail_attribute_transaction **_t)
{
	struct mail_attribute_transaction *t = *_t;
	struct mail_user *user = t->user;
	int ret = -1;
	*_t = NULL;
	if (t->failed) {
		/* the error of the failed queue call is still set */
	} else if (t->changes.count == 0) {
		/* nothing to change, but the mailbox must exist */
		ret = 0;
		if (index_db_begin_read(user->db) < 0) {
			ret = mail_user_set_index_error(user, "read attribute");
		} else {
			struct index_mailbox mb;
			int64_t id;
			ret = mail_attribute_mailbox_lookup(user, t->mailbox, &mb, &id);
			index_db_rollback(user->db);
		}
	} else if (mail_user_begin_write(user) == 0) {
		if (mail_attribute_commit_locked(t) < 0)
			mail_user_rollback(user);
		else if ((ret = mail_user_commit(user)) == 0)
			mail_user_notify_changed(user);
	}
	pool_destroy(&t->pool);
	return ret;
}

void mail_attribute_transaction_rollback(struct mail_attribute_transaction **_t)
{
	struct mail_attribute_transaction *t = *_t;
	if (t == NULL)
		return;
	*_t = NULL;
	pool_destroy(&t->pool);
}

int mailbox_attributes_move_locked(struct mail_user *user, const char *from, const char *to)
{
	struct index_mailbox from_mb, to_mb;
	/* set by the lookups; initialised for GCC -O3's flow analysis */
	int64_t from_id = 0, to_id = 0;
	if (mail_attribute_mailbox_lookup(user, from, &from_mb, &from_id) < 0 ||
	    mail_attribute_mailbox_lookup(user, to, &to_mb, &to_id) < 0)
		return -1;
	if (from_id == INDEX_ATTRIBUTE_SERVER || to_id == INDEX_ATTRIBUTE_SERVER)
		return 0;
	if (index_attribute_move(user->db, from_id, to_id) < 0)
		return mail_user_set_index_error(user, "move attributes");
	return 0;
}

int mail_attribute_digest(struct mail_user *user, pool_t pool,
			  const struct mail_attribute_digest **list_r, unsigned int *count_r)
{
	mail_user_clear_error(user);
	array_index_attribute_digest_t rows;
	array_init(&rows, pool, 16);
	if (index_db_begin_read(user->db) < 0)
		return mail_user_set_index_error(user, "read attributes");
	int ret = index_attribute_digest(user->db, pool, &rows);
	index_db_rollback(user->db);
	if (ret < 0)
		return mail_user_set_index_error(user, "read attributes");
	struct mail_attribute_digest *out = p_new(pool, struct mail_attribute_digest,
						  rows.count + 1);
	for (unsigned int i = 0; i < rows.count; i++) {
		out[i] = (struct mail_attribute_digest){
			.mailbox_id = rows.v[i].mailbox_id,
			.type = rows.v[i].type == INDEX_ATTRIBUTE_SHARED ?
				MAIL_ATTRIBUTE_SHARED : MAIL_ATTRIBUTE_PRIVATE,
			.key = rows.v[i].key,
			.value_hash = rows.v[i].value_hash,
		};
	}
	*list_r = out;
	*count_r = rows.count;
	return 0;
}
