/* The received message as delivery sees it: read through the protocol's
 * spool, its header block parsed once per transaction (RFC 5322 §2.2,
 * bounded by DELIVER_MAX_HEADER_SIZE) for the Sieve tests, loop detection
 * and auto-replies, and copied out in chunks, never held whole. */
#include "deliver-private.h"
#include "mime-header.h"

#include <errno.h>
#include <strings.h>

struct deliver_message *deliver_message_create(const struct deliver_source *source)
{
	pool_t pool = pool_create("deliver message", 4096);
	struct deliver_message *msg = p_malloc(pool, sizeof(*msg));
	msg->pool = pool;
	msg->source = *source;
	array_init(&msg->fields, pool, 16);
	return msg;
}

void deliver_message_destroy(struct deliver_message **_msg)
{
	struct deliver_message *msg = *_msg;
	if (msg == NULL)
		return;
	*_msg = NULL;
	pool_destroy(&msg->pool);
}

static void deliver_message_add_field(struct deliver_message *msg,
				      const struct mime_header_field *field)
{
	if (field->no_colon || field->name[0] == '\0')
		return;
	struct deliver_header *h = array_append_space(&msg->fields);
	h->name = p_strdup(msg->pool, field->name);
	h->value = p_strndup(msg->pool, field->value, field->value_len);
}

/* Feeds one chunk to the parser. Returns 1 when the block ended. */
static int deliver_message_parse_chunk(struct deliver_message *msg,
				       struct mime_header_parser *parser,
				       const unsigned char *data, size_t size)
{
	for (;;) {
		const struct mime_header_field *field;
		size_t used;
		int ret = mime_header_parser_parse(parser, data, size, &used, &field);
		data += used;
		size -= used;
		if (ret == 0)
			return 0;
		if (field == NULL)
			return 1;
		deliver_message_add_field(msg, field);
	}
}

int deliver_message_parse(struct deliver_message *msg, const char **error_r)
{
	if (msg->parsed)
		return msg->parse_failed ? -1 : 0;
	msg->parsed = true;
	const struct mime_header_limits limits = {
		.max_size = DELIVER_MAX_HEADER_SIZE, .max_fields = DELIVER_MAX_HEADER_FIELDS,
	};
	struct mime_header_parser *parser = mime_header_parser_create(&limits);
	unsigned char buf[8192];
	uint64_t offset = 0;
	int ret = 0;
	while (ret == 0 && offset < DELIVER_MAX_HEADER_SIZE) {
		ssize_t n = msg->source.pread(msg->source.context, buf, sizeof(buf), offset);
		if (n < 0) {
			*error_r = t_strdup_printf("read(spool) failed: %s", strerror(errno));
			msg->parse_failed = true;
			break;
		}
		if (n == 0) {
			mime_header_parser_end(parser);
			ret = deliver_message_parse_chunk(msg, parser, buf, 0);
			break;
		}
		if (offset == 0) {
			const unsigned char *lf = memchr(buf, '\n', (size_t)n);
			msg->lf_only = lf != NULL && (lf == buf || lf[-1] != '\r');
		}
		ret = deliver_message_parse_chunk(msg, parser, buf, (size_t)n);
		offset += (uint64_t)n;
	}
	mime_header_parser_destroy(&parser);
	return msg->parse_failed ? -1 : 0;
}

const char *const *deliver_message_get_headers(struct deliver_message *msg, const char *name)
{
	ARRAY(const char *) values;
	array_init(&values, t_pool(), 4);
	for (unsigned int i = 0; i < msg->fields.count; i++) {
		if (strcasecmp(msg->fields.v[i].name, name) == 0)
			array_push(&values, msg->fields.v[i].value);
	}
	array_push(&values, NULL);
	return values.v;
}

const char *deliver_message_get_first(struct deliver_message *msg, const char *name)
{
	for (unsigned int i = 0; i < msg->fields.count; i++) {
		if (strcasecmp(msg->fields.v[i].name, name) == 0)
			return msg->fields.v[i].value;
	}
	return NULL;
}

uint64_t deliver_message_size(const struct deliver_message *msg)
{
	return msg->source.size;
}

int deliver_message_copy(struct deliver_message *msg, uint64_t offset,
			 deliver_write_fn_t *write_fn, void *context)
{
	unsigned char *buf = i_malloc(DELIVER_COPY_CHUNK_SIZE);
	ssize_t n;
	int ret = 0;
	while ((n = msg->source.pread(msg->source.context, buf, DELIVER_COPY_CHUNK_SIZE,
				      offset)) > 0) {
		if (write_fn(context, buf, (size_t)n) < 0) {
			ret = -1;
			break;
		}
		offset += (uint64_t)n;
	}
	if (n < 0)
		ret = -1;
	free(buf);
	return ret;
}
