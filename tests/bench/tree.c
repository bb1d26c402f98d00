/*
 * tree: the figures over the generated tree: glob and grep by the
 * workers beside find, rg -j1 and grep -rn, each run in turn; then
 * policy-check in bulk beside realpath(3).
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

#define R_TREE		15	/* rounds over the tree, after a warm-up */
#define R_POLICY	15	/* runs of each policy-check */
#define N_PATHS		100000

/* Planted by mktree: about 3,000 lines (one reply holds them) and 12. */
static const char *const patterns[2] = { "spin_lock_irqsave",
    "xfrm_policy_kill" };
static const char *const pattern_names[2] = { "common", "rare" };

/* Whether DIR.stamp describes a complete tree of the size asked for;
 * reads its counts into b. */
static bool
stamp_ok(struct ks_bench *b)
{
	char path[PATH_MAX + 8];
	long mb = -1;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s.stamp", b->tree);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fscanf(f, "koda-bench-tree 1 mb=%ld files=%ld bytes=%ld "
	    "cfiles=%*d common=%ld rare=%ld", &mb, &b->tree_files,
	    &b->tree_bytes, &b->common, &b->rare);
	fclose(f);
	return n == 5 && mb == b->tree_mb;
}

static void
ensure_tree(struct ks_bench *b)
{
	char mb[24], *argv[] = { b->mktree, b->tree, mb, NULL };
	double t0 = ks_now();

	if (stamp_ok(b))
		return;
	snprintf(mb, sizeof(mb), "%ld", b->tree_mb);
	printf("generating %s (%ld MB; once, reused while its .stamp "
	    "matches) ...\n", b->tree, b->tree_mb);
	fflush(stdout);
	if (ks_proc_run(argv, -1, 1, NULL, NULL, NULL) != 0 || !stamp_ok(b))
		errx(1, "%s %s %s failed", b->mktree, b->tree, mb);
	printf("generated in %.1f s\n", ks_now() - t0);
}

/* What one round measured: [0 glob, 1 common, 2 rare][ours, tool,
 * grep -rn, other], and the peak RSS [ours, rg, other]; over dir, the
 * greps with pat[1] and pat[2], and the glob unless from is 1. */
struct tree_s {
	const char *dir, *pat[3];
	int from;
	struct ks_series t[3][4], hwm[3];
	long found[3][4];		/* paths, matches or lines */
	size_t reply[3];		/* our reply's bytes */
	bool truncated[3];
};

static long
count(const struct ks_wbuf *r, const char *what)
{
	long n = 0;

	for (const char *q = r->p; (q = strstr(q, what)) != NULL; q++)
		n++;
	return n;
}

/* Our (or the other's) request k: 0 glob, 1-2 grep. */
static void
ask(struct ks_bench *b, struct ks_proc *p, const char *who, int k, int col,
    struct tree_s *s)
{
	const char *op = k ? "grep" : "glob";
	char *text;
	double t0;
	int n;

	if (p->dead)
		return;
	n = k == 0 ? asprintf(&text, "{\"kind\":\"glob\",\"pattern\":"
	    "\"**/*.c\",\"root\":\"%s\"}", s->dir) :
	    asprintf(&text, "{\"kind\":\"grep\",\"pattern\":\"%s\","
	    "\"root\":\"%s\"}", s->pat[k], s->dir);
	if (n < 0)
		err(1, "out of memory");
	t0 = ks_now();
	if (ks_proc_call(p, text, (size_t)n, &b->reply) < 0) {
		ks_note(b, "%s: %s: transport failed: %s", who, op,
		    strerror(errno));
	} else if (strncmp(b->reply.p, "{\"kind\":\"", 9) != 0 ||
	    strncmp(b->reply.p + 9, op, 4) != 0) {
		ks_note(b, "%s: %s: %.160s", who, op, b->reply.p);
	} else {
		ks_add(&s->t[k][col], ks_now() - t0);
		s->found[k][col] = count(&b->reply, k ? "{\"path\":" : "\"/");
		if (col == 0) {
			s->reply[k] = b->reply.len;
			s->truncated[k] = strstr(b->reply.p,
			    "\"truncated\":true") != NULL;
		}
	}
	free(text);
}

/* One timed run of a tool over the tree; grep and rg exit 1 when
 * nothing matched. */
