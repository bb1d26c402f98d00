/*
 * bench: the driver of `make bench` (tests/bench/README). Runs each
 * figure beside its baseline, interleaved, takes medians and prints one
 * table: the figure, its baseline, their ratio and the target.
 * A missed target is reported, never an error: the exit status says
 * only whether the bench itself could run.
 *
 * usage: bench WORKER SANDBOX HELPERDIR
 *   WORKER   our koda-fs-worker; SANDBOX our koda-sandbox (policy-check);
 *   HELPERDIR holds floor, nop and mktree.
 * Environment: KODA_BENCH_OTHER (another worker to compare with),
 * KODA_BENCH_MODE (root, the default, or legacy), BENCH_TREE_MB (200),
 * BENCH_QUICK (1: a fifth of the repetitions, for a smoke test), TMPDIR.
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

double
ks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
ks_add(struct ks_series *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			err(1, "out of memory");
	}
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
ks_median(struct ks_series *s)
{
	if (s == NULL || s->n == 0)
		return NAN;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	return s->n % 2 ? s->v[s->n / 2] :
	    (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

void
ks_shuffle(struct ks_bench *b, int *ord, int n)
{
	for (int i = 0; i < n; i++)
		ord[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j, t;

		b->rng ^= b->rng << 13;
		b->rng ^= b->rng >> 7;
		b->rng ^= b->rng << 17;
		j = (int)(b->rng % (unsigned long)(i + 1));
		t = ord[i];
		ord[i] = ord[j];
		ord[j] = t;
	}
}

int
ks_reps(const struct ks_bench *b, int n)
{
	return n / b->scale > 0 ? n / b->scale : 1;
}

void
ks_series_free(struct ks_series *s)
{
	free(s->v);
	*s = (struct ks_series){ 0 };
}

struct ks_row *
ks_row_add(struct ks_bench *b, const char *name, struct ks_series *ours,
    const char *base_name, struct ks_series *base, struct ks_series *other)
{
	struct ks_row *r;

	if (b->nrows == KS_MAX_ROWS)
		errx(1, "too many rows");
	r = &b->rows[b->nrows++];
	*r = (struct ks_row){ .ours = ks_median(ours),
	    .base = ks_median(base), .other = ks_median(other) };
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->base_name, sizeof(r->base_name), "%s",
	    base_name ? base_name : "-");
	return r;
}

void
ks_note(struct ks_bench *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		err(1, "out of memory");
	va_end(ap);
	for (int i = 0; i < b->nnotes; i++)
		if (strcmp(b->notes[i], s) == 0) {
			free(s);
			return;
		}
	if (b->nnotes == KS_MAX_NOTES) {
		free(s);
		return;
	}
	b->notes[b->nnotes++] = s;
}

/* A value in the row's unit: time adapts us/ms/s, RSS is MiB. */
static void
fmt_value(char *buf, size_t n, double v, bool bytes)
{
	if (isnan(v))
		snprintf(buf, n, "n/a");
	else if (bytes)
		snprintf(buf, n, "%.2f MiB", v / (1024.0 * 1024.0));
	else if (v < 1e-3)
		snprintf(buf, n, "%.1f us", v * 1e6);
	else if (v < 1.0)
		snprintf(buf, n, "%.2f ms", v * 1e3);
	else
		snprintf(buf, n, "%.2f s", v);
}

static void
fmt_rate(char *buf, size_t n, const struct ks_row *r)
{
	double rate = r->work / r->ours;

	if (r->rate_unit == NULL || isnan(rate))
		snprintf(buf, n, "-");
	else if (rate >= 1e4)
		snprintf(buf, n, "%.0f %s", rate, r->rate_unit);
	else
		snprintf(buf, n, "%.1f %s", rate, r->rate_unit);
}

static void
fmt_ratio(char *buf, size_t n, double a, double b)
{
	if (isnan(a) || isnan(b) || b == 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, a / b < 10 ? "%.3fx" : "%.1fx", a / b);
}

/* The target's text, and whether the row meets it (1), misses (0), or
 * has nothing to judge (-1). */
