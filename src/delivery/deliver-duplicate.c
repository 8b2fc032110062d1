/* The duplicate database file: one line per entry, "<sha256 hex> <expiry
 * unix time>\n", held in memory while open. The file is locked with
 * flock() for the whole delivery (deliveries to one user serialise on it
 * only when they need it), and a commit writes a new file, fsyncs it and
 * renames it over the old one, so a crash leaves the old or the new
 * database, never a mix. */
#include "deliver-duplicate.h"
#include "buffer.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUP_HASH_HEX_LEN 64
#define DUP_LINE_MAX 96
/* a larger file is damaged or not ours: read only this much of it */
#define DUP_FILE_MAX_SIZE ((DUP_LINE_MAX) * (DELIVER_DUPLICATE_MAX_ENTRIES + 16))

struct deliver_duplicate {
	pool_t pool;
	char *path;
	int lock_fd;
	struct hash_table *entries; /* hex hash -> struct dup_entry */
	bool changed;
};

struct dup_entry {
	time_t expires;
};

static void dup_hash(const char *kind, const void *id, size_t id_size,
		     char hex_r[DUP_HASH_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		i_fatal_oom(0);
	/* the kind and a NUL separate the namespaces */
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, kind, strlen(kind) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, id, id_size) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32)
		i_panic("SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex_r + i * 2, 3, "%02x", md[i]);
}

static void dup_insert(struct deliver_duplicate *dup, const char *hex, time_t expires)
{
	struct dup_entry *e = hash_table_lookup(dup->entries, hex);
	if (e == NULL) {
		e = p_malloc(dup->pool, sizeof(*e));
		hash_table_insert(dup->entries, p_strdup(dup->pool, hex), e);
	}
	e->expires = expires;
}

/* Parses one "hex expiry" line; damaged lines are skipped. */
static void dup_parse_line(struct deliver_duplicate *dup, const char *line, time_t now)
{
	char hex[DUP_HASH_HEX_LEN + 1];
	long long expires;
	if (sscanf(line, "%64[0-9a-f] %lld", hex, &expires) != 2 ||
	    strlen(hex) != DUP_HASH_HEX_LEN || expires <= (long long)now)
		return;
	if (hash_table_count(dup->entries) < DELIVER_DUPLICATE_MAX_ENTRIES)
		dup_insert(dup, hex, (time_t)expires);
}

static int dup_read(struct deliver_duplicate *dup, int fd, time_t now, const char **error_r)
{
	char *buf = i_malloc(DUP_FILE_MAX_SIZE + 1);
	size_t used = 0;
	ssize_t n;
	while (used < DUP_FILE_MAX_SIZE &&
	       (n = read(fd, buf + used, DUP_FILE_MAX_SIZE - used)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = t_strdup_printf("read(%s) failed: %s", dup->path,
						   strerror(errno));
			free(buf);
			return -1;
		}
		used += (size_t)n;
	}
	buf[used] = '\0';
	for (char *line = buf, *lf; *line != '\0'; line = lf + 1) {
		lf = strchr(line, '\n');
		if (lf == NULL)
			break; /* a partial last line: a crash mid-write of an old version */
		*lf = '\0';
		dup_parse_line(dup, line, now);
	}
	free(buf);
	return 0;
}

