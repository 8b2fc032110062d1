/* Sequence-set parsing, normalisation and writing. */
#include "imap-seqset.h"
#include "buffer.h"

static int parse_number(const char **p, uint32_t *num_r)
{
	if (**p == '*') {
		(*p)++;
		*num_r = IMAP_SEQ_STAR;
		return 0;
	}
	/* nz-number: no leading zero, no 0, fits in 32 bits (RFC 9051 §9) */
	if (**p < '1' || **p > '9')
		return -1;
	uint64_t n = 0;
	while (**p >= '0' && **p <= '9') {
		n = n * 10 + (uint64_t)(**p - '0');
		if (n > 0xffffffffULL)
			return -1;
		(*p)++;
	}
	*num_r = (uint32_t)n;
	return 0;
}

int imap_seqset_parse(const char *str, pool_t pool, imap_seq_ranges_t *ranges_r)
{
	array_init(ranges_r, pool, 8);
	const char *p = str;
	for (;;) {
		struct imap_seq_range r;
		if (parse_number(&p, &r.seq1) < 0)
			return -1;
		r.seq2 = r.seq1;
		if (*p == ':') {
			p++;
			if (parse_number(&p, &r.seq2) < 0)
				return -1;
		}
		array_push(ranges_r, r);
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return -1;
		p++;
	}
}

bool imap_seqset_is_saved(const char *str)
{
	return str[0] == '$' && str[1] == '\0';
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *ra = a, *rb = b;
	return ra->seq1 < rb->seq1 ? -1 : ra->seq1 > rb->seq1 ? 1 : 0;
}

void imap_seqset_resolve(imap_seq_ranges_t *ranges, uint32_t max)
{
	unsigned int out = 0;
	for (unsigned int i = 0; i < ranges->count; i++) {
		struct imap_seq_range r = ranges->v[i];
		if (r.seq1 == IMAP_SEQ_STAR)
			r.seq1 = max;
		if (r.seq2 == IMAP_SEQ_STAR)
			r.seq2 = max;
		if (r.seq1 > r.seq2) {
			uint32_t t = r.seq1;
			r.seq1 = r.seq2;
			r.seq2 = t;
		}
		if (r.seq2 == 0)
			continue; /* only '*' in an empty mailbox */
		if (r.seq1 == 0)
			r.seq1 = 1;
		ranges->v[out++] = r;
	}
	ranges->count = out;
	if (out == 0)
		return;
	qsort(ranges->v, out, sizeof(ranges->v[0]), range_cmp);
	unsigned int w = 0;
	for (unsigned int i = 1; i < out; i++) {
		struct imap_seq_range *last = &ranges->v[w];
		const struct imap_seq_range *r = &ranges->v[i];
		if (r->seq1 <= last->seq2 || (last->seq2 != UINT32_MAX && r->seq1 == last->seq2 + 1)) {
			if (r->seq2 > last->seq2)
				last->seq2 = r->seq2;
		} else {
			ranges->v[++w] = *r;
		}
	}
	ranges->count = w + 1;
}

uint64_t imap_seqset_count(const imap_seq_ranges_t *ranges)
{
	uint64_t n = 0;
	for (unsigned int i = 0; i < ranges->count; i++)
		n += (uint64_t)ranges->v[i].seq2 - ranges->v[i].seq1 + 1;
	return n;
}

bool imap_seqset_contains(const imap_seq_ranges_t *ranges, uint32_t num)
{
	unsigned int lo = 0, hi = ranges->count;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		if (num < ranges->v[mid].seq1)
			hi = mid;
		else if (num > ranges->v[mid].seq2)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void imap_seqset_write(const imap_seq_ranges_t *ranges, string_t *dest)
{
	for (unsigned int i = 0; i < ranges->count; i++) {
		if (i > 0)
			str_append_c(dest, ',');
		const struct imap_seq_range *r = &ranges->v[i];
		if (r->seq1 == r->seq2)
			str_printfa(dest, "%u", r->seq1);
		else
			str_printfa(dest, "%u:%u", r->seq1, r->seq2);
	}
}

void imap_seqset_from_sorted(const uint32_t *nums, unsigned int count, pool_t pool,
			     imap_seq_ranges_t *ranges_r)
{
	array_init(ranges_r, pool, 8);
	for (unsigned int i = 0; i < count; i++) {
		if (ranges_r->count > 0) {
			struct imap_seq_range *last = &ranges_r->v[ranges_r->count - 1];
			if (nums[i] == last->seq2 + 1 || nums[i] == last->seq2) {
				last->seq2 = nums[i];
				continue;
			}
		}
		struct imap_seq_range r = { nums[i], nums[i] };
		array_push(ranges_r, r);
	}
}
