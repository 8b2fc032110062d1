/* The index schema, its version (PRAGMA user_version) and the migration
 * hook: every table of the per-user index is defined here and nowhere
 * else. A database older than INDEX_SCHEMA_VERSION is migrated step by
 * step inside one write transaction; a newer one is refused. */
#include "index-db-private.h"

#define INDEX_SCHEMA_VERSION 7

/* Version 1.
   - mailboxes: one row per mailbox or \Noselect parent (selectable = 0,
     dir NULL). dir is the driver's location (maildir: "" for INBOX,
     ".a.b" for a/b). Counts (messages, unseen, deleted, vsize = sum of
     RFC822.SIZE) are kept exact in the transactions that change them, so
     STATUS and SELECT never scan messages. disk_stamp is the driver's
     "disk already matches the index" token (maildir: cur/ mtime in ns),
     mirror_modseq the modseq up to which flags are mirrored into file
     names.
   - messages: keyed (mailbox_id, uid) for ordered range scans. keywords
     is a space-separated list or NULL. filename is the driver's name of
     the content (maildir: base name without ":2,..."), fileinfo the part
     after ':' as it is on disk. size is RFC822.SIZE (CRLF line ends),
     psize the stored size. Dates are Unix seconds, internal_tz minutes
     east of UTC.
   - uidmap: the UID set of each mailbox in chunks of 8192 UIDs (bitmap or
     sorted uint16 list), so opening a mailbox loads its UIDs in a few rows.
   - expunged: UIDs expunged at each modseq (RFC 7162 QRESYNC).
   - keywords: keywords defined per mailbox (FLAGS, PERMANENTFLAGS).
   - subscriptions: subscribed names, which need not exist. */
