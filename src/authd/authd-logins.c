/* Successful logins waiting for the master's REQUEST. A login process
 * reports "user X logged in with request N" in its hand-off; the master
 * asks here, with the login process's real pid, whether that is true.
 * Entries are keyed by the client connection's secret cookie and the
 * request id, so a login process can only name its own logins, and each is
 * answered once. */
#include "authd-private.h"
#include "hash.h"
#include "ioloop.h"
#include "log.h"

/* The logins of one client connection (one cookie): a login process can
   only push out its own logins, never another process's. */
struct authd_login_conn {
	char cookie[AUTH_PROTO_COOKIE_HEX_LEN + 1];
	struct authd_login *head, *tail;
	unsigned int count;
};

struct authd_login {
	/* in insertion order, which is expiry order (one TTL for all) */
	struct authd_login *prev, *next;
	/* the same, among the connection's logins */
	struct authd_login *conn_prev, *conn_next;
	struct authd_login_conn *conn;
	pool_t pool;
	char *key; /* "<cookie>/<request id>" */
	pid_t client_pid;
	uint64_t expires_ms;
	struct auth_user *user;
};

struct authd_logins {
	struct hash_table *table; /* key -> login */
	struct hash_table *conns; /* cookie -> login conn */
	struct authd_login *head, *tail;
	unsigned int count, max, max_per_conn, ttl_ms;
	struct timeout *to;
};

static void authd_logins_expire(void *context);

struct authd_logins *authd_logins_create(unsigned int ttl_ms, unsigned int max,
					 unsigned int max_per_conn)
{
	struct authd_logins *logins = i_zalloc(sizeof(*logins));

	logins->table = hash_table_create(system_pool, str_hash, str_cmp);
	logins->conns = hash_table_create(system_pool, str_hash, str_cmp);
	logins->ttl_ms = ttl_ms;
	logins->max = max;
	logins->max_per_conn = I_MIN(max_per_conn, max);
	return logins;
}

static void authd_login_conn_unlink(struct authd_logins *logins, struct authd_login *login)
{
	struct authd_login_conn *conn = login->conn;

	if (login->conn_prev != NULL)
		login->conn_prev->conn_next = login->conn_next;
	else
		conn->head = login->conn_next;
	if (login->conn_next != NULL)
		login->conn_next->conn_prev = login->conn_prev;
	else
		conn->tail = login->conn_prev;
	if (--conn->count == 0) {
		hash_table_remove(logins->conns, conn->cookie);
		free(conn);
	}
}

static void authd_login_remove(struct authd_logins *logins, struct authd_login *login)
{
	hash_table_remove(logins->table, login->key);
	authd_login_conn_unlink(logins, login);
	if (login->prev != NULL)
		login->prev->next = login->next;
	else
		logins->head = login->next;
	if (login->next != NULL)
		login->next->prev = login->prev;
	else
		logins->tail = login->prev;
	logins->count--;
	pool_destroy(&login->pool);
}

void authd_logins_destroy(struct authd_logins **_logins)
{
	struct authd_logins *logins = *_logins;

	if (logins == NULL)
		return;
	*_logins = NULL;
	while (logins->head != NULL)
		authd_login_remove(logins, logins->head);
	timeout_remove(&logins->to);
	hash_table_destroy(&logins->table);
	hash_table_destroy(&logins->conns);
	free(logins);
}

static void authd_logins_schedule(struct authd_logins *logins)
{
	timeout_remove(&logins->to);
	if (logins->head == NULL)
		return;
	uint64_t now = ioloop_now_ms();
	uint64_t due = logins->head->expires_ms;
	logins->to = timeout_add_once(due > now ? (unsigned int)(due - now) : 0,
				      authd_logins_expire, logins);
}

static void authd_logins_expire(void *context)
{
	struct authd_logins *logins = context;
	uint64_t now = ioloop_now_ms();

	logins->to = NULL;
	while (logins->head != NULL && logins->head->expires_ms <= now) {
		log_debug(NULL, "authd_login_expired", "user=%s",
			  log_value(logins->head->user->name));
		authd_login_remove(logins, logins->head);
	}
	authd_logins_schedule(logins);
}

