/*
 * rxsize: whether regex 1.7 would refuse a pattern as too big once
 * compiled ("Compiled regex exceeds size limit of 10485760 bytes.").
 */
#ifndef KS_RXSIZE_H
#define KS_RXSIZE_H

#include <stdbool.h>

#include "rxlex.h"

#define KS_RXSIZE_LIMIT (10u << 20)

/*
 * True when the tree at root would pass the limit: costs measured on
 * the reference crates for the common atoms, estimated from the ranges
 * of other classes (measured by scanning only when the quick bound,
 * every class as costly as \w, says it might matter).
 */
bool ks_rxsize_too_big(const struct ks_rx_node *root);

#endif
