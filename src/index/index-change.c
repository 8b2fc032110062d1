/* The change context: every modification of a mailbox's messages goes
 * through it, so that UIDNEXT, HIGHESTMODSEQ (one new modseq per
 * transaction), the cached counts, the UID map and the expunge log change
 * in the same transaction as the rows (RFC 9051 §2.3.1.1, RFC 7162 §3). */
#include "index-db-private.h"

static inline int64_t flag_bit(uint32_t flags, uint32_t bit)
{
	return (flags & bit) != 0 ? 1 : 0;
}

int index_change_begin(struct index_db *db, int64_t mailbox_id, struct index_change **ch_r)
{
	i_assert(index_db_in_write(db));
	pool_t pool = pool_create("index change", 2048);
	struct index_change *ch = p_new(pool, struct index_change, 1);
	ch->db = db;
	ch->pool = pool;
	int ret = index_mailbox_get(db, mailbox_id, pool, &ch->mb);
	if (ret <= 0 || !ch->mb.selectable) {
		pool_destroy(&pool);
		return ret < 0 ? -1 : 0;
	}
	ch->modseq = ch->mb.highestmodseq + 1;
	ch->uidnext = ch->mb.uidnext;
	ch->disk_stamp = ch->mb.disk_stamp;
	array_init(&ch->chunks, pool, 4);
	*ch_r = ch;
	return 1;
}

const struct index_mailbox *index_change_get_mailbox(const struct index_change *ch)
{
	return &ch->mb;
}

uint64_t index_change_get_modseq(const struct index_change *ch)
{
	return ch->modseq;
}

bool index_change_has_changes(const struct index_change *ch)
{
	return ch->changed;
}

int index_change_append(struct index_change *ch, struct index_message *msg)
{
	if (ch->uidnext == UINT32_MAX)
		return index_db_fail_text(ch->db, "mailbox ran out of UIDs");
	msg->uid = ch->uidnext;
	msg->modseq = ch->modseq;
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, msg->uid);
	sqlite3_bind_int64(stmt, 3, msg->flags & INDEX_FLAGS_MASK);
	sqlite3_bind_int64(stmt, 4, (int64_t)msg->modseq);
	index_bind_text_or_null(stmt, 5, msg->keywords);
	sqlite3_bind_text(stmt, 6, msg->filename, -1, SQLITE_STATIC);
	index_bind_text_or_null(stmt, 7, msg->fileinfo);
	sqlite3_bind_int64(stmt, 8, msg->internal_date);
	sqlite3_bind_int(stmt, 9, msg->internal_tz);
	sqlite3_bind_int64(stmt, 10, msg->save_date);
	sqlite3_bind_int64(stmt, 11, (int64_t)msg->size);
	sqlite3_bind_int64(stmt, 12, (int64_t)msg->psize);
	sqlite3_bind_text(stmt, 13, msg->guid, -1, SQLITE_STATIC);
	if (index_db_exec_stmt(ch->db, stmt, "insert message") < 0 ||
	    index_uidmap_set(ch, msg->uid, true) < 0)
		return -1;
	ch->uidnext++;
	ch->changed = true;
	ch->d_messages++;
	ch->d_unseen += 1 - flag_bit(msg->flags, INDEX_FLAG_SEEN);
	ch->d_deleted += flag_bit(msg->flags, INDEX_FLAG_DELETED);
	ch->d_vsize += (int64_t)msg->size;
	return 0;
}

int index_change_expunge(struct index_change *ch, const struct index_message *old)
{
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_DELETE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, old->uid);
	if (index_db_exec_stmt(ch->db, stmt, "delete message") < 0)
		return -1;
	if (sqlite3_changes(ch->db->db) == 0)
		return 0; /* already gone */
	if ((stmt = index_db_stmt(ch->db, INDEX_STMT_EXP_INSERT)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, (int64_t)ch->modseq);
	sqlite3_bind_int64(stmt, 3, old->uid);
	sqlite3_bind_int64(stmt, 4, old->flags);
	index_bind_text_or_null(stmt, 5, old->keywords);
	if (index_db_exec_stmt(ch->db, stmt, "log expunge") < 0 ||
	    index_uidmap_set(ch, old->uid, false) < 0)
		return -1;
	ch->changed = true;
	ch->d_messages--;
	ch->d_unseen -= 1 - flag_bit(old->flags, INDEX_FLAG_SEEN);
	ch->d_deleted -= flag_bit(old->flags, INDEX_FLAG_DELETED);
	ch->d_vsize -= (int64_t)old->size;
	return 0;
}

int index_change_set_flags(struct index_change *ch, const struct index_message *old,
			   uint32_t flags, const char *keywords, const char *fileinfo)
{
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_SET_FLAGS);
	if (stmt == NULL)
		return -1;
	flags &= INDEX_FLAGS_MASK;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, old->uid);
	sqlite3_bind_int64(stmt, 3, flags);
	index_bind_text_or_null(stmt, 4, keywords);
	sqlite3_bind_int64(stmt, 5, (int64_t)ch->modseq);
	index_bind_text_or_null(stmt, 6, fileinfo);
	if (index_db_exec_stmt(ch->db, stmt, "update flags") < 0)
		return -1;
	if (sqlite3_changes(ch->db->db) == 0)
		return 0;
	ch->changed = true;
	if (fileinfo == NULL)
		ch->mirror_dirty = true;
	ch->d_unseen += flag_bit(old->flags, INDEX_FLAG_SEEN) - flag_bit(flags, INDEX_FLAG_SEEN);
	ch->d_deleted += flag_bit(flags, INDEX_FLAG_DELETED) -
		flag_bit(old->flags, INDEX_FLAG_DELETED);
	return 0;
}

