/*
 * wire: SPEC §2 frames on plain descriptors, for the bench driver and
 * its floor helper. Deliberately minimal (two reads per frame, one
 * writev per reply), so that the floor costs what framing must cost.
 */
#ifndef KS_BENCH_WIRE_H
#define KS_BENCH_WIRE_H

#include <stddef.h>

/* A growable buffer. Zero-initialise; free p. */
struct ks_wbuf {
	char *p;
	size_t len, cap;
};

/* Makes room for n bytes in total, at least doubling; returns 0 or -1
 * (out of memory). */
int ks_wire_reserve(struct ks_wbuf *b, size_t n);

/* Writes all of p[0..n) (looping over EINTR and short writes); 0 or -1. */
int ks_wire_write(int fd, const void *p, size_t n);

/* Sends one frame: the 4-byte big-endian length, then p[0..n). 0 or -1. */
int ks_wire_send(int fd, const void *p, size_t n);

/*
 * Reads one frame into b (b->len is its payload length, b->p[len] a
 * NUL). Returns 1 for a frame, 0 at end of stream before the first
 * length byte, -1 on a read error or a frame cut short (errno EPROTO).
 */
int ks_wire_recv(int fd, struct ks_wbuf *b);

#endif
