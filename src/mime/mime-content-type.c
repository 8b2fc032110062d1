/* Content-Type / Content-Disposition parameters (RFC 2045 §5.1) with RFC
 * 2231 continuations and charsets, and the defaults of RFC 2045 §5.2. */
#include "mime-content-type.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"
#include "mime-rfc822.h"
#include "array.h"

#include <strings.h>

#define MIME_LANGUAGES_MAX 64
/* "name*N" indexes beyond this are not continuations anyone writes */
#define RFC2231_MAX_INDEX 999

/* A parameter as written, before RFC 2231 merging. */
struct raw_param {
	const char *name;   /* base name for RFC 2231 forms */
	const char *value;
	int index;          /* RFC 2231 "*N", -1 if none */
	bool extended;      /* RFC 2231 trailing '*' */
};

struct params_ctx {
	pool_t pool, tmp;
	ARRAY(struct raw_param) raw;
	ARRAY(struct mime_param) result;
	bool broken;
};

/* Skips to the next ';' (or the end) after garbage. */
static void params_skip_garbage(struct params_ctx *ctx, struct mime_rfc822_parser *p)
{
	const unsigned char *semi = memchr(p->data, ';', (size_t)(p->end - p->data));

	p->data = semi == NULL ? p->end : semi;
	ctx->broken = true;
}

/* A value that is not a quoted string: RFC 2045 wants a token, but mailers
   write boundary=----=_Part_1 and name=a/b.pdf unquoted; take the run up
   to whitespace, ';' or '"'. */
static void params_parse_bare_value(struct mime_rfc822_parser *p, string_t *dest)
{
	const unsigned char *start = p->data;

	while (p->data < p->end && *p->data > ' ' && *p->data != 0x7F &&
	       *p->data != ';' && *p->data != '"')
		p->data++;
	str_append_n(dest, start, (size_t)(p->data - start));
}

/* Splits "name*N*" into base name, index and extended flag. */
static void params_split_name(struct params_ctx *ctx, const char *name,
			      struct raw_param *param)
{
	const char *star = strchr(name, '*');

	param->name = name;
	param->index = -1;
	param->extended = false;
	if (star == NULL)
		return;
	const char *p = star + 1;
	int index = -1;
	bool extended;
	if (*p >= '0' && *p <= '9') {
		/* "name*N" or "name*N*" */
		index = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			index = index * 10 + (*p - '0');
			if (index > RFC2231_MAX_INDEX)
				return;
		}
		extended = *p == '*';
		if (extended)
			p++;
	} else {
		/* "name*": the star itself marks it extended */
		extended = true;
	}
	if (*p != '\0')
		return;
	param->name = p_strndup(ctx->tmp, name, (size_t)(star - name));
	param->index = index;
	param->extended = extended;
}

static void params_append_rest(string_t *value, const unsigned char *p,
			       const unsigned char *end)
{
	for (; p < end; p++) {
		if (*p == '\0')
			str_append(value, MIME_UTF8_REPLACEMENT);
		else if (*p != '\\' && *p != '\r' && *p != '\n')
			str_append_c(value, (char)*p);
	}
}

static int params_parse_one(struct params_ctx *ctx, struct mime_rfc822_parser *p)
{
	string_t *name = str_new(ctx->tmp, 32), *value = str_new(ctx->tmp, 64);
	struct raw_param param;
	int ret;

	if (mime_rfc822_parse_token(p, name) <= 0 || str_len(name) == 0 ||
	    *p->data != '=') {
		params_skip_garbage(ctx, p);
		return 0;
	}
	p->data++;
	if ((ret = mime_rfc822_skip_cfws(p)) > 0) {
		if (*p->data == '"') {
			const unsigned char *start = p->data + 1;
			if (mime_rfc822_parse_quoted_string(p, value) < 0) {
				/* unterminated: the rest is the value */
				ctx->broken = true;
				str_truncate(value, 0);
				params_append_rest(value, start, p->end);
				p->data = p->end;
				ret = 0;
			}
		} else {
			params_parse_bare_value(p, value);
			ret = mime_rfc822_skip_cfws(p);
		}
	}
	if (ret < 0)
		ctx->broken = true;
	if (ctx->raw.count >= MIME_PARAMS_MAX) {
		ctx->broken = true;
		return -1;
	}
	params_split_name(ctx, str_c(name), &param);
	/* NULs cannot be here: they were replaced in quoted strings, and a
	   bare value stops at them */
	param.value = str_c(value);
	array_push(&ctx->raw, param);
	return 0;
}

