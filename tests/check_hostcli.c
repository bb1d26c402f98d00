/*
 * check_hostcli: host-client and its worker as processes, on the built
 * binary: grep's exit codes and binary files, paths in OS-error
 * messages, stale sockets, signals and the worker's death with its
 * host, a worker found in PATH, names that are not UTF-8, the home
 * directory without NSS.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clilib.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(grep_exits_like_grep)
{
	/* 0: a match. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "hel+o", "%R", NULL }, NULL, 0, "%R/a.txt:1:hello\n", "");
	/* 1: none, quietly; with --json too. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "absent", "%R", NULL }, NULL, 1, "", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "grep", "absent", "%R", NULL }, NULL, 1,
	    "{\"kind\":\"grep\",\"matches\":[]}\n", "");
	/* 2: a missing root, a bad pattern, a denied root. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "x", "%R/missing", NULL }, NULL, 2, "",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "(", "%R", NULL }, NULL, 2, "", NULL);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "x", "%R/.config/koda/db", NULL }, NULL, 2, "",
	    "host-client: read denied: '%R/.config/koda/db' is a "
	    "fully-protected path\n");
	/* Other requests keep exit 1 for an error reply. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "stat",
	    "%R/.config/koda/db", NULL }, NULL, 1, "", NULL);
	ck_assert_int_eq(ks_cli_sockets_left(), 0);
}
END_TEST

START_TEST(grep_says_binary_file_matches)
{
	static const char bin[] = "x\0 needle\nneedle again\n";
	char *p;

	ck_assert(asprintf(&p, "%s/b.dat", ks_cli_root) > 0);
	ks_put(p, bin, sizeof(bin) - 1);
	ks_putf("a needle\n", "%s/c.txt", ks_cli_root);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "needle", "%R", NULL }, NULL, 0,
	    "%R/b.dat: binary file matches (found \"\\0\" byte on line 1)\n"
	    "%R/c.txt:1:a needle\n", "");
	/* --json: the worker's reply as it came. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "grep", "needle", "%R/b.dat", NULL }, NULL, 0,
	    "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/b.dat\",\"line\":1,"
	    "\"text\":\"x\\u0000 needle\"},{\"path\":\"%R/b.dat\",\"line\":2,"
	    "\"text\":\"needle again\"}]}\n", "");
	free(p);
}
END_TEST

START_TEST(os_errors_name_the_path)
{
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/missing", NULL }, NULL, 1, "",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--root",
	    "%R", "edit", "%R/a.txt/x", "a", "b", NULL }, NULL, 1, "",
	    "host-client: %R/a.txt/x: Not a directory (os error 20)\n");
	/* The wire message stays the reference's. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "read", "%R/missing", NULL }, NULL, 1,
	    "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"No such file or "
	    "directory (os error 2)\"}\n",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	/* A message that names the path already is left as it is. */
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--root",
	    "%R", "edit", "%R/a.txt", "absent", "b", NULL }, NULL, 1, "",
	    "host-client: old_string not found in %R/a.txt\n");
}
END_TEST

/* A socket file at path, bound and closed (listening when listen). */
static int
make_socket(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	if (listening) {
		ck_assert(listen(fd, 4) == 0);
		return fd;
	}
	close(fd);
	return -1;
}

START_TEST(dead_socket_is_replaced)
{
	char *sock;
	struct ks_proc p;
	const char *argv[4] = { "--socket", NULL, NULL };

	ck_assert(asprintf(&sock, "%s/w.sock", ks_cli_tmp) > 0);
	make_socket(sock, false);
	argv[1] = sock;
	ks_spawn(&p, argv, NULL, false);	/* asserts ready, connects */
	ks_expect(&p, ks_cli_root, "{\"kind\":\"ping\"}",
	    "{\"kind\":\"pong\"}");
	ck_assert_int_eq(WEXITSTATUS(ks_finish(&p)), 0);
	ks_cli_drop_legacy_warning(p.errtext);
	ck_assert_str_eq(p.errtext, "");
	ck_assert_int_eq(access(sock, F_OK), -1);
	free(p.errtext);
	free(sock);
}
END_TEST