int deliver_duplicate_open(const char *path, time_t now, struct deliver_duplicate **dup_r,
			   const char **error_r)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0) {
		*error_r = t_strdup_printf("flock(%s) failed: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* the file may have been replaced between open and lock: the lock
	   must be on the current file */
	struct stat st1, st2;
	if (fstat(fd, &st1) < 0 || stat(path, &st2) < 0 || st1.st_ino != st2.st_ino) {
		close(fd);
		return deliver_duplicate_open(path, now, dup_r, error_r);
	}
	pool_t pool = pool_create("deliver duplicate", 4096);
	struct deliver_duplicate *dup = p_malloc(pool, sizeof(*dup));
	dup->pool = pool;
	dup->path = p_strdup(pool, path);
	dup->lock_fd = fd;
	dup->entries = hash_table_create(pool, str_hash, (hash_cmp_fn_t *)strcmp);
	if (dup_read(dup, fd, now, error_r) < 0) {
		deliver_duplicate_close(&dup);
		return -1;
	}
	*dup_r = dup;
	return 0;
}

void deliver_duplicate_close(struct deliver_duplicate **_dup)
{
	struct deliver_duplicate *dup = *_dup;
	if (dup == NULL)
		return;
	*_dup = NULL;
	hash_table_destroy(&dup->entries);
	i_close_fd(&dup->lock_fd);
	pool_destroy(&dup->pool);
}

bool deliver_duplicate_exists(struct deliver_duplicate *dup, const char *kind,
			      const void *id, size_t id_size, time_t now)
{
	char hex[DUP_HASH_HEX_LEN + 1];
	dup_hash(kind, id, id_size, hex);
	const struct dup_entry *e = hash_table_lookup(dup->entries, hex);
	return e != NULL && e->expires > now;
}

/* Drops the entry that expires first, to make room. */
static void dup_evict_one(struct deliver_duplicate *dup)
{
	struct hash_iter iter;
	const void *key, *oldest_key = NULL;
	void *value;
	time_t oldest = 0;
	hash_table_iter_init(dup->entries, &iter);
	while (hash_table_iter_next(&iter, &key, &value)) {
		const struct dup_entry *e = value;
		if (oldest_key == NULL || e->expires < oldest) {
			oldest_key = key;
			oldest = e->expires;
		}
	}
	if (oldest_key != NULL)
		(void)hash_table_remove(dup->entries, oldest_key);
}

void deliver_duplicate_mark(struct deliver_duplicate *dup, const char *kind,
			    const void *id, size_t id_size, time_t expires)
{
	char hex[DUP_HASH_HEX_LEN + 1];
	dup_hash(kind, id, id_size, hex);
	if (hash_table_lookup(dup->entries, hex) == NULL &&
	    hash_table_count(dup->entries) >= DELIVER_DUPLICATE_MAX_ENTRIES)
		dup_evict_one(dup);
	dup_insert(dup, hex, expires);
	dup->changed = true;
}

unsigned int deliver_duplicate_count(const struct deliver_duplicate *dup)
{
	return hash_table_count(dup->entries);
}

static int dup_write_file(struct deliver_duplicate *dup, const char *tmp_path,
			  const char **error_r)
{
	string_t *str = t_str_new(hash_table_count(dup->entries) * 80 + 16);
	struct hash_iter iter;
	const void *key;
	void *value;
	hash_table_iter_init(dup->entries, &iter);
	while (hash_table_iter_next(&iter, &key, &value)) {
		const struct dup_entry *e = value;
		str_printfa(str, "%s %lld\n", (const char *)key, (long long)e->expires);
	}
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %s", tmp_path, strerror(errno));
		return -1;
	}
	if (i_write_full(fd, str_data(str), str_len(str)) < 0 || fsync(fd) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %s", tmp_path, strerror(errno));
		close(fd);
		(void)unlink(tmp_path);
		return -1;
	}
	if (close(fd) < 0) {
		*error_r = t_strdup_printf("close(%s) failed: %s", tmp_path, strerror(errno));
		(void)unlink(tmp_path);
		return -1;
	}
	return 0;
}

int deliver_duplicate_commit(struct deliver_duplicate *dup, const char **error_r)
{
	if (!dup->changed)
		return 0;
	const char *tmp_path = t_strdup_printf("%s.tmp", dup->path);
	if (dup_write_file(dup, tmp_path, error_r) < 0)
		return -1;
	/* the new file carries the lock over: flock the new one before the
	   rename makes it visible, then the old lock goes with the old file */
	int fd = open(tmp_path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || rename(tmp_path, dup->path) < 0) {
		*error_r = t_strdup_printf("replacing %s failed: %s", dup->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)unlink(tmp_path);
		return -1;
	}
	i_close_fd(&dup->lock_fd);
	dup->lock_fd = fd;
	dup->changed = false;
	return 0;
}
