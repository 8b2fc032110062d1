/* libFuzzer target for src/mime: parses the input as a message all at once
 * and again in pseudo-random chunk sizes; both trees must be identical and
 * satisfy the structural invariants (offsets, sizes, line counts, CRLF
 * sizes recounted from the bytes), and the body callback must deliver
 * exactly each leaf's bytes. Then every header is decoded (encoded words,
 * addresses, Content-* values) and every leaf body transfer-decoded and
 * charset-converted, whole and in chunks, with the same results. The first
 * byte picks the mode: its two low bits the limits (default, small, tiny,
 * minimal), the rest seeds the chunking. */
#include "array.h"
#include "mime-address.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"
#include "mime-parser.h"
#include "test-mime-common.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mime_parser_limits fuzz_limits[] = {
	{ 0, 0, 0, 0 }, /* the defaults */
	{ .max_depth = 4, .max_parts = 20, .max_header_size = 512, .max_header_fields = 8 },
	{ .max_depth = 2, .max_parts = 3, .max_header_size = 64, .max_header_fields = 2 },
	{ .max_depth = 1, .max_parts = 1, .max_header_size = 1, .max_header_fields = 1 },
};

struct fuzz_delivered {
	struct mime_part *part;
	uint64_t size;
};

struct fuzz_body {
	const unsigned char *msg;
	ARRAY(struct fuzz_delivered) parts;
};

/* Body data must come in order, each byte the message's at its offset;
   the totals are checked against the parts' sizes after the parse (the
   sizes are not known before). */
static void fuzz_body_cb(struct mime_part *part, const unsigned char *data, size_t size,
			 void *context)
{
	struct fuzz_body *ctx = context;
	struct fuzz_delivered *last = ctx->parts.count == 0 ? NULL :
		&ctx->parts.v[ctx->parts.count - 1];

	if (last == NULL || last->part != part) {
		for (unsigned int i = 0; i < ctx->parts.count; i++) {
			if (ctx->parts.v[i].part == part)
				i_panic("body data of a part after another part's");
		}
		last = array_append_space(&ctx->parts);
		last->part = part;
	}
	if (size == 0 || part->children != NULL ||
	    memcmp(data, ctx->msg + part->body_offset + last->size, size) != 0)
		i_panic("body callback data is not the part's body");
	last->size += size;
}

static void fuzz_check_delivered(struct fuzz_body *ctx, struct mime_part *root)
{
	unsigned int i = 0;

	for (struct mime_part *part = root; part != NULL; part = mime_part_next(part)) {
		if (part->is_multipart || part->is_message || part->body_size == 0)
			continue;
		if (i >= ctx->parts.count || ctx->parts.v[i].part != part ||
		    ctx->parts.v[i].size != part->body_size)
			i_panic("body callback missed bytes of a part");
		i++;
	}
	if (i != ctx->parts.count)
		i_panic("body callback data for a part without body");
}

static struct mime_part *fuzz_parse(pool_t pool, const unsigned char *msg, size_t size,
				    const struct mime_parser_limits *limits,
				    size_t chunk, uint32_t seed)
{
	struct fuzz_body body = { .msg = msg };
	struct mime_parser *parser = mime_parser_create(pool, limits);
	struct mime_part *root;

	array_init(&body.parts, pool, 8);
	mime_parser_set_body_callback(parser, fuzz_body_cb, &body);
	test_mime_feed(parser, msg, size, chunk, seed);
	root = mime_parser_finish(parser);
	mime_parser_destroy(&parser);

	const char *error = test_mime_check(root, msg, size);
	if (error == NULL)
		error = test_mime_check_header_block(root, msg);
	if (error != NULL)
		i_panic("invariant broken: %s", error);
	fuzz_check_delivered(&body, root);
	return root;
}

static void fuzz_check_utf8(const string_t *str)
{
	if (!charset_utf8_is_valid(str->data, str->used))
		i_panic("decoded text is not valid UTF-8");
}

