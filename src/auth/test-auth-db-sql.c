/* Unit tests of the sql driver (auth-db-sql.c, auth-sql.c) against a
 * temporary SQLite database: passdb and userdb fields, NULL columns, zero
 * and multiple rows, escaping of hostile names, iteration, a replaced
 * database file, the reconnect back-off and the connection that a passdb
 * and a userdb share. */
#include "auth-db.h"
#include "auth-password.h"
#include "test-common.h"

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_PASSWORD_QUERY \
	"SELECT username AS user, password, nologin, reason, allow_nets, nopassword, " \
	"home AS userdb_home, quota_rule AS userdb_quota_rule " \
	"FROM users WHERE username = '%u'"
#define TEST_USER_QUERY \
	"SELECT home, uid, gid, quota_rule, password FROM users WHERE username = '%u'"

static char test_dir[] = "/tmp/test-auth-db-sql.XXXXXX";
static const char *test_crypt_hash;

static const struct auth_db_lookup test_lookup = {
	.user = "alice", .service = "imap", .remote_ip = "192.0.2.7",
};

static struct auth_db_settings test_settings(void)
{
	return (struct auth_db_settings){
		.name = "users", .driver = "sql", .sql_driver = "sqlite",
		.sql_connect = "users.db",
		.sql_password_query = TEST_PASSWORD_QUERY,
		.sql_user_query = TEST_USER_QUERY,
		.sql_iterate_query = "SELECT username, domain FROM users ORDER BY username",
		.username_format = "%u", .default_password_scheme = "CRYPT",
	};
}

/* Writes the database to name (in test_dir) with the rows of the tests. */
static void test_db_create(const char *name, const char *extra_sql)
{
	const char *path = t_strdup_printf("%s/%s", test_dir, name);
	sqlite3 *db;
	char *error = NULL;

	(void)unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		i_fatal("sqlite3_open(%s) failed", path);
	const char *sql = t_strdup_printf(
		"CREATE TABLE users (username TEXT, domain TEXT, password TEXT, "
		"  home TEXT, uid TEXT, gid TEXT, quota_rule TEXT, nologin TEXT, "
		"  reason TEXT, allow_nets TEXT, nopassword TEXT);"
		"INSERT INTO users VALUES ('alice', 'example.com', '{PLAIN}alicepw', "
		"  '/home/alice', '1000', '1001', '*:storage=1G', NULL, NULL, NULL, NULL);"
		"INSERT INTO users VALUES ('bob', 'example.com', '%s', "
		"  '/home/bob', NULL, NULL, NULL, NULL, NULL, '127.0.0.0/8', NULL);"
		"INSERT INTO users VALUES ('carol', NULL, '{PLAIN}c', "
		"  NULL, NULL, NULL, NULL, 'Y', 'moved away', NULL, NULL);"
		"INSERT INTO users VALUES ('dave', NULL, NULL, "
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'Y');"
		"INSERT INTO users VALUES ('o''brien', NULL, '{PLAIN}ob', "
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
		"INSERT INTO users VALUES ('back\\slash', NULL, '{PLAIN}bs', "
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
		"INSERT INTO users VALUES ('twin', NULL, '{PLAIN}t1', "
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
		"INSERT INTO users VALUES ('twin', NULL, '{PLAIN}t2', "
		"  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
		"INSERT INTO users VALUES ('baduid', NULL, '{PLAIN}x', "
		"  '/home/x', 'no-such-user-xyz', NULL, NULL, NULL, NULL, NULL, NULL);"
		"%s", test_crypt_hash, extra_sql);
	if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK)
		i_fatal("creating the test database failed: %s", error);
	(void)sqlite3_close(db);
}

static int test_verify(struct auth_db *db, const char *user, const char *password)
{
	struct auth_user *au;
	const char *error;

	return auth_db_passdb_verify(db, &test_lookup, user, password, t_pool(), &au, &error);
}

