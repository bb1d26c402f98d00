/*
 * groups: the protocol figures: spawn to first pong, ping, and read,
 * write and edit of files. Each loop runs ours, the floor and the other
 * worker one after the other, so that a slow moment of the machine
 * lands on all of them alike, starting with each in turn, so that none
 * always follows the same one.
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define N_SPAWN	1000		/* spawns of each kind */
#define R_PING	7		/* rounds of pings, fresh sessions */
#define N_PING	4000		/* pings on each session per round */
#define R_FILES	12		/* rounds of file operations, fresh workers */
#define N_READ	50		/* reads of each size per round */
#define N_WRITE	16		/* writes of each size per round */
#define N_EDIT	40		/* edits per round */

static const size_t sizes[] = { 4096, 65536, 262144 };
/* The sessions of the file group, in this order. */
static const char *const file_who[3] = { "ours", "floor", "other" };
static const char *const size_names[] = { "4 KiB", "64 KiB", "256 KiB" };
#define NSIZES 3

/* argv of a worker: bin [--socket sock] [--root work]. */
static void
worker_argv(const struct ks_bench *b, const char *bin, const char *sock,
    char *argv[6])
{
	int i = 0;

	argv[i++] = (char *)bin;
	if (sock != NULL) {
		argv[i++] = "--socket";
		argv[i++] = (char *)sock;
	}
	if (!b->legacy) {
		argv[i++] = "--root";
		argv[i++] = (char *)b->work;
	}
	argv[i] = NULL;
}

/* Whether reply r is of kind: its bytes start {"kind":"KIND". */
static bool
is_kind(const struct ks_wbuf *r, const char *kind)
{
	size_t n = strlen(kind);

	return r->len > 9 + n && memcmp(r->p, "{\"kind\":\"", 9) == 0 &&
	    memcmp(r->p + 9, kind, n) == 0 && r->p[9 + n] == '"';
}

/*
 * Times one call on p into s; a transport failure or a reply of another
 * kind (kind NULL: any) is noted, not timed. Returns 0 or -1.
 */
static int
timed(struct ks_bench *b, struct ks_proc *p, const char *who,
    const char *what, const struct ks_wbuf *req, const char *kind,
    struct ks_series *s)
{
	double t0;

	if (p->dead)
		return -1;
	t0 = ks_now();
	if (ks_proc_call(p, req->p, req->len, &b->reply) < 0) {
		ks_note(b, "%s: %s: transport failed: %s", who, what,
		    strerror(errno));
		return -1;
	}
	if (kind != NULL && !is_kind(&b->reply, kind)) {
		ks_note(b, "%s: %s: %.160s", who, what, b->reply.p);
		return -1;
	}
	ks_add(s, ks_now() - t0);
	return 0;
}

