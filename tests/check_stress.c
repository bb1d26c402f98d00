/*
 * check_stress: the worker binary under stress, each reply still a clean
 * one: a file rewritten while it is read, a subtree removed during grep
 * and glob, and too few descriptors (the worker keeps serving).
 */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* s with every %R replaced by the tree's root; caller frees. */
static char *
fill(const char *s)
{
	return ks_subst(s, "%R", ks_root);
}

#define PONG(p) ks_expect(p, ks_root, "{\"kind\":\"ping\"}", \
    "{\"kind\":\"pong\"}")

/* Reply classes: a success of the kind asked, or an error by code. */
enum { C_OK, C_IO, C_DENIED, C_PROTOCOL };

/* Parses a reply; fails unless it is a well-formed success of kind want
 * (its fields present with the right types) or an error with a known
 * code and a message. */
static int
classify(const char *got, const char *want)
{
	json_t *o = json_loads(got, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	    NULL), *f;
	const char *kind, *code;
	int r = -1;

	ck_assert_msg(json_is_object(o), "reply is not a JSON object: %.300s",
	    got);
	kind = json_string_value(json_object_get(o, "kind"));
	ck_assert_msg(kind != NULL, "reply without kind: %.300s", got);
	if (strcmp(kind, "error") == 0) {
		code = json_string_value(json_object_get(o, "code"));
		ck_assert_msg(code != NULL && json_is_string(json_object_get(o,
		    "message")), "bad error reply: %.300s", got);
		r = strcmp(code, "io") == 0 ? C_IO :
		    strcmp(code, "policy_denied") == 0 ? C_DENIED :
		    strcmp(code, "protocol") == 0 ? C_PROTOCOL : -1;
		ck_assert_msg(r >= 0, "unexpected error code: %.300s", got);
	} else {
		ck_assert_msg(strcmp(kind, want) == 0, "asked %s, got %.300s",
		    want, got);
		f = json_object_get(o, strcmp(want, "read") == 0 ? "content" :
		    strcmp(want, "glob") == 0 ? "paths" : "matches");
		ck_assert_msg(json_is_array(f), "no list in %.300s", got);
		r = C_OK;
	}
	json_decref(o);
	return r;
}

/* Rewrites path in place, truncating it first, until killed: 64 KiB of
 * 'a', then of 'b', and so on. */
static void
rewriter(const char *path)
{
	char buf[4096];
	int fd;

	for (unsigned k = 0;; k++) {
		memset(buf, k % 2 ? 'b' : 'a', sizeof(buf));
		if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0)
			continue;
		for (int i = 0; i < 16; i++)
			if (write(fd, buf, sizeof(buf)) < 0)
				break;
		close(fd);
	}
}

START_TEST(read_of_a_file_rewritten_meanwhile_is_clean)
{
	int counts[4] = { 0 }, r;
	struct ks_proc p;
	char *path, *req, *got;
	pid_t w;

	ck_assert(asprintf(&path, "%s/moving.txt", ks_root) > 0);
	ks_putf("aaaa", "%s", path);
	ck_assert(asprintf(&req, "{\"kind\":\"read\",\"path\":\"%s\"}",
	    path) > 0);
	ks_spawn_root(&p, ks_root, NULL, false);
	if ((w = fork()) == 0)
		rewriter(path);
	ck_assert(w > 0);
	for (int i = 0; i < 2000; i++) {
		got = ks_call(&p, req);
		r = classify(got, "read");
		ck_assert_msg(r == C_OK || r == C_IO, "got %.300s", got);
		/* Only bytes the file ever held, never more than it had. */
		if (r == C_OK) {
			json_t *o = json_loads(got, 0, NULL), *c, *v;
			size_t k;

			c = json_object_get(o, "content");
			ck_assert_int_le(json_array_size(c), 65536);
			json_array_foreach(c, k, v)
				ck_assert(json_integer_value(v) == 'a' ||
				    json_integer_value(v) == 'b');
			json_decref(o);
		}
		counts[r]++;
		free(got);
	}
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	PONG(&p);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	printf("fault: 2000 reads of a file rewritten meanwhile: %d read, "
	    "%d io errors\n", counts[C_OK], counts[C_IO]);
	free(path);
	free(req);
}
END_TEST

