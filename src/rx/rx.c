/*
 * rx: a Rust regex (regex 1.7) compiled for PCRE2.
 *
 * The pattern is parsed with Rust's grammar (rxparse) and written out
 * again for PCRE2 with nothing left to PCRE2's own reading of the
 * differences: ^ $ \A \z spelt as Rust means them, \b and \B from Rust's
 * \w, (?U) and (?x) applied while writing, classes through rxclass, and
 * (?i) carried as PCRE2 (?i)/(?-i) switches around the atoms it covers
 * (PCRE2's caseless matching uses Unicode's simple case folding, as Rust
 * does), or as explicit ASCII classes under (?-u). Backreferences and
 * lookaround are rejected as Rust rejects them, so a pattern means one
 * thing here and in the reference.
 *
 * PCRE2 backtracks where Rust runs in linear time, so every match runs
 * under a match limit and a bounded JIT stack; a JIT stack overflow is
 * retried once by the interpreter under a heap limit.
 */
#include "rx.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rxclass.h"
#include "rxlit.h"
#include "rxparse.h"
#include "rxsize.h"

#define QMAX 65535u		/* PCRE2's largest repetition count */

struct ks_rx {
	pcre2_code *code;
	pcre2_code *litcode;		/* a caseless required literal */
	char *lit;			/* a case-sensitive one */
	size_t litlen;
	size_t rare[2];			/* where lit's rarest bytes are */
	pcre2_match_context *mctx;
	pcre2_jit_stack *stack;
	pcre2_match_data *md;
	char *text;			/* the PCRE2 pattern */
};

/* The writer: the text, PCRE2's (?i) state where it ends, the error. */
struct em {
	struct ks_rxbuf out;
	bool ci;
	const char *why;
	struct ks_rx_node **scan;	/* classes to check for emptiness */
	size_t nscan, capscan;
};

static void emit(struct em *e, const struct ks_rx_node *n);
static bool emit_class(struct em *e, const struct ks_rx_node *n);

static void
str(struct em *e, const char *s)
{
	ks_rxbuf_str(&e->out, s);
}

static void
set_ci(struct em *e, bool ci)
{
	if (e->ci != ci)
		str(e, ci ? "(?i)" : "(?-i)");
	e->ci = ci;
}

/* A PCRE2 group restores the (?i) state of its opening. */
static bool
grp_open(struct em *e, const char *s)
{
	str(e, s);
	return e->ci;
}

static void
grp_close(struct em *e, bool ci)
{
	str(e, ")");
	e->ci = ci;
}

static void
emit_lit(struct em *e, const struct ks_rx_node *n)
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
		str(e, "[");
		ks_rxbuf_cp(&e->out, c & ~0x20u);
		ks_rxbuf_cp(&e->out, c | 0x20);
		str(e, "]");
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
	str(e, "[");
	for (k = n->kid; k != NULL; k = k->next)
		ks_rxbuf_cp(&e->out, k->lo);
	str(e, "]");
	return true;
}

