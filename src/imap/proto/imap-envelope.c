/* ENVELOPE from header fields and its wire form (RFC 9051 §7.5.2, RFC 3501
 * §7.4.2; address lists RFC 5322 §3.4). */
#include "imap-envelope.h"
#include "imap-quote.h"
#include "mime-charset.h"

#include <strings.h>

enum envelope_field {
	ENV_DATE,
	ENV_SUBJECT,
	ENV_IN_REPLY_TO,
	ENV_MESSAGE_ID,
	ENV_FROM,
	ENV_SENDER,
	ENV_REPLY_TO,
	ENV_TO,
	ENV_CC,
	ENV_BCC,
	ENV_UNKNOWN,
};

static const char *const envelope_field_names[ENV_UNKNOWN] = {
	[ENV_DATE] = "Date",
	[ENV_SUBJECT] = "Subject",
	[ENV_IN_REPLY_TO] = "In-Reply-To",
	[ENV_MESSAGE_ID] = "Message-ID",
	[ENV_FROM] = "From",
	[ENV_SENDER] = "Sender",
	[ENV_REPLY_TO] = "Reply-To",
	[ENV_TO] = "To",
	[ENV_CC] = "Cc",
	[ENV_BCC] = "Bcc",
};

static enum envelope_field envelope_field_find(const char *name)
{
	for (unsigned int i = 0; i < ENV_UNKNOWN; i++) {
		if (strcasecmp(name, envelope_field_names[i]) == 0)
			return (enum envelope_field)i;
	}
	return ENV_UNKNOWN;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* The value as other servers keep it: one blank after the colon dropped,
   the folding line breaks taken out (a line break not followed by a blank
   still separates words), NULs replaced. */
static const char *envelope_field_value(pool_t pool, const struct mime_header_field *field)
{
	const unsigned char *p = field->raw_value, *end = p + field->raw_value_size;
	string_t *str = str_new(pool, field->raw_value_size + 1);

	if (p < end && is_blank(*p))
		p++;
	for (; p < end; p++) {
		if (*p == '\r' || *p == '\n') {
			if (p + 1 < end && !is_blank(p[1]) && p[1] != '\r' && p[1] != '\n')
				str_append_c(str, ' ');
		} else if (*p == '\0') {
			str_append(str, MIME_UTF8_REPLACEMENT);
		} else {
			str_append_c(str, (char)*p);
		}
	}
	return str_c(str);
}

static struct mime_address_list *envelope_list(struct imap_envelope *env,
					       enum envelope_field field)
{
	switch (field) {
	case ENV_FROM:
		return &env->from;
	case ENV_SENDER:
		return &env->sender;
	case ENV_REPLY_TO:
		return &env->reply_to;
	case ENV_TO:
		return &env->to;
	case ENV_CC:
		return &env->cc;
	case ENV_BCC:
		return &env->bcc;
	default:
		return NULL;
	}
}

void imap_envelope_add_field(pool_t pool, struct imap_envelope *env,
			     const struct mime_header_field *field)
{
	enum envelope_field kind;
	struct mime_address_list *list;

	if (field->no_colon || field->name[0] == '\0')
		return;
	kind = envelope_field_find(field->name);
	switch (kind) {
	case ENV_UNKNOWN:
		return;
	case ENV_DATE:
		env->date = envelope_field_value(pool, field);
		return;
	case ENV_SUBJECT:
		env->subject = envelope_field_value(pool, field);
		return;
	case ENV_IN_REPLY_TO:
		env->in_reply_to = envelope_field_value(pool, field);
		return;
	case ENV_MESSAGE_ID:
		env->message_id = envelope_field_value(pool, field);
		return;
	default:
		break;
	}
	list = envelope_list(env, kind);
	if (list->count >= IMAP_ENVELOPE_MAX_ADDRESSES)
		return;
	mime_address_parse(pool, field->raw_value, field->raw_value_size,
			   IMAP_ENVELOPE_MAX_ADDRESSES - list->count,
			   MIME_ADDRESS_FLAG_FILL_MISSING, list);
}

struct envelope_parse_ctx {
	pool_t pool;
	struct imap_envelope *env;
};

static void envelope_parse_field(const struct mime_header_field *field, void *context)
{
	struct envelope_parse_ctx *ctx = context;

	imap_envelope_add_field(ctx->pool, ctx->env, field);
}

struct imap_envelope *imap_envelope_parse(pool_t pool, const void *header, size_t size)
{
	struct envelope_parse_ctx ctx = {
		.pool = pool,
		.env = p_new(pool, struct imap_envelope, 1),
	};

	(void)mime_header_parse_block(header, size, NULL, envelope_parse_field, &ctx);
	return ctx.env;
}

static bool is_human_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void imap_envelope_append_for_humans(string_t *dest, const char *str)
{
	string_t *tmp = t_str_new(strlen(str) + 1);
	bool space = false;

	for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++) {
		if (is_human_space(*p)) {
			space = str_len(tmp) > 0;
			continue;
		}
		if (space)
			str_append_c(tmp, ' ');
		space = false;
		str_append_c(tmp, (char)*p);
	}
	imap_append_string(dest, str_data(tmp), str_len(tmp));
}

static void envelope_write_addresses(string_t *dest, const struct mime_address_list *list)
{
	if (list->count == 0) {
		str_append(dest, "NIL");
		return;
	}
	str_append_c(dest, '(');
	for (const struct mime_address *addr = list->head; addr != NULL; addr = addr->next) {
		str_append_c(dest, '(');
		if (addr->name == NULL)
			str_append(dest, "NIL");
		else
			imap_envelope_append_for_humans(dest, addr->name);
		str_append_c(dest, ' ');
		imap_append_nstring(dest, addr->route);
		str_append_c(dest, ' ');
		imap_append_nstring(dest, addr->mailbox);
		str_append_c(dest, ' ');
		imap_append_nstring(dest, addr->domain);
		str_append_c(dest, ')');
	}
	str_append_c(dest, ')');
}

static const struct mime_address_list *
envelope_default(const struct mime_address_list *list, const struct mime_address_list *from)
{
	return list->count > 0 ? list : from;
}

void imap_envelope_write(const struct imap_envelope *env, string_t *dest)
{
	if (env == NULL) {
		str_append(dest, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL");
		return;
	}
	imap_append_nstring(dest, env->date);
	str_append_c(dest, ' ');
	if (env->subject == NULL)
		str_append(dest, "NIL");
	else
		imap_envelope_append_for_humans(dest, env->subject);
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, &env->from);
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, envelope_default(&env->sender, &env->from));
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, envelope_default(&env->reply_to, &env->from));
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, &env->to);
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, &env->cc);
	str_append_c(dest, ' ');
	envelope_write_addresses(dest, &env->bcc);
	str_append_c(dest, ' ');
	imap_append_nstring(dest, env->in_reply_to);
	str_append_c(dest, ' ');
	imap_append_nstring(dest, env->message_id);
}
