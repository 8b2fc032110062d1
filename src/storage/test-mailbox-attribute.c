/* Unit tests of the mailbox attribute API (mailbox-attribute.h): entry
 * name parsing, reads and lists with the computed entries, all-or-nothing
 * changes with their limits and errors, and entries following RENAME and
 * going with DELETE. */
#include "test-common.h"
#include "test-storage-common.h"
#include "mailbox-attribute.h"

static const char *test_home;

static const struct {
	const char *entry;
	int type; /* -1: invalid */
	const char *key;
} parse_tests[] = {
	{ "/private/comment", MAIL_ATTRIBUTE_PRIVATE, "comment" },
	{ "/shared/comment", MAIL_ATTRIBUTE_SHARED, "comment" },
	{ "/PRIVATE/Vendor/Example.COM/X", MAIL_ATTRIBUTE_PRIVATE, "vendor/example.com/x" },
	{ "/private", MAIL_ATTRIBUTE_PRIVATE, "" },
	{ "/Shared", MAIL_ATTRIBUTE_SHARED, "" },
	{ "/shared/with space", MAIL_ATTRIBUTE_SHARED, "with space" },
	{ "/private/a.b-c_d~e", MAIL_ATTRIBUTE_PRIVATE, "a.b-c_d~e" },
	{ "", -1, NULL },
	{ "/", -1, NULL },
	{ "private/comment", -1, NULL },
	{ "/privatex", -1, NULL },
	{ "/private_x/y", -1, NULL },
	{ "/foo/comment", -1, NULL },
	{ "/private/", -1, NULL },
	{ "/private//x", -1, NULL },
	{ "//private/x", -1, NULL },
	{ "/private/x/", -1, NULL },
	{ "/private/x*", -1, NULL },
	{ "/private/%", -1, NULL },
	{ "/private/a\tb", -1, NULL },
	{ "/private/a\x7f", -1, NULL },
	{ "/private/\xc3\xa4", -1, NULL },
};

static void test_attribute_parse(void)
{
	test_begin("mail attribute entry names");
	for (unsigned int i = 0; i < N_ELEMENTS(parse_tests); i++) {
		enum mail_attribute_type type;
		const char *key = NULL, *error = NULL;
		int ret = mail_attribute_entry_parse(parse_tests[i].entry, &type, &key, &error);
		if (parse_tests[i].type < 0) {
			test_assert(ret < 0 && error != NULL);
			continue;
		}
		test_assert(ret == 0 && (int)type == parse_tests[i].type);
		test_assert_strcmp(key, parse_tests[i].key);
		if (ret == 0 && strcmp(parse_tests[i].key, "") != 0 &&
		    strchr(parse_tests[i].entry, ' ') == NULL) {
			/* the name comes back as written, in lower case */
			const char *name = mail_attribute_entry_name(type, key);
			test_assert(strcasecmp(name, parse_tests[i].entry) == 0);
		}
	}
	/* length: the whole name counts */
	char long_name[MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH + 2];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memcpy(long_name, "/shared/", 8);
	enum mail_attribute_type type;
	const char *key, *error;
	test_assert(mail_attribute_entry_parse(long_name, &type, &key, &error) < 0);
	long_name[MAIL_ATTRIBUTE_ENTRY_MAX_LENGTH] = '\0';
	test_assert(mail_attribute_entry_parse(long_name, &type, &key, &error) == 0);
	test_end();
}

/* The value of an entry, NULL if it has none (temporary memory). */
static const char *test_get(struct mail_user *user, const char *mailbox,
			    enum mail_attribute_type type, const char *key,
			    const struct mail_attribute_settings *set)
{
	struct mail_attribute attr;
	int ret = mail_attribute_get(user, mailbox, type, key, set, t_pool(), &attr);
	test_assert(ret >= 0);
	return ret > 0 ? t_strndup(attr.value, attr.size) : NULL;
}

static int test_set(struct mail_user *user, const char *mailbox,
		    const struct mail_attribute_settings *set,
		    enum mail_attribute_type type, const char *key, const char *value)
{
	struct mail_attribute_transaction *t = mail_attribute_transaction_begin(user, mailbox, set);
	int ret = value == NULL ? mail_attribute_unset(t, type, key) :
		mail_attribute_set(t, type, key, value, strlen(value));
	if (ret < 0) {
		mail_attribute_transaction_rollback(&t);
		return -1;
	}
	return mail_attribute_transaction_commit(&t);
}