START_TEST(live_socket_and_other_files_are_left_alone)
{
	struct stat st;
	char *sock, *file, *kept;
	int fd;

	ck_assert(asprintf(&sock, "%s/live.sock", ks_cli_tmp) > 0);
	ck_assert(asprintf(&file, "%s/file", ks_cli_tmp) > 0);
	fd = make_socket(sock, true);
	ks_cli_expect((const char *[]){ "koda-fs-worker", "--socket",
	    "%T/live.sock", NULL }, NULL, 1, "",
	    "worker: --socket %T/live.sock: Address already in use: a process "
	    "is listening on that socket\n");
	ck_assert(lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
	close(fd);
	ks_put(file, "keep", 4);
	ks_cli_expect((const char *[]){ "koda-fs-worker", "--socket", "%T/file",
	    NULL }, NULL, 1, "",
	    "worker: --socket %T/file: Address already in use: a file that is "
	    "not a socket is there; remove it (rm %T/file) or choose another "
	    "path\n");
	kept = ks_slurp(file, NULL);
	ck_assert_str_eq(kept, "keep");
	free(kept);
	free(sock);
	free(file);
}
END_TEST


/* The child of parent (the one worker a host-client starts), or 0. */
static pid_t
child_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], buf[512], *p;
	pid_t found = 0;
	long ppid;
	FILE *f;

	ck_assert(d != NULL);
	while (found == 0 && (e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    (f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 && ppid == parent)
			found = (pid_t)atol(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* A host-client batch with its worker serving: *in feeds it, *hc and
 * *worker are the two processes. This test process is their subreaper,
 * so that a worker its host-client did not reap comes to us. */
static void
start_batch(int *in, pid_t *hc, pid_t *worker)
{
	const char *argv[] = { "koda-sandbox", "host-client", "--root",
	    ks_cli_root, "batch", NULL };
	static const char ping[] = "{\"kind\":\"ping\"}\n";
	int i[2], o[2], nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char line[64] = { 0 };

	ck_assert(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	ck_assert(nul >= 0 && pipe2(i, O_CLOEXEC) == 0 &&
	    pipe2(o, O_CLOEXEC) == 0);
	*hc = ks_cli_start(argv, i[0], o[1], nul);
	close(i[0]);
	close(o[1]);
	close(nul);
	ck_assert(write(i[1], ping, sizeof(ping) - 1) == sizeof(ping) - 1);
	ck_assert(read(o[0], line, sizeof(line) - 1) == 16);
	ck_assert_str_eq(line, "{\"kind\":\"pong\"}\n");
	close(o[0]);
	*in = i[1];
	ck_assert((*worker = child_of(*hc)) > 0);
}

/* Waits up to 5 s for pid to end; returns its status, or -1. */
static int
reap_within_5s(pid_t pid)
{
	struct timespec ms = { 0, 1000000 };
	int st;

	for (int i = 0; i < 5000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		nanosleep(&ms, NULL);
	}
	return -1;
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP };

START_TEST(signals_reach_the_worker_which_is_waited_for)
{
	int sig = forwarded[_i], in, st;
	pid_t hc, worker;

	start_batch(&in, &hc, &worker);
	ck_assert(kill(hc, sig) == 0);
	ck_assert((st = reap_within_5s(hc)) != -1);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == sig, "host-client "
	    "status %d, want killed by %d", st, sig);
	/* host-client reaped its worker before it ended: nothing came to
	 * us, the subreaper. */
	errno = 0;
	ck_assert_int_eq(waitpid(worker, &st, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(kill(worker, 0), -1);
	ck_assert_int_eq(ks_cli_sockets_left(), 0);
	close(in);
}
END_TEST

START_TEST(worker_dies_with_its_host)
{
	char path[64], buf[512], *p;
	int in, st = -1;
	pid_t hc, worker;
	FILE *f;

	start_batch(&in, &hc, &worker);
	/* Stopped, it cannot see its connection close and end by itself:
	 * only the parent-death signal can end it. */
	ck_assert(kill(worker, SIGSTOP) == 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)worker);
	for (int i = 0; i < 5000; i++) {
		ck_assert((f = fopen(path, "re")) != NULL);
		ck_assert(fgets(buf, sizeof(buf), f) != NULL);
		fclose(f);
		if ((p = strrchr(buf, ')')) != NULL && p[2] == 'T')
			break;
		usleep(1000);
	}
	ck_assert(kill(hc, SIGKILL) == 0);
	ck_assert(reap_within_5s(hc) != -1);
	st = reap_within_5s(worker);
	if (st == -1)
		kill(worker, SIGKILL);
	ck_assert_msg(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "worker status %d, want killed by SIGKILL", st);
	close(in);
}
END_TEST

START_TEST(bare_worker_name_is_looked_up_in_path)
{
	char *bin, *link, *path;

	ck_assert(asprintf(&bin, "%s/bin", ks_cli_tmp) > 0);
	ck_assert(asprintf(&link, "%s/kw", bin) > 0);
	ck_assert(asprintf(&path, "/nonexistent:%s:/usr/bin:/bin", bin) > 0);
	ks_mkdirs(bin);
	ck_assert(symlink(ks_bin(), link) == 0);
	setenv("PATH", path, 1);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client",
	    "--worker", "kw", "ping", NULL }, NULL, 0, "pong\n", "");
	setenv("KODA_FS_WORKER_BIN", "kw", 1);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "ping",
	    NULL }, NULL, 0, "pong\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client",
	    "--worker", "no-such-kw", "ping", NULL }, NULL, 3, "",
	    "host-client: worker no-such-kw: not found in PATH (a name without "
	    "a slash is looked up there; give a path such as ./no-such-kw for "
	    "another place)\n");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client",
	    "--worker", "%T/none", "ping", NULL }, NULL, 3, "",
	    "host-client: worker %T/none exited with status 127 before it was "
	    "ready (it could not be executed: No such file or directory)\n");
	ck_assert_int_eq(ks_cli_sockets_left(), 0);
	free(bin);
	free(link);
	free(path);
}
END_TEST

