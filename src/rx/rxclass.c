/*
 * rxclass: character classes, the part of Rust's syntax furthest from
 * PCRE2's. Unicode classes become PCRE2 expressions (see rxclass.h);
 * (?-u) classes become exact byte sets, checked and folded the way
 * regex-syntax's translator checks and folds them.
 */
#include "rxclass.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxlex.h"
#include "rxprop.h"
#include "rxprop_data.h"

#define INVALID_UTF8 "pattern can match invalid UTF-8"
#define NO_UNICODE "Unicode not allowed here"


void
ks_rxbuf_add(struct ks_rxbuf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->nomem)
		return;
	if (b->n + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (b->n + n + 1 > cap)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->nomem = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

void
ks_rxbuf_str(struct ks_rxbuf *b, const char *s)
{
	ks_rxbuf_add(b, s, strlen(s));
}

void
ks_rxbuf_cp(struct ks_rxbuf *b, unsigned long c)
{
	char tmp[16];

	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z')) {
		tmp[0] = (char)c;
		ks_rxbuf_add(b, tmp, 1);
		return;
	}
	snprintf(tmp, sizeof(tmp), "\\x{%lx}", c);
	ks_rxbuf_str(b, tmp);
}

/* A range for inside PCRE2 brackets; surrogates cannot be written. */
static void
add_range(struct ks_rxbuf *b, uint32_t lo, uint32_t hi)
{
	if (lo >= 0xd800 && lo <= 0xdfff)
		lo = 0xe000;
	if (hi >= 0xd800 && hi <= 0xdfff)
		hi = 0xd7ff;
	if (lo > hi)
		return;
	ks_rxbuf_cp(b, lo);
	if (hi != lo) {
		ks_rxbuf_str(b, "-");
		ks_rxbuf_cp(b, hi);
	}
}

/* Sorted, disjoint ranges (pairs), or their complement. */
static void
add_ranges(struct ks_rxbuf *b, const uint32_t *r, size_t n, bool neg)
{
	uint32_t next = 0;

	for (size_t i = 0; i < n; i++) {
		if (!neg)
			add_range(b, r[2 * i], r[2 * i + 1]);
		else if (r[2 * i] > next)
			add_range(b, next, r[2 * i] - 1);
		next = r[2 * i + 1] + 1;
	}
	if (neg && next <= 0x10ffff)
		add_range(b, next, 0x10ffff);
}

/* The members of a union: what fits in PCRE2 brackets, and the rest as
 * alternatives. */
struct parts {
	struct ks_rxbuf simple, complex;
	bool maybe_empty;
	bool atom;		/* written as one bracket */
};

/*
 * A set of ranges, negated or not. Under (?i) Rust negates after folding
 * and so does PCRE2 for [^...], so a folded negation stays in brackets
 * of its own rather than becoming explicit complement ranges.
 */
static void
add_set(struct parts *c, const uint32_t *r, size_t n, bool neg, bool folded)
{
	if (!neg || !folded) {
		add_ranges(&c->simple, r, n, neg);
		return;
	}
	if (c->complex.n > 0)
		ks_rxbuf_str(&c->complex, "|");
	if (n == 0) {
		ks_rxbuf_str(&c->complex, "(?s:.)");
		return;
	}
	ks_rxbuf_str(&c->complex, "[^");
	add_ranges(&c->complex, r, n, false);
	ks_rxbuf_str(&c->complex, "]");
}

static void expr(const struct ks_rx_node *n, struct ks_rxbuf *b,
    struct parts *up);

static void
add_complex(struct parts *c, const struct ks_rx_node *n)
{
	if (c->complex.n > 0)
		ks_rxbuf_str(&c->complex, "|");
	expr(n, &c->complex, c);
}

/*
 * Under (?i) Rust folds a property's members; PCRE2 folds explicit
 * ranges but not \p{}, so the property goes in as its ranges.
 */
