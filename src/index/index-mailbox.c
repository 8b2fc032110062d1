/* Mailbox rows, per-mailbox keywords and subscriptions in the index. */
#include "index-db-private.h"

#include <strings.h>

void index_mailbox_from_row(sqlite3_stmt *stmt, pool_t pool, struct index_mailbox *mb_r)
{
	memset(mb_r, 0, sizeof(*mb_r));
	mb_r->id = sqlite3_column_int64(stmt, 0);
	mb_r->name = p_strdup(pool, index_column_text(stmt, 1));
	const char *dir = index_column_text(stmt, 2);
	mb_r->dir = dir == NULL ? NULL : p_strdup(pool, dir);
	mb_r->selectable = sqlite3_column_int(stmt, 3) != 0;
	mb_r->special_use = (uint32_t)sqlite3_column_int64(stmt, 4);
	mb_r->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 5);
	mb_r->uidnext = (uint32_t)sqlite3_column_int64(stmt, 6);
	mb_r->highestmodseq = (uint64_t)sqlite3_column_int64(stmt, 7);
	mb_r->first_recent_uid = (uint32_t)sqlite3_column_int64(stmt, 8);
	mb_r->messages = (uint32_t)sqlite3_column_int64(stmt, 9);
	mb_r->unseen = (uint32_t)sqlite3_column_int64(stmt, 10);
	mb_r->deleted = (uint32_t)sqlite3_column_int64(stmt, 11);
	mb_r->vsize = (uint64_t)sqlite3_column_int64(stmt, 12);
	mb_r->disk_stamp = sqlite3_column_int64(stmt, 13);
	mb_r->mirror_modseq = (uint64_t)sqlite3_column_int64(stmt, 14);
}

static int index_mailbox_read(struct index_db *db, sqlite3_stmt *stmt, pool_t pool,
			      struct index_mailbox *mb_r)
{
	int ret = index_db_step_row(db, stmt, "read mailbox");
	if (ret > 0) {
		index_mailbox_from_row(stmt, pool, mb_r);
		sqlite3_reset(stmt);
	}
	return ret;
}

int index_mailbox_lookup(struct index_db *db, const char *name, pool_t pool,
			 struct index_mailbox *mb_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_BY_NAME);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	return index_mailbox_read(db, stmt, pool, mb_r);
}

int index_mailbox_get(struct index_db *db, int64_t id, pool_t pool,
		      struct index_mailbox *mb_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_BY_ID);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return index_mailbox_read(db, stmt, pool, mb_r);
}

int index_mailbox_list(struct index_db *db, pool_t pool, struct index_mailbox **list_r,
		       unsigned int *count_r)
{
	ARRAY(struct index_mailbox) list;
	array_init(&list, pool, 16);
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_LIST);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		index_mailbox_from_row(stmt, pool, array_append_space(&list));
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return index_db_fail(db, "list mailboxes");
	*list_r = list.v;
	*count_r = list.count;
	return 0;
}

int index_mailbox_usage(struct index_db *db, uint64_t *messages_r, uint64_t *vsize_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_USAGE);
	if (stmt == NULL)
		return -1;
	if (index_db_step_row(db, stmt, "sum mailboxes") <= 0)
		return -1;
	*messages_r = (uint64_t)sqlite3_column_int64(stmt, 0);
	*vsize_r = (uint64_t)sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return 0;
}

int index_mailbox_create(struct index_db *db, const char *name, const char *dir,
			 uint32_t special_use, int64_t *id_r)
{
	uint32_t uidvalidity = 0;
	if (dir != NULL && index_db_alloc_uidvalidity(db, &uidvalidity) < 0)
		return -1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	index_bind_text_or_null(stmt, 2, dir);
	sqlite3_bind_int(stmt, 3, dir != NULL ? 1 : 0);
	sqlite3_bind_int64(stmt, 4, special_use);
	sqlite3_bind_int64(stmt, 5, uidvalidity);
	if (index_db_exec_stmt(db, stmt, "create mailbox") < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(db->db);
	return 0;
}

static int index_mailbox_exec_id(struct index_db *db, enum index_stmt id_stmt,
				 int64_t id, const char *what)
{
	sqlite3_stmt *stmt = index_db_stmt(db, id_stmt);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return index_db_exec_stmt(db, stmt, what);
}

static int index_mailbox_clear(struct index_db *db, int64_t id)
{
	if (index_mailbox_exec_id(db, INDEX_STMT_MSG_DELETE_ALL, id, "clear messages") < 0 ||
	    index_mailbox_exec_id(db, INDEX_STMT_UIDMAP_DELETE_ALL, id, "clear uidmap") < 0 ||
	    index_mailbox_exec_id(db, INDEX_STMT_EXP_DELETE_ALL, id, "clear expunged") < 0 ||
	    index_mailbox_exec_id(db, INDEX_STMT_KW_DELETE_ALL, id, "clear keywords") < 0)
		return -1;
	return 0;
}

int index_mailbox_reset(struct index_db *db, int64_t id, const char *dir)
{
	uint32_t uidvalidity = 0;
	if (index_mailbox_clear(db, id) < 0)
		return -1;
	if (dir != NULL && index_db_alloc_uidvalidity(db, &uidvalidity) < 0)
		return -1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_RESET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, dir != NULL ? 1 : 0);
	index_bind_text_or_null(stmt, 3, dir);
	sqlite3_bind_int64(stmt, 4, uidvalidity);
	return index_db_exec_stmt(db, stmt, "reset mailbox");
}

