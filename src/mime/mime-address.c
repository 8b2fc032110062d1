/* RFC 5322 §3.4 address-list parser. Broken input degrades the way IMAP
 * servers conventionally report it in ENVELOPE: a lone word is a mailbox
 * without domain, several words are a display name without address, a
 * bare addr-spec's trailing comment is its display name. */
#include "mime-address.h"
#include "mime-rfc822.h"

#define MIME_ADDRESS_DEFAULT_MAX 10000

struct address_ctx {
	pool_t pool;
	struct mime_rfc822_parser parser;
	struct mime_address addr;
	struct mime_address_list *list;
	string_t *str;
	unsigned int max_count;
	bool fill_missing, strict_dots, full;
};

static void address_add(struct address_ctx *ctx, bool force)
{
	if (ctx->list->count >= ctx->max_count && !force) {
		ctx->full = true;
		memset(&ctx->addr, 0, sizeof(ctx->addr));
		return;
	}
	struct mime_address *addr = p_new(ctx->pool, struct mime_address, 1);
	*addr = ctx->addr;
	addr->next = NULL;
	memset(&ctx->addr, 0, sizeof(ctx->addr));
	if (ctx->list->tail == NULL)
		ctx->list->head = addr;
	else
		ctx->list->tail->next = addr;
	ctx->list->tail = addr;
	ctx->list->count++;
}

/* Local part with dots allowed anywhere ("..a.@b"): mailers send such. */
static int address_parse_loose_dot_atom(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	int ret = -1;

	do {
		while (*p->data == '.') {
			str_append_c(ctx->str, '.');
			if (++p->data == p->end)
				return 0;
			ret = 1;
		}
		if (*p->data == '@')
			break;
		ret = mime_rfc822_parse_atom(p, ctx->str);
	} while (ret > 0 && *p->data == '.');
	return ret;
}

static int address_parse_local_part(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	int ret;

	i_assert(p->data < p->end);
	str_truncate(ctx->str, 0);
	if (*p->data == '"')
		ret = mime_rfc822_parse_quoted_string(p, ctx->str);
	else if (ctx->strict_dots)
		ret = mime_rfc822_parse_dot_atom(p, ctx->str);
	else
		ret = address_parse_loose_dot_atom(ctx);
	if (ret < 0)
		return -1;
	ctx->addr.mailbox = p_strdup(ctx->pool, str_c(ctx->str));
	return ret;
}

static int address_parse_domain(struct address_ctx *ctx)
{
	int ret;

	str_truncate(ctx->str, 0);
	if ((ret = mime_rfc822_parse_domain(&ctx->parser, ctx->str)) < 0)
		return -1;
	ctx->addr.domain = p_strdup(ctx->pool, str_c(ctx->str));
	return ret;
}

/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
static int address_parse_route(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	int ret;

	str_truncate(ctx->str, 0);
	for (;;) {
		if (p->data >= p->end)
			return 0;
		if (*p->data != '@')
			break;
		if (str_len(ctx->str) > 0)
			str_append_c(ctx->str, ',');
		str_append_c(ctx->str, '@');
		if ((ret = mime_rfc822_parse_domain(p, ctx->str)) <= 0)
			return ret;
		while (mime_rfc822_skip_cfws(p) > 0 && *p->data == ',')
			p->data++;
	}
	ctx->addr.route = p_strdup(ctx->pool, str_c(ctx->str));
	return 1;
}

/* angle-addr = "<" [obs-route] addr-spec ">" */
static int address_parse_angle_addr(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;

	i_assert(*p->data == '<');
	p->data++;
	if (mime_rfc822_skip_cfws(p) <= 0)
		return -1;
	if (*p->data == '@') {
		if (address_parse_route(ctx) > 0 && *p->data == ':')
			p->data++;
		else {
			if (ctx->fill_missing)
				ctx->addr.route = MIME_ADDRESS_INVALID_ROUTE;
			if (p->data >= p->end)
				return -1;
			/* go on with whatever follows */
		}
		if (mime_rfc822_skip_cfws(p) <= 0)
			return -1;
	}
	if (*p->data != '>') {
		/* "<>" has no address at all */
		if (address_parse_local_part(ctx) <= 0)
			return -1;
		if (*p->data == '@' && address_parse_domain(ctx) <= 0)
			return -1;
	}
	if (*p->data != '>')
		return -1;
	p->data++;
	return mime_rfc822_skip_cfws(p);
}

