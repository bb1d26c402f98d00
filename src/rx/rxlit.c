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

size_t
ks_rxlit_rarest(const char *lit, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (commonness((unsigned char)lit[i]) <
		    commonness((unsigned char)lit[best]))
			best = i;
	return best;
}

const char *
ks_rxlit_find(const char *lit, size_t litlen, size_t rare, const char *buf,
    size_t n, size_t from)
{
	const char *p, *q, *start;
	size_t left;

	if (litlen == 0)
		return buf + from;
	if (n - from < litlen)
		return NULL;
	p = buf + from + rare;
	left = n - from - litlen + 1;
	while (left > 0 && (q = memchr(p, lit[rare], left)) != NULL) {
		start = q - rare;
		if (memcmp(start, lit, litlen) == 0)
			return start;
		left -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return NULL;
}