/* Appends s[0..n) to w. */
static void
put(struct ks_wbuf *w, const char *s, size_t n)
{
	if (ks_wire_reserve(w, w->len + n + 1) < 0)
		err(1, "out of memory");
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

static void
putf(struct ks_wbuf *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct ks_wbuf *w, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(1, "out of memory");
	put(w, s, (size_t)n);
	free(s);
}

void
ks_start(struct ks_bench *b, const char *who, const char *bin, bool sock,
    struct ks_proc *p)
{
	char path[PATH_MAX], *argv[6];
	int rc;

	*p = (struct ks_proc){ .pid = -1, .to = -1, .from = -1, .aux = -1,
	    .dead = true };
	if (bin == NULL)
		return;
	snprintf(path, sizeof(path), "%s/w.sock", b->work);
	if (sock)
		unlink(path);
	worker_argv(b, bin, sock ? path : NULL, argv);
	if (strcmp(who, "floor") == 0) {
		argv[1] = NULL;
		rc = sock ? ks_proc_spawn_pair(p, bin) : ks_proc_spawn(p, argv);
	} else if (sock)
		rc = ks_proc_spawn_socket(p, argv, path);
	else
		rc = ks_proc_spawn(p, argv);
	if (rc < 0) {
		ks_note(b, "%s: start %s: %s", who, bin, strerror(errno));
		p->dead = true;
	}
}

void
ks_stop(struct ks_bench *b, const char *who, struct ks_proc *p)
{
	pid_t pid = p->pid;
	int st = ks_proc_close(p);

	if (pid > 0 && st != 0)
		ks_note(b, "%s: wait status %#x at the end of a session", who,
		    st);
}

/* Spawns bin and pings it once: one sample of spawn -> first pong into
 * t. */
static void
spawn_once(struct ks_bench *b, const char *who, const char *bin, bool sock,
    struct ks_series *t)
{
	struct ks_proc p;
	double t0 = ks_now();
	int st;

	ks_start(b, who, bin, sock, &p);
	if (ks_proc_call(&p, KS_PING, strlen(KS_PING), &b->reply) == 0 &&
	    is_kind(&b->reply, "pong")) {
		ks_add(t, ks_now() - t0);
		ks_stop(b, who, &p);
		return;
	}
	if ((st = ks_proc_close(&p)) != -1)
		ks_note(b, "%s: %s%s: no pong; wait status %#x", who, bin,
		    sock ? " --socket" : "", st);
}

static void
free_all(struct ks_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ks_series_free(&s[i]);
}

/* One fork + exec + wait of the static nop into t. */
static void
nop_once(struct ks_bench *b, struct ks_series *t)
{
	char *argv[] = { b->nop, NULL };
	double t0 = ks_now();
	int st;

	if ((st = ks_proc_run(argv, -1, 1, NULL, NULL, NULL)) == 0)
		ks_add(t, ks_now() - t0);
	else
		ks_note(b, "%s: wait status %#x", b->nop, st);
}

/* One spawn of kind k into t[k]: 0 ours stdio, 1 ours --socket, 2 the
 * nop, 3 the other worker. */
static void
spawn_kind(struct ks_bench *b, int k, struct ks_series t[4])
{
	if (k == 2)
		nop_once(b, &t[2]);
	else if (k < 3)
		spawn_once(b, "ours", b->worker, k == 1, &t[k]);
	else if (b->other != NULL)
		spawn_once(b, "other", b->other, false, &t[3]);
}

void
ks_group_spawn(struct ks_bench *b)
{
	struct ks_series t[4] = { 0 };
	struct ks_row *r;
	int ord[4];

	printf("spawn ...\n");
	fflush(stdout);
	for (int i = 0; i < ks_reps(b, N_SPAWN); i++) {
		ks_shuffle(b, ord, 4);
		for (int m = 0; m < 4; m++)
			spawn_kind(b, ord[m], t);
	}
	/* Targets of issue 15 (the first bench asked 1.3x). */
	r = ks_row_add(b, "spawn->pong, stdio", &t[0],
	    "fork+exec+wait static nop", &t[2], &t[3]);
	r->target = KS_T_RATIO;
	r->limit = 1.2;
	r = ks_row_add(b, "spawn->pong, --socket", &t[1],
	    "fork+exec+wait static nop", &t[2], NULL);
	r->target = KS_T_RATIO;
	r->limit = 1.2;
	free_all(t, 4);
}

/* One round of pings on fresh sessions: [0] ours stdio, [1] its pipe
 * floor, [2] ours --socket, [3] its socketpair floor, [4] other stdio;
 * then the peak RSS of 0, 1 and 4 into hwm. */
static void
ping_round(struct ks_bench *b, struct ks_series t[5], struct ks_series hwm[3])
{
	struct ks_wbuf ping = { KS_PING, strlen(KS_PING), 0 };
	static const char *const who[5] = { "ours", "floor", "ours", "floor",
	    "other" };
	const char *bins[5] = { b->worker, b->floor, b->worker, b->floor,
	    b->other };
	static const int rss_of[3] = { 0, 1, 4 };
	struct ks_proc p[5];
	int ord[5];

	for (int k = 0; k < 5; k++)
		ks_start(b, who[k], bins[k], k == 2 || k == 3, &p[k]);
	for (int i = 0; i < N_PING; i++) {
		ks_shuffle(b, ord, 5);
		for (int m = 0; m < 5; m++)
			timed(b, &p[ord[m]], who[ord[m]], "ping", &ping,
			    ord[m] % 2 ? NULL : "pong", &t[ord[m]]);
	}
	for (int k = 0; k < 3; k++)
		if (!p[rss_of[k]].dead)
			ks_add(&hwm[k], (double)ks_proc_hwm(p[rss_of[k]].pid));
	for (int k = 0; k < 5; k++)
		ks_stop(b, who[k], &p[k]);
}

void
ks_group_ping(struct ks_bench *b)
{
	struct ks_series t[5] = { 0 }, hwm[3] = { 0 };
	struct ks_row *r;

	printf("ping ...\n");
	fflush(stdout);
	for (int i = 0; i < ks_reps(b, R_PING); i++)
		ping_round(b, t, hwm);
	r = ks_row_add(b, "ping, stdio", &t[0], "echo floor, pipes", &t[1],
	    &t[4]);
	r->target = KS_T_RATIO;
	r->limit = 1.2;
	r = ks_row_add(b, "ping, --socket", &t[2], "echo floor, socketpair",
	    &t[3], NULL);
	r->target = KS_T_RATIO;
	r->limit = 1.2;
	r = ks_row_add(b, "peak RSS, ping only", &hwm[0], "echo floor (VmHWM)",
	    &hwm[1], &hwm[2]);
	r->bytes = true;
	r->target = KS_T_MAX;
	r->limit = 1.5 * 1024 * 1024;
	free_all(t, 5);
	free_all(hwm, 3);
}

/* Source-like text, ASCII (a byte value of two digits is common enough
 * that 256 KiB of it fits one reply), with "ALPHA_MARKER" in the middle. */
static void
fill(struct ks_wbuf *w, size_t n)
{
	w->len = 0;
	for (unsigned i = 0; w->len < n; i++)
		putf(w, "static int value_%05u = %u;\n", i, i * 7919 % 100000);
	w->len = n;
	memcpy(w->p + n / 2, "ALPHA_MARKER", 12);
}

static void
save(const char *path, const struct ks_wbuf *w)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0 || ks_wire_write(fd, w->p, w->len) < 0 || close(fd) < 0)
		err(1, "write %s", path);
}

