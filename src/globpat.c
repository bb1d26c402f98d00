/*
 * globpat: the Rust glob crate's (0.3.0) Pattern, ported step by step:
 * compilation with the crate's error messages and positions, and
 * matches_from with the default match options. Expansion (glob()) is in
 * glob.c, which reaches a pattern only through glob.h.
 */
#include "glob.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define ERR_WILDCARDS	"wildcards are either regular `*` or recursive `**`"
#define ERR_RECURSIVE	"recursive wildcards must form a single path component"
#define ERR_RANGE	"invalid range pattern"

enum tok_kind { TOK_CHAR, TOK_ANY, TOK_SEQ, TOK_REC, TOK_IN, TOK_NOTIN };

/* TOK_CHAR: a is the character; TOK_IN, TOK_NOTIN: set[a..a+b). */
struct tok {
	unsigned char kind;
	uint32_t a, b;
};

struct range {
	uint32_t lo, hi;
};

struct ks_glob_pat {
	struct tok *tok;
	size_t ntok;
	struct range *set;
	size_t nset;
	bool recursive;		/* holds a `**` */
	char *lit;		/* the text, when every token is a TOK_CHAR */
};

enum mres { MATCH, SUB_FAIL, ENTIRE_FAIL };

/*
 * Decodes one character as Rust's str accepts it; returns its length, or
 * 0 for bytes that are not UTF-8 (overlong, surrogate, cut short).
 */
static size_t
utf8_next(const char *p, uint32_t *cp)
{
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	const unsigned char *s = (const unsigned char *)p;
	uint32_t c = s[0];
	size_t n, i;

	if (c < 0x80)
		n = 1;
	else if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < least[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static int
syntax(struct ks_err *err, size_t pos, const char *why)
{
	return ks_err_set(err, EINVAL, KS_CODE_PROTOCOL,
	    "Pattern syntax error near position %zu: %s", pos, why);
}

static void
push_tok(struct ks_glob_pat *p, enum tok_kind kind, uint32_t a, uint32_t b)
{
	p->tok[p->ntok++] = (struct tok){ kind, a, b };
}

/* A run of '*' at cs[*ip]; positions in errors count characters. */
static int
parse_stars(struct ks_glob_pat *p, const uint32_t *cs, size_t n, size_t *ip,
    struct ks_err *err)
{
	size_t i = *ip, old = i;

	while (i < n && cs[i] == '*')
		i++;
	if (i - old > 2)
		return syntax(err, old + 2, ERR_WILDCARDS);
	if (i - old == 1) {
		push_tok(p, TOK_SEQ, 0, 0);
		*ip = i;
		return 0;
	}
	if (old > 0 && cs[old - 1] != '/')
		return syntax(err, old - 1, ERR_RECURSIVE);
	if (i < n && cs[i] != '/')
		return syntax(err, i, ERR_RECURSIVE);
	if (i < n)
		i++;			/* the '/' is part of the `**` */
	/* The crate's collapse skips a second `**` only after two tokens. */
	if (!(p->ntok > 1 && p->tok[p->ntok - 1].kind == TOK_REC)) {
		push_tok(p, TOK_REC, 0, 0);
		p->recursive = true;
	}
	*ip = i;
	return 0;
}

/* A class at cs[*ip] == '['; a ']' right after "[" or "[!" is a member. */
static int
parse_class(struct ks_glob_pat *p, const uint32_t *cs, size_t n, size_t *ip,
    struct ks_err *err)
{
	size_t i = *ip, from, end, k;
	bool neg = i + 1 < n && cs[i + 1] == '!';

	if (i + (neg ? 4 : 3) > n)
		return syntax(err, i, ERR_RANGE);
	from = i + (neg ? 2 : 1);
	for (end = from + 1; end < n && cs[end] != ']'; end++)
		;
	if (end == n)
		return syntax(err, i, ERR_RANGE);
	push_tok(p, neg ? TOK_NOTIN : TOK_IN, (uint32_t)p->nset, 0);
	for (k = from; k < end; k++) {
		if (k + 2 < end && cs[k + 1] == '-') {
			p->set[p->nset++] = (struct range){ cs[k], cs[k + 2] };
			k += 2;
		} else
			p->set[p->nset++] = (struct range){ cs[k], cs[k] };
	}
	p->tok[p->ntok - 1].b = (uint32_t)(p->nset - p->tok[p->ntok - 1].a);
	*ip = end + 1;
	return 0;
}

static int
parse(struct ks_glob_pat *p, const uint32_t *cs, size_t n, struct ks_err *err)
{
	size_t i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		switch (cs[i]) {
		case '?':
			push_tok(p, TOK_ANY, 0, 0);
			i++;
			break;
		case '*':
			rc = parse_stars(p, cs, n, &i, err);
			break;
		case '[':
			rc = parse_class(p, cs, n, &i, err);
			break;
		default:
			push_tok(p, TOK_CHAR, cs[i++], 0);
			break;
		}
	}
	return rc;
}

/* Decodes pat into *cs (caller frees); *n characters. */
static int
decode(const char *pat, uint32_t **cs, size_t *n, struct ks_err *err)
{
	size_t len = strlen(pat), k;

	*n = 0;
	if ((*cs = malloc((len + 1) * sizeof(**cs))) == NULL)
		return ks_err_os(err, ENOMEM);
	for (; *pat != '\0'; pat += k, (*n)++)
		if ((k = utf8_next(pat, &(*cs)[*n])) == 0)
			return ks_err_set(err, EINVAL, KS_CODE_PROTOCOL,
			    "pattern is not valid UTF-8");
	return 0;
}

int
ks_glob_compile(const char *pat, struct ks_glob_pat **out, struct ks_err *err)
{
	struct ks_glob_pat *p = NULL;
	uint32_t *cs = NULL;
	size_t n = 0;
	bool lit = true;
	int rc;

	*out = NULL;
	if ((rc = decode(pat, &cs, &n, err)) < 0)
		goto out;
	rc = -ENOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->tok = malloc((n + 1) * sizeof(*p->tok))) == NULL ||
	    (p->set = malloc((n + 1) * sizeof(*p->set))) == NULL)
		goto out;
	if ((rc = parse(p, cs, n, err)) < 0)
		goto out;
	for (size_t i = 0; i < p->ntok; i++)
		lit = lit && p->tok[i].kind == TOK_CHAR;
	rc = -ENOMEM;
	if (lit && (p->lit = strdup(pat)) == NULL)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		ks_err_os(err, ENOMEM);
	free(cs);
	ks_glob_free(p);
	return rc;
}

