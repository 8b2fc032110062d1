/* Compiled-script cache: a small list of entries, each with its own pool,
 * validated by stat() on every lookup. Referenced entries are never
 * evicted, so a script stays valid while a delivery runs it. */
#include "sieve-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIEVE_CACHE_DEFAULT_MAX 64

struct sieve_cache_entry {
	struct sieve_cache_entry *prev, *next; /* most recently used first */
	char *path;
	struct timespec mtime;
	off_t size;
	pool_t pool;
	struct sieve_ast *ast; /* NULL: error */
	const char *error;
	unsigned int refcount;
	/* the file changed while referenced: freed on the last release */
	bool stale;
};

struct sieve_cache {
	struct sieve_cache_entry *head;
	unsigned int count, max_entries;
	struct sieve_parser_limits limits;
};

struct sieve_cache *sieve_cache_create(unsigned int max_entries,
				       const struct sieve_parser_limits *limits)
{
	struct sieve_cache *cache = i_new(struct sieve_cache, 1);

	cache->max_entries = max_entries == 0 ? SIEVE_CACHE_DEFAULT_MAX : max_entries;
	if (limits != NULL)
		cache->limits = *limits;
	return cache;
}

static void entry_unlink(struct sieve_cache *cache, struct sieve_cache_entry *entry)
{
	if (entry->prev != NULL)
		entry->prev->next = entry->next;
	else
		cache->head = entry->next;
	if (entry->next != NULL)
		entry->next->prev = entry->prev;
	entry->prev = entry->next = NULL;
	cache->count--;
}

static void entry_free(struct sieve_cache_entry *entry)
{
	pool_destroy(&entry->pool);
	i_free(entry->path);
	i_free(entry);
}

void sieve_cache_destroy(struct sieve_cache **_cache)
{
	struct sieve_cache *cache = *_cache;

	if (cache == NULL)
		return;
	*_cache = NULL;
	while (cache->head != NULL) {
		struct sieve_cache_entry *entry = cache->head;

		i_assert(entry->refcount == 0);
		entry_unlink(cache, entry);
		entry_free(entry);
	}
	i_free(cache);
}

static void cache_evict(struct sieve_cache *cache)
{
	struct sieve_cache_entry *entry = cache->head, *last = NULL;

	for (; entry != NULL; entry = entry->next) {
		if (entry->refcount == 0)
			last = entry;
	}
	/* called before adding one */
	if (last != NULL && cache->count >= cache->max_entries) {
		entry_unlink(cache, last);
		entry_free(last);
	}
}

static int cache_read(const char *path, pool_t pool, const struct sieve_parser_limits *limits,
		      const struct stat *st, unsigned char **data_r, const char **error_r)
{
	size_t max = limits->lexer.max_script_size == 0 ? 1024 * 1024 :
		limits->lexer.max_script_size;
	size_t size = (size_t)st->st_size, done = 0;
	int fd;

	if ((uint64_t)st->st_size > max) {
		*error_r = p_strdup_printf(pool, "script too large (limit %zu bytes)", max);
		return -1;
	}
	if ((fd = open(path, O_RDONLY)) < 0) {
		*error_r = p_strdup_printf(pool, "open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	*data_r = p_malloc(pool, size + 1);
	while (done < size) {
		ssize_t ret = read(fd, *data_r + done, size - done);

		if (ret <= 0) {
			*error_r = p_strdup_printf(pool, "read(%s) failed: %s", path,
						   ret == 0 ? "file shrank" : strerror(errno));
			i_close_fd(&fd);
			return -1;
		}
		done += (size_t)ret;
	}
	i_close_fd(&fd);
	return 0;
}

static struct sieve_cache_entry *cache_load(struct sieve_cache *cache, const char *path,
					    const struct stat *st)
{
	struct sieve_cache_entry *entry = i_new(struct sieve_cache_entry, 1);
	unsigned char *data;
	const char *error;

	entry->path = i_strdup(path);
	entry->mtime = st->st_mtim;
	entry->size = st->st_size;
	entry->pool = pool_create("sieve script", 16384);
	if (cache_read(path, entry->pool, &cache->limits, st, &data, &error) < 0 ||
	    sieve_compile(entry->pool, data, (size_t)st->st_size, &cache->limits,
			  &entry->ast, &error) < 0) {
		entry->ast = NULL;
		entry->error = p_strdup(entry->pool, error);
	} else {
		entry->ast->name = p_strdup(entry->pool, path);
	}
	entry->next = cache->head;
	if (cache->head != NULL)
		cache->head->prev = entry;
	cache->head = entry;
	cache->count++;
	return entry;
}

static struct sieve_cache_entry *cache_find(struct sieve_cache *cache, const char *path)
{
	for (struct sieve_cache_entry *e = cache->head; e != NULL; e = e->next) {
		if (!e->stale && strcmp(e->path, path) == 0)
			return e;
	}
	return NULL;
}

int sieve_cache_get(struct sieve_cache *cache, const char *path,
		    const struct sieve_ast **ast_r, const char **error_r)
{
	struct sieve_cache_entry *entry = cache_find(cache, path);
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = t_strdup_printf("stat(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if (entry != NULL && (entry->size != st.st_size ||
			      entry->mtime.tv_sec != st.st_mtim.tv_sec ||
			      entry->mtime.tv_nsec != st.st_mtim.tv_nsec)) {
		if (entry->refcount > 0) {
			entry->stale = true;
		} else {
			entry_unlink(cache, entry);
			entry_free(entry);
		}
		entry = NULL;
	}
	if (entry == NULL) {
		cache_evict(cache);
		entry = cache_load(cache, path, &st);
	} else if (entry != cache->head) {
		entry_unlink(cache, entry);
		entry->next = cache->head;
		cache->head->prev = entry;
		cache->head = entry;
		cache->count++;
	}
	if (entry->ast == NULL) {
		*error_r = entry->error;
		return -1;
	}
	entry->refcount++;
	*ast_r = entry->ast;
	return 1;
}

void sieve_cache_release(struct sieve_cache *cache, const struct sieve_ast **ast)
{
	for (struct sieve_cache_entry *e = cache->head; e != NULL; e = e->next) {
		if (e->ast != *ast)
			continue;
		i_assert(e->refcount > 0);
		if (--e->refcount == 0 && (e->stale || cache->count > cache->max_entries)) {
			entry_unlink(cache, e);
			entry_free(e);
		}
		*ast = NULL;
		return;
	}
	i_unreached();
}

unsigned int sieve_cache_count(const struct sieve_cache *cache)
{
	return cache->count;
}
