/*
 * check_fault: the worker binary when the world misbehaves: a host that
 * vanishes mid-frame, a full disk or a file-size limit, unreadable
 * subtrees; and the load test, shortened, so that `make check` runs it.
 * Files and trees changed while they are read, and too few descriptors,
 * are check_stress's.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
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

/* Sends req (with %R for the root) and asserts the exact reply. */
static void
expect(struct ks_proc *p, const char *req, const char *want)
{
	ks_expect(p, root, req, want);
}

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
	char *rq = ks_subst(req, "%R", root), *sock;
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
	expect(p, "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}");
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
	tcase_add_test(tc, unreadable_subtrees_are_skipped_silently);
	suite_add_tcase(s, tc);
	tcase_set_timeout(ld, 300);
	tcase_add_test(ld, load_test_ci_run_passes);
	suite_add_tcase(s, ld);
	return s;
}