int index_mailbox_remove(struct index_db *db, int64_t id)
{
	if (index_mailbox_clear(db, id) < 0)
		return -1;
	return index_mailbox_exec_id(db, INDEX_STMT_MB_DELETE, id, "delete mailbox");
}

static int index_mailbox_set_text(struct index_db *db, enum index_stmt id_stmt, int64_t id,
				  const char *value, const char *what)
{
	sqlite3_stmt *stmt = index_db_stmt(db, id_stmt);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	index_bind_text_or_null(stmt, 2, value);
	return index_db_exec_stmt(db, stmt, what);
}

static int index_mailbox_set_int(struct index_db *db, enum index_stmt id_stmt, int64_t id,
				 int64_t value, const char *what)
{
	sqlite3_stmt *stmt = index_db_stmt(db, id_stmt);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, value);
	return index_db_exec_stmt(db, stmt, what);
}

int index_mailbox_set_name(struct index_db *db, int64_t id, const char *name)
{
	return index_mailbox_set_text(db, INDEX_STMT_MB_SET_NAME, id, name, "rename mailbox");
}

int index_mailbox_set_dir(struct index_db *db, int64_t id, const char *dir)
{
	return index_mailbox_set_text(db, INDEX_STMT_MB_SET_DIR, id, dir, "set mailbox dir");
}

int index_mailbox_set_special_use(struct index_db *db, int64_t id, uint32_t special_use)
{
	return index_mailbox_set_int(db, INDEX_STMT_MB_SET_SPECIAL_USE, id, special_use,
				     "set special use");
}

int index_mailbox_set_disk_stamp(struct index_db *db, int64_t id, int64_t stamp)
{
	return index_mailbox_set_int(db, INDEX_STMT_MB_SET_STAMP, id, stamp, "set disk stamp");
}

int index_mailbox_set_mirror_modseq(struct index_db *db, int64_t id, uint64_t modseq)
{
	return index_mailbox_set_int(db, INDEX_STMT_MB_SET_MIRROR, id, (int64_t)modseq,
				     "set mirror modseq");
}

int index_mailbox_claim_recent(struct index_db *db, int64_t id, uint32_t *first_r,
			       uint32_t *uidnext_r)
{
	struct index_mailbox mb;
	int ret = index_mailbox_get(db, id, t_pool(), &mb);
	if (ret <= 0)
		return ret < 0 ? -1 : index_db_fail_text(db, "claim recent: no mailbox");
	*first_r = mb.first_recent_uid;
	*uidnext_r = mb.uidnext;
	if (mb.first_recent_uid >= mb.uidnext) {
		*first_r = *uidnext_r;
		return 0;
	}
	return index_mailbox_set_int(db, INDEX_STMT_MB_SET_RECENT, id, mb.uidnext,
				     "claim recent");
}

static int index_mailbox_count(struct index_db *db, int64_t id, int64_t counts_r[6])
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_RECOUNT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (index_db_step_row(db, stmt, "count messages") <= 0)
		return -1;
	for (int i = 0; i < 6; i++)
		counts_r[i] = sqlite3_column_int64(stmt, i);
	sqlite3_reset(stmt);
	return 0;
}

int index_mailbox_recount(struct index_db *db, int64_t id)
{
	int64_t c[6];
	if (index_mailbox_count(db, id, c) < 0)
		return -1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MB_SET_COUNTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int64(stmt, 2 + i, c[i]);
	sqlite3_bind_int64(stmt, 6, c[4] + 1);
	sqlite3_bind_int64(stmt, 7, c[5]);
	if (index_db_exec_stmt(db, stmt, "recount mailbox") < 0)
		return -1;
	return index_uidmap_rebuild(db, id);
}