static void fuzz_field(const struct mime_header_field *field, void *context)
{
	pool_t pool = context;
	string_t *str = str_new(pool, 128);
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_encoded_word_decode(field->value, field->value_len, str);
	fuzz_check_utf8(str);
	mime_address_parse(pool, field->raw_value, field->raw_value_size, 50,
			   MIME_ADDRESS_FLAG_FILL_MISSING, &list);
	for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
		if (a->domain != NULL && (a->mailbox == NULL || a->domain[0] == '\0'))
			i_panic("filled address with a missing part");
	}
	mime_address_write(str, list.head);
	if (strncasecmp(field->name, "Content-", 8) == 0) {
		struct mime_content_type ct;
		struct mime_content_disposition cd;
		(void)mime_content_type_parse(pool, field->value, field->value_len,
					      false, &ct);
		if (ct.type == NULL || ct.subtype == NULL)
			i_panic("content type without type");
		(void)mime_content_disposition_parse(pool, field->value, field->value_len,
						     &cd);
		(void)mime_content_language_parse(pool, field->value, field->value_len);
		(void)mime_content_transfer_encoding_parse(pool, field->value,
							   field->value_len);
	}
}

/* Decodes data whole and in chunks of 1..7 bytes: the same output. */
static void fuzz_decode(pool_t pool, enum mime_encoding encoding,
			const unsigned char *data, size_t size, buffer_t *out)
{
	buffer_t *out2 = buffer_create(pool, size + 16);
	struct mime_decoder *decoder = mime_decoder_create(encoding);
	int ret = mime_decode(encoding, data, size, out);

	for (size_t pos = 0, n = 1; pos < size; pos += n, n = n % 7 + 1)
		mime_decoder_decode(decoder, data + pos, I_MIN(n, size - pos), out2);
	if (mime_decoder_finish(decoder, out2) != ret || out->used != out2->used ||
	    memcmp(out->data, out2->data, out->used) != 0)
		i_panic("chunked transfer decoding differs");
	mime_decoder_destroy(&decoder);
}

static void fuzz_decode_parts(pool_t pool, struct mime_part *root, const unsigned char *msg)
{
	for (struct mime_part *part = root; part != NULL; part = mime_part_next(part)) {
		(void)mime_header_parse_block(msg + part->header_offset, part->header_size,
					      NULL, fuzz_field, pool);
		if (part->children != NULL)
			continue;
		buffer_t *out = buffer_create(pool, part->body_size + 16);
		fuzz_decode(pool, part->encoding, msg + part->body_offset,
			    part->body_size, out);
		string_t *utf8 = str_new(pool, out->used + 16);
		(void)charset_to_utf8(mime_part_get_charset(part), out->data, out->used, utf8);
		fuzz_check_utf8(utf8);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned int mode = data[0];
	const unsigned char *msg = data + 1;
	size_t msg_size = size - 1;
	const struct mime_parser_limits *limits = &fuzz_limits[mode & 3];
	pool_t pool = pool_create("fuzz mime", 16384);

	struct mime_part *root = fuzz_parse(pool, msg, msg_size, limits, SIZE_MAX, 0);
	struct mime_part *root2 = fuzz_parse(pool, msg, msg_size, limits, 0, mode >> 2);
	string_t *desc = str_new(pool, 1024), *desc2 = str_new(pool, 1024);
	test_mime_describe(desc, root);
	test_mime_describe(desc2, root2);
	if (strcmp(str_c(desc), str_c(desc2)) != 0)
		i_panic("chunking changed the tree:\n%s\n%s", str_c(desc), str_c(desc2));
	if (limits->max_parts != 0 && mime_part_count(root) > limits->max_parts)
		i_panic("more parts than max_parts");

	fuzz_decode_parts(pool, root, msg);

	/* the raw input through the value decoders too */
	string_t *str = str_new(pool, msg_size * 3 + 16);
	mime_encoded_word_decode(msg, msg_size, str);
	fuzz_check_utf8(str);
	buffer_t *out = buffer_create(pool, msg_size + 16);
	fuzz_decode(pool, MIME_ENCODING_BASE64, msg, msg_size, out);
	buffer_clear(out);
	fuzz_decode(pool, MIME_ENCODING_QUOTED_PRINTABLE, msg, msg_size, out);

	pool_destroy(&pool);
	t_pool_clear();
	return 0;
}
