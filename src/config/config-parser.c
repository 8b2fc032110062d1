/* The tern.conf text format: lines of "key = value", blocks, comments,
 * quoted values and (globbing) includes, with line-numbered errors and
 * limits on file size, line length, include depth and block nesting. */
#include "config-private.h"
#include "strnum.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

struct config_file {
	const char *name; /* for messages */
	const char *dir;  /* includes are relative to it; NULL: refused */
	unsigned int line;
	unsigned int start_depth; /* blocks opened here must close here */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* Nothing or a comment until the end of the line. */
static bool is_line_end(const char *p)
{
	p = skip_space(p);
	return *p == '\0' || *p == '#';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static const char *config_file_location(const struct config_file *file)
{
	return t_strdup_printf("%s:%u", file->name, file->line);
}

static int config_file_error(const struct config_file *file,
			     const char *error, const char **error_r)
{
	*error_r = t_strdup_printf("%s: %s", config_file_location(file), error);
	return -1;
}

/* Control characters would make error messages and dumps ambiguous, and a
   NUL would cut the value short. */
static int config_check_chars(const unsigned char *data, size_t size,
			      const char **error_r)
{
	for (size_t i = 0; i < size; i++) {
		if ((data[i] < 0x20 && data[i] != '\t') || data[i] == 0x7f) {
			*error_r = t_strdup_printf("invalid control character "
						   "0x%02x", data[i]);
			return -1;
		}
	}
	return 0;
}

static int config_parse_quoted(const char *p, const char **value_r,
			       const char **error_r)
{
	string_t *str = t_str_new(64);

	for (p++; *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\') {
				*error_r = *p == '\0' ? "unterminated quoted string" :
					"invalid escape in quoted string "
					"(only \\\" and \\\\ are allowed)";
				return -1;
			}
		}
		if (*p == '\0') {
			*error_r = "unterminated quoted string";
			return -1;
		}
		str_append_c(str, *p);
	}
	if (!is_line_end(p + 1)) {
		*error_r = "unexpected text after quoted string";
		return -1;
	}
	*value_r = str_c(str);
	return 0;
}

/* A value is the rest of the line, trimmed, up to a '#' that follows
   whitespace; or a quoted string. */
static int config_parse_value(const char *p, const char **value_r,
			      const char **error_r)
{
	const char *end;

	p = skip_space(p);
	if (*p == '"')
		return config_parse_quoted(p, value_r, error_r);
	for (end = p; *end != '\0'; end++) {
		if (*end == '#' && (end == p || is_space(end[-1])))
			break;
	}
	while (end > p && is_space(end[-1]))
		end--;
	*value_r = t_strndup(p, (size_t)(end - p));
	return 0;
}

static const char *config_glob_escape(const char *str)
{
	string_t *dest = t_str_new(strlen(str) + 8);

	for (; *str != '\0'; str++) {
		if (*str == '*' || *str == '?' || *str == '[' || *str == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *str);
	}
	return str_c(dest);
}

const char *config_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	return t_strndup(path, (size_t)(slash - path));
}

/* Reads a regular file of at most CONFIG_MAX_FILE_SIZE bytes into
   memory that the caller frees. Returns -1 with errno set or *error_r. */
static int config_read_file(const char *path, unsigned char **data_r,
			    size_t *size_r, struct stat *st_r,
			    const char **error_r)
{
	size_t alloc, size = 0;
	unsigned char *data;
	ssize_t ret;
	int fd;

	*error_r = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang the load */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st_r) < 0) {
		i_close_fd(&fd);
		return -1;
	}
	if (!S_ISREG(st_r->st_mode) || st_r->st_size > CONFIG_MAX_FILE_SIZE) {
		*error_r = S_ISREG(st_r->st_mode) ? "file too large (limit 1M)" :
			"not a regular file";
		i_close_fd(&fd);
		return -1;
	}
	alloc = (size_t)st_r->st_size + 1;
	data = i_malloc(alloc);
	/* the file may grow while we read: stop one byte past the limit */
	while ((ret = read(fd, data + size, alloc - size)) > 0) {
		size += (size_t)ret;
		if (size > CONFIG_MAX_FILE_SIZE) {
			*error_r = "file too large (limit 1M)";
			break;
		}
		if (size == alloc) {
			alloc = I_MIN(alloc * 2, (size_t)CONFIG_MAX_FILE_SIZE + 1);
			data = i_realloc(data, alloc);
		}
	}
	if (ret < 0 || *error_r != NULL) {
		int saved_errno = errno;
		free(data);
		i_close_fd(&fd);
		errno = saved_errno;
		return -1;
	}
	i_close_fd(&fd);
	*data_r = data;
	*size_r = size;
	return 0;
}

/* Reads and parses one file; include_try passes missing_ok and then a
   missing file is skipped. Problems reading the file are reported at the
   include statement in includer (NULL for the main file). */
