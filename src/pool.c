/*
 * pool: a list of ready workers and one thread that keeps it full.
 *
 * The thread does all the slow work: spawning (fork, exec, the wait for
 * "ready") and stopping (shutdown, reap). Acquiring takes the oldest
 * ready worker under the lock and pings it outside; a worker that does
 * not answer is handed to the thread to be stopped, and the next one is
 * tried. Spawn failures back off (100 ms per failure in a row, at most
 * a second) so that a broken binary does not spin.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "err.h"

#define PING "{\"kind\":\"ping\"}"
#define PONG "{\"kind\":\"pong\"}"

struct ks_pool {
	struct ks_client_opts opts;
	unsigned size;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* the thread: something to do */
	pthread_cond_t changed;		/* waiters: a spawn ended */
	struct ks_client *ready[KS_POOL_MAX];
	unsigned head, nready;		/* a ring, oldest at head */
	struct ks_client **dead;	/* given back, to be stopped */
	size_t ndead, capdead;
	unsigned failures;		/* spawns failed in a row */
	struct ks_err last;		/* why the last one failed */
	bool stop;
	pthread_t thread;
};

/* Under the lock: the oldest ready worker, or NULL. */
static struct ks_client *
take_ready(struct ks_pool *p)
{
	struct ks_client *c;

	if (p->nready == 0)
		return NULL;
	c = p->ready[p->head];
	p->head = (p->head + 1) % KS_POOL_MAX;
	p->nready--;
	return c;
}

/* Under the lock: queues c to be stopped; false when out of memory. */
static bool
bury(struct ks_pool *p, struct ks_client *c)
{
	struct ks_client **d;
	size_t cap;

	if (p->ndead == p->capdead) {
		cap = p->capdead ? 2 * p->capdead : 16;
		if ((d = realloc(p->dead, cap * sizeof(struct ks_client *))) == NULL)
			return false;
		p->dead = d;
		p->capdead = cap;
	}
	p->dead[p->ndead++] = c;
	pthread_cond_signal(&p->work);
	return true;
}

/* Under the lock: waits before the next spawn after failures. */
static void
back_off(struct ks_pool *p)
{
	struct timespec ts;
	long ms = 100L * (long)(p->failures < 10 ? p->failures : 10);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->work, &p->mu, &ts);
}

/* Whether c answers a ping: a worker that died idle is not handed out. */
static bool
alive(struct ks_client *c)
{
	struct ks_err e;
	char *reply = NULL;
	size_t len = 0;
	bool ok;

	ok = ks_client_call(c, PING, sizeof(PING) - 1, &reply, &len, &e) == 0 &&
	    len == sizeof(PONG) - 1 && memcmp(reply, PONG, len) == 0;
	free(reply);
	return ok;
}

/* One spawn, the lock dropped around it. */
static void
spawn_one(struct ks_pool *p)
{
	struct ks_client *c = NULL;
	struct ks_err e = { .code = KS_CODE_NONE };
	int rc;

	pthread_mutex_unlock(&p->mu);
	/* One ping here, in the background: a worker's first request
	 * faults its code in, which the acquire's ping should not pay. */
	if ((rc = ks_client_spawn(&p->opts, &c, &e)) == 0 && !alive(c)) {
		ks_client_close(c);
		rc = ks_err_set(&e, EIO, KS_CODE_INTERNAL, "pool: a new worker "
		    "did not answer its first ping");
	}
	pthread_mutex_lock(&p->mu);
	if (rc == 0 && !p->stop && p->nready < KS_POOL_MAX) {
		p->ready[(p->head + p->nready) % KS_POOL_MAX] = c;
		p->nready++;
		p->failures = 0;
	} else if (rc == 0) {
		if (!bury(p, c)) {
			pthread_mutex_unlock(&p->mu);
			ks_client_close(c);
			pthread_mutex_lock(&p->mu);
		}
	} else {
		p->failures++;
		p->last = e;
	}
	pthread_cond_broadcast(&p->changed);
}

