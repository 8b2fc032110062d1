/* Bounded command line reading with resynchronisation after lines that
 * are too long (see line-reader.h). */
#include "line-reader.h"
#include "buffer.h"

struct line_reader {
	struct istream *input;
	size_t max_length;
	size_t scanned; /* buffered bytes known to hold no LF */
	bool skipping;  /* dropping the rest of a too-long line */
	string_t *line;
	const struct line_reader_errors *errors;
};

struct line_reader *line_reader_create(struct istream *input, size_t max_length,
				       const struct line_reader_errors *errors)
{
	struct line_reader *reader = i_new(struct line_reader, 1);
	reader->errors = errors;
	reader->input = input;
	reader->max_length = max_length;
	reader->line = str_new(system_pool, 128);
	return reader;
}

void line_reader_destroy(struct line_reader **_reader)
{
	struct line_reader *reader = *_reader;
	if (reader == NULL)
		return;
	*_reader = NULL;
	str_free(&reader->line);
	free(reader);
}

void line_reader_reset(struct line_reader *reader)
{
	reader->scanned = 0;
	reader->skipping = false;
}

/* Drops input up to and including the next LF. Returns true when the end
   of the line was reached. */
static bool line_reader_skip(struct line_reader *reader)
{
	size_t size;
	const unsigned char *data = i_stream_get_data(reader->input, &size);
	const unsigned char *lf = memchr(data, '\n', size);
	if (lf == NULL) {
		i_stream_skip(reader->input, size);
		return false;
	}
	i_stream_skip(reader->input, (size_t)(lf - data) + 1);
	reader->skipping = false;
	return true;
}

int line_reader_read(struct line_reader *reader, const char **line_r,
			  const char **error_r)
{
	size_t size;

	if (reader->skipping && !line_reader_skip(reader))
		return 0;
	if (reader->line->alloc > 16384) {
		/* give back the memory of a long line (an AUTH response) */
		str_free(&reader->line);
		reader->line = str_new(system_pool, 128);
	}
	const unsigned char *data = i_stream_get_data(reader->input, &size);
	const unsigned char *lf = reader->scanned >= size ? NULL :
		memchr(data + reader->scanned, '\n', size - reader->scanned);
	if (lf == NULL) {
		reader->scanned = size;
		/* a CR may still come before the LF: allow for it */
		if (size <= reader->max_length + 1)
			return 0;
		reader->scanned = 0;
		reader->skipping = true;
		(void)line_reader_skip(reader);
		*error_r = reader->errors->too_long;
		return -1;
	}
	size_t consumed = (size_t)(lf - data) + 1;
	size_t len = consumed - 1;
	if (len > 0 && data[len - 1] == '\r')
		len--;
	reader->scanned = 0;
	if (len > reader->max_length) {
		i_stream_skip(reader->input, consumed);
		*error_r = reader->errors->too_long;
		return -1;
	}
	bool has_nul = memchr(data, '\0', len) != NULL;
	str_truncate(reader->line, 0);
	str_append_n(reader->line, data, len);
	i_stream_skip(reader->input, consumed);
	if (has_nul) {
		*error_r = reader->errors->nul;
		return -1;
	}
	*line_r = str_c(reader->line);
	return 1;
}
