/* Unit tests of the index's attribute rows (RFC 5464 METADATA storage):
 * get, set, unset, prefix listings, binary values, usage counts, moving
 * rows, the triggers that remove them with their mailbox, and the
 * migration of a version 5 index. */
#include "test-common.h"
#include "buffer.h"
#include "index-attribute.h"
#include "index-db.h"
#include "index-mailbox.h"

#include <sqlite3.h>

static char test_dir[] = "/tmp/test-index-attribute.XXXXXX";
static const char *db_path;

static struct index_db *test_open(void)
{
	struct index_db *db;
	bool created;
	const char *error;
	if (index_db_open(db_path, &db, &created, &error) < 0) {
		printf("  open: %s\n", error);
		i_fatal("can't open the test index");
	}
	return db;
}

static void test_set(struct index_db *db, int64_t id, enum index_attribute_type type,
		     const char *key, const void *value, size_t size)
{
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_attribute_set(db, id, type, key, value, size) == 0);
	test_assert(index_db_commit(db) == 0);
}

/* The value of key, "" if absent (temporary memory). */
static const char *test_get(struct index_db *db, int64_t id, enum index_attribute_type type,
			    const char *key)
{
	const unsigned char *value;
	size_t size;
	int ret = index_attribute_get(db, id, type, key, t_pool(), &value, &size);
	test_assert(ret >= 0);
	return ret > 0 ? t_strndup(value, size) : "";
}

/* The keys listed at prefix, space-separated (temporary memory). */
static const char *test_list(struct index_db *db, int64_t id, enum index_attribute_type type,
			     const char *prefix)
{
	array_index_attribute_t list;
	array_init(&list, t_pool(), 4);
	test_assert(index_attribute_list(db, id, type, prefix, t_pool(), &list) == 0);
	string_t *str = t_str_new(64);
	for (unsigned int i = 0; i < list.count; i++) {
		if (i > 0)
			str_append_c(str, ' ');
		str_append(str, list.v[i].key);
		test_assert(list.v[i].value != NULL && list.v[i].value[list.v[i].size] == '\0');
	}
	return str_c(str);
}

static void test_index_attribute_basic(void)
{
	test_begin("index attributes: get, set, unset, list");
	struct index_db *db = test_open();
	int64_t id;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, "box", ".box", 0, &id) == 0);
	test_assert(index_db_commit(db) == 0);

	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment"), "");
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment", "mine", 4);
	test_set(db, id, INDEX_ATTRIBUTE_SHARED, "comment", "ours", 4);
	test_set(db, INDEX_ATTRIBUTE_SERVER, INDEX_ATTRIBUTE_SHARED, "comment", "server", 6);
	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment"), "mine");
	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_SHARED, "comment"), "ours");
	test_assert_strcmp(test_get(db, INDEX_ATTRIBUTE_SERVER, INDEX_ATTRIBUTE_SHARED,
				    "comment"), "server");
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment", "replaced", 8);
	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment"), "replaced");

	/* binary values keep their NULs; an empty value is a value */
	static const unsigned char bin[] = { 'a', 0, 'b', 0, 0xff };
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x/bin", bin, sizeof(bin));
	const unsigned char *value;
	size_t size;
	test_assert(index_attribute_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x/bin",
					t_pool(), &value, &size) == 1);
	test_assert(size == sizeof(bin) && memcmp(value, bin, sizeof(bin)) == 0);
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x/empty", NULL, 0);
	test_assert(index_attribute_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x/empty",
					t_pool(), &value, &size) == 1);
	test_assert(size == 0 && value != NULL && value[0] == '\0');

	/* listings: the key itself and what is below it, not its siblings
	   with a longer name */
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x", "1", 1);
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x0", "2", 1);
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x.y", "3", 1);
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendorx", "4", 1);
	test_assert_strcmp(test_list(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor/x"),
			   "vendor/x vendor/x/bin vendor/x/empty");
	test_assert_strcmp(test_list(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendor"),
			   "vendor/x vendor/x.y vendor/x/bin vendor/x/empty vendor/x0");
	test_assert_strcmp(test_list(db, id, INDEX_ATTRIBUTE_PRIVATE, ""),
			   "comment vendor/x vendor/x.y vendor/x/bin vendor/x/empty vendor/x0 vendorx");
	test_assert_strcmp(test_list(db, id, INDEX_ATTRIBUTE_SHARED, ""), "comment");
	test_assert_strcmp(test_list(db, id, INDEX_ATTRIBUTE_SHARED, "nothing"), "");

	/* usage: rows of the mailbox; rows and key + value bytes of all */
	unsigned int count, user_count;
	uint64_t user_size;
	test_assert(index_attribute_count(db, id, &count) == 0 && count == 8);
	test_assert(index_attribute_count(db, INDEX_ATTRIBUTE_SERVER, &count) == 0 && count == 1);
	test_assert(index_attribute_usage(db, &user_count, &user_size) == 0);
	uint64_t expect = 7 + 8 + 7 + 4 + 7 + 6 + 12 + 5 + 14 + 0 + 8 + 1 + 9 + 1 + 10 + 1 + 7 + 1;
	test_assert(user_count == 9 && user_size == expect);

	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_attribute_unset(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendorx") == 0);
	test_assert(index_attribute_unset(db, id, INDEX_ATTRIBUTE_PRIVATE, "missing") == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "vendorx"), "");
	test_assert(index_attribute_count(db, id, &count) == 0 && count == 7);
	index_db_close(&db);
	test_end();
}

static void test_index_attribute_mailbox_life(void)
{
	test_begin("index attributes: rename, move, delete, reset");
	struct index_db *db = test_open();
	int64_t a, b, c;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, "life-a", ".life-a", 0, &a) == 0);
	test_assert(index_mailbox_create(db, "life-b", ".life-b", 0, &b) == 0);
	test_assert(index_mailbox_create(db, "life-c", ".life-c", 0, &c) == 0);
	test_assert(index_db_commit(db) == 0);
	test_set(db, a, INDEX_ATTRIBUTE_PRIVATE, "comment", "a", 1);
	test_set(db, a, INDEX_ATTRIBUTE_SHARED, "comment", "A", 1);
	test_set(db, b, INDEX_ATTRIBUTE_PRIVATE, "comment", "b", 1);
	test_set(db, c, INDEX_ATTRIBUTE_PRIVATE, "comment", "c", 1);

	/* a rename keeps the id, so the rows stay */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_set_name(db, a, "life-renamed") == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert_strcmp(test_get(db, a, INDEX_ATTRIBUTE_PRIVATE, "comment"), "a");

	/* moving rows (INBOX's rename) */
	int64_t d;
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, "life-d", ".life-d", 0, &d) == 0);
	test_assert(index_attribute_move(db, a, d) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert_strcmp(test_list(db, a, INDEX_ATTRIBUTE_PRIVATE, ""), "");
	test_assert_strcmp(test_get(db, d, INDEX_ATTRIBUTE_PRIVATE, "comment"), "a");
	test_assert_strcmp(test_get(db, d, INDEX_ATTRIBUTE_SHARED, "comment"), "A");

	/* removing a mailbox row removes its rows (trigger) */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_remove(db, b) == 0);
	test_assert(index_db_commit(db) == 0);
	unsigned int count;
	test_assert(index_attribute_count(db, b, &count) == 0 && count == 0);

	/* so does turning it into a \Noselect parent (DELETE with children) */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_reset(db, c, NULL) == 0);
	test_assert(index_db_commit(db) == 0);
	test_assert(index_attribute_count(db, c, &count) == 0 && count == 0);
	/* and other mailboxes keep theirs */
	test_assert(index_attribute_count(db, d, &count) == 0 && count == 2);

	/* a write needs a write transaction; a failed one leaves nothing */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_attribute_set(db, d, INDEX_ATTRIBUTE_PRIVATE, "temp", "x", 1) == 0);
	index_db_rollback(db);
	test_assert_strcmp(test_get(db, d, INDEX_ATTRIBUTE_PRIVATE, "temp"), "");
	index_db_close(&db);
	test_end();
}

