/* editheader (RFC 5293) at delivery: the header changes a script made are
 * applied to the copies its keep and fileinto store and to the messages
 * its redirects send, each action with the changes made before it (a
 * redirect before an addheader sends the header without the new field).
 * The engine lists the changes; here the message's
 * header block is read, added values are made safe for a header (8-bit
 * text as RFC 2047 encoded words, §4 "addheader"), and the new block is
 * kept with the offset where the original body starts. */
#include "deliver-private.h"
#include "base64.h"
#include "mime-header.h"
#include "sieve-interp.h"

/* input bytes per encoded word: 45 bytes → 60 base64 characters, so a
   word with its "=?UTF-8?B?" frame stays within RFC 2047 §2's 75 */
#define DELIVER_ENCODED_WORD_INPUT 45

static bool deliver_header_value_is_plain(const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p >= 0x80 || (*p < ' ' && *p != '\t'))
			return false;
	}
	return true;
}

/* value as RFC 2047 "B" encoded words, folded between words; words end at
   UTF-8 character boundaries (§5 rule 3: no character split). Control
   characters (CR, LF) are dropped so a value can't start a new field. */
static const char *deliver_header_value_encode(const char *value)
{
	string_t *clean = t_str_new(strlen(value));
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p >= ' ' || *p == '\t')
			str_append_c(clean, (char)*p);
	}
	const unsigned char *data = str_data(clean);
	size_t size = str_len(clean), pos = 0;
	string_t *dest = t_str_new(size * 2 + 16);
	while (pos < size) {
		size_t n = I_MIN(DELIVER_ENCODED_WORD_INPUT, size - pos);
		/* back off to the start of a UTF-8 character */
		while (pos + n < size && n > 1 && (data[pos + n] & 0xc0) == 0x80)
			n--;
		if (pos > 0)
			str_append(dest, "\r\n ");
		str_append(dest, "=?UTF-8?B?");
		base64_encode(data + pos, n, dest);
		str_append(dest, "?=");
		pos += n;
	}
	return str_c(dest);
}

/* A copy of result whose added values are header-safe. */
static const struct sieve_result *deliver_edits_prepare(pool_t pool,
							 const struct sieve_result *result)
{
	struct sieve_result *copy = p_malloc(pool, sizeof(*copy));
	*copy = *result;
	array_init(&copy->header_edits, pool, result->header_edits.count);
	for (unsigned int i = 0; i < result->header_edits.count; i++) {
		struct sieve_header_edit edit = result->header_edits.v[i];
		if (edit.type == SIEVE_HEADER_EDIT_ADD && edit.value != NULL &&
		    !deliver_header_value_is_plain(edit.value))
			edit.value = p_strdup(pool, deliver_header_value_encode(edit.value));
		array_push(&copy->header_edits, edit);
	}
	return copy;
}

/* Reads the header block: up to DELIVER_MAX_HEADER_SIZE bytes. */
static int deliver_header_read(struct deliver_message *msg, buffer_t *dest)
{
	uint64_t size = I_MIN(deliver_message_size(msg), DELIVER_MAX_HEADER_SIZE);
	unsigned char *buf = buffer_append_space(dest, (size_t)size);
	size_t used = 0;
	while (used < size) {
		ssize_t n = msg->source.pread(msg->source.context, buf + used,
					      (size_t)size - used, used);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buffer_set_used_size(dest, used);
	return 0;
}

/* LF-only input (tern-lda) keeps its style in the edited block too. */
static void deliver_header_to_lf(string_t *block)
{
	string_t *dest = t_str_new(str_len(block));
	const char *p = str_c(block);
	for (; *p != '\0'; p++) {
		if (!(p[0] == '\r' && p[1] == '\n'))
			str_append_c(dest, *p);
	}
	str_truncate(block, 0);
	str_append(block, str_c(dest));
}

static void deliver_header_field_ignore(const struct mime_header_field *field, void *context)
{
}

struct deliver_header_edits {
	struct deliver_ctx *ctx;
	/* the result with header-safe added values */
	const struct sieve_result *prepared;
	/* the message's header block as received, read once */
	const unsigned char *header;
	size_t block;
	/* the block for the last count of edits asked for: actions come in
	   order, so those with the same edits before them share it */
	unsigned int last_count;
	const struct deliver_edited_header *last;
};

struct deliver_header_edits *
deliver_editheader_begin(struct deliver_ctx *ctx, const struct sieve_result *result,
			 const char *script)
{
	if (result->header_edits.count == 0)
		return NULL;
	buffer_t *header = buffer_create(ctx->pool, 8192);
	if (deliver_header_read(ctx->msg, header) < 0) {
		log_error(ctx->in->log, "sieve_editheader_failed", "user=%s script=%s error=%s",
			  log_value(ctx->in->user->name), log_value(script),
			  "reading the message failed");
		return NULL;
	}
	const struct mime_header_limits limits = {
		.max_size = DELIVER_MAX_HEADER_SIZE, .max_fields = DELIVER_MAX_HEADER_FIELDS,
	};
	size_t block = mime_header_parse_block(header->data, header->used, &limits,
					       deliver_header_field_ignore, NULL);
	if (block == header->used && header->used < deliver_message_size(ctx->msg)) {
		/* the block goes on past what we read: leave it as it is */
		log_warning(ctx->in->log, "sieve_editheader_ignored",
			    "user=%s script=%s reason=header too large",
			    log_value(ctx->in->user->name), log_value(script));
		return NULL;
	}
	struct deliver_header_edits *edits = p_malloc(ctx->pool, sizeof(*edits));
	edits->ctx = ctx;
	edits->prepared = deliver_edits_prepare(ctx->pool, result);
	edits->header = header->data;
	edits->block = block;
	return edits;
}

const struct deliver_edited_header *
deliver_editheader_for_action(struct deliver_header_edits *edits,
			      const struct sieve_action *action)
{
	/* RFC 5293 §3: an action takes the message as the edits made
	   before it left it; none before it, the message as received */
	if (edits == NULL || action->header_edits == 0)
		return NULL;
	if (edits->last != NULL && edits->last_count == action->header_edits)
		return edits->last;
	struct deliver_ctx *ctx = edits->ctx;
	string_t *dest = str_new(ctx->pool, edits->block + 256);
	sieve_header_edits_apply_action(edits->prepared, action, edits->header, edits->block,
					dest);
	if (ctx->msg->lf_only)
		deliver_header_to_lf(dest);
	struct deliver_edited_header *edited = p_malloc(ctx->pool, sizeof(*edited));
	edited->data = str_data(dest);
	edited->size = str_len(dest);
	edited->body_offset = edits->block;
	edits->last_count = action->header_edits;
	edits->last = edited;
	return edited;
}
