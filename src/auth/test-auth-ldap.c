/* Unit tests of the ldap driver: RFC 4515/4514 escaping, settings errors
 * and an unreachable server always; with TERN_TEST_LDAP_URI set
 * (tests/test_auth_ldap.py starts a slapd with the users of
 * tests/ldaputil.py, homes under TERN_TEST_LDAP_HOMES), lookups, both
 * passdb modes, attribute maps and the user list. */
#include "auth-db.h"
#include "auth-ldap.h"
#include "test-common.h"

#include <stdlib.h>
#include <string.h>

static const struct auth_db_lookup test_lookup = {
	.user = "alice", .service = "imap", .remote_ip = "192.0.2.7",
};

static void test_auth_ldap_escape(void)
{
	test_begin("auth_ldap escape");
	test_assert_strcmp(auth_ldap_escape_filter("alice"), "alice");
	test_assert_strcmp(auth_ldap_escape_filter("*"), "\\2a");
	test_assert_strcmp(auth_ldap_escape_filter(")(uid=*"), "\\29\\28uid=\\2a");
	test_assert_strcmp(auth_ldap_escape_filter("a\\b"), "a\\5cb");
	test_assert_strcmp(auth_ldap_escape_filter("j\xc3\xb6rg\x01"), "j\\c3\\b6rg\\01");
	test_assert_strcmp(auth_ldap_escape_filter(""), "");
	test_assert_strcmp(auth_ldap_escape_dn("alice"), "alice");
	test_assert_strcmp(auth_ldap_escape_dn("a,ou=x+b\"<>;\\"),
			   "a\\2cou\\3dx\\2bb\\22\\3c\\3e\\3b\\5c");
	test_assert_strcmp(auth_ldap_escape_dn(" #a# "), "\\20#a#\\20");
	test_assert_strcmp(auth_ldap_escape_dn("#a"), "\\23a");
	test_assert_strcmp(auth_ldap_escape_dn(" "), "\\20");
	test_end();
}

static struct auth_db_settings test_ldap_settings(const char *uris)
{
	return (struct auth_db_settings){
		.name = "t", .driver = "ldap", .args = "", .username_format = "%u",
		.default_password_scheme = "CRYPT", .ldap_uris = uris,
		.ldap_bind_dn = "", .ldap_bind_password = "",
		.ldap_base = "ou=people,dc=example,dc=com", .ldap_scope = "subtree",
		.ldap_filter = "(&(objectClass=posixAccount)(uid=%u))",
		.ldap_auth_bind_dn_format = "",
		.ldap_pass_attrs = "uid=user,userPassword=password",
		.ldap_user_attrs = "homeDirectory=home,uidNumber=uid,gidNumber=gid",
		.ldap_timeout_ms = 2000,
	};
}

static void test_auth_ldap_settings_errors(void)
{
	static const char *const bad_maps[] = {
		"userPassword", "=password", "uid==x", "uid=", "a=b,c", NULL
	};
	struct auth_db_settings set = test_ldap_settings("");
	struct auth_db *db;
	const char *error;

	test_begin("auth_ldap settings errors");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == -1);
	test_assert(strstr(error, "ldap_uris is not set") != NULL);
	set.ldap_uris = "http://example.com/";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == -1);
	test_assert(strstr(error, "invalid LDAP URI") != NULL);
	set.ldap_uris = "ldap://127.0.0.1:1/ ldaps://h ldapi://%2Frun%2Fslapd%2Fldapi";
	set.ldap_scope = "everything";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == -1);
	set.ldap_scope = "onelevel";
	for (unsigned int i = 0; bad_maps[i] != NULL; i++) {
		set.ldap_user_attrs = bad_maps[i];
		test_assert(auth_db_open(&set, false, "/", &db, &error) == -1);
		test_assert(strstr(error, "ldap_user_attrs") != NULL);
	}
	/* a constant field (empty attribute with a template) is fine */
	set.ldap_user_attrs = " homeDirectory=home , =quota_rule=*:storage=1G ";
	test_assert(auth_db_open(&set, false, "/", &db, &error) == 0);
	auth_db_close(&db);
	test_end();
}

static void test_auth_ldap_unreachable(void)
{
	/* port 1 on loopback: refused at once */
	struct auth_db_settings set = test_ldap_settings("ldap://127.0.0.1:1/");
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_ldap unreachable server");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	/* the next attempt waits for the back-off instead of connecting */
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "retrying in") != NULL);
	auth_db_close(&db);
	test_end();
}

/* ---- against the slapd of tests/test_auth_ldap.py ---- */

static struct auth_db_settings test_live_settings(void)
{
	struct auth_db_settings set = test_ldap_settings(getenv("TERN_TEST_LDAP_URI"));
	set.ldap_bind_dn = getenv("TERN_TEST_LDAP_BIND_DN");
	set.ldap_bind_password = getenv("TERN_TEST_LDAP_BIND_PW");
	return set;
}

