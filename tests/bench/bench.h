/*
 * bench: what the driver's files share: the run's settings, the rows
 * of the table, samples and their medians, notes printed under the
 * table. bench.c owns the table and main; groups.c measures.
 */
#ifndef KS_BENCH_H
#define KS_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "wire.h"

/* Samples of one figure; zero-initialise. */
struct ks_series {
	double *v;
	size_t n, cap;
};

enum ks_target {
	KS_T_NONE,
	KS_T_RATIO,	/* ours / base <= limit */
	KS_T_RATE,	/* work / ours >= limit */
	KS_T_MAX,	/* ours <= limit */
};

/* One line of the table. Times are seconds, RSS rows bytes; NAN: none. */
struct ks_row {
	char name[40];
	double ours, base, other;
	bool bytes;		/* an RSS row */
	char base_name[40];
	double work;		/* rate_unit per run of ours */
	const char *rate_unit;	/* NULL: no rate */
	enum ks_target target;
	double limit;
};

#define KS_MAX_ROWS 40
#define KS_MAX_NOTES 48

struct ks_bench {
	const char *worker, *sandbox, *other;
	char floor[PATH_MAX], nop[PATH_MAX], mktree[PATH_MAX];
	char work[256], tree[256];	/* short: paths are built on them */
	const char *rg, *grep, *find;	/* NULL: not installed */
	bool legacy;
	int scale;		/* divides the repetitions (BENCH_QUICK) */
	int cpu;		/* the one we run on, or -1 */
	unsigned long rng;	/* ks_shuffle's state, fixed seed */
	long tree_mb, tree_files, tree_bytes, common, rare;
	struct ks_wbuf req, reply;
	struct ks_row rows[KS_MAX_ROWS];
	int nrows;
	char *notes[KS_MAX_NOTES];
	int nnotes;
};

/* The request every session starts with. */
#define KS_PING "{\"kind\":\"ping\"}"

double ks_now(void);
void ks_add(struct ks_series *s, double v);
/* Sorts s; returns its median, or NAN when empty. Frees nothing. */
double ks_median(struct ks_series *s);
void ks_series_free(struct ks_series *s);

/* Appends a row; its ours/base/other are the medians of the series
 * given (NULL: none). Returns it for the caller to finish. */
struct ks_row *ks_row_add(struct ks_bench *b, const char *name,
    struct ks_series *ours, const char *base_name, struct ks_series *base,
    struct ks_series *other);

/* Adds a line under the table, once per distinct text. */
void ks_note(struct ks_bench *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills ord with 0..n-1 in a fresh random order: interleaved runs
 * take turns in every order, so that none always follows another. */
void ks_shuffle(struct ks_bench *b, int *ord, int n);

/* n repetitions, fewer under BENCH_QUICK, at least one. */
int ks_reps(const struct ks_bench *b, int n);

struct ks_proc;

/* Starts a session with bin: over stdio, or --socket when sock; the
 * floor helper when who is "floor" (pipes, or a socketpair when sock);
 * bin NULL gives a dead session. A
 * failure is noted and leaves p dead. */
void ks_start(struct ks_bench *b, const char *who, const char *bin,
    bool sock, struct ks_proc *p);

/* Ends a session; a wait status other than 0 is noted. */
void ks_stop(struct ks_bench *b, const char *who, struct ks_proc *p);

/* The measuring groups, in the order they run (groups.c, tree.c). */
void ks_group_spawn(struct ks_bench *b);
void ks_group_ping(struct ks_bench *b);
void ks_group_files(struct ks_bench *b);
void ks_group_big(struct ks_bench *b);
void ks_group_tree(struct ks_bench *b);
void ks_group_include(struct ks_bench *b);
void ks_group_policy(struct ks_bench *b);

#endif