static bool params_result_has(struct params_ctx *ctx, const char *name)
{
	for (unsigned int i = 0; i < ctx->result.count; i++) {
		if (strcasecmp(ctx->result.v[i].name, name) == 0)
			return true;
	}
	return false;
}

static void params_result_add(struct params_ctx *ctx, const struct mime_param *param)
{
	if (!params_result_has(ctx, param->name))
		array_push(&ctx->result, *param);
}

/* RFC 2231 §7 attribute-char: what may stay unencoded in an ext-value. */
static bool rfc2231_is_attribute_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;
}

static const char *rfc2231_raw_value(pool_t pool, const char *charset,
				     const char *language, const buffer_t *bytes)
{
	string_t *str = str_new(pool, bytes->used * 3 + 16);

	str_printfa(str, "%s'%s'", charset, language);
	for (size_t i = 0; i < bytes->used; i++) {
		unsigned char c = bytes->data[i];
		if (rfc2231_is_attribute_char(c))
			str_append_c(str, (char)c);
		else
			str_printfa(str, "%%%02X", c);
	}
	return str_c(str);
}

/* Fills param from the bytes of a (merged) value; charset NULL for a
   plain value. */
static void params_set_value(struct params_ctx *ctx, struct mime_param *param,
			     const char *charset, const char *language,
			     const buffer_t *bytes)
{
	string_t *utf8 = str_new(ctx->tmp, bytes->used + 16);

	if (charset == NULL) {
		param->value = p_strndup(ctx->pool, bytes->data, bytes->used);
		param->raw_value = param->value;
		return;
	}
	(void)mime_rfc2231_to_utf8(charset, bytes->data, bytes->used, utf8);
	param->value = p_strdup(ctx->pool, str_c(utf8));
	param->charset = p_strdup(ctx->pool, charset);
	param->language = p_strdup(ctx->pool, language);
	param->raw_value = rfc2231_raw_value(ctx->pool, charset, language, bytes);
	param->extended = true;
}

/* Appends one segment's bytes; for the first extended segment, *charset_r
   and *language_r come from its "charset'language'" prefix. */
static void params_segment_bytes(struct params_ctx *ctx, const struct raw_param *raw,
				 bool first, const char **charset_r,
				 const char **language_r, buffer_t *bytes)
{
	const char *text = raw->value;

	if (raw->extended) {
		if (first && mime_rfc2231_split(ctx->tmp, raw->value, charset_r,
						language_r, &text) < 0)
			text = raw->value;
		mime_rfc2231_percent_decode(text, strlen(text), bytes);
	} else {
		buffer_append(bytes, text, strlen(text));
	}
}

static void params_add_single(struct params_ctx *ctx, const struct raw_param *raw,
			      const char *name)
{
	struct mime_param param = { .name = p_strdup(ctx->pool, name) };
	const char *charset = NULL, *language = "";
	buffer_t *bytes = buffer_create(ctx->tmp, strlen(raw->value) + 1);

	params_segment_bytes(ctx, raw, true, &charset, &language, bytes);
	if (raw->extended && charset == NULL) {
		/* "name*=value" without the quotes: not really extended */
		buffer_clear(bytes);
		buffer_append(bytes, raw->value, strlen(raw->value));
	}
	params_set_value(ctx, &param, charset, language, bytes);
	params_result_add(ctx, &param);
}

static int raw_param_cmp_index(const void *a, const void *b)
{
	const struct raw_param *const *p1 = a, *const *p2 = b;

	return (*p1)->index - (*p2)->index;
}

/* Merges the indexed segments named like raw->name; they must be 0..n-1,
   else each is kept on its own as "name*N". */