static struct auth_user *authd_user_copy(pool_t pool, const struct auth_user *src)
{
	struct auth_user *user = auth_user_new(pool, src->name);

	user->home = src->home == NULL ? NULL : p_strdup(pool, src->home);
	user->uid = src->uid;
	user->gid = src->gid;
	for (unsigned int i = 0; i < src->extra.count; i++)
		array_push(&user->extra, p_strdup(pool, src->extra.v[i]));
	return user;
}

static const char *authd_login_key(const char *cookie, unsigned int request_id)
{
	return t_strdup_printf("%s/%u", cookie, request_id);
}

static struct authd_login_conn *authd_login_conn_get(struct authd_logins *logins,
						     const char *cookie)
{
	struct authd_login_conn *conn = hash_table_lookup(logins->conns, cookie);

	if (conn == NULL) {
		conn = i_zalloc(sizeof(*conn));
		i_assert(strlen(cookie) < sizeof(conn->cookie));
		memcpy(conn->cookie, cookie, strlen(cookie) + 1);
		hash_table_insert(logins->conns, conn->cookie, conn);
	}
	return conn;
}

/* Makes room for one more login of cookie's connection: its own oldest
   goes first, then the oldest of all. */
static void authd_logins_make_room(struct authd_logins *logins, const char *cookie)
{
	struct authd_login_conn *conn = hash_table_lookup(logins->conns, cookie);
	struct authd_login *victim = NULL;

	if (conn != NULL && conn->count >= logins->max_per_conn)
		victim = conn->head;
	else if (logins->count >= logins->max)
		victim = logins->head;
	if (victim == NULL)
		return;
	log_warning(NULL, "authd_login_dropped",
		    "user=%s reason=\"too many logins waiting for the master\"",
		    log_value(victim->user->name));
	authd_login_remove(logins, victim);
}

void authd_logins_add(struct authd_logins *logins, pid_t client_pid, const char *cookie,
		      unsigned int request_id, const struct auth_user *user)
{
	const char *key = authd_login_key(cookie, request_id);
	struct authd_login *old = hash_table_lookup(logins->table, key);

	/* a request id reused on the same connection replaces the old login */
	if (old != NULL)
		authd_login_remove(logins, old);
	authd_logins_make_room(logins, cookie);
	pool_t pool = pool_create("authd login", 512);
	struct authd_login *login = p_malloc(pool, sizeof(*login));
	login->pool = pool;
	login->key = p_strdup(pool, key);
	login->client_pid = client_pid;
	login->expires_ms = ioloop_now_ms() + logins->ttl_ms;
	login->user = authd_user_copy(pool, user);
	hash_table_insert(logins->table, login->key, login);
	login->prev = logins->tail;
	if (logins->tail != NULL)
		logins->tail->next = login;
	else
		logins->head = login;
	logins->tail = login;
	logins->count++;
	struct authd_login_conn *conn = authd_login_conn_get(logins, cookie);
	login->conn = conn;
	login->conn_prev = conn->tail;
	if (conn->tail != NULL)
		conn->tail->conn_next = login;
	else
		conn->head = login;
	conn->tail = login;
	conn->count++;
	if (logins->to == NULL)
		authd_logins_schedule(logins);
}

int authd_logins_take(struct authd_logins *logins, pid_t client_pid, const char *cookie,
		      unsigned int request_id, pool_t pool, struct auth_user **user_r,
		      const char **error_r)
{
	*user_r = NULL;
	if (!auth_proto_cookie_is_valid(cookie))
		return 0;
	struct authd_login *login =
		hash_table_lookup(logins->table, authd_login_key(cookie, request_id));
	if (login == NULL || login->expires_ms <= ioloop_now_ms())
		return 0;
	if (login->client_pid != client_pid) {
		*error_r = t_strdup_printf("login was made by pid %ld, not %ld",
					   (long)login->client_pid, (long)client_pid);
		authd_login_remove(logins, login);
		authd_logins_schedule(logins);
		return -1;
	}
	*user_r = authd_user_copy(pool, login->user);
	authd_login_remove(logins, login);
	authd_logins_schedule(logins);
	return 1;
}

unsigned int authd_logins_count(const struct authd_logins *logins)
{
	return logins->count;
}