static void index_change_bind_range(sqlite3_stmt *stmt, const struct index_change *ch,
				    uint32_t uid1, uint32_t uid2, uint32_t set,
				    uint32_t clear, bool clear_keywords,
				    uint64_t unchanged_since)
{
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, uid1);
	sqlite3_bind_int64(stmt, 3, uid2);
	sqlite3_bind_int64(stmt, 4, unchanged_since == 0 ? INT64_MAX : (int64_t)unchanged_since);
	sqlite3_bind_int64(stmt, 5, set & INDEX_FLAGS_MASK);
	sqlite3_bind_int64(stmt, 6, clear & INDEX_FLAGS_MASK);
	sqlite3_bind_int(stmt, 7, clear_keywords ? 1 : 0);
}

static int index_change_range_failed(struct index_change *ch, uint32_t uid1, uint32_t uid2,
				     uint64_t unchanged_since, array_uint32_t *failed_uids)
{
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_RANGE_FAILED);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, uid1);
	sqlite3_bind_int64(stmt, 3, uid2);
	sqlite3_bind_int64(stmt, 4, (int64_t)unchanged_since);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (failed_uids != NULL)
			array_push(failed_uids, (uint32_t)sqlite3_column_int64(stmt, 0));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : index_db_fail(ch->db, "find changed messages");
}

int index_change_update_range(struct index_change *ch, uint32_t uid1, uint32_t uid2,
			      uint32_t set, uint32_t clear, bool clear_keywords,
			      uint64_t unchanged_since, array_uint32_t *failed_uids,
			      unsigned int *changed_r)
{
	*changed_r = 0;
	if (unchanged_since != 0 &&
	    index_change_range_failed(ch, uid1, uid2, unchanged_since, failed_uids) < 0)
		return -1;
	/* the count deltas first, over exactly the rows the update changes */
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_RANGE_STATS);
	if (stmt == NULL)
		return -1;
	index_change_bind_range(stmt, ch, uid1, uid2, set, clear, clear_keywords,
				unchanged_since);
	if (index_db_step_row(ch->db, stmt, "count flag changes") <= 0)
		return -1;
	int64_t count = sqlite3_column_int64(stmt, 0);
	int64_t d_unseen = sqlite3_column_int64(stmt, 2) - sqlite3_column_int64(stmt, 1);
	int64_t d_deleted = sqlite3_column_int64(stmt, 4) - sqlite3_column_int64(stmt, 3);
	sqlite3_reset(stmt);
	if (count == 0)
		return 0;

	if ((stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_RANGE_UPDATE)) == NULL)
		return -1;
	index_change_bind_range(stmt, ch, uid1, uid2, set, clear, clear_keywords,
				unchanged_since);
	sqlite3_bind_int64(stmt, 8, (int64_t)ch->modseq);
	if (index_db_exec_stmt(ch->db, stmt, "update flags") < 0)
		return -1;
	*changed_r = (unsigned int)sqlite3_changes(ch->db->db);
	ch->changed = true;
	ch->mirror_dirty = true;
	ch->d_unseen += d_unseen;
	ch->d_deleted += d_deleted;
	return 0;
}

int index_change_set_fileinfo(struct index_change *ch, uint32_t uid, const char *fileinfo)
{
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_MSG_SET_FILEINFO);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, uid);
	index_bind_text_or_null(stmt, 3, fileinfo);
	return index_db_exec_stmt(ch->db, stmt, "update file info");
}

void index_change_set_disk_stamp(struct index_change *ch, int64_t stamp)
{
	ch->disk_stamp = stamp;
}

int64_t index_change_get_disk_stamp(const struct index_change *ch)
{
	return ch->disk_stamp;
}

void index_change_mark_mirror_dirty(struct index_change *ch)
{
	ch->mirror_dirty = true;
}

int index_change_finish(struct index_change **_ch)
{
	struct index_change *ch = *_ch;
	*_ch = NULL;
	int ret = index_uidmap_flush(ch);
	sqlite3_stmt *stmt = ret < 0 ? NULL : index_db_stmt(ch->db, INDEX_STMT_MB_UPDATE_CHANGE);
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, ch->mb.id);
		sqlite3_bind_int64(stmt, 2, ch->uidnext);
		sqlite3_bind_int64(stmt, 3, (int64_t)(ch->changed ? ch->modseq :
						      ch->mb.highestmodseq));
		sqlite3_bind_int64(stmt, 4, ch->d_messages);
		sqlite3_bind_int64(stmt, 5, ch->d_unseen);
		sqlite3_bind_int64(stmt, 6, ch->d_deleted);
		sqlite3_bind_int64(stmt, 7, ch->d_vsize);
		sqlite3_bind_int64(stmt, 8, ch->disk_stamp);
		/* mirroring stays complete if it was and this change needs none */
		bool complete = ch->mb.mirror_modseq >= ch->mb.highestmodseq && !ch->mirror_dirty;
		sqlite3_bind_int64(stmt, 9, complete ? (int64_t)(ch->changed ? ch->modseq :
								  ch->mb.highestmodseq) : 0);
		ret = index_db_exec_stmt(ch->db, stmt, "update mailbox");
	} else {
		ret = -1;
	}
	pool_destroy(&ch->pool);
	return ret;
}

void index_change_abort(struct index_change **_ch)
{
	struct index_change *ch = *_ch;
	if (ch == NULL)
		return;
	*_ch = NULL;
	pool_destroy(&ch->pool);
}