static void
add_prop_folded(const struct ks_rx_node *n, struct parts *c)
{
	const struct ks_rxprop *p = n->prop;
	uint32_t *r;
	size_t k;

	if (ks_rxprop_ranges(p, &r, &k) < 0) {
		c->simple.nomem = true;
		return;
	}
	add_set(c, r, k, p->kind == KS_RXPROP_ESC ? n->neg != p->neg : n->neg,
	    true);
	c->maybe_empty = true;
	free(r);
}

static void
add_prop(const struct ks_rx_node *n, struct parts *c)
{
	const struct ks_rxprop *p = n->prop;
	bool neg = n->neg != p->neg;

	if (n->flags & KS_RX_FI) {
		add_prop_folded(n, c);
		return;
	}
	switch (p->kind) {
	case KS_RXPROP_ESC:
		ks_rxbuf_str(&c->simple, neg ? "\\P{" : "\\p{");
		ks_rxbuf_str(&c->simple, p->name);
		ks_rxbuf_str(&c->simple, "}");
		c->maybe_empty |= neg;
		break;
	case KS_RXPROP_SET:
		add_set(c, p->set, p->nset, n->neg, false);
		break;
	case KS_RXPROP_EXPR:
		if (c->complex.n > 0)
			ks_rxbuf_str(&c->complex, "|");
		ks_rxbuf_str(&c->complex, n->neg ? "(?:(?!" : "");
		ks_rxbuf_str(&c->complex, p->expr);
		ks_rxbuf_str(&c->complex, n->neg ? ")(?s:.))" : "");
		c->maybe_empty |= n->neg;
		break;
	}
}

static void
add_perl(const struct ks_rx_node *n, struct parts *c)
{
	switch (n->sub) {
	case 'd':
		ks_rxbuf_str(&c->simple, n->neg ? "\\P{Nd}" : "\\p{Nd}");
		break;
	case 's':
		add_ranges(&c->simple, ks_set_white_space, sizeof(ks_set_white_space) /
		    sizeof(ks_set_white_space[0]) / 2, n->neg);
		break;
	default:
		if (n->neg)
			ks_rxbuf_str(&c->complex, c->complex.n > 0 ?
			    "|[^" KS_RXCLASS_WORD "]" : "[^" KS_RXCLASS_WORD "]");
		else
			ks_rxbuf_str(&c->simple, KS_RXCLASS_WORD);
	}
}

/* Adds the members of class n to c, as one union. */
static void
items(const struct ks_rx_node *n, struct parts *c)
{
	const unsigned char *r;
	uint32_t wide[16] = { 0 };
	size_t k;

	switch (n->kind) {
	case KS_RX_RANGE:
		add_range(&c->simple, n->lo, n->hi);
		break;
	case KS_RX_PERL:
		add_perl(n, c);
		break;
	case KS_RX_ASCII:
		k = ks_rxlex_ascii(n->sub, &r);
		for (size_t i = 0; i < 2 * k; i++)
			wide[i] = r[i];
		add_set(c, wide, k, n->neg, n->flags & KS_RX_FI);
		break;
	case KS_RX_PROP:
		add_prop(n, c);
		break;
	case KS_RX_UNION:
		for (const struct ks_rx_node *k2 = n->kid; k2; k2 = k2->next)
			items(k2, c);
		break;
	case KS_RX_BRACKET:
		if (!n->neg) {
			items(n->kid, c);
			break;
		}
		/* FALLTHROUGH */
	default:			/* a negated bracket, an operation */
		add_complex(c, n);
	}
}