static void test_sql_passdb(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("sql passdb");
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(test_verify(db, "alice", "alicepw") == 1);
	test_assert(test_verify(db, "alice", "wrong") == 0);
	/* a crypt(3) hash without {SCHEME}: default_password_scheme CRYPT */
	test_assert(test_verify(db, "bob", "bobpw") == 1);
	test_assert(test_verify(db, "bob", "alicepw") == 0);
	test_assert(test_verify(db, "nosuch", "x") == 0);
	/* nopassword and no password: anything goes */
	test_assert(test_verify(db, "dave", "whatever") == 1);

	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(user->name, "alice");
	test_assert_strcmp(user->password, "{PLAIN}alicepw");
	test_assert_strcmp(auth_user_extra_get(user, "userdb_home"), "/home/alice");
	test_assert_strcmp(auth_user_extra_get(user, "userdb_quota_rule"), "*:storage=1G");
	/* NULL columns are no fields at all */
	test_assert(auth_user_extra_get(user, "nologin") == NULL);
	test_assert(auth_user_extra_get(user, "allow_nets") == NULL);
	test_assert(user->extra.count == 2);

	test_assert(auth_db_passdb_lookup(db, &test_lookup, "carol", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(auth_user_extra_get(user, "nologin"), "Y");
	test_assert_strcmp(auth_user_extra_get(user, "reason"), "moved away");
	test_assert(auth_user_extra_get(user, "userdb_home") == NULL);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "bob", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(auth_user_extra_get(user, "allow_nets"), "127.0.0.0/8");
	auth_db_close(&db);

	/* a stored password without a scheme and another default */
	test_db_create("plain.db", "UPDATE users SET password = 'plainpw' WHERE username = 'alice';");
	set.sql_connect = t_strdup_printf("%s/plain.db", test_dir);
	set.default_password_scheme = "PLAIN";
	test_assert(auth_db_open(&set, true, "/nonexistent", &db, &error) == 0);
	test_assert(test_verify(db, "alice", "plainpw") == 1);
	test_assert(test_verify(db, "alice", "alicepw") == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(user->password, "{PLAIN}plainpw");
	auth_db_close(&db);
	test_end();
}

static void test_sql_rows(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error = NULL;

	test_begin("sql zero and multiple rows");
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "nosuch", t_pool(), &user,
					  &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "twin", t_pool(), &user,
					  &error) == -1);
	test_assert(error != NULL && strstr(error, "multiple matches") != NULL);
	test_assert(test_verify(db, "twin", "t1") == -1);
	auth_db_close(&db);

	set.username_format = "%n";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(test_verify(db, "alice@example.com", "alicepw") == 1);
	auth_db_close(&db);
	test_end();
}

static void test_sql_escaping(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("sql escaping");
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	/* names with quotes and backslashes are found as they are */
	test_assert(test_verify(db, "o'brien", "ob") == 1);
	test_assert(test_verify(db, "back\\slash", "bs") == 1);
	/* and hostile ones are just unknown users */
	test_assert(test_verify(db, "'; DROP TABLE users; --", "x") == 0);
	test_assert(test_verify(db, "x' OR '1'='1", "alicepw") == 0);
	test_assert(test_verify(db, "x' OR username='alice", "alicepw") == 0);
	test_assert(test_verify(db, "\\'; DROP TABLE users; --", "x") == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "' UNION SELECT 'alice', "
					  "'{PLAIN}x',NULL,NULL,NULL,NULL,NULL,NULL --",
					  t_pool(), &user, &error) == 0);
	/* the table is still there */
	test_assert(test_verify(db, "alice", "alicepw") == 1);
	auth_db_close(&db);
	test_end();
}

