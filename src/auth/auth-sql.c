/* The engine-independent part of the SQL connection: connecting at the
 * first query, reconnecting after a broken connection with a doubling
 * back-off, and expanding query templates with the engine's escaping. */
#include "auth-sql.h"
#include "log.h"

#include <string.h>
#include <time.h>

struct auth_sql {
	struct auth_sql *next;
	unsigned int refcount;
	const struct auth_sql_engine *engine;
	char *connect;
	char *base_dir;
	void *conn;            /* NULL while not connected */
	uint64_t retry_at;     /* no connect attempt before this (ms) */
	unsigned int backoff_msecs; /* 0 after a successful connect */
	char *last_error;      /* of the last failed connect */
	bool escape_failed;
};

/* auth_db_expand()'s escape function takes no context. Lookups are
   synchronous, so the connection being expanded for is kept here for the
   duration of one auth_db_expand() call. */
static struct auth_sql *auth_sql_escaping;

/* Open databases of this process: a passdb and a userdb with the same
   sql_connect share one connection, as in Dovecot, so each process holds
   one PostgreSQL connection per database, not one per block. */
static struct auth_sql *auth_sql_list;

const struct auth_sql_engine *auth_sql_engine_find(const char *name)
{
	if (strcmp(name, auth_sql_engine_sqlite.name) == 0)
		return &auth_sql_engine_sqlite;
#ifdef TERN_HAVE_PGSQL
	if (strcmp(name, auth_sql_engine_pgsql.name) == 0)
		return &auth_sql_engine_pgsql;
#endif
	return NULL;
}

struct auth_sql *auth_sql_create(const struct auth_sql_engine *engine,
				 const char *connect, const char *base_dir)
{
	struct auth_sql *sql;

	for (sql = auth_sql_list; sql != NULL; sql = sql->next) {
		if (sql->engine == engine && strcmp(sql->connect, connect) == 0 &&
		    strcmp(sql->base_dir, base_dir) == 0) {
			sql->refcount++;
			return sql;
		}
	}
	sql = i_zalloc(sizeof(*sql));
	sql->refcount = 1;
	sql->engine = engine;
	sql->connect = i_strdup(connect);
	sql->base_dir = i_strdup(base_dir);
	sql->next = auth_sql_list;
	auth_sql_list = sql;
	return sql;
}

static void auth_sql_disconnect(struct auth_sql *sql)
{
	if (sql->conn != NULL) {
		sql->engine->disconnect(sql->conn);
		sql->conn = NULL;
	}
}

void auth_sql_destroy(struct auth_sql **_sql)
{
	struct auth_sql *sql = *_sql;

	if (sql == NULL)
		return;
	*_sql = NULL;
	i_assert(sql->refcount > 0);
	if (--sql->refcount > 0)
		return;
	for (struct auth_sql **p = &auth_sql_list; *p != NULL; p = &(*p)->next) {
		if (*p == sql) {
			*p = sql->next;
			break;
		}
	}
	auth_sql_disconnect(sql);
	i_free(sql->connect);
	i_free(sql->base_dir);
	i_free(sql->last_error);
	i_free(sql);
}

