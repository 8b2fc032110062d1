/* Arena and system pools, and the process-wide temporary pool. */
#include "pool.h"

#include <errno.h>
#include <unistd.h>

#define POOL_ALIGN 16
#define POOL_MAX_BLOCK_GROWTH (1024 * 1024)

struct pool_block {
	struct pool_block *prev;
	size_t size, used;
	/* data follows, aligned */
};

struct pool {
	const char *name;
	bool is_system;
	struct pool_block *block; /* current block; older ones via prev */
	size_t first_size;
	size_t allocated;
};

static struct pool system_pool_obj = { .name = "system", .is_system = true };
pool_t system_pool = &system_pool_obj;

static pool_t temp_pool;

static size_t align_up(size_t n)
{
	return size_add(n, POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
}

static size_t block_header_size(void)
{
	return align_up(sizeof(struct pool_block));
}

static unsigned char *block_data(struct pool_block *b)
{
	return (unsigned char *)b + block_header_size();
}

static void pool_add_block(pool_t pool, size_t min_size)
{
	size_t size = pool->first_size;
	if (pool->block != NULL) {
		/* the cap keeps one big allocation (a block of exactly its
		   size) from making every later block as big */
		size_t cap = I_MAX(pool->first_size, POOL_MAX_BLOCK_GROWTH);
		size = pool->block->size > cap / 2 ? cap : pool->block->size * 2;
	}
	if (size < min_size)
		size = min_size;
	struct pool_block *b = i_malloc(size_add(block_header_size(), size));
	b->prev = pool->block;
	b->size = size;
	b->used = 0;
	pool->block = b;
	pool->allocated += size;
}

pool_t pool_create(const char *name, size_t initial_size)
{
	pool_t pool = i_zalloc(sizeof(*pool));
	pool->name = name;
	pool->first_size = align_up(initial_size < 64 ? 64 : initial_size);
	pool_add_block(pool, 0);
	return pool;
}

void pool_clear(pool_t pool)
{
	if (pool->is_system)
		return;
	while (pool->block->prev != NULL) {
		struct pool_block *b = pool->block;
		pool->block = b->prev;
		pool->allocated -= b->size;
		free(b);
	}
	pool->block->used = 0;
}

void pool_destroy(pool_t *_pool)
{
	pool_t pool = *_pool;
	if (pool == NULL || pool->is_system)
		return;
	*_pool = NULL;
	while (pool->block != NULL) {
		struct pool_block *b = pool->block;
		pool->block = b->prev;
		free(b);
	}
	free(pool);
}

size_t pool_get_allocated(pool_t pool)
{
	return pool->allocated;
}

void *p_malloc(pool_t pool, size_t size)
{
	if (pool->is_system)
		return i_zalloc(size);
	size = align_up(size == 0 ? 1 : size);
	struct pool_block *b = pool->block;
	if (b->size - b->used < size) {
		pool_add_block(pool, size);
		b = pool->block;
	}
	void *mem = block_data(b) + b->used;
	b->used += size;
	memset(mem, 0, size);
	return mem;
}

void *p_realloc(pool_t pool, void *mem, size_t old_size, size_t new_size)
{
	if (pool->is_system) {
		unsigned char *p = i_realloc(mem, new_size);
		if (new_size > old_size)
			memset(p + old_size, 0, new_size - old_size);
		return p;
	}
	if (new_size <= old_size)
		return mem;
	/* grow in place when mem is the last allocation of the current block */
	struct pool_block *b = pool->block;
	size_t old_aligned = align_up(old_size == 0 ? 1 : old_size);
	size_t new_aligned = align_up(new_size);
	if (mem != NULL && (unsigned char *)mem + old_aligned == block_data(b) + b->used &&
	    b->used - old_aligned + new_aligned <= b->size) {
		b->used = b->used - old_aligned + new_aligned;
		memset((unsigned char *)mem + old_size, 0, new_size - old_size);
		return mem;
	}
	void *p = p_malloc(pool, new_size);
	if (mem != NULL)
		memcpy(p, mem, old_size);
	return p;
}

void p_free(pool_t pool, void *mem)
{
	if (pool->is_system)
		free(mem);
}

char *p_strndup(pool_t pool, const void *str, size_t len)
{
	char *p = p_malloc(pool, size_add(len, 1));
	memcpy(p, str, len);
	p[len] = '\0';
	return p;
}

char *p_strdup(pool_t pool, const char *str)
{
	if (str == NULL)
		return NULL;
	return p_strndup(pool, str, strlen(str));
}

void *p_memdup(pool_t pool, const void *data, size_t size)
{
	void *p = p_malloc(pool, size);
	memcpy(p, data, size);
	return p;
}

char *p_strdup_vprintf(pool_t pool, const char *fmt, va_list args)
{
	va_list args2;
	va_copy(args2, args);
	int len = vsnprintf(NULL, 0, fmt, args2);
	va_end(args2);
	if (len < 0)
		i_panic("vsnprintf failed for format %s", fmt);
	char *p = p_malloc(pool, (size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, args);
	return p;
}

char *p_strdup_printf(pool_t pool, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *p = p_strdup_vprintf(pool, fmt, args);
	va_end(args);
	return p;
}

char *p_strconcat(pool_t pool, const char *str1, ...)
{
	va_list args;
	size_t len = 0;
	va_start(args, str1);
	for (const char *s = str1; s != NULL; s = va_arg(args, const char *))
		len = size_add(len, strlen(s));
	va_end(args);
	char *p = p_malloc(pool, size_add(len, 1)), *w = p;
	va_start(args, str1);
	for (const char *s = str1; s != NULL; s = va_arg(args, const char *)) {
		size_t n = strlen(s);
		memcpy(w, s, n);
		w += n;
	}
	va_end(args);
	*w = '\0';
	return p;
}

pool_t t_pool(void)
{
	if (temp_pool == NULL)
		temp_pool = pool_create("temp", 32 * 1024);
	return temp_pool;
}

void t_pool_clear(void)
{
	if (temp_pool != NULL)
		pool_clear(temp_pool);
}
