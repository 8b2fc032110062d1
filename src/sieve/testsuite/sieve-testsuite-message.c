/* The message and envelope under test as the Sieve engine reads them: a
 * message given as text in the test script is parsed once into its header
 * fields (RFC 5322 §2.2), and the engine's callbacks answer from them. */
#include "sieve-testsuite.h"
#include "mime-header.h"

#include <string.h>
#include <strings.h>

/* Text from a script has the script's line endings; stored and sent mail
   has CRLF (RFC 5322 §2.1). A lone CR is left as it is. */
static string_t *message_to_crlf(pool_t pool, const unsigned char *data, size_t size)
{
	string_t *dest = str_new(pool, size + size / 16 + 16);

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			str_append_c(dest, '\r');
		str_append_c(dest, (char)data[i]);
	}
	return dest;
}

static void message_field_cb(const struct mime_header_field *field, void *context)
{
	struct sieve_testsuite_message *msg = context;
	struct sieve_testsuite_field *f;

	if (field->no_colon)
		return;
	f = array_append_space(&msg->fields);
	f->name = p_strdup(msg->pool, field->name);
	f->value = p_strndup(msg->pool, field->value, field->value_len);
}

struct sieve_testsuite_message *
sieve_testsuite_message_parse(const void *data, size_t size)
{
	pool_t pool = pool_create("sieve testsuite message", 4096);
	struct sieve_testsuite_message *msg = p_new(pool, struct sieve_testsuite_message, 1);
	string_t *text;

	msg->pool = pool;
	if (size > SIEVE_TESTSUITE_MAX_MESSAGE_SIZE)
		size = SIEVE_TESTSUITE_MAX_MESSAGE_SIZE;
	text = message_to_crlf(pool, data, size);
	msg->data = str_data(text);
	msg->size = str_len(text);
	array_init(&msg->fields, pool, 16);
	msg->body_offset = mime_header_parse_block(msg->data, msg->size, NULL,
						   message_field_cb, msg);
	return msg;
}

void sieve_testsuite_message_free(struct sieve_testsuite_message **msg)
{
	if (*msg == NULL)
		return;
	pool_t pool = (*msg)->pool;
	pool_destroy(&pool);
	*msg = NULL;
}

const char *const *sieve_testsuite_message_headers(const struct sieve_testsuite_message *msg,
						   pool_t pool, const char *name)
{
	const char **values;
	unsigned int n = 0;

	values = p_new(pool, const char *, msg->fields.count + 1);
	for (unsigned int i = 0; i < msg->fields.count; i++) {
		if (strcasecmp(msg->fields.v[i].name, name) == 0)
			values[n++] = msg->fields.v[i].value;
	}
	values[n] = NULL;
	return values;
}

static int ts_get_headers(void *context, const char *name, const char *const **values_r,
			  const char **error_r)
{
	struct sieve_testsuite *ts = context;

	/* ts->pool: the engine may hold the values after the message is
	   replaced by the next test_set "message" */
	*values_r = sieve_testsuite_message_headers(ts->msg, ts->pool, name);
	return 0;
}

static int ts_get_envelope(void *context, enum sieve_envelope_part part,
			   const char **value_r, const char **error_r)
{
	struct sieve_testsuite *ts = context;
	const char *value = NULL;

	switch (part) {
	case SIEVE_ENVELOPE_FROM:
		value = ts->envelope.from;
		break;
	case SIEVE_ENVELOPE_TO:
		value = ts->envelope.to;
		break;
	case SIEVE_ENVELOPE_AUTH:
		value = ts->envelope.auth;
		break;
	case SIEVE_ENVELOPE_ORIG_TO:
		value = ts->envelope.orig_to;
		break;
	}
	if (value == NULL)
		return 0;
	*value_r = value;
	return 1;
}

static int ts_get_size(void *context, uint64_t *size_r, const char **error_r)
{
	struct sieve_testsuite *ts = context;

	*size_r = ts->msg->size;
	return 0;
}

static int ts_get_data(void *context, const unsigned char **data_r, size_t *size_r,
		       const char **error_r)
{
	struct sieve_testsuite *ts = context;

	*data_r = ts->msg->data;
	*size_r = ts->msg->size;
	return 0;
}

/* the flags of the stored message test_message :folder selected */
static int ts_get_flags(void *context, const char *const **flags_r, const char **error_r)
{
	struct sieve_testsuite *ts = context;
	const char **flags;

	if (ts->current_mail == NULL) {
		*flags_r = NULL;
		return 0;
	}
	flags = p_new(ts->pool, const char *, ts->current_mail->flags.count + 1);
	for (unsigned int i = 0; i < ts->current_mail->flags.count; i++)
		flags[i] = ts->current_mail->flags.v[i];
	*flags_r = flags;
	return 0;
}

static const struct sieve_message_vfuncs ts_message_vfuncs = {
	.get_flags = ts_get_flags,
	.get_headers = ts_get_headers,
	.get_data = ts_get_data,
	.get_envelope = ts_get_envelope,
	.get_size = ts_get_size,
};

void sieve_testsuite_message_init(struct sieve_testsuite *ts, struct sieve_message *msg_r)
{
	msg_r->v = &ts_message_vfuncs;
	msg_r->context = ts;
}
