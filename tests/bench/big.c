/*
 * big: a 50 MB file read and written in parts (the read offset and
 * write_part extensions), each beside a raw read(2) of the same file and
 * a raw atomic write (temporary file, write, fsync, rename) of the same
 * bytes from this process. Rates are MB (10^6 bytes) of file per second.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "proc.h"

#define BIG_BYTES (50u << 20)
/* The bytes of one write part: 200 parts for the file. */
#define BIG_PART (BIG_BYTES / 200)
#define R_BIG 5

/* Source-like bytes: digits and letters, as code and logs are. */
static void
big_fill(char *p, size_t n)
{
	static const char text[] = "int value_0042 = compute(alpha, 7919);\n";

	for (size_t i = 0; i < n; i++)
		p[i] = text[i % (sizeof(text) - 1)];
}

/* Appends the write_part request for part i of data to w. */
static void
part_req(struct ks_wbuf *w, const char *path, const char *data, size_t i)
{
	size_t o;
	const unsigned char *d = (const unsigned char *)data + i * BIG_PART;

	if (ks_wire_reserve(w, 4 * BIG_PART + 4096) < 0)
		err(1, "out of memory");
	o = (size_t)snprintf(w->p, w->cap, "{\"kind\":\"write_part\",\"path\":"
	    "\"%s\",\"offset\":%zu,\"last\":%s,\"content\":[", path,
	    i * BIG_PART, (i + 1) * BIG_PART == BIG_BYTES ? "true" : "false");
	for (size_t j = 0; j < BIG_PART; j++) {
		if (j > 0)
			w->p[o++] = ',';
		if (d[j] >= 100)
			w->p[o++] = (char)('0' + d[j] / 100);
		if (d[j] >= 10)
			w->p[o++] = (char)('0' + d[j] / 10 % 10);
		w->p[o++] = (char)('0' + d[j] % 10);
	}
	w->p[o++] = ']';
	w->p[o++] = '}';
	w->len = o;
}

/* Reads the file in parts through p until eof; -1 on a failure. */
static int
read_parts(struct ks_bench *b, struct ks_proc *p, const char *path)
{
	char req[PATH_MAX + 128];
	const char *q;
	size_t off = 0;
	int n;

	for (;;) {
		n = snprintf(req, sizeof(req), "{\"kind\":\"read\",\"path\":"
		    "\"%s\",\"offset\":%zu}", path, off);
		if (ks_proc_call(p, req, (size_t)n, &b->reply) < 0 ||
		    (q = strstr(b->reply.p, "\"next_offset\":")) == NULL)
			return -1;
		off = strtoull(q + 14, NULL, 10);
		if (strstr(b->reply.p, "\"eof\":true") != NULL)
			return off == BIG_BYTES ? 0 : -1;
	}
}

static int
write_parts(struct ks_bench *b, struct ks_proc *p, const char *path,
    const char *data)
{
	struct ks_wbuf req = { 0 };
	int rc = 0;

	for (size_t i = 0; i < BIG_BYTES / BIG_PART && rc == 0; i++) {
		part_req(&req, path, data, i);
		if (ks_proc_call(p, req.p, req.len, &b->reply) < 0 ||
		    strstr(b->reply.p, "\"bytes_staged\"") == NULL)
			rc = -1;
	}
	free(req.p);
	return rc;
}

/* The raw floors: read(2) of the file; an atomic replace of the bytes. */
static int
raw_read(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, 1 << 20)) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

static int
raw_write(const char *path, const char *data)
{
	char tmp[PATH_MAX + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	if (ks_wire_write(fd, data, BIG_BYTES) < 0 || fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/* One timed run of k (0 ours read, 1 raw read, 2 ours write, 3 raw). */
static void
big_once(struct ks_bench *b, struct ks_proc *p, int k, const char *rpath,
    const char *wpath, char *data, struct ks_series s[4])
{
	double t0 = ks_now();
	int rc;

	switch (k) {
	case 0:
		rc = read_parts(b, p, rpath);
		break;
	case 1:
		rc = raw_read(rpath, data);
		break;
	case 2:
		rc = write_parts(b, p, wpath, data);
		break;
	default:
		rc = raw_write(wpath, data);
		break;
	}
	if (rc < 0) {
		ks_note(b, "50 MB in parts: run %d failed: %.160s", k,
		    b->reply.p != NULL ? b->reply.p : strerror(errno));
		return;
	}
	ks_add(&s[k], ks_now() - t0);
}

void
ks_group_big(struct ks_bench *b)
{
	struct ks_series s[4] = { 0 };
	char rpath[PATH_MAX], wpath[PATH_MAX];
	char *data = malloc(BIG_BYTES);
	struct ks_row *r;
	struct ks_proc p;
	int ord[4], fd;

	printf("50 MB in parts ...\n");
	fflush(stdout);
	if (data == NULL)
		err(1, "out of memory");
	big_fill(data, BIG_BYTES);
	snprintf(rpath, sizeof(rpath), "%s/big-read", b->work);
	snprintf(wpath, sizeof(wpath), "%s/big-write", b->work);
	if ((fd = open(rpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0 || ks_wire_write(fd, data, BIG_BYTES) < 0 ||
	    close(fd) < 0)
		err(1, "write %s", rpath);
	ks_start(b, "ours", b->worker, false, &p);
	for (int i = 0; i < ks_reps(b, R_BIG); i++) {
		ks_shuffle(b, ord, 4);
		for (int m = 0; m < 4; m++)
			big_once(b, &p, ord[m], rpath, wpath, data, s);
	}
	ks_stop(b, "ours", &p);
	r = ks_row_add(b, "read 50 MB in parts", &s[0], "raw read(2)", &s[1],
	    NULL);
	r->work = BIG_BYTES / 1e6;
	r->rate_unit = "MB/s file";
	r = ks_row_add(b, "write 50 MB in parts", &s[2], "raw atomic write",
	    &s[3], NULL);
	r->work = BIG_BYTES / 1e6;
	r->rate_unit = "MB/s file";
	for (int k = 0; k < 4; k++)
		ks_series_free(&s[k]);
	free(data);
}
