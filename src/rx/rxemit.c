/*
 * rxemit: the writer of rx.c, a parsed Rust regex written out for PCRE2:
 * ^ $ \A \z spelt as Rust means them, \b and \B from Rust's \w, (?U)
 * and (?x) applied while writing, classes through rxclass, (?i) carried
 * as PCRE2 (?i)/(?-i) switches around the atoms it covers, repetitions
 * cut to PCRE2's largest count.
 */
#include "rxemit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxclass.h"

#define QMAX 65535u		/* PCRE2's largest repetition count */


static bool emit_class(struct em *e, const struct ks_rx_node *n);

void
ks_rxem_str(struct em *e, const char *s)
{
	ks_rxbuf_str(&e->out, s);
}

static void
set_ci(struct em *e, bool ci)
{
	if (e->ci != ci)
		ks_rxem_str(e, ci ? "(?i)" : "(?-i)");
	e->ci = ci;
}

/* A PCRE2 group restores the (?i) state of its opening. */
static bool
grp_open(struct em *e, const char *s)
{
	ks_rxem_str(e, s);
	return e->ci;
}

static void
grp_close(struct em *e, bool ci)
{
	ks_rxem_str(e, ")");
	e->ci = ci;
}

void
ks_rxem_lit(struct em *e, const struct ks_rx_node *n)
{
	uint32_t c = n->lo;
	bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';

	if ((n->flags & KS_RX_FA) && c > 0x7f) {
		e->why = "Unicode not allowed here";
		return;
	}
	if ((n->flags & (KS_RX_FA | KS_RX_FI)) == (KS_RX_FA | KS_RX_FI) &&
	    letter) {
		set_ci(e, false);	/* ASCII folding: no Kelvin sign */
		ks_rxem_str(e, "[");
		ks_rxbuf_cp(&e->out, c & ~0x20u);
		ks_rxbuf_cp(&e->out, c | 0x20);
		ks_rxem_str(e, "]");
		return;
	}
	if (letter || c > 0x7f)
		set_ci(e, (n->flags & KS_RX_FI) != 0);
	ks_rxbuf_cp(&e->out, c);
}

/* a|b|c as [abc]: one item, which PCRE2 repeats without copying. */
static bool
emit_charset(struct em *e, const struct ks_rx_node *n)
{
	const struct ks_rx_node *k;

	if (n->kid == NULL)
		return false;
	for (k = n->kid; k != NULL; k = k->next)
		if (k->kind != KS_RX_LIT || k->flags != n->kid->flags ||
		    (k->flags & KS_RX_FA) || k->lo > 0x7f)
			return false;
	set_ci(e, (n->kid->flags & KS_RX_FI) != 0);
	ks_rxem_str(e, "[");
	for (k = n->kid; k != NULL; k = k->next)
		ks_rxbuf_cp(&e->out, k->lo);
	ks_rxem_str(e, "]");
	return true;
}

static void
emit_assert(struct em *e, const struct ks_rx_node *n)
{
	bool m = n->flags & KS_RX_FM, a = n->flags & KS_RX_FA;

	switch (n->sub) {
	case KS_RX_A_LINE_START:
		ks_rxem_str(e, m ? "(?<![^\\n])" : "\\A");
		break;
	case KS_RX_A_LINE_END:
		ks_rxem_str(e, m ? "(?![^\\n])" : "\\z");
		break;
	case KS_RX_A_TEXT_START:
		ks_rxem_str(e, "\\A");
		break;
	case KS_RX_A_TEXT_END:
		ks_rxem_str(e, "\\z");
		break;
	case KS_RX_A_WORD:
		ks_rxem_str(e, a ? "(?:(?<=[" KS_RXCLASS_AWORD "])(?!["
		    KS_RXCLASS_AWORD "])|(?<![" KS_RXCLASS_AWORD "])(?=["
		    KS_RXCLASS_AWORD "]))" :
		    "(?:(?<=[" KS_RXCLASS_WORD "])(?![" KS_RXCLASS_WORD
		    "])|(?<![" KS_RXCLASS_WORD "])(?=[" KS_RXCLASS_WORD "]))");
		break;
	default:
		if (a)
			e->why = "pattern can match invalid UTF-8";
		ks_rxem_str(e, "(?:(?<=[" KS_RXCLASS_WORD "])(?=[" KS_RXCLASS_WORD
		    "])|(?<![" KS_RXCLASS_WORD "])(?![" KS_RXCLASS_WORD "]))");
	}
}

