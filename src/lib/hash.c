/* Chained hash table with power-of-two bucket counts. */
#include "hash.h"

#include <strings.h>

struct hash_node {
	struct hash_node *next;
	const void *key;
	void *value;
	unsigned int hash;
};

struct hash_table {
	pool_t pool; /* only for the table struct; nodes use malloc so removal frees */
	hash_fn_t *hash;
	hash_cmp_fn_t *cmp;
	struct hash_node **buckets;
	unsigned int size, count;
};

struct hash_table *hash_table_create(pool_t pool, hash_fn_t *hash, hash_cmp_fn_t *cmp)
{
	struct hash_table *t = p_new(pool, struct hash_table, 1);
	t->pool = pool;
	t->hash = hash;
	t->cmp = cmp;
	t->size = 16;
	t->buckets = i_new(struct hash_node *, t->size);
	return t;
}

void hash_table_destroy(struct hash_table **_t)
{
	struct hash_table *t = *_t;
	if (t == NULL)
		return;
	*_t = NULL;
	for (unsigned int i = 0; i < t->size; i++) {
		struct hash_node *n = t->buckets[i];
		while (n != NULL) {
			struct hash_node *next = n->next;
			free(n);
			n = next;
		}
	}
	free(t->buckets);
	p_free(t->pool, t);
}

static struct hash_node **hash_find(struct hash_table *t, const void *key, unsigned int h)
{
	struct hash_node **np = &t->buckets[h & (t->size - 1)];
	for (; *np != NULL; np = &(*np)->next) {
		if ((*np)->hash == h && t->cmp((*np)->key, key) == 0)
			break;
	}
	return np;
}

static void hash_grow(struct hash_table *t)
{
	unsigned int new_size = t->size * 2;
	struct hash_node **nb = i_new(struct hash_node *, new_size);
	for (unsigned int i = 0; i < t->size; i++) {
		struct hash_node *n = t->buckets[i];
		while (n != NULL) {
			struct hash_node *next = n->next;
			unsigned int b = n->hash & (new_size - 1);
			n->next = nb[b];
			nb[b] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->size = new_size;
}

void hash_table_insert(struct hash_table *t, const void *key, void *value)
{
	unsigned int h = t->hash(key);
	struct hash_node **np = hash_find(t, key, h);
	if (*np != NULL) {
		(*np)->key = key;
		(*np)->value = value;
		return;
	}
	struct hash_node *n = i_malloc(sizeof(*n));
	n->key = key;
	n->value = value;
	n->hash = h;
	n->next = NULL;
	*np = n;
	if (++t->count > t->size)
		hash_grow(t);
}

bool hash_table_lookup_full(struct hash_table *t, const void *key,
			    const void **key_r, void **value_r)
{
	struct hash_node *n = *hash_find(t, key, t->hash(key));
	if (n == NULL)
		return false;
	if (key_r != NULL)
		*key_r = n->key;
	if (value_r != NULL)
		*value_r = n->value;
	return true;
}

void *hash_table_lookup(struct hash_table *t, const void *key)
{
	void *value;
	return hash_table_lookup_full(t, key, NULL, &value) ? value : NULL;
}

bool hash_table_remove(struct hash_table *t, const void *key)
{
	struct hash_node **np = hash_find(t, key, t->hash(key));
	if (*np == NULL)
		return false;
	struct hash_node *n = *np;
	*np = n->next;
	free(n);
	t->count--;
	return true;
}

unsigned int hash_table_count(const struct hash_table *t)
{
	return t->count;
}

void hash_table_iter_init(struct hash_table *t, struct hash_iter *iter)
{
	iter->table = t;
	iter->bucket = 0;
	iter->node = NULL;
}

bool hash_table_iter_next(struct hash_iter *iter, const void **key_r, void **value_r)
{
	struct hash_table *t = iter->table;
	/* iter->node is the successor of the entry returned last, saved before
	   returning it so that removing that entry is safe */
	while (iter->bucket < t->size) {
		struct hash_node *cur = iter->node == NULL ? t->buckets[iter->bucket] : iter->node;
		if (cur != NULL) {
			iter->node = cur->next;
			if (cur->next == NULL)
				iter->bucket++;
			*key_r = cur->key;
			*value_r = cur->value;
			return true;
		}
		iter->bucket++;
		iter->node = NULL;
	}
	return false;
}

unsigned int str_hash(const void *p)
{
	/* FNV-1a */
	const unsigned char *s = p;
	unsigned int h = 2166136261u;
	for (; *s != '\0'; s++)
		h = (h ^ *s) * 16777619u;
	return h;
}

unsigned int mem_hash_seeded(const void *data, size_t size, uint64_t seed)
{
	const unsigned char *d = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < size; i++) {
		h ^= d[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (unsigned int)h;
}

unsigned int strcase_hash(const void *p)
{
	const unsigned char *s = p;
	unsigned int h = 2166136261u;
	for (; *s != '\0'; s++) {
		unsigned char c = *s >= 'A' && *s <= 'Z' ? *s + 32 : *s;
		h = (h ^ c) * 16777619u;
	}
	return h;
}

int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int strcase_cmp(const void *a, const void *b)
{
	return strcasecmp(a, b);
}

unsigned int direct_hash(const void *p)
{
	uint64_t v = (uintptr_t)p;
	unsigned int h = (unsigned int)(v ^ (v >> 32)) * 2654435761u;
	/* the multiply leaves the zero low bits of aligned pointers zero, and
	   buckets are chosen by the low bits: fold the high bits down */
	return h ^ (h >> 16);
}

int direct_cmp(const void *a, const void *b)
{
	return a == b ? 0 : (a < b ? -1 : 1);
}