static int config_parse_path(struct config_load_ctx *ctx, const char *path,
			     const struct config_file *includer,
			     bool missing_ok, const char **error_r)
{
	struct config_file_id *id;
	unsigned char *data;
	const char *error;
	struct stat st;
	size_t size;
	int ret;

	if (++ctx->file_count > CONFIG_MAX_FILES) {
		error = t_strdup_printf("more than %u files included",
					CONFIG_MAX_FILES);
		goto failed;
	}
	if (config_read_file(path, &data, &size, &st, &error) < 0) {
		if (error == NULL && errno == ENOENT && missing_ok)
			return 0;
		error = t_strdup_printf("cannot read %s: %s", path,
					error != NULL ? error : strerror(errno));
		goto failed;
	}
	for (unsigned int i = 0; i < ctx->open_files.count; i++) {
		id = &ctx->open_files.v[i];
		if (id->dev == st.st_dev && id->ino == st.st_ino) {
			free(data);
			error = t_strdup_printf("include loop: %s is already "
						"being read", path);
			goto failed;
		}
	}
	id = array_append_space(&ctx->open_files);
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	ret = config_parse_buffer(ctx, path, config_path_dirname(path), data,
				  size, error_r);
	ctx->open_files.count--;
	free(data);
	return ret;
failed:
	if (includer != NULL)
		return config_file_error(includer, error, error_r);
	*error_r = error;
	return -1;
}

static int config_parse_include(struct config_load_ctx *ctx,
				const struct config_file *file,
				const char *pattern, bool missing_ok,
				const char **error_r)
{
	const char *full;
	glob_t g;
	int ret;

	if (file->dir == NULL)
		return config_file_error(file, t_strdup_printf(
			"include is not available in %s (it is not a file)",
			file->name), error_r);
	if (pattern[0] == '\0')
		return config_file_error(file, "include needs a file name",
					 error_r);
	if (ctx->open_files.count > CONFIG_MAX_INCLUDE_DEPTH) {
		return config_file_error(file, t_strdup_printf(
			"includes nested more than %u deep",
			CONFIG_MAX_INCLUDE_DEPTH), error_r);
	}
	full = pattern[0] == '/' ? pattern :
		t_strdup_printf("%s/%s", config_glob_escape(file->dir), pattern);
	ret = glob(full, 0, NULL, &g);
	if (ret == GLOB_NOMATCH) {
		if (missing_ok)
			return 0;
		return config_file_error(file, t_strdup_printf(
			"include '%s': no such file", pattern), error_r);
	}
	if (ret != 0) {
		globfree(&g);
		return config_file_error(file, t_strdup_printf(
			"include '%s': glob() failed", pattern), error_r);
	}
	ret = 0;
	for (size_t i = 0; i < g.gl_pathc && ret == 0; i++)
		ret = config_parse_path(ctx, g.gl_pathv[i], file, missing_ok,
					error_r);
	globfree(&g);
	return ret;
}

static int config_parse_block_open(struct config_load_ctx *ctx,
				   const struct config_file *file,
				   const char *kind, const char *label,
				   const char *rest, const char **error_r)
{
	struct config_frame *parent = &ctx->frames[ctx->depth];
	const char *error;

	if (!is_line_end(rest + 1))
		return config_file_error(file, "unexpected text after '{' "
					 "(put each setting on its own line)",
					 error_r);
	if (ctx->depth >= CONFIG_MAX_BLOCK_DEPTH)
		return config_file_error(file, "blocks nested too deeply",
					 error_r);
	if (config_frame_open(ctx, parent, kind, label,
			      config_file_location(file),
			      &ctx->frames[ctx->depth + 1], &error) < 0)
		return config_file_error(file, error, error_r);
	ctx->depth++;
	return 0;
}

static int config_parse_block_close(struct config_load_ctx *ctx,
				    const struct config_file *file,
				    const char *p, const char **error_r)
{
	if (ctx->depth <= file->start_depth)
		return config_file_error(file, "unexpected '}'", error_r);
	if (!is_line_end(p + 1))
		return config_file_error(file, "unexpected text after '}'",
					 error_r);
	ctx->depth--;
	return 0;
}

static int config_parse_assignment(struct config_load_ctx *ctx,
				   const struct config_file *file,
				   const char *key, const char *p,
				   const char **error_r)
{
	const char *value, *error;

	if (config_parse_value(p, &value, &error) < 0 ||
	    config_frame_set(ctx, &ctx->frames[ctx->depth], key, value,
			     config_file_location(file), &error) < 0)
		return config_file_error(file, error, error_r);
	return 0;
}