static const char *const not_utf8[][8] = {
	/* the message after "host-client: ", then the arguments */
	{ "PATH '%R/\\xff\\xfe.txt'", "read", "%R/\xff\xfe.txt" },
	{ "PATH '%R/a\\xc3'", "--root", "%R", "write", "%R/a\xc3" },
	{ "NEW 'x\\xe2\\x82'", "edit", "%R/a.txt", "hello", "x\xe2\x82" },
	{ "PATTERN '\\xc0\\xaf'", "glob", "\xc0\xaf", "%R" },
	{ "ROOT '%R\\xed\\xa0\\x80'", "grep", "x", "%R\xed\xa0\x80" },
	{ "--include GLOB '*.\\xf8'", "grep", "x", "%R", "--include",
	  "*.\xf8" },
	{ "NAME 'HOME\\x80'", "get-env", "PATH", "HOME\x80" },
};

START_TEST(names_that_are_not_utf8_are_refused_before_sending)
{
	const char *const *c = not_utf8[_i];
	const char *argv[10] = { "koda-sandbox", "host-client" };
	char *want;
	int n = 2;

	for (const char *const *a = c + 1; *a != NULL; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	ck_assert(asprintf(&want, "host-client: %s is not valid UTF-8: the "
	    "protocol's JSON cannot carry it, so it was not sent\n", c[0]) > 0);
	ks_cli_expect(argv, "x", 2, "", want);
	free(want);
	/* Nothing was started, or it was stopped cleanly. */
	ck_assert_int_eq(ks_cli_sockets_left(), 0);
}
END_TEST

START_TEST(utf8_names_and_a_non_utf8_working_directory)
{
	char *dir;

	ks_putf("ok\n", "%s/\xc3\xa9t\xc3\xa9.txt", ks_cli_root);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/\xc3\xa9t\xc3\xa9.txt", NULL }, NULL, 0, "ok\n", "");
	ck_assert(asprintf(&dir, "%s/\xff", ks_cli_root) > 0);
	ks_mkdirs(dir);
	ck_assert(chdir(dir) == 0);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "glob",
	    "*", NULL }, NULL, 2, "", "host-client: the working directory "
	    "'%R/\\xff' is not valid UTF-8: the protocol's JSON cannot carry "
	    "it, so it was not sent\n");
	ck_assert(chdir("/") == 0);
	free(dir);
}
END_TEST