static int test_user_version(sqlite3 *sq)
{
	sqlite3_stmt *stmt;
	int version = -1;
	if (sqlite3_prepare_v2(sq, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

static void test_index_attribute_migration(void)
{
	test_begin("index attributes: migration from schema version 5");
	const char *path = t_strdup_printf("%s/v5.db", test_dir);
	struct index_db *db;
	bool created;
	const char *error;
	int64_t id;
	test_assert(index_db_open(path, &db, &created, &error) == 0 && created);
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_create(db, "old", ".old", 0, &id) == 0);
	test_assert(index_db_commit(db) == 0);
	index_db_close(&db);

	/* turn it into what version 5 left on disk (version 7 undone too) */
	sqlite3 *sq;
	test_assert(sqlite3_open(path, &sq) == SQLITE_OK);
	test_assert(test_user_version(sq) == 7);
	test_assert(sqlite3_exec(sq, "DROP INDEX expunged_uid;"
				 "ALTER TABLE expunged DROP COLUMN flags;"
				 "ALTER TABLE expunged DROP COLUMN keywords;"
				 "DROP TRIGGER mailbox_attributes_gc;"
				 "DROP TRIGGER mailbox_attributes_reset;"
				 "DROP TABLE attributes; PRAGMA user_version = 5;",
				 NULL, NULL, NULL) == SQLITE_OK);
	test_assert(test_user_version(sq) == 5);
	sqlite3_close(sq);

	test_assert(index_db_open(path, &db, &created, &error) == 0 && !created);
	struct index_mailbox mb;
	test_assert(index_mailbox_lookup(db, "old", t_pool(), &mb) == 1 && mb.id == id);
	test_set(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment", "after", 5);
	test_assert_strcmp(test_get(db, id, INDEX_ATTRIBUTE_PRIVATE, "comment"), "after");
	/* the triggers came with the table */
	test_assert(index_db_begin_write(db) == 0);
	test_assert(index_mailbox_remove(db, id) == 0);
	test_assert(index_db_commit(db) == 0);
	unsigned int count;
	test_assert(index_attribute_count(db, id, &count) == 0 && count == 0);
	index_db_close(&db);

	test_assert(sqlite3_open(path, &sq) == SQLITE_OK);
	test_assert(test_user_version(sq) == 7);
	sqlite3_close(sq);
	test_end();
}

static void test_cleanup(void)
{
	char *cmd = t_strdup_printf("rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		printf("cleanup failed\n");
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_index_attribute_basic,
		test_index_attribute_mailbox_life,
		test_index_attribute_migration,
		NULL
	};
	if (mkdtemp(test_dir) == NULL)
		i_fatal("mkdtemp failed");
	db_path = i_strdup(t_strdup_printf("%s/tern-index.db", test_dir));
	int ret = test_run(tests);
	test_cleanup();
	free((char *)db_path);
	return ret;
}