static const char index_schema_v1[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE mailboxes ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" dir TEXT,"
	" selectable INTEGER NOT NULL DEFAULT 1,"
	" special_use INTEGER NOT NULL DEFAULT 0,"
	" uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL DEFAULT 1,"
	" highestmodseq INTEGER NOT NULL DEFAULT 1,"
	" first_recent_uid INTEGER NOT NULL DEFAULT 1,"
	" messages INTEGER NOT NULL DEFAULT 0,"
	" unseen INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" vsize INTEGER NOT NULL DEFAULT 0,"
	" disk_stamp INTEGER NOT NULL DEFAULT 0,"
	" mirror_modseq INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE messages ("
	" mailbox_id INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" flags INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" keywords TEXT,"
	" filename TEXT NOT NULL,"
	" fileinfo TEXT,"
	" internal_date INTEGER NOT NULL,"
	" internal_tz INTEGER NOT NULL,"
	" save_date INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" psize INTEGER NOT NULL,"
	" guid TEXT NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX messages_filename ON messages (mailbox_id, filename);"
	"CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);"
	"CREATE INDEX messages_unseen ON messages (mailbox_id, uid) WHERE flags & 8 = 0;"
	"CREATE INDEX messages_deleted ON messages (mailbox_id, uid) WHERE flags & 4 != 0;"
	"CREATE TABLE uidmap ("
	" mailbox_id INTEGER NOT NULL, chunk INTEGER NOT NULL, uids BLOB NOT NULL,"
	" PRIMARY KEY (mailbox_id, chunk)) WITHOUT ROWID;"
	"CREATE TABLE expunged ("
	" mailbox_id INTEGER NOT NULL, modseq INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, modseq, uid)) WITHOUT ROWID;"
	"CREATE TABLE keywords ("
	" mailbox_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,"
	" PRIMARY KEY (mailbox_id, name)) WITHOUT ROWID;"
	"CREATE TABLE subscriptions (name TEXT PRIMARY KEY) WITHOUT ROWID;";

/* Version 2 adds message_cache: what FETCH renders from a message's
   parsed structure (ENVELOPE, BODY and BODYSTRUCTURE as sent), filled on
   first use, so repeated fetches don't read and parse message files. Any
   column may be NULL (not computed yet). Deleting a message row deletes
   its cache row (the trigger), so a cache row never outlives its message,
   also across UIDVALIDITY changes, which delete all rows first. */
static const char index_schema_v2[] =
	"CREATE TABLE message_cache ("
	" mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" envelope TEXT, body TEXT, bodystructure TEXT,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE TRIGGER message_cache_gc AFTER DELETE ON messages BEGIN"
	" DELETE FROM message_cache WHERE mailbox_id = old.mailbox_id AND uid = old.uid;"
	" END;";

/* Version 3 adds messages_flags, a covering index of what FETCH FLAGS and
   flag updates read (INDEX_STMT_MSG_RANGE_FLAGS): about 30 bytes a
   message instead of the whole row, so UID FETCH 1:* (UID FLAGS) on
   100,000 messages reads a fifth of the pages. */
static const char index_schema_v3[] =
	"CREATE INDEX messages_flags ON messages (mailbox_id, uid, flags, modseq, keywords);";

/* Version 4 adds what SEARCH, SORT and THREAD read instead of message
   files (index-search.h):
   - search_fts: the full-text index (FTS5, trigram tokenizer, exact
     substrings) of each message's searchable text in i;unicode-casemap
     form: all header fields, the body's text parts, and From/To/Cc/Bcc/
     Subject separately. Its rowid is the message's docid.
   - message_search: per message its docid and the SORT/THREAD keys.
     Docids come from search_fts's rowid and are not reused while a row
     with that rowid is still in search_fts.
   - search_gc: docids of deleted messages whose search_fts rows are still
     to be deleted. Deleting from FTS5 re-reads and re-tokenizes the text,
     so an EXPUNGE of thousands of messages only queues them (the
     triggers) and the rows go later, in small batches.
   - search_state: per mailbox the UID up to which every message has a
     message_search row, so finding unindexed messages is a short scan.
   The triggers keep all of it consistent with messages and mailboxes,
   whichever code deletes them. */
static const char index_schema_v4[] =
	"CREATE VIRTUAL TABLE search_fts USING fts5("
	" header, body, hfrom, hto, hcc, hbcc, hsubject,"
	" tokenize = 'trigram case_sensitive 1', detail = full);"
	"CREATE TABLE message_search ("
	" mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" docid INTEGER NOT NULL, truncated INTEGER NOT NULL DEFAULT 0,"
	" sent_date INTEGER, sent_tz INTEGER,"
	" from_addr TEXT, to_addr TEXT, cc_addr TEXT,"
	" from_display TEXT, to_display TEXT,"
	" subject TEXT, subject_reply INTEGER NOT NULL DEFAULT 0,"
	" message_id TEXT, in_reply_to TEXT, refs TEXT,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX message_search_docid ON message_search (docid);"
	"CREATE TABLE search_gc (docid INTEGER PRIMARY KEY);"
	"CREATE TABLE search_state ("
	" mailbox_id INTEGER PRIMARY KEY, indexed_uid INTEGER NOT NULL);"
	"CREATE TRIGGER message_search_gc AFTER DELETE ON messages BEGIN"
	" INSERT OR IGNORE INTO search_gc SELECT docid FROM message_search"
	"  WHERE mailbox_id = old.mailbox_id AND uid = old.uid;"
	" DELETE FROM message_search WHERE mailbox_id = old.mailbox_id AND uid = old.uid;"
	" END;"
	"CREATE TRIGGER mailbox_search_reset AFTER UPDATE OF uidvalidity ON mailboxes BEGIN"
	" INSERT OR IGNORE INTO search_gc SELECT docid FROM message_search"
	"  WHERE mailbox_id = old.id;"
	" DELETE FROM message_search WHERE mailbox_id = old.id;"
	" DELETE FROM search_state WHERE mailbox_id = old.id;"
	" END;"
	"CREATE TRIGGER mailbox_search_gc AFTER DELETE ON mailboxes BEGIN"
	" INSERT OR IGNORE INTO search_gc SELECT docid FROM message_search"
	"  WHERE mailbox_id = old.id;"
	" DELETE FROM message_search WHERE mailbox_id = old.id;"
	" DELETE FROM search_state WHERE mailbox_id = old.id;"
	" END;";

/* Version 5 adds the message's root header block to the message cache
   (zlib-compressed, see mail-cache.c): BODY[HEADER], HEADER.FIELDS and
   RFC822.HEADER of cached messages read no file. */
static const char index_schema_v5[] =
	"ALTER TABLE message_cache ADD COLUMN header BLOB;";

/* Version 6 adds attributes: mailbox and server annotations (RFC 5464
   METADATA; Sieve's mboxmetadata/servermetadata, RFC 5490), see
   index-attribute.h. mailbox_id is the mailbox's id, or 0 for the
   server's entries; type 0 is private (/private/...), 1 shared
   (/shared/...); key is the entry name below that prefix, lower-case
   ("comment", "vendor/x/y"); value is binary (may hold NULs). Rows follow
   their mailbox through RENAME (the id stays); the triggers remove them
   when the mailbox row goes, or is reset (DELETE of a mailbox with
   children leaving a \Noselect parent, CREATE over such a parent), so
   a mailbox created again under an old name starts without entries. */
static const char index_schema_v6[] =
	"CREATE TABLE attributes ("
	" mailbox_id INTEGER NOT NULL, type INTEGER NOT NULL,"
	" key TEXT NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY (mailbox_id, type, key)) WITHOUT ROWID;"
	"CREATE TRIGGER mailbox_attributes_gc AFTER DELETE ON mailboxes BEGIN"
	" DELETE FROM attributes WHERE mailbox_id = old.id;"
	" END;"
	"CREATE TRIGGER mailbox_attributes_reset AFTER UPDATE OF uidvalidity ON mailboxes BEGIN"
	" DELETE FROM attributes WHERE mailbox_id = old.id;"
	" END;";

/* Version 7 keeps the flags and keywords an expunged message had, in its
   expunged row (NULL for older rows), and indexes the rows by UID: a
   session that hasn't announced the expunge yet still shows the message,
   and a STORE on it answers with the flags it would now have (RFC 2180
   §4.2), as imaptest's flag-ownership checks expect. */
static const char index_schema_v7[] =
	"ALTER TABLE expunged ADD COLUMN flags INTEGER;"
	"ALTER TABLE expunged ADD COLUMN keywords TEXT;"
	"CREATE INDEX expunged_uid ON expunged (mailbox_id, uid);";

/* Migration from version (index + 1) to (index + 2). Each step runs in
   the same transaction as the version bump. */
static const char *const index_migrations[INDEX_SCHEMA_VERSION - 1] = {
	index_schema_v2,
	index_schema_v3,
	index_schema_v4,
	index_schema_v5,
	index_schema_v6,
	index_schema_v7,
};

static int index_schema_get_version(struct index_db *db, int *version_r)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return index_db_fail(db, "read schema version");
	int rc = sqlite3_step(stmt);
	*version_r = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return index_db_fail(db, "read schema version");
	return 0;
}

