/*
 * check_fault: the worker binary when the world misbehaves: a host that
 * vanishes mid-frame, a full disk or a file-size limit, files truncated
 * and trees removed while they are read, unreadable subtrees, too few
 * descriptors; and the load test, shortened, so that `make check` runs it.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char *base, *root, *mnt;

static void
setup(void)
{
	base = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", base) > 0);
	ck_assert(asprintf(&mnt, "%s/fs", base) > 0);
	ks_mkdirs(root);
}

static void
teardown(void)
{
	umount2(mnt, MNT_DETACH);	/* the tmpfs test's, if it is there */
	ks_rmtree(base);
	free(base);
	free(root);
	free(mnt);
}

/* s with every %R replaced by the tree's root; caller frees. */
static char *
fill(const char *s)
{
	return ks_subst(s, "%R", root);
}

/* Sends req (with %R for the root) and asserts the exact reply. */
static void
expect(struct ks_proc *p, const char *req, const char *want)
{
	ks_expect(p, root, req, want);
}

#define PONG(p) expect(p, "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}")
#define IO(what) "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"" what "\"}"

/* Entries in dir ("." and ".." aside); temps: only temporary files
 * (.ks-*.tmp). */
static int
entries(const char *dir, bool temps)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t l;
	int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (temps)
			n += strncmp(e->d_name, ".ks-", 4) == 0 && l > 8 &&
			    strcmp(e->d_name + l - 4, ".tmp") == 0;
		else
			n += strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

/* Writes n bytes of 'x' to path; returns the reply. */
static char *
call_big(struct ks_proc *p, const char *path, size_t n)
{
	size_t cap = strlen(path) + n * 4 + 64, o;
	char *req = malloc(cap), *got;

	o = (size_t)snprintf(req, cap, "{\"kind\":\"write\",\"path\":\"%s\","
	    "\"content\":[", path);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(req + o, cap - o, "%s120", i ? "," : "");
	o += (size_t)snprintf(req + o, cap - o, "]}");
	ks_send(p, req, o);
	got = ks_recv(p, NULL);
	ck_assert_msg(got != NULL, "no reply to a write of %zu bytes", n);
	free(req);
	return got;
}

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

/*
 * The host disappears mid-frame: after half a length prefix (_i even) or
 * half a write request (_i odd), over stdio (_i < 2) or a socket. The
 * worker logs at warn level, exits 1, and leaves nothing behind.
 */
