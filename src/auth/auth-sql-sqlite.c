/* The SQLite engine of the sql passdb/userdb: the database file opened
 * read-only, reopened when the file is replaced (a new inode) or after an
 * I/O or corruption error, with a busy timeout for a writer's lock. */
#include "auth-sql.h"
#include "buffer.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

struct sqlite_conn {
	sqlite3 *db;
	char *path;
	dev_t dev;
	ino_t ino;
};

static void sqlite_disconnect(void *_conn)
{
	struct sqlite_conn *conn = _conn;

	(void)sqlite3_close_v2(conn->db);
	i_free(conn->path);
	i_free(conn);
}

static int sqlite_connect(const char *connect, const char *base_dir, void **conn_r,
			  const char **error_r)
{
	const char *path = connect;
	struct stat st;
	sqlite3 *db = NULL;

	if (path[0] == '\0') {
		*error_r = "sql_connect must be the SQLite database's path";
		return -1;
	}
	if (path[0] != '/')
		path = t_strdup_printf("%s/%s", base_dir, path);
	/* stat first: the inode tells a replaced file apart later, and
	   SQLite's own error for a missing file doesn't name it */
	if (stat(path, &st) < 0) {
		*error_r = t_strdup_printf("stat(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*error_r = t_strdup_printf("open(%s) failed: %s", path,
					   db == NULL ? sqlite3_errstr(rc) : sqlite3_errmsg(db));
		(void)sqlite3_close_v2(db);
		return -1;
	}
	(void)sqlite3_busy_timeout(db, AUTH_SQL_BUSY_TIMEOUT_MSECS);

	struct sqlite_conn *conn = i_zalloc(sizeof(*conn));
	conn->db = db;
	conn->path = i_strdup(path);
	conn->dev = st.st_dev;
	conn->ino = st.st_ino;
	*conn_r = conn;
	return 0;
}

static bool sqlite_is_stale(void *_conn)
{
	struct sqlite_conn *conn = _conn;
	struct stat st;

	/* a file replaced by rename() or removed: the open handle still
	   reads the old one */
	return stat(conn->path, &st) < 0 || st.st_ino != conn->ino || st.st_dev != conn->dev;
}

static int sqlite_escape(void *conn, const char *value, const char **escaped_r)
{
	if (strchr(value, '\'') == NULL) {
		*escaped_r = value;
		return 0;
	}
	/* SQL string literal: a quote is written twice; a backslash is an
	   ordinary character in SQLite */
	string_t *str = t_str_new(strlen(value) + 8);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\'')
			str_append_c(str, '\'');
		str_append_c(str, *p);
	}
	*escaped_r = str_c(str);
	return 0;
}

/* Errors after which the handle is closed and the file reopened; the
   others (SQL errors, a lock timeout) say nothing about the handle. */
static bool sqlite_error_is_broken(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
	case SQLITE_SCHEMA:
		return true;
	default:
		return false;
	}
}

static int sqlite_error(struct sqlite_conn *conn, int rc, bool *broken_r,
			const char **error_r)
{
	*error_r = t_strdup_printf("%s (%s)", sqlite3_errmsg(conn->db), conn->path);
	*broken_r = sqlite_error_is_broken(rc);
	return -1;
}

static int sqlite_step_rows(struct sqlite_conn *conn, sqlite3_stmt *stmt,
			    auth_sql_row_callback_t *cb, void *context,
			    bool *broken_r, const char **error_r)
{
	int count = sqlite3_column_count(stmt);
	const char **names = t_malloc(sizeof(*names) * (size_t)I_MAX(count, 1));
	const char **values = t_malloc(sizeof(*values) * (size_t)I_MAX(count, 1));
	struct auth_sql_row row = {
		.count = (unsigned int)count, .names = names, .values = values,
	};
	int rc;

	for (int i = 0; i < count; i++) {
		const char *name = sqlite3_column_name(stmt, i);
		names[i] = name == NULL ? "" : name;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < count; i++) {
			values[i] = sqlite3_column_type(stmt, i) == SQLITE_NULL ? NULL :
				(const char *)sqlite3_column_text(stmt, i);
		}
		if (cb(&row, context) != 0)
			return 0;
	}
	if (rc != SQLITE_DONE)
		return sqlite_error(conn, rc, broken_r, error_r);
	return 0;
}

static int sqlite_query(void *_conn, const char *query, auth_sql_row_callback_t *cb,
			void *context, bool *broken_r, const char **error_r)
{
	struct sqlite_conn *conn = _conn;
	sqlite3_stmt *stmt;
	const char *tail;

	int rc = sqlite3_prepare_v2(conn->db, query, -1, &stmt, &tail);
	if (rc != SQLITE_OK)
		return sqlite_error(conn, rc, broken_r, error_r);
	if (stmt == NULL) {
		*error_r = "empty query";
		return -1;
	}
	/* one statement only: even if a template value escaped its quotes
	   it couldn't chain another statement (the file is read-only too) */
	tail += strspn(tail, " \t\r\n;");
	if (*tail != '\0') {
		(void)sqlite3_finalize(stmt);
		*error_r = "the query has more than one statement";
		return -1;
	}
	int ret = sqlite_step_rows(conn, stmt, cb, context, broken_r, error_r);
	(void)sqlite3_finalize(stmt);
	return ret;
}

const struct auth_sql_engine auth_sql_engine_sqlite = {
	.name = "sqlite",
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.is_stale = sqlite_is_stale,
	.escape = sqlite_escape,
	.query = sqlite_query,
};