static const char *index_mailbox_check_uids(struct index_db *db, int64_t id,
					    const array_uint32_t *uids)
{
	struct index_iter *iter = index_iter_init(db, id, INDEX_ITER_UID_RANGE, 0, 1, UINT32_MAX);
	struct index_message msg;
	unsigned int i = 0;
	const char *problem = NULL;
	int ret;
	while ((ret = index_iter_next(iter, &msg)) > 0 && problem == NULL) {
		if (i >= uids->count || uids->v[i] != msg.uid)
			problem = t_strdup_printf("uidmap lacks uid %u", msg.uid);
		i++;
	}
	if (index_iter_deinit(&iter) < 0 || ret < 0)
		return "";
	if (problem == NULL && i != uids->count)
		problem = t_strdup_printf("uidmap has %u uids, index %u", uids->count, i);
	return problem;
}

int index_mailbox_check(struct index_db *db, int64_t id, const char **problem_r)
{
	struct index_mailbox mb;
	int64_t c[6];
	int ret = index_mailbox_get(db, id, t_pool(), &mb);
	if (ret <= 0)
		return ret < 0 ? -1 : index_db_fail_text(db, "check: no mailbox");
	if (index_mailbox_count(db, id, c) < 0)
		return -1;
	if (c[0] != mb.messages || c[1] != mb.unseen || c[2] != mb.deleted ||
	    c[3] != (int64_t)mb.vsize) {
		*problem_r = t_strdup_printf(
			"counts differ: cached %u/%u/%u/%llu, real %lld/%lld/%lld/%lld",
			mb.messages, mb.unseen, mb.deleted, (unsigned long long)mb.vsize,
			(long long)c[0], (long long)c[1], (long long)c[2], (long long)c[3]);
		return 1;
	}
	if (c[4] >= mb.uidnext || (uint64_t)c[5] > mb.highestmodseq) {
		*problem_r = "uidnext or highestmodseq below the messages'";
		return 1;
	}
	array_uint32_t uids;
	array_init(&uids, t_pool(), mb.messages + 1);
	if (index_uidmap_load(db, id, &uids) < 0)
		return -1;
	const char *problem = index_mailbox_check_uids(db, id, &uids);
	if (problem != NULL && problem[0] == '\0')
		return -1;
	if (problem == NULL)
		return 0;
	*problem_r = problem;
	return 1;
}

static int index_strings_read(struct index_db *db, sqlite3_stmt *stmt, pool_t pool,
			      array_str_t *names, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		array_push(names, p_strdup(pool, index_column_text(stmt, 0)));
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return index_db_fail(db, what);
	return 0;
}

int index_keywords_list(struct index_db *db, int64_t mailbox_id, pool_t pool,
			array_str_t *keywords)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_KW_LIST);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	return index_strings_read(db, stmt, pool, keywords, "list keywords");
}

/* Returns 1 with the defined spelling, 0 if not defined, -1. */
static int index_keyword_lookup(struct index_db *db, int64_t mailbox_id, const char *name,
				pool_t pool, const char **name_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_KW_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	int ret = index_db_step_row(db, stmt, "look up keyword");
	if (ret > 0) {
		*name_r = p_strdup(pool, index_column_text(stmt, 0));
		sqlite3_reset(stmt);
	}
	return ret;
}

int index_keywords_define(struct index_db *db, int64_t mailbox_id, pool_t pool,
			  const char **keywords, unsigned int count)
{
	unsigned int missing = 0;
	for (unsigned int i = 0; i < count; i++) {
		int ret = index_keyword_lookup(db, mailbox_id, keywords[i], pool, &keywords[i]);
		if (ret < 0)
			return -1;
		if (ret == 0)
			missing++;
	}
	if (missing == 0)
		return 1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_KW_COUNT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	if (index_db_step_row(db, stmt, "count keywords") <= 0)
		return -1;
	int64_t defined = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	if (defined + missing > INDEX_KEYWORDS_MAX)
		return 0;
	for (unsigned int i = 0; i < count; i++) {
		if ((stmt = index_db_stmt(db, INDEX_STMT_KW_INSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, mailbox_id);
		sqlite3_bind_text(stmt, 2, keywords[i], -1, SQLITE_STATIC);
		if (index_db_exec_stmt(db, stmt, "define keyword") < 0)
			return -1;
	}
	return 1;
}

int index_subscriptions_list(struct index_db *db, pool_t pool, array_str_t *names)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SUB_LIST);
	if (stmt == NULL)
		return -1;
	return index_strings_read(db, stmt, pool, names, "list subscriptions");
}

int index_subscription_set(struct index_db *db, const char *name, bool subscribed)
{
	sqlite3_stmt *stmt = index_db_stmt(db, subscribed ? INDEX_STMT_SUB_ADD :
					   INDEX_STMT_SUB_DEL);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	return index_db_exec_stmt(db, stmt, "set subscription");
}
