/* Memory pools: arena allocators tied to a lifetime (connection, command,
 * one event-loop iteration), plus the system pool backed by malloc.
 *
 * Arena pools hand out zeroed memory; p_free() is a no-op for them and all
 * memory goes at once in pool_clear() or pool_destroy(). The temporary pool
 * (t_*) is cleared by the event loop after every iteration: memory from it
 * must not be kept across callbacks. */
#ifndef TERN_POOL_H
#define TERN_POOL_H

#include "lib.h"

typedef struct pool *pool_t;

/* malloc()-backed pool; p_free() and p_realloc() work individually. */
extern pool_t system_pool;

/* Creates an arena pool. name is used in debugging output only. */
pool_t pool_create(const char *name, size_t initial_size);
/* Frees everything; *pool becomes NULL. Accepts NULL and system_pool (no-op). */
void pool_destroy(pool_t *pool);
/* Frees all allocations but keeps the first block for reuse. */
void pool_clear(pool_t pool);
/* Bytes currently allocated from the OS by this pool (arena pools only). */
size_t pool_get_allocated(pool_t pool);

void *p_malloc(pool_t pool, size_t size);
void *p_realloc(pool_t pool, void *mem, size_t old_size, size_t new_size);
void p_free(pool_t pool, void *mem);
char *p_strdup(pool_t pool, const char *str);
char *p_strndup(pool_t pool, const void *str, size_t len);
void *p_memdup(pool_t pool, const void *data, size_t size);
char *p_strdup_printf(pool_t pool, const char *fmt, ...) ATTR_PRINTF(2, 3);
char *p_strdup_vprintf(pool_t pool, const char *fmt, va_list args) ATTR_PRINTF(2, 0);
/* Concatenates the strings up to the NULL. */
char *p_strconcat(pool_t pool, const char *str1, ...) ATTR_NULL_TERMINATED;

/* Temporary pool, cleared by t_pool_clear() (the event loop calls it after
 * each iteration, programs without a loop call it where they see fit). */
pool_t t_pool(void);
void t_pool_clear(void);
#define t_malloc(size) p_malloc(t_pool(), size)
#define t_strdup(str) p_strdup(t_pool(), str)
#define t_strndup(str, len) p_strndup(t_pool(), str, len)
#define t_strdup_printf(...) p_strdup_printf(t_pool(), __VA_ARGS__)
#define t_strconcat(...) p_strconcat(t_pool(), __VA_ARGS__)

#define p_new(pool, type, count) \
	((type *)p_malloc(pool, size_mul(sizeof(type), (count))))
#define t_new(type, count) p_new(t_pool(), type, count)
#define i_new(type, count) ((type *)i_zalloc(size_mul(sizeof(type), (count))))

#endif
