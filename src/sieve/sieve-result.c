/* The result of a run for people and for the caller: the printable form of
 * the action list (tests, logs) and the application of editheader's
 * changes (RFC 5293) to a header block. */
#include "sieve-run.h"
#include "mime-header.h"

#include <strings.h>

const char *sieve_action_type_name(enum sieve_action_type type)
{
	static const char *const names[] = {
		[SIEVE_ACTION_KEEP] = "keep",
		[SIEVE_ACTION_FILEINTO] = "fileinto",
		[SIEVE_ACTION_REDIRECT] = "redirect",
		[SIEVE_ACTION_REJECT] = "reject",
		[SIEVE_ACTION_EREJECT] = "ereject",
		[SIEVE_ACTION_DISCARD] = "discard",
		[SIEVE_ACTION_VACATION] = "vacation",
		[SIEVE_ACTION_NOTIFY] = "notify",
	};

	return (unsigned int)type < N_ELEMENTS(names) ? names[type] : "unknown";
}

static void write_list(string_t *dest, const char *what, const char *const *list)
{
	str_printfa(dest, " %s=[", what);
	for (unsigned int i = 0; list[i] != NULL; i++) {
		if (i > 0)
			str_append(dest, ", ");
		sieve_ast_write_string(dest, list[i]);
	}
	str_append_c(dest, ']');
}

static void write_opt(string_t *dest, const char *what, const char *value)
{
	if (value == NULL)
		return;
	str_printfa(dest, " %s=", what);
	sieve_ast_write_string(dest, value);
}

static void write_action(string_t *dest, const struct sieve_action *action)
{
	str_append(dest, sieve_action_type_name(action->type));
	if (action->implicit)
		str_append(dest, ":implicit");
	if (action->copy)
		str_append(dest, ":copy");
	if (action->create)
		str_append(dest, ":create");
	if (action->target != NULL) {
		str_append_c(dest, ' ');
		sieve_ast_write_string(dest, action->target);
	}
	if (action->flags != NULL)
		write_list(dest, "flags", action->flags);
	write_opt(dest, "specialuse", action->specialuse);
	if (action->vacation != NULL) {
		const struct sieve_vacation *v = action->vacation;

		str_append_c(dest, ' ');
		sieve_ast_write_string(dest, v->reason);
		write_opt(dest, "to", v->recipient);
		write_opt(dest, "subject", v->subject);
		write_opt(dest, "from", v->from);
		str_printfa(dest, " period=%llu", (unsigned long long)v->period_secs);
		if (v->mime)
			str_append(dest, " mime");
	}
	if (action->notify != NULL) {
		const struct sieve_notify *n = action->notify;

		str_append_c(dest, ' ');
		sieve_ast_write_string(dest, n->method);
		write_opt(dest, "from", n->from);
		write_opt(dest, "importance", n->importance);
		if (n->options != NULL && n->options[0] != NULL)
			write_list(dest, "options", n->options);
		write_opt(dest, "message", n->message);
	}
}

void sieve_result_write(string_t *dest, const struct sieve_result *result)
{
	for (unsigned int i = 0; i < result->actions.count; i++) {
		if (i > 0)
			str_append_c(dest, '\n');
		write_action(dest, &result->actions.v[i]);
	}
}

struct edit_field {
	const char *name;
	const unsigned char *data; /* the field's bytes, line ending included */
	size_t size;
};

struct edit_context {
	ARRAY(struct edit_field) fields;
};

static void edit_collect(const struct mime_header_field *field, void *context)
{
	struct edit_context *ctx = context;
	struct edit_field *f = array_append_space(&ctx->fields);

	f->name = t_strdup(field->name);
	f->data = p_memdup(t_pool(), field->full, field->full_size);
	f->size = field->full_size;
}

static void edit_delete(struct edit_context *ctx, const struct sieve_header_edit *edit)
{
	unsigned int occurrence = 0, next = 0;

	for (unsigned int i = 0; i < ctx->fields.count; ) {
		if (strcasecmp(ctx->fields.v[i].name, edit->name) != 0) {
			i++;
			continue;
		}
		occurrence++;
		if (next < edit->occurrence_count && edit->occurrences[next] == occurrence) {
			next++;
			array_delete(&ctx->fields, i, 1);
			continue;
		}
		i++;
	}
}

static void edit_add(struct edit_context *ctx, const struct sieve_header_edit *edit)
{
	struct edit_field field;
	const char *line = t_strdup_printf("%s: %s\r\n", edit->name, edit->value);

	field.name = edit->name;
	field.data = (const unsigned char *)line;
	field.size = strlen(line);
	if (edit->last) {
		array_push(&ctx->fields, field);
		return;
	}
	array_push(&ctx->fields, field);
	memmove(&ctx->fields.v[1], &ctx->fields.v[0],
		sizeof(field) * (ctx->fields.count - 1));
	ctx->fields.v[0] = field;
}

static void header_edits_apply_n(const struct sieve_result *result, unsigned int count,
				 const void *data, size_t size, string_t *dest)
{
	struct edit_context ctx;
	size_t used;

	array_init(&ctx.fields, t_pool(), 32);
	used = mime_header_parse_block(data, size, NULL, edit_collect, &ctx);
	for (unsigned int i = 0; i < count && i < result->header_edits.count; i++) {
		const struct sieve_header_edit *edit = &result->header_edits.v[i];

		if (edit->type == SIEVE_HEADER_EDIT_ADD)
			edit_add(&ctx, edit);
		else
			edit_delete(&ctx, edit);
	}
	for (unsigned int i = 0; i < ctx.fields.count; i++)
		str_append_n(dest, ctx.fields.v[i].data, ctx.fields.v[i].size);
	/* the blank line that ended the block, if it had one */
	const unsigned char *p = data;
	if (used >= 2 && p[used - 1] == '\n' && p[used - 2] == '\n')
		str_append_c(dest, '\n');
	else if (used >= 3 && p[used - 1] == '\n' && p[used - 2] == '\r' && p[used - 3] == '\n')
		str_append(dest, "\r\n");
}

void sieve_header_edits_apply(const struct sieve_result *result, const void *data,
			      size_t size, string_t *dest)
{
	header_edits_apply_n(result, result->header_edits.count, data, size, dest);
}

void sieve_header_edits_apply_action(const struct sieve_result *result,
				     const struct sieve_action *action, const void *data,
				     size_t size, string_t *dest)
{
	header_edits_apply_n(result, action->header_edits, data, size, dest);
}
