/* IMAP URL parsing (RFC 5092 §9 grammar, RFC 4467 §9 URLAUTH, RFC 5550
 * URL-PARTIAL), relative reference resolution and URL output helpers. */
#include "imap-url.h"
#include "date.h"
#include "mutf7.h"

#include <ctype.h>
#include <strings.h>

/* The stages of a path, in the order the grammar allows them. */
enum url_stage {
	STAGE_START,
	STAGE_MAILBOX,
	STAGE_UIDVALIDITY,
	STAGE_UID,
	STAGE_SECTION,
	STAGE_PARTIAL,
	STAGE_EXPIRE,
	STAGE_URLAUTH,
};

struct url_parser {
	const char *start, *p, *end;
	pool_t pool;
	enum imap_url_parse_flags flags;
	struct imap_url *url;
	const char *error;
	enum url_stage stage;
	/* the path is a relative one ("mailbox..." or ";UID=..."), not
	   "/mailbox...": it may start with a parameter */
	bool relative_path;
};

static int url_error(struct url_parser *ctx, const char *error)
{
	ctx->error = error;
	return -1;
}

/* RFC 3986 §2.3 unreserved */
static bool is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 5092 §9 sub-delims-sh */
static bool is_sub_delim_sh(unsigned char c)
{
	return c != '\0' && strchr("!$'()*+,", c) != NULL;
}

/* achar = uchar / "&" / "=" / "~" (pct-encoded handled by the caller);
   bchar = achar / ":" / "@" / "/" */
static bool is_achar(unsigned char c)
{
	return is_unreserved(c) || is_sub_delim_sh(c) || c == '&' || c == '=';
}

static bool is_bchar(unsigned char c)
{
	return is_achar(c) || c == ':' || c == '@' || c == '/';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes [p, end) of achar (or bchar with path_chars) and pct-encoded
   octets into a NUL-terminated string of at most max bytes. The result
   must be UTF-8 without controls. */
static int url_decode(struct url_parser *ctx, const char *p, const char *end,
		      bool path_chars, size_t max, const char *what, const char **str_r)
{
	string_t *str = t_str_new((size_t)(end - p) + 1);

	if (p == end)
		return url_error(ctx, t_strdup_printf("Empty %s", what));
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			int hi = p + 2 < end ? hex_value((unsigned char)p[1]) : -1;
			int lo = hi >= 0 ? hex_value((unsigned char)p[2]) : -1;
			if (hi < 0 || lo < 0)
				return url_error(ctx, t_strdup_printf("Invalid %%-encoding in %s", what));
			str_append_c(str, (char)(hi * 16 + lo));
			p += 3;
		} else if (path_chars ? is_bchar(c) : is_achar(c)) {
			str_append_c(str, (char)c);
			p++;
		} else {
			return url_error(ctx, t_strdup_printf("Invalid character in %s", what));
		}
		if (str_len(str) > max)
			return url_error(ctx, t_strdup_printf("Too long %s", what));
	}
	if (strlen(str_c(str)) != str_len(str) || !utf8_is_valid_printable(str_c(str)))
		return url_error(ctx, t_strdup_printf("%s is not valid UTF-8 text", what));
	*str_r = p_strdup(ctx->pool, str_c(str));
	return 0;
}

/* nz-number (or number with allow_zero) of 32 bits over [p, end). */
static int url_number(struct url_parser *ctx, const char *p, const char *end, bool allow_zero,
		      const char *what, uint32_t *num_r)
{
	uint64_t num = 0;

	if (p == end || (*p == '0' && (!allow_zero || end - p > 1)))
		return url_error(ctx, t_strdup_printf("Invalid %s", what));
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return url_error(ctx, t_strdup_printf("Invalid %s", what));
		num = num * 10 + (uint64_t)(*p - '0');
		if (num > UINT32_MAX)
			return url_error(ctx, t_strdup_printf("%s out of range", what));
	}
	*num_r = (uint32_t)num;
	return 0;
}