/* Removes dir/sub and builds it again, until killed. */
static void
remover(const char *dir)
{
	static const char *const made[] = { "sub/", "sub/n1.txt", "sub/a/",
	    "sub/a/n2.txt", "sub/a/b/", "sub/a/b/c/", "sub/a/b/c/n3.txt" };
	char p[4200];
	int fd;

	for (;;) {
		snprintf(p, sizeof(p), "%s/sub", dir);
		ks_rmtree(p);
		for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
			if (p[strlen(p) - 1] == '/')
				mkdir(p, 0755);
			else if ((fd = creat(p, 0644)) >= 0) {
				(void)!write(fd, "needle\n", 7);
				close(fd);
			}
		}
	}
}

START_TEST(tree_removed_during_grep_and_glob_is_clean)
{
	static const char *const reqs[] = {
		"{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":\"%R\"}",
		"{\"kind\":\"glob\",\"pattern\":\"**/*\",\"root\":\"%R\"}",
		"{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":\"%R/sub\"}",
		"{\"kind\":\"glob\",\"pattern\":\"sub/**/*.txt\",\"root\":\"%R\"}",
	};
	int counts[4] = { 0 }, r, matched = 0;
	struct ks_proc p;
	char *rq, *got;
	pid_t w;

	ks_putf("needle\n", "%s/stays.txt", ks_root);
	ks_spawn_root(&p, ks_root, NULL, false);
	if ((w = fork()) == 0)
		remover(ks_root);
	ck_assert(w > 0);
	for (int i = 0; i < 1200; i++) {
		rq = fill(reqs[i % 4]);
		got = ks_call(&p, rq);
		r = classify(got, i % 2 == 0 ? "grep" : "glob");
		ck_assert_msg(r == C_OK || r == C_IO, "%s: got %.300s", rq,
		    got);
		counts[r]++;
		/* The file that is not removed is always found. */
		if (i % 4 == 0) {
			char *want = fill("{\"path\":\"%R/stays.txt\",\"line\":"
			    "1,\"text\":\"needle\"}");

			ck_assert_msg(strstr(got, want) != NULL, "got %.300s",
			    got);
			free(want);
		}
		matched += r == C_OK && strstr(got, "/sub/") != NULL;
		free(got);
		free(rq);
	}
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	PONG(&p);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	printf("fault: 1200 greps and globs while a subtree is removed: %d "
	    "answered (%d saw it), %d io errors\n", counts[C_OK], matched,
	    counts[C_IO]);
}
END_TEST

/* max_open_fds for each round of the loop test. */
static const int fd_limits[] = { 3, 6, 10, 16, 64 };

/* Whether the list (key) of reply got holds only items of the list of
 * reply full, in the same order; *n is its length. */
static bool
sublist(const char *got, const char *full, const char *key, size_t *n)
{
	json_t *g = json_loads(got, 0, NULL), *f = json_loads(full, 0, NULL);
	json_t *gl = json_object_get(g, key), *fl = json_object_get(f, key);
	size_t j = 0;
	bool ok = json_is_array(gl) && json_is_array(fl);

	*n = json_array_size(gl);
	for (size_t i = 0; ok && i < *n; i++, j++) {
		while (j < json_array_size(fl) && !json_equal(json_array_get(gl,
		    i), json_array_get(fl, j)))
			j++;
		ok = j < json_array_size(fl);
	}
	json_decref(g);
	json_decref(f);
	return ok;
}

/*
 * Too few descriptors: a read is whole or the EMFILE error, and the
 * worker keeps serving. A grep or glob leaves out what it cannot open
 * (SPEC §5: entries that cannot be read are left out; grep skips them),
 * so its answer may be cut short: it must still hold only right
 * answers, in order.
 */