START_TEST(host_gone_mid_frame_exits_1_and_leaves_nothing)
{
	static const char req[] = "{\"kind\":\"write\",\"path\":\"%R/new.txt\","
	    "\"content\":[1,2,3]}";
	const char *argv[5] = { "--root", root, NULL, NULL, NULL };
	char *rq = fill(req), *sock;
	size_t n = strlen(rq);
	unsigned char h[4] = { n >> 24, n >> 16, n >> 8, n };
	struct ks_proc p;
	int st;

	ks_putf("old\n", "%s/keep.txt", root);
	ck_assert(asprintf(&sock, "%s/w.sock", base) > 0);
	if (_i >= 2) {
		argv[2] = "--socket";
		argv[3] = sock;
	}
	ks_spawn(&p, argv, NULL, false);
	if (_i % 2 == 0) {
		ks_send_raw(&p, h, 2);
	} else {
		ks_send_raw(&p, h, 4);
		ks_send_raw(&p, rq, n / 2);
	}
	st = ks_finish(&p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	ck_assert_msg(strstr(p.errtext, "koda-fs-worker: warn: connection "
	    "ended: read error: ") != NULL, "stderr: '%s'", p.errtext);
	ck_assert_msg(strstr(p.errtext, _i % 2 == 0 ? "EOF after 2 of 4 "
	    "length-prefix bytes" : "early eof") != NULL, "stderr: '%s'",
	    p.errtext);
	/* No socket file (it went at accept), no new file, no temporary. */
	ck_assert_int_eq(entries(base, false), 1);
	ck_assert_int_eq(entries(root, false), 1);
	free(p.errtext);
	free(sock);
	free(rq);
}
END_TEST

/* A failed write, in dir: old.txt keeps its content, new.txt is not
 * created, no temporary file is left, and the worker goes on. */
static void
full_disk_session(struct ks_proc *p, const char *dir, size_t big,
    const char *want)
{
	char *old, *neu, *got, *s;

	ck_assert(asprintf(&old, "%s/old.txt", dir) > 0);
	ck_assert(asprintf(&neu, "%s/new.txt", dir) > 0);
	for (int i = 0; i < 3; i++) {
		got = call_big(p, i == 1 ? neu : old, big);
		ck_assert_msg(strcmp(got, want) == 0, "write of %zu bytes: got "
		    "%s, want %s", big, got, want);
		free(got);
	}
	s = ks_slurp(old, NULL);
	ck_assert_str_eq(s, "old content\n");
	free(s);
	ck_assert_msg(access(neu, F_OK) != 0, "a failed write created %s", neu);
	ck_assert_int_eq(entries(dir, true), 0);
	/* A small write still works, and replaces the old file whole. */
	got = call_big(p, old, 100);
	ck_assert_str_eq(got, "{\"kind\":\"write\",\"bytes_written\":100}");
	free(got);
	s = ks_slurp(old, NULL);
	ck_assert_int_eq(strlen(s), 100);
	ck_assert_int_eq(strspn(s, "x"), 100);
	free(s);
	ck_assert_int_eq(entries(dir, true), 0);
	PONG(p);
	free(old);
	free(neu);
}

START_TEST(file_size_limit_is_io_and_leaves_no_temp_file)
{
	struct rlimit saved, low;
	struct ks_proc p;

	ks_putf("old content\n", "%s/old.txt", root);
	/* The worker inherits the limit; it ignores SIGXFSZ itself. */
	ck_assert(getrlimit(RLIMIT_FSIZE, &saved) == 0);
	low = saved;
	low.rlim_cur = 4096;
	ck_assert(setrlimit(RLIMIT_FSIZE, &low) == 0);
	ks_spawn_root(&p, root, NULL, false);
	ck_assert(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	full_disk_session(&p, root, 20000, IO("File too large (os error 27)"));
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

START_TEST(full_file_system_is_io_and_leaves_no_temp_file)
{
	struct ks_proc p;

	ks_mkdirs(mnt);
	if (mount("ks-fault", mnt, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=64k,mode=0755") < 0) {
		ks_skip("full_file_system_is_io_and_leaves_no_temp_file",
		    strerror(errno));
		return;
	}
	ks_putf("old content\n", "%s/old.txt", mnt);
	ks_spawn_root(&p, mnt, NULL, false);
	full_disk_session(&p, mnt, 200000,
	    IO("No space left on device (os error 28)"));
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	ck_assert(umount2(mnt, 0) == 0);
}
END_TEST

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

	ck_assert(asprintf(&path, "%s/moving.txt", root) > 0);
	ks_putf("aaaa", "%s", path);
	ck_assert(asprintf(&req, "{\"kind\":\"read\",\"path\":\"%s\"}",
	    path) > 0);
	ks_spawn_root(&p, root, NULL, false);
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

	ks_putf("needle\n", "%s/stays.txt", root);
	ks_spawn_root(&p, root, NULL, false);
	if ((w = fork()) == 0)
		remover(root);
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

static const struct {
	const char *req, *reply;
} unreadable[] = {
	{ "{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":\"%R\"}",
	  "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/open/a.txt\",\"line\":1,"
	  "\"text\":\"needle\"},{\"path\":\"%R/z.txt\",\"line\":1,\"text\":"
	  "\"needle\"}]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"**/*.txt\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[\"%R/open/a.txt\",\"%R/open/private.txt\","
	  "\"%R/z.txt\"]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"**/*\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[\"%R/locked\",\"%R/noexec\","
	  "\"%R/noexec/c.bin\",\"%R/open\",\"%R/open/a.txt\","
	  "\"%R/open/private.txt\",\"%R/z.txt\"]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"locked/*\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"locked/**\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":"
	  "\"%R/noexec\"}", "{\"kind\":\"grep\",\"matches\":[]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":\"%R/locked\"}",
	  "{\"kind\":\"grep\",\"matches\":[]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"needle\",\"root\":"
	  "\"%R/open/private.txt\"}", "{\"kind\":\"grep\",\"matches\":[]}" },
	{ "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}" },
};

/* As uid 65534, a tree with a locked directory (0700), a listable but
 * not searchable one (0644) and a private file (0600), all root's. */
START_TEST(unreadable_subtrees_are_skipped_silently)
{
	struct ks_proc p;
	char *s;

	ck_assert(chmod(base, 0755) == 0 && chmod(root, 0755) == 0);
	ks_bin_for_nobody(base);
	ks_putf("needle\n", "%s/open/a.txt", root);
	ks_putf("needle\n", "%s/open/private.txt", root);
	ks_putf("needle\n", "%s/locked/inner/b.txt", root);
	ks_putf("needle\n", "%s/noexec/c.bin", root);
	ks_putf("needle\n", "%s/z.txt", root);
	ck_assert(asprintf(&s, "chmod 0600 %s/open/private.txt && chmod 0700 "
	    "%s/locked && chmod 0644 %s/noexec", root, root, root) > 0);
	ck_assert_msg(system(s) == 0, "%s", s);
	free(s);
	ks_spawn_root(&p, root, NULL, true);
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++)
		expect(&p, unreadable[i].req, unreadable[i].reply);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
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
	ck_assert(asprintf(&dir, "%s", root) > 0);
	for (int d = 0; d < 40; d++) {
		ks_putf("needle\n", "%s/f%d.txt", dir, d);
		n = strlen(dir);
		dir = realloc(dir, n + 8);
		sprintf(dir + n, "/d%d", d);
	}
	ks_mkdirs(dir);
	free(dir);
	/* The whole answers, from a worker without the limit. */
	ks_spawn_root(&p, root, NULL, false);
	for (int k = 0; k < 3; k++) {
		full[k] = ks_call(&p, rq[k] = fill(reqs[k]));
		ck_assert(sublist(full[k], full[k], keys[k], &n));
		ck_assert_int_eq(n, want[k]);
	}
	ks_finish(&p);
	free(p.errtext);
	ck_assert(asprintf(&pol, "{\"limits\":{\"max_open_fds\":%d}}",
	    lim) > 0);
	ks_spawn_root(&p, root, pol, false);
	for (int i = 0; i < 60; i++) {
		got = ks_call(&p, rq[i % 3]);
		r = classify(got, kinds[i % 3]);
		if (r == C_IO)
			ck_assert_str_eq(got, IO("Too many open files (os error "
			    "24)"));
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

/* The load test, shortened: build/load beside the binary under test. */
START_TEST(load_test_ci_run_passes)
{
	char *bin = strdup(ks_bin()), *load;
	pid_t pid;
	int st;

	ck_assert(asprintf(&load, "%s/load", dirname(bin)) > 0);
	ck_assert_msg(access(load, X_OK) == 0, "%s: %s (make builds it with "
	    "check)", load, strerror(errno));
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl(load, "load", "16", "1000", (char *)NULL);
		_exit(127);
	}
	ck_assert(pid > 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s 16 1000: "
	    "status %d", load, st);
	free(load);
	free(bin);
}
END_TEST

Suite *
fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("faults");
	TCase *ld = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, host_gone_mid_frame_exits_1_and_leaves_nothing,
	    0, 4);
	tcase_add_test(tc, file_size_limit_is_io_and_leaves_no_temp_file);
	tcase_add_test(tc, full_file_system_is_io_and_leaves_no_temp_file);
	tcase_add_test(tc, read_of_a_file_rewritten_meanwhile_is_clean);
	tcase_add_test(tc, tree_removed_during_grep_and_glob_is_clean);
	tcase_add_test(tc, unreadable_subtrees_are_skipped_silently);
	tcase_add_loop_test(tc, open_fd_limit_is_io_and_worker_keeps_serving,
	    0, (int)(sizeof(fd_limits) / sizeof(fd_limits[0])));
	suite_add_tcase(s, tc);
	tcase_set_timeout(ld, 300);
	tcase_add_test(ld, load_test_ci_run_passes);
	suite_add_tcase(s, ld);
	return s;
}
