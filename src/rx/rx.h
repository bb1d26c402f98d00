/*
 * rx: Rust regex patterns (regex 1.7) run by PCRE2: the parsed pattern
 * written out again in PCRE2's syntax with every construct spelt so
 * that it means what it means to Rust, compiled with the JIT and run
 * under bounded limits; plus the pattern's required literal, to find
 * candidate lines fast.
 */
#ifndef KS_RX_H
#define KS_RX_H

#include <stdbool.h>
#include <stddef.h>

struct ks_rx;

/* Limits on one match: PCRE2's match limit (the JIT counts it too), the
 * JIT stack, and the heap of the interpreter the JIT falls back to. */
#define KS_RX_MATCH_LIMIT	10000000u
#define KS_RX_JIT_STACK_MAX	(1024u * 1024u)
#define KS_RX_HEAP_LIMIT_KIB	(64u * 1024u)

/*
 * Compiles pat, a Rust regex. Returns 0 and *out (free with ks_rx_free),
 * -1 when the pattern is invalid (why holds the reason, in regex's
 * words where it has them), or -ENOMEM.
 */
int ks_rx_compile(const char *pat, struct ks_rx **out, char *why,
    size_t whylen);

/*
 * Does s[0..n) (valid UTF-8, one line) match? Returns 1 or 0, or a
 * negative PCRE2 error code when a limit stopped the search.
 */
int ks_rx_match(struct ks_rx *rx, const char *s, size_t n);

/*
 * Where in buf[0..n), at or after from, the next match could be: the
 * next occurrence of the required literal (n when there is none left),
 * or from itself when the pattern has no required literal. Returns a
 * negative PCRE2 error code when a limit stopped the search.
 */
long long ks_rx_scan(struct ks_rx *rx, const char *buf, size_t n,
    size_t from);

/* True when ks_rx_scan only compares bytes (one case-sensitive literal):
 * it may then run on text that is not valid UTF-8. */
bool ks_rx_scan_bytewise(const struct ks_rx *rx);

/* The pattern as handed to PCRE2 (for tests and logs). */
const char *ks_rx_pcre(const struct ks_rx *rx);

/* Frees rx; NULL is fine. */
void ks_rx_free(struct ks_rx *rx);

#endif