/* Writes the union c (negated or not) as one expression. */
static void
write_union(struct parts *c, bool neg, struct ks_rxbuf *b)
{
	if (c->complex.n == 0 && c->simple.n == 0) {
		ks_rxbuf_str(b, neg ? "(?s:.)" : "(?!)");
		return;
	}
	if (c->complex.n == 0) {
		ks_rxbuf_str(b, neg ? "[^" : "[");
		ks_rxbuf_add(b, c->simple.s, c->simple.n);
		ks_rxbuf_str(b, "]");
		return;
	}
	ks_rxbuf_str(b, neg ? "(?:(?!(?:" : "(?:");
	if (c->simple.n > 0) {
		ks_rxbuf_str(b, "[");
		ks_rxbuf_add(b, c->simple.s, c->simple.n);
		ks_rxbuf_str(b, "]|");
	}
	ks_rxbuf_add(b, c->complex.s, c->complex.n);
	ks_rxbuf_str(b, neg ? "))(?s:.))" : ")");
}

/* Writes class n as one expression; up collects its flags. */
static void
expr(const struct ks_rx_node *n, struct ks_rxbuf *b, struct parts *up)
{
	struct parts c = { { 0 }, { 0 }, false, false };
	struct ks_rxbuf x = { 0 }, y = { 0 };

	if (n->kind == KS_RX_OP) {
		expr(n->kid, &x, up);
		expr(n->kid->next, &y, up);
		ks_rxbuf_str(b, n->sub == '&' ? "(?:(?=" : "(?:(?!");
		ks_rxbuf_add(b, n->sub == '&' ? x.s : y.s,
		    n->sub == '&' ? x.n : y.n);
		ks_rxbuf_str(b, ")");
		ks_rxbuf_add(b, n->sub == '&' ? y.s : x.s,
		    n->sub == '&' ? y.n : x.n);
		if (n->sub == '~') {
			ks_rxbuf_str(b, "|(?!");
			ks_rxbuf_add(b, x.s, x.n);
			ks_rxbuf_str(b, ")");
			ks_rxbuf_add(b, y.s, y.n);
		}
		ks_rxbuf_str(b, ")");
		up->maybe_empty = true;
		up->atom = false;
	} else {
		items(n->kind == KS_RX_BRACKET ? n->kid : n, &c);
		write_union(&c, n->kind == KS_RX_BRACKET && n->neg, b);
		up->maybe_empty |= c.maybe_empty ||
		    (n->kind == KS_RX_BRACKET && n->neg);
		up->atom = c.complex.n == 0 && c.simple.n > 0;
	}
	b->nomem |= x.nomem || y.nomem || c.simple.nomem || c.complex.nomem;
	free(x.s);
	free(y.s);
	free(c.simple.s);
	free(c.complex.s);
}

/* A byte class, as regex-syntax's ClassBytes under (?-u). */
struct bset {
	uint64_t w[4];
};

static void
bset_range(struct bset *s, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi && c < 256; c++)
		s->w[c / 64] |= (uint64_t)1 << (c % 64);
}

static bool
bset_has(const struct bset *s, unsigned c)
{
	return s->w[c / 64] >> (c % 64) & 1;
}

static void
bset_fold(struct bset *s)
{
	for (unsigned c = 'A'; c <= 'Z'; c++)
		if (bset_has(s, c) || bset_has(s, c + 32))
			bset_range(s, c, c), bset_range(s, c + 32, c + 32);
}

static void
bset_not(struct bset *s)
{
	for (int i = 0; i < 4; i++)
		s->w[i] = ~s->w[i];
}

/* regex-syntax's bytes_fold_and_negate, with its check. */
static int
fold_and_negate(struct bset *s, unsigned flags, bool neg, const char **why)
{
	if (flags & KS_RX_FI)
		bset_fold(s);
	if (neg)
		bset_not(s);
	if (s->w[2] != 0 || s->w[3] != 0) {
		*why = INVALID_UTF8;
		return -1;
	}
	return 0;
}

static int bytes(const struct ks_rx_node *n, struct bset *s,
    const char **why);