static void
run_tool(struct ks_bench *b, char *argv[], struct ks_series *t, long *found,
    struct ks_series *rss)
{
	long bytes, maxrss;
	double t0;
	int st;

	if (argv[0] == NULL)
		return;
	t0 = ks_now();
	st = ks_proc_run(argv, -1, -1, found, &bytes, &maxrss);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		ks_note(b, "%s: wait status %#x", argv[0], st);
		return;
	}
	ks_add(t, ks_now() - t0);
	/* ru_maxrss also counts the image it was forked from (ours): only
	 * a figure above our own peak is the tool's. */
	if (rss != NULL && maxrss > ks_proc_hwm(getpid()))
		ks_add(rss, (double)maxrss);
	else if (rss != NULL)
		ks_note(b, "%s: its peak RSS is hidden by the bench's own",
		    argv[0]);
}

static void
tree_round(struct ks_bench *b, struct tree_s *s, int odd)
{
	char *dir = (char *)s->dir;
	char *find[] = { (char *)b->find, dir, "-name", "*.c", NULL };
	struct ks_proc p[2];

	ks_start(b, "ours", b->worker, false, &p[0]);
	ks_start(b, "other", b->other, false, &p[1]);
	for (int k = s->from; k <= 2; k++) {
		char *pat = (char *)s->pat[k];
		char *rg[] = { (char *)b->rg, "-j1", "-n", pat, dir, NULL };
		char *gr[] = { (char *)b->grep, "-rn", pat, dir, NULL };

		/* ours and the other take turns at going first */
		ask(b, &p[odd], odd ? "other" : "ours", k, odd ? 3 : 0, s);
		if (k == 0)
			run_tool(b, find, &s->t[0][1], &s->found[0][1], NULL);
		else
			run_tool(b, rg, &s->t[k][1], &s->found[k][1],
			    k == 1 ? &s->hwm[1] : NULL);
		if (k > 0)
			run_tool(b, gr, &s->t[k][2], &s->found[k][2], NULL);
		ask(b, &p[!odd], odd ? "ours" : "other", k, odd ? 0 : 3, s);
	}
	if (!p[0].dead)
		ks_add(&s->hwm[0], (double)ks_proc_hwm(p[0].pid));
	if (!p[1].dead)
		ks_add(&s->hwm[2], (double)ks_proc_hwm(p[1].pid));
	ks_stop(b, "ours", &p[0]);
	ks_stop(b, "other", &p[1]);
}

static void
tree_free(struct tree_s *s)
{
	for (int k = 0; k < 3; k++) {
		for (int c = 0; c < 4; c++)
			ks_series_free(&s->t[k][c]);
		ks_series_free(&s->hwm[k]);
	}
}

static void
tree_notes(struct ks_bench *b, const struct tree_s *s)
{
	char other[3][32] = { "", "", "" };

	for (int k = 0; b->other != NULL && k <= 2; k++)
		snprintf(other[k], sizeof(other[k]), ", other %ld",
		    s->found[k][3]);
	ks_note(b, "tree %s: %ld files, %.0f MB, no hidden or ignored "
	    "files; glob **/*.c: ours %ld paths in a %zu KiB reply%s, "
	    "find %ld%s", b->tree, b->tree_files,
	    (double)b->tree_bytes / 1e6, s->found[0][0], s->reply[0] / 1024,
	    s->truncated[0] ? " (truncated)" : "", s->found[0][1], other[0]);
	for (int k = 1; k <= 2; k++)
		ks_note(b, "grep %s '%s' (%ld planted%s): ours %ld matches "
		    "in a %zu KiB reply, %s; rg %ld lines, grep %ld lines%s",
		    pattern_names[k - 1], patterns[k - 1],
		    k == 1 ? b->common : b->rare, k == 1 ? ", chosen to fit "
		    "one 1 MiB reply" : "", s->found[k][0], s->reply[k] / 1024,
		    s->truncated[k] ? "TRUNCATED" : "complete",
		    s->found[k][1], s->found[k][2], other[k]);
}

