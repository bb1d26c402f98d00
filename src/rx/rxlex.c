/*
 * rxlex: the lower half of a port of regex-syntax 0.6's parser
 * (ast/parse.rs), kept close to the original so that the same patterns
 * are accepted and rejected: its whitespace rules under (?x) (which reach
 * into classes, counted repetitions and hex escapes), its escapes, and
 * its class grammar (nested classes, &&, --, ~~, [:name:]). It recurses
 * where the original keeps a stack, so nesting is cut at the original's
 * nest limit before the C stack could suffer.
 *
 * Past the ~600-line guide on purpose: it follows parse.rs function by
 * function, which is what lets a reader check it against the original.
 */
#include "rxlex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxprop.h"

static const char *const ascii_names[] = {
	"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "word", "xdigit",
};

static const unsigned char ascii_ranges[][9] = {
	{ 3, '0', '9', 'A', 'Z', 'a', 'z' }, { 2, 'A', 'Z', 'a', 'z' },
	{ 1, 0x00, 0x7f }, { 2, '\t', '\t', ' ', ' ' },
	{ 2, 0x00, 0x1f, 0x7f, 0x7f }, { 1, '0', '9' }, { 1, '!', '~' },
	{ 1, 'a', 'z' }, { 1, ' ', '~' },
	{ 4, '!', '/', ':', '@', '[', '`', '{', '~' },
	{ 2, '\t', '\r', ' ', ' ' }, { 1, 'A', 'Z' },
	{ 4, '0', '9', 'A', 'Z', '_', '_', 'a', 'z' },
	{ 3, '0', '9', 'A', 'F', 'a', 'f' },
};

size_t
ks_rxlex_ascii(unsigned i, const unsigned char **ranges)
{
	if (i >= sizeof(ascii_names) / sizeof(ascii_names[0]))
		return 0;
	*ranges = ascii_ranges[i] + 1;
	return ascii_ranges[i][0];
}

bool
ks_rxlex_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/* The pattern is valid UTF-8 (checked before parsing). */
static size_t
clen_at(const struct ks_rxlex *p, size_t i)
{
	unsigned char b = p->s[i];

	return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

static uint32_t
char_at(const struct ks_rxlex *p, size_t i)
{
	const unsigned char *s = (const unsigned char *)p->s + i;
	size_t n = clen_at(p, i);
	uint32_t c = n == 1 ? s[0] : s[0] & (0x3f >> (n - 1));

	for (size_t k = 1; k < n; k++)
		c = c << 6 | (s[k] & 0x3f);
	return c;
}

static bool
eof(const struct ks_rxlex *p)
{
	return p->i >= p->n;
}

uint32_t
ks_rxlex_cur(const struct ks_rxlex *p)
{
	return eof(p) ? 0 : char_at(p, p->i);
}

/* A short name for the cursor, used all the time. */
static uint32_t
cur(const struct ks_rxlex *p)
{
	return ks_rxlex_cur(p);
}

bool
ks_rxlex_bump(struct ks_rxlex *p)
{
	if (eof(p))
		return false;
	p->i += clen_at(p, p->i);
	return !eof(p);
}

bool
ks_rxlex_bump_if(struct ks_rxlex *p, const char *prefix)
{
	size_t n = strlen(prefix);

	if (p->n - p->i < n || memcmp(p->s + p->i, prefix, n) != 0)
		return false;
	p->i += n;
	return true;
}

void
ks_rxlex_skip(struct ks_rxlex *p)
{
	uint32_t c;

	if (!(p->flags & KS_RXLEX_FX))
		return;
	while (!eof(p)) {
		if (ks_rxlex_space(cur(p)))
			ks_rxlex_bump(p);
		else if (cur(p) == '#') {
			ks_rxlex_bump(p);
			while (!eof(p)) {
				c = cur(p);
				ks_rxlex_bump(p);
				if (c == '\n')
					break;
			}
		} else
			break;
	}
}

bool
ks_rxlex_next(struct ks_rxlex *p)
{
	if (!ks_rxlex_bump(p))
		return false;
	ks_rxlex_skip(p);
	return !eof(p);
}

static int64_t
peek(const struct ks_rxlex *p)
{
	size_t j;

	if (eof(p) || (j = p->i + clen_at(p, p->i)) >= p->n)
		return -1;
	return char_at(p, j);
}

/* As the original, comment text is not skipped past its first char. */
static int64_t
peek_space(const struct ks_rxlex *p)
{
	size_t start, j;
	bool in_comment = false;
	uint32_t c;

	if (!(p->flags & KS_RXLEX_FX))
		return peek(p);
	if (eof(p))
		return -1;
	start = j = p->i + clen_at(p, p->i);
	for (; j < p->n; j += clen_at(p, j)) {
		c = char_at(p, j);
		if (ks_rxlex_space(c))
			continue;
		if (!in_comment && c == '#')
			in_comment = true;
		else if (in_comment && c == '\n')
			in_comment = false;
		else {
			start = j;
			break;
		}
	}
	return start < p->n ? (int64_t)char_at(p, start) : -1;
}

struct ks_rx_node *
ks_rxlex_fail(struct ks_rxlex *p, const char *why)
{
	if (p->why == NULL)
		p->why = why;
	return NULL;
}

/* And for failing. */
static struct ks_rx_node *
fail(struct ks_rxlex *p, const char *why)
{
	return ks_rxlex_fail(p, why);
}

struct ks_rx_node *
ks_rxlex_node(struct ks_rxlex *p, int kind)
{
	struct ks_rx_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		p->nomem = true;
		return fail(p, "out of memory");
	}
	n->kind = kind;
	n->flags = p->flags & 0xff;
	n->greedy = true;
	n->chain = p->t->all;
	p->t->all = n;
	return n;
}