/* name-addr = [display-name] angle-addr. -1 if this is not one. */
static int address_parse_name_addr(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;

	str_truncate(ctx->str, 0);
	if (mime_rfc822_parse_phrase(p, ctx->str) <= 0 || *p->data != '<')
		return -1;
	if (str_len(ctx->str) > 0)
		ctx->addr.name = p_strdup(ctx->pool, str_c(ctx->str));
	if (address_parse_angle_addr(ctx) < 0) {
		if (ctx->fill_missing)
			ctx->addr.domain = MIME_ADDRESS_SYNTAX_ERROR;
		ctx->addr.invalid = true;
	}
	return p->data < p->end ? 1 : 0;
}

/* addr-spec = local-part "@" domain, where a missing "@domain" makes the
   word a mailbox alone, and several words a display name alone. */
static int address_parse_addr_spec(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	bool quoted = *p->data == '"';
	int ret, ret2 = -2;

	str_truncate(p->last_comment, 0);
	ret = address_parse_local_part(ctx);
	if (ret <= 0)
		ctx->addr.invalid = true;
	if (ret != 0 && p->data < p->end && *p->data == '@') {
		ret2 = address_parse_domain(ctx);
		if (ret2 <= 0)
			ret = ret2;
	}

	if (str_len(p->last_comment) > 0)
		ctx->addr.name = p_strdup(ctx->pool, str_c(p->last_comment));
	else if (ret2 == -2) {
		str_append_c(ctx->str, ' ');
		size_t len = str_len(ctx->str);
		(void)mime_rfc822_parse_phrase(p, ctx->str);
		if (str_len(ctx->str) != len) {
			ctx->addr.mailbox = NULL;
			ctx->addr.name = p_strdup(ctx->pool, str_c(ctx->str));
		} else if (!quoted) {
			ctx->addr.domain = "";
		}
		ctx->addr.invalid = true;
		ret = -1;
	}
	return ret;
}

static void address_add_fixed(struct address_ctx *ctx)
{
	if (ctx->addr.mailbox == NULL) {
		ctx->addr.mailbox = ctx->fill_missing ? MIME_ADDRESS_MISSING_MAILBOX : "";
		ctx->addr.invalid = true;
	}
	if (ctx->addr.domain == NULL || ctx->addr.domain[0] == '\0') {
		ctx->addr.domain = ctx->fill_missing ? MIME_ADDRESS_MISSING_DOMAIN : "";
		ctx->addr.invalid = true;
	}
	address_add(ctx, false);
}

/* mailbox = name-addr / addr-spec */
static int address_parse_mailbox(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->parser.data;
	int ret;

	if ((ret = address_parse_name_addr(ctx)) < 0) {
		ctx->parser.data = start;
		ret = address_parse_addr_spec(ctx);
		if (ctx->addr.invalid && ctx->addr.name == NULL &&
		    ctx->addr.mailbox != NULL && ctx->addr.domain == NULL) {
			/* a lone quoted word: it was meant as a name */
			ctx->addr.name = ctx->addr.mailbox;
			ctx->addr.mailbox = NULL;
		}
	}
	if (ret < 0)
		ctx->addr.invalid = true;
	address_add_fixed(ctx);
	return ret;
}

static int address_parse_group_members(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;

	for (;;) {
		/* a broken mailbox still leaves the rest worth reading */
		(void)address_parse_mailbox(ctx);
		if (ctx->full || p->data >= p->end || *p->data != ',')
			return 1;
		p->data++;
		if (mime_rfc822_skip_cfws(p) <= 0)
			return -1;
	}
}

/* group = display-name ":" [group-list] ";" [CFWS]. -1 if not a group;
   once the ':' is seen it is one, however broken. */
static int address_parse_group(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	int ret;

	str_truncate(ctx->str, 0);
	if (mime_rfc822_parse_phrase(p, ctx->str) <= 0 || *p->data != ':')
		return -1;
	p->data++;
	if ((ret = mime_rfc822_skip_cfws(p)) <= 0)
		ctx->addr.invalid = true;
	ctx->addr.mailbox = p_strdup(ctx->pool, str_c(ctx->str));
	address_add(ctx, false);
	if (ctx->full)
		return 0;

	if (ret > 0 && *p->data != ';')
		ret = address_parse_group_members(ctx);
	if (ret >= 0) {
		if (p->data >= p->end || *p->data != ';')
			ret = -1;
		else {
			p->data++;
			ret = mime_rfc822_skip_cfws(p);
		}
	}
	if (ret < 0)
		ctx->addr.invalid = true;
	/* the end marker keeps the group balanced even past the limit */
	address_add(ctx, true);
	return ret == 0 ? 0 : 1;
}