static void
tree_rows(struct ks_bench *b, struct tree_s *s)
{
	static const char *const base[3] = { NULL, "rg -j1 -n", "grep -rn" };
	char name[40];
	struct ks_row *r;

	r = ks_row_add(b, "glob **/*.c", &s->t[0][0], b->find ?
	    "find -name '*.c'" : "find (not installed)", &s->t[0][1],
	    &s->t[0][3]);
	r->target = KS_T_RATIO;
	r->limit = 1.5;
	for (int k = 1; k <= 2; k++)
		for (int c = 1; c <= 2; c++) {
			snprintf(name, sizeof(name), "grep %s, vs %s",
			    pattern_names[k - 1], c == 1 ? "rg" : "grep");
			r = ks_row_add(b, name, &s->t[k][0], base[c],
			    &s->t[k][c], &s->t[k][3]);
			r->work = (double)b->tree_bytes / 1e6;
			r->rate_unit = "MB/s tree";
			if (c == 1) {
				r->target = KS_T_RATIO;
				r->limit = 1.0;
			}
		}
	r = ks_row_add(b, "peak RSS, after grep", &s->hwm[0],
	    "rg -j1 (ru_maxrss)", &s->hwm[1], &s->hwm[2]);
	r->bytes = true;
}

/* Rounds of s after a warm-up (the page cache, the tools' code). */
static void
tree_rounds(struct ks_bench *b, struct tree_s *s)
{
	struct tree_s warm = *s;

	tree_round(b, &warm, 0);
	tree_free(&warm);
	for (int r = 0; r < ks_reps(b, R_TREE); r++)
		tree_round(b, s, r % 2);
}

void
ks_group_tree(struct ks_bench *b)
{
	struct tree_s s = { .dir = b->tree, .pat = { NULL, patterns[0],
	    patterns[1] } };

	ensure_tree(b);
	printf("glob, grep over %s ...\n", b->tree);
	fflush(stdout);
	tree_rounds(b, &s);
	tree_notes(b, &s);
	tree_rows(b, &s);
	tree_free(&s);
}

/*
 * Grep over the system's C headers (issue 15 names /usr/include): real
 * code, not generated, with a common and a rare literal of glibc's.
 */
#define INCLUDE "/usr/include"

void
ks_group_include(struct ks_bench *b)
{
	struct tree_s s = { .dir = INCLUDE, .pat = { NULL, "__THROW",
	    "EXPORT_SYMBOL" }, .from = 1 };
	struct stat st;
	char name[48];
	struct ks_row *r;

	if (stat(INCLUDE "/stdio.h", &st) != 0 || b->rg == NULL) {
		ks_note(b, "grep over " INCLUDE ": skipped (%s)", b->rg ==
		    NULL ? "rg is not installed" : "no " INCLUDE "/stdio.h");
		return;
	}
	printf("grep over " INCLUDE " ...\n");
	fflush(stdout);
	tree_rounds(b, &s);
	for (int k = 1; k <= 2; k++) {
		ks_note(b, "grep " INCLUDE " '%s': ours %ld matches in a %zu "
		    "KiB reply, %s; rg %ld lines, grep %ld lines", s.pat[k],
		    s.found[k][0], s.reply[k] / 1024, s.truncated[k] ?
		    "TRUNCATED" : "complete", s.found[k][1], s.found[k][2]);
		snprintf(name, sizeof(name), "grep " INCLUDE " %s",
		    pattern_names[k - 1]);
		r = ks_row_add(b, name, &s.t[k][0], "rg -j1 -n", &s.t[k][1],
		    &s.t[k][3]);
		r->target = KS_T_RATIO;
		r->limit = 1.0;
	}
	tree_free(&s);
}

/* The policy-check input: N_PATHS paths around the tree's files. */
struct paths {
	char **v;
	size_t n, files;
};

static struct paths *collecting;

static int
collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct paths *ps = collecting;

	(void)st;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	if ((ps->v[ps->files++] = strdup(path)) == NULL)
		err(1, "out of memory");
	return ps->files == N_PATHS;
}

/*
 * One path of five kinds, each a fifth: a file of the tree, a new file
 * beside it, one behind a missing directory and "..", one outside the
 * root, one in a .git/hooks directory (the last two are denied writes).
 */
