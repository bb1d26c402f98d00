/*
 * floor: the baseline server of the bench. It speaks frames on fd 0
 * (a socketpair end) and answers with the least work each operation
 * needs, without JSON or a policy:
 *   "{..."                 echo the frame back (the ping floor);
 *   "R" PATH               reply the file's raw bytes;
 *   "W" PATH "\0" BYTES    replace the file atomically (temporary file
 *                          beside it, write, fsync, rename); reply "ok";
 *   "E" PATH "\0" OLD "\0" NEW
 *                          replace OLD's first occurrence, atomically.
 * It exits at end of stream, and with status 1 on any failure.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

/* The whole file into b; -1 on failure. */
static int
slurp(const char *path, struct ks_wbuf *b)
{
	struct stat st;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) == 0 &&
	    ks_wire_reserve(b, (size_t)st.st_size + 1) == 0 &&
	    (r = read(fd, b->p, (size_t)st.st_size + 1)) >= 0) {
		b->len = (size_t)r;
		rc = 0;
	}
	close(fd);
	return rc;
}

/* Replaces path with a, b, c written to a temporary file, fsynced. */
static int
replace(const char *path, const char *a, size_t alen, const char *b,
    size_t blen, const char *c, size_t clen)
{
	char tmp[4096];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.floor-tmp", path) >=
	    sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	rc = ks_wire_write(fd, a, alen) | ks_wire_write(fd, b, blen) |
	    ks_wire_write(fd, c, clen) | fsync(fd);
	if (close(fd) < 0 || rc != 0 || rename(tmp, path) < 0)
		return -1;
	return 0;
}

static int
edit(const char *req, size_t len, struct ks_wbuf *file)
{
	const char *end = req + len, *old, *new, *at;

	if ((old = memchr(req, '\0', len)) == NULL)
		return -1;
	old++;
	if ((new = memchr(old, '\0', (size_t)(end - old))) == NULL)
		return -1;
	new++;
	if (slurp(req, file) < 0 ||
	    (at = memmem(file->p, file->len, old, strlen(old))) == NULL)
		return -1;
	return replace(req, file->p, (size_t)(at - file->p), new,
	    strlen(new), at + strlen(old),
	    file->len - (size_t)(at - file->p) - strlen(old));
}

static int
serve(struct ks_wbuf *req, struct ks_wbuf *file)
{
	const char *p = req->p + 1;
	size_t n = req->len - 1, plen;

	switch (req->p[0]) {
	case '{':
		return ks_wire_send(1, req->p, req->len);
	case 'R':
		if (slurp(p, file) < 0)
			return -1;
		return ks_wire_send(1, file->p, file->len);
	case 'W':
		plen = strnlen(p, n);
		if (plen == n || replace(p, p + plen + 1, n - plen - 1, "", 0,
		    "", 0) < 0)
			return -1;
		return ks_wire_send(1, "ok", 2);
	case 'E':
		if (edit(p, n, file) < 0)
			return -1;
		return ks_wire_send(1, "ok", 2);
	default:
		return -1;
	}
}

int
main(void)
{
	struct ks_wbuf req = { 0 }, file = { 0 };
	int rc;

	while ((rc = ks_wire_recv(0, &req)) == 1) {
		if (req.len == 0 || serve(&req, &file) < 0)
			err(1, "request '%.40s'", req.p);
	}
	if (rc < 0)
		err(1, "read frame");
	free(req.p);
	free(file.p);
	return 0;
}