static void
emit_assert(struct em *e, const struct ks_rx_node *n)
{
	bool m = n->flags & KS_RX_FM, a = n->flags & KS_RX_FA;

	switch (n->sub) {
	case KS_RX_A_LINE_START:
		str(e, m ? "(?<![^\\n])" : "\\A");
		break;
	case KS_RX_A_LINE_END:
		str(e, m ? "(?![^\\n])" : "\\z");
		break;
	case KS_RX_A_TEXT_START:
		str(e, "\\A");
		break;
	case KS_RX_A_TEXT_END:
		str(e, "\\z");
		break;
	case KS_RX_A_WORD:
		str(e, a ? "(?:(?<=[" KS_RXCLASS_AWORD "])(?!["
		    KS_RXCLASS_AWORD "])|(?<![" KS_RXCLASS_AWORD "])(?=["
		    KS_RXCLASS_AWORD "]))" :
		    "(?:(?<=[" KS_RXCLASS_WORD "])(?![" KS_RXCLASS_WORD
		    "])|(?<![" KS_RXCLASS_WORD "])(?=[" KS_RXCLASS_WORD "]))");
		break;
	default:
		if (a)
			e->why = "pattern can match invalid UTF-8";
		str(e, "(?:(?<=[" KS_RXCLASS_WORD "])(?=[" KS_RXCLASS_WORD
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
	str(e, q);
	if (!greedy)
		str(e, "?");
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
		emit(e, n), atom = true;
	else if (n->kind == KS_RX_ALT)
		atom = emit_charset(e, n);
	else if (n->kind >= KS_RX_RANGE)
		atom = emit_class(e, n);
	if (!atom) {
		e->out.n = mark;
		e->ci = ci;
		ci = grp_open(e, "(?:");
		emit(e, n);
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
			emit(e, kid);
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

static void
emit(struct em *e, const struct ks_rx_node *n)
{
	bool ci;

	if (e->why != NULL || e->out.nomem)
		return;
	switch (n->kind) {
	case KS_RX_EMPTY:
	case KS_RX_FLAGS:
		break;
	case KS_RX_LIT:
		emit_lit(e, n);
		break;
	case KS_RX_DOT:
		if (n->flags & KS_RX_FA)
			e->why = "pattern can match invalid UTF-8";
		str(e, n->flags & KS_RX_FS ? "[\\s\\S]" : ".");
		break;
	case KS_RX_ASSERT:
		emit_assert(e, n);
		break;
	case KS_RX_REPEAT:
		emit_repeat(e, n);
		break;
	case KS_RX_GROUP:
		ci = grp_open(e, "(?:");
		emit(e, n->kid);
		grp_close(e, ci);
		break;
	case KS_RX_CONCAT:
	case KS_RX_ALT:
		if (n->kind == KS_RX_ALT && emit_charset(e, n))
			break;
		ci = n->kind == KS_RX_ALT ? grp_open(e, "(?:") : e->ci;
		for (const struct ks_rx_node *k = n->kid; k; k = k->next) {
			if (k != n->kid && n->kind == KS_RX_ALT)
				str(e, "|");
			emit(e, k);
		}
		if (n->kind == KS_RX_ALT)
			grp_close(e, ci);
		break;
	default:
		(void)emit_class(e, n);
	}
}

static size_t
u8enc(uint32_t c, char *u)
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

static pcre2_code *
pcre(const char *text, size_t len, char *why, size_t whylen)
{
	pcre2_compile_context *cc;
	pcre2_code *code = NULL;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int ec;

	if ((cc = pcre2_compile_context_create(NULL)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	/* Rust allows 250 levels; a translated level can take three. */
	pcre2_set_parens_nest_limit(cc, 1000);
	code = pcre2_compile((PCRE2_SPTR)text, len, PCRE2_UTF | PCRE2_UCP |
	    PCRE2_NO_UTF_CHECK, &ec, &off, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(why, whylen, "PCRE2 cannot run this pattern: %s", msg);
		return NULL;
	}
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);	/* else interpreted */
	return code;
}

/* Rust rejects a class that matches nothing: look for a member. */
static bool
nonempty(const struct ks_rx_node *n, struct ks_rx *rx, char *why,
    size_t whylen)
{
	struct ks_rxbuf b = { 0 }, chunk = { 0 };
	pcre2_code *code = NULL;
	const char *w;
	unsigned what;
	bool found = false;
	int rc;

	ks_rxbuf_str(&b, (n->flags & KS_RX_FI) ? "(?i)(?:" : "(?:");
	if (ks_rxclass_emit(n, &b, &what, &w) < 0)
		goto out;
	ks_rxbuf_str(&b, ")");
	if (b.nomem || (code = pcre(b.s, b.n, why, whylen)) == NULL)
		goto out;
	for (uint32_t c = 0; c <= 0x10ffff && !found; ) {
		chunk.n = 0;
		for (; c <= 0x10ffff && chunk.n < 65536; c++) {
			char u[4];

			if (c < 0xd800 || c > 0xdfff)
				ks_rxbuf_add(&chunk, u, u8enc(c, u));
		}
		rc = pcre2_match(code, (PCRE2_SPTR)chunk.s, chunk.n, 0,
		    PCRE2_NO_UTF_CHECK, rx->md, NULL);
		found = rc >= 0 || chunk.nomem;
	}
	if (!found)
		snprintf(why, whylen, "empty character classes are not "
		    "allowed");
out:
	pcre2_code_free(code);
	free(b.s);
	free(chunk.s);
	return found;
}

/* The match machinery, the pattern, and the emptiness checks. */
static int
rx_setup(struct ks_rx *rx, struct em *e, char *why, size_t whylen)
{
	if ((rx->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (rx->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (rx->stack = pcre2_jit_stack_create((size_t)32 * 1024,
	    (size_t)KS_RX_JIT_STACK_MAX, NULL)) == NULL)
		return -ENOMEM;
	pcre2_set_match_limit(rx->mctx, KS_RX_MATCH_LIMIT);
	pcre2_set_heap_limit(rx->mctx, KS_RX_HEAP_LIMIT_KIB);
	pcre2_jit_stack_assign(rx->mctx, NULL, rx->stack);
	for (size_t i = 0; i < e->nscan; i++)
		if (!nonempty(e->scan[i], rx, why, whylen))
			return -1;
	if ((rx->code = pcre(e->out.s, e->out.n, why, whylen)) == NULL)
		return -1;
	return 0;
}

/* The prefilter: memchr and a compare for one case-sensitive run,
 * PCRE2 else. */
static int
rx_literal(struct ks_rx *rx, const struct ks_rxlit *l, char *why, size_t whylen)
{
	struct em e = { { 0 }, false, NULL, NULL, 0, 0 };
	const struct ks_rx_node *k;
	size_t i, j;

	if (l->n == 0)
		return 0;
	if (l->n == 1 && !l->ci) {
		if ((rx->lit = malloc(4 * l->len[0])) == NULL)
			return -ENOMEM;
		for (j = 0, k = l->first[0]; j < l->len[0]; j++, k = k->next)
			rx->litlen += u8enc(k->lo, rx->lit + rx->litlen);
		ks_rxlit_rarest(rx->lit, rx->litlen, rx->rare);
		return 0;
	}
	str(&e, "(?:");
	for (i = 0; i < l->n; i++) {
		str(&e, i > 0 ? "|" : "");
		for (j = 0, k = l->first[i]; j < l->len[i]; j++, k = k->next)
			emit_lit(&e, k);
	}
	str(&e, ")");
	if (!e.out.nomem)
		rx->litcode = pcre(e.out.s, e.out.n, why, whylen);
	free(e.out.s);
	return rx->litcode != NULL ? 0 : e.out.nomem ? -ENOMEM : -1;
}

bool
ks_rx_scan_bytewise(const struct ks_rx *rx)
{
	return rx->lit != NULL;
}

int
ks_rx_match(struct ks_rx *rx, const char *s, size_t n)
{
	int rc;

	rc = pcre2_match(rx->code, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK,
	    rx->md, rx->mctx);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)	/* deep, not endless */
		rc = pcre2_match(rx->code, (PCRE2_SPTR)s, n, 0,
		    PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, rx->md, rx->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc >= 0 ? 1 : rc;
}

long long
ks_rx_scan(struct ks_rx *rx, const char *buf, size_t n, size_t from)
{
	const char *p;
	int rc;

	if (rx->lit != NULL) {
		p = ks_rxlit_find(rx->lit, rx->litlen, rx->rare, buf, n, from);
		return p != NULL ? p - buf : (long long)n;
	}
	if (rx->litcode == NULL)
		return (long long)from;
	rc = pcre2_match(rx->litcode, (PCRE2_SPTR)buf, n, from,
	    PCRE2_NO_UTF_CHECK, rx->md, rx->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (long long)n;
	if (rc < 0)
		return rc;
	return (long long)pcre2_get_ovector_pointer(rx->md)[0];
}

const char *
ks_rx_pcre(const struct ks_rx *rx)
{
	return rx->text;
}

void
ks_rx_free(struct ks_rx *rx)
{
	if (rx == NULL)
		return;
	pcre2_code_free(rx->code);
	pcre2_code_free(rx->litcode);
	pcre2_match_context_free(rx->mctx);
	pcre2_jit_stack_free(rx->stack);
	pcre2_match_data_free(rx->md);
	free(rx->lit);
	free(rx->text);
	free(rx);
}

int
ks_rx_compile(const char *pat, struct ks_rx **out, char *why, size_t whylen)
{
	struct ks_rx_tree t = { 0 };
	struct em e = { { 0 }, false, NULL, NULL, 0, 0 };
	struct ks_rx *rx = NULL;
	struct ks_rxlit best;
	const char *w = NULL;
	int rc = -1;

	*out = NULL;
	if ((rc = ks_rxparse_run(pat, strlen(pat), &t, &w)) < 0) {
		snprintf(why, whylen, "regex parse error: %s", w);
		return rc;
	}
	rc = -ENOMEM;
	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		goto out;
	ks_rxbuf_str(&e.out, "");		/* "" is a pattern too */
	emit(&e, t.root);
	if (e.out.nomem)
		goto out;
	rc = -1;
	if (e.why != NULL) {
		snprintf(why, whylen, "regex parse error: %s", e.why);
		goto out;
	}
	if (ks_rxsize_too_big(t.root)) {
		snprintf(why, whylen, "Compiled regex exceeds size limit of "
		    "%u bytes.", KS_RXSIZE_LIMIT);
		goto out;
	}
	if ((rc = rx_setup(rx, &e, why, whylen)) < 0)
		goto out;
	ks_rxlit_required(t.root, &best);
	if ((rc = rx_literal(rx, &best, why, whylen)) < 0)
		goto out;
	rx->text = e.out.s;
	e.out.s = NULL;
	*out = rx;
	rx = NULL;
out:
	ks_rx_free(rx);
	free(e.out.s);
	free(e.scan);
	ks_rxparse_free(&t);
	return rc;
}
