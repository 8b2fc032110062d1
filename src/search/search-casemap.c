/* i;unicode-casemap (RFC 5051) through libunistring: ASCII, nearly all of
 * real mail's text, is uppercased in place; each run of other characters is
 * titlecased per code point and then NFKD-normalised as a whole. Splitting
 * at ASCII is safe for normalisation: ASCII characters are starters that
 * neither decompose nor reorder with their neighbours. */
#include "search-casemap.h"
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#define CASEMAP_RUN_MAX 512

static void casemap_flush_run(string_t *dest, uint32_t *run, size_t count)
{
	uint32_t outbuf[CASEMAP_RUN_MAX * 2];
	size_t outlen = N_ELEMENTS(outbuf);
	if (count == 0)
		return;
	uint32_t *out = u32_normalize(UNINORM_NFKD, run, count, outbuf, &outlen);
	if (out == NULL) {
		/* out of memory or invalid input: keep the titlecased form */
		out = run;
		outlen = count;
	}
	for (size_t i = 0; i < outlen; i++)
		str_append_utf8(dest, out[i]);
	if (out != outbuf && out != run)
		free(out);
}

static void casemap_append_ascii(string_t *dest, const unsigned char *p, size_t n, bool line,
				 bool *cr)
{
	unsigned char *out = buffer_append_space(dest, n);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (*cr) {
			*cr = false;
			if (c == '\n' && !line) {
				out[o - 1] = '\n';
				continue;
			}
		}
		if (c >= 'a' && c <= 'z')
			c -= 32;
		else if (c == '\0' || (line && c == '\n'))
			c = ' ';
		else if (c == '\r') {
			*cr = true;
			c = ' ';
		}
		out[o++] = c;
	}
	buffer_set_used_size(dest, dest->used - (n - o));
}

/* True if uc's full decomposition starts with a character of combining
   class 0: a run cut before it normalises as in one piece. (U+0F73 and
   U+FF9E have class 0 themselves but decompose into combining marks.) */
static bool casemap_is_starter(ucs4_t uc)
{
	for (unsigned int depth = 0; depth < 4; depth++) {
		if (uc_combining_class(uc) != 0)
			return false;
		ucs4_t decomposition[UC_DECOMPOSITION_MAX_LENGTH];
		int tag;
		if (uc_decomposition(uc, &tag, decomposition) <= 0)
			return true;
		uc = decomposition[0];
	}
	return uc_combining_class(uc) == 0;
}

void search_casemap_append(string_t *dest, const void *data, size_t size, bool line)
{
	const unsigned char *p = data, *end = p + size;
	uint32_t run[CASEMAP_RUN_MAX];
	size_t count = 0;
	bool cr = false;
	while (p < end) {
		if (*p < 0x80) {
			const unsigned char *start = p;
			while (p < end && *p < 0x80)
				p++;
			casemap_flush_run(dest, run, count);
			count = 0;
			casemap_append_ascii(dest, start, (size_t)(p - start), line, &cr);
			continue;
		}
		cr = false;
		ucs4_t uc;
		int len = u8_mbtoucr(&uc, p, (size_t)(end - p));
		if (len <= 0) {
			/* invalid or truncated sequence: one byte becomes U+FFFD */
			uc = 0xFFFD;
			len = 1;
		}
		p += len;
		/* a long run is cut before a starter, so that combining marks
		   are reordered exactly as in one piece */
		if (count == CASEMAP_RUN_MAX ||
		    (count >= CASEMAP_RUN_MAX - 64 && casemap_is_starter(uc))) {
			casemap_flush_run(dest, run, count);
			count = 0;
		}
		run[count++] = uc_totitle(uc);
	}
	casemap_flush_run(dest, run, count);
}

const char *search_casemap(pool_t pool, const char *str)
{
	size_t len = strlen(str);
	string_t *dest = str_new(pool, len + 1);
	search_casemap_append(dest, str, len, false);
	return str_c(dest);
}
