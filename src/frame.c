/*
 * frame: the wire's framing on file descriptors. The reader buffers so
 * that a small request costs one read(2), and never allocates more than
 * one maximal frame, whatever length a peer claims.
 */
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

#define READ_CHUNK 65536

int
ks_buf_reserve(struct ks_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->cap - b->len >= n)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
ks_buf_put(struct ks_buf *b, const void *s, size_t n)
{
	if (ks_buf_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

void
ks_buf_free(struct ks_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
ks_reader_free(struct ks_reader *r)
{
	ks_buf_free(&r->in);
	r->off = 0;
}

/* Reads until at least want unconsumed bytes are buffered. Returns 1,
 * 0 at end of stream, or a negative errno. */
static int
fill(struct ks_reader *r, size_t want)
{
	struct ks_buf *b = &r->in;
	size_t room;
	ssize_t n;

	if (r->off > 0 && b->len - r->off < want) {
		memmove(b->p, b->p + r->off, b->len - r->off);
		b->len -= r->off;
		r->off = 0;
	}
	while (b->len - r->off < want) {
		room = want - (b->len - r->off);
		if (room < READ_CHUNK)
			room = READ_CHUNK;
		if (ks_buf_reserve(b, room) < 0)
			return -ENOMEM;
		n = read(r->fd, b->p + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
	return 1;
}

static int
read_failed(struct ks_err *err, int rc)
{
	char os[300];

	ks_err_os_text(os, sizeof(os), -rc);
	return ks_err_set(err, rc, KS_CODE_PROTOCOL, "%s", os);
}

void
ks_reader_trim(struct ks_reader *r, size_t keep)
{
	if (r->in.cap > keep && r->off == r->in.len)
		ks_reader_free(r);
}

int
ks_frame_head(struct ks_reader *r, size_t *len, struct ks_err *err)
{
	const unsigned char *h;
	size_t have;
	uint32_t n;
	int rc;

	if ((rc = fill(r, 4)) < 0)
		return read_failed(err, rc);
	have = r->in.len - r->off;
	if (rc == 0 && have == 0)
		return 0;
	if (rc == 0)
		return ks_err_set(err, EPROTO, KS_CODE_PROTOCOL,
		    "EOF after %zu of 4 length-prefix bytes", have);
	h = (const unsigned char *)r->in.p + r->off;
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | h[2] << 8 | h[3];
	if (n > KS_FRAME_MAX)
		return ks_err_set(err, EMSGSIZE, KS_CODE_PROTOCOL,
		    "payload size %u exceeds max %u", n, KS_FRAME_MAX);
	r->off += 4;
	r->left = n;
	*len = n;
	return 1;
}

int
ks_frame_peek(struct ks_reader *r, size_t want, const char **p,
    size_t *avail, struct ks_err *err)
{
	int rc;

	if (want > r->left)
		want = r->left;
	if ((rc = fill(r, want)) < 0)
		return read_failed(err, rc);
	if (rc == 0)
		return ks_err_set(err, EPROTO, KS_CODE_PROTOCOL, "early eof");
	*p = r->in.p + r->off;
	*avail = r->in.len - r->off < r->left ? r->in.len - r->off : r->left;
	return 1;
}

void
ks_frame_consume(struct ks_reader *r, size_t n)
{
	r->off += n;
	r->left -= n;
}

int
ks_frame_read(struct ks_reader *r, const char **payload, size_t *len,
    struct ks_err *err)
{
	int rc;

	if ((rc = ks_frame_head(r, len, err)) <= 0)
		return rc;
	if ((rc = ks_frame_peek(r, *len, payload, len, err)) < 0)
		return rc;
	ks_frame_consume(r, *len);
	return 1;
}

int
ks_frame_begin(struct ks_buf *b)
{
	b->len = 0;
	return ks_buf_reserve(b, 4) < 0 ? -ENOMEM : (b->len = 4, 0);
}

size_t
ks_frame_size(const struct ks_buf *b)
{
	return b->len - 4;
}

int
ks_frame_send(int fd, struct ks_buf *b, struct ks_err *err)
{
	size_t n = ks_frame_size(b), off = 0;
	unsigned char *h = (unsigned char *)b->p;
	ssize_t w;

	if (n > KS_FRAME_MAX)
		return ks_err_set(err, EMSGSIZE, KS_CODE_INTERNAL,
		    "outgoing payload size %zu exceeds max %u", n,
		    KS_FRAME_MAX);
	h[0] = n >> 24;
	h[1] = n >> 16;
	h[2] = n >> 8;
	h[3] = n;
	while (off < b->len) {
		w = write(fd, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ks_err_os(err, errno);
		off += (size_t)w;
	}
	return 0;
}

char *
ks_read_file(const char *file, size_t *len)
{
	struct ks_buf b = { 0 };
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO :
	    open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = 1;

	while (fd >= 0 && n != 0) {
		if (ks_buf_reserve(&b, 65536) < 0) {
			errno = ENOMEM;
			break;
		}
		if ((n = read(fd, b.p + b.len, b.cap - b.len - 1)) < 0 &&
		    errno != EINTR)
			break;
		b.len += n > 0 ? (size_t)n : 0;
	}
	if (fd > STDIN_FILENO)
		close(fd);
	if (n != 0) {
		ks_buf_free(&b);
		return NULL;
	}
	b.p[b.len] = '\0';
	*len = b.len;
	return b.p;
}