/* ---- server ---- */

static int url_parse_host(struct url_parser *ctx, const char *p, const char *end)
{
	struct imap_url *url = ctx->url;
	const char *host_end;

	if (p < end && *p == '[') {
		/* RFC 3986 §3.2.2 IP-literal: an IPv6 address or IPvFuture */
		host_end = memchr(p, ']', (size_t)(end - p));
		if (host_end == NULL || host_end == p + 1)
			return url_error(ctx, "Invalid IP literal host");
		for (const char *c = p + 1; c < host_end; c++) {
			if (!isalnum((unsigned char)*c) && *c != ':' && *c != '.')
				return url_error(ctx, "Invalid IP literal host");
		}
		host_end++;
	} else {
		host_end = p;
		while (host_end < end && *host_end != ':') {
			unsigned char c = (unsigned char)*host_end;
			if (!is_unreserved(c) && !is_sub_delim_sh(c) && c != '&' && c != '=')
				return url_error(ctx, "Invalid character in host");
			host_end++;
		}
	}
	if (host_end == p)
		return url_error(ctx, "Empty host");
	if ((size_t)(host_end - p) > IMAP_URL_MAX_HOST)
		return url_error(ctx, "Too long host");
	char *host = p_strndup(ctx->pool, p, (size_t)(host_end - p));
	for (char *c = host; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	url->host = host;
	if (host_end == end)
		return 0;
	if (*host_end != ':')
		return url_error(ctx, "Invalid host");
	/* RFC 3986 §3.2.3: port = *DIGIT, an empty one is none */
	uint32_t port = 0;
	if (host_end + 1 < end &&
	    (url_number(ctx, host_end + 1, end, false, "port", &port) < 0 || port > 65535))
		return url_error(ctx, "Invalid port");
	url->port = port;
	return 0;
}

/* iserver = [iuserinfo "@"] host [":" port] over [p, end) */
static int url_parse_server(struct url_parser *ctx, const char *p, const char *end)
{
	struct imap_url *url = ctx->url;
	const char *at = memchr(p, '@', (size_t)(end - p));

	url->have_server = true;
	if (at != NULL) {
		/* iuserinfo = enc-user [iauth] / [enc-user] iauth */
		const char *user_end = p;
		while (user_end < at && *user_end != ';')
			user_end++;
		if (user_end > p && url_decode(ctx, p, user_end, false, IMAP_URL_MAX_USER,
					       "user name", &url->user) < 0)
			return -1;
		if (user_end < at) {
			if ((size_t)(at - user_end) < 6 || strncasecmp(user_end, ";AUTH=", 6) != 0)
				return url_error(ctx, "Invalid ;AUTH= in user info");
			if (at - user_end == 7 && user_end[6] == '*')
				url->auth_type = "*";
			else if (url_decode(ctx, user_end + 6, at, false, IMAP_URL_MAX_MECHANISM,
					    "AUTH type", &url->auth_type) < 0)
				return -1;
		} else if (user_end == p) {
			return url_error(ctx, "Empty user info");
		}
		p = at + 1;
	}
	return url_parse_host(ctx, p, end);
}

/* ---- path parameters ---- */

/* RFC 3339 §5.6 date-time: "2026-11-21T19:57:31.5+02:00" (T and Z in
   either case). */
static int url_parse_date_time(const char *p, const char *end, time_t *time_r)
{
	int f[6], tz = 0;
	const char *seps = "--T::";
	static const int widths[6] = { 4, 2, 2, 2, 2, 2 };

	for (unsigned int i = 0; i < 6; i++) {
		f[i] = 0;
		for (int n = 0; n < widths[i]; n++, p++) {
			if (p >= end || *p < '0' || *p > '9')
				return -1;
			f[i] = f[i] * 10 + (*p - '0');
		}
		if (i < 5 && (p >= end || toupper((unsigned char)*p++) != seps[i]))
			return -1;
	}
	if (p < end && *p == '.') {
		const char *frac = ++p;
		while (p < end && *p >= '0' && *p <= '9' && p - frac < 32)
			p++;
		if (p == frac)
			return -1;
	}
	if (p < end && toupper((unsigned char)*p) == 'Z') {
		p++;
	} else if (p + 6 == end && (*p == '+' || *p == '-') && p[3] == ':' &&
		   isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return -1;
		tz = (hh * 60 + mm) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	/* seconds up to 60: a leap second (RFC 3339 §5.7) */
	if (p != end || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 60)
		return -1;
	struct tm tm = {
		.tm_year = f[0] - 1900, .tm_mon = f[1] - 1, .tm_mday = f[2],
		.tm_hour = f[3], .tm_min = f[4], .tm_sec = f[5],
	};
	*time_r = utc_mktime(&tm) - (time_t)tz * 60;
	return 0;
}

/* ";URLAUTH=" access [":" mechanism ":" enc-urlauth] over [p, end) */
static int url_parse_urlauth(struct url_parser *ctx, const char *p, const char *end)
{
	struct imap_url *url = ctx->url;
	const char *colon = memchr(p, ':', (size_t)(end - p));
	const char *access_end = colon == NULL ? end : colon;
	size_t len = (size_t)(access_end - p);

	if (len == 9 && strncasecmp(p, "anonymous", 9) == 0) {
		url->access = IMAP_URL_ACCESS_ANONYMOUS;
	} else if (len == 8 && strncasecmp(p, "authuser", 8) == 0) {
		url->access = IMAP_URL_ACCESS_AUTHUSER;
	} else if (len > 5 && strncasecmp(p, "user+", 5) == 0) {
		url->access = IMAP_URL_ACCESS_USER;
		if (url_decode(ctx, p + 5, access_end, false, IMAP_URL_MAX_USER,
			       "access user", &url->access_user) < 0)
			return -1;
	} else if (len > 7 && strncasecmp(p, "submit+", 7) == 0) {
		url->access = IMAP_URL_ACCESS_SUBMIT;
		if (url_decode(ctx, p + 7, access_end, false, IMAP_URL_MAX_USER,
			       "access user", &url->access_user) < 0)
			return -1;
	} else {
		return url_error(ctx, "Invalid URLAUTH access identifier");
	}
	url->rump_length = (size_t)(access_end - ctx->start);
	if (colon == NULL)
		return 0;
	/* mechanism = "INTERNAL" / 1*(ALPHA / DIGIT / "-" / ".") */
	const char *mech = colon + 1, *mech_end = mech;
	while (mech_end < end && (isalnum((unsigned char)*mech_end) ||
				  *mech_end == '-' || *mech_end == '.'))
		mech_end++;
	if (mech_end == mech || mech_end == end || *mech_end != ':' ||
	    (size_t)(mech_end - mech) > IMAP_URL_MAX_MECHANISM)
		return url_error(ctx, "Invalid URLAUTH mechanism");
	const char *token = mech_end + 1;
	size_t token_len = (size_t)(end - token);
	if (token_len < IMAP_URL_MIN_TOKEN || token_len > IMAP_URL_MAX_TOKEN)
		return url_error(ctx, "Invalid URLAUTH token length");
	for (const char *c = token; c < end; c++) {
		if (!isxdigit((unsigned char)*c))
			return url_error(ctx, "Invalid URLAUTH token");
	}
	url->mechanism = p_strndup(ctx->pool, mech, (size_t)(mech_end - mech));
	url->token = p_strndup(ctx->pool, token, token_len);
	return 0;
}

struct url_param_def {
	const char *name;
	enum url_stage stage;
	bool slash;    /* "/" before it (unless it starts a relative ref) */
};

static const struct url_param_def url_params[] = {
	{ "UIDVALIDITY", STAGE_UIDVALIDITY, false },
	{ "UID", STAGE_UID, true },
	{ "SECTION", STAGE_SECTION, true },
	{ "PARTIAL", STAGE_PARTIAL, true },
	{ "EXPIRE", STAGE_EXPIRE, false },
	{ "URLAUTH", STAGE_URLAUTH, false },
};

/* At ";NAME=": the parameter's definition, p moved past the '='. */
static const struct url_param_def *url_param_find(struct url_parser *ctx)
{
	const char *eq = ctx->p + 1;

	while (eq < ctx->end && isalpha((unsigned char)*eq))
		eq++;
	if (eq == ctx->end || *eq != '=')
		return NULL;
	size_t len = (size_t)(eq - ctx->p - 1);
	for (unsigned int i = 0; i < N_ELEMENTS(url_params); i++) {
		if (strlen(url_params[i].name) == len &&
		    strncasecmp(ctx->p + 1, url_params[i].name, len) == 0) {
			ctx->p = eq + 1;
			return &url_params[i];
		}
	}
	return NULL;
}

/* The end of a value: the next ';' (values of bchar may hold '/'), or
   for numbers also '/' and '?'. */
static const char *url_value_end(struct url_parser *ctx, bool slashes)
{
	const char *p = ctx->p;

	while (p < ctx->end && *p != ';' && *p != '?' && (slashes || *p != '/'))
		p++;
	return p;
}

/* A value that may contain '/' (mailbox, section) and the parameter
   after it: one that needs a "/" separator takes it from the value's
   end. Returns the value's end. */
static int url_slash_value_end(struct url_parser *ctx, const char **end_r)
{
	const char *end = url_value_end(ctx, true);
	const char *save = ctx->p;

	*end_r = end;
	if (end == ctx->end || *end != ';')
		return 0;
	ctx->p = end;
	const struct url_param_def *next = url_param_find(ctx);
	ctx->p = save;
	if (next != NULL && next->slash) {
		if (end == save || end[-1] != '/')
			return url_error(ctx, "Missing '/' before parameter");
		*end_r = end - 1;
	}
	return 0;
}

static int url_parse_value(struct url_parser *ctx, const struct url_param_def *def)
{
	struct imap_url *url = ctx->url;
	const char *end;

	switch (def->stage) {
	case STAGE_UIDVALIDITY:
		end = url_value_end(ctx, false);
		if (url_number(ctx, ctx->p, end, false, "UIDVALIDITY", &url->uidvalidity) < 0)
			return -1;
		break;
	case STAGE_UID:
		end = url_value_end(ctx, false);
		if (url_number(ctx, ctx->p, end, false, "UID", &url->uid) < 0)
			return -1;
		break;
	case STAGE_SECTION:
		if (url_slash_value_end(ctx, &end) < 0 ||
		    url_decode(ctx, ctx->p, end, true, IMAP_URL_MAX_SECTION, "section",
			       &url->section) < 0)
			return -1;
		for (const char *c = url->section; *c != '\0'; c++) {
			if ((unsigned char)*c >= 0x80)
				return url_error(ctx, "Invalid section");
		}
		break;
	case STAGE_PARTIAL: {
		/* partial-range = number ["." nz-number] */
		end = url_value_end(ctx, false);
		const char *dot = memchr(ctx->p, '.', (size_t)(end - ctx->p));
		if (url_number(ctx, ctx->p, dot == NULL ? end : dot, true, "partial offset",
			       &url->partial_offset) < 0 ||
		    (dot != NULL && url_number(ctx, dot + 1, end, false, "partial length",
					       &url->partial_length) < 0))
			return -1;
		url->have_partial = true;
		break;
	}
	case STAGE_EXPIRE:
		end = url_value_end(ctx, true);
		if (url_parse_date_time(ctx->p, end, &url->expire) < 0)
			return url_error(ctx, "Invalid EXPIRE date-time");
		url->have_expire = true;
		break;
	case STAGE_URLAUTH:
		end = ctx->end;
		if (url_parse_urlauth(ctx, ctx->p, end) < 0)
			return -1;
		break;
	default:
		i_unreached();
	}
	ctx->p = end;
	ctx->stage = def->stage;
	return 0;
}

/* One ";NAME=value", with the "/" before it when it needs one. */
static int url_parse_param(struct url_parser *ctx)
{
	bool slash = false;

	if (*ctx->p == '/') {
		slash = true;
		ctx->p++;
	}
	if (ctx->p == ctx->end || *ctx->p != ';')
		return url_error(ctx, "Invalid URL path");
	const struct url_param_def *def = url_param_find(ctx);
	if (def == NULL)
		return url_error(ctx, "Unknown URL parameter");
	if (def->stage <= ctx->stage)
		return url_error(ctx, "URL parameters out of order");
	/* only a relative path may start with ";UID=", ";SECTION=" or
	   ";PARTIAL=" (RFC 5092 §9 imsg-or-part); an absolute one starts
	   with the mailbox */
	if (ctx->stage == STAGE_START && !ctx->relative_path)
		return url_error(ctx, "Missing mailbox name");
	bool want_slash = def->slash && ctx->stage != STAGE_START;
	if (slash != want_slash)
		return url_error(ctx, slash ? "Unexpected '/'" : "Missing '/' before parameter");
	if (def->stage == STAGE_UIDVALIDITY && ctx->stage != STAGE_MAILBOX)
		return url_error(ctx, "UIDVALIDITY without a mailbox");
	if ((def->stage == STAGE_SECTION || def->stage == STAGE_PARTIAL) &&
	    ctx->stage < STAGE_UID && ctx->stage != STAGE_START)
		return url_error(ctx, "SECTION or PARTIAL without a UID");
	if ((def->stage == STAGE_EXPIRE || def->stage == STAGE_URLAUTH) &&
	    ((ctx->flags & IMAP_URL_PARSE_URLAUTH) == 0 || !ctx->url->have_server ||
	     ctx->url->uid == 0))
		return url_error(ctx, "URLAUTH is only allowed in an absolute message URL");
	return url_parse_value(ctx, def);
}

/* [enc-mailbox [uidvalidity]] then parameters or "?" enc-search. */
static int url_parse_path(struct url_parser *ctx)
{
	struct imap_url *url = ctx->url;

	ctx->stage = STAGE_START;
	if (ctx->p < ctx->end && *ctx->p != ';') {
		const char *end;
		if (url_slash_value_end(ctx, &end) < 0 ||
		    url_decode(ctx, ctx->p, end, true, IMAP_URL_MAX_MAILBOX, "mailbox name",
			       &url->mailbox) < 0)
			return -1;
		ctx->p = end;
		ctx->stage = STAGE_MAILBOX;
	}
	while (ctx->p < ctx->end) {
		if (*ctx->p == '?') {
			if (ctx->stage != STAGE_MAILBOX && ctx->stage != STAGE_UIDVALIDITY)
				return url_error(ctx, "Search without a mailbox");
			return url_decode(ctx, ctx->p + 1, ctx->end, true, IMAP_URL_MAX_SEARCH,
					  "search program", &url->search);
		}
		if (url_parse_param(ctx) < 0)
			return -1;
	}
	return 0;
}

/* RFC 3986 §4.2: a relative path's first segment has no ':', which
   would make it a scheme ("http://..."). */
static bool url_has_scheme(const char *p, const char *end)
{
	for (; p < end && *p != '/' && *p != ';' && *p != '?'; p++) {
		if (*p == ':')
			return true;
	}
	return false;
}

int imap_url_parse(const char *text, size_t len, enum imap_url_parse_flags flags,
		   pool_t pool, struct imap_url *url_r, const char **error_r)
{
	struct url_parser ctx = {
		.start = text, .p = text, .end = text + len,
		.pool = pool, .flags = flags, .url = url_r,
	};
	bool relative = (flags & IMAP_URL_PARSE_RELATIVE) != 0;
	int ret = 0;

	memset(url_r, 0, sizeof(*url_r));
	if (len > IMAP_URL_MAX_LENGTH) {
		*error_r = "URL too long";
		return -1;
	}
	if (len == 0 || memchr(text, '\0', len) != NULL) {
		*error_r = len == 0 ? "Empty URL" : "NUL in URL";
		return -1;
	}
	if (len >= 7 && strncasecmp(text, "imap://", 7) == 0) {
		ctx.p += 5;
	} else if (!relative) {
		*error_r = "Not an imap:// URL";
		return -1;
	}
	if (ctx.end - ctx.p >= 2 && ctx.p[0] == '/' && ctx.p[1] == '/') {
		/* "//" iserver ipath-query */
		const char *server = ctx.p + 2;
		const char *server_end = memchr(server, '/', (size_t)(ctx.end - server));
		if (server_end == NULL)
			server_end = ctx.end;
		ret = url_parse_server(&ctx, server, server_end);
		ctx.p = server_end;
	}
	if (ret == 0 && ctx.p < ctx.end) {
		if (*ctx.p == '/') {
			ctx.p++;
			url_r->have_path = true;
		} else if (url_r->have_server) {
			ret = url_error(&ctx, "Invalid URL path");
		} else if (url_has_scheme(ctx.p, ctx.end)) {
			ret = url_error(&ctx, "Not an imap:// URL");
		} else {
			/* a relative path: "mailbox..." or ";UID=..." */
			url_r->have_path = true;
			ctx.relative_path = true;
		}
		if (ret == 0)
			ret = url_parse_path(&ctx);
	}
	/* RFC 4467 §9: expire only comes with ";URLAUTH=" */
	if (ret == 0 && url_r->have_expire && url_r->access == IMAP_URL_ACCESS_NONE)
		ret = url_error(&ctx, "EXPIRE without URLAUTH");
	if (ret == 0 && url_r->mechanism == NULL)
		url_r->rump_length = len;
	if (ret < 0)
		*error_r = ctx.error;
	return ret;
}

void imap_url_resolve(const struct imap_url *rel, const struct imap_url *base,
		      struct imap_url *url_r)
{
	if (rel->have_server) {
		*url_r = *rel;
		return;
	}
	*url_r = *rel;
	url_r->have_server = base->have_server;
	url_r->user = base->user;
	url_r->auth_type = base->auth_type;
	url_r->host = base->host;
	url_r->port = base->port;
	url_r->have_path = rel->have_path || base->have_path;
	if (rel->mailbox != NULL)
		return;
	url_r->mailbox = base->mailbox;
	url_r->uidvalidity = base->uidvalidity;
	if (rel->uid != 0)
		return;
	url_r->search = rel->search != NULL ? rel->search : base->search;
	url_r->uid = base->uid;
	if (rel->section != NULL)
		return;
	url_r->section = base->section;
	if (rel->have_partial)
		return;
	url_r->have_partial = base->have_partial;
	url_r->partial_offset = base->partial_offset;
	url_r->partial_length = base->partial_length;
}

bool imap_url_is_message_part(const struct imap_url *url)
{
	return url->mailbox != NULL && url->uid != 0 && url->search == NULL;
}

void imap_url_append_resp_text(string_t *dest, const char *url, size_t len)
{
	size_t start = str_len(dest);

	for (size_t i = 0; i < len && str_len(dest) - start < IMAP_URL_MAX_LENGTH; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= ' ' || c >= 0x7f || c == ']')
			str_printfa(dest, "%%%02X", c);
		else
			str_append_c(dest, (char)c);
	}
}

void imap_url_append_encoded(string_t *dest, const char *str, bool path_chars)
{
	for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++) {
		if (is_unreserved(*p) || is_sub_delim_sh(*p) ||
		    (path_chars && (*p == ':' || *p == '@' || *p == '/')))
			str_append_c(dest, (char)*p);
		else
			str_printfa(dest, "%%%02X", *p);
	}
}
