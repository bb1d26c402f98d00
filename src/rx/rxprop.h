/*
 * rxprop: Unicode property names as Rust's regex-syntax 0.6 reads them
 * in \p{...} (UAX44-LM3 loose matching, its alias tables, its lookup
 * order: binary property, then general category, then script), spelled
 * for PCRE2.
 */
#ifndef KS_RXPROP_H
#define KS_RXPROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ks_rxprop_kind {
	KS_RXPROP_ESC,		/* a PCRE2 \p{name} / \P{name} */
	KS_RXPROP_SET,		/* an explicit list of code point ranges */
	KS_RXPROP_EXPR,		/* a PCRE2 expression matching one code point */
};

/* What a property query resolved to. */
struct ks_rxprop {
	enum ks_rxprop_kind kind;
	bool neg;		/* ESC: \P rather than \p */
	char name[48];		/* ESC: what goes between the braces */
	const uint32_t *set;	/* SET: nset pairs lo, hi (static) */
	size_t nset;
	const char *expr;	/* EXPR (static) */
};

/*
 * Resolves \p{name} (value NULL) or \p{name=value}. Returns 0 and fills
 * out, or -1 with *why set to regex-syntax's reason ("Unicode property
 * not found", ...) or to why PCRE2 cannot express it.
 */
int ks_rxprop_lookup(const char *name, size_t nlen, const char *value,
    size_t vlen, struct ks_rxprop *out, const char **why);

/*
 * The code points of p (its \p{} sense: p->neg is not applied) as
 * sorted ranges: *out holds *n pairs lo, hi (caller frees). For (?i),
 * where Rust folds a property's members and PCRE2 folds only explicit
 * ranges. Returns 0 or -1 (ENOMEM).
 */
int ks_rxprop_ranges(const struct ks_rxprop *p, uint32_t **out, size_t *n);

/* The same for any PCRE2 expression matching one code point (it may
 * start with (?i)). */
int ks_rxprop_runs(const char *expr, uint32_t **out, size_t *n);

#endif