START_TEST(open_fd_limit_is_io_and_worker_keeps_serving)
{
	static const char *const reqs[] = {
		"{\"kind\":\"glob\",\"pattern\":\"**\",\"root\":\"%R\"}",
		"{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":\"%R\"}",
		"{\"kind\":\"read\",\"path\":\"%R/f0.txt\"}",
	};
	static const char *const kinds[] = { "glob", "grep", "read" };
	static const char *const keys[] = { "paths", "matches", "content" };
	int lim = fd_limits[_i], counts[3][4] = { { 0 } }, cut[3] = { 0 }, r;
	char *pol, *dir, *rq[3], *full[3], *got;
	struct ks_proc p;
	size_t n, want[3] = { 40, 40, 7 };

	/* A tree 40 directories deep, with a file at each level. */
	ck_assert(asprintf(&dir, "%s", ks_root) > 0);
	for (int d = 0; d < 40; d++) {
		ks_putf("needle\n", "%s/f%d.txt", dir, d);
		n = strlen(dir);
		dir = realloc(dir, n + 8);
		sprintf(dir + n, "/d%d", d);
	}
	ks_mkdirs(dir);
	free(dir);
	/* The whole answers, from a worker without the limit. */
	ks_spawn_root(&p, ks_root, NULL, false);
	for (int k = 0; k < 3; k++) {
		full[k] = ks_call(&p, rq[k] = fill(reqs[k]));
		ck_assert(sublist(full[k], full[k], keys[k], &n));
		ck_assert_int_eq(n, want[k]);
	}
	ks_finish(&p);
	free(p.errtext);
	ck_assert(asprintf(&pol, "{\"limits\":{\"max_open_fds\":%d}}",
	    lim) > 0);
	ks_spawn_root(&p, ks_root, pol, false);
	for (int i = 0; i < 60; i++) {
		got = ks_call(&p, rq[i % 3]);
		r = classify(got, kinds[i % 3]);
		if (r == C_IO)
			ck_assert_str_eq(got, "{\"kind\":\"error\",\"code\":"
			    "\"io\",\"message\":\"Too many open files (os "
			    "error 24)\"}");
		else
			ck_assert_msg(r == C_OK, "%s: got %.300s", rq[i % 3],
			    got);
		if (r == C_OK)
			ck_assert_msg(sublist(got, full[i % 3], keys[i % 3],
			    &n) && (i % 3 < 2 || n == 7), "%s: got %.300s",
			    rq[i % 3], got);
		cut[i % 3] += r == C_OK && n < want[i % 3];
		counts[i % 3][r]++;
		free(got);
	}
	for (int i = 0; i < 10; i++)
		PONG(&p);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	printf("fault: max_open_fds %d: glob %d whole, %d cut short, %d EMFILE;"
	    " grep %d whole, %d cut short, %d EMFILE; read %d whole, %d "
	    "EMFILE\n", lim, counts[0][C_OK] - cut[0], cut[0], counts[0][C_IO],
	    counts[1][C_OK] - cut[1], cut[1], counts[1][C_IO], counts[2][C_OK],
	    counts[2][C_IO]);
	/* With only the standard descriptors no file can be opened. */
	if (lim == 3)
		ck_assert_int_eq(counts[2][C_IO], 20);
	for (int k = 0; k < 3; k++) {
		free(rq[k]);
		free(full[k]);
	}
	free(pol);
}
END_TEST


Suite *
stress_suite(void)
{
	Suite *s = suite_create("stress");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, ks_root_setup, ks_root_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, read_of_a_file_rewritten_meanwhile_is_clean);
	tcase_add_test(tc, tree_removed_during_grep_and_glob_is_clean);
	tcase_add_loop_test(tc, open_fd_limit_is_io_and_worker_keeps_serving,
	    0, (int)(sizeof(fd_limits) / sizeof(fd_limits[0])));
	suite_add_tcase(s, tc);
	return s;
}
