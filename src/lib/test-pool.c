/* Unit tests for the memory vocabulary: pools (pool.c), buffers and
 * strings (buffer.c), dynamic arrays (array.c) and hash tables (hash.c). */
#include "test-common.h"
#include "pool.h"
#include "buffer.h"
#include "array.h"
#include "hash.h"

#include <stdalign.h>

static bool mem_is_zero(const void *mem, size_t size)
{
	const unsigned char *p = mem;
	for (size_t i = 0; i < size; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

static bool is_aligned(const void *p)
{
	return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void test_pool_alloc(void)
{
	test_begin("pool alloc");
	pool_t pool = pool_create("test", 100);
	unsigned char *ptrs[500];
	/* distinct, zeroed, aligned and not overlapping: fill each with its
	   own pattern and check them all afterwards */
	for (unsigned int i = 0; i < N_ELEMENTS(ptrs); i++) {
		size_t size = i % 37;
		ptrs[i] = p_malloc(pool, size);
		test_assert(is_aligned(ptrs[i]));
		test_assert(mem_is_zero(ptrs[i], size));
		memset(ptrs[i], (int)(i & 0xff), size);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(ptrs); i++) {
		size_t size = i % 37;
		for (size_t j = 0; j < size; j++) {
			if (ptrs[i][j] != (i & 0xff)) {
				test_assert(ptrs[i][j] == (i & 0xff));
				break;
			}
		}
	}
	test_assert(pool_get_allocated(pool) >= 500 * 16);
	/* p_new counts elements */
	uint64_t *nums = p_new(pool, uint64_t, 100);
	test_assert(mem_is_zero(nums, sizeof(*nums) * 100));
	nums[99] = 1;
	pool_destroy(&pool);
	test_assert(pool == NULL);
	pool_destroy(&pool);
	test_end();
}

static void test_pool_big_alloc(void)
{
	test_begin("pool big allocations");
	pool_t pool = pool_create("test", 1024);
	size_t before = pool_get_allocated(pool);
	const size_t big = 16 * 1024 * 1024;
	unsigned char *p = p_malloc(pool, big);
	test_assert(mem_is_zero(p, big));
	p[0] = 1;
	p[big - 1] = 2;
	test_assert(pool_get_allocated(pool) >= before + big);
	/* a big allocation must not make every later block as big */
	size_t after_big = pool_get_allocated(pool);
	for (unsigned int i = 0; i < 1000; i++)
		(void)p_malloc(pool, 100);
	test_assert(pool_get_allocated(pool) < after_big + 2 * 1024 * 1024);
	test_assert(p[0] == 1 && p[big - 1] == 2);
	/* blocks grow geometrically, so many small allocations need few
	   blocks and little slack */
	pool_t pool2 = pool_create("test2", 64);
	for (unsigned int i = 0; i < 100000; i++)
		(void)p_malloc(pool2, 48);
	test_assert(pool_get_allocated(pool2) < 100000 * 48 * 2);
	pool_destroy(&pool2);
	pool_destroy(&pool);
	test_end();
}

static void test_pool_realloc(void)
{
	test_begin("p_realloc");
	pool_t pool = pool_create("test", 4096);

	/* the last allocation grows in place */
	char *a = p_malloc(pool, 16);
	memcpy(a, "0123456789abcde", 16);
	char *a2 = p_realloc(pool, a, 16, 100);
	test_assert(a2 == a);
	test_assert(memcmp(a2, "0123456789abcde", 16) == 0);
	test_assert(mem_is_zero(a2 + 16, 84));

	/* an earlier allocation moves, keeping its contents */
	char *b = p_malloc(pool, 8);
	memcpy(b, "abcdefg", 8);
	(void)p_malloc(pool, 8);
	char *b2 = p_realloc(pool, b, 8, 200);
	test_assert(b2 != b);
	test_assert(strcmp(b2, "abcdefg") == 0);
	test_assert(mem_is_zero(b2 + 8, 192));

	/* shrinking keeps the memory */
	test_assert(p_realloc(pool, b2, 200, 10) == b2);
	/* NULL behaves like p_malloc */
	char *c = p_realloc(pool, NULL, 0, 32);
	test_assert(c != NULL && mem_is_zero(c, 32));

	/* growing past the end of the block moves to a new block */
	char *d = p_malloc(pool, 64);
	memset(d, 'x', 64);
	char *d2 = p_realloc(pool, d, 64, 100000);
	test_assert(d2 != d);
	test_assert(d2[0] == 'x' && d2[63] == 'x' && mem_is_zero(d2 + 64, 100000 - 64));

	/* in-place growth zeroes memory dirtied before a pool_clear() */
	pool_clear(pool);
	unsigned char *e = p_malloc(pool, 1000);
	memset(e, 0xff, 1000);
	pool_clear(pool);
	unsigned char *f = p_malloc(pool, 16);
	test_assert(f == e);
	f = p_realloc(pool, f, 16, 1000);
	test_assert(f == e && mem_is_zero(f, 1000));

	/* the system pool */
	char *s = p_malloc(system_pool, 10);
	test_assert(mem_is_zero(s, 10));
	memcpy(s, "123456789", 10);
	s = p_realloc(system_pool, s, 10, 100000);
	test_assert(strcmp(s, "123456789") == 0 && mem_is_zero(s + 10, 100000 - 10));
	s = p_realloc(system_pool, s, 100000, 5);
	test_assert(memcmp(s, "12345", 5) == 0);
	p_free(system_pool, s);

	pool_destroy(&pool);
	test_end();
}

static void test_pool_clear(void)
{
	test_begin("pool_clear");
	pool_t pool = pool_create("test", 1024);
	size_t first = pool_get_allocated(pool);
	unsigned char *p1 = p_malloc(pool, 10);
	for (unsigned int i = 0; i < 1000; i++)
		memset(p_malloc(pool, 500), 0xaa, 500);
	(void)p_malloc(pool, 4 * 1024 * 1024);
	test_assert(pool_get_allocated(pool) > first);
	pool_clear(pool);
	test_assert(pool_get_allocated(pool) == first);
	/* the first block is reused, and handed out zeroed again */
	unsigned char *p2 = p_malloc(pool, 10);
	test_assert(p2 == p1);
	for (unsigned int i = 0; i < 1000; i++) {
		unsigned char *p = p_malloc(pool, 500);
		if (!mem_is_zero(p, 500)) {
			test_assert(mem_is_zero(p, 500));
			break;
		}
	}
	pool_clear(pool);
	pool_clear(pool);
	test_assert(pool_get_allocated(pool) == first);
	pool_destroy(&pool);

	/* clearing and destroying the system pool are no-ops */
	pool_t sys = system_pool;
	pool_clear(sys);
	pool_destroy(&sys);
	test_assert(system_pool != NULL);
	test_end();
}

static void test_pool_strings(void)
{
	test_begin("pool strings");
	pool_t pool = pool_create("test", 64);
	test_assert_strcmp(p_strdup(pool, "hello"), "hello");
	test_assert_strcmp(p_strdup(pool, ""), "");
	test_assert(p_strdup(pool, NULL) == NULL);
	test_assert_strcmp(p_strndup(pool, "hello world", 5), "hello");
	char *m = p_memdup(pool, "a\0b", 3);
	test_assert(memcmp(m, "a\0b", 3) == 0);
	test_assert_strcmp(p_strdup_printf(pool, "%d-%s", 42, "x"), "42-x");

	char *long_str = i_malloc(100001);
	memset(long_str, 'y', 100000);
	long_str[100000] = '\0';
	char *s = p_strdup_printf(pool, "<%s|%s>", long_str, long_str);
	test_assert(strlen(s) == 200003 && s[0] == '<' && s[100001] == '|' && s[200002] == '>');
	test_assert(strlen(p_strdup(pool, long_str)) == 100000);
	i_free(long_str);
	test_assert(long_str == NULL);

	/* the temporary pool */
	const char *t = t_strdup_printf("%s%u", "temp", 1u);
	test_assert_strcmp(t, "temp1");
	test_assert_strcmp(t_strndup("abcdef", 3), "abc");
	int *ints = t_new(int, 10);
	test_assert(mem_is_zero(ints, sizeof(int) * 10));
	t_pool_clear();
	test_assert_strcmp(t_strdup("after clear"), "after clear");
	pool_destroy(&pool);
	test_end();
}

static void test_buffer(void)
{
	test_begin("buffer");
	buffer_t *buf = buffer_create(system_pool, 0);
	test_assert(buf->used == 0);
	buffer_append(buf, "hello", 5);
	buffer_append(buf, NULL, 0);
	buffer_append_c(buf, ' ');
	memcpy(buffer_append_space(buf, 5), "world", 5);
	test_assert(buf->used == 11 && memcmp(buf->data, "hello world", 11) == 0);
	test_assert(buf->data[11] == '\0');

	buffer_delete(buf, 5, 1);
	test_assert_strcmp(str_c(buf), "helloworld");
	buffer_delete(buf, 0, 2);
	test_assert_strcmp(str_c(buf), "lloworld");
	buffer_delete(buf, 6, 100);
	test_assert_strcmp(str_c(buf), "llowor");
	buffer_delete(buf, 6, 1);
	buffer_delete(buf, 100, 1);
	test_assert_strcmp(str_c(buf), "llowor");
	buffer_delete(buf, 2, 0);
	test_assert_strcmp(str_c(buf), "llowor");
	buffer_delete(buf, 1, SIZE_MAX);
	test_assert_strcmp(str_c(buf), "l");

	buffer_set_used_size(buf, 1000);
	test_assert(buf->used == 1000 && buf->data[0] == 'l' && mem_is_zero(buf->data + 1, 1000));
	buffer_clear(buf);
	test_assert(buf->used == 0 && buf->data[0] == '\0');

	/* binary data with NULs, growing well past the initial size */
	for (unsigned int i = 0; i < 100000; i++)
		buffer_append_c(buf, (unsigned char)i);
	test_assert(buf->used == 100000 && buf->alloc > 100000);
	bool ok = true;
	for (unsigned int i = 0; i < 100000; i++)
		ok = ok && buf->data[i] == (unsigned char)i;
	test_assert(ok);
	buffer_free(&buf);
	test_assert(buf == NULL);
	buffer_free(&buf);
	test_end();
}

static void test_str(void)
{
	test_begin("str");
	pool_t pool = pool_create("test", 64);
	string_t *str = str_new(pool, 4);
	test_assert_strcmp(str_c(str), "");
	str_append(str, "abc");
	str_append_c(str, 'd');
	str_append_n(str, "efghij", 2);
	str_printfa(str, "%d%s", 123, "x");
	test_assert_strcmp(str_c(str), "abcdef123x");
	test_assert(str_len(str) == 10);
	str_truncate(str, 3);
	test_assert_strcmp(str_c(str), "abc");
	str_truncate(str, 100);
	test_assert_strcmp(str_c(str), "abc");
	str_delete(str, 1, 1);
	test_assert_strcmp(str_c(str), "ac");
	char *dup = str_dup(pool, str);
	test_assert_strcmp(dup, "ac");

	/* long printf output, appended repeatedly across pool blocks */
	char *long_str = i_malloc(50001);
	memset(long_str, 'z', 50000);
	long_str[50000] = '\0';
	str_truncate(str, 0);
	for (unsigned int i = 0; i < 20; i++)
		str_printfa(str, "[%u:%s]", i, long_str);
	test_assert(str_len(str) == 20 * 50003 + 30);
	test_assert(strlen(str_c(str)) == str_len(str));
	test_assert(strncmp(str_c(str), "[0:zzz", 6) == 0);
	test_assert(strcmp(str_c(str) + str_len(str) - 4, "zzz]") == 0);
	const char *p = strstr(str_c(str), "[19:");
	test_assert(p != NULL && p - str_c(str) == 19 * 50003 + 28);
	i_free(long_str);

	/* an empty printf appends nothing but keeps the NUL */
	str_truncate(str, 0);
	str_printfa(str, "%s", "");
	test_assert(str_len(str) == 0 && str_c(str)[0] == '\0');

	string_t *sys = str_new(system_pool, 0);
	for (unsigned int i = 0; i < 1000; i++)
		str_printfa(sys, "%u,", i);
	test_assert(strncmp(str_c(sys), "0,1,2,", 6) == 0 && str_len(sys) == 3890);
	str_free(&sys);
	test_assert(sys == NULL);

	string_t *t = t_str_new(0);
	str_append(t, "temp");
	test_assert_strcmp(str_c(t), "temp");
	pool_destroy(&pool);
	test_end();
}

struct test_elem {
	int a;
	char name[12];
	uint64_t b;
};

static void test_array(void)
{
	test_begin("array");
	ARRAY(int) nums;
	array_init(&nums, system_pool, 0);
	test_assert(array_is_created(&nums) && nums.count == 0 && nums.alloc >= 1);
	for (int i = 0; i < 10000; i++)
		array_push(&nums, i);
	test_assert(nums.count == 10000 && nums.alloc >= 10000);
	test_assert(nums.v[0] == 0 && nums.v[9999] == 9999);

	array_delete(&nums, 0, 1);
	test_assert(nums.count == 9999 && nums.v[0] == 1);
	array_delete(&nums, 9998, 1);
	test_assert(nums.count == 9998 && nums.v[9997] == 9998);
	array_delete(&nums, 100, 900);
	test_assert(nums.count == 9098 && nums.v[99] == 100 && nums.v[100] == 1001);
	array_delete(&nums, 5, 0);
	test_assert(nums.count == 9098 && nums.v[5] == 6);
	array_delete(&nums, 0, nums.count);
	test_assert(nums.count == 0);

	array_push(&nums, 7);
	array_clear(&nums);
	test_assert(nums.count == 0 && array_is_created(&nums));
	array_reserve(&nums, 50000);
	test_assert(nums.alloc >= 50000);
	array_free(&nums);
	test_assert(!array_is_created(&nums) && nums.count == 0 && nums.alloc == 0);

	/* struct elements on an arena pool */
	pool_t pool = pool_create("test", 64);
	ARRAY(struct test_elem) elems;
	array_init(&elems, pool, 2);
	for (int i = 0; i < 1000; i++) {
		struct test_elem *e = array_append_space(&elems);
		test_assert(e->a == 0 && e->b == 0 && e->name[0] == '\0');
		e->a = i;
		e->b = (uint64_t)i * 3;
		snprintf(e->name, sizeof(e->name), "n%d", i);
	}
	test_assert(elems.count == 1000);
	bool ok = true;
	for (unsigned int i = 0; i < elems.count; i++) {
		ok = ok && elems.v[i].a == (int)i && elems.v[i].b == i * 3 &&
		     strcmp(elems.v[i].name, t_strdup_printf("n%u", i)) == 0;
	}
	test_assert(ok);
	/* append_space after delete hands out a zeroed element */
	memset(&elems.v[999], 0xff, sizeof(elems.v[999]));
	array_delete(&elems, 999, 1);
	struct test_elem *e = array_append_space(&elems);
	test_assert(mem_is_zero(e, sizeof(*e)));
	struct test_elem copy = { .a = -1 };
	array_push(&elems, copy);
	test_assert(elems.count == 1001 && elems.v[1000].a == -1);
	array_free(&elems);
	pool_destroy(&pool);
	test_end();
}

static void test_hash_str(void)
{
	test_begin("hash string keys");
	pool_t pool = pool_create("test", 1024);
	struct hash_table *t = hash_table_create(pool, str_hash, str_cmp);
	const unsigned int n = 10000;
	char **keys = p_new(pool, char *, n);
	for (unsigned int i = 0; i < n; i++) {
		keys[i] = p_strdup_printf(pool, "key%u", i);
		hash_table_insert(t, keys[i], (void *)(uintptr_t)(i + 1));
	}
	test_assert(hash_table_count(t) == n);
	bool ok = true;
	for (unsigned int i = 0; i < n; i++) {
		/* looked up through a different pointer with equal contents */
		const char *k = t_strdup_printf("key%u", i);
		ok = ok && hash_table_lookup(t, k) == (void *)(uintptr_t)(i + 1);
	}
	test_assert(ok);
	test_assert(hash_table_lookup(t, "key10000") == NULL);
	test_assert(hash_table_lookup(t, "KEY1") == NULL);
	test_assert(hash_table_lookup(t, "") == NULL);

	/* replacing keeps the count and stores the new key */
	char *key5 = p_strdup(pool, "key5");
	hash_table_insert(t, key5, (void *)(uintptr_t)555);
	test_assert(hash_table_count(t) == n);
	const void *stored_key;
	void *value;
	test_assert(hash_table_lookup_full(t, "key5", &stored_key, &value));
	test_assert(stored_key == key5 && value == (void *)(uintptr_t)555);
	test_assert(hash_table_lookup_full(t, "key6", NULL, NULL));
	test_assert(!hash_table_lookup_full(t, "nokey", &stored_key, &value));

	/* NULL values are stored and found */
	hash_table_insert(t, "null", NULL);
	test_assert(hash_table_lookup(t, "null") == NULL);
	test_assert(hash_table_lookup_full(t, "null", NULL, &value) && value == NULL);
	test_assert(hash_table_remove(t, "null"));

	for (unsigned int i = 0; i < n; i += 2)
		test_assert(hash_table_remove(t, keys[i]));
	test_assert(!hash_table_remove(t, keys[0]));
	test_assert(!hash_table_remove(t, "missing"));
	test_assert(hash_table_count(t) == n / 2);
	ok = true;
	for (unsigned int i = 0; i < n; i++) {
		void *v = hash_table_lookup(t, keys[i]);
		ok = ok && (i % 2 == 0 ? v == NULL : v != NULL);
	}
	test_assert(ok);
	/* removed keys can come back */
	hash_table_insert(t, keys[0], (void *)(uintptr_t)1);
	test_assert(hash_table_count(t) == n / 2 + 1 && hash_table_lookup(t, "key0") != NULL);

	hash_table_destroy(&t);
	test_assert(t == NULL);
	hash_table_destroy(&t);
	pool_destroy(&pool);
	test_end();
}

static void test_hash_iter(void)
{
	test_begin("hash iteration");
	struct hash_table *t = hash_table_create(system_pool, direct_hash, direct_cmp);
	const unsigned int n = 5000;
	unsigned char *seen = i_zalloc(n + 1);

	/* empty table */
	struct hash_iter iter;
	const void *key;
	void *value;
	hash_table_iter_init(t, &iter);
	test_assert(!hash_table_iter_next(&iter, &key, &value));

	for (uintptr_t i = 1; i <= n; i++)
		hash_table_insert(t, (void *)i, (void *)(i * 2));
	hash_table_iter_init(t, &iter);
	unsigned int visited = 0;
	while (hash_table_iter_next(&iter, &key, &value)) {
		uintptr_t k = (uintptr_t)key;
		test_assert(k >= 1 && k <= n && (uintptr_t)value == k * 2);
		if (k >= 1 && k <= n)
			seen[k]++;
		visited++;
	}
	test_assert(visited == n);
	bool ok = true;
	for (unsigned int i = 1; i <= n; i++)
		ok = ok && seen[i] == 1;
	test_assert(ok);

	/* removing the entry just returned: every entry is still visited
	   exactly once */
	memset(seen, 0, n + 1);
	visited = 0;
	hash_table_iter_init(t, &iter);
	while (hash_table_iter_next(&iter, &key, &value)) {
		uintptr_t k = (uintptr_t)key;
		if (k >= 1 && k <= n)
			seen[k]++;
		visited++;
		if (k % 3 != 0)
			test_assert(hash_table_remove(t, key));
	}
	test_assert(visited == n);
	test_assert(hash_table_count(t) == n / 3);
	ok = true;
	for (unsigned int i = 1; i <= n; i++) {
		ok = ok && seen[i] == 1 &&
		     (hash_table_lookup(t, (void *)(uintptr_t)i) != NULL) == (i % 3 == 0);
	}
	test_assert(ok);

	/* removing everything while iterating empties the table */
	hash_table_iter_init(t, &iter);
	visited = 0;
	while (hash_table_iter_next(&iter, &key, &value)) {
		test_assert(hash_table_remove(t, key));
		visited++;
	}
	test_assert(visited == n / 3 && hash_table_count(t) == 0);
	hash_table_iter_init(t, &iter);
	test_assert(!hash_table_iter_next(&iter, &key, &value));

	i_free(seen);
	hash_table_destroy(&t);
	test_end();
}

static void test_hash_strcase(void)
{
	test_begin("hash case-insensitive keys");
	struct hash_table *t = hash_table_create(system_pool, strcase_hash, strcase_cmp);
	int inbox_value, sent_value, other_value;
	hash_table_insert(t, "INBOX", &inbox_value);
	hash_table_insert(t, "Sent", &sent_value);
	test_assert(hash_table_lookup(t, "inbox") == &inbox_value);
	test_assert(hash_table_lookup(t, "InBoX") == &inbox_value);
	test_assert(hash_table_lookup(t, "SENT") == &sent_value);
	test_assert(hash_table_lookup(t, "Sent ") == NULL);
	const void *key;
	test_assert(hash_table_lookup_full(t, "inbox", &key, NULL) && strcmp(key, "INBOX") == 0);
	/* same key in another case replaces */
	hash_table_insert(t, "Inbox", &other_value);
	test_assert(hash_table_count(t) == 2);
	test_assert(hash_table_lookup(t, "INBOX") == &other_value);
	test_assert(hash_table_remove(t, "iNbOx"));
	test_assert(hash_table_count(t) == 1);

	test_assert(strcase_hash("Hello World") == strcase_hash("hELLO wORLD"));
	test_assert(str_hash("Hello") != str_hash("hello"));
	/* only ASCII letters fold */
	test_assert(strcase_hash("\xc4") != strcase_hash("\xe4"));
	hash_table_destroy(&t);
	test_end();
}

static void test_hash_direct_spread(void)
{
	test_begin("direct_hash spreads aligned pointers");
	/* buckets are picked by the low bits, so pointers aligned to 16 must
	   still reach every bucket */
	unsigned int used[64] = { 0 };
	unsigned int distinct = 0;
	for (uintptr_t p = 0x7f0000001000; p < 0x7f0000001000 + 16 * 4096; p += 16)
		used[direct_hash((void *)p) & 63]++;
	unsigned int sparse = 0;
	for (unsigned int i = 0; i < N_ELEMENTS(used); i++) {
		distinct += used[i] > 0 ? 1 : 0;
		sparse += used[i] < 4096 / 64 / 4 ? 1 : 0;
	}
	test_assert(distinct == 64);
	test_assert(sparse == 0);
	test_assert(direct_cmp((void *)1, (void *)1) == 0);
	test_assert(direct_cmp((void *)1, (void *)2) < 0);
	test_assert(direct_cmp((void *)2, (void *)1) > 0);
	test_end();
}

static void test_str_append_uint(void)
{
	test_begin("str_append_uint");
	string_t *str = t_str_new(64);
	str_append_uint(str, 0);
	str_append_c(str, ' ');
	str_append_uint(str, 4294967295u);
	str_append_c(str, ' ');
	str_append_uint(str, UINT64_MAX);
	test_assert_strcmp(str_c(str), "0 4294967295 18446744073709551615");
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_str_append_uint,
		test_pool_alloc,
		test_pool_big_alloc,
		test_pool_realloc,
		test_pool_clear,
		test_pool_strings,
		test_buffer,
		test_str,
		test_array,
		test_hash_str,
		test_hash_iter,
		test_hash_strcase,
		test_hash_direct_spread,
		NULL
	};
	return test_run(tests);
}