/* address = mailbox / group */
static int address_parse_address(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->parser.data;
	int ret;

	if ((ret = address_parse_group(ctx)) < 0) {
		ctx->parser.data = start;
		ret = address_parse_mailbox(ctx);
	}
	return ret;
}

static void address_parse_list(struct address_ctx *ctx)
{
	struct mime_rfc822_parser *p = &ctx->parser;
	int ret;

	while (!ctx->full) {
		if (address_parse_address(ctx) == 0)
			break;
		if (p->data >= p->end || *p->data != ',')
			break;
		p->data++;
		if ((ret = mime_rfc822_skip_cfws(p)) <= 0) {
			if (ret < 0) {
				/* ends with garbage such as an open comment */
				address_add_fixed(ctx);
			}
			break;
		}
	}
}

void mime_address_parse(pool_t pool, const void *data, size_t size,
			unsigned int max_addresses, enum mime_address_flags flags,
			struct mime_address_list *list)
{
	struct address_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.list = list;
	ctx.str = str_new(system_pool, 128);
	string_t *comment = str_new(system_pool, 64);
	mime_rfc822_init(&ctx.parser, data, size, comment);
	ctx.fill_missing = (flags & MIME_ADDRESS_FLAG_FILL_MISSING) != 0;
	ctx.strict_dots = (flags & MIME_ADDRESS_FLAG_STRICT_DOTS) != 0;
	if (max_addresses == 0)
		max_addresses = MIME_ADDRESS_DEFAULT_MAX;
	ctx.max_count = max_addresses > UINT32_MAX - list->count ?
		UINT32_MAX : list->count + max_addresses;

	if (mime_rfc822_skip_cfws(&ctx.parser) > 0)
		address_parse_list(&ctx);
	str_free(&ctx.str);
	str_free(&comment);
}

static void address_write_quoted(string_t *dest, const char *str)
{
	str_append_c(dest, '"');
	for (; *str != '\0'; str++) {
		if (*str == '"' || *str == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *str);
	}
	str_append_c(dest, '"');
}

/* A phrase stays unquoted when it is atoms separated by single spaces. */
static void address_write_phrase(string_t *dest, const char *name)
{
	bool plain = name[0] != '\0' && name[0] != ' ';

	for (const char *p = name; *p != '\0' && plain; p++) {
		if (*p == ' ')
			plain = p[1] != ' ' && p[1] != '\0';
		else
			plain = mime_rfc822_is_atext((unsigned char)*p);
	}
	if (plain)
		str_append(dest, name);
	else
		address_write_quoted(dest, name);
}

static void address_write_local_part(string_t *dest, const char *mailbox)
{
	bool plain = mailbox[0] != '\0' && mailbox[0] != '.';

	for (const char *p = mailbox; *p != '\0' && plain; p++) {
		if (*p == '.')
			plain = p[1] != '.' && p[1] != '\0';
		else
			plain = mime_rfc822_is_atext((unsigned char)*p);
	}
	if (plain)
		str_append(dest, mailbox);
	else
		address_write_quoted(dest, mailbox);
}

static void address_write_one(string_t *dest, const struct mime_address *addr)
{
	bool angle = (addr->name != NULL && addr->name[0] != '\0') ||
		addr->route != NULL;

	if (addr->name != NULL && addr->name[0] != '\0') {
		address_write_phrase(dest, addr->name);
		str_append_c(dest, ' ');
	}
	if (angle)
		str_append_c(dest, '<');
	if (addr->route != NULL) {
		str_append(dest, addr->route);
		str_append_c(dest, ':');
	}
	address_write_local_part(dest, addr->mailbox);
	if (addr->domain[0] != '\0') {
		str_append_c(dest, '@');
		str_append(dest, addr->domain);
	}
	if (angle)
		str_append_c(dest, '>');
}

void mime_address_write(string_t *dest, const struct mime_address *addr)
{
	bool in_group = false, first = true;

	for (; addr != NULL; addr = addr->next) {
		if (addr->domain == NULL && in_group) {
			/* group end */
			str_append_c(dest, ';');
			in_group = false;
			continue;
		}
		if (!first)
			str_append(dest, ", ");
		first = false;
		if (addr->domain == NULL) {
			address_write_phrase(dest, addr->mailbox == NULL ? "" :
					     addr->mailbox);
			str_append(dest, ": ");
			in_group = true;
			first = true;
			continue;
		}
		address_write_one(dest, addr);
	}
}