static void
quant(struct em *e, uint32_t lo, uint32_t hi, bool greedy)
{
	char q[48];

	if (lo == 0 && hi == KS_RX_INF)
		strcpy(q, "*");
	else if (lo == 1 && hi == KS_RX_INF)
		strcpy(q, "+");
	else if (lo == 0 && hi == 1)
		strcpy(q, "?");
	else if (hi == KS_RX_INF)
		snprintf(q, sizeof(q), "{%u,}", lo);
	else if (lo == hi)
		snprintf(q, sizeof(q), "{%u}", lo);
	else
		snprintf(q, sizeof(q), "{%u,%u}", lo, hi);
	ks_rxem_str(e, q);
	if (!greedy)
		ks_rxem_str(e, "?");
}

/* X{lo,hi}: a single character or bracket is repeated as it is (a
 * group would be copied by PCRE2 for every count). */
static void
operand(struct em *e, const struct ks_rx_node *n, uint32_t lo, uint32_t hi,
    bool greedy)
{
	size_t mark = e->out.n;
	bool ci = e->ci, atom = false;

	while (n->kind == KS_RX_GROUP)	/* ours never capture */
		n = n->kid;
	if (n->kind == KS_RX_LIT || n->kind == KS_RX_DOT)
		ks_rxem_emit(e, n), atom = true;
	else if (n->kind == KS_RX_ALT)
		atom = emit_charset(e, n);
	else if (n->kind >= KS_RX_RANGE)
		atom = emit_class(e, n);
	if (!atom) {
		e->out.n = mark;
		e->ci = ci;
		ci = grp_open(e, "(?:");
		ks_rxem_emit(e, n);
		grp_close(e, ci);
	}
	quant(e, lo, hi, greedy);
}

/* x{n*B} as (?:x{B}){n}: only whether a line matches is asked, so the
 * split cannot change an answer. */
static void
blocks(struct em *e, const struct ks_rx_node *n, uint32_t count, bool opt,
    bool greedy)
{
	bool ci;

	if (count / QMAX > QMAX) {
		e->why = "repetition count too large";
		return;
	}
	if (count / QMAX > 0) {
		ci = grp_open(e, "(?:");
		operand(e, n, opt ? 0 : QMAX, QMAX, greedy);
		grp_close(e, ci);
		quant(e, count / QMAX, count / QMAX, greedy);
	}
	if (count % QMAX > 0)
		operand(e, n, opt ? 0 : count % QMAX, count % QMAX, greedy);
}

/*
 * (X*)*, (X+)*, (X?)*, (X+)+ and the like match the same lines as X* or
 * X+; written merged, PCRE2 does not try every split of a run.
 */
static const struct ks_rx_node *
merge(const struct ks_rx_node *kid, uint32_t *lo)
{
	const struct ks_rx_node *k;

	for (;;) {
		for (k = kid; k->kind == KS_RX_GROUP; k = k->kid)
			;
		if (k->kind != KS_RX_REPEAT || k->lo > 1 ||
		    (k->hi != KS_RX_INF && !(k->lo == 0 && k->hi == 1)))
			return kid;
		if (k->lo == 0)
			*lo = 0;
		kid = k->kid;
	}
}

