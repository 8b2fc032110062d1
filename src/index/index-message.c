/* Reading message rows of the index: single rows, ordered iterations,
 * changes since a modseq and the expunge log. */
#include "index-db-private.h"

struct index_iter {
	struct index_db *db;
	sqlite3_stmt *stmt;
	bool private_stmt, failed, done, flags_only;
};

static void index_message_from_row(sqlite3_stmt *stmt, struct index_message *msg_r)
{
	msg_r->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
	msg_r->flags = (uint32_t)sqlite3_column_int64(stmt, 1);
	msg_r->modseq = (uint64_t)sqlite3_column_int64(stmt, 2);
	msg_r->keywords = index_column_text(stmt, 3);
	msg_r->filename = index_column_text(stmt, 4);
	msg_r->fileinfo = index_column_text(stmt, 5);
	msg_r->internal_date = sqlite3_column_int64(stmt, 6);
	msg_r->internal_tz = sqlite3_column_int(stmt, 7);
	msg_r->save_date = sqlite3_column_int64(stmt, 8);
	msg_r->size = (uint64_t)sqlite3_column_int64(stmt, 9);
	msg_r->psize = (uint64_t)sqlite3_column_int64(stmt, 10);
	msg_r->guid = index_column_text(stmt, 11);
	if (msg_r->filename == NULL)
		msg_r->filename = "";
	if (msg_r->guid == NULL)
		msg_r->guid = "";
}

static void index_message_dup(pool_t pool, struct index_message *msg)
{
	if (msg->keywords != NULL)
		msg->keywords = p_strdup(pool, msg->keywords);
	msg->filename = p_strdup(pool, msg->filename);
	if (msg->fileinfo != NULL)
		msg->fileinfo = p_strdup(pool, msg->fileinfo);
	msg->guid = p_strdup(pool, msg->guid);
}

static int index_message_read(struct index_db *db, sqlite3_stmt *stmt, pool_t pool,
			      struct index_message *msg_r)
{
	int ret = index_db_step_row(db, stmt, "read message");
	if (ret > 0) {
		index_message_from_row(stmt, msg_r);
		index_message_dup(pool, msg_r);
		sqlite3_reset(stmt);
	}
	return ret;
}

int index_message_get(struct index_db *db, int64_t mailbox_id, uint32_t uid, pool_t pool,
		      struct index_message *msg_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	return index_message_read(db, stmt, pool, msg_r);
}

int index_message_find_file(struct index_db *db, int64_t mailbox_id, const char *filename,
			    pool_t pool, struct index_message *msg_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_BY_FILE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_text(stmt, 2, filename, -1, SQLITE_STATIC);
	return index_message_read(db, stmt, pool, msg_r);
}

int index_changes_since(struct index_db *db, int64_t mailbox_id, uint64_t modseq,
			array_index_uid_modseq_t *changes)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_CHANGED_UIDS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)modseq);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_uid_modseq *c = array_append_space(changes);
		c->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		c->modseq = (uint64_t)sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : index_db_fail(db, "read changes");
}

int index_expunged_since(struct index_db *db, int64_t mailbox_id, uint64_t modseq,
			 array_uint32_t *uids)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_EXP_SINCE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)modseq);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		array_push(uids, (uint32_t)sqlite3_column_int64(stmt, 0));
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : index_db_fail(db, "read expunges");
}

int index_expunged_get(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		       pool_t pool, uint32_t *flags_r, const char **keywords_r,
		       uint64_t *modseq_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_EXP_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	int ret = index_db_step_row(db, stmt, "read expunged message");
	if (ret <= 0)
		return ret;
	/* rows from before version 7 know no flags */
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
		sqlite3_reset(stmt);
		return 0;
	}
	*flags_r = (uint32_t)sqlite3_column_int64(stmt, 0);
	const unsigned char *kw = sqlite3_column_text(stmt, 1);
	*keywords_r = kw == NULL ? NULL : p_strdup(pool, (const char *)kw);
	*modseq_r = (uint64_t)sqlite3_column_int64(stmt, 2);
	sqlite3_reset(stmt);
	return 1;
}