static void params_merge_group(struct params_ctx *ctx, unsigned int first_idx,
			       bool *done)
{
	const struct raw_param *first = &ctx->raw.v[first_idx];
	const struct raw_param *segs[MIME_PARAMS_MAX];
	unsigned int count = 0;

	for (unsigned int i = first_idx; i < ctx->raw.count; i++) {
		const struct raw_param *raw = &ctx->raw.v[i];
		if (raw->index >= 0 && strcasecmp(raw->name, first->name) == 0) {
			segs[count++] = raw;
			done[i] = true;
		}
	}
	qsort(segs, count, sizeof(segs[0]), raw_param_cmp_index);
	bool complete = true;
	for (unsigned int i = 0; i < count; i++) {
		if (segs[i]->index != (int)i)
			complete = false;
	}
	if (!complete) {
		for (unsigned int i = 0; i < count; i++) {
			params_add_single(ctx, segs[i], p_strdup_printf(ctx->tmp,
				"%s*%d", segs[i]->name, segs[i]->index));
		}
		ctx->broken = true;
		return;
	}

	struct mime_param param = { .name = p_strdup(ctx->pool, first->name) };
	const char *charset = NULL, *language = "";
	buffer_t *bytes = buffer_create(ctx->tmp, 256);
	bool any_extended = false;
	for (unsigned int i = 0; i < count; i++) {
		params_segment_bytes(ctx, segs[i], i == 0, &charset, &language, bytes);
		any_extended = any_extended || segs[i]->extended;
	}
	if (charset == NULL && any_extended) {
		/* RFC 2231 §4.1: the charset is in the first segment only;
		   without it the bytes are taken as UTF-8 */
		charset = "";
	}
	params_set_value(ctx, &param, charset, language, bytes);
	params_result_add(ctx, &param);
}

static void params_merge(struct params_ctx *ctx)
{
	bool done[MIME_PARAMS_MAX] = { false };

	/* RFC 2231 does not say what wins; like other servers, a plain or
	   unindexed parameter wins over continuations of the same name */
	for (unsigned int i = 0; i < ctx->raw.count; i++) {
		const struct raw_param *raw = &ctx->raw.v[i];
		if (raw->index < 0) {
			params_add_single(ctx, raw, raw->name);
			done[i] = true;
		}
	}
	for (unsigned int i = 0; i < ctx->raw.count; i++) {
		if (!done[i])
			params_merge_group(ctx, i, done);
	}
}

/* Parses parameters from p's position to the end. */
static int params_parse_rest(pool_t pool, struct mime_rfc822_parser *p,
			     const struct mime_param **params_r, unsigned int *count_r)
{
	struct params_ctx ctx = { .pool = pool };

	ctx.tmp = pool_create("mime params", 1024);
	array_init(&ctx.raw, ctx.tmp, 8);
	array_init(&ctx.result, ctx.tmp, 8);
	for (;;) {
		if (mime_rfc822_skip_cfws(p) <= 0)
			break;
		if (*p->data != ';') {
			params_skip_garbage(&ctx, p);
			continue;
		}
		p->data++;
		if (mime_rfc822_skip_cfws(p) <= 0)
			break;
		if (*p->data == ';')
			continue;
		if (params_parse_one(&ctx, p) < 0)
			break;
	}
	params_merge(&ctx);

	*count_r = ctx.result.count;
	*params_r = NULL;
	if (ctx.result.count > 0) {
		struct mime_param *params = p_new(pool, struct mime_param, ctx.result.count);
		memcpy(params, ctx.result.v, sizeof(*params) * ctx.result.count);
		*params_r = params;
	}
	pool_destroy(&ctx.tmp);
	return ctx.broken ? -1 : 0;
}

int mime_params_parse(pool_t pool, const void *data, size_t size,
		      const struct mime_param **params_r, unsigned int *count_r)
{
	struct mime_rfc822_parser p;

	mime_rfc822_init(&p, data, size, NULL);
	return params_parse_rest(pool, &p, params_r, count_r);
}

static void content_type_set_default(pool_t pool, bool in_digest,
				     struct mime_content_type *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->defaulted = true;
	if (in_digest) {
		/* RFC 2046 §5.1.5 */
		ct->type = "message";
		ct->subtype = "rfc822";
		return;
	}
	struct mime_param *param = p_new(pool, struct mime_param, 1);
	param->name = "charset";
	param->value = param->raw_value = "us-ascii";
	ct->type = "text";
	ct->subtype = "plain";
	ct->params = param;
	ct->params_count = 1;
}

