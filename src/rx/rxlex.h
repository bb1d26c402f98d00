/*
 * rxlex: the lower half of the Rust regex syntax port: the tree both
 * halves build, the cursor over the pattern with regex-syntax's rules
 * for whitespace under (?x), and the atoms: escapes, Unicode and Perl
 * classes, and bracketed classes with their set operators.
 */
#ifndef KS_RXLEX_H
#define KS_RXLEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ks_rxprop;

enum ks_rx_kind {
	/* Expressions. */
	KS_RX_EMPTY,		/* matches the empty string */
	KS_RX_FLAGS,		/* a "(?flags)" item: empty, not repeatable */
	KS_RX_LIT,		/* the code point lo */
	KS_RX_DOT,
	KS_RX_ASSERT,		/* sub: one of KS_RX_A_* */
	KS_RX_REPEAT,		/* kid, lo..hi times (KS_RX_INF), greedy */
	KS_RX_GROUP,		/* kid */
	KS_RX_CONCAT,		/* kid and its next siblings */
	KS_RX_ALT,		/* kid and its next siblings */
	/* Classes: each matches one code point. */
	KS_RX_RANGE,		/* lo..hi */
	KS_RX_PERL,		/* sub: 'd', 's' or 'w'; neg */
	KS_RX_ASCII,		/* sub: index of the [:name:]; neg */
	KS_RX_PROP,		/* prop; neg */
	KS_RX_BRACKET,		/* [...]: kid is the set; neg */
	KS_RX_UNION,		/* kid and its next siblings */
	KS_RX_OP,		/* sub: '&', '-' or '~'; kid, kid->next */
};

enum {
	KS_RX_A_LINE_START,	/* ^ */
	KS_RX_A_LINE_END,	/* $ */
	KS_RX_A_TEXT_START,	/* \A */
	KS_RX_A_TEXT_END,	/* \z */
	KS_RX_A_WORD,		/* \b */
	KS_RX_A_NOT_WORD,	/* \B */
};

/* Flags in force at a node. */
#define KS_RX_FI	0x01	/* (?i) */
#define KS_RX_FM	0x02	/* (?m) */
#define KS_RX_FS	0x04	/* (?s) */
#define KS_RX_FU	0x08	/* (?U): greed swapped */
#define KS_RX_FA	0x10	/* (?-u): ASCII, no Unicode */

#define KS_RX_INF	UINT32_MAX

struct ks_rx_node {
	unsigned char kind, flags, sub;
	bool neg, greedy;
	uint32_t lo, hi;
	struct ks_rxprop *prop;
	struct ks_rx_node *kid, *next;
	struct ks_rx_node *chain;	/* every node, for freeing */
};

struct ks_rx_tree {
	struct ks_rx_node *root;
	struct ks_rx_node *all;
};

/* Parser state shared by rxlex and rxparse. */
struct ks_rxlex {
	const char *s;
	size_t n, i;
	unsigned flags;			/* KS_RX_F* and KS_RXLEX_FX in force */
	unsigned depth;			/* groups and brackets open */
	struct ks_rx_tree *t;
	const char *why;		/* the first error */
	bool nomem;
};

#define KS_RXLEX_FX	0x100		/* (?x): the parser's own flag */
#define KS_RXLEX_NEST	250		/* regex-syntax's nest limit */

/* The character at the cursor (0 at the end), and moves past it;
 * returns false when that reaches the end. */
uint32_t ks_rxlex_cur(const struct ks_rxlex *p);
bool ks_rxlex_bump(struct ks_rxlex *p);
/* Skips whitespace and comments under (?x). */
void ks_rxlex_skip(struct ks_rxlex *p);
/* bump, then skip; false at the end. */
bool ks_rxlex_next(struct ks_rxlex *p);
/* Moves past prefix when the pattern continues with it. */
bool ks_rxlex_bump_if(struct ks_rxlex *p, const char *prefix);

/* Records why (the first error wins); returns NULL. */
struct ks_rx_node *ks_rxlex_fail(struct ks_rxlex *p, const char *why);
/* A new node of kind, with the flags in force; NULL on ENOMEM. */
struct ks_rx_node *ks_rxlex_node(struct ks_rxlex *p, int kind);

/* A list of sibling nodes being built. */
struct ks_rxlex_list {
	struct ks_rx_node *head, **tail;
	size_t n;
};

void ks_rxlex_list_init(struct ks_rxlex_list *l);
void ks_rxlex_list_add(struct ks_rxlex_list *l, struct ks_rx_node *n);
/* The list as one node: itself when it holds one, else a node of kind
 * (of empty when it holds none) with the list as its children. */
struct ks_rx_node *ks_rxlex_list_node(struct ks_rxlex *p,
    struct ks_rxlex_list *l, int kind, int empty);

/* After a backslash outside a class: a literal, an assertion or a
 * class. At the backslash. */
struct ks_rx_node *ks_rxlex_escape(struct ks_rxlex *p);
/* A bracketed class, at its '['. */
struct ks_rx_node *ks_rxlex_bracket(struct ks_rxlex *p);

/* ASCII class number i ("alnum" ...): its ranges as pairs; returns how
 * many pairs, 0 past the end. */
size_t ks_rxlex_ascii(unsigned i, const unsigned char **ranges);

/* True when c is White_Space (Rust's char::is_whitespace). */
bool ks_rxlex_space(uint32_t c);

#endif