static uint64_t auth_sql_now_msecs(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		i_fatal("clock_gettime(CLOCK_MONOTONIC) failed");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Connects unless connected. While a back-off runs, fails without trying,
   so a database that is down sees one attempt per back-off interval per
   process however many logins arrive. */
static int auth_sql_connect(struct auth_sql *sql, const char **error_r)
{
	const char *error;

	if (sql->conn != NULL && sql->engine->is_stale != NULL &&
	    sql->engine->is_stale(sql->conn)) {
		log_info(NULL, "auth_sql_reopen", "engine=%s reason=\"database file changed\"",
			 sql->engine->name);
		auth_sql_disconnect(sql);
	}
	if (sql->conn != NULL)
		return 0;
	uint64_t now = auth_sql_now_msecs();
	if (sql->backoff_msecs > 0 && now < sql->retry_at) {
		*error_r = t_strdup_printf("%s: not connected: %s (next attempt in %u ms)",
					   sql->engine->name, sql->last_error,
					   (unsigned int)(sql->retry_at - now));
		return -1;
	}
	if (sql->engine->connect(sql->connect, sql->base_dir, &sql->conn, &error) < 0) {
		sql->conn = NULL;
		sql->backoff_msecs = sql->backoff_msecs == 0 ? AUTH_SQL_BACKOFF_MIN_MSECS :
			I_MIN(sql->backoff_msecs * 2, AUTH_SQL_BACKOFF_MAX_MSECS);
		/* counted from the end of the attempt: a connect that timed
		   out may have taken longer than the back-off */
		sql->retry_at = auth_sql_now_msecs() + sql->backoff_msecs;
		i_free(sql->last_error);
		sql->last_error = i_strdup(error);
		*error_r = t_strdup_printf("%s: connect failed: %s (next attempt in %u ms)",
					   sql->engine->name, error, sql->backoff_msecs);
		return -1;
	}
	if (sql->backoff_msecs > 0) {
		log_info(NULL, "auth_sql_reconnected", "engine=%s", sql->engine->name);
		sql->backoff_msecs = 0;
	}
	return 0;
}

static const char *auth_sql_escape(const char *value)
{
	struct auth_sql *sql = auth_sql_escaping;
	const char *escaped;

	if (sql->engine->escape(sql->conn, value, &escaped) < 0) {
		sql->escape_failed = true;
		return "";
	}
	return escaped;
}

/* NULL if a value couldn't be escaped. */
static const char *auth_sql_expand(struct auth_sql *sql, const char *tmpl,
				   const struct auth_db_lookup *lookup, const char *name)
{
	i_assert(auth_sql_escaping == NULL);
	auth_sql_escaping = sql;
	sql->escape_failed = false;
	const char *query = auth_db_expand(tmpl, lookup, name, auth_sql_escape, t_pool());
	auth_sql_escaping = NULL;
	return sql->escape_failed ? NULL : query;
}

struct auth_sql_query_context {
	auth_sql_row_callback_t *cb;
	void *context;
	unsigned int rows;
};

static int auth_sql_query_row(const struct auth_sql_row *row, void *context)
{
	struct auth_sql_query_context *ctx = context;

	ctx->rows++;
	return ctx->cb(row, ctx->context);
}

int auth_sql_query(struct auth_sql *sql, const char *tmpl,
		   const struct auth_db_lookup *lookup, const char *name,
		   auth_sql_row_callback_t *cb, void *context, const char **error_r)
{
	struct auth_sql_query_context ctx = { .cb = cb, .context = context };
	const char *error;

	for (unsigned int attempt = 0;; attempt++) {
		if (auth_sql_connect(sql, error_r) < 0)
			return -1;
		const char *query = auth_sql_expand(sql, tmpl, lookup, name);
		if (query == NULL)
			return 0;
		bool broken = false;
		if (sql->engine->query(sql->conn, query, auth_sql_query_row, &ctx,
				       &broken, &error) == 0)
			return 1;
		*error_r = t_strdup_printf("%s: query failed: %s", sql->engine->name, error);
		if (!broken)
			return -1;
		log_warning(NULL, "auth_sql_disconnected", "engine=%s error=%s",
			    sql->engine->name, log_value(error));
		auth_sql_disconnect(sql);
		/* the connection was good until now: one immediate retry on
		   a new one, unless rows were already handed out */
		if (attempt > 0 || ctx.rows > 0)
			return -1;
	}
}

const char *auth_sql_error_text(const char *msg)
{
	if (msg == NULL)
		return "unknown error";
	char *text = p_strdup(t_pool(), msg);
	size_t len = strlen(text);

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' ||
			   text[len - 1] == '\r' || text[len - 1] == '\t'))
		text[--len] = '\0';
	for (char *p = text; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	return len == 0 ? "unknown error" : text;
}
