/*
 * rxclass: Rust character classes written as PCRE2 expressions that
 * match one code point each.
 *
 * PCRE2 10.42 has no class set operations and its \w, \s and \b differ
 * from Rust's, so a class is written as PCRE2 brackets where it can be
 * and as lookahead compositions where it cannot: A&&B is (?=A)B, A--B
 * is (?!B)A, a negated union of such parts is (?!U)(?s:.). Under (?-u)
 * classes are byte sets, computed exactly, as regex-syntax does.
 */
#ifndef KS_RXCLASS_H
#define KS_RXCLASS_H

#include <stdbool.h>
#include <stddef.h>

struct ks_rx_node;

/* A growing string; nomem is set (and text dropped) on ENOMEM. */
struct ks_rxbuf {
	char *s;
	size_t n, cap;
	bool nomem;
};

void ks_rxbuf_add(struct ks_rxbuf *b, const char *s, size_t n);
void ks_rxbuf_str(struct ks_rxbuf *b, const char *s);
/* Appends code point c as PCRE2 writes it in a class or outside. */
void ks_rxbuf_cp(struct ks_rxbuf *b, unsigned long c);

/* Rust's \w and the word boundaries built on it, for PCRE2. */
#define KS_RXCLASS_WORD \
	"\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}"
#define KS_RXCLASS_AWORD "0-9A-Za-z_"

/*
 * Appends to out an expression matching one code point: the class n
 * (a bracket, a Perl, ASCII or Unicode class) as Rust reads it under the
 * flags of the node. Case-insensitivity is left to the caller (PCRE2's
 * (?i) state where the text lands), except under (?-u) where the byte
 * set is folded here. Returns 0, or -1 with *why set: regex-syntax's
 * translation errors (Unicode under (?-u), bytes that are not UTF-8, an
 * empty byte class). *what tells KS_RXCLASS_EMPTY when the class could
 * be empty (Rust rejects an empty class; the caller checks by matching)
 * and KS_RXCLASS_ATOM when the text is one bracket, which PCRE2 can
 * repeat without copying it.
 */
#define KS_RXCLASS_EMPTY	0x1
#define KS_RXCLASS_ATOM		0x2

int ks_rxclass_emit(const struct ks_rx_node *n, struct ks_rxbuf *out,
    unsigned *what, const char **why);

#endif
