/*
 * proc: the processes the bench drives: workers over pipes or a
 * socket, the floor helper over a socketpair, and command-line tools
 * whose output is drained and counted. Failures return -1 with errno
 * set; nothing here prints.
 */
#ifndef KS_BENCH_PROC_H
#define KS_BENCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ks_wbuf;

/* A server we exchange frames with: to == from for a socket. */
struct ks_proc {
	pid_t pid;
	int to, from;
	int aux;		/* a socket worker's stdout, or -1 */
	bool dead;		/* a call failed: skip it from now on */
	int notes;		/* failures noted so far */
};

/* Starts argv[0] (a path) with argv, its stdin and stdout pipes to us. */
int ks_proc_spawn(struct ks_proc *p, char *const argv[]);

/*
 * Starts argv[0] with argv, which must hold "--socket" and sock: waits
 * for its "ready" line, then connects. stdin is /dev/null.
 */
int ks_proc_spawn_socket(struct ks_proc *p, char *const argv[],
    const char *sock);

/* Starts the floor helper at path on a socketpair (its fds 0 and 1). */
int ks_proc_spawn_pair(struct ks_proc *p, const char *path);

/* One request, one reply into r. 0, or -1 when the transport failed
 * (p is then dead). */
int ks_proc_call(struct ks_proc *p, const void *req, size_t n,
    struct ks_wbuf *r);

/* Closes our ends (so that it sees end of stream) and reaps it.
 * Returns its wait status, or -1. A zeroed or closed p is fine. */
int ks_proc_close(struct ks_proc *p);

/* Peak resident set (VmHWM) of a live process in bytes, or -1. */
long ks_proc_hwm(pid_t pid);

/*
 * fork + exec + wait of argv[0] (a path). Its stdin is fd in (-1: ours);
 * its stdout fd out, or with out -1 a pipe that we drain, counting the
 * lines and bytes into *lines and *bytes. Its peak RSS (ru_maxrss) goes
 * to *maxrss in bytes (maxrss may be NULL). Returns the wait status, or
 * -1.
 */
int ks_proc_run(char *const argv[], int in, int out, long *lines,
    long *bytes, long *maxrss);

/* The path of an executable found in $PATH, or NULL; in static
 * storage that the next call overwrites. */
const char *ks_proc_which(const char *name);

#endif
