/*
 * rxlit: the required literals of a parsed pattern, for the prefilter
 * that finds candidate lines in a whole file at once (as ripgrep does).
 */
#ifndef KS_RXLIT_H
#define KS_RXLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "rxlex.h"

#define KS_RXLIT_MAX 16

/* Runs of literal nodes (siblings from first[i], len[i] of them); every
 * match holds one of them. n == 0: none found. */
struct ks_rxlit {
	size_t n;
	const struct ks_rx_node *first[KS_RXLIT_MAX];
	size_t len[KS_RXLIT_MAX];
	size_t min;			/* bytes in the shortest run */
	bool ci;			/* some run is under (?i) */
};

/* Finds the best set of runs of the tree at root. */
void ks_rxlit_required(const struct ks_rx_node *root, struct ks_rxlit *out);

/* The indices of the two rarest bytes of lit[0..n) in source code and
 * text (one index twice when n is 1). */
void ks_rxlit_rarest(const char *lit, size_t n, size_t rare[2]);

/* The first lit[0..litlen) in buf[from..n): a search for its bytes at
 * rare[0] and rare[1] (SSE2) or memchr for the first, then a compare
 * where it stands; NULL when there is none. */
const char *ks_rxlit_find(const char *lit, size_t litlen,
    const size_t rare[2], const char *buf, size_t n, size_t from);

#endif