/* The requests of one size: read, write for a worker and the floor. */
struct sized {
	char path[PATH_MAX];
	struct ks_wbuf read, fread, write, fwrite;
	size_t reply;		/* our read reply's bytes */
};

static void
sized_init(struct ks_bench *b, struct sized *z, size_t n)
{
	struct ks_wbuf text = { 0 };

	fill(&text, n);
	snprintf(z->path, sizeof(z->path), "%s/r%zu", b->work, n);
	save(z->path, &text);
	putf(&z->read, "{\"kind\":\"read\",\"path\":\"%s\"}", z->path);
	putf(&z->fread, "R%s", z->path);
	putf(&z->write, "{\"kind\":\"write\",\"path\":\"%s/w%zu\","
	    "\"content\":[", b->work, n);
	for (size_t i = 0; i < n; i++)
		putf(&z->write, i ? ",%u" : "%u", (unsigned char)text.p[i]);
	put(&z->write, "]}", 2);
	putf(&z->fwrite, "W%s/w%zu", b->work, n);
	put(&z->fwrite, "", 1);
	put(&z->fwrite, text.p, text.len);
	free(text.p);
}

static void
sized_free(struct sized *z)
{
	free(z->read.p);
	free(z->fread.p);
	free(z->write.p);
	free(z->fwrite.p);
}

/* The series of the file group: [kind][ours, floor, other]. */
enum { READ0, WRITE0 = NSIZES, EDIT = 2 * NSIZES, HWM_READ, HWM_WRITE, NS };

/* One edit by who (k: 0 ours, 1 floor, 2 other) of its own file, back
 * and forth between two markers. */
static void
edit_once(struct ks_bench *b, struct ks_proc *p, int k, int i,
    struct ks_series *s)
{
	const char *from = i % 2 ? "BRAVO_MARKER" : "ALPHA_MARKER";
	const char *to = i % 2 ? "ALPHA_MARKER" : "BRAVO_MARKER";
	struct ks_wbuf req = { 0 };

	if (k == 1) {
		putf(&req, "E%s/e-floor", b->work);
		put(&req, "", 1);
		put(&req, from, strlen(from) + 1);
		put(&req, to, strlen(to));
	} else {
		putf(&req, "{\"kind\":\"edit\",\"path\":\"%s/e-%s\","
		    "\"old_string\":\"%s\",\"new_string\":\"%s\"}", b->work,
		    file_who[k], from, to);
	}
	timed(b, p, file_who[k], "edit 64 KiB", &req, k == 1 ? NULL : "edit",
	    s);
	free(req.p);
}

/* One read or write of z by k (0 ours, 1 the floor, 2 the other). */
static void
rw_once(struct ks_bench *b, struct ks_proc p[3], int k, const struct sized *z,
    bool write, struct ks_series *s)
{
	const struct ks_wbuf *req = write ? (k == 1 ? &z->fwrite : &z->write) :
	    (k == 1 ? &z->fread : &z->read);

	timed(b, &p[k], file_who[k], write ? "write" : "read", req,
	    k == 1 ? NULL : write ? "write" : "read", s);
}

/* The peak RSS of each live session into s. */
static void
hwm_all(struct ks_proc p[3], struct ks_series s[3])
{
	for (int k = 0; k < 3; k++)
		if (!p[k].dead)
			ks_add(&s[k], (double)ks_proc_hwm(p[k].pid));
}

