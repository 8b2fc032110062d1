/* Hash table mapping keys to values (both void *). Keys are hashed and
 * compared by the functions given at creation; helpers for C strings
 * (case-sensitive and ASCII case-insensitive) and for integer keys stored
 * in pointers are provided. The table never owns keys or values. */
#ifndef TERN_HASH_H
#define TERN_HASH_H

#include "pool.h"

struct hash_table;
typedef unsigned int hash_fn_t(const void *key);
typedef int hash_cmp_fn_t(const void *a, const void *b);

struct hash_iter {
	struct hash_table *table;
	unsigned int bucket;
	void *node;
};

struct hash_table *hash_table_create(pool_t pool, hash_fn_t *hash, hash_cmp_fn_t *cmp);
void hash_table_destroy(struct hash_table **table);

/* Inserts or replaces. */
void hash_table_insert(struct hash_table *table, const void *key, void *value);
/* Returns the value or NULL. */
void *hash_table_lookup(struct hash_table *table, const void *key);
/* Returns true when a key was found; the stored key and value are returned
 * through the optional pointers. */
bool hash_table_lookup_full(struct hash_table *table, const void *key,
			    const void **key_r, void **value_r);
/* Returns true if the key existed. */
bool hash_table_remove(struct hash_table *table, const void *key);
unsigned int hash_table_count(const struct hash_table *table);

void hash_table_iter_init(struct hash_table *table, struct hash_iter *iter);
/* Returns false when done. The table must not change during iteration
 * except by removing the entry just returned. */
bool hash_table_iter_next(struct hash_iter *iter, const void **key_r, void **value_r);

unsigned int str_hash(const void *str);
/* 64-bit FNV-1a of size bytes with a per-table random seed and a final
   mix (the table masks by the low bits), for tables whose keys an
   attacker chooses (user names, addresses). */
unsigned int mem_hash_seeded(const void *data, size_t size, uint64_t seed);
unsigned int strcase_hash(const void *str);
int str_cmp(const void *a, const void *b);
int strcase_cmp(const void *a, const void *b);
unsigned int direct_hash(const void *p);
int direct_cmp(const void *a, const void *b);

#endif
