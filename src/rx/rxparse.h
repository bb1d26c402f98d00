/*
 * rxparse: Rust's regex syntax, as regex 1.7 (regex-syntax 0.6) reads
 * it, parsed into a tree whose nodes carry the flags in force where they
 * stand. Everything that crate rejects while parsing is rejected here
 * with its words; what it rejects later, while translating (empty
 * classes, bytes that are not UTF-8, sizes), is rx's business.
 */
#ifndef KS_RXPARSE_H
#define KS_RXPARSE_H

#include "rxlex.h"

/*
 * Parses pat[0..len) (UTF-8). Returns 0 and fills t (free with
 * ks_rxparse_free), -1 with *why set to the reason in regex-syntax's
 * words, or -ENOMEM.
 */
int ks_rxparse_run(const char *pat, size_t len, struct ks_rx_tree *t,
    const char **why);

/* Frees what t holds; a zeroed tree is fine. */
void ks_rxparse_free(struct ks_rx_tree *t);

#endif