static int
judge(const struct ks_row *r, char *buf, size_t n)
{
	switch (r->target) {
	case KS_T_NONE:
		snprintf(buf, n, "-");
		return -1;
	case KS_T_RATIO:
		snprintf(buf, n, "<= %.1fx base", r->limit);
		return isnan(r->ours) || isnan(r->base) ? -1 :
		    r->ours / r->base <= r->limit;
	case KS_T_RATE:
		snprintf(buf, n, ">= %.0f %s", r->limit, r->rate_unit);
		return isnan(r->ours) ? -1 : r->work / r->ours >= r->limit;
	case KS_T_MAX:
		snprintf(buf, n, "<= %.1f MiB", r->limit / (1024.0 * 1024.0));
		return isnan(r->ours) ? -1 : r->ours <= r->limit;
	}
	return -1;
}

/* The columns up to the result's. */
#define ROW "%-24s %11s %18s  %-26s %11s %7s  %-19s "

static void
print_table(const struct ks_bench *b)
{
	char ours[24], rate[32], base[24], ratio[16], target[32], other[24],
	    vs[16];
	static const char *const verdict[] = { "-", "MISS", "PASS" };

	printf(b->other ? "\n" ROW "%-6s" : "\n" ROW "%s", "figure",
	    "ours", "rate (ours)", "baseline", "base", "ratio", "target",
	    "result");
	printf(b->other ? " %11s %10s\n" : "\n", "other", "ours/other");
	/* Times first, then the RSS rows together. */
	for (int i = 0; i < 2 * b->nrows; i++) {
		const struct ks_row *r = &b->rows[i % b->nrows];
		int v;

		if (r->bytes != (i >= b->nrows))
			continue;
		v = judge(r, target, sizeof(target));
		fmt_value(ours, sizeof(ours), r->ours, r->bytes);
		fmt_rate(rate, sizeof(rate), r);
		fmt_value(base, sizeof(base), r->base, r->bytes);
		if (strcmp(r->base_name, "-") == 0)
			snprintf(base, sizeof(base), "-");
		fmt_ratio(ratio, sizeof(ratio), r->ours, r->base);
		printf(b->other ? ROW "%-6s" : ROW "%s", r->name,
		    ours, rate, r->base_name, base, ratio, target,
		    verdict[v + 1]);
		if (b->other) {
			fmt_value(other, sizeof(other), r->other, r->bytes);
			fmt_ratio(vs, sizeof(vs), r->ours, r->other);
			printf(" %11s %10s", other, vs);
		}
		printf("\n");
	}
	for (int i = 0; i < b->nnotes; i++)
		printf("%s %s\n", i ? "      " : "notes:", b->notes[i]);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		warn("remove %s", path);
	return 0;
}

/* A tool by name, or NULL with a note that its rows are skipped. */
static const char *
tool(struct ks_bench *b, const char *name, const char *rows)
{
	const char *p = ks_proc_which(name);

	if (p == NULL) {
		ks_note(b, "%s is not installed: %s skipped", name, rows);
		return NULL;
	}
	if ((p = strdup(p)) == NULL)
		err(1, "out of memory");
	return p;
}

/*
 * Pins us (and so every process we start) to one CPU: BENCH_CPU, else
 * the last one we may use; "none" leaves it to the scheduler. A wake-up
 * on the other CPU of a virtual machine costs tens of microseconds when
 * it has gone idle, and whether it happens is up to placement: on one
 * CPU the figures measure the programs, not where they landed.
 */
