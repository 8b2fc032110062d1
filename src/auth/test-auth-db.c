/* Unit tests of auth-db.c and the static driver: template expansion,
 * username_format, default_password_scheme and static fields. */
#include "auth-db.h"
#include "test-common.h"

static const struct auth_db_lookup test_lookup = {
	.user = "Joe@Example.COM", .service = "imap",
	.remote_ip = "192.0.2.7", .local_ip = "192.0.2.1",
};

static const char *test_quote(const char *value)
{
	return t_strdup_printf("'%s'", value);
}

static void test_auth_db_expand(void)
{
	test_begin("auth_db expand");
	test_assert_strcmp(auth_db_expand("/v/%d/%n", &test_lookup, "joe@example.com",
					  NULL, t_pool()), "/v/example.com/joe");
	test_assert_strcmp(auth_db_expand("%Lu %s %r %l 100%%", &test_lookup,
					  "Joe@Example.COM", NULL, t_pool()),
			   "joe@example.com imap 192.0.2.7 192.0.2.1 100%");
	/* no domain: %d is empty and %n the whole name */
	test_assert_strcmp(auth_db_expand("[%n|%d]", &test_lookup, "joe", NULL, t_pool()),
			   "[joe|]");
	/* escaping applies to values only; unknown %x and a trailing % stay */
	test_assert_strcmp(auth_db_expand("u=%u %x %", &test_lookup, "a'b", test_quote,
					  t_pool()), "u='a'b' %x %");
	test_end();
}

static struct auth_db_settings test_settings(const char *driver, const char *args)
{
	return (struct auth_db_settings){
		.name = "t", .driver = driver, .args = args,
		.username_format = "%u", .default_password_scheme = "CRYPT",
	};
}

static void test_auth_db_static(void)
{
	struct auth_db_settings set = test_settings("static",
		"password={PLAIN}pw uid=1234 gid=99 home=/h/%d/%n quota_rule=*:storage=1G nologin");
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_db static");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "a@b.c", "pw", t_pool(),
					  &user, &error) == 1);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "a@b.c", "no", t_pool(),
					  &user, &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "a@b.c", t_pool(),
					  &user, &error) == 1);
	test_assert_strcmp(user->home, "/h/b.c/a");
	test_assert(user->uid == 1234 && user->gid == 99);
	test_assert(user->password == NULL);
	test_assert_strcmp(auth_user_extra_get(user, "quota_rule"), "*:storage=1G");
	test_assert_strcmp(auth_user_extra_get(user, "nologin"), "");
	auth_db_close(&db);
	test_assert(db == NULL);

	set.args = "uid=nosuchuser-xyz";
	test_assert(auth_db_open(&set, false, "/", &db, &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "a", t_pool(), &user, &error) == -1);
	auth_db_close(&db);
	test_end();
}

static void test_auth_db_open_errors(void)
{
	struct auth_db_settings set = test_settings("nosuch", "");
	struct auth_db *db;
	const char *error;

	test_begin("auth_db open errors");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == -1 && db == NULL);
	set = test_settings("passwd-file", "");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == -1);
	set.master = true;
	set.args = "x";
	test_assert(auth_db_open(&set, false, "/", &db, &error) == -1);
	test_end();
}

static void test_auth_db_username_format(void)
{
	struct auth_db_settings set = test_settings("static", "password=%n");
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_db username_format and default scheme");
	set.username_format = "%Ln";
	set.default_password_scheme = "PLAIN";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	/* the backend sees "joe"; its password "joe" gets {PLAIN} */
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "JOE@x.org", t_pool(),
					  &user, &error) == 1);
	test_assert_strcmp(user->name, "joe");
	test_assert_strcmp(user->password, "{PLAIN}joe");
	auth_db_close(&db);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_auth_db_expand,
		test_auth_db_static,
		test_auth_db_open_errors,
		test_auth_db_username_format,
		NULL
	};
	return test_run(tests);
}
