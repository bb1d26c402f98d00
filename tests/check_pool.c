/*
 * check_pool: the worker pool (pool.c): fresh workers for every
 * session, a worker killed while it waited replaced, nothing of one
 * session in the next, no descriptor of the pool in its workers.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/client.h"
#include "../src/err.h"
#include "../src/pool.h"
#include "testlib.h"

static char *root, *tmp;

static void
setup(void)
{
	root = ks_tmpdir();
	tmp = ks_tmpdir();
	setenv("TMPDIR", tmp, 1);
	setenv("KODA_FS_WORKER_BIN", ks_bin(), 1);
	ks_putf("hello\n", "%s/a.txt", root);
}

static void
teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(tmp);
	free(root);
	free(tmp);
}

static char *
call(struct ks_client *c, const char *req)
{
	struct ks_err e;
	char *reply = NULL;
	size_t len = 0;

	ck_assert_msg(ks_client_call(c, req, strlen(req), &reply, &len, &e) ==
	    0, "%s", e.msg);
	return reply;
}

/* Waits (at most 5 s) until the pool has n ready workers. */
static void
wait_ready(struct ks_pool *p, unsigned n)
{
	for (int i = 0; i < 500 && ks_pool_ready(p) < n; i++)
		usleep(10000);
	ck_assert_uint_ge(ks_pool_ready(p), n);
}

static struct ks_pool *
open_pool(unsigned size)
{
	struct ks_client_opts o = { .root = root };
	struct ks_pool *p = NULL;
	struct ks_err e;

	ck_assert_msg(ks_pool_open(&o, size, &p, &e) == 0, "%s", e.msg);
	wait_ready(p, size);
	return p;
}

/* Whether process pid is gone (reaped, or never ours). */
static bool
gone(pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		usleep(10000);
	}
	return false;
}

START_TEST(every_session_gets_a_fresh_worker_never_reused)
{
	struct ks_pool *p = open_pool(3);
	pid_t seen[12];
	struct ks_client *c;
	struct ks_err e;
	char *r, req[4200];

	for (int i = 0; i < 12; i++) {
		ck_assert_msg(ks_pool_acquire(p, &c, &e) == 0, "%s", e.msg);
		seen[i] = ks_client_pid(c);
		/* The pool's thread idles as a batch thread; its workers
		 * do not inherit that. */
		ck_assert_int_eq(sched_getscheduler(seen[i]), SCHED_OTHER);
		for (int j = 0; j < i; j++)
			ck_assert_msg(seen[j] != seen[i], "worker %d reused",
			    (int)seen[i]);
		/* Session state: a write in parts left under way. */
		snprintf(req, sizeof(req), "{\"kind\":\"write_part\",\"path\":"
		    "\"%s/s.txt\",\"offset\":%s,\"content\":[49]}", root,
		    i == 0 ? "0" : "1");
		r = call(c, req);
		/* The next session cannot go on with the last one's write. */
		ck_assert_msg(i == 0 ? strstr(r, "\"bytes_staged\":1") != NULL :
		    strstr(r, "no write in parts") != NULL, "%s", r);
		free(r);
		ks_pool_release(p, c);
		ck_assert_msg(gone(seen[i]), "worker %d still running after "
		    "its session", (int)seen[i]);
	}
	ks_pool_close(p);
}
END_TEST

/* The pids of our children that run the worker. */
static int
children(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[512], *q;
	int n = 0, ppid;
	FILE *f;

	ck_assert(d != NULL);
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (q = strrchr(buf, ')')) != NULL &&
		    sscanf(q + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
			out[n++] = atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Waits (at most 3 s) until pid is a zombie: dead, not yet reaped. */
static bool
zombie(pid_t pid)
{
	char path[64], buf[512], *q;
	FILE *f;
	bool z = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 300 && !z; i++) {
		if ((f = fopen(path, "r")) == NULL)
			return true;	/* reaped already */
		z = fgets(buf, sizeof(buf), f) != NULL &&
		    (q = strrchr(buf, ')')) != NULL && q[2] == 'Z';
		fclose(f);
		if (!z)
			usleep(10000);
	}
	return z;
}

START_TEST(workers_killed_while_waiting_are_replaced)
{
	struct ks_pool *p = open_pool(3);
	pid_t kids[16];
	struct ks_client *c;
	struct ks_err e;
	char *r;
	int n = children(kids, 16);

	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	/* Dead, not dying: a worker that dies during the acquire itself
	 * can only be found by the session's first request. */
	for (int i = 0; i < n; i++)
		ck_assert_msg(zombie(kids[i]), "worker %d did not die",
		    (int)kids[i]);
	/* Every ready worker is dead: the ping finds it, a live one comes. */
	ck_assert_msg(ks_pool_acquire(p, &c, &e) == 0, "%s", e.msg);
	r = call(c, "{\"kind\":\"ping\"}");
	ck_assert_str_eq(r, "{\"kind\":\"pong\"}");
	free(r);
	ks_pool_release(p, c);
	wait_ready(p, 3);
	ks_pool_close(p);
	ck_assert_int_eq(children(kids, 16), 0);
}
END_TEST

/* Entries of /proc/PID/fd. */
static int
fds_of(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	ck_assert((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(pool_descriptors_never_reach_its_workers)
{
	struct ks_client_opts o = { .root = root };
	struct ks_pool *p = open_pool(4);
	struct ks_client *alone;
	struct ks_err e;
	pid_t kids[16];
	int n, want;

	ck_assert_msg(ks_client_spawn(&o, &alone, &e) == 0, "%s", e.msg);
	/* After a reply it has closed its listening socket, as the pool's
	 * workers (pinged once) have. */
	free(call(alone, "{\"kind\":\"ping\"}"));
	want = fds_of(ks_client_pid(alone));
	n = children(kids, 16);
	ck_assert_int_eq(n, 5);
	for (int i = 0; i < n; i++)
		ck_assert_msg(fds_of(kids[i]) == want, "worker %d holds %d "
		    "descriptors, a worker alone %d", (int)kids[i],
		    fds_of(kids[i]), want);
	ks_client_close(alone);
	ks_pool_close(p);
}
END_TEST

START_TEST(a_pool_that_cannot_spawn_fails_to_open)
{
	struct ks_client_opts o = { .root = root,
	    .worker = "/nonexistent/koda-fs-worker" };
	struct ks_pool *p = NULL;
	struct ks_err e = { .code = KS_CODE_NONE };

	ck_assert_int_lt(ks_pool_open(&o, 2, &p, &e), 0);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(e.msg, "/nonexistent/koda-fs-worker") != NULL,
	    "%s", e.msg);
	ck_assert_int_lt(ks_pool_open(&o, 0, &p, &e), 0);
	ck_assert_int_lt(ks_pool_open(&o, KS_POOL_MAX + 1, &p, &e), 0);
}
END_TEST

Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_session_gets_a_fresh_worker_never_reused);
	tcase_add_test(tc, workers_killed_while_waiting_are_replaced);
	tcase_add_test(tc, pool_descriptors_never_reach_its_workers);
	tcase_add_test(tc, a_pool_that_cannot_spawn_fails_to_open);
	suite_add_tcase(s, tc);
	return s;
}
