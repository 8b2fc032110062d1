/* A ready-made struct sieve_message over a message held in memory, for
 * callers that have the whole message (tern-lda, tests, the test-suite
 * runner): the header block is parsed once with src/mime. */
#include "sieve-interp.h"
#include "mime-header.h"

#include <strings.h>

struct memory_message {
	pool_t pool;
	const unsigned char *data;
	size_t size;
	struct sieve_envelope envelope;
	ARRAY(const char *) names;
	ARRAY(const char *) values;
	struct sieve_message msg;
};

static void memory_collect(const struct mime_header_field *field, void *context)
{
	struct memory_message *mm = context;

	if (field->no_colon)
		return;
	array_push(&mm->names, p_strdup(mm->pool, field->name));
	array_push(&mm->values, p_strdup(mm->pool, field->value));
}

static int memory_get_headers(void *context, const char *name,
			      const char *const **values_r, const char **error_r)
{
	struct memory_message *mm = context;
	ARRAY(const char *) values;

	array_init(&values, mm->pool, 4);
	for (unsigned int i = 0; i < mm->names.count; i++) {
		if (strcasecmp(mm->names.v[i], name) == 0)
			array_push(&values, mm->values.v[i]);
	}
	array_push(&values, NULL);
	*values_r = values.v;
	return 0;
}

static int memory_get_envelope(void *context, enum sieve_envelope_part part,
			       const char **value_r, const char **error_r)
{
	struct memory_message *mm = context;

	switch (part) {
	case SIEVE_ENVELOPE_FROM: *value_r = mm->envelope.from; break;
	case SIEVE_ENVELOPE_TO: *value_r = mm->envelope.to; break;
	case SIEVE_ENVELOPE_AUTH: *value_r = mm->envelope.auth; break;
	case SIEVE_ENVELOPE_ORIG_TO: *value_r = mm->envelope.orig_to; break;
	default: *value_r = NULL; break;
	}
	return *value_r == NULL ? 0 : 1;
}

static int memory_get_size(void *context, uint64_t *size_r, const char **error_r)
{
	struct memory_message *mm = context;

	*size_r = mm->size;
	return 0;
}

static int memory_get_data(void *context, const unsigned char **data_r, size_t *size_r,
			   const char **error_r)
{
	struct memory_message *mm = context;

	*data_r = mm->data;
	*size_r = mm->size;
	return 0;
}

static const struct sieve_message_vfuncs memory_vfuncs = {
	.get_headers = memory_get_headers,
	.get_envelope = memory_get_envelope,
	.get_size = memory_get_size,
	.get_data = memory_get_data,
};

const struct sieve_message *sieve_message_from_memory(pool_t pool, const void *data,
						      size_t size,
						      const struct sieve_envelope *envelope)
{
	struct memory_message *mm = p_new(pool, struct memory_message, 1);

	mm->pool = pool;
	mm->data = p_memdup(pool, size == 0 ? "" : data, size + 1);
	mm->size = size;
	if (envelope != NULL) {
		mm->envelope.from = envelope->from == NULL ? NULL : p_strdup(pool, envelope->from);
		mm->envelope.to = envelope->to == NULL ? NULL : p_strdup(pool, envelope->to);
		mm->envelope.auth = envelope->auth == NULL ? NULL : p_strdup(pool, envelope->auth);
		mm->envelope.orig_to = envelope->orig_to == NULL ? NULL :
			p_strdup(pool, envelope->orig_to);
	}
	array_init(&mm->names, pool, 16);
	array_init(&mm->values, pool, 16);
	(void)mime_header_parse_block(mm->data, size, NULL, memory_collect, mm);
	mm->msg.v = &memory_vfuncs;
	mm->msg.context = mm;
	return &mm->msg;
}
