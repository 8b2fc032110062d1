/* Storing and querying the full-text index and the SORT/THREAD keys
 * (index-search.h). Needles of three or more characters are FTS5 phrase
 * queries on the trigram index, which match exact substrings; shorter ones
 * scan the stored text with instr(). */
#include "index-search.h"
#include "index-db-private.h"
#include "buffer.h"

static const char *const column_names[INDEX_SEARCH_COLUMN_COUNT] = {
	"header", "body", "hfrom", "hto", "hcc", "hbcc", "hsubject",
};

/* The message's docid: 1 found, 0 no document, -1 error. */
static int search_get_docid(struct index_db *db, int64_t mailbox_id, uint32_t uid,
			    int64_t *docid_r)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_OLD);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	int ret = index_db_step_row(db, stmt, "look up search document");
	if (ret > 0) {
		*docid_r = sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
	}
	return ret;
}

/* Queues the old document of a message being re-indexed for deletion. */
static int search_drop_old(struct index_db *db, int64_t mailbox_id, uint32_t uid)
{
	int64_t docid;
	int ret = search_get_docid(db, mailbox_id, uid, &docid);
	if (ret <= 0)
		return ret;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_GC_ADD);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, docid);
	return index_db_exec_stmt(db, stmt, "queue search document");
}

static int search_insert_keys(struct index_db *db, int64_t mailbox_id, uint32_t uid,
			      int64_t docid, const struct index_search_doc *doc)
{
	const struct index_search_keys *k = &doc->keys;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	sqlite3_bind_int64(stmt, 3, docid);
	sqlite3_bind_int(stmt, 4, doc->truncated ? 1 : 0);
	if (k->has_sent_date) {
		sqlite3_bind_int64(stmt, 5, k->sent_date);
		sqlite3_bind_int(stmt, 6, k->sent_tz);
	}
	index_bind_text_or_null(stmt, 7, k->from_addr);
	index_bind_text_or_null(stmt, 8, k->to_addr);
	index_bind_text_or_null(stmt, 9, k->cc_addr);
	index_bind_text_or_null(stmt, 10, k->from_display);
	index_bind_text_or_null(stmt, 11, k->to_display);
	index_bind_text_or_null(stmt, 12, k->subject);
	sqlite3_bind_int(stmt, 13, k->subject_reply ? 1 : 0);
	index_bind_text_or_null(stmt, 14, k->message_id);
	index_bind_text_or_null(stmt, 15, k->in_reply_to);
	index_bind_text_or_null(stmt, 16, k->references);
	return index_db_exec_stmt(db, stmt, "write search keys");
}

int index_search_put(struct index_db *db, int64_t mailbox_id, uint32_t uid,
		     const struct index_search_doc *doc)
{
	i_assert(index_db_in_write(db));
	sqlite3_stmt *exists = index_db_stmt(db, INDEX_STMT_SEARCH_MSG_EXISTS);
	if (exists == NULL)
		return -1;
	sqlite3_bind_int64(exists, 1, mailbox_id);
	sqlite3_bind_int64(exists, 2, uid);
	int ret = index_db_step_row(db, exists, "look up message");
	if (ret <= 0)
		return ret;
	sqlite3_reset(exists);
	if (search_drop_old(db, mailbox_id, uid) < 0)
		return -1;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_FTS_INSERT);
	if (stmt == NULL)
		return -1;
	for (int i = 0; i < INDEX_SEARCH_COLUMN_COUNT; i++) {
		const char *text = doc->text[i] == NULL ? "" : doc->text[i];
		size_t len = doc->text[i] == NULL ? 0 : doc->text_len[i];
		sqlite3_bind_text64(stmt, i + 1, text, len, SQLITE_STATIC, SQLITE_UTF8);
	}
	if (index_db_exec_stmt(db, stmt, "write full-text index") < 0)
		return -1;
	return search_insert_keys(db, mailbox_id, uid, sqlite3_last_insert_rowid(db->db), doc);
}

int index_search_get_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t *uid_r)
{
	*uid_r = 0;
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_STATE_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	int ret = index_db_step_row(db, stmt, "read search state");
	if (ret > 0) {
		*uid_r = (uint32_t)sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
	}
	return ret < 0 ? -1 : 0;
}

int index_search_set_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid)
{
	i_assert(index_db_in_write(db));
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_STATE_SET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	return index_db_exec_stmt(db, stmt, "write search state");
}

int index_search_advance_indexed_uid(struct index_db *db, int64_t mailbox_id, uint32_t uid)
{
	i_assert(index_db_in_write(db));
	if (uid == 1)
		return index_search_set_indexed_uid(db, mailbox_id, uid);
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_SEARCH_STATE_ADVANCE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, uid);
	return index_db_exec_stmt(db, stmt, "advance search state");
}

