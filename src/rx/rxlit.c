/*
 * rxlit: the literals every match of a pattern holds, for grep's
 * prefilter: the longest run of literal characters of a concatenation
 * (through groups and repetitions that happen at least once), or one
 * run per branch of an alternation. A run under (?i) is marked so; the
 * caller searches it caselessly.
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