static char *
make_path(char *const *files, size_t nfiles, size_t i)
{
	const char *f = files[i / 5 % nfiles], *slash = strrchr(f, '/');
	int d = (int)(slash - f);
	char *s = NULL;
	int n = -1;

	switch (i % 5) {
	case 0: n = asprintf(&s, "%s", f); break;
	case 1: n = asprintf(&s, "%.*s/new-%zu.c", d, f, i); break;
	case 2: n = asprintf(&s, "%.*s/gone-%zu/../x.c", d, f, i); break;
	case 3: n = asprintf(&s, "/etc/koda-bench/%zu", i); break;
	case 4: n = asprintf(&s, "%.*s/.git/hooks/h%zu", d, f, i); break;
	}
	if (n < 0)
		err(1, "out of memory");
	return s;
}

/* Writes the paths, one a line, to a file of the work directory; fills
 * ps->v with all of them. Returns the file, open for reading. */
static int
paths_file(struct ks_bench *b, struct paths *ps)
{
	char path[PATH_MAX + 8];
	char **files;
	FILE *f;
	int fd;

	if ((ps->v = calloc(N_PATHS, sizeof(*ps->v))) == NULL)
		err(1, "out of memory");
	collecting = ps;
	if (nftw(b->tree, collect, 32, FTW_PHYS) < 0 || ps->files == 0)
		err(1, "walk %s", b->tree);
	files = ps->v;
	if ((ps->v = calloc(N_PATHS, sizeof(*ps->v))) == NULL)
		err(1, "out of memory");
	snprintf(path, sizeof(path), "%s/paths", b->work);
	if ((f = fopen(path, "we")) == NULL)
		err(1, "%s", path);
	for (ps->n = 0; ps->n < N_PATHS; ps->n++) {
		ps->v[ps->n] = make_path(files, ps->files, ps->n);
		fprintf(f, "%s\n", ps->v[ps->n]);
	}
	if (fclose(f) == EOF || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err(1, "write %s", path);
	for (size_t i = 0; i < ps->files; i++)
		free(files[i]);
	free(files);
	return fd;
}

/* One policy-check run over the paths on fd; its denials into *denied. */
static void
check_run(struct ks_bench *b, const char *op, int fd, struct ks_series *t,
    long *denied)
{
	char *argv[] = { (char *)b->sandbox, "policy-check", "--root",
	    b->tree, (char *)op, "-", NULL };
	long bytes;
	double t0;
	int st;

	if (lseek(fd, 0, SEEK_SET) < 0)
		err(1, "rewind the paths");
	t0 = ks_now();
	st = ks_proc_run(argv, fd, -1, denied, &bytes, NULL);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		ks_note(b, "policy-check %s: wait status %#x", op, st);
		return;
	}
	ks_add(t, ks_now() - t0);
}

static void
realpath_run(const struct paths *ps, struct ks_series *t)
{
	char buf[PATH_MAX];
	double t0 = ks_now();

	for (size_t i = 0; i < ps->n; i++)
		(void)!realpath(ps->v[i], buf);
	ks_add(t, ks_now() - t0);
}

void
ks_group_policy(struct ks_bench *b)
{
	struct ks_series t[3] = { 0 };	/* write, read, realpath */
	struct paths ps = { 0 };
	long denied[2] = { 0 };
	struct ks_row *r;
	int fd;

	printf("policy-check ...\n");
	fflush(stdout);
	fd = paths_file(b, &ps);
	for (int i = 0; i < ks_reps(b, R_POLICY); i++) {
		check_run(b, "write", fd, &t[0], &denied[0]);
		check_run(b, "read", fd, &t[1], &denied[1]);
		realpath_run(&ps, &t[2]);
	}
	for (int k = 0; k < 2; k++) {
		r = ks_row_add(b, k ? "policy-check read" :
		    "policy-check write", &t[k], "realpath(3) loop", &t[2],
		    NULL);
		r->work = N_PATHS;
		r->rate_unit = "paths/s";
		r->target = KS_T_RATE;
		r->limit = 100000;
	}
	ks_note(b, "policy-check: %d paths (existing, new, behind "
	    "missing/.., outside the root, in .git/hooks), --root the "
	    "tree: write denied %ld, read denied %ld", N_PATHS, denied[0],
	    denied[1]);
	close(fd);
	for (size_t i = 0; i < ps.n; i++)
		free(ps.v[i]);
	free(ps.v);
	for (int k = 0; k < 3; k++)
		ks_series_free(&t[k]);
}
