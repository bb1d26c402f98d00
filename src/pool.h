/*
 * pool: workers spawned ahead of need (the client API, client.h), each
 * confined to the same policy and root, handed out one per session and
 * never reused: a worker given back is shut down, and a fresh one takes
 * its place, so nothing of one session reaches the next.
 *
 * A pool keeps one thread of its own, which spawns and stops workers in
 * the background and pings each new worker once (its first request pays
 * for faulting its code in); acquiring is taking a ready worker off a
 * list and checking with one poll(2) that it has not died since. A
 * worker that hangs without dying is found by the session's first
 * request (the client's timeouts), not at acquire. Workers die with the
 * pool's thread (PR_SET_PDEATHSIG), which lives as long as the pool.
 * The pool's own descriptors are closed in every spawned worker.
 */
#ifndef KS_POOL_H
#define KS_POOL_H

#include <stddef.h>

struct ks_client;
struct ks_client_opts;
struct ks_err;
struct ks_pool;

/* Workers a pool keeps at most. */
#define KS_POOL_MAX 64

/*
 * Starts a pool of size workers (1..KS_POOL_MAX) spawned with opts
 * (copied: its strings must outlive the pool). Waits until the first
 * worker is ready, so that a broken setup fails here. Returns 0 and
 * *out (free with ks_pool_close), or a negative errno with err set.
 */
int ks_pool_open(const struct ks_client_opts *opts, unsigned size,
    struct ks_pool **out, struct ks_err *err);

/*
 * Hands out a worker for one session: a ready one that is still alive,
 * or, when none is ready, one spawned now (in the calling thread, whose
 * end then kills it: see ks_client_spawn). Returns 0 and *out (give it
 * back with ks_pool_release, never ks_client_close), or a negative
 * errno with err set.
 */
int ks_pool_acquire(struct ks_pool *p, struct ks_client **out,
    struct ks_err *err);

/* Gives a worker back: it is shut down in the background and replaced.
 * NULL is fine. */
void ks_pool_release(struct ks_pool *p, struct ks_client *c);

/* Workers ready now (for tests and benchmarks). */
unsigned ks_pool_ready(struct ks_pool *p);

/* Stops the background thread and every worker; frees p. NULL is fine. */
void ks_pool_close(struct ks_pool *p);

#endif
