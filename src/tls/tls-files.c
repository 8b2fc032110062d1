/* The PEM files of a TLS context: read from the disk, or from a bundle of
 * their contents read once by another process (the master), so that every
 * worker builds its context from the bytes the master checked, and a
 * process that can't read the files (chrooted, unprivileged) still can. */
#include "tls-private.h"
#include "buffer.h"
#include "pool.h"
#include "strnum.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bundle records: path NUL decimal-size NUL bytes */

/* Appends the contents of path to dest; the error does not name path. */
static int tls_file_read_disk(const char *path, buffer_t *dest, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = t_strdup_printf("open() failed: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_MAX_FILE_SIZE) {
		*error_r = t_strdup_printf("not a regular file of at most %u bytes",
					   TLS_MAX_FILE_SIZE);
		close(fd);
		return -1;
	}
	size_t start = dest->used;
	ssize_t ret;
	do {
		unsigned char *p = buffer_append_space(dest, 65536);
		ret = read(fd, p, 65536);
		buffer_set_used_size(dest, dest->used - 65536 + (ret > 0 ? (size_t)ret : 0));
	} while (ret > 0 && dest->used - start <= TLS_MAX_FILE_SIZE);
	int err = errno;
	close(fd);
	if (ret < 0 || dest->used - start > TLS_MAX_FILE_SIZE) {
		*error_r = ret < 0 ?
			t_strdup_printf("read() failed: %s", strerror(err)) :
			t_strdup_printf("larger than %u bytes", TLS_MAX_FILE_SIZE);
		return -1;
	}
	return 0;
}

/* Finds path in the bundle. */
static int tls_bundle_find(const unsigned char *bundle, size_t size, const char *path,
			   const unsigned char **data_r, size_t *size_r)
{
	const unsigned char *p = bundle, *end = bundle + size;
	while (p < end) {
		const unsigned char *name_end = memchr(p, '\0', (size_t)(end - p));
		const unsigned char *size_end = name_end == NULL ? NULL :
			memchr(name_end + 1, '\0', (size_t)(end - name_end - 1));
		uint64_t len;
		if (size_end == NULL ||
		    str_to_uint64((const char *)name_end + 1, &len) < 0 ||
		    len > (uint64_t)(end - size_end - 1))
			return -1; /* not a bundle we wrote */
		if (strcmp((const char *)p, path) == 0) {
			*data_r = size_end + 1;
			*size_r = (size_t)len;
			return 1;
		}
		p = size_end + 1 + len;
	}
	return 0;
}

BIO *tls_file_open(const struct tls_options *opts, const char *path, const char **error_r)
{
	if (opts->files == NULL) {
		buffer_t *buf = buffer_create(t_pool(), 4096);
		if (tls_file_read_disk(path, buf, error_r) < 0)
			return NULL;
		BIO *bio = BIO_new(BIO_s_mem());
		if (bio == NULL || BIO_write(bio, buf->data, (int)buf->used) != (int)buf->used)
			i_fatal_oom(buf->used);
		/* a private key, perhaps: no copies left in freed memory */
		explicit_bzero(buf->data, buf->used);
		return bio;
	}
	const unsigned char *data;
	size_t size;
	int ret = tls_bundle_find(opts->files, opts->files_size, path, &data, &size);
	if (ret <= 0) {
		*error_r = ret < 0 ? "the TLS file bundle is corrupt" :
			"not in the TLS file bundle";
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(data, (int)size);
	if (bio == NULL)
		i_fatal_oom(size);
	return bio;
}

/* Appends the record of path to the bundle that starts at start in dest,
   unless it is there already. */
static int tls_files_add(buffer_t *dest, size_t start, const char *path,
			 const char **error_r)
{
	const unsigned char *data;
	size_t size;
	if (path == NULL || path[0] == '\0' ||
	    tls_bundle_find(dest->data + start, dest->used - start, path, &data, &size) != 0)
		return 0;
	buffer_t *contents = buffer_create(t_pool(), 4096);
	const char *error;
	if (tls_file_read_disk(path, contents, &error) < 0) {
		*error_r = t_strdup_printf("can't read %s: %s", path, error);
		return -1;
	}
	buffer_append(dest, path, strlen(path) + 1);
	const char *len = t_strdup_printf("%zu", contents->used);
	buffer_append(dest, len, strlen(len) + 1);
	buffer_append(dest, contents->data, contents->used);
	explicit_bzero(contents->data, contents->used);
	return 0;
}

int tls_files_read(const struct tls_options *opts, buffer_t *dest, const char **error_r)
{
	const char *paths[] = {
		opts->cert_file, opts->key_file, opts->alt_cert_file, opts->alt_key_file,
		opts->verify_client == TLS_VERIFY_CLIENT_NO ? NULL : opts->client_ca_file,
		opts->verify_client == TLS_VERIFY_CLIENT_NO ? NULL : opts->crl_file,
	};
	size_t start = dest->used;
	for (unsigned int i = 0; i < N_ELEMENTS(paths); i++) {
		if (tls_files_add(dest, start, paths[i], error_r) < 0)
			return -1;
	}
	for (unsigned int i = 0; i < opts->certificate_count; i++) {
		const struct tls_certificate *cert = &opts->certificates[i];
		if (tls_files_add(dest, start, cert->cert_file, error_r) < 0 ||
		    tls_files_add(dest, start, cert->key_file, error_r) < 0 ||
		    tls_files_add(dest, start, cert->alt_cert_file, error_r) < 0 ||
		    tls_files_add(dest, start, cert->alt_key_file, error_r) < 0)
			return -1;
	}
	return 0;
}
