/*
 * rxparse: the upper half of the port of regex-syntax 0.6's parser:
 * alternation, concatenation, groups and their flags, capture names,
 * repetition, and the nest limit checked on the finished tree as the
 * original's NestLimiter counts it.
 */
#include "rxparse.h"
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NEST_ERR "exceed the maximum number of nested parentheses/brackets " \
	"(250)"
#define MISSING "repetition operator missing expression"
#define UNCLOSED_REP "unclosed counted repetition"

struct name {
	const char *s;
	size_t n;
};

struct parser {
	struct ks_rxlex lx;
	struct name *names;		/* capture names, for duplicates */
	size_t nnames, capnames;
};

static struct ks_rx_node *parse_alt(struct parser *P, bool group);

static struct ks_rx_node *
fail(struct parser *P, const char *why)
{
	return ks_rxlex_fail(&P->lx, why);
}

static bool
at_end(const struct parser *P)
{
	return P->lx.i >= P->lx.n;
}

static uint32_t
cur(const struct parser *P)
{
	return ks_rxlex_cur(&P->lx);
}

static bool
capture_char(uint32_t c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (!first && ((c >= '0' && c <= '9') || c == '.' || c == '[' ||
	    c == ']'));
}

/* The name of (?P<name>...); after the '<'. */
static bool
capture_name(struct parser *P)
{
	struct ks_rxlex *p = &P->lx;
	size_t start = p->i;
	struct name *v;

	if (at_end(P))
		return fail(P, "unclosed capture group name"), false;
	while (cur(P) != '>') {
		if (!capture_char(cur(P), p->i == start))
			return fail(P, "invalid capture group character"),
			    false;
		if (!ks_rxlex_bump(p))
			break;
	}
	if (at_end(P))
		return fail(P, "unclosed capture group name"), false;
	if (p->i == start)
		return fail(P, "empty capture group name"), false;
	if (P->nnames == P->capnames) {
		P->capnames = P->capnames ? 2 * P->capnames : 8;
		if ((v = realloc(P->names, P->capnames * sizeof(*v))) == NULL) {
			p->nomem = true;
			return fail(P, "out of memory"), false;
		}
		P->names = v;
	}
	P->names[P->nnames++] = (struct name){ p->s + start, p->i - start };
	ks_rxlex_bump(p);
	return true;
}

static int
flag_bit(uint32_t c)
{
	switch (c) {
	case 'i': return KS_RX_FI;
	case 'm': return KS_RX_FM;
	case 's': return KS_RX_FS;
	case 'U': return KS_RX_FU;
	case 'x': return KS_RXLEX_FX;
	case 'u': return KS_RX_FA;	/* set means off: see apply below */
	default: return 0;
	}
}

/*
 * The flags of "(?flags)" or "(?flags:"; after the '?', stops at the ':'
 * or ')'. Fills on/off; returns the number of items, or -1.
 */
static int
parse_flags(struct parser *P, unsigned *on, unsigned *off)
{
	bool neg = false, dangling = false;
	unsigned seen = 0;
	int items = 0, bit;

	while (cur(P) != ':' && cur(P) != ')') {
		if (cur(P) == '-') {
			if (neg)
				return fail(P, "flag negation operator "
				    "repeated"), -1;
			neg = dangling = true;
		} else {
			if ((bit = flag_bit(cur(P))) == 0)
				return fail(P, "unrecognized flag"), -1;
			if (seen & bit)
				return fail(P, "duplicate flag"), -1;
			seen |= bit;
			*(neg ? off : on) |= bit;
			dangling = false;
		}
		items++;
		if (!ks_rxlex_bump(&P->lx))
			return fail(P, "expected flag but got end of "
			    "regex"), -1;
	}
	if (dangling)
		return fail(P, "dangling flag negation operator"), -1;
	return items;
}

/* (?-u) turns Unicode off: the FA bit means "ASCII", so it flips. */
static void
apply(struct parser *P, unsigned on, unsigned off)
{
	unsigned fa_on = off & KS_RX_FA, fa_off = on & KS_RX_FA;

	on = (on & ~KS_RX_FA) | fa_on;
	off = (off & ~KS_RX_FA) | fa_off;
	P->lx.flags = (P->lx.flags | on) & ~off;
}

/* A group's body up to its ')', with the outer flags restored after. */
static struct ks_rx_node *
group_body(struct parser *P, unsigned on, unsigned off, bool capture)
{
	unsigned saved = P->lx.flags;
	struct ks_rx_node *kid, *n;

	apply(P, on, off);
	if (++P->lx.depth > KS_RXLEX_NEST)
		return fail(P, NEST_ERR);
	if ((kid = parse_alt(P, true)) == NULL)
		return NULL;
	ks_rxlex_bump(&P->lx);
	P->lx.depth--;
	P->lx.flags = saved;
	if ((n = ks_rxlex_node(&P->lx, KS_RX_GROUP)) != NULL) {
		n->kid = kid;
		n->neg = capture;	/* only for show: all emitted as (?:) */
	}
	return n;
}

