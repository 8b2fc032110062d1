/* libFuzzer target for search-subject.c (RFC 5256 §2.1 base subject) and
 * search-casemap.c (RFC 5051 i;unicode-casemap). Each NUL-separated piece
 * of the input is a subject: its base subject must equal a naive,
 * quadratic transcription of the RFC's steps, be a fixpoint (the base of
 * the base is itself, with no marker removed), keep valid UTF-8 valid and
 * come out the same from the system pool. The whole input is folded in
 * line and text mode: the output must be valid UTF-8 without the bytes
 * each mode removes, folding must distribute over a cut before an ASCII
 * byte, and long non-ASCII runs must fold as one NFKD piece would. */
#include "lib.h"
#include "buffer.h"
#include "mime-charset.h"
#include "search-casemap.h"
#include "search-subject.h"

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Base subjects are linear: 16 KiB takes about a millisecond. The naive
   transcription rescans blob runs (quadratic), and folding costs a
   titlecasing and normalisation per code point, four times over: both
   get a shorter prefix, so that one input stays well under 10 ms. */
#define FUZZ_MAX_INPUT (16 * 1024)
#define FUZZ_NAIVE_MAX 1024
#define FUZZ_CASEMAP_MAX (4 * 1024)

/* --- the naive base subject: RFC 5256 §2.1 read literally --- */

struct naive_subject {
	const char *s; /* normalised, NUL-terminated */
	size_t start, end;
	bool reply;
};