/* One line, NUL-terminated, without its newline. */
static int config_parse_line(struct config_load_ctx *ctx,
			     const struct config_file *file, const char *line,
			     const char **error_r)
{
	const char *p = skip_space(line), *word, *label, *value, *error;
	size_t len;

	if (*p == '\0' || *p == '#')
		return 0;
	if (*p == '}')
		return config_parse_block_close(ctx, file, p, error_r);

	for (len = 0; p[len] != '\0' && !is_space(p[len]) && p[len] != '=' &&
		      p[len] != '{'; len++) {
		if (!is_name_char(p[len]))
			return config_file_error(file, t_strdup_printf(
				"invalid character in name '%s'",
				t_strndup(p, strcspn(p, " \t={"))), error_r);
	}
	if (len == 0)
		return config_file_error(file, t_strdup_printf(
			"expected a setting or a block, not '%c'", *p), error_r);
	word = t_strndup(p, len);
	p = skip_space(p + len);

	if (*p == '=')
		return config_parse_assignment(ctx, file, word, p + 1, error_r);
	if (strcmp(word, "include") == 0 || strcmp(word, "include_try") == 0) {
		if (config_parse_value(p, &value, &error) < 0)
			return config_file_error(file, error, error_r);
		return config_parse_include(ctx, file, value,
					    strcmp(word, "include_try") == 0,
					    error_r);
	}
	if (*p == '{')
		return config_parse_block_open(ctx, file, word, NULL, p, error_r);
	if (*p == '\0' || *p == '#')
		return config_file_error(file, t_strdup_printf(
			"expected '=' or '{' after '%s'", word), error_r);

	len = strcspn(p, " \t{");
	label = t_strndup(p, len);
	p = skip_space(p + len);
	if (*p != '{')
		return config_file_error(file, t_strdup_printf(
			"expected '{' after '%s %s'", word, label), error_r);
	return config_parse_block_open(ctx, file, word, label, p, error_r);
}

int config_parse_buffer(struct config_load_ctx *ctx, const char *name,
			const char *dir, const unsigned char *data, size_t size,
			const char **error_r)
{
	struct config_file file = {
		.name = name, .dir = dir, .start_depth = ctx->depth,
	};
	const unsigned char *p = data, *end = data + size, *nl;
	string_t *line = t_str_new(256);
	const char *error;
	size_t len;

	if (size > CONFIG_MAX_FILE_SIZE) {
		*error_r = t_strdup_printf("%s: file too large (limit 1M)", name);
		return -1;
	}
	ctx->total_size += size;
	if (ctx->total_size > CONFIG_MAX_TOTAL_SIZE) {
		*error_r = t_strdup_printf("%s: included files total more "
					   "than 16M", name);
		return -1;
	}
	for (; p < end; p = nl == NULL ? end : nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl == NULL ? end : nl) - p);
		file.line++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > CONFIG_MAX_LINE_LENGTH)
			return config_file_error(&file, "line too long "
						 "(limit 64k)", error_r);
		if (config_check_chars(p, len, &error) < 0)
			return config_file_error(&file, error, error_r);
		/* one buffer for all lines keeps temporary memory at about
		   the size of the settings, not of the file */
		str_truncate(line, 0);
		str_append_n(line, p, len);
		if (config_parse_line(ctx, &file, str_c(line), error_r) < 0)
			return -1;
	}
	if (ctx->depth > file.start_depth) {
		const struct config_frame *frame = &ctx->frames[ctx->depth];
		*error_r = t_strdup_printf("%s: unterminated block '%s' "
					   "(missing '}')", frame->location,
					   config_frame_name(frame));
		return -1;
	}
	return 0;
}

int config_parse_file(struct config_load_ctx *ctx, const char *path,
		      const char **error_r)
{
	return config_parse_path(ctx, path, NULL, false, error_r);
}

static const char *config_trim(const char *str, size_t len)
{
	while (len > 0 && is_space(*str)) {
		str++;
		len--;
	}
	while (len > 0 && is_space(str[len - 1]))
		len--;
	return t_strndup(str, len);
}

int config_parse_override(struct config_load_ctx *ctx, const char *override,
			  const char **error_r)
{
	const char *eq = strchr(override, '='), *key, *value, *error;
	size_t len = strlen(override);

	/* don't echo what could garble the message */
	if (len > CONFIG_MAX_LINE_LENGTH) {
		*error_r = "override: too long (limit 64k)";
		return -1;
	}
	if (config_check_chars((const unsigned char *)override, len,
			       &error) < 0) {
		*error_r = t_strdup_printf("override: %s", error);
		return -1;
	}
	if (eq == NULL) {
		error = "expected KEY=VALUE";
	} else {
		key = config_trim(override, (size_t)(eq - override));
		if (config_parse_value(eq + 1, &value, &error) == 0 &&
		    config_frame_set(ctx, &ctx->frames[0], key, value,
				     t_strdup_printf("override '%s'", override),
				     &error) == 0)
			return 0;
	}
	*error_r = t_strdup_printf("override '%s': %s", override, error);
	return -1;
}