/*
 * Without HOME, grep's global excludes come from the home directory in
 * /etc/passwd (no NSS). The test's own passwd, naming T/home for root,
 * is bound over /etc/passwd in a mount namespace of the run only.
 */
START_TEST(home_comes_from_etc_passwd_without_home)
{
	const char *argv[] = { "koda-sandbox", "host-client", "grep",
	    "needle", NULL, NULL };
	char *pw, *tree, *want, *out;
	int o[2], st;
	pid_t pid;

	ck_assert(asprintf(&pw, "%s/passwd", ks_cli_tmp) > 0 &&
	    asprintf(&tree, "%s/tree", ks_cli_tmp) > 0);
	ks_putf("daemon:x:1:1::/usr/sbin:/bin/false\n", "%s", pw);
	ck_assert(asprintf(&want, "root:x:0:0:root:%s/home:/bin/sh\n",
	    ks_cli_tmp) > 0);
	ks_putf(want, "%s", pw);
	free(want);
	ks_putf("[core]\n\texcludesFile = ~/ignore\n", "%s/home/.gitconfig",
	    ks_cli_tmp);
	ks_putf("*.skip\n", "%s/home/ignore", ks_cli_tmp);
	ks_mkdirs(tree);
	ks_putf("", "%s/.git/HEAD", tree);
	ks_putf("needle\n", "%s/kept.txt", tree);
	ks_putf("needle\n", "%s/left.skip", tree);
	argv[4] = tree;
	ck_assert(pipe2(o, O_CLOEXEC) == 0);
	if ((pid = fork()) == 0) {
		dup2(o[1], 1);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL,
		    MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(pw, "/etc/passwd", NULL, MS_BIND, NULL) < 0)
			_exit(99);
		unsetenv("HOME");
		unsetenv("XDG_CONFIG_HOME");
		execv(ks_bin(), (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	out = ks_drain(o[0]);
	ck_assert(waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
		ks_skip("home_comes_from_etc_passwd_without_home",
		    "no mount namespace here");
	} else {
		ck_assert(asprintf(&want, "%s/kept.txt:1:needle\n", tree) > 0);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "status %d", st);
		ck_assert_str_eq(out, want);
		free(want);
	}
	free(out);
	free(pw);
	free(tree);
}
END_TEST

Suite *
hostcli_suite(void)
{
	Suite *s = suite_create("hostcli");
	TCase *hc = tcase_create("host-client");

	tcase_add_checked_fixture(hc, ks_cli_setup, ks_cli_teardown);
	tcase_set_timeout(hc, 60);
	tcase_add_test(hc, grep_exits_like_grep);
	tcase_add_test(hc, grep_says_binary_file_matches);
	tcase_add_test(hc, os_errors_name_the_path);
	tcase_add_test(hc, dead_socket_is_replaced);
	tcase_add_test(hc, live_socket_and_other_files_are_left_alone);
	tcase_add_loop_test(hc, signals_reach_the_worker_which_is_waited_for,
	    0, NELEM(forwarded));
	tcase_add_test(hc, worker_dies_with_its_host);
	tcase_add_test(hc, bare_worker_name_is_looked_up_in_path);
	tcase_add_loop_test(hc,
	    names_that_are_not_utf8_are_refused_before_sending, 0,
	    NELEM(not_utf8));
	tcase_add_test(hc, utf8_names_and_a_non_utf8_working_directory);
	tcase_add_test(hc, home_comes_from_etc_passwd_without_home);
	suite_add_tcase(s, hc);
	return s;
}
