/*
 * rxsize: regex 1.7's refusal of patterns that compile to more than
 * 10 MiB, estimated. Its byte-level program is the largest, where a
 * class costs instructions for its UTF-8 sequences, so a \w{100} is
 * refused though a{100000} is not.
 */
#include "rxsize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rxclass.h"
#include "rxprop.h"

static size_t
u8len(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/*
 * regex 1.7 refuses a pattern whose compiled program passes 10 MiB; its
 * byte-level program is the largest, where a class costs instructions
 * for its UTF-8 sequences. Costs in bytes per copy, measured on the
 * reference crates (\w{89} is the most it takes) or, for other
 * classes, fitted on their ranges: 32 bytes an instruction, about one
 * per ASCII or two-byte range and five per longer one.
 */
#define CLASS_MAX 120000.0		/* above every class measured */
#define MEASURED 32			/* classes measured per pattern */

struct sizing {
	bool exact;			/* measure classes, else assume max */
	size_t n;
	char *text[MEASURED];
	double bytes[MEASURED];
};

static double
perl_cost(const struct ks_rx_node *n)
{
	if (n->flags & KS_RX_FA)
		return n->neg ? 1100 : n->sub == 'w' ? 224 :
		    n->sub == 'd' ? 32 : 96;
	return n->sub == 'w' ? (n->neg ? 107000 : 116510) :
	    n->sub == 'd' ? (n->neg ? 19420 : 6690) : (n->neg ? 2530 : 1024);
}

/* Instructions for sorted ranges: the part of each range in each UTF-8
 * length; a long stretch of three- or four-byte characters needs a
 * branch for every lead byte. */
static double
ranges_cost(const uint32_t *r, size_t n)
{
	static const uint32_t lo[] = { 0, 0x80, 0x800, 0x10000, 0x110000 };
	static const double small[] = { 1, 1, 4.9, 4.9 };
	static const double big[] = { 1, 2, 17, 16 };
	double insts = 1;
	uint32_t a, b;

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 4; k++) {
			a = r[2 * i] > lo[k] ? r[2 * i] : lo[k];
			b = r[2 * i + 1] < lo[k + 1] - 1 ? r[2 * i + 1] :
			    lo[k + 1] - 1;
			if (a <= b)
				insts += b - a > 64 ? big[k] : small[k];
		}
	return 32 * insts;
}

static double
class_cost(struct sizing *z, const struct ks_rx_node *n)
{
	struct ks_rxbuf b = { 0 };
	uint32_t *r = NULL;
	size_t k = 0, i;
	unsigned what;
	const char *why;
	double c = CLASS_MAX;

	if (n->kind == KS_RX_PERL)
		return perl_cost(n);
	if (!z->exact)
		return n->flags & KS_RX_FA ? 96 : CLASS_MAX;
	ks_rxbuf_str(&b, (n->flags & KS_RX_FI) ? "(?i)" : "");
	if (ks_rxclass_emit(n, &b, &what, &why) < 0 || b.nomem)
		goto out;
	for (i = 0; i < z->n && strcmp(z->text[i], b.s) != 0; i++)
		;
	if (i < z->n) {
		c = z->bytes[i];
		goto out;
	}
	if (z->n == MEASURED || ks_rxprop_runs(b.s, &r, &k) < 0)
		goto out;
	c = z->bytes[z->n] = ranges_cost(r, k);
	z->text[z->n++] = b.s;
	b.s = NULL;
out:
	free(r);
	free(b.s);
	return c;
}

static double
atom_cost(struct sizing *z, const struct ks_rx_node *n)
{
	switch (n->kind) {
	case KS_RX_LIT:
		if (!(n->flags & KS_RX_FI) || (n->lo < 0x80 &&
		    ((n->lo | 0x20) < 'a' || (n->lo | 0x20) > 'z')))
			return 32.0 * (double)u8len(n->lo);
		return n->lo >= 0x80 ? 160 : (n->lo | 0x20) == 'k' ||
		    (n->lo | 0x20) == 's' ? 224 : 96;
	case KS_RX_DOT:
		return n->flags & KS_RX_FS ? 1120 : 1184;
	case KS_RX_ASSERT:
		return 32;
	default:
		return class_cost(z, n);
	}
}

static double
cost(struct sizing *z, const struct ks_rx_node *n)
{
	double c = 0, k;

	switch (n->kind) {
	case KS_RX_EMPTY:
	case KS_RX_FLAGS:
		return 0;
	case KS_RX_GROUP:
		return cost(z, n->kid);
	case KS_RX_CONCAT:
	case KS_RX_ALT:
		for (const struct ks_rx_node *x = n->kid; x; x = x->next)
			c += cost(z, x) + (n->kind == KS_RX_ALT && x != n->kid ?
			    32 : 0);
		return c;
	case KS_RX_REPEAT:
		k = cost(z, n->kid);
		c = k * n->lo;
		if (n->hi == KS_RX_INF)
			return c + k + 32;
		return c + (k + 32) * ((double)n->hi - n->lo);
	default:
		return atom_cost(z, n);
	}
}

bool
ks_rxsize_too_big(const struct ks_rx_node *root)
{
	struct sizing z = { .exact = false };
	bool big;

	if (cost(&z, root) <= KS_RXSIZE_LIMIT)
		return false;
	z.exact = true;
	big = cost(&z, root) > KS_RXSIZE_LIMIT;
	for (size_t i = 0; i < z.n; i++)
		free(z.text[i]);
	return big;
}

