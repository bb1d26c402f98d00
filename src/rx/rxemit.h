/*
 * rxemit: a parsed Rust regex written out as a PCRE2 pattern (rxemit.c).
 */
#ifndef KS_RXEMIT_H
#define KS_RXEMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rxclass.h"
#include "rxparse.h"

/* The writer: the text, PCRE2's (?i) state where it ends, the error. */
struct em {
	struct ks_rxbuf out;
	bool ci;
	const char *why;
	struct ks_rx_node **scan;	/* classes to check for emptiness */
	size_t nscan, capscan;
};

/* Writes n and what it holds to e->out; an error in e->why. */
void ks_rxem_emit(struct em *e, const struct ks_rx_node *n);
/* Appends s to e->out. */
void ks_rxem_str(struct em *e, const char *s);
/* Writes one literal node, escaped, under e's (?i) state. */
void ks_rxem_lit(struct em *e, const struct ks_rx_node *n);
/* c as UTF-8 into u[0..4); its length. */
size_t ks_rx_u8enc(uint32_t c, char *u);

#endif