void
ks_glob_free(struct ks_glob_pat *p)
{
	if (p == NULL)
		return;
	free(p->tok);
	free(p->set);
	free(p->lit);
	free(p);
}

static bool
tok_accepts(const struct ks_glob_pat *p, const struct tok *t, uint32_t c)
{
	bool in = false;

	switch ((enum tok_kind)t->kind) {
	case TOK_CHAR:
		return c == t->a;
	case TOK_ANY:
		return true;
	case TOK_IN:
	case TOK_NOTIN:
		for (uint32_t i = t->a; i < t->a + t->b && !in; i++)
			in = c >= p->set[i].lo && c <= p->set[i].hi;
		return in == (t->kind == TOK_IN);
	case TOK_SEQ:
	case TOK_REC:
		break;
	}
	return false;
}

/*
 * The crate's matches_from with the default options: a star tries every
 * split, and running out of text ends the whole match at once (which is
 * what keeps it polynomial). The recursion nests once per star reached,
 * and at most three stars follow each other, so its depth is bounded by
 * about three times the length of s: callers match names.
 */
static enum mres
match_from(const struct ks_glob_pat *p, const char *s, size_t ti)
{
	const struct tok *t;
	enum mres m;
	uint32_t c = 0;

	for (; ti < p->ntok; ti++) {
		t = &p->tok[ti];
		if (t->kind != TOK_SEQ && t->kind != TOK_REC) {
			if (*s == '\0')
				return ENTIRE_FAIL;
			s += utf8_next(s, &c);
			if (!tok_accepts(p, t, c))
				return SUB_FAIL;
			continue;
		}
		if ((m = match_from(p, s, ti + 1)) != SUB_FAIL)
			return m;
		while (*s != '\0') {
			s += utf8_next(s, &c);
			/* A `**` resumes only after a separator. */
			if (t->kind == TOK_REC && c != '/')
				continue;
			if ((m = match_from(p, s, ti + 1)) != SUB_FAIL)
				return m;
		}
	}
	return *s == '\0' ? MATCH : SUB_FAIL;
}

bool
ks_glob_match(const struct ks_glob_pat *p, const char *s)
{
	return ks_utf8_valid(s, strlen(s)) && match_from(p, s, 0) == MATCH;
}


bool
ks_glob_pat_recursive(const struct ks_glob_pat *p)
{
	return p->recursive;
}

const char *
ks_glob_pat_literal(const struct ks_glob_pat *p)
{
	return p->lit;
}

bool
ks_glob_pat_leading_dot(const struct ks_glob_pat *p)
{
	return p->ntok > 0 && p->tok[0].kind == TOK_CHAR && p->tok[0].a == '.';
}
