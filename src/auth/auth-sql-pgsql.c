/* The PostgreSQL engine of the sql passdb/userdb, through libpq: a blocking
 * connection with connect, statement and TCP timeouts, values escaped with
 * PQescapeStringConn(), and rows fetched one at a time (single-row mode) so
 * a large result never sits in memory. */
#include "auth-sql.h"
#include "log.h"
#include "mutf7.h"

#include <libpq-fe.h>
#include <string.h>

struct pgsql_conn {
	PGconn *pg;
};

static void pgsql_disconnect(void *_conn)
{
	struct pgsql_conn *conn = _conn;

	PQfinish(conn->pg);
	i_free(conn);
}

/* libpq would print notices (a query's warnings) to stderr */
static void pgsql_notice(void *context, const char *message)
{
	log_debug(NULL, "auth_sql_notice", "engine=pgsql message=%s",
		  log_value(auth_sql_error_text(message)));
}

static int pgsql_connect(const char *connect, const char *base_dir, void **conn_r,
			 const char **error_r)
{
	/* Defaults come before dbname, which holds sql_connect expanded as a
	   connection string: libpq lets its fields override earlier entries,
	   so a connect_timeout or options in sql_connect wins. */
	const char *connect_timeout = t_strdup_printf("%u", AUTH_SQL_CONNECT_TIMEOUT_SECS);
	const char *options = t_strdup_printf("-c statement_timeout=%u",
					      AUTH_SQL_STATEMENT_TIMEOUT_MSECS);
	/* a peer that vanished without a FIN would otherwise block a query
	   for the kernel's retransmission timeout (minutes) */
	const char *tcp_user_timeout = t_strdup_printf("%u", AUTH_SQL_STATEMENT_TIMEOUT_MSECS);
	const char *const keys[] = {
		"connect_timeout", "options", "tcp_user_timeout", "client_encoding",
		"application_name", "dbname", NULL
	};
	const char *const values[] = {
		connect_timeout, options, tcp_user_timeout, "UTF8", "tern-auth", connect, NULL
	};

	PGconn *pg = PQconnectdbParams(keys, values, 1);
	if (pg == NULL) {
		*error_r = "PQconnectdbParams() failed: out of memory";
		return -1;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		*error_r = auth_sql_error_text(PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	(void)PQsetNoticeProcessor(pg, pgsql_notice, NULL);
	struct pgsql_conn *conn = i_zalloc(sizeof(*conn));
	conn->pg = pg;
	*conn_r = conn;
	return 0;
}

static int pgsql_escape(void *_conn, const char *value, const char **escaped_r)
{
	struct pgsql_conn *conn = _conn;
	size_t len = strlen(value);
	char *buf = t_malloc(size_add(size_mul(len, 2), 1));
	int error = 0;

	/* libpq before the CVE-2025-1094 fixes (15.11 and friends) checked
	   only that multibyte sequences are complete; the server would refuse
	   the query for other invalid UTF-8, and a client could so make
	   lookups fail "temporarily" */
	if (strcmp(pg_encoding_to_char(PQclientEncoding(conn->pg)), "UTF8") == 0 &&
	    !utf8_is_valid_printable(value))
		return -1;
	/* knows the connection's encoding and standard_conforming_strings */
	(void)PQescapeStringConn(conn->pg, buf, value, len, &error);
	if (error != 0)
		return -1;
	*escaped_r = buf;
	return 0;
}

/* Hands the rows of res to cb. Returns 1 if cb asked to stop, else 0. */
static int pgsql_rows(PGresult *res, auth_sql_row_callback_t *cb, void *context)
{
	int count = PQnfields(res);
	const char **names = t_malloc(sizeof(*names) * (size_t)I_MAX(count, 1));
	const char **values = t_malloc(sizeof(*values) * (size_t)I_MAX(count, 1));
	struct auth_sql_row row = {
		.count = (unsigned int)count, .names = names, .values = values,
	};

	for (int i = 0; i < count; i++)
		names[i] = PQfname(res, i);
	for (int r = 0; r < PQntuples(res); r++) {
		for (int i = 0; i < count; i++)
			values[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
		if (cb(&row, context) != 0)
			return 1;
	}
	return 0;
}

static int pgsql_query(void *_conn, const char *query, auth_sql_row_callback_t *cb,
		       void *context, bool *broken_r, const char **error_r)
{
	struct pgsql_conn *conn = _conn;
	const char *error = NULL;
	bool stopped = false;
	PGresult *res;

	/* the extended protocol (a query with zero parameters) refuses more
	   than one statement, whatever a template value contained */
	if (PQsendQueryParams(conn->pg, query, 0, NULL, NULL, NULL, NULL, 0) == 0) {
		*error_r = auth_sql_error_text(PQerrorMessage(conn->pg));
		*broken_r = PQstatus(conn->pg) == CONNECTION_BAD;
		return -1;
	}
	/* without single-row mode the whole result comes at once */
	(void)PQsetSingleRowMode(conn->pg);
	/* every result must be read before the connection takes another
	   query; rows after a stop are read and dropped one at a time */
	while ((res = PQgetResult(conn->pg)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			if (!stopped && error == NULL)
				stopped = pgsql_rows(res, cb, context) != 0;
			break;
		case PGRES_COMMAND_OK:
			break;
		default:
			if (error == NULL)
				error = auth_sql_error_text(PQresultErrorMessage(res));
			break;
		}
		PQclear(res);
	}
	if (error != NULL) {
		*error_r = error;
		*broken_r = PQstatus(conn->pg) == CONNECTION_BAD;
		return -1;
	}
	return 0;
}

const struct auth_sql_engine auth_sql_engine_pgsql = {
	.name = "pgsql",
	.connect = pgsql_connect,
	.disconnect = pgsql_disconnect,
	.escape = pgsql_escape,
	.query = pgsql_query,
};