static void
pin(struct ks_bench *b)
{
	const char *want = getenv("BENCH_CPU");
	cpu_set_t set;

	b->cpu = -1;
	if (want != NULL && strcmp(want, "none") == 0)
		return;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		err(1, "sched_getaffinity");
	if (want != NULL)
		b->cpu = atoi(want);
	else
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				b->cpu = i;
	if (b->cpu < 0 || b->cpu >= CPU_SETSIZE || !CPU_ISSET(b->cpu, &set))
		errx(1, "BENCH_CPU %s: not a CPU we may use", want);
	CPU_ZERO(&set);
	CPU_SET(b->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		err(1, "pin to CPU %d", b->cpu);
}

static void
setup(struct ks_bench *b, char **argv)
{
	const char *tmp = getenv("TMPDIR"), *mode = getenv("KODA_BENCH_MODE");
	const char *quick = getenv("BENCH_QUICK");
	const char *mb = getenv("BENCH_TREE_MB");

	b->worker = argv[1];
	b->sandbox = argv[2];
	snprintf(b->floor, sizeof(b->floor), "%s/floor", argv[3]);
	snprintf(b->nop, sizeof(b->nop), "%s/nop", argv[3]);
	snprintf(b->mktree, sizeof(b->mktree), "%s/mktree", argv[3]);
	b->other = getenv("KODA_BENCH_OTHER");
	if (b->other != NULL && *b->other == '\0')
		b->other = NULL;
	if (b->other != NULL && access(b->other, X_OK) < 0)
		err(1, "KODA_BENCH_OTHER %s", b->other);
	b->legacy = mode != NULL && strcmp(mode, "legacy") == 0;
	if (mode != NULL && !b->legacy && strcmp(mode, "root") != 0)
		errx(1, "KODA_BENCH_MODE %s: root or legacy", mode);
	b->scale = quick != NULL && strcmp(quick, "1") == 0 ? 5 : 1;
	b->tree_mb = mb != NULL ? strtol(mb, NULL, 10) : 200;
	if (b->tree_mb < 1 || b->tree_mb > 100000)
		errx(1, "BENCH_TREE_MB %s: 1..100000", mb);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	/* Paths go into JSON as they are: keep them plain. */
	if (strpbrk(tmp, "\"\\") != NULL)
		errx(1, "TMPDIR %s: no quotes or backslashes, please", tmp);
	if ((size_t)snprintf(b->work, sizeof(b->work), "%s/koda-bench-XXXXXX",
	    tmp) >= sizeof(b->work) || (size_t)snprintf(b->tree,
	    sizeof(b->tree), "%s/koda-bench-tree-%ldmb", tmp, b->tree_mb) >=
	    sizeof(b->tree))
		errx(1, "TMPDIR %s: too long", tmp);
	if (mkdtemp(b->work) == NULL)
		err(1, "mkdtemp %s", b->work);
	b->rg = tool(b, "rg", "the rg -j1 rows");
	b->grep = tool(b, "grep", "the grep -rn rows");
	b->find = tool(b, "find", "the glob baseline");
	pin(b);
}

static void
header(const struct ks_bench *b)
{
	struct utsname u;

	uname(&u);
	printf("koda-sandbox bench: %ld cpus, Linux %s; medians of interleaved "
	    "runs%s\n", sysconf(_SC_NPROCESSORS_ONLN), u.release,
	    b->scale > 1 ? " (BENCH_QUICK: fewer repetitions)" : "");
	if (b->cpu >= 0)
		printf("  all processes pinned to CPU %d (BENCH_CPU=none: "
		    "not pinned)\n", b->cpu);
	else
		printf("  not pinned to a CPU\n");
	printf("  ours:  %s %s\n", b->worker,
	    b->legacy ? "(legacy: no arguments)" : "--root DIR");
	if (b->other)
		printf("  other: %s %s\n", b->other,
		    b->legacy ? "(legacy: no arguments)" : "--root DIR");
	printf("  work:  %s\n", b->work);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct ks_bench b = { .rng = 0x9e3779b97f4a7c15UL };
	double t0 = ks_now();

	if (argc != 4)
		errx(2, "usage: bench WORKER SANDBOX HELPERDIR");
	/* A worker that dies must show as a failed call, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	setup(&b, argv);
	header(&b);
	ks_group_spawn(&b);
	ks_group_ping(&b);
	ks_group_files(&b);
	ks_group_tree(&b);
	ks_group_include(&b);
	ks_group_policy(&b);
	/* Last: its 50 MB buffers raise this process's peak RSS, which
	 * the rg row must stay below. */
	ks_group_big(&b);
	print_table(&b);
	printf("total %.0f s\n", ks_now() - t0);
	nftw(b.work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < b.nnotes; i++)
		free(b.notes[i]);
	free((void *)b.rg);
	free((void *)b.grep);
	free((void *)b.find);
	free(b.req.p);
	free(b.reply.p);
	return 0;
}
