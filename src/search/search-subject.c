/* Base subject extraction (RFC 5256 §2.1). The subject is normalised once
 * (whitespace folded to single spaces), then the steps only move a start
 * and an end offset over it, so every step is a cut at an ASCII byte. */
#include "search-subject.h"

/* The text being reduced: s[start..end) is what is left of it. */
struct subject_ctx {
	char *s;
	size_t start, end;
	bool reply_or_fwd;
	/* RFC 5256 §2.1 step (3) scans a run of subj-blobs before looking
	   for "re:"; when that failed, the run ended at refwd_failed_at, and
	   step (4) only ever removes blobs of that same run, so later scans
	   starting inside it would fail the same way. Remembering this
	   keeps "[a][a][a]...x" linear instead of quadratic. */
	size_t refwd_failed_at;
};

static bool subject_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char subject_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* RFC 5256 §2.1 step (1), past the RFC 2047 decoding the caller did:
   tabs and folding become spaces and runs of them one space. */
static char *subject_normalize(pool_t pool, const char *subject, size_t *len_r)
{
	size_t len = strlen(subject), n = 0;
	char *s = p_malloc(pool, size_add(len, 1));
	bool last_space = false;

	for (size_t i = 0; i < len; i++) {
		if (subject_is_wsp(subject[i])) {
			if (!last_space)
				s[n++] = ' ';
			last_space = true;
		} else {
			s[n++] = subject[i];
			last_space = false;
		}
	}
	s[n] = '\0';
	*len_r = n;
	return s;
}

/* Case-insensitive match of the ASCII lowercase literal lit at pos. */
static bool subject_match(const struct subject_ctx *ctx, size_t pos,
			  const char *lit)
{
	size_t len = strlen(lit);

	if (ctx->end - pos < len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (subject_lower(ctx->s[pos + i]) != lit[i])
			return false;
	}
	return true;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP. Returns the offset after the blob
   and its whitespace, or 0 when there is no complete blob at pos (a blob
   never ends at offset 0). */
static size_t subject_skip_blob(const struct subject_ctx *ctx, size_t pos)
{
	if (pos >= ctx->end || ctx->s[pos] != '[')
		return 0;
	for (pos++; pos < ctx->end; pos++) {
		if (ctx->s[pos] == '[')
			return 0;
		if (ctx->s[pos] == ']')
			break;
	}
	if (pos >= ctx->end)
		return 0;
	pos++;
	if (pos < ctx->end && ctx->s[pos] == ' ')
		pos++;
	return pos;
}

/* Step (2): subj-trailer = "(fwd)" / WSP, repeatedly. */
static void subject_remove_trailers(struct subject_ctx *ctx)
{
	while (ctx->end > ctx->start) {
		if (ctx->s[ctx->end - 1] == ' ') {
			ctx->end--;
		} else if (ctx->end - ctx->start >= 5 &&
			   subject_match(ctx, ctx->end - 5, "(fwd)")) {
			ctx->end -= 5;
			ctx->reply_or_fwd = true;
		} else {
			break;
		}
	}
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at pos.
   Returns the offset after the ':' or 0. */
static size_t subject_skip_refwd(const struct subject_ctx *ctx, size_t pos)
{
	if (subject_match(ctx, pos, "re"))
		pos += 2;
	else if (subject_match(ctx, pos, "fwd"))
		pos += 3;
	else if (subject_match(ctx, pos, "fw"))
		pos += 2;
	else
		return 0;
	if (pos < ctx->end && ctx->s[pos] == ' ')
		pos++;
	if (pos < ctx->end && ctx->s[pos] == '[') {
		pos = subject_skip_blob(ctx, pos);
		if (pos == 0)
			return 0;
	}
	if (pos >= ctx->end || ctx->s[pos] != ':')
		return 0;
	return pos + 1;
}

/* Step (3): subj-leader = (*subj-blob subj-refwd) / WSP. */
static bool subject_remove_leader(struct subject_ctx *ctx)
{
	size_t pos = ctx->start, next;

	if (pos < ctx->end && ctx->s[pos] == ' ') {
		ctx->start++;
		return true;
	}
	if (pos < ctx->refwd_failed_at)
		return false;
	while (pos < ctx->end && ctx->s[pos] == '[') {
		next = subject_skip_blob(ctx, pos);
		if (next == 0)
			break;
		pos = next;
	}
	next = subject_skip_refwd(ctx, pos);
	if (next == 0) {
		ctx->refwd_failed_at = pos;
		return false;
	}
	ctx->start = next;
	ctx->reply_or_fwd = true;
	return true;
}

/* Step (4): a leading subj-blob goes when something is left after it. */
static bool subject_remove_blob(struct subject_ctx *ctx)
{
	size_t next = subject_skip_blob(ctx, ctx->start);

	if (next == 0 || next >= ctx->end)
		return false;
	ctx->start = next;
	return true;
}

/* Step (6): subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]". */
static bool subject_remove_fwd_wrapper(struct subject_ctx *ctx)
{
	if (ctx->end - ctx->start < 6 || !subject_match(ctx, ctx->start, "[fwd:") ||
	    ctx->s[ctx->end - 1] != ']')
		return false;
	ctx->start += 5;
	ctx->end--;
	ctx->reply_or_fwd = true;
	/* the end moved, so blob runs may parse differently now */
	ctx->refwd_failed_at = 0;
	return true;
}

const char *search_subject_base(pool_t pool, const char *subject,
				bool *is_reply_or_fwd_r)
{
	struct subject_ctx ctx = { .s = NULL };
	size_t len;

	ctx.s = subject_normalize(pool, subject == NULL ? "" : subject, &len);
	ctx.end = len;
	do {
		subject_remove_trailers(&ctx);
		bool found;
		do {
			/* both steps run each round: (5) repeats until
			   neither matched */
			found = subject_remove_leader(&ctx);
			found = subject_remove_blob(&ctx) || found;
		} while (found);
	} while (subject_remove_fwd_wrapper(&ctx));

	if (is_reply_or_fwd_r != NULL)
		*is_reply_or_fwd_r = ctx.reply_or_fwd;
	memmove(ctx.s, ctx.s + ctx.start, ctx.end - ctx.start);
	ctx.s[ctx.end - ctx.start] = '\0';
	return ctx.s;
}