static bool
zero_width(const struct ks_rx_node *n)
{
	while (n->kind == KS_RX_GROUP)
		n = n->kid;
	return n->kind == KS_RX_ASSERT || n->kind == KS_RX_EMPTY;
}

static void
emit_repeat(struct em *e, const struct ks_rx_node *n)
{
	bool greedy = n->greedy != ((n->flags & KS_RX_FU) != 0);
	const struct ks_rx_node *kid = n->kid;
	uint32_t lo = n->lo;

	if (n->hi == KS_RX_INF)
		kid = merge(kid, &lo);
	if (zero_width(kid)) {		/* \b{1000} is \b, \b* is nothing */
		if (lo > 0)
			ks_rxem_emit(e, kid);
		return;
	}
	if (lo <= QMAX && (n->hi == KS_RX_INF || n->hi <= QMAX)) {
		operand(e, kid, lo, n->hi, greedy);
		return;
	}
	blocks(e, kid, lo, false, greedy);
	if (n->hi == KS_RX_INF)
		operand(e, kid, 0, KS_RX_INF, greedy);
	else
		blocks(e, kid, n->hi - lo, true, greedy);
}

/* Returns whether the class was written as one bracket. */
static bool
emit_class(struct em *e, const struct ks_rx_node *n)
{
	struct ks_rx_node **v;
	unsigned what;

	set_ci(e, (n->flags & (KS_RX_FI | KS_RX_FA)) == KS_RX_FI);
	if (ks_rxclass_emit(n, &e->out, &what, &e->why) < 0)
		return false;
	if (!(what & KS_RXCLASS_EMPTY))
		return what & KS_RXCLASS_ATOM;
	if (e->nscan == e->capscan) {
		e->capscan = e->capscan ? 2 * e->capscan : 4;
		if ((v = realloc(e->scan, e->capscan *
		    sizeof(struct ks_rx_node *))) == NULL) {
			e->out.nomem = true;
			return false;
		}
		e->scan = v;
	}
	e->scan[e->nscan++] = (struct ks_rx_node *)n;
	return what & KS_RXCLASS_ATOM;
}

void
ks_rxem_emit(struct em *e, const struct ks_rx_node *n)
{
	bool ci;

	if (e->why != NULL || e->out.nomem)
		return;
	switch (n->kind) {
	case KS_RX_EMPTY:
	case KS_RX_FLAGS:
		break;
	case KS_RX_LIT:
		ks_rxem_lit(e, n);
		break;
	case KS_RX_DOT:
		if (n->flags & KS_RX_FA)
			e->why = "pattern can match invalid UTF-8";
		ks_rxem_str(e, n->flags & KS_RX_FS ? "[\\s\\S]" : ".");
		break;
	case KS_RX_ASSERT:
		emit_assert(e, n);
		break;
	case KS_RX_REPEAT:
		emit_repeat(e, n);
		break;
	case KS_RX_GROUP:
		ci = grp_open(e, "(?:");
		ks_rxem_emit(e, n->kid);
		grp_close(e, ci);
		break;
	case KS_RX_CONCAT:
	case KS_RX_ALT:
		if (n->kind == KS_RX_ALT && emit_charset(e, n))
			break;
		ci = n->kind == KS_RX_ALT ? grp_open(e, "(?:") : e->ci;
		for (const struct ks_rx_node *k = n->kid; k; k = k->next) {
			if (k != n->kid && n->kind == KS_RX_ALT)
				ks_rxem_str(e, "|");
			ks_rxem_emit(e, k);
		}
		if (n->kind == KS_RX_ALT)
			grp_close(e, ci);
		break;
	default:
		(void)emit_class(e, n);
	}
}

size_t
ks_rx_u8enc(uint32_t c, char *u)
{
	if (c < 0x80) {
		u[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	u[0] = (char)(0xf0 | c >> 18);
	u[1] = (char)(0x80 | (c >> 12 & 0x3f));
	u[2] = (char)(0x80 | (c >> 6 & 0x3f));
	u[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}
