/* The small SQL connection layer under the sql passdb/userdb: one engine
 * table per database (SQLite, PostgreSQL), a lazy connection that is
 * reopened after it broke, with a back-off so a database that is down isn't
 * hammered, and queries built from %-templates with engine-escaped values.
 * Everything is synchronous. */
#ifndef TERN_AUTH_SQL_H
#define TERN_AUTH_SQL_H

#include "auth-db.h"

/* The first failed connect waits this long before the next attempt; every
   further failure doubles the wait up to the maximum. */
#define AUTH_SQL_BACKOFF_MIN_MSECS 1000
#define AUTH_SQL_BACKOFF_MAX_MSECS 30000
/* PostgreSQL: defaults that sql_connect may override */
#define AUTH_SQL_CONNECT_TIMEOUT_SECS 5
#define AUTH_SQL_STATEMENT_TIMEOUT_MSECS 10000
/* SQLite: how long a query waits for a writer's lock */
#define AUTH_SQL_BUSY_TIMEOUT_MSECS 5000

/* One result row. names and values are valid only during the callback;
   a value is NULL for SQL NULL. */
struct auth_sql_row {
	unsigned int count;
	const char *const *names;
	const char *const *values;
};

/* Called for every row; returns 0 to go on, 1 to stop (the rest of the
   result is discarded). */
typedef int auth_sql_row_callback_t(const struct auth_sql_row *row, void *context);

/* One database engine. A connection is the engine's own context. */
struct auth_sql_engine {
	const char *name;
	/* connect is sql_connect; a relative SQLite path is under base_dir.
	   Returns 0, or -1 with *error_r. */
	int (*connect)(const char *connect, const char *base_dir, void **conn_r,
		       const char **error_r);
	void (*disconnect)(void *conn);
	/* True if the connection should be reopened before the next query
	   (the SQLite file was replaced). NULL: never. */
	bool (*is_stale)(void *conn);
	/* Escapes value for use inside a '...' string literal of a query.
	   *escaped_r is from the temporary pool. Returns 0, or -1 if value
	   can't be expressed in the connection's encoding. */
	int (*escape)(void *conn, const char *value, const char **escaped_r);
	/* Runs query, calling cb for each row. Returns 0, or -1 with
	   *error_r; *broken_r then says whether the connection is unusable
	   (it is closed and reopened). */
	int (*query)(void *conn, const char *query, auth_sql_row_callback_t *cb,
		     void *context, bool *broken_r, const char **error_r);
};

extern const struct auth_sql_engine auth_sql_engine_sqlite;
#ifdef TERN_HAVE_PGSQL
extern const struct auth_sql_engine auth_sql_engine_pgsql;
#endif

struct auth_sql;

/* The engine called name ("sqlite", "pgsql"), or NULL if not built. */
const struct auth_sql_engine *auth_sql_engine_find(const char *name);

/* Doesn't connect: the first query does. Never fails. Callers with the
   same engine, connect and base_dir share one connection (reference
   counted). */
struct auth_sql *auth_sql_create(const struct auth_sql_engine *engine,
				 const char *connect, const char *base_dir);
/* Drops a reference; the last one disconnects. Accepts NULL; *sql
   becomes NULL. */
void auth_sql_destroy(struct auth_sql **sql);

/* Expands tmpl (auth_db_expand() with the engine's escaping) and runs it.
   A connection that broke is reopened at once and the query retried once
   (a database restart between two lookups costs no failed login); a
   failed connect starts the back-off, during which queries fail at once.
   Returns 1 ran, 0 a template value can't be expressed in the database's
   encoding (so no row can match; nothing ran), -1 error (*error_r). */
int auth_sql_query(struct auth_sql *sql, const char *tmpl,
		   const struct auth_db_lookup *lookup, const char *name,
		   auth_sql_row_callback_t *cb, void *context, const char **error_r);

/* An error text from a database library on one line, without the
   trailing newline, in the temporary pool. */
const char *auth_sql_error_text(const char *msg);

#endif
