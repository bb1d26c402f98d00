/*
 * wire: frames on descriptors for the bench (see wire.h).
 */
#include "wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

int
ks_wire_reserve(struct ks_wbuf *b, size_t n)
{
	char *p;

	if (n <= b->cap)
		return 0;
	if (n < b->cap * 2)
		n = b->cap * 2;		/* appending stays linear */
	if ((p = realloc(b->p, n)) == NULL)
		return -1;
	b->p = p;
	b->cap = n;
	return 0;
}

int
ks_wire_write(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ks_wire_send(int fd, const void *p, size_t n)
{
	unsigned char h[4] = { n >> 24, n >> 16, n >> 8, n };
	struct iovec iov[2] = { { h, 4 }, { (void *)p, n } };
	ssize_t w;

	while ((w = writev(fd, iov, 2)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return -1;
	if ((size_t)w == n + 4)
		return 0;
	/* A pipe took part of it: finish with plain writes. */
	if ((size_t)w < 4 && ks_wire_write(fd, h + w, 4 - (size_t)w) < 0)
		return -1;
	w = (size_t)w < 4 ? 0 : w - 4;
	return ks_wire_write(fd, (const char *)p + w, n - (size_t)w);
}

/* Reads exactly n bytes; returns n, 0 at end of stream before any
 * byte, or -1 (EPROTO when the stream ended part-way). */
static ssize_t
read_full(int fd, char *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, p + got, n - got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)n;
}

int
ks_wire_recv(int fd, struct ks_wbuf *b)
{
	unsigned char h[4];
	ssize_t r;
	size_t n;

	if ((r = read_full(fd, (char *)h, 4)) <= 0)
		return (int)r;
	n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (ks_wire_reserve(b, n + 1) < 0)
		return -1;
	if (n > 0 && read_full(fd, b->p, n) <= 0) {
		errno = EPROTO;
		return -1;
	}
	b->p[n] = '\0';
	b->len = n;
	return 1;
}