static sqlite3_stmt *search_prepare(struct index_db *db, const char *sql)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		index_db_fail(db, "prepare search query");
		return NULL;
	}
	return stmt;
}

/* Steps stmt to its end, appending column 0 of each row to uids. */
static int search_collect_uids(struct index_db *db, sqlite3_stmt *stmt, array_uint32_t *uids,
			       const char *what)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		array_push(uids, (uint32_t)sqlite3_column_int64(stmt, 0));
	if (rc != SQLITE_DONE)
		index_db_fail(db, what);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int index_search_list_missing(struct index_db *db, int64_t mailbox_id, uint32_t after_uid,
			      array_uint32_t *uids_r, uint32_t *max_uid_r)
{
	*max_uid_r = 0;
	sqlite3_stmt *stmt = search_prepare(db,
		"SELECT max(uid) FROM messages WHERE mailbox_id = ?1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*max_uid_r = (uint32_t)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	stmt = search_prepare(db,
		"SELECT uid FROM messages m WHERE mailbox_id = ?1 AND uid > ?2"
		" AND NOT EXISTS (SELECT 1 FROM message_search s"
		"  WHERE s.mailbox_id = m.mailbox_id AND s.uid = m.uid) ORDER BY uid");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, after_uid);
	return search_collect_uids(db, stmt, uids_r, "list unindexed messages");
}

static unsigned int utf8_char_count(const char *s)
{
	unsigned int n = 0;
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	}
	return n;
}

/* An FTS5 string: the needle in double quotes, inner quotes doubled. */
static const char *search_fts_phrase(const char *needle)
{
	string_t *str = t_str_new(strlen(needle) + 8);
	str_append_c(str, '"');
	for (const char *p = needle; *p != '\0'; p++) {
		if (*p == '"')
			str_append_c(str, '"');
		str_append_c(str, *p);
	}
	str_append_c(str, '"');
	return str_c(str);
}

/* The statement selecting (uid, text) or uid of the mailbox's documents
   whose column contains needle; NULL or "" selects all. */
static sqlite3_stmt *search_prepare_match(struct index_db *db, int64_t mailbox_id,
					  enum index_search_column column,
					  const char *needle, bool with_text, bool *sorted_r)
{
	const char *col = column_names[column];
	const char *what = with_text ? t_strdup_printf("s.uid, f.%s", col) : "s.uid";
	const char *sql;
	bool indexed = needle != NULL && utf8_char_count(needle) >= INDEX_SEARCH_MIN_INDEXED_CHARS;
	if (indexed) {
		/* CROSS JOIN keeps the FTS query the outer loop: otherwise the
		   planner may walk the mailbox's rows and run MATCH per row */
		sql = t_strdup_printf("SELECT %s FROM search_fts f CROSS JOIN message_search s"
				      " ON s.docid = f.rowid WHERE f.%s MATCH ?2"
				      " AND s.mailbox_id = ?1", what, col);
	} else {
		sql = t_strdup_printf("SELECT %s FROM message_search s JOIN search_fts f"
				      " ON f.rowid = s.docid WHERE s.mailbox_id = ?1%s"
				      " ORDER BY s.uid", what,
				      needle != NULL && needle[0] != '\0' ?
				      t_strdup_printf(" AND instr(f.%s, ?2) > 0", col) : "");
	}
	sqlite3_stmt *stmt = search_prepare(db, sql);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	if (indexed)
		sqlite3_bind_text(stmt, 2, search_fts_phrase(needle), -1, SQLITE_TRANSIENT);
	else if (needle != NULL && needle[0] != '\0')
		sqlite3_bind_text(stmt, 2, needle, -1, SQLITE_TRANSIENT);
	*sorted_r = !indexed;
	return stmt;
}

int index_search_match(struct index_db *db, int64_t mailbox_id,
		       enum index_search_column column, const char *needle,
		       array_uint32_t *uids_r)
{
	bool sorted;
	unsigned int start = uids_r->count;
	i_assert(needle[0] != '\0');
	sqlite3_stmt *stmt = search_prepare_match(db, mailbox_id, column, needle, false, &sorted);
	if (stmt == NULL || search_collect_uids(db, stmt, uids_r, "search full-text index") < 0)
		return -1;
	if (!sorted)
		qsort(uids_r->v + start, uids_r->count - start, sizeof(uint32_t), uint32_cmp);
	return 0;
}

struct search_text_row {
	uint32_t uid;
	char *text;
	size_t len;
};