static void
files_round(struct ks_bench *b, struct sized *z, struct ks_series s[][3])
{
	const char *bins[3] = { b->worker, b->floor, b->other };
	struct ks_wbuf text = { 0 };
	char path[PATH_MAX];
	struct ks_proc p[3];
	int ord[3];

	fill(&text, 65536);
	for (int k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/e-%s", b->work, file_who[k]);
		save(path, &text);
		ks_start(b, file_who[k], bins[k], false, &p[k]);
	}
	free(text.p);
	/* Writes first: their peak is their own, not a read reply's. */
	for (int j = 0; j < NSIZES; j++)
		for (int i = 0; i < N_WRITE; i++) {
			ks_shuffle(b, ord, 3);
			for (int m = 0; m < 3; m++)
				rw_once(b, p, ord[m], &z[j], true,
				    &s[WRITE0 + j][ord[m]]);
		}
	hwm_all(p, s[HWM_WRITE]);
	for (int j = 0; j < NSIZES; j++)
		for (int i = 0; i < N_READ; i++) {
			ks_shuffle(b, ord, 3);
			for (int m = 0; m < 3; m++)
				rw_once(b, p, ord[m], &z[j], false,
				    &s[READ0 + j][ord[m]]);
		}
	hwm_all(p, s[HWM_READ]);
	for (int i = 0; i < N_EDIT; i++) {
		ks_shuffle(b, ord, 3);
		for (int m = 0; m < 3; m++)
			edit_once(b, &p[ord[m]], ord[m], i, &s[EDIT][ord[m]]);
	}
	for (int k = 0; k < 3; k++)
		ks_stop(b, file_who[k], &p[k]);
}

static void
files_rows(struct ks_bench *b, struct sized *z, struct ks_series s[][3])
{
	char name[40];
	struct ks_row *r;

	for (int j = 0; j < NSIZES; j++) {
		snprintf(name, sizeof(name), "read %s", size_names[j]);
		r = ks_row_add(b, name, &s[READ0 + j][0], "floor: raw read",
		    &s[READ0 + j][1], &s[READ0 + j][2]);
		r->work = (double)z[j].reply / 1e6;
		r->rate_unit = "MB/s JSON";
		if (sizes[j] == 65536) {
			r->target = KS_T_RATE;
			r->limit = 200;
		}
	}
	for (int j = 0; j < NSIZES; j++) {
		snprintf(name, sizeof(name), "write %s", size_names[j]);
		r = ks_row_add(b, name, &s[WRITE0 + j][0],
		    "floor: raw atomic write", &s[WRITE0 + j][1],
		    &s[WRITE0 + j][2]);
		r->work = (double)z[j].write.len / 1e6;
		r->rate_unit = "MB/s JSON";
		/* Issue 15: 1.2x, 1.3x, 1.5x a raw atomic write. */
		r->target = KS_T_RATIO;
		r->limit = sizes[j] <= 4096 ? 1.2 : sizes[j] <= 65536 ? 1.3 :
		    1.5;
	}
	ks_row_add(b, "edit 64 KiB", &s[EDIT][0], "floor: raw atomic edit",
	    &s[EDIT][1], &s[EDIT][2]);
	r = ks_row_add(b, "peak RSS, after writes", &s[HWM_WRITE][0],
	    "floor (VmHWM)", &s[HWM_WRITE][1], &s[HWM_WRITE][2]);
	r->bytes = true;
	/* "At most 2x the largest write" above an idle worker (the
	 * ping-only target, 1.5 MiB). */
	r->target = KS_T_MAX;
	r->limit = 1.5 * 1024 * 1024 + 2.0 * sizes[NSIZES - 1];
	r = ks_row_add(b, "peak RSS, writes+reads", &s[HWM_READ][0],
	    "floor (VmHWM)", &s[HWM_READ][1], &s[HWM_READ][2]);
	r->bytes = true;
	r->target = KS_T_MAX;
	r->limit = 8.0 * 1024 * 1024;
}

void
ks_group_files(struct ks_bench *b)
{
	struct ks_series s[NS][3] = { 0 };
	struct sized z[NSIZES] = { 0 };
	struct ks_proc p;

	printf("read, write, edit ...\n");
	fflush(stdout);
	for (int j = 0; j < NSIZES; j++) {
		sized_init(b, &z[j], sizes[j]);
		/* The reply size, for the rate: from a session of ours. */
		ks_start(b, "ours", b->worker, false, &p);
		if (timed(b, &p, "ours", "read", &z[j].read, "read",
		    &s[READ0 + j][0]) == 0)
			z[j].reply = b->reply.len;
		ks_stop(b, "ours", &p);
		ks_series_free(&s[READ0 + j][0]);
	}
	for (int r = 0; r < ks_reps(b, R_FILES); r++)
		files_round(b, z, s);
	files_rows(b, z, s);
	for (int j = 0; j < NSIZES; j++)
		sized_free(&z[j]);
	for (int i = 0; i < NS; i++)
		free_all(s[i], 3);
}