static int
bytes_op(const struct ks_rx_node *n, struct bset *s, const char **why)
{
	struct bset a = { { 0 } }, b = { { 0 } };

	if (bytes(n->kid, &a, why) < 0 || bytes(n->kid->next, &b, why) < 0)
		return -1;
	if (n->flags & KS_RX_FI) {
		bset_fold(&a);
		bset_fold(&b);
	}
	for (int i = 0; i < 4; i++)
		s->w[i] |= n->sub == '&' ? a.w[i] & b.w[i] :
		    n->sub == '-' ? a.w[i] & ~b.w[i] : a.w[i] ^ b.w[i];
	return 0;
}

/* Adds class n (under (?-u)) to s. */
static int
bytes(const struct ks_rx_node *n, struct bset *s, const char **why)
{
	const unsigned char *r;
	struct bset t = { { 0 } };
	size_t k;
	int ascii;

	switch (n->kind) {
	case KS_RX_RANGE:
		if (n->hi > 0x7f) {
			*why = NO_UNICODE;
			return -1;
		}
		bset_range(s, n->lo, n->hi);
		return 0;
	case KS_RX_PERL:
	case KS_RX_ASCII:
		ascii = n->kind == KS_RX_ASCII ? n->sub : n->sub == 'd' ? 5 :
		    n->sub == 's' ? 10 : 12;	/* digit, space, word */
		k = ks_rxlex_ascii(ascii, &r);
		for (size_t i = 0; i < k; i++)
			bset_range(&t, r[2 * i], r[2 * i + 1]);
		if (n->kind == KS_RX_PERL) {
			if (n->neg)
				bset_not(&t);
		} else if (fold_and_negate(&t, n->flags, n->neg, why) < 0)
			return -1;
		break;
	case KS_RX_PROP:
		*why = NO_UNICODE;
		return -1;
	case KS_RX_UNION:
		for (const struct ks_rx_node *c = n->kid; c; c = c->next)
			if (bytes(c, s, why) < 0)
				return -1;
		return 0;
	case KS_RX_BRACKET:
		if (bytes(n->kid, &t, why) < 0 ||
		    fold_and_negate(&t, n->flags, n->neg, why) < 0)
			return -1;
		break;
	default:
		if (bytes_op(n, &t, why) < 0)
			return -1;
	}
	for (int i = 0; i < 4; i++)
		s->w[i] |= t.w[i];
	return 0;
}

/*
 * A lone \W, \S or \D under (?-u) is a byte class reaching past ASCII;
 * regex 1.7 accepts it and lets it match one byte of a character. Here
 * it matches one character that is not an ASCII word (space, digit)
 * character: the same answer except where a pattern counts the bytes of
 * a character.
 */
static int
emit_bytes(const struct ks_rx_node *n, struct ks_rxbuf *out, const char **why)
{
	struct bset s = { { 0 } };
	bool neg = n->kind == KS_RX_PERL && n->neg;
	unsigned c, end;

	if (bytes(n, &s, why) < 0)
		return -1;
	if (neg)
		bset_not(&s);
	if (s.w[0] == 0 && s.w[1] == 0 && !neg) {
		*why = "empty character classes are not allowed";
		return -1;
	}
	ks_rxbuf_str(out, neg ? "[^" : "[");
	for (c = 0; c < 128; c = end + 1) {
		if (!bset_has(&s, c)) {
			end = c;
			continue;
		}
		for (end = c; end + 1 < 128 && bset_has(&s, end + 1); end++)
			;
		add_range(out, c, end);
	}
	ks_rxbuf_str(out, "]");
	return 0;
}

int
ks_rxclass_emit(const struct ks_rx_node *n, struct ks_rxbuf *out,
    unsigned *what, const char **why)
{
	struct parts top = { { 0 }, { 0 }, false, false };

	*what = KS_RXCLASS_ATOM;
	if (n->flags & KS_RX_FA)
		return emit_bytes(n, out, why);
	expr(n, out, &top);
	*what = (top.maybe_empty ? KS_RXCLASS_EMPTY : 0) |
	    (top.atom ? KS_RXCLASS_ATOM : 0);
	return 0;
}