static void test_auth_ldap_live_compare(void)
{
	struct auth_db_settings set = test_live_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_ldap search-then-compare");
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "ALICE", t_pool(), &user,
					  &error) == 1);
	/* the directory's spelling of the name, and its {SSHA} value */
	test_assert_strcmp(user->name, "alice");
	test_assert(strncmp(user->password, "{SSHA}", 6) == 0);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "secret", t_pool(),
					  &user, &error) == 1);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "wrong", t_pool(),
					  &user, &error) == 0);
	/* {CRYPT}$6$... */
	test_assert(auth_db_passdb_verify(db, &test_lookup, "bob", "bobpw", t_pool(),
					  &user, &error) == 1);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "bob", "bobp", t_pool(),
					  &user, &error) == 0);
	/* filter injection finds nobody */
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "*", t_pool(), &user,
					  &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice)(uid=*", t_pool(), &user,
					  &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "nosuch", t_pool(), &user,
					  &error) == 0);
	auth_db_close(&db);

	/* a filter that matches every user is an error, not the first one */
	set.ldap_filter = "(objectClass=posixAccount)";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	test_assert(strstr(error, "several entries") != NULL);
	auth_db_close(&db);
	/* a base that doesn't exist: nobody there */
	set = test_live_settings();
	set.ldap_base = "ou=%d,dc=example,dc=com";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice@nowhere", t_pool(),
					  &user, &error) == 0);
	auth_db_close(&db);
	test_end();
}

static void test_auth_ldap_live_bind(void)
{
	struct auth_db_settings set = test_live_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_ldap auth bind");
	/* searching anonymously: userPassword is unreadable, binds work */
	set.ldap_auth_bind = true;
	set.ldap_bind_dn = "";
	set.ldap_bind_password = "";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	for (unsigned int i = 0; i < 2; i++) {
		test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "secret",
						  t_pool(), &user, &error) == 1);
		test_assert_strcmp(user->name, "alice");
		test_assert(user->password == NULL);
		test_assert(auth_db_passdb_verify(db, &test_lookup, "carol", "carolpw",
						  t_pool(), &user, &error) == 1);
		test_assert(auth_db_passdb_verify(db, &test_lookup, "bob", "bobpw",
						  t_pool(), &user, &error) == 1);
		test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "carolpw",
						  t_pool(), &user, &error) == 0);
		/* an unauthenticated bind would "succeed" */
		test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "",
						  t_pool(), &user, &error) == 0);
		test_assert(auth_db_passdb_verify(db, &test_lookup, "*", "secret",
						  t_pool(), &user, &error) == 0);
	}
	/* the lookup says the user exists, without credentials */
	test_assert(auth_db_passdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	test_assert(user->password == NULL);
	auth_db_close(&db);

	set.ldap_auth_bind_dn_format = "uid=%u,ou=people,dc=example,dc=com";
	test_assert(auth_db_open(&set, true, "/", &db, &error) == 0);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "secret",
					  t_pool(), &user, &error) == 1);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "alice", "x",
					  t_pool(), &user, &error) == 0);
	/* the name can't add RDNs: "alice,ou=people" is escaped into one value */
	test_assert(auth_db_passdb_verify(db, &test_lookup, "alice,ou=people,dc=example,dc=com",
					  "secret", t_pool(), &user, &error) == 0);
	test_assert(auth_db_passdb_verify(db, &test_lookup, "nosuch", "secret",
					  t_pool(), &user, &error) == 0);
	auth_db_close(&db);
	test_end();
}

static void test_iterate_cb(const char *user, void *context)
{
	string_t *str = context;
	str_printfa(str, "%s,", user);
}

static void test_auth_ldap_live_userdb(void)
{
	struct auth_db_settings set = test_live_settings();
	struct auth_db *db;
	struct auth_user *user;
	const char *error;

	test_begin("auth_ldap userdb");
	set.ldap_user_attrs = "homeDirectory=home,uidNumber=uid,gidNumber=gid,"
		"title=quota_rule=*:storage=%$M,=mail_dir=%%$/%u/%$,"
		"uid=user,description=note";
	test_assert(auth_db_open(&set, false, "/", &db, &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == 1);
	test_assert_strcmp(user->name, "alice");
	test_assert_strcmp(user->home, t_strdup_printf("%s/alice",
						       getenv("TERN_TEST_LDAP_HOMES")));
	test_assert(user->uid == 10001 && user->gid == 10000);
	test_assert(user->password == NULL);
	test_assert_strcmp(auth_user_extra_get(user, "quota_rule"), "*:storage=100M");
	test_assert_strcmp(auth_user_extra_get(user, "mail_dir"), "%$/alice/");
	/* alice has no description */
	test_assert(auth_user_extra_get(user, "note") == NULL);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "nosuch", t_pool(), &user,
					  &error) == 0);

	string_t *list = t_str_new(128);
	test_assert(auth_db_userdb_iterate(db, test_iterate_cb, list, &error) == 0);
	test_assert(strstr(str_c(list), "alice,") != NULL);
	test_assert(strstr(str_c(list), "bob,") != NULL);
	test_assert(strstr(str_c(list), "carol,") != NULL);
	auth_db_close(&db);

	/* a uidNumber that isn't a number is an error */
	set.ldap_user_attrs = "cn=uid";
	test_assert(auth_db_open(&set, false, "/", &db, &error) == 0);
	test_assert(auth_db_userdb_lookup(db, &test_lookup, "alice", t_pool(), &user,
					  &error) == -1);
	auth_db_close(&db);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_auth_ldap_escape,
		test_auth_ldap_settings_errors,
		test_auth_ldap_unreachable,
		NULL
	};
	static void (*const live_tests[])(void) = {
		test_auth_ldap_escape,
		test_auth_ldap_settings_errors,
		test_auth_ldap_unreachable,
		test_auth_ldap_live_compare,
		test_auth_ldap_live_bind,
		test_auth_ldap_live_userdb,
		NULL
	};
	return test_run(getenv("TERN_TEST_LDAP_URI") == NULL ? tests : live_tests);
}