static int search_text_row_cmp(const void *a, const void *b)
{
	return uint32_cmp(&((const struct search_text_row *)a)->uid,
		       &((const struct search_text_row *)b)->uid);
}

/* FTS results come in rowid order: they are collected and sorted first. */
static int search_iter_unsorted(struct index_db *db, sqlite3_stmt *stmt,
				index_search_text_callback_t *callback, void *context)
{
	ARRAY(struct search_text_row) rows;
	array_init(&rows, system_pool, 64);
	int rc, ret = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct search_text_row *row = array_append_space(&rows);
		row->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		row->len = (size_t)sqlite3_column_bytes(stmt, 1);
		const char *text = index_column_text(stmt, 1);
		row->text = p_strndup(system_pool, text == NULL ? "" : text, row->len);
	}
	if (rc != SQLITE_DONE)
		ret = index_db_fail(db, "search full-text index");
	sqlite3_finalize(stmt);
	qsort(rows.v, rows.count, sizeof(rows.v[0]), search_text_row_cmp);
	for (unsigned int i = 0; i < rows.count; i++) {
		if (ret == 0 && callback(rows.v[i].uid, rows.v[i].text, rows.v[i].len, context) < 0)
			ret = -1;
		p_free(system_pool, rows.v[i].text);
	}
	array_free(&rows);
	return ret;
}

int index_search_iter_text(struct index_db *db, int64_t mailbox_id,
			   enum index_search_column column, const char *prefilter,
			   index_search_text_callback_t *callback, void *context)
{
	bool sorted;
	sqlite3_stmt *stmt = search_prepare_match(db, mailbox_id, column, prefilter, true, &sorted);
	if (stmt == NULL)
		return -1;
	if (!sorted)
		return search_iter_unsorted(db, stmt, callback, context);
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *text = index_column_text(stmt, 1);
		size_t len = (size_t)sqlite3_column_bytes(stmt, 1);
		if (callback((uint32_t)sqlite3_column_int64(stmt, 0), text == NULL ? "" : text,
			     len, context) < 0)
			ret = -1;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = index_db_fail(db, "search full-text index");
	sqlite3_finalize(stmt);
	return ret;
}

static void search_keys_from_row(sqlite3_stmt *stmt, struct index_search_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->uid = (uint32_t)sqlite3_column_int64(stmt, 0);
	k->has_sent_date = sqlite3_column_type(stmt, 1) != SQLITE_NULL;
	k->sent_date = sqlite3_column_int64(stmt, 1);
	k->sent_tz = sqlite3_column_int(stmt, 2);
	k->from_addr = index_column_text(stmt, 3);
	k->to_addr = index_column_text(stmt, 4);
	k->cc_addr = index_column_text(stmt, 5);
	k->from_display = index_column_text(stmt, 6);
	k->to_display = index_column_text(stmt, 7);
	k->subject = index_column_text(stmt, 8);
	k->subject_reply = sqlite3_column_int(stmt, 9) != 0;
	k->message_id = index_column_text(stmt, 10);
	k->in_reply_to = index_column_text(stmt, 11);
	k->references = index_column_text(stmt, 12);
}

int index_search_iter_keys(struct index_db *db, int64_t mailbox_id, unsigned int fields,
			   index_search_keys_callback_t *callback, void *context)
{
	/* the columns of search_keys_from_row(), NULL where not wanted */
	static const struct { unsigned int field; const char *columns, *nulls; } groups[] = {
		{ INDEX_SEARCH_KEYS_DATE, ", sent_date, sent_tz", ", NULL, NULL" },
		{ INDEX_SEARCH_KEYS_ADDR, ", from_addr, to_addr, cc_addr", ", NULL, NULL, NULL" },
		{ INDEX_SEARCH_KEYS_DISPLAY, ", from_display, to_display", ", NULL, NULL" },
		{ INDEX_SEARCH_KEYS_SUBJECT, ", subject, subject_reply", ", NULL, 0" },
		{ INDEX_SEARCH_KEYS_THREAD, ", message_id, in_reply_to, refs", ", NULL, NULL, NULL" },
	};
	char sql[512] = "SELECT uid";
	for (unsigned int i = 0; i < N_ELEMENTS(groups); i++) {
		strcat(sql, (fields & groups[i].field) != 0 ? groups[i].columns :
		       groups[i].nulls);
	}
	strcat(sql, " FROM message_search WHERE mailbox_id = ?1 ORDER BY uid");
	sqlite3_stmt *stmt = search_prepare(db, sql);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct index_search_keys k;
		search_keys_from_row(stmt, &k);
		if (callback(&k, context) < 0)
			ret = -1;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = index_db_fail(db, "read search keys");
	sqlite3_finalize(stmt);
	return ret;
}