/* A group or a flag setting; at the '('. */
static struct ks_rx_node *
parse_group(struct parser *P)
{
	struct ks_rxlex *p = &P->lx;
	unsigned on = 0, off = 0;
	int items;

	ks_rxlex_bump(p);
	ks_rxlex_skip(p);
	if (ks_rxlex_bump_if(p, "?=") || ks_rxlex_bump_if(p, "?!") ||
	    ks_rxlex_bump_if(p, "?<=") || ks_rxlex_bump_if(p, "?<!"))
		return fail(P, "look-around, including look-ahead and "
		    "look-behind, is not supported");
	if (ks_rxlex_bump_if(p, "?P<"))
		return capture_name(P) ? group_body(P, 0, 0, true) : NULL;
	if (!ks_rxlex_bump_if(p, "?"))
		return group_body(P, 0, 0, true);
	if (at_end(P))
		return fail(P, "unclosed group");
	if ((items = parse_flags(P, &on, &off)) < 0)
		return NULL;
	if (cur(P) == ':') {
		ks_rxlex_bump(p);
		return group_body(P, on, off, false);
	}
	ks_rxlex_bump(p);
	if (items == 0)
		return fail(P, MISSING);
	apply(P, on, off);
	return ks_rxlex_node(p, KS_RX_FLAGS);
}

/* A decimal of a counted repetition; whitespace around it is skipped
 * even without (?x), as the original does. */
static bool
parse_decimal(struct parser *P, uint32_t *out)
{
	struct ks_rxlex *p = &P->lx;
	uint64_t v = 0;
	bool any = false;

	while (!at_end(P) && ks_rxlex_space(cur(P)))
		ks_rxlex_bump(p);
	while (!at_end(P) && cur(P) >= '0' && cur(P) <= '9') {
		v = v * 10 + (cur(P) - '0');
		if (v > UINT32_MAX)
			v = UINT64_MAX / 16;	/* stays invalid */
		any = true;
		ks_rxlex_next(p);
	}
	while (!at_end(P) && ks_rxlex_space(cur(P)))
		ks_rxlex_next(p);
	if (!any)
		return fail(P, "repetition quantifier expects a valid "
		    "decimal"), false;
	if (v > UINT32_MAX)
		return fail(P, "decimal literal invalid"), false;
	*out = (uint32_t)v;
	return true;
}

/* {n}, {n,} or {n,m}; at the '{'. */
static bool
counted(struct parser *P, uint32_t *lo, uint32_t *hi, bool *greedy)
{
	struct ks_rxlex *p = &P->lx;

	if (!ks_rxlex_next(p) || !parse_decimal(P, lo))
		return P->lx.why == NULL ? fail(P, UNCLOSED_REP), false : false;
	*hi = *lo;
	if (at_end(P))
		return fail(P, UNCLOSED_REP), false;
	if (cur(P) == ',') {
		if (!ks_rxlex_next(p))
			return fail(P, UNCLOSED_REP), false;
		*hi = KS_RX_INF;
		if (cur(P) != '}' && !parse_decimal(P, hi))
			return false;
	}
	if (at_end(P) || cur(P) != '}')
		return fail(P, UNCLOSED_REP), false;
	if (ks_rxlex_next(p) && cur(P) == '?') {
		*greedy = false;
		ks_rxlex_bump(p);
	}
	if (*lo > *hi)
		return fail(P, "invalid repetition count range, the start "
		    "must be <= the end"), false;
	return true;
}

/* Wraps *last, the item the list ends with, in a repetition; at the
 * operator. */
static bool
repetition(struct parser *P, struct ks_rx_node **last)
{
	struct ks_rx_node *n, *item = *last;
	uint32_t c = cur(P), lo, hi;
	bool greedy = true;

	if (item == NULL || item->kind == KS_RX_FLAGS)
		return fail(P, MISSING), false;
	if (c == '{') {
		if (!counted(P, &lo, &hi, &greedy))
			return false;
	} else {
		lo = c == '+';
		hi = c == '?' ? 1 : KS_RX_INF;
		if (ks_rxlex_bump(&P->lx) && cur(P) == '?') {
			greedy = false;
			ks_rxlex_bump(&P->lx);
		}
	}
	if ((n = ks_rxlex_node(&P->lx, KS_RX_REPEAT)) == NULL)
		return false;
	n->sub = item->kind == KS_RX_REPEAT ? item->sub + 1 : 1;
	if (n->sub > KS_RXLEX_NEST)
		return fail(P, NEST_ERR), false;
	n->lo = lo;
	n->hi = hi;
	n->greedy = greedy;
	n->kid = item;
	*last = n;
	return true;
}