int index_first_unseen_uid(struct index_db *db, int64_t mailbox_id, uint32_t *uid_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_FIRST_UNSEEN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	int ret = index_db_step_row(db, stmt, "find first unseen");
	if (ret > 0) {
		*uid_r = (uint32_t)sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
	}
	return ret;
}

int index_count_from_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid,
			 uint32_t *count_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_MSG_COUNT_FROM);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (index_db_step_row(db, stmt, "count messages") <= 0)
		return -1;
	*count_r = (uint32_t)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return 0;
}

struct index_iter *index_iter_init(struct index_db *db, int64_t mailbox_id,
				   enum index_iter_order order, uint64_t modseq,
				   uint32_t uid1, uint32_t uid2)
{
	static const enum index_stmt stmts[] = {
		[INDEX_ITER_UID_RANGE] = INDEX_STMT_MSG_RANGE,
		[INDEX_ITER_UID_RANGE_FLAGS] = INDEX_STMT_MSG_RANGE_FLAGS,
		[INDEX_ITER_DELETED] = INDEX_STMT_MSG_DELETED,
		[INDEX_ITER_CHANGED] = INDEX_STMT_MSG_CHANGED,
	};
	struct index_iter *iter = i_new(struct index_iter, 1);
	iter->db = db;
	iter->flags_only = order == INDEX_ITER_UID_RANGE_FLAGS;
	iter->stmt = index_db_stmt_own(db, stmts[order], &iter->private_stmt);
	if (iter->stmt == NULL) {
		iter->failed = true;
		return iter;
	}
	sqlite3_bind_int64(iter->stmt, 1, mailbox_id);
	switch (order) {
	case INDEX_ITER_UID_RANGE:
	case INDEX_ITER_UID_RANGE_FLAGS:
		sqlite3_bind_int64(iter->stmt, 2, uid1);
		sqlite3_bind_int64(iter->stmt, 3, uid2);
		break;
	case INDEX_ITER_DELETED:
		break;
	case INDEX_ITER_CHANGED:
		sqlite3_bind_int64(iter->stmt, 2, (int64_t)modseq);
		sqlite3_bind_int64(iter->stmt, 3, uid1);
		sqlite3_bind_int64(iter->stmt, 4, uid2);
		break;
	}
	return iter;
}

int index_iter_next(struct index_iter *iter, struct index_message *msg_r)
{
	if (iter->failed)
		return -1;
	if (iter->done)
		return 0;
	int rc = sqlite3_step(iter->stmt);
	if (rc == SQLITE_ROW) {
		if (iter->flags_only) {
			memset(msg_r, 0, sizeof(*msg_r));
			msg_r->uid = (uint32_t)sqlite3_column_int64(iter->stmt, 0);
			msg_r->flags = (uint32_t)sqlite3_column_int64(iter->stmt, 1);
			msg_r->modseq = (uint64_t)sqlite3_column_int64(iter->stmt, 2);
			msg_r->keywords = index_column_text(iter->stmt, 3);
			msg_r->filename = msg_r->guid = "";
		} else {
			index_message_from_row(iter->stmt, msg_r);
		}
		return 1;
	}
	if (rc == SQLITE_DONE) {
		iter->done = true;
		return 0;
	}
	iter->failed = true;
	index_db_fail(iter->db, "iterate messages");
	return -1;
}

int index_iter_deinit(struct index_iter **_iter)
{
	struct index_iter *iter = *_iter;
	if (iter == NULL)
		return 0;
	*_iter = NULL;
	int ret = iter->failed ? -1 : 0;
	if (iter->private_stmt)
		sqlite3_finalize(iter->stmt);
	else if (iter->stmt != NULL)
		sqlite3_reset(iter->stmt);
	free(iter);
	return ret;
}