/* Runs sql with the integers binds[0..count). */
static int search_exec(struct index_db *db, const char *sql, const int64_t *binds,
		       unsigned int count)
{
	sqlite3_stmt *stmt = search_prepare(db, sql);
	if (stmt == NULL)
		return -1;
	for (unsigned int i = 0; i < count; i++)
		sqlite3_bind_int64(stmt, (int)i + 1, binds[i]);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : index_db_fail(db, "copy search data");
}

int index_search_copy(struct index_db *db, int64_t src_mailbox_id, uint32_t src_uid,
		      int64_t dest_mailbox_id, uint32_t dest_uid, bool move)
{
	const int64_t keys[4] = { src_mailbox_id, src_uid, dest_mailbox_id, dest_uid };
	i_assert(index_db_in_write(db));
	if (move) {
		return search_exec(db, "UPDATE message_search SET mailbox_id = ?3, uid = ?4"
				   " WHERE mailbox_id = ?1 AND uid = ?2", keys, 4);
	}
	int64_t docid;
	int ret = search_get_docid(db, src_mailbox_id, src_uid, &docid);
	if (ret <= 0)
		return ret;
	if (search_exec(db, "INSERT INTO search_fts (header, body, hfrom, hto, hcc, hbcc,"
			" hsubject) SELECT header, body, hfrom, hto, hcc, hbcc, hsubject"
			" FROM search_fts WHERE rowid = ?1", &docid, 1) < 0)
		return -1;
	return search_exec(db,
		"INSERT OR REPLACE INTO message_search (mailbox_id, uid, docid, truncated,"
		" sent_date, sent_tz, from_addr, to_addr, cc_addr, from_display, to_display,"
		" subject, subject_reply, message_id, in_reply_to, refs)"
		" SELECT ?3, ?4, last_insert_rowid(), truncated, sent_date, sent_tz, from_addr,"
		" to_addr, cc_addr, from_display, to_display, subject, subject_reply,"
		" message_id, in_reply_to, refs FROM message_search"
		" WHERE mailbox_id = ?1 AND uid = ?2", keys, 4);
}

int index_search_reset(struct index_db *db, int64_t mailbox_id)
{
	static const char *const sql[] = {
		("INSERT OR IGNORE INTO search_gc SELECT docid FROM message_search"
		 " WHERE mailbox_id = ?1"),
		"DELETE FROM message_search WHERE mailbox_id = ?1",
		"DELETE FROM search_state WHERE mailbox_id = ?1",
	};
	i_assert(index_db_in_write(db));
	for (unsigned int i = 0; i < N_ELEMENTS(sql); i++) {
		sqlite3_stmt *stmt = search_prepare(db, sql[i]);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, mailbox_id);
		int rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return index_db_fail(db, "reset search documents");
	}
	return 0;
}

int index_search_gc(struct index_db *db, unsigned int max, bool *more_r)
{
	i_assert(index_db_in_write(db));
	*more_r = false;
	sqlite3_stmt *stmt = search_prepare(db,
		"SELECT docid FROM search_gc ORDER BY docid LIMIT ?1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)max + 1);
	ARRAY(int64_t) docids;
	array_init(&docids, t_pool(), max + 1);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		array_push(&docids, sqlite3_column_int64(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return index_db_fail(db, "read search garbage");
	if (docids.count > max) {
		*more_r = true;
		docids.count = max;
	}
	sqlite3_stmt *del_fts = search_prepare(db, "DELETE FROM search_fts WHERE rowid = ?1");
	sqlite3_stmt *del_gc = search_prepare(db, "DELETE FROM search_gc WHERE docid = ?1");
	int ret = del_fts == NULL || del_gc == NULL ? -1 : 0;
	for (unsigned int i = 0; i < docids.count && ret == 0; i++) {
		sqlite3_bind_int64(del_fts, 1, docids.v[i]);
		sqlite3_bind_int64(del_gc, 1, docids.v[i]);
		if (index_db_exec_stmt(db, del_fts, "delete from full-text index") < 0 ||
		    index_db_exec_stmt(db, del_gc, "delete search garbage") < 0)
			ret = -1;
	}
	sqlite3_finalize(del_fts);
	sqlite3_finalize(del_gc);
	return ret;
}

int index_search_gc_pending(struct index_db *db, bool *pending_r)
{
	sqlite3_stmt *stmt = search_prepare(db, "SELECT 1 FROM search_gc LIMIT 1");
	*pending_r = false;
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	*pending_r = rc == SQLITE_ROW;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return index_db_fail(db, "read search garbage");
	return 0;
}
