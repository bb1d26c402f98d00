/*
 * rxlit: the literals every match of a pattern holds, for grep's
 * prefilter: the longest run of literal characters of a concatenation
 * (through groups and repetitions that happen at least once), or one
 * run per branch of an alternation. A run under (?i) is marked so; the
 * caller searches it caselessly. And the search of one run in a buffer:
 * memchr for its rarest byte, as ripgrep does, then a compare.
 */
#include "rxlit.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static size_t
u8len(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static bool
lit_ci(const struct ks_rx_node *k)
{
	return (k->flags & KS_RX_FI) && (k->lo > 0x7f ||
	    ((k->lo | 0x20) >= 'a' && (k->lo | 0x20) <= 'z'));
}

/* Keeps the better of two candidates: longer shortest run, fewer runs,
 * case-sensitive. */
static void
better(struct ks_rxlit *best, const struct ks_rxlit *c)
{
	if (c->n == 0)
		return;
	if (best->n == 0 || c->min > best->min || (c->min == best->min &&
	    (c->n < best->n || (c->n == best->n && best->ci && !c->ci))))
		*best = *c;
}

static struct ks_rxlit
one_run(const struct ks_rx_node *first, size_t len)
{
	struct ks_rxlit r = { .n = 1, .first = { first }, .len = { len } };

	for (size_t i = 0; i < len; i++, first = first->next) {
		r.min += u8len(first->lo);
		r.ci |= lit_ci(first);
	}
	return r;
}

static struct ks_rxlit required(const struct ks_rx_node *n);

static struct ks_rxlit
required_concat(const struct ks_rx_node *k)
{
	struct ks_rxlit best = { 0 }, c;
	const struct ks_rx_node *run = NULL;
	size_t len = 0;

	for (; k != NULL; k = k->next) {
		if (k->kind == KS_RX_LIT) {
			if (len++ == 0)
				run = k;
			continue;
		}
		if (len > 0) {
			c = one_run(run, len);
			better(&best, &c);
			len = 0;
		}
		c = required(k);
		better(&best, &c);
	}
	if (len > 0) {
		c = one_run(run, len);
		better(&best, &c);
	}
	return best;
}

static struct ks_rxlit
required_alt(const struct ks_rx_node *k)
{
	struct ks_rxlit all = { 0 }, c;

	for (; k != NULL; k = k->next) {
		c = required(k);
		if (c.n == 0 || all.n + c.n > KS_RXLIT_MAX)
			return (struct ks_rxlit){ 0 };
		memcpy(all.first + all.n, c.first, c.n *
		    sizeof(const struct ks_rx_node *));
		memcpy(all.len + all.n, c.len, c.n * sizeof(c.len[0]));
		all.min = all.n == 0 || c.min < all.min ? c.min : all.min;
		all.n += c.n;
		all.ci |= c.ci;
	}
	return all;
}

static struct ks_rxlit
required(const struct ks_rx_node *n)
{
	switch (n->kind) {
	case KS_RX_LIT:
		return one_run(n, 1);
	case KS_RX_CONCAT:
		return required_concat(n->kid);
	case KS_RX_ALT:
		return required_alt(n->kid);
	case KS_RX_GROUP:
		return required(n->kid);
	case KS_RX_REPEAT:
		if (n->lo > 0)
			return required(n->kid);
		/* FALLTHROUGH */
	default:
		return (struct ks_rxlit){ 0 };
	}
}

void
ks_rxlit_required(const struct ks_rx_node *root, struct ks_rxlit *out)
{
	*out = required(root);
}

/*
 * How common byte b is in source code and text, higher more common: the
 * prefilter looks for a literal's rarest byte with memchr, as ripgrep
 * does, rather than for the whole literal. Lower-case letters follow
 * English frequency (etaoinshrdlcumwfgypbvkjxqz).
 */
static int
commonness(unsigned char b)
{
	static const char order[] = "etaoinshrdlcumwfgypbvkjxqz";
	const char *at;

	if (b == ' ' || b == '\n' || b == '\t')
		return 255;
	if (b >= 'a' && b <= 'z' && (at = strchr(order, b)) != NULL)
		return 220 - 5 * (int)(at - order);
	if (b == '_' || b == '(' || b == ')' || b == ';' || b == ',' ||
	    b == '.' || b == '=' || b == '"' || b == '/' || b == '*')
		return 150;
	if (b >= '0' && b <= '9')
		return 110;
	if (b >= 'A' && b <= 'Z')
		return 90;
	if (b < 0x80)
		return 60;
	return 40;
}

/* The rarest byte of lit[0..n) not at skip (n when skip is none),
 * another byte value before the same one again. */
static size_t
rarest_but(const char *lit, size_t n, size_t skip)
{
	size_t best = n;
	int c, cb = 0;

	for (size_t i = 0; i < n; i++) {
		if (i == skip)
			continue;
		/* The same byte as at skip counts as common: a pair of equal
		 * bytes filters no better than one. */
		c = commonness((unsigned char)lit[i]) + (skip < n &&
		    lit[i] == lit[skip] ? 256 : 0);
		if (best == n || c < cb) {
			best = i;
			cb = c;
		}
	}
	return best == n ? 0 : best;
}

void
ks_rxlit_rarest(const char *lit, size_t n, size_t rare[2])
{
	rare[0] = rarest_but(lit, n, n);
	rare[1] = n > 1 ? rarest_but(lit, n, rare[0]) : rare[0];
}

#ifdef __SSE2__
/*
 * Candidates where both rare bytes stand at their places, 16 starts at
 * a time (the memchr crate's "packed pair", which ripgrep uses): in
 * code, a lone byte of a literal turns up every few hundred bytes, a
 * pair of them rarely. From start *i on, while 16 starts fit before
 * starts: the mask of the first 16 that hold a candidate, *i at them;
 * 0 when none. No call inside, so that the vectors stay in registers.
 */
__attribute__((noinline)) static unsigned
pair_scan(const char *buf, size_t *i, size_t starts, char c1, size_t r1,
    char c2, size_t r2)
{
	const __m128i b1 = _mm_set1_epi8(c1), b2 = _mm_set1_epi8(c2);
	const char *p1 = buf + r1, *p2 = buf + r2;
	size_t at = *i;
	unsigned m = 0;

	/* Loads at at + r + 15 <= n - 1 while at + 16 <= starts. */
	for (; at + 16 <= starts; at += 16) {
		m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)(p1 + at)), b1),
		    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)(p2 + at)), b2)));
		if (m != 0)
			break;
	}
	*i = at;
	return m;
}