static bool naive_match(const struct naive_subject *n, size_t pos, const char *lit)
{
	size_t len = strlen(lit);
	if (pos > n->end || n->end - pos < len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n->s[pos + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; returns its end or 0 */
static size_t naive_blob(const struct naive_subject *n, size_t pos)
{
	if (pos >= n->end || n->s[pos] != '[')
		return 0;
	size_t i = pos + 1;
	while (i < n->end && n->s[i] != '[' && n->s[i] != ']')
		i++;
	if (i >= n->end || n->s[i] != ']')
		return 0;
	for (i++; i < n->end && n->s[i] == ' '; i++) ;
	return i;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP; returns its end or 0 */
static size_t naive_leader(const struct naive_subject *n, bool *refwd_r)
{
	size_t pos = n->start, next;
	*refwd_r = false;
	if (pos < n->end && n->s[pos] == ' ')
		return pos + 1;
	while ((next = naive_blob(n, pos)) != 0)
		pos = next;
	/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
	if (naive_match(n, pos, "re"))
		pos += 2;
	else if (naive_match(n, pos, "fw"))
		pos += naive_match(n, pos + 2, "d") ? 3 : 2;
	else
		return 0;
	while (pos < n->end && n->s[pos] == ' ')
		pos++;
	if ((next = naive_blob(n, pos)) != 0)
		pos = next;
	if (pos >= n->end || n->s[pos] != ':')
		return 0;
	*refwd_r = true;
	return pos + 1;
}

static bool naive_trailer(struct naive_subject *n)
{
	if (n->end > n->start && n->s[n->end - 1] == ' ') {
		n->end--;
		return true;
	}
	if (n->end - n->start >= 5 && naive_match(n, n->end - 5, "(fwd)")) {
		n->end -= 5;
		n->reply = true;
		return true;
	}
	return false;
}

static bool naive_leaders_and_blob(struct naive_subject *n)
{
	bool changed = false, refwd;
	size_t next;
	/* (3) all leaders */
	while ((next = naive_leader(n, &refwd)) != 0) {
		n->start = next;
		n->reply = n->reply || refwd;
		changed = true;
	}
	/* (4) a blob if a non-empty subj-base remains */
	next = naive_blob(n, n->start);
	if (next != 0 && next < n->end) {
		n->start = next;
		changed = true;
	}
	return changed;
}

static const char *naive_subject_base(pool_t pool, const char *subject, bool *reply_r)
{
	string_t *norm = str_new(pool, strlen(subject) + 1);
	/* (1) tabs and continuations become spaces, runs one space */
	for (const char *p = subject; *p != '\0'; p++) {
		bool wsp = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
		if (!wsp)
			str_append_c(norm, *p);
		else if (str_len(norm) == 0 || norm->data[norm->used - 1] != ' ')
			str_append_c(norm, ' ');
	}
	struct naive_subject n = { .s = str_c(norm), .end = str_len(norm) };
	for (;;) {
		while (naive_trailer(&n)) ;   /* (2) */
		while (naive_leaders_and_blob(&n)) ; /* (3)-(5) */
		/* (6) "[fwd:" subj-base "]", then again from (2) */
		if (n.end - n.start >= 6 && naive_match(&n, n.start, "[fwd:") &&
		    n.s[n.end - 1] == ']') {
			n.start += 5;
			n.end--;
			n.reply = true;
			continue;
		}
		break;
	}
	*reply_r = n.reply;
	return p_strndup(pool, n.s + n.start, n.end - n.start);
}

/* --- base subject properties --- */

static void fuzz_subject(pool_t pool, const char *subject, size_t len)
{
	bool reply, reply2, naive_reply;
	const char *base = search_subject_base(pool, subject, &reply);

	if (len <= FUZZ_NAIVE_MAX) {
		const char *naive = naive_subject_base(pool, subject, &naive_reply);
		if (strcmp(base, naive) != 0 || reply != naive_reply)
			i_panic("base subject [%s] reply=%d, naive [%s] reply=%d", base,
				reply, naive, naive_reply);
	}
	/* a base subject is a fixpoint of every step */
	const char *base2 = search_subject_base(pool, base, &reply2);
	if (strcmp(base, base2) != 0 || reply2)
		i_panic("base subject is not idempotent: [%s] -> [%s]", base, base2);
	size_t blen = strlen(base);
	if (blen > len || strchr(base, '\t') != NULL || strchr(base, '\r') != NULL ||
	    strchr(base, '\n') != NULL || strstr(base, "  ") != NULL ||
	    (blen > 0 && (base[0] == ' ' || base[blen - 1] == ' ')))
		i_panic("base subject not normalised: [%s]", base);
	/* only ASCII is ever cut off */
	if (charset_utf8_is_valid(subject, len) && !charset_utf8_is_valid(base, blen))
		i_panic("base subject split a UTF-8 character");

	/* the result starts its allocation (header promise) */
	char *sys = (char *)search_subject_base(system_pool, subject, NULL);
	if (strcmp(sys, base) != 0)
		i_panic("system pool result differs");
	p_free(system_pool, sys);
}

/* --- casemap --- */

/* RFC 5051 §2 over a whole non-ASCII run at once: titlecase (simple
   mapping) each code point, then NFKD of the run in one piece. */
static void naive_casemap_run(string_t *dest, const uint32_t *run, size_t count)
{
	size_t outlen = 0;
	if (count == 0)
		return;
	uint32_t *out = u32_normalize(UNINORM_NFKD, run, count, NULL, &outlen);
	if (out == NULL)
		i_panic("u32_normalize failed");
	for (size_t i = 0; i < outlen; i++)
		str_append_utf8(dest, out[i]);
	free(out);
}

/* Returns false when the text is not stream-safe (UAX #15 §13: more than
   30 non-starters in a row): search_casemap_append() has to cut such a
   run somewhere, and may then reorder differently from one NFKD. */
static bool naive_casemap(string_t *dest, const unsigned char *p, size_t size, bool line)
{
	uint32_t *run = i_malloc(size_mul(size + 1, sizeof(uint32_t)));
	size_t count = 0, nonstarters = 0;
	bool stream_safe = true;
	for (size_t i = 0; i < size; ) {
		if (p[i] >= 0x80) {
			ucs4_t uc;
			int len = u8_mbtoucr(&uc, p + i, size - i);
			if (len <= 0) {
				uc = 0xFFFD;
				len = 1;
			}
			nonstarters = uc_combining_class(uc) == 0 ? 0 : nonstarters + 1;
			if (nonstarters > 30)
				stream_safe = false;
			run[count++] = uc_totitle(uc);
			i += (size_t)len;
			continue;
		}
		naive_casemap_run(dest, run, count);
		count = nonstarters = 0;
		char c = (char)p[i++];
		if (c == '\r' && !line && i < size && p[i] == '\n') {
			c = '\n';
			i++;
		} else if (c == '\0' || c == '\r' || (line && c == '\n')) {
			c = ' ';
		} else if (c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		}
		str_append_c(dest, c);
	}
	naive_casemap_run(dest, run, count);
	free(run);
	return stream_safe;
}

static size_t fuzz_count(const void *data, size_t size, char c)
{
	size_t n = 0;
	for (const char *p = data; size > 0; p++, size--)
		n += *p == c;
	return n;
}

static void fuzz_casemap_mode(pool_t pool, const uint8_t *data, size_t size, bool line)
{
	string_t *out = str_new(pool, size * 3 + 16);
	search_casemap_append(out, data, size, line);
	if (!charset_utf8_is_valid(str_data(out), str_len(out)))
		i_panic("casemap output is not valid UTF-8");
	if (memchr(str_data(out), '\r', str_len(out)) != NULL ||
	    memchr(str_data(out), '\0', str_len(out)) != NULL)
		i_panic("casemap output has CR or NUL");
	size_t lfs = fuzz_count(str_data(out), str_len(out), '\n');
	if (line ? lfs != 0 : lfs != fuzz_count(data, size, '\n'))
		i_panic("casemap changed the line count");

	string_t *ref = str_new(pool, str_len(out) + 16);
	if (naive_casemap(ref, data, size, line) &&
	    (str_len(ref) != str_len(out) || memcmp(str_data(ref), str_data(out), str_len(out)) != 0))
		i_panic("casemap differs from NFKD of whole runs:\n[%s]\n[%s]", str_c(out),
			str_c(ref));

	/* cut before an ASCII byte, except inside a CR LF: the two halves
	   folded apart make the whole */
	size_t cut = size == 0 ? 0 : (size_t)data[0] * 131 % (size + 1);
	while (cut < size && (data[cut] >= 0x80 || (cut > 0 && data[cut - 1] == '\r')))
		cut++;
	string_t *halves = str_new(pool, str_len(out) + 16);
	search_casemap_append(halves, data, cut, line);
	search_casemap_append(halves, data + cut, size - cut, line);
	if (str_len(halves) != str_len(out) ||
	    memcmp(str_data(halves), str_data(out), str_len(out)) != 0)
		i_panic("casemap of halves cut at %zu differs", cut);
}

static void fuzz_casemap(pool_t pool, const uint8_t *data, size_t size)
{
	fuzz_casemap_mode(pool, data, size, true);
	fuzz_casemap_mode(pool, data, size, false);

	/* search_casemap() is the text mode of the string up to its NUL */
	const char *str = p_strndup(pool, data, size);
	string_t *text = str_new(pool, size * 3 + 16);
	search_casemap_append(text, str, strlen(str), false);
	if (strcmp(search_casemap(pool, str), str_c(text)) != 0)
		i_panic("search_casemap() differs from text mode");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	pool_t pool = pool_create("fuzz search subject", 16384);

	if (search_subject_base(pool, NULL, NULL)[0] != '\0')
		i_panic("no subject must give \"\"");
	const char *input = p_strndup(pool, data, size); /* NUL-terminated copy */
	for (size_t pos = 0; pos <= size; ) {
		const char *piece = input + pos;
		size_t len = strnlen(piece, size - pos);
		fuzz_subject(pool, p_strndup(pool, piece, len), len);
		pos += len + 1;
	}
	fuzz_casemap(pool, data, I_MIN(size, FUZZ_CASEMAP_MAX));

	pool_destroy(&pool);
	t_pool_clear();
	return 0;
}
