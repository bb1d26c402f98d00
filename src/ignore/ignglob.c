/*
 * ignglob: a port of globset 0.4.9's glob parser (glob.rs) and of the
 * way GlobSet matches a glob: the strategy it picks, and otherwise the
 * glob's regular expression, which is a bytes regex: '?' and '[...]'
 * match one byte, '.' in a "**" never matches '\n'. PCRE2 runs the
 * expressions in 8-bit (non-UTF) mode, so it reads them the same way.
 *
 * Past the ~600-line guide on purpose: parser, strategies and regex
 * writer are one port of glob.rs, kept in its order for comparison.
 */
#include "ignglob.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum { T_LIT, T_ANY, T_ZOM, T_RPRE, T_RSUF, T_RZOM, T_CLASS, T_ALTS };
enum { S_LIT, S_BASE, S_EXT, S_PREFIX, S_SUFFIX, S_REQEXT, S_REGEX };

struct toks {
	struct tok *v;
	size_t n, cap;
};

struct tok {
	unsigned char kind;
	bool neg;
	uint32_t c;			/* T_LIT */
	uint32_t *r;			/* T_CLASS: nr pairs */
	size_t nr;
	struct toks *alts;		/* T_ALTS */
	size_t nalts;
};

struct ks_ignglob {
	int strat;
	char *lit;			/* the literal its strategy needs */
	size_t litlen;
	bool entire;			/* S_SUFFIX: lit less its '/' too */
	pcre2_code *re;			/* S_REQEXT, S_REGEX */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/* globset's parser state: chars, a stack of token lists. */
struct gp {
	uint32_t *c;
	size_t n, i;
	int64_t prev, cur;
	struct toks *stack;
	size_t depth, cap;
	bool nomem;
};

static void toks_free(struct toks *t);

static void
tok_free(struct tok *t)
{
	free(t->r);
	for (size_t j = 0; j < t->nalts; j++)
		toks_free(&t->alts[j]);
	free(t->alts);
}

static void
toks_free(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		tok_free(&t->v[i]);
	free(t->v);
}

static int64_t
bump(struct gp *p)
{
	p->prev = p->cur;
	p->cur = p->i < p->n ? (int64_t)p->c[p->i++] : -1;
	return p->cur;
}

static int64_t
peek(const struct gp *p)
{
	return p->i < p->n ? (int64_t)p->c[p->i] : -1;
}

static int
push(struct gp *p, struct tok t)
{
	struct toks *top = &p->stack[p->depth - 1];
	struct tok *v;

	if (top->n == top->cap) {
		top->cap = top->cap ? 2 * top->cap : 8;
		if ((v = realloc(top->v, top->cap * sizeof(*v))) == NULL) {
			tok_free(&t);
			return -ENOMEM;
		}
		top->v = v;
	}
	top->v[top->n++] = t;
	return 0;
}

static int
push_kind(struct gp *p, int kind)
{
	return push(p, (struct tok){ .kind = (unsigned char)kind });
}

/* A new list on the stack: an alternative of {...}. */
static int
push_list(struct gp *p)
{
	struct toks *v;

	if (p->depth == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		if ((v = realloc(p->stack, p->cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		p->stack = v;
	}
	p->stack[p->depth++] = (struct toks){ NULL, 0, 0 };
	return 0;
}

/* '}': every alternative becomes one token (an unopened '}' makes an
 * empty one, which matches nothing extra, as in globset). */
static int
pop_alternates(struct gp *p)
{
	struct tok t = { .kind = T_ALTS };

	if (p->depth > 1) {
		t.nalts = p->depth - 1;
		if ((t.alts = malloc(t.nalts * sizeof(*t.alts))) == NULL)
			return -ENOMEM;
		memcpy(t.alts, p->stack + 1, t.nalts * sizeof(*t.alts));
		p->depth = 1;
	}
	return push(p, t);
}

static int
add_range(struct tok *t, uint32_t lo, uint32_t hi)
{
	uint32_t *r;

	if ((r = realloc(t->r, 2 * (t->nr + 1) * sizeof(*r))) == NULL)
		return -ENOMEM;
	t->r = r;
	r[2 * t->nr] = lo;
	r[2 * t->nr + 1] = hi;
	t->nr++;
	return 0;
}

static int
parse_class(struct gp *p)
{
	struct tok t = { .kind = T_CLASS };
	bool first = true, in_range = false;
	int64_t c;

	if (peek(p) == '!' || peek(p) == '^') {
		bump(p);
		t.neg = true;
	}
	for (;; first = false) {
		if ((c = bump(p)) < 0)
			goto bad;		/* unclosed class */
		if (c == ']' && !first)
			break;
		if (c == '-' && !first && !in_range && c != ']') {
			in_range = true;
			continue;
		}
		if (in_range) {			/* the end of the last range */
			if ((uint32_t)c < t.r[2 * t.nr - 2])
				goto bad;	/* invalid range */
			t.r[2 * t.nr - 1] = (uint32_t)c;
			in_range = false;
		} else if (add_range(&t, (uint32_t)c, (uint32_t)c) < 0)
			goto nomem;
	}
	if (in_range && add_range(&t, '-', '-') < 0)
		goto nomem;
	return push(p, t);
bad:
	free(t.r);
	return -1;
nomem:
	free(t.r);
	return -ENOMEM;
}

static int
star_pair(struct gp *p)
{
	int rc = push_kind(p, T_ZOM);

	return rc < 0 ? rc : push_kind(p, T_ZOM);
}

/* '*' and '**', with globset's rules for where '**' is recursive. */
static int
parse_star(struct gp *p)
{
	int64_t prev = p->prev, next;
	struct toks *top;
	bool suffix;
	int kind;

	if (peek(p) != '*')
		return push_kind(p, T_ZOM);
	bump(p);
	top = &p->stack[p->depth - 1];
	next = peek(p);
	if (top->n == 0) {
		if (next >= 0 && next != '/')
			return star_pair(p);
		bump(p);		/* the '/', if any */
		return push_kind(p, T_RPRE);
	}
	if (prev != '/' && (p->depth <= 1 || (prev != ',' && prev != '{')))
		return star_pair(p);
	if (next < 0) {
		bump(p);
		suffix = true;
	} else if ((next == ',' || next == '}') && p->depth >= 2)
		suffix = true;
	else if (next == '/') {
		bump(p);
		suffix = false;
	} else
		return star_pair(p);
	kind = top->v[--top->n].kind;	/* the '/' before, replaced */
	tok_free(&top->v[top->n]);
	if (kind != T_RPRE && kind != T_RSUF)
		kind = suffix ? T_RSUF : T_RZOM;
	return push_kind(p, kind);
}

static int
parse(struct gp *p)
{
	int64_t c;
	int rc = 0;

	while (rc == 0 && (c = bump(p)) >= 0) {
		switch (c) {
		case '?':
			rc = push_kind(p, T_ANY);
			break;
		case '*':
			rc = parse_star(p);
			break;
		case '[':
			rc = parse_class(p);
			break;
		case '{':
			rc = p->depth > 1 ? -1 : push_list(p);	/* nested */
			break;
		case '}':
			rc = pop_alternates(p);
			break;
		case ',':
			rc = p->depth > 1 ? push_list(p) :
			    push(p, (struct tok){ .kind = T_LIT, .c = ',' });
			break;
		case '\\':
			if ((c = bump(p)) < 0)
				return -1;	/* dangling escape */
			/* FALLTHROUGH */
		default:
			rc = push(p, (struct tok){ .kind = T_LIT,
			    .c = (uint32_t)c });
		}
	}
	return rc == 0 && p->depth > 1 ? -1 : rc;	/* unclosed { */
}

static size_t
utf8(uint32_t c, char *u)
{
	if (c < 0x80)
		return u[0] = (char)c, 1;
	if (c < 0x800)
		return u[0] = (char)(0xc0 | c >> 6),
		    u[1] = (char)(0x80 | (c & 0x3f)), 2;
	if (c < 0x10000)
		return u[0] = (char)(0xe0 | c >> 12),
		    u[1] = (char)(0x80 | (c >> 6 & 0x3f)),
		    u[2] = (char)(0x80 | (c & 0x3f)), 3;
	return u[0] = (char)(0xf0 | c >> 18),
	    u[1] = (char)(0x80 | (c >> 12 & 0x3f)),
	    u[2] = (char)(0x80 | (c >> 6 & 0x3f)),
	    u[3] = (char)(0x80 | (c & 0x3f)), 4;
}

/* True when t[from..n) are literals, none of them in stop. */
static bool
all_lit(const struct toks *t, size_t from, const char *stop)
{
	for (size_t i = from; i < t->n; i++)
		if (t->v[i].kind != T_LIT || (t->v[i].c != 0 &&
		    t->v[i].c < 0x80 && strchr(stop, (int)t->v[i].c) != NULL))
			return false;
	return true;
}

/* g->lit = prefix and the literals t[from..to), as UTF-8. */
static int
set_lit(struct ks_ignglob *g, const char *prefix, const struct toks *t,
    size_t from, size_t to)
{
	size_t n = strlen(prefix);

	if ((g->lit = malloc(n + 4 * (to - from) + 2)) == NULL)
		return -ENOMEM;
	memcpy(g->lit, prefix, n);
	g->litlen = n;
	for (size_t i = from; i < to; i++)
		g->litlen += utf8(t->v[i].c, g->lit + g->litlen);
	g->lit[g->litlen] = '\0';
	return 0;
}

/* Where the trailing ".ext" of a glob ending in literals starts. */
static bool
required_ext(const struct toks *t, size_t *from)
{
	size_t i = t->n;

	while (i-- > 0) {
		if (t->v[i].kind != T_LIT || t->v[i].c == '/')
			return false;
		if (t->v[i].c == '.') {
			*from = i;
			return true;
		}
	}
	return false;
}

static int
with_lit(struct ks_ignglob *g, int strat, const char *prefix,
    const struct toks *t, size_t from, size_t to)
{
	return set_lit(g, prefix, t, from, to) < 0 ? -ENOMEM : strat;
}

/* globset's MatchStrategy::new for a literal_separator glob: the
 * strategy, with g->lit set where it needs one, or -ENOMEM. */
static int
strategy(const struct toks *t, struct ks_ignglob *g)
{
	bool rpre = t->n > 0 && t->v[0].kind == T_RPRE;
	size_t from, n = t->n;
	struct toks head;

	if (rpre && n > 1 && all_lit(t, 1, "/"))
		return with_lit(g, S_BASE, "", t, 1, n);
	if (n > 0 && all_lit(t, 0, ""))
		return with_lit(g, S_LIT, "", t, 0, n);
	if (rpre && n > 2 && t->v[1].kind == T_ZOM && t->v[2].kind == T_LIT &&
	    t->v[2].c == '.' && all_lit(t, 3, "./"))
		return with_lit(g, S_EXT, "", t, 2, n);
	head = (struct toks){ t->v, n > 0 ? n - 1 : 0, 0 };
	if (n > 1 && t->v[n - 1].kind == T_RSUF && all_lit(&head, 0, "")) {
		if (set_lit(g, "", t, 0, n - 1) < 0)
			return -ENOMEM;
		g->lit[g->litlen++] = '/';	/* a recursive suffix */
		return S_PREFIX;
	}
	if (rpre && n > 1 && t->v[1].kind == T_LIT && all_lit(t, 1, "")) {
		g->entire = true;
		return with_lit(g, S_SUFFIX, "/", t, 1, n);
	}
	if (required_ext(t, &from))
		return with_lit(g, S_REQEXT, "", t, from, n);
	return S_REGEX;
}

static void
add_byte(char *out, size_t *n, unsigned char b)
{
	if ((b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
	    (b >= 'a' && b <= 'z'))
		out[(*n)++] = (char)b;
	else
		*n += (size_t)sprintf(out + *n, "\\x{%02x}", b);
}

/* Room the expression of t can take, for one allocation. */
static size_t
regex_room(const struct toks *t)
{
	size_t room = 16;

	for (size_t i = 0; i < t->n; i++) {
		room += 24 + (size_t)56 * t->v[i].nr;
		for (size_t j = 0; j < t->v[i].nalts; j++)
			room += regex_room(&t->v[i].alts[j]) + 1;
	}
	return room;
}

static void
add_chars(char *out, size_t *n, uint32_t c)
{
	char u[4];
	size_t k = utf8(c, u);

	for (size_t i = 0; i < k; i++)
		add_byte(out, n, (unsigned char)u[i]);
}

/* globset's tokens_to_regex, in PCRE2's spelling. */
static void
regex(const struct toks *t, char *out, size_t *n)
{
	static const char *const fixed[] = {
		[T_ANY] = "[^/]", [T_ZOM] = "[^/]*", [T_RPRE] = "(?:/?|.*/)",
		[T_RSUF] = "/.*", [T_RZOM] = "(?:/|/.*/)",
	};
	size_t mark, any;

	for (size_t i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];

		if (k->kind == T_LIT)
			add_chars(out, n, k->c);
		else if (k->kind == T_CLASS) {
			*n += (size_t)sprintf(out + *n, k->neg ? "[^" : "[");
			for (size_t j = 0; j < k->nr; j++) {
				add_chars(out, n, k->r[2 * j]);
				if (k->r[2 * j + 1] != k->r[2 * j]) {
					out[(*n)++] = '-';
					add_chars(out, n, k->r[2 * j + 1]);
				}
			}
			out[(*n)++] = ']';
		} else if (k->kind == T_ALTS) {
			mark = *n;
			*n += (size_t)sprintf(out + *n, "(?:");
			for (size_t j = any = 0; j < k->nalts; j++) {
				size_t before = *n;

				if (any > 0)
					out[(*n)++] = '|';
				regex(&k->alts[j], out, n);
				if (*n == before + (any > 0))
					*n = before;	/* empty: dropped */
				else
					any++;
			}
			if (any == 0)
				*n = mark;
			else
				out[(*n)++] = ')';
		} else
			*n += (size_t)sprintf(out + *n, "%s", fixed[k->kind]);
	}
	out[*n] = '\0';
}

/* Compiles the expression; a glob of the RequiredExtension strategy is
 * a regex built with dot_matches_new_line, the others are not. */
static int
compile_regex(const struct toks *t, struct ks_ignglob *g)
{
	pcre2_compile_context *cc;
	size_t n = 0;
	char *re;
	PCRE2_SIZE off;
	int ec;

	if ((re = malloc(regex_room(t) + 8)) == NULL)
		return -ENOMEM;
	n = (size_t)sprintf(re, "\\A");
	if (t->n == 1 && t->v[0].kind == T_RPRE)
		n += (size_t)sprintf(re + n, ".*");	/* "**" alone */
	else
		regex(t, re, &n);
	n += (size_t)sprintf(re + n, "\\z");
	if ((cc = pcre2_compile_context_create(NULL)) != NULL) {
		pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
		g->re = pcre2_compile((PCRE2_SPTR)re, n, g->strat == S_REQEXT ?
		    PCRE2_DOTALL : 0, &ec, &off, cc);
		pcre2_compile_context_free(cc);
	}
	free(re);
	if (g->re == NULL)
		return -1;	/* too big for PCRE2: the rule is dropped */
	pcre2_jit_compile(g->re, PCRE2_JIT_COMPLETE);
	if ((g->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (g->mctx = pcre2_match_context_create(NULL)) == NULL)
		return -ENOMEM;
	/* Enough for any sane glob; past it the DFA matcher takes over. */
	pcre2_set_match_limit(g->mctx, 100000);
	return 0;
}

static size_t
decode(const char *glob, uint32_t *c)
{
	const unsigned char *s = (const unsigned char *)glob;
	size_t n = 0, k;

	for (size_t i = 0; s[i] != '\0'; i += k) {
		k = s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
		c[n] = k == 1 ? s[i] : s[i] & (0x3f >> (k - 1));
		for (size_t j = 1; j < k && s[i + j] != '\0'; j++)
			c[n] = c[n] << 6 | (s[i + j] & 0x3f);
		n++;
	}
	return n;
}

int
ks_ignglob_compile(const char *glob, struct ks_ignglob **out)
{
	struct gp p = { 0 };
	struct ks_ignglob *g = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	p.prev = p.cur = -1;
	if ((p.c = malloc((strlen(glob) + 1) * sizeof(*p.c))) == NULL ||
	    push_list(&p) < 0)
		goto out;
	p.n = decode(glob, p.c);
	if ((rc = parse(&p)) < 0)
		goto out;
	rc = -ENOMEM;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		goto out;
	if ((g->strat = strategy(&p.stack[0], g)) < 0)
		goto out;
	if ((g->strat == S_REQEXT || g->strat == S_REGEX) &&
	    (rc = compile_regex(&p.stack[0], g)) < 0)
		goto out;
	*out = g;
	g = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < p.depth; i++)
		toks_free(&p.stack[i]);
	free(p.stack);
	free(p.c);
	ks_ignglob_free(g);
	return rc;
}

void
ks_ignglob_candidate(struct ks_ignglob_cand *c, const char *path, size_t len)
{
	const char *slash, *dot;

	c->path = path;
	c->plen = len;
	c->base = c->ext = "";
	c->blen = c->elen = 0;
	if (len == 0 || path[len - 1] == '.')
		return;			/* globset: no base name */
	slash = memrchr(path, '/', len);
	c->base = slash != NULL ? slash + 1 : path;
	c->blen = len - (size_t)(c->base - path);
	if (c->blen > 0 && (dot = memrchr(c->base, '.', c->blen)) != NULL) {
		c->ext = dot;
		c->elen = c->blen - (size_t)(dot - c->base);
	}
}

static bool
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* The expression, by the JIT under a small limit, else by the DFA
 * matcher, which cannot blow up on a glob like "*a*a*a*a*b". */
static bool
regex_match(const struct ks_ignglob *g, const char *s, size_t n)
{
	int ws[1000];
	int rc;

	rc = pcre2_match(g->re, (PCRE2_SPTR)s, n, 0, 0, g->md, g->mctx);
	if (rc == PCRE2_ERROR_MATCHLIMIT)
		rc = pcre2_dfa_match(g->re, (PCRE2_SPTR)s, n, 0, 0, g->md,
		    NULL, ws, sizeof(ws) / sizeof(ws[0]));
	return rc >= 0;
}

bool
ks_ignglob_match(const struct ks_ignglob *g, const struct ks_ignglob_cand *c)
{
	switch (g->strat) {
	case S_LIT:
		return same(c->path, c->plen, g->lit, g->litlen);
	case S_BASE:
		return c->blen > 0 && same(c->base, c->blen, g->lit, g->litlen);
	case S_EXT:
		return c->elen > 0 && same(c->ext, c->elen, g->lit, g->litlen);
	case S_PREFIX:
		return c->plen >= g->litlen &&
		    memcmp(c->path, g->lit, g->litlen) == 0;
	case S_SUFFIX:
		return (c->plen >= g->litlen && memcmp(c->path + c->plen -
		    g->litlen, g->lit, g->litlen) == 0) || (g->entire &&
		    same(c->path, c->plen, g->lit + 1, g->litlen - 1));
	case S_REQEXT:
		if (c->elen == 0 || !same(c->ext, c->elen, g->lit, g->litlen))
			return false;
		/* FALLTHROUGH */
	default:
		return regex_match(g, c->path, c->plen);
	}
}

void
ks_ignglob_free(struct ks_ignglob *g)
{
	if (g == NULL)
		return;
	free(g->lit);
	pcre2_code_free(g->re);
	pcre2_match_data_free(g->md);
	pcre2_match_context_free(g->mctx);
	free(g);
}