static const char *
find_pair(const char *lit, size_t litlen, const size_t rare[2],
    const char *buf, size_t n, size_t from)
{
	size_t i = from, starts = n - litlen + 1;	/* starts < starts */
	unsigned m;

	while ((m = pair_scan(buf, &i, starts, lit[rare[0]], rare[0],
	    lit[rare[1]], rare[1])) != 0) {
		for (; m != 0; m &= m - 1) {
			const char *at = buf + i + (unsigned)__builtin_ctz(m);

			if (memcmp(at, lit, litlen) == 0)
				return at;
		}
		i += 16;
	}
	for (; i < starts; i++)
		if (buf[i + rare[0]] == lit[rare[0]] &&
		    memcmp(buf + i, lit, litlen) == 0)
			return buf + i;
	return NULL;
}
#endif

const char *
ks_rxlit_find(const char *lit, size_t litlen, const size_t rare[2],
    const char *buf, size_t n, size_t from)
{
	const char *p, *q, *start;
	size_t left;

	if (litlen == 0)
		return buf + from;
	if (n - from < litlen)
		return NULL;
#ifdef __SSE2__
	if (litlen > 1)
		return find_pair(lit, litlen, rare, buf, n, from);
#endif
	p = buf + from + rare[0];
	left = n - from - litlen + 1;
	while (left > 0 && (q = memchr(p, lit[rare[0]], left)) != NULL) {
		start = q - rare[0];
		if (memcmp(start, lit, litlen) == 0)
			return start;
		left -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return NULL;
}