static struct ks_rx_node *
primitive(struct parser *P)
{
	struct ks_rxlex *p = &P->lx;
	struct ks_rx_node *n;
	uint32_t c = cur(P);

	if (c == '\\')
		return ks_rxlex_escape(p);
	if ((n = ks_rxlex_node(p, c == '.' ? KS_RX_DOT :
	    c == '^' || c == '$' ? KS_RX_ASSERT : KS_RX_LIT)) == NULL)
		return NULL;
	if (n->kind == KS_RX_ASSERT)
		n->sub = c == '^' ? KS_RX_A_LINE_START : KS_RX_A_LINE_END;
	n->lo = n->hi = c;
	ks_rxlex_bump(p);
	return n;
}

/* Items up to a '|', a ')' or the end. */
static struct ks_rx_node *
parse_concat(struct parser *P)
{
	struct ks_rx_node *last = NULL, **link = NULL;
	struct ks_rxlex_list l;
	uint32_t c;

	ks_rxlex_list_init(&l);
	for (;;) {
		ks_rxlex_skip(&P->lx);
		if (at_end(P) || (c = cur(P)) == '|' || c == ')')
			break;
		if (c == '?' || c == '*' || c == '+' || c == '{') {
			if (!repetition(P, &last))
				return NULL;
			*link = last;		/* the list ends with it */
			l.tail = &last->next;
			continue;
		}
		last = c == '(' ? parse_group(P) :
		    c == '[' ? ks_rxlex_bracket(&P->lx) : primitive(P);
		if (last == NULL)
			return NULL;
		link = l.tail;
		ks_rxlex_list_add(&l, last);
	}
	return ks_rxlex_list_node(&P->lx, &l, KS_RX_CONCAT, KS_RX_EMPTY);
}

/* Branches up to the group's ')' (left for the caller) or the end. */
static struct ks_rx_node *
parse_alt(struct parser *P, bool group)
{
	struct ks_rxlex_list l;
	struct ks_rx_node *branch;

	ks_rxlex_list_init(&l);
	for (;;) {
		if ((branch = parse_concat(P)) == NULL)
			return NULL;
		ks_rxlex_list_add(&l, branch);
		if (at_end(P)) {
			if (group)
				return fail(P, "unclosed group");
			break;
		}
		if (cur(P) == ')') {
			if (!group)
				return fail(P, "unopened group");
			break;
		}
		ks_rxlex_bump(&P->lx);		/* the '|' */
	}
	return ks_rxlex_list_node(&P->lx, &l, KS_RX_ALT, KS_RX_EMPTY);
}

/* The depth the original's NestLimiter sees. */
static unsigned
nest(const struct ks_rx_node *n)
{
	unsigned d = 0, k;

	for (const struct ks_rx_node *c = n->kid; c != NULL; c = c->next)
		if ((k = nest(c)) > d)
			d = k;
	switch (n->kind) {
	case KS_RX_BRACKET: case KS_RX_REPEAT: case KS_RX_GROUP:
	case KS_RX_CONCAT: case KS_RX_ALT: case KS_RX_OP:
		return d + 1;
	case KS_RX_UNION:
		return d + (n->kid != NULL);
	default:
		return d;
	}
}

static int
name_cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

	return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

static bool
names_unique(struct parser *P)
{
	if (P->nnames > 1)
		qsort(P->names, P->nnames, sizeof(*P->names), name_cmp);
	for (size_t i = 1; i < P->nnames; i++)
		if (name_cmp(&P->names[i - 1], &P->names[i]) == 0)
			return fail(P, "duplicate capture group name"), false;
	return true;
}

int
ks_rxparse_run(const char *pat, size_t len, struct ks_rx_tree *t,
    const char **why)
{
	struct parser P = { .lx = { .s = pat, .n = len, .t = t } };
	int rc = 0;

	t->root = t->all = NULL;
	if (!ks_utf8_valid(pat, len)) {
		*why = "pattern is not valid UTF-8";
		return -1;
	}
	t->root = parse_alt(&P, false);
	if (t->root != NULL && names_unique(&P) &&
	    nest(t->root) > KS_RXLEX_NEST)
		fail(&P, NEST_ERR);
	if (P.lx.why != NULL) {
		rc = P.lx.nomem ? -ENOMEM : -1;
		*why = P.lx.why;
		ks_rxparse_free(t);
	}
	free(P.names);
	return rc;
}

void
ks_rxparse_free(struct ks_rx_tree *t)
{
	struct ks_rx_node *n, *next;

	for (n = t->all; n != NULL; n = next) {
		next = n->chain;
		free(n->prop);
		free(n);
	}
	t->root = t->all = NULL;
}