int mime_content_type_parse(pool_t pool, const void *data, size_t size,
			    bool in_digest, struct mime_content_type *ct_r)
{
	struct mime_rfc822_parser p;
	int ret = -1;

	content_type_set_default(pool, in_digest, ct_r);
	if (data == NULL)
		return -1;
	ct_r->invalid = true;

	/* not the temporary pool: a message of many parts is parsed in one
	   go, and temporary memory lives until the event loop clears it */
	string_t *type = str_new(system_pool, 32), *subtype = str_new(system_pool, 32);
	mime_rfc822_init(&p, data, size, NULL);
	if (mime_rfc822_skip_cfws(&p) > 0 &&
	    mime_rfc822_parse_token(&p, type) > 0 && str_len(type) > 0 &&
	    *p.data == '/') {
		p.data++;
		if (mime_rfc822_skip_cfws(&p) > 0) {
			ret = mime_rfc822_parse_token(&p, subtype);
			if (str_len(subtype) == 0 || (ret > 0 && *p.data != ';'))
				ret = -1;
		}
	}
	if (ret >= 0) {
		memset(ct_r, 0, sizeof(*ct_r));
		ct_r->type = p_strdup(pool, str_c(type));
		ct_r->subtype = p_strdup(pool, str_c(subtype));
		(void)params_parse_rest(pool, &p, &ct_r->params, &ct_r->params_count);
	}
	str_free(&type);
	str_free(&subtype);
	return ret < 0 ? -1 : 0;
}

int mime_content_disposition_parse(pool_t pool, const void *data, size_t size,
				   struct mime_content_disposition *cd_r)
{
	struct mime_rfc822_parser p;
	string_t *type = str_new(system_pool, 32);
	int ret = -1;

	memset(cd_r, 0, sizeof(*cd_r));
	mime_rfc822_init(&p, data, size, NULL);
	/* a missing ';' before the parameters is garbage the parameter
	   parser skips, as mail clients do */
	if (mime_rfc822_skip_cfws(&p) > 0 &&
	    mime_rfc822_parse_token(&p, type) >= 0 && str_len(type) > 0) {
		cd_r->type = p_strdup(pool, str_c(type));
		(void)params_parse_rest(pool, &p, &cd_r->params, &cd_r->params_count);
		ret = 0;
	}
	str_free(&type);
	return ret;
}

bool mime_content_type_is(const struct mime_content_type *ct, const char *type,
			  const char *subtype)
{
	return strcasecmp(ct->type, type) == 0 &&
		(subtype == NULL || strcasecmp(ct->subtype, subtype) == 0);
}

const char *mime_param_get(const struct mime_param *params, unsigned int count,
			   const char *name)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

const char *mime_content_transfer_encoding_parse(pool_t pool, const void *data,
						 size_t size)
{
	struct mime_rfc822_parser p;
	string_t *token = str_new(system_pool, 32);
	const char *result = NULL;

	mime_rfc822_init(&p, data, size, NULL);
	if (mime_rfc822_skip_cfws(&p) > 0 &&
	    mime_rfc822_parse_token(&p, token) == 0 && str_len(token) > 0)
		result = p_strdup(pool, str_c(token));
	str_free(&token);
	return result;
}

const char *const *mime_content_language_parse(pool_t pool, const void *data,
					       size_t size)
{
	struct mime_rfc822_parser p;
	const char *langs[MIME_LANGUAGES_MAX + 1];
	unsigned int count = 0;
	string_t *tag = str_new(system_pool, 32);

	mime_rfc822_init(&p, data, size, NULL);
	(void)mime_rfc822_skip_cfws(&p);
	while (count < MIME_LANGUAGES_MAX &&
	       mime_rfc822_parse_atom(&p, tag) >= 0) {
		langs[count++] = p_strdup(pool, str_c(tag));
		str_truncate(tag, 0);
		if (p.data >= p.end || *p.data != ',')
			break;
		p.data++;
		(void)mime_rfc822_skip_cfws(&p);
	}
	str_free(&tag);
	if (count == 0)
		return NULL;
	const char **result = p_new(pool, const char *, count + 1);
	memcpy(result, langs, sizeof(*result) * count);
	return result;
}