static int index_schema_exec(struct index_db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return index_db_fail(db, what);
	return 0;
}

static int index_schema_upgrade(struct index_db *db, int version, bool *created_r)
{
	if (version == 0) {
		if (index_schema_exec(db, index_schema_v1, "create schema") < 0)
			return -1;
		*created_r = true;
		version = 1;
	}
	for (; version < INDEX_SCHEMA_VERSION; version++) {
		const char *sql = index_migrations[version - 1];
		if (sql != NULL && index_schema_exec(db, sql, "migrate schema") < 0)
			return -1;
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", INDEX_SCHEMA_VERSION);
	return index_schema_exec(db, sql, "write schema version");
}

int index_schema_apply(struct index_db *db, bool *created_r)
{
	int version;
	if (index_schema_get_version(db, &version) < 0)
		return -1;
	if (version == INDEX_SCHEMA_VERSION)
		return 0;
	if (version > INDEX_SCHEMA_VERSION) {
		return index_db_fail_text(db, t_strdup_printf(
			"index schema version %d is newer than this program's %d",
			version, INDEX_SCHEMA_VERSION));
	}
	/* another process may be creating it right now: decide under the
	   write lock */
	if (index_db_begin_write(db) < 0)
		return -1;
	if (index_schema_get_version(db, &version) < 0 ||
	    (version < INDEX_SCHEMA_VERSION &&
	     index_schema_upgrade(db, version, created_r) < 0)) {
		index_db_rollback(db);
		*created_r = false;
		return -1;
	}
	return index_db_commit(db);
}
