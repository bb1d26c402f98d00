/*
 * poolbench: the worker pool (src/pool.h) as make bench measures it:
 * the time to acquire a worker from a full pool (ping included), beside
 * the spawn it hides (ks_client_spawn to a connected worker), and the
 * resident memory of one idle worker. Medians of interleaved runs.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "err.h"
#include "pool.h"

#define RUNS 200
#define SIZE 4

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* VmRSS of pid in KiB, or -1. */
static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int
main(int argc, char **argv)
{
	struct ks_client_opts o = { 0 };
	static double acq[RUNS], spawn[RUNS];
	struct ks_client *c;
	struct ks_pool *p;
	struct ks_err e;
	double t0, a, s;
	long rss = -1;

	if (argc != 3)
		errx(2, "usage: poolbench WORKER ROOT");
	o.worker = argv[1];
	o.root = argv[2];
	if (ks_pool_open(&o, SIZE, &p, &e) < 0)
		errx(1, "pool: %s", e.msg);
	for (int i = 0; i < RUNS; i++) {
		/* A full pool, settled: the worker given back is stopped. */
		while (ks_pool_ready(p) < SIZE)
			usleep(200);
		usleep(5000);
		t0 = now();
		if (ks_pool_acquire(p, &c, &e) < 0)
			errx(1, "acquire: %s", e.msg);
		acq[i] = now() - t0;
		if (i == 0)
			rss = rss_kib(ks_client_pid(c));
		ks_pool_release(p, c);
		t0 = now();
		if (ks_client_spawn(&o, &c, &e) < 0)
			errx(1, "spawn: %s", e.msg);
		spawn[i] = now() - t0;
		ks_client_close(c);
	}
	ks_pool_close(p);
	a = median(acq, RUNS) * 1e6;
	s = median(spawn, RUNS) * 1e6;
	printf("\npool (size %d, %d acquisitions from a full pool; the "
	    "acquire includes the liveness check)\n", SIZE, RUNS);
	printf("%-28s %9.1f us  %-30s %9.1f us  %6.3fx  %-18s %s\n",
	    "pool acquire", a, "spawn to a connected worker", s, a / s,
	    "<= 100 us", a <= 100 ? "PASS" : "MISS");
	printf("%-28s %9.2f MiB\n", "RSS of an idle worker", rss / 1024.0);
	return 0;
}
