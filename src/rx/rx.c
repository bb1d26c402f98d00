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
 * thing here and in the reference. The writer is rxemit.c.
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
#include "rxemit.h"
#include "rxlit.h"
#include "rxparse.h"
#include "rxsize.h"


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
				ks_rxbuf_add(&chunk, u, ks_rx_u8enc(c, u));
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
			rx->litlen += ks_rx_u8enc(k->lo, rx->lit + rx->litlen);
		ks_rxlit_rarest(rx->lit, rx->litlen, rx->rare);
		return 0;
	}
	ks_rxem_str(&e, "(?:");
	for (i = 0; i < l->n; i++) {
		ks_rxem_str(&e, i > 0 ? "|" : "");
		for (j = 0, k = l->first[i]; j < l->len[i]; j++, k = k->next)
			ks_rxem_lit(&e, k);
	}
	ks_rxem_str(&e, ")");
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
	ks_rxem_emit(&e, t.root);
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