static enum mail_error test_error(struct mail_user *user)
{
	const char *text;
	return mail_user_get_error(user, &text);
}

/* "key=value key=value" of a listing (temporary memory). */
static const char *test_list(struct mail_user *user, const char *mailbox,
			     enum mail_attribute_type type, const char *key,
			     const struct mail_attribute_settings *set)
{
	array_mail_attribute_t list;
	array_init(&list, t_pool(), 4);
	test_assert(mail_attribute_list(user, mailbox, type, key, set, t_pool(), &list) == 0);
	string_t *str = t_str_new(128);
	for (unsigned int i = 0; i < list.count; i++) {
		str_printfa(str, "%s%s=%.*s%s", i > 0 ? " " : "", list.v[i].key,
			    (int)list.v[i].size, (const char *)list.v[i].value,
			    list.v[i].readonly ? "!" : "");
	}
	return str_c(str);
}

static void test_attribute_read_write(void)
{
	test_begin("mail attributes: get, set, list, computed entries");
	struct mail_user *user = test_storage_user(test_home, true);
	struct mail_attribute_settings set = { .admin = "mailto:admin@example.com" };

	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "comment", &set) == NULL);
	test_assert(test_set(user, "inbox", &set, MAIL_ATTRIBUTE_PRIVATE, "Comment", "mine") == 0);
	test_assert_strcmp(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "COMMENT", &set), "mine");
	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_SHARED, "comment", &set) == NULL);
	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "", &set) == NULL);

	/* binary values, several changes in one transaction */
	struct mail_attribute_transaction *t =
		mail_attribute_transaction_begin(user, "Sent", &set);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "vendor/x/bin", "a\0b", 3) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "vendor/x/empty", NULL, 0) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_SHARED, "comment", "s", 1) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "comment", "first", 5) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "comment", "last", 4) == 0);
	test_assert(mail_attribute_transaction_commit(&t) == 0 && t == NULL);
	struct mail_attribute attr;
	test_assert(mail_attribute_get(user, "Sent", MAIL_ATTRIBUTE_PRIVATE, "vendor/x/bin",
				       &set, t_pool(), &attr) == 1);
	test_assert(attr.size == 3 && memcmp(attr.value, "a\0b", 4) == 0 && !attr.readonly);

	/* the computed entries are listed among the stored ones */
	test_assert_strcmp(test_list(user, "Sent", MAIL_ATTRIBUTE_PRIVATE, "", &set),
			   "comment=last specialuse=\\Sent! vendor/x/bin=a vendor/x/empty=");
	test_assert_strcmp(test_list(user, "Sent", MAIL_ATTRIBUTE_PRIVATE, "vendor", &set),
			   "vendor/x/bin=a vendor/x/empty=");
	test_assert_strcmp(test_list(user, "Sent", MAIL_ATTRIBUTE_PRIVATE, "specialuse", &set),
			   "specialuse=\\Sent!");
	test_assert_strcmp(test_get(user, "Sent", MAIL_ATTRIBUTE_PRIVATE, "specialuse", &set),
			   "\\Sent");
	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "specialuse", &set) == NULL);
	test_assert_strcmp(test_get(user, MAIL_ATTRIBUTE_SERVER, MAIL_ATTRIBUTE_SHARED, "admin",
				    &set), "mailto:admin@example.com");
	test_assert(test_get(user, MAIL_ATTRIBUTE_SERVER, MAIL_ATTRIBUTE_SHARED, "admin",
			     NULL) == NULL);
	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_SHARED, "admin", &set) == NULL);
	test_assert(test_set(user, MAIL_ATTRIBUTE_SERVER, &set, MAIL_ATTRIBUTE_SHARED,
			     "comment", "server") == 0);
	test_assert_strcmp(test_list(user, MAIL_ATTRIBUTE_SERVER, MAIL_ATTRIBUTE_SHARED, "", &set),
			   "admin=mailto:admin@example.com! comment=server");

	/* read-only entries, invalid keys */
	test_assert(test_set(user, "Sent", &set, MAIL_ATTRIBUTE_PRIVATE, "specialuse", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_CANNOT);
	test_assert(test_set(user, "", &set, MAIL_ATTRIBUTE_SHARED, "admin", NULL) < 0 &&
		    test_error(user) == MAIL_ERROR_CANNOT);
	test_assert(test_set(user, "INBOX", &set, MAIL_ATTRIBUTE_SHARED, "admin", "x") == 0);
	test_assert(test_set(user, "INBOX", &set, MAIL_ATTRIBUTE_PRIVATE, "", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_PARAMS);
	test_assert(test_set(user, "INBOX", &set, MAIL_ATTRIBUTE_PRIVATE, "/x", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_PARAMS);
	test_assert(test_set(user, "INBOX", &set, MAIL_ATTRIBUTE_PRIVATE, "a//b", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_PARAMS);
	test_assert(mail_attribute_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "a*", &set,
				       t_pool(), &attr) < 0 && test_error(user) == MAIL_ERROR_PARAMS);

	/* missing mailboxes and \Noselect parents */
	test_assert(mail_attribute_get(user, "nosuch", MAIL_ATTRIBUTE_PRIVATE, "comment", &set,
				       t_pool(), &attr) < 0 &&
		    test_error(user) == MAIL_ERROR_NOTFOUND);
	test_assert(test_set(user, "nosuch", &set, MAIL_ATTRIBUTE_PRIVATE, "comment", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_NOTFOUND);
	test_assert(mailbox_create(user, "p/c", 0) == 0 && mailbox_delete(user, "p") == 0);
	test_assert(test_set(user, "p", &set, MAIL_ATTRIBUTE_PRIVATE, "comment", "x") < 0 &&
		    test_error(user) == MAIL_ERROR_NOTFOUND);
	t = mail_attribute_transaction_begin(user, "nosuch", &set);
	test_assert(mail_attribute_transaction_commit(&t) < 0 &&
		    test_error(user) == MAIL_ERROR_NOTFOUND);
	mail_user_deinit(&user);
	test_end();
}

static void test_attribute_limits(void)
{
	test_begin("mail attributes: limits, all or nothing");
	const char *home = test_storage_mkdtemp("test-attribute-limits");
	struct mail_user *user = test_storage_user(home, false);
	struct mail_attribute_settings none = { 0 };
	test_assert(mailbox_create(user, "limits", 0) == 0);
	struct mail_attribute_settings set = {
		.max_value_size = 8, .max_entries = 2,
	};
	test_assert(test_set(user, "limits", &set, MAIL_ATTRIBUTE_PRIVATE, "a", "123456789") < 0 &&
		    test_error(user) == MAIL_ERROR_LIMIT);
	test_assert(test_set(user, "limits", &set, MAIL_ATTRIBUTE_PRIVATE, "a", "12345678") == 0);
	test_assert(test_set(user, "limits", &set, MAIL_ATTRIBUTE_SHARED, "a", "1") == 0);

	/* a third entry fails the whole transaction */
	struct mail_attribute_transaction *t =
		mail_attribute_transaction_begin(user, "limits", &set);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "a", "changed", 7) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "b", "new", 3) == 0);
	test_assert(mail_attribute_transaction_commit(&t) < 0 &&
		    test_error(user) == MAIL_ERROR_LIMIT);
	test_assert_strcmp(test_get(user, "limits", MAIL_ATTRIBUTE_PRIVATE, "a", &set), "12345678");
	/* one out and one in keeps the count */
	t = mail_attribute_transaction_begin(user, "limits", &set);
	test_assert(mail_attribute_unset(t, MAIL_ATTRIBUTE_SHARED, "a") == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "b", "new", 3) == 0);
	test_assert(mail_attribute_transaction_commit(&t) == 0);
	/* a failed queue call fails the commit too */
	t = mail_attribute_transaction_begin(user, "limits", &set);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "a", "x", 1) == 0);
	test_assert(mail_attribute_set(t, MAIL_ATTRIBUTE_PRIVATE, "bad/", "x", 1) < 0);
	test_assert(mail_attribute_transaction_commit(&t) < 0);
	test_assert_strcmp(test_get(user, "limits", MAIL_ATTRIBUTE_PRIVATE, "a", &set), "12345678");

	/* user-wide entries and size; a user over a lowered limit can still
	   shrink and remove */
	test_assert(test_set(user, "limits", &none, MAIL_ATTRIBUTE_PRIVATE, "c",
			     "0123456789012345678901234567890123456789") == 0);
	struct mail_attribute_settings user_set = { .max_user_size = 40, .max_user_entries = 100 };
	test_assert(test_set(user, "INBOX", &user_set, MAIL_ATTRIBUTE_PRIVATE, "x", "1") < 0 &&
		    test_error(user) == MAIL_ERROR_LIMIT);
	test_assert(test_set(user, "limits", &user_set, MAIL_ATTRIBUTE_PRIVATE, "c", "short") == 0);
	test_assert(test_set(user, "limits", &user_set, MAIL_ATTRIBUTE_PRIVATE, "x", "1") == 0);
	/* a, b, c and x: four entries */
	struct mail_attribute_settings count_set = { .max_user_entries = 4 };
	test_assert(test_set(user, "INBOX", &count_set, MAIL_ATTRIBUTE_PRIVATE, "y", "1") < 0 &&
		    test_error(user) == MAIL_ERROR_LIMIT);
	test_assert(test_set(user, "limits", &count_set, MAIL_ATTRIBUTE_PRIVATE, "x", NULL) == 0);
	test_assert(test_set(user, "INBOX", &count_set, MAIL_ATTRIBUTE_PRIVATE, "y", "1") == 0);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static void test_attribute_mailbox_life(void)
{
	test_begin("mail attributes: rename, INBOX rename, delete");
	const char *home = test_storage_mkdtemp("test-attribute-life");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "a/b/c", 0) == 0);
	test_assert(test_set(user, "a", NULL, MAIL_ATTRIBUTE_PRIVATE, "comment", "a") == 0);
	test_assert(test_set(user, "a/b", NULL, MAIL_ATTRIBUTE_PRIVATE, "comment", "ab") == 0);
	test_assert(test_set(user, "a/b/c", NULL, MAIL_ATTRIBUTE_SHARED, "comment", "abc") == 0);

	test_assert(mailbox_rename(user, "a", "z") == 0);
	test_assert_strcmp(test_get(user, "z", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "a");
	test_assert_strcmp(test_get(user, "z/b", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "ab");
	test_assert_strcmp(test_get(user, "z/b/c", MAIL_ATTRIBUTE_SHARED, "comment", NULL), "abc");
	test_assert(mailbox_create(user, "a", 0) == 0);
	test_assert(test_get(user, "a", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL) == NULL);

	/* DELETE of a mailbox with children leaves a \Noselect parent without
	   entries, also when it is created again */
	test_assert(mailbox_delete(user, "z/b") == 0);
	test_assert(mailbox_create(user, "z/b", 0) == 0);
	test_assert(test_get(user, "z/b", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL) == NULL);
	test_assert_strcmp(test_get(user, "z/b/c", MAIL_ATTRIBUTE_SHARED, "comment", NULL), "abc");
	test_assert(mailbox_delete(user, "z/b/c") == 0);
	test_assert(mailbox_create(user, "z/b/c", 0) == 0);
	test_assert(test_get(user, "z/b/c", MAIL_ATTRIBUTE_SHARED, "comment", NULL) == NULL);

	/* RENAME INBOX: the entries move with the messages */
	test_assert(test_set(user, "INBOX", NULL, MAIL_ATTRIBUTE_PRIVATE, "comment", "in") == 0);
	test_assert(test_set(user, "", NULL, MAIL_ATTRIBUTE_PRIVATE, "comment", "srv") == 0);
	test_assert(test_storage_save(user, "INBOX", "Subject: x\r\n\r\nbody\r\n", 0, NULL) != 0);
	test_assert(mailbox_rename(user, "INBOX", "old") == 0);
	test_assert_strcmp(test_get(user, "old", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "in");
	test_assert(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL) == NULL);
	test_assert_strcmp(test_get(user, "", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "srv");
	/* a failed INBOX rename moves nothing */
	test_assert(test_set(user, "INBOX", NULL, MAIL_ATTRIBUTE_PRIVATE, "comment", "in2") == 0);
	test_assert(mailbox_rename(user, "INBOX", "old") < 0);
	test_assert_strcmp(test_get(user, "INBOX", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "in2");
	test_assert_strcmp(test_get(user, "old", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "in");

	/* persisted: a new user object sees them */
	mail_user_deinit(&user);
	user = test_storage_user(home, false);
	test_assert_strcmp(test_get(user, "old", MAIL_ATTRIBUTE_PRIVATE, "comment", NULL), "in");
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_attribute_parse,
		test_attribute_read_write,
		test_attribute_limits,
		test_attribute_mailbox_life,
		NULL
	};
	test_home = i_strdup(test_storage_mkdtemp("test-mailbox-attribute"));
	int ret = test_run(tests);
	test_storage_rm_rf(test_home);
	free((char *)test_home);
	return ret;
}