static void test_sql_userdb(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error = NULL;

	test_begin("sql userdb");
	test_assert(auth_db_open(&set, false, test_dir, &db, &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(user->home, "/home/alice");
	test_assert(user->uid == 1000 && user->gid == 1001);
	test_assert_strcmp(auth_user_extra_get(user, "quota_rule"), "*:storage=1G");
	/* the userdb doesn't hand out passwords */
	test_assert(user->password == NULL);
	test_assert(auth_user_extra_get(user, "password") == NULL);
	test_assert(user->extra.count == 1);

	test_assert(auth_db_userdb_lookup(db, &test_lookup, "bob", t_pool(), &user,
					  &error) == 1);
	test_assert(user->uid == AUTH_USER_NO_UID && user->gid == AUTH_USER_NO_GID);
	test_assert(user->extra.count == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "nosuch", t_pool(), &user,
					  &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "baduid", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "uid") != NULL);
	auth_db_close(&db);
	test_end();
}

static void test_sql_iterate_cb(const char *user, void *context)
{
	string_t *str = context;
	str_printfa(str, "%s,", user);
}

static void test_sql_iterate(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	const char *error = NULL;
	string_t *str = t_str_new(128);

	test_begin("sql iterate");
	test_assert(auth_db_open(&set, false, test_dir, &db, &error) == 0);
	test_assert(auth_db_userdb_iterate(db, test_sql_iterate_cb, str, &error) == 0);
	test_assert_strcmp(str_c(str), "alice@example.com,back\\slash,baduid,"
			   "bob@example.com,carol,dave,o'brien,twin,twin,");
	auth_db_close(&db);

	set.sql_iterate_query = "SELECT username AS user FROM users WHERE username < 'c' "
		"ORDER BY username";
	str_truncate(str, 0);
	test_assert(auth_db_open(&set, false, test_dir, &db, &error) == 0);
	test_assert(auth_db_userdb_iterate(db, test_sql_iterate_cb, str, &error) == 0);
	test_assert_strcmp(str_c(str), "alice,back\\slash,baduid,bob,");
	auth_db_close(&db);

	set.sql_iterate_query = "SELECT home FROM users";
	test_assert(auth_db_open(&set, false, test_dir, &db, &error) == 0);
	test_assert(auth_db_userdb_iterate(db, test_sql_iterate_cb, str, &error) == -1);
	test_assert(strstr(error, "username") != NULL);
	auth_db_close(&db);
	test_end();
}

static void test_sql_errors(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error = NULL;

	test_begin("sql errors");
	set.sql_password_query = "SELECT password FROM nosuchtable WHERE username = '%u'";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(test_verify(db, "alice", "alicepw") == -1);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "nosuchtable") != NULL);
	auth_db_close(&db);

	/* a second statement is refused even when the first is fine */
	set.sql_password_query = "SELECT password FROM users WHERE username = '%u'; "
		"DELETE FROM users";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(test_verify(db, "alice", "alicepw") == -1);
	auth_db_close(&db);

	/* a userdb-only block has no password query */
	set.sql_password_query = "";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(test_verify(db, "alice", "alicepw") == -1);
	auth_db_close(&db);

	set.sql_user_query = "";
	test_assert(auth_db_open(&set, false, test_dir, &db, &error) == -1);
	set = test_settings();
	set.sql_connect = "";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == -1);
	test_assert(strstr(error, "sql_connect") != NULL);
	set = test_settings();
	set.sql_driver = "nosuch";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == -1);
	test_end();
}

/* A missing file fails every lookup, but a new attempt is made only after
   the back-off; a replaced file is reopened at the next lookup. */
static void test_sql_reopen(void)
{
	struct auth_db_settings set = test_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error = NULL;

	test_begin("sql reopen and back-off");
	set.sql_connect = "later.db";
	test_assert(auth_db_open(&set, true, test_dir, &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "later.db") != NULL);
	/* a userdb on the same database shares the connection, and so the
	   back-off: its first lookup isn't a connect attempt of its own */
	struct auth_db *userdb;
	test_assert(auth_db_open(&set, false, test_dir, &userdb, &error) == 0);
	test_db_create("later.db", "");
	/* within the back-off: not even tried */
	test_assert(test_verify(db, "alice", "alicepw") == -1);
	test_assert(auth_db_userdb_lookup(userdb, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "next attempt") != NULL);
	usleep(1100 * 1000);
	test_assert(test_verify(db, "alice", "alicepw") == 1);
	test_assert(auth_db_userdb_lookup(userdb, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	auth_db_close(&userdb);

	/* replaced by rename(): the new file's rows count at once */
	test_db_create("new.db", "UPDATE users SET password = '{PLAIN}newpw' "
		       "WHERE username = 'alice';");
	test_assert(rename(t_strdup_printf("%s/new.db", test_dir),
			   t_strdup_printf("%s/later.db", test_dir)) == 0);
	test_assert(test_verify(db, "alice", "newpw") == 1);
	test_assert(test_verify(db, "alice", "alicepw") == 0);

	/* removed: a failure, not an unknown user */
	test_assert(unlink(t_strdup_printf("%s/later.db", test_dir)) == 0);
	test_assert(test_verify(db, "alice", "newpw") == -1);
	auth_db_close(&db);
	test_end();
}

static void test_sql_cleanup(void)
{
	static const char *const files[] = { "users.db", "plain.db", "later.db", "new.db" };

	for (size_t i = 0; i < N_ELEMENTS(files); i++)
		(void)unlink(t_strdup_printf("%s/%s", test_dir, files[i]));
	(void)rmdir(test_dir);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_sql_passdb, test_sql_rows, test_sql_escaping, test_sql_userdb,
		test_sql_iterate, test_sql_errors, test_sql_reopen, NULL
	};
	const char *error;

	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp() failed");
	/* bob's password: a crypt(3) hash stored without {SCHEME} */
	if (password_generate("bobpw", "SHA512-CRYPT", t_pool(), &test_crypt_hash, &error) < 0)
		i_fatal("password_generate() failed: %s", error);
	char *hash = i_strdup(strchr(test_crypt_hash, '}') + 1);
	test_crypt_hash = hash;
	test_db_create("users.db", "");
	int ret = test_run(tests);
	test_sql_cleanup();
	i_free(hash);
	return ret;
}