static struct ks_rx_node *
lit(struct ks_rxlex *p, int kind, uint32_t lo, uint32_t hi)
{
	struct ks_rx_node *n;

	if ((n = ks_rxlex_node(p, kind)) != NULL) {
		n->lo = lo;
		n->hi = hi;
	}
	return n;
}

void
ks_rxlex_list_init(struct ks_rxlex_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->n = 0;
}

void
ks_rxlex_list_add(struct ks_rxlex_list *l, struct ks_rx_node *n)
{
	*l->tail = n;
	l->tail = &n->next;
	l->n++;
}

struct ks_rx_node *
ks_rxlex_list_node(struct ks_rxlex *p, struct ks_rxlex_list *l, int kind,
    int empty)
{
	struct ks_rx_node *n;

	if (l->n == 1)
		return l->head;
	if ((n = ks_rxlex_node(p, l->n == 0 ? empty : kind)) != NULL)
		n->kid = l->head;
	return n;
}

static bool
is_hex(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
hex_value(uint32_t c)
{
	return c <= '9' ? (int)(c - '0') : (int)((c | 0x20) - 'a' + 10);
}

/* u32::from_str_radix then char::from_u32, as the original. */
static struct ks_rx_node *
hex_char(struct ks_rxlex *p, uint64_t v, bool overflow)
{
	if (overflow || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return fail(p, "hexadecimal literal is not a Unicode "
		    "scalar value");
	return lit(p, KS_RX_LIT, (uint32_t)v, (uint32_t)v);
}

static struct ks_rx_node *
parse_hex_brace(struct ks_rxlex *p)
{
	uint64_t v = 0;
	bool overflow = false, any = false;

	while (ks_rxlex_next(p) && cur(p) != '}') {
		if (!is_hex(cur(p)))
			return fail(p, "invalid hexadecimal digit");
		v = v << 4 | hex_value(cur(p));
		overflow |= v > UINT32_MAX;
		any = true;
	}
	if (eof(p))
		return fail(p, "incomplete escape sequence, "
		    "reached end of pattern prematurely");
	ks_rxlex_next(p);
	if (!any)
		return fail(p, "hexadecimal literal empty");
	return hex_char(p, v, overflow);
}

/* \xNN, \uNNNN, \UNNNNNNNN or the same with braces; at the letter. */
static struct ks_rx_node *
parse_hex(struct ks_rxlex *p)
{
	unsigned digits = cur(p) == 'x' ? 2 : cur(p) == 'u' ? 4 : 8;
	uint64_t v = 0;

	if (!ks_rxlex_next(p))
		return fail(p, "incomplete escape sequence, "
		    "reached end of pattern prematurely");
	if (cur(p) == '{')
		return parse_hex_brace(p);
	for (unsigned i = 0; i < digits; i++) {
		if (i > 0 && !ks_rxlex_next(p))
			return fail(p, "incomplete escape sequence, "
			    "reached end of pattern prematurely");
		if (!is_hex(cur(p)))
			return fail(p, "invalid hexadecimal digit");
		v = v << 4 | hex_value(cur(p));
	}
	ks_rxlex_next(p);
	return hex_char(p, v, false);
}

static struct ks_rx_node *
prop_node(struct ks_rxlex *p, bool neg, const char *name, size_t nlen)
{
	const char *value = NULL, *why = NULL, *eq;
	size_t vlen = 0, skip = 0;
	struct ks_rx_node *n;
	struct ks_rxprop *prop;

	if ((eq = memmem(name, nlen, "!=", 2)) != NULL) {
		neg = !neg;
		skip = 2;
	} else if ((eq = memchr(name, ':', nlen)) != NULL ||
	    (eq = memchr(name, '=', nlen)) != NULL)
		skip = 1;
	if (eq != NULL) {
		value = eq + skip;
		vlen = nlen - (size_t)(value - name);
		nlen = (size_t)(eq - name);
	}
	if ((prop = malloc(sizeof(*prop))) == NULL) {
		p->nomem = true;
		return fail(p, "out of memory");
	}
	if (ks_rxprop_lookup(name, nlen, value, vlen, prop, &why) < 0) {
		free(prop);
		return fail(p, why);
	}
	if ((n = ks_rxlex_node(p, KS_RX_PROP)) == NULL) {
		free(prop);
		return NULL;
	}
	n->prop = prop;
	n->neg = neg;
	return n;
}

/* \pL, \p{...}, \P...; at the 'p'. In (?x), the braces skip spaces. */
static struct ks_rx_node *
parse_unicode_class(struct ks_rxlex *p)
{
	bool neg = cur(p) == 'P';
	char name[256];
	size_t n = 0, len;

	if (!ks_rxlex_next(p))
		return fail(p, "incomplete escape sequence, "
		    "reached end of pattern prematurely");
	if (cur(p) != '{') {
		if (cur(p) == '\\')
			return fail(p, "invalid Unicode character class");
		len = clen_at(p, p->i);
		memcpy(name, p->s + p->i, len);
		ks_rxlex_next(p);
		return prop_node(p, neg, name, len);
	}
	while (ks_rxlex_next(p) && cur(p) != '}') {
		len = clen_at(p, p->i);
		if (n + len < sizeof(name))
			memcpy(name + n, p->s + p->i, len);
		n += len;
	}
	if (eof(p))
		return fail(p, "incomplete escape sequence, "
		    "reached end of pattern prematurely");
	ks_rxlex_bump(p);
	if (n >= sizeof(name))	/* longer than any property name */
		return fail(p, "Unicode property not found");
	return prop_node(p, neg, name, n);
}

static bool
is_meta(uint32_t c)
{
	return c != 0 && strchr("\\.+*?()|[]{}^$#&-~", (int)c) != NULL;
}

static struct ks_rx_node *
assertion(struct ks_rxlex *p, int sub)
{
	struct ks_rx_node *n;

	if ((n = ks_rxlex_node(p, KS_RX_ASSERT)) != NULL)
		n->sub = sub;
	return n;
}

static struct ks_rx_node *
perl(struct ks_rxlex *p, uint32_t c)
{
	struct ks_rx_node *n;

	if ((n = ks_rxlex_node(p, KS_RX_PERL)) != NULL) {
		n->sub = c | 0x20;
		n->neg = c < 'a';
	}
	ks_rxlex_bump(p);
	return n;
}

/* After a backslash: a literal, an assertion, or a class. */
struct ks_rx_node *
ks_rxlex_escape(struct ks_rxlex *p)
{
	static const char special[] = "a\af\ft\tn\nr\rv\v";
	const char *sp;
	uint32_t c;

	if (!ks_rxlex_bump(p))
		return fail(p, "incomplete escape sequence, "
		    "reached end of pattern prematurely");
	c = cur(p);
	if (c >= '0' && c <= '9')	/* octal is off: all backreferences */
		return fail(p, "backreferences are not supported");
	if (c == 'x' || c == 'u' || c == 'U')
		return parse_hex(p);
	if (c == 'p' || c == 'P')
		return parse_unicode_class(p);
	if (c != 0 && strchr("dswDSW", (int)c) != NULL)
		return perl(p, c);
	ks_rxlex_bump(p);
	if (is_meta(c))
		return lit(p, KS_RX_LIT, c, c);
	if (c != 0 && c < 0x80 && (sp = strchr(special, (int)c)) != NULL &&
	    (sp - special) % 2 == 0)
		return lit(p, KS_RX_LIT, (uint8_t)sp[1], (uint8_t)sp[1]);
	if (c == ' ' && (p->flags & KS_RXLEX_FX))
		return lit(p, KS_RX_LIT, ' ', ' ');
	switch (c) {
	case 'A':
		return assertion(p, KS_RX_A_TEXT_START);
	case 'z':
		return assertion(p, KS_RX_A_TEXT_END);
	case 'b':
		return assertion(p, KS_RX_A_WORD);
	case 'B':
		return assertion(p, KS_RX_A_NOT_WORD);
	default:
		return fail(p, "unrecognized escape sequence");
	}
}

/* [:name:] or [:^name:] inside a class; at the '['. The position is
 * restored when it is not one. */
static struct ks_rx_node *
maybe_ascii_class(struct ks_rxlex *p)
{
	size_t start = p->i, name;
	bool neg = false;
	struct ks_rx_node *n;

	if (!ks_rxlex_bump(p) || cur(p) != ':' || !ks_rxlex_bump(p))
		goto no;
	if (cur(p) == '^') {
		neg = true;
		if (!ks_rxlex_bump(p))
			goto no;
	}
	name = p->i;
	while (cur(p) != ':' && ks_rxlex_bump(p))
		;
	if (eof(p))
		goto no;
	for (unsigned i = 0; i < sizeof(ascii_names) / sizeof(ascii_names[0]);
	    i++) {
		if (strlen(ascii_names[i]) != p->i - name ||
		    memcmp(ascii_names[i], p->s + name, p->i - name) != 0)
			continue;
		if (!ks_rxlex_bump_if(p, ":]"))
			goto no;
		if ((n = ks_rxlex_node(p, KS_RX_ASCII)) != NULL) {
			n->sub = i;
			n->neg = neg;
		}
		return n;
	}
no:
	p->i = start;
	return NULL;
}

/* One item of a class: an escape or a verbatim character. */
static struct ks_rx_node *
class_item(struct ks_rxlex *p)
{
	struct ks_rx_node *n;
	uint32_t c;

	if (cur(p) == '\\') {
		if ((n = ks_rxlex_escape(p)) == NULL)
			return NULL;
		if (n->kind == KS_RX_ASSERT)
			return fail(p, "invalid escape sequence found in "
			    "character class");
		if (n->kind == KS_RX_LIT)
			n->kind = KS_RX_RANGE;
		return n;
	}
	c = cur(p);
	ks_rxlex_bump(p);
	return lit(p, KS_RX_RANGE, c, c);
}

static struct ks_rx_node *
class_range(struct ks_rxlex *p)
{
	struct ks_rx_node *a, *b;

	if ((a = class_item(p)) == NULL)
		return NULL;
	ks_rxlex_skip(p);
	if (eof(p))
		return fail(p, "unclosed character class");
	if (cur(p) != '-' || peek_space(p) == ']' || peek_space(p) == '-')
		return a;
	if (!ks_rxlex_next(p))
		return fail(p, "unclosed character class");
	if ((b = class_item(p)) == NULL)
		return NULL;
	if (a->kind != KS_RX_RANGE || b->kind != KS_RX_RANGE)
		return fail(p, "invalid range boundary, must be a literal");
	if (a->lo > b->lo)
		return fail(p, "invalid character class range, "
		    "the start must be <= the end");
	a->hi = b->lo;
	return a;
}

/* The union so far as one item, joined to the pending left operand. */
static struct ks_rx_node *
class_join(struct ks_rxlex *p, struct ks_rx_node *lhs, int op,
    struct ks_rxlex_list *u)
{
	struct ks_rx_node *rhs, *n;

	if ((rhs = ks_rxlex_list_node(p, u, KS_RX_UNION, KS_RX_UNION)) == NULL)
		return NULL;
	ks_rxlex_list_init(u);
	if (lhs == NULL)
		return rhs;
	if ((n = ks_rxlex_node(p, KS_RX_OP)) == NULL)
		return NULL;
	n->sub = op;
	n->kid = lhs;
	lhs->next = rhs;
	return n;
}

/* The opening of a class: '^', leading '-'s and a leading ']'. */
static bool
bracket_open(struct ks_rxlex *p, bool *neg, struct ks_rxlex_list *u)
{
	struct ks_rx_node *n;

	if (!ks_rxlex_next(p))
		return fail(p, "unclosed character class"), false;
	if ((*neg = cur(p) == '^') && !ks_rxlex_next(p))
		return fail(p, "unclosed character class"), false;
	while (cur(p) == '-' || (u->n == 0 && cur(p) == ']')) {
		if ((n = lit(p, KS_RX_RANGE, cur(p), cur(p))) == NULL)
			return false;
		ks_rxlex_list_add(u, n);
		if (!ks_rxlex_next(p))
			return fail(p, "unclosed character class"), false;
		if (n->lo == ']')
			break;
	}
	return true;
}

/* An operator (&&, --, ~~) at the cursor, or 0. */
static int
class_operator(const struct ks_rxlex *p)
{
	uint32_t c = cur(p);

	return (c == '&' || c == '-' || c == '~') && peek(p) == c ? (int)c : 0;
}

/* The items and operators of a class, up to its ']'. */
static struct ks_rx_node *
bracket_body(struct ks_rxlex *p, struct ks_rxlex_list *u)
{
	struct ks_rx_node *lhs = NULL, *n;
	unsigned ops = 0;
	int op = 0, next;

	for (;;) {
		ks_rxlex_skip(p);
		if (eof(p))
			return fail(p, "unclosed character class");
		if (cur(p) == ']')
			return class_join(p, lhs, op, u);
		if ((next = class_operator(p)) != 0) {
			if (++ops > KS_RXLEX_NEST)
				return fail(p, "exceed the maximum number of "
				    "nested parentheses/brackets (250)");
			p->i += 2;
			if ((lhs = class_join(p, lhs, op, u)) == NULL)
				return NULL;
			op = next;
			continue;
		}
		if (cur(p) != '[')
			n = class_range(p);
		else if ((n = maybe_ascii_class(p)) == NULL && !p->nomem)
			n = ks_rxlex_bracket(p);
		if (n == NULL)
			return NULL;
		ks_rxlex_list_add(u, n);
	}
}

/* A bracketed class; at its '['. */
struct ks_rx_node *
ks_rxlex_bracket(struct ks_rxlex *p)
{
	struct ks_rx_node *n, *set;
	struct ks_rxlex_list u;
	bool neg;

	if (++p->depth > KS_RXLEX_NEST)
		return fail(p, "exceed the maximum number of nested "
		    "parentheses/brackets (250)");
	ks_rxlex_list_init(&u);
	if (!bracket_open(p, &neg, &u) || (set = bracket_body(p, &u)) == NULL)
		return NULL;
	ks_rxlex_bump(p);
	p->depth--;
	if ((n = ks_rxlex_node(p, KS_RX_BRACKET)) != NULL) {
		n->neg = neg;
		n->kid = set;
	}
	return n;
}