/*
 * Under the lock: waits for work as a batch thread, so that the wake-up
 * an acquire sends never takes the CPU from that session (a spawn costs
 * a fork); back to the normal policy before working, which the workers
 * it spawns then inherit.
 */
static void
idle(struct ks_pool *p)
{
	struct sched_param sp = { 0 };

	(void)sched_setscheduler(0, SCHED_BATCH, &sp);
	pthread_cond_wait(&p->work, &p->mu);
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
}

static void *
keeper(void *arg)
{
	struct ks_pool *p = arg;
	struct ks_client *c;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->ndead > 0) {
			c = p->dead[--p->ndead];
			pthread_mutex_unlock(&p->mu);
			ks_client_close(c);
			pthread_mutex_lock(&p->mu);
		} else if (p->nready < p->size) {
			if (p->failures > 0)
				back_off(p);
			if (!p->stop)
				spawn_one(p);
		} else {
			idle(p);
		}
	}
	/* The pool is closing: every worker goes, ready or given back. */
	while ((c = take_ready(p)) != NULL || p->ndead > 0) {
		if (c == NULL)
			c = p->dead[--p->ndead];
		pthread_mutex_unlock(&p->mu);
		ks_client_close(c);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
ks_pool_open(const struct ks_client_opts *opts, unsigned size,
    struct ks_pool **out, struct ks_err *err)
{
	struct ks_pool *p;
	int rc;

	*out = NULL;
	if (size == 0 || size > KS_POOL_MAX)
		return ks_err_set(err, EINVAL, KS_CODE_INTERNAL, "pool size %u: "
		    "expected 1 to %d", size, KS_POOL_MAX);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ks_err_os(err, ENOMEM);
	p->opts = *opts;
	p->size = size;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->changed, NULL);
	if ((rc = pthread_create(&p->thread, NULL, keeper, p)) != 0) {
		free(p);
		return ks_err_set(err, rc, KS_CODE_INTERNAL, "pool: cannot "
		    "start its thread: %s", strerror(rc));
	}
	/* The first worker says whether the setup works at all. */
	pthread_mutex_lock(&p->mu);
	while (p->nready == 0 && p->failures == 0)
		pthread_cond_wait(&p->changed, &p->mu);
	rc = p->nready > 0 ? 0 : -EIO;
	if (rc < 0 && err != NULL)
		*err = p->last;
	pthread_mutex_unlock(&p->mu);
	if (rc < 0) {
		ks_pool_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
ks_pool_acquire(struct ks_pool *p, struct ks_client **out,
    struct ks_err *err)
{
	struct ks_client *c;

	pthread_mutex_lock(&p->mu);
	while ((c = take_ready(p)) != NULL) {
		pthread_mutex_unlock(&p->mu);
		/* Pinged when it was spawned; one poll(2) now tells whether
		 * it died since (a round trip would wake it, and often an
		 * idle CPU with it, for 100 us or more). */
		if (ks_client_idle_ok(c)) {
			pthread_cond_signal(&p->work);	/* refill */
			*out = c;
			return 0;
		}
		pthread_mutex_lock(&p->mu);
		if (!bury(p, c)) {
			pthread_mutex_unlock(&p->mu);
			ks_client_close(c);
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	/* None ready: this session pays for its own spawn. */
	return ks_client_spawn(&p->opts, out, err);
}

void
ks_pool_release(struct ks_pool *p, struct ks_client *c)
{
	bool queued;

	if (c == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	queued = bury(p, c);
	pthread_mutex_unlock(&p->mu);
	if (!queued)
		ks_client_close(c);
}

unsigned
ks_pool_ready(struct ks_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->mu);
	n = p->nready;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
ks_pool_close(struct ks_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->changed);
	free(p->dead);
	free(p);
}
