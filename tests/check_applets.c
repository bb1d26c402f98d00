/*
 * check_applets: the applets as tools people already know (issue 14), on
 * the built binary: one option parser with a reason before the usage,
 * -h/--help and --version everywhere, grep's exit codes and binary
 * files, paths in OS-error messages, stale sockets, output errors,
 * signals and the worker's death with its host, a worker found in PATH,
 * names that are not UTF-8, the home directory without NSS, make
 * install/uninstall and the demo.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
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

#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifndef VERSION
#define VERSION "unknown"
#endif

static char *root, *tmp;

static void
setup(void)
{
	root = ks_tmpdir();
	tmp = ks_tmpdir();	/* TMPDIR of the clients: their sockets */
	setenv("TMPDIR", tmp, 1);
	unsetenv("KODA_FS_WORKER_BIN");
	unsetenv("KODA_FS_WORKER_POLICY");
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

/* s with %R (the root) and %T (TMPDIR) replaced. Caller frees. */
static char *
fill(const char *s)
{
	char *a = ks_subst(s, "%R", root), *b = ks_subst(a, "%T", tmp);

	free(a);
	return b;
}


/* err without the worker's legacy-mode warning: a worker started without
 * --root says it once (check_audit.c tests that); these tests are about
 * the rest of what stderr says. */
static void
drop_legacy_warning(char *err)
{
	static const char line[] = "koda-fs-worker: warn: no --root: legacy "
	    "mode";
	char *at, *end;

	while (err != NULL && (at = strstr(err, line)) != NULL) {
		end = strchr(at, '\n');
		end = end != NULL ? end + 1 : at + strlen(at);
		memmove(at, end, strlen(end) + 1);
	}
}

/*
 * Runs the binary as argv (each element filled; argv[0] the name it is
 * started as) with stdin in (NULL: /dev/null), asserts the exit status
 * and, unless NULL, the whole of stdout and stderr (filled).
 */
static void
expect_run(const char *const *argv, const char *in, int code,
    const char *want_out, const char *want_err)
{
	const char *av[24];
	char *filled[24] = { 0 }, *out, *err, *w;
	int n, st;

	for (n = 0; argv[n] != NULL && n < 23; n++)
		av[n] = filled[n] = fill(argv[n]);
	av[n] = NULL;
	st = ks_run_in(av, in, in != NULL ? strlen(in) : 0, &out, &err);
	drop_legacy_warning(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "%s %s: status %d, want exit %d; stderr: %s", av[0],
	    n > 1 ? av[1] : "", st, code, err);
	if (want_out != NULL) {
		w = fill(want_out);
		ck_assert_msg(strcmp(out, w) == 0,
		    "%s %s: stdout\n%s\nwant\n%s", av[0], n > 1 ? av[1] : "",
		    out, w);
		free(w);
	}
	if (want_err != NULL) {
		w = fill(want_err);
		ck_assert_msg(strcmp(err, w) == 0,
		    "%s %s: stderr\n%s\nwant\n%s", av[0], n > 1 ? av[1] : "",
		    err, w);
		free(w);
	}
	for (int i = 0; i < n; i++)
		free(filled[i]);
	free(out);
	free(err);
}

/* Sockets left in the clients' TMPDIR. */
static int
sockets_left(void)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "koda-fs-worker-", 15) == 0;
	closedir(d);
	return n;
}

/* -h and --help: the usage on stdout, exit 0, nothing on stderr. */
static const char *const help_cases[][3] = {
	{ "koda-sandbox", "--help" }, { "koda-sandbox", "-h" },
	{ "koda-sandbox", "host-client", "--help" },
	{ "koda-sandbox", "client", "-h" },
	{ "koda-sandbox", "policy-check", "--help" },
	{ "koda-sandbox", "policy-check", "-h" },
	{ "koda-sandbox", "worker", "--help" },
	{ "koda-fs-worker", "-h" }, { "koda-fs-worker", "--he" },
};

START_TEST(every_applet_answers_help_on_stdout)
{
	const char *const *c = help_cases[_i];
	const char *argv[4] = { c[0], c[1], c[2], NULL };
	char *out, *err;
	int st = ks_run(argv, &out, &err);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %s: status "
	    "%d", c[0], c[1], st);
	ck_assert_msg(strncmp(out, "usage: ", 7) == 0, "%s %s: stdout %s",
	    c[0], c[1], out);
	ck_assert_msg(err[0] == '\0', "%s %s: stderr %s", c[0], c[1], err);
	free(out);
	free(err);
}
END_TEST

static const char *const version_cases[][3] = {
	{ "koda-sandbox", "--version" }, { "koda-sandbox", "--vers" },
	{ "koda-sandbox", "host-client", "--version" },
	{ "koda-sandbox", "policy-check", "--version" },
	{ "koda-sandbox", "worker", "--version" },
	{ "koda-fs-worker", "--version" },
};

START_TEST(every_applet_answers_version)
{
	const char *const *c = version_cases[_i];
	const char *argv[4] = { c[0], c[1], c[2], NULL };

	expect_run(argv, NULL, 0, "koda-sandbox " VERSION "\n", "");
}
END_TEST

/* A usage error: exit 2, nothing on stdout, the reason on the first
 * line of stderr and the usage after it. */
static const char *const usage_cases[][8] = {
	/* the reason, then argv */
	{ "host-client: unknown request: frob", "koda-sandbox",
	  "host-client", "frob" },
	{ "host-client: unknown request: get_env (did you mean get-env?)",
	  "koda-sandbox", "host-client", "get_env", "HOME" },
	{ "host-client: no request given", "koda-sandbox", "host-client" },
	{ "host-client: read takes PATH; got 0 operands", "koda-sandbox",
	  "host-client", "read" },
	{ "host-client: edit takes PATH OLD NEW; got 2 operands",
	  "koda-sandbox", "host-client", "edit", "a", "b" },
	{ "host-client: ping takes no operands; got 1", "koda-sandbox",
	  "host-client", "ping", "x" },
	{ "host-client: unknown argument: --bogus", "koda-sandbox",
	  "host-client", "--bogus", "ping" },
	{ "host-client: unknown argument: -x", "koda-sandbox",
	  "host-client", "ping", "-x" },
	{ "host-client: ambiguous argument: --p (--policy or --proxy-port?)",
	  "koda-sandbox", "host-client", "--p", "1", "ping" },
	{ "host-client: --json takes no value", "koda-sandbox",
	  "host-client", "--json=yes", "ping" },
	{ "host-client: --root requires a path argument", "koda-sandbox",
	  "host-client", "ping", "--root" },
	{ "host-client: --include goes with grep only", "koda-sandbox",
	  "host-client", "--include", "*.c", "read", "/x" },
	{ "host-client: --max-bytes goes with read only", "koda-sandbox",
	  "host-client", "stat", "/x", "--max-bytes", "3" },
	{ "host-client: --max-bytes x: not a byte count", "koda-sandbox",
	  "host-client", "read", "/x", "--max-bytes=x" },
	{ "host-client: --proxy-port 0: not a port from 1 to 65535",
	  "koda-sandbox", "host-client", "--proxy-port", "0", "ping" },
	{ "host-client: --policy - cannot be used with write, which reads "
	  "stdin", "koda-sandbox", "host-client", "--policy", "-", "write",
	  "/x" },
	{ "policy-check: unknown argument: --bogus", "koda-sandbox",
	  "policy-check", "--bogus", "write", "/x" },
	{ "policy-check: unknown sub-command: frob", "koda-sandbox",
	  "policy-check", "frob" },
	{ "policy-check: no sub-command given", "koda-sandbox",
	  "policy-check" },
	{ "policy-check: default takes no operands; got 1 operand",
	  "koda-sandbox", "policy-check", "default", "x" },
	{ "policy-check: write takes PATH... or -; got no operands",
	  "koda-sandbox", "policy-check", "write", "--json" },
	{ "koda-sandbox: unknown argument: --bogus", "koda-sandbox",
	  "--bogus" },
	{ "koda-sandbox: one option at a time, and no operand after it",
	  "koda-sandbox", "--version", "x" },
	{ "koda-sandbox: --install requires a directory argument",
	  "koda-sandbox", "--install" },
	{ "worker: unknown argument: x", "koda-fs-worker", "x" },
	{ "worker: --root requires a path argument", "koda-sandbox",
	  "worker", "--root" },
	{ "worker: --help takes no value", "koda-fs-worker", "--help=x" },
};

START_TEST(usage_errors_say_why_before_the_usage)
{
	const char *const *c = usage_cases[_i];
	char *out, *err, *nl;
	int st = ks_run(c + 1, &out, &err);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d",
	    c[0], st);
	ck_assert_msg(out[0] == '\0', "%s: stdout %s", c[0], out);
	ck_assert_msg((nl = strchr(err, '\n')) != NULL, "stderr %s", err);
	*nl = '\0';
	ck_assert_str_eq(err, c[0]);
	ck_assert_msg(strncmp(nl + 1, "usage: ", 7) == 0, "%s: then %s", c[0],
	    nl + 1);
	free(out);
	free(err);
}
END_TEST

START_TEST(options_go_anywhere_before_the_double_dash)
{
	ks_putf("dash\n", "%s/--json", root);
	ck_assert(chdir(root) == 0);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "ping",
	    "--root", "%R", NULL }, NULL, 0, "pong\n", "");
	expect_run((const char *[]){ "koda-sandbox", "client", "--root=%R",
	    "ping", NULL }, NULL, 0, "pong\n", "");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--ro",
	    "%R", "stat", "%R/a.txt", "--js", NULL }, NULL, 0,
	    "{\"kind\":\"stat\",\"size\":6,\"is_dir\":false,"
	    "\"is_symlink\":false}\n", "");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--root",
	    "%R", "read", "--", "--json", NULL }, NULL, 0, "dash\n", "");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/a.txt", "--max-bytes=3", NULL }, NULL, 0, "hel", "");
	expect_run((const char *[]){ "koda-sandbox", "policy-check", "--root",
	    "%R", "write", "./a", "--json", NULL }, NULL, 0,
	    "{\"path\":\"./a\",\"op\":\"write\",\"allowed\":true,"
	    "\"reason\":null}\n", "");
	expect_run((const char *[]){ "koda-sandbox", "policy-check", "--ro=%R",
	    "write", "-", "--null", NULL }, "/etc/x", 1,
	    "/etc/x: write denied: '/etc/x' is outside writable root '%R'\n",
	    "");
	expect_run((const char *[]){ "koda-sandbox", "policy-check", "--root",
	    "%R", "--", "write", "-x", NULL }, NULL, 1,
	    "-x: write denied: '-x' is outside writable root '%R'\n", "");
	expect_run((const char *[]){ "koda-fs-worker", "--so=%R/s",
	    "--root=/nonexistent/r", NULL }, NULL, 1, "",
	    "worker: --root /nonexistent/r: No such file or directory "
	    "(os error 2)\n");
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(grep_exits_like_grep)
{
	/* 0: a match. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "hel+o", "%R", NULL }, NULL, 0, "%R/a.txt:1:hello\n", "");
	/* 1: none, quietly; with --json too. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "absent", "%R", NULL }, NULL, 1, "", "");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "grep", "absent", "%R", NULL }, NULL, 1,
	    "{\"kind\":\"grep\",\"matches\":[]}\n", "");
	/* 2: a missing root, a bad pattern, a denied root. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "x", "%R/missing", NULL }, NULL, 2, "",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "(", "%R", NULL }, NULL, 2, "", NULL);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "x", "%R/.config/koda/db", NULL }, NULL, 2, "",
	    "host-client: read denied: '%R/.config/koda/db' is a "
	    "fully-protected path\n");
	/* Other requests keep exit 1 for an error reply. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "stat",
	    "%R/.config/koda/db", NULL }, NULL, 1, "", NULL);
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(grep_says_binary_file_matches)
{
	static const char bin[] = "x\0 needle\nneedle again\n";
	char *p;

	ck_assert(asprintf(&p, "%s/b.dat", root) > 0);
	ks_put(p, bin, sizeof(bin) - 1);
	ks_putf("a needle\n", "%s/c.txt", root);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "grep",
	    "needle", "%R", NULL }, NULL, 0,
	    "%R/b.dat: binary file matches (found \"\\0\" byte on line 1)\n"
	    "%R/c.txt:1:a needle\n", "");
	/* --json: the worker's reply as it came. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "grep", "needle", "%R/b.dat", NULL }, NULL, 0,
	    "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/b.dat\",\"line\":1,"
	    "\"text\":\"x\\u0000 needle\"},{\"path\":\"%R/b.dat\",\"line\":2,"
	    "\"text\":\"needle again\"}]}\n", "");
	free(p);
}
END_TEST

START_TEST(os_errors_name_the_path)
{
	expect_run((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/missing", NULL }, NULL, 1, "",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--root",
	    "%R", "edit", "%R/a.txt/x", "a", "b", NULL }, NULL, 1, "",
	    "host-client: %R/a.txt/x: Not a directory (os error 20)\n");
	/* The wire message stays the reference's. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--json",
	    "read", "%R/missing", NULL }, NULL, 1,
	    "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"No such file or "
	    "directory (os error 2)\"}\n",
	    "host-client: %R/missing: No such file or directory "
	    "(os error 2)\n");
	/* A message that names the path already is left as it is. */
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--root",
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

	ck_assert(asprintf(&sock, "%s/w.sock", tmp) > 0);
	make_socket(sock, false);
	argv[1] = sock;
	ks_spawn(&p, argv, NULL, false);	/* asserts ready, connects */
	ks_expect(&p, root, "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}");
	ck_assert_int_eq(WEXITSTATUS(ks_finish(&p)), 0);
	drop_legacy_warning(p.errtext);
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

	ck_assert(asprintf(&sock, "%s/live.sock", tmp) > 0);
	ck_assert(asprintf(&file, "%s/file", tmp) > 0);
	fd = make_socket(sock, true);
	expect_run((const char *[]){ "koda-fs-worker", "--socket",
	    "%T/live.sock", NULL }, NULL, 1, "",
	    "worker: --socket %T/live.sock: Address already in use: a process "
	    "is listening on that socket\n");
	ck_assert(lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
	close(fd);
	ks_put(file, "keep", 4);
	expect_run((const char *[]){ "koda-fs-worker", "--socket", "%T/file",
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

/* Starts the binary as argv with the given standard descriptors. */
static pid_t
start(const char *const *argv, int in, int out, int err)
{
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(ks_bin(), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* What fd gives until its end, as a string (caller frees). */
static char *
drain(int fd)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	char buf[4096];
	ssize_t r;

	ck_assert(f != NULL);
	while ((r = read(fd, buf, sizeof(buf))) > 0 ||
	    (r < 0 && errno == EINTR))
		if (r > 0)
			fwrite(buf, 1, (size_t)r, f);
	fclose(f);
	close(fd);
	return s;
}

/* Runs argv (filled) with standard output on /dev/full; returns the
 * raw status and what it said on stderr (caller frees). */
static int
run_full(const char *const *argv, const char *in, char **err)
{
	int nul = open("/dev/full", O_WRONLY | O_CLOEXEC), e[2], i[2], st, n;
	const char *av[8];
	char *filled[8] = { 0 };
	pid_t pid;

	for (n = 0; argv[n] != NULL && n < 7; n++)
		av[n] = filled[n] = fill(argv[n]);
	av[n] = NULL;
	ck_assert(nul >= 0 && pipe2(e, O_CLOEXEC) == 0 &&
	    pipe2(i, O_CLOEXEC) == 0);
	ck_assert(write(i[1], in, strlen(in)) == (ssize_t)strlen(in));
	close(i[1]);
	pid = start(av, i[0], nul, e[1]);
	close(nul);
	close(i[0]);
	close(e[1]);
	*err = drain(e[0]);
	ck_assert(waitpid(pid, &st, 0) == pid);
	for (int k = 0; k < n; k++)
		free(filled[k]);
	return st;
}

static const struct {
	const char *argv[6];
	const char *in;
	int code;
	const char *err;
} full_cases[] = {
	{ { "koda-sandbox", "host-client", "ping" }, "", 1,
	  "host-client: write standard output: No space left on device\n" },
	{ { "koda-sandbox", "host-client", "glob", "*.txt", "%R" }, "", 1,
	  "host-client: write standard output: No space left on device\n" },
	/* grep: an error like any other. */
	{ { "koda-sandbox", "host-client", "grep", "hello", "%R" }, "", 2,
	  "host-client: write standard output: No space left on device\n" },
	{ { "koda-sandbox", "host-client", "batch" }, "{\"kind\":\"ping\"}\n",
	  1, "host-client: write standard output: No space left on device\n" },
	{ { "koda-sandbox", "--list" }, "", 1,
	  "koda-sandbox: write standard output: No space left on device\n" },
	{ { "koda-sandbox", "worker", "--help" }, "", 1,
	  "worker: write standard output: No space left on device\n" },
	{ { "koda-sandbox", "policy-check", "--version" }, "", 1,
	  "policy-check: write standard output: No space left on device\n" },
	/* policy-check's verdicts keep 2 for an I/O failure: 1 says
	 * "denied". */
	{ { "koda-sandbox", "policy-check", "default" }, "", 2,
	  "policy-check: write standard output: No space left on device\n" },
};

START_TEST(output_errors_fail)
{
	char *err;
	int st = run_full(full_cases[_i].argv, full_cases[_i].in, &err);

	drop_legacy_warning(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == full_cases[_i].code,
	    "%s: status %d; stderr %s", full_cases[_i].argv[1], st, err);
	ck_assert_str_eq(err, full_cases[_i].err);
	free(err);
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
	const char *argv[] = { "koda-sandbox", "host-client", "--root", root,
	    "batch", NULL };
	static const char ping[] = "{\"kind\":\"ping\"}\n";
	int i[2], o[2], nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char line[64] = { 0 };

	ck_assert(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	ck_assert(nul >= 0 && pipe2(i, O_CLOEXEC) == 0 &&
	    pipe2(o, O_CLOEXEC) == 0);
	*hc = start(argv, i[0], o[1], nul);
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
	ck_assert_int_eq(sockets_left(), 0);
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

	ck_assert(asprintf(&bin, "%s/bin", tmp) > 0);
	ck_assert(asprintf(&link, "%s/kw", bin) > 0);
	ck_assert(asprintf(&path, "/nonexistent:%s:/usr/bin:/bin", bin) > 0);
	ks_mkdirs(bin);
	ck_assert(symlink(ks_bin(), link) == 0);
	setenv("PATH", path, 1);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--worker",
	    "kw", "ping", NULL }, NULL, 0, "pong\n", "");
	setenv("KODA_FS_WORKER_BIN", "kw", 1);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "ping",
	    NULL }, NULL, 0, "pong\n", "");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--worker",
	    "no-such-kw", "ping", NULL }, NULL, 3, "",
	    "host-client: worker no-such-kw: not found in PATH (a name without "
	    "a slash is looked up there; give a path such as ./no-such-kw for "
	    "another place)\n");
	expect_run((const char *[]){ "koda-sandbox", "host-client", "--worker",
	    "%T/none", "ping", NULL }, NULL, 3, "",
	    "host-client: worker %T/none exited with status 127 before it was "
	    "ready (it could not be executed: No such file or directory)\n");
	ck_assert_int_eq(sockets_left(), 0);
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
	expect_run(argv, "x", 2, "", want);
	free(want);
	/* Nothing was started, or it was stopped cleanly. */
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(utf8_names_and_a_non_utf8_working_directory)
{
	char *dir;

	ks_putf("ok\n", "%s/\xc3\xa9t\xc3\xa9.txt", root);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/\xc3\xa9t\xc3\xa9.txt", NULL }, NULL, 0, "ok\n", "");
	ck_assert(asprintf(&dir, "%s/\xff", root) > 0);
	ks_mkdirs(dir);
	ck_assert(chdir(dir) == 0);
	expect_run((const char *[]){ "koda-sandbox", "host-client", "glob",
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

	ck_assert(asprintf(&pw, "%s/passwd", tmp) > 0 &&
	    asprintf(&tree, "%s/tree", tmp) > 0);
	ks_putf("daemon:x:1:1::/usr/sbin:/bin/false\n", "%s", pw);
	ck_assert(asprintf(&want, "root:x:0:0:root:%s/home:/bin/sh\n",
	    tmp) > 0);
	ks_putf(want, "%s", pw);
	free(want);
	ks_putf("[core]\n\texcludesFile = ~/ignore\n", "%s/home/.gitconfig",
	    tmp);
	ks_putf("*.skip\n", "%s/home/ignore", tmp);
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
	out = drain(o[0]);
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

/* getpwuid_r and its kin need NSS's shared libraries at run time: a
 * static binary must not call them (its link would warn). */
START_TEST(binary_uses_no_nss_lookup)
{
	char *cmd, *out = NULL;
	size_t cap = 0;
	FILE *f;
	int found = 0;

	ck_assert(asprintf(&cmd, "nm -a %s 2>/dev/null", ks_bin()) > 0);
	ck_assert((f = popen(cmd, "r")) != NULL);
	while (getline(&out, &cap, f) > 0)
		found += strstr(out, "getpwuid") != NULL ||
		    strstr(out, "getpwnam") != NULL ||
		    strstr(out, "getgrgid") != NULL;
	if (pclose(f) != 0)
		ks_skip("binary_uses_no_nss_lookup",
		    "nm cannot read the binary");
	else
		ck_assert_int_eq(found, 0);
	free(out);
	free(cmd);
}
END_TEST

/* The source tree: $KS_GOLDEN is its tests/golden. */
static char *
source_dir(void)
{
	const char *g = getenv("KS_GOLDEN");
	char *d;

	ck_assert_msg(g != NULL, "KS_GOLDEN is not set (run through make "
	    "check)");
	ck_assert(asprintf(&d, "%s/../..", g) > 0);
	return d;
}

/* Runs make in the source tree, in the build mode of the binary under
 * test, with more arguments; returns its exit status. */
static int
run_make(const char *args)
{
	const char *b = ks_bin(), *mode = strstr(b, "/build-san/") != NULL ?
	    "SANITIZE=1" : strstr(b, "/build-vg/") != NULL ? "VALGRIND=1" : "";
	char *src = source_dir(), *cmd;
	int st;

	ck_assert(asprintf(&cmd, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "
	    "make -s --no-print-directory -C %s %s %s >/dev/null 2>&1", src,
	    mode, args) > 0);
	st = system(cmd);
	free(cmd);
	free(src);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Every applet name and alias, as --list shows them. */
static int
applet_names(char names[][32], int max)
{
	const char *argv[] = { "koda-sandbox", "--list", NULL };
	char *out, *err, *line, *alias;
	int n = 0;

	ck_assert(WEXITSTATUS(ks_run(argv, &out, &err)) == 0);
	for (line = strtok(out, "\n"); line != NULL && n + 2 <= max;
	    line = strtok(NULL, "\n")) {
		if (strncmp(line, "  ", 2) != 0 || line[2] == ' ')
			continue;
		sscanf(line + 2, "%31s", names[n++]);
		if ((alias = strstr(line, "(also ")) != NULL)
			sscanf(alias + 6, "%31[^)]", names[n++]);
	}
	free(out);
	free(err);
	return n;
}

/* Entries of dir, not counting . and .. */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

START_TEST(make_install_and_uninstall)
{
	static const char *const pages[] = { "man1/koda-sandbox.1",
	    "man1/koda-fs-worker.1", "man5/koda-sandbox-policy.5",
	    "man7/koda-sandbox-protocol.7" };
	char names[16][32], path[4200], target[64], *inst, *uninst, *bin;
	int n = applet_names(names, 16);
	struct stat st;
	ssize_t k;

	if (run_make("-q all") != 0) {
		ks_skip("make_install_and_uninstall", "the build is not up to "
		    "date, and make install would rebuild it under the tests");
		return;
	}
	ck_assert_int_ge(n, 5);
	ck_assert(asprintf(&inst, "install DESTDIR=%s/d PREFIX=/usr", tmp) > 0);
	ck_assert(asprintf(&uninst, "uninstall DESTDIR=%s/d PREFIX=/usr",
	    tmp) > 0);
	ck_assert(asprintf(&bin, "%s/d/usr/bin", tmp) > 0);
	ck_assert_int_eq(run_make(inst), 0);
	/* The binary, one relative link per name and alias, nothing else. */
	snprintf(path, sizeof(path), "%s/koda-sandbox", bin);
	ck_assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", bin, names[i]);
		k = readlink(path, target, sizeof(target) - 1);
		ck_assert_msg(k > 0, "no link %s", path);
		target[k] = '\0';
		ck_assert_str_eq(target, "koda-sandbox");
	}
	ck_assert_int_eq(entries(bin), n + 1);
	for (size_t i = 0; i < NELEM(pages); i++) {
		snprintf(path, sizeof(path), "%s/d/usr/share/man/%s", tmp,
		    pages[i]);
		ck_assert_msg(stat(path, &st) == 0 && (st.st_mode & 0777) ==
		    0644, "%s", path);
	}
	snprintf(path, sizeof(path), "%s/koda-fs-worker", bin);
	expect_run((const char *[]){ path, "--version", NULL }, NULL, 0,
	    "koda-sandbox " VERSION "\n", "");
	/* Again over itself: fine. */
	ck_assert_int_eq(run_make(inst), 0);
	/* Another program's file under an applet's name stays. */
	snprintf(path, sizeof(path), "%s/worker", bin);
	ck_assert(unlink(path) == 0);
	ks_put(path, "other", 5);
	ck_assert_int_ne(run_make(inst), 0);
	ck_assert_int_eq(run_make(uninst), 0);
	ck_assert_int_eq(entries(bin), 1);
	ck_assert(access(path, F_OK) == 0);
	for (size_t i = 0; i < NELEM(pages); i++) {
		snprintf(path, sizeof(path), "%s/d/usr/share/man/%s", tmp,
		    pages[i]);
		ck_assert_int_eq(access(path, F_OK), -1);
	}
	free(inst);
	free(uninst);
	free(bin);
}
END_TEST

/* make demo tells what each step shows. */
START_TEST(demo_tells_what_each_step_shows)
{
	static const char *const told[] = {
		"project/src/evil -> /etc/passwd\n",
		"   NoNewPrivs:\t1\n   Seccomp:\t2\n",
		"   < {\"kind\":\"write\",\"bytes_written\":3}\n"
		"   An allowed write beneath the root",
		"is in a write-protected sub-path\"}\n   Denied: secrets/",
		"'/etc/passwd' is outside writable root 'project'\"}\n"
		"   Denied: /etc/passwd",
		"'project/src/evil' is outside writable root 'project'\"}\n"
		"   Denied: src/evil is inside the root, but the link leads to",
		"\"path\":\"project/README\",\"line\":1,",
		"   src/hello.txt holds: hi\n",
	};
	char *src = source_dir(), *cmd, *out = NULL, buf[4096];
	size_t n = 0;
	FILE *f, *o = open_memstream(&out, &n);
	size_t r;

	ck_assert(asprintf(&cmd, "sh %s/tests/demo.sh %s 2>&1", src,
	    ks_bin()) > 0);
	ck_assert((f = popen(cmd, "r")) != NULL);
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, r, o);
	ck_assert_msg(pclose(f) == 0, "the demo failed");
	fclose(o);
	for (size_t i = 0; i < NELEM(told); i++)
		ck_assert_msg(strstr(out, told[i]) != NULL, "the demo does not "
		    "say\n%s\nin\n%s", told[i], out);
	free(out);
	free(cmd);
	free(src);
}
END_TEST

/* man formats the pages of the applets without a troff warning. */
START_TEST(man_pages_format_without_warnings)
{
	static const char *const pages[] = { "man/koda-sandbox.1",
	    "man/koda-fs-worker.1" };
	char *src = source_dir(), *cmd, *out = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (system("man --version >/dev/null 2>&1") != 0) {
		ks_skip("man_pages_format_without_warnings", "no man(1) here");
		free(src);
		return;
	}
	for (size_t i = 0; i < NELEM(pages); i++) {
		ck_assert(asprintf(&cmd, "MANWIDTH=80 man --warnings -l %s/%s "
		    "2>&1 >/dev/null", src, pages[i]) > 0);
		ck_assert((f = popen(cmd, "r")) != NULL);
		n = getline(&out, &cap, f);
		ck_assert_msg(n <= 0, "%s: %s", pages[i], out);
		ck_assert_int_eq(pclose(f), 0);
		free(cmd);
	}
	free(out);
	free(src);
}
END_TEST

Suite *
applets_suite(void)
{
	Suite *s = suite_create("applets");
	TCase *opt = tcase_create("options");
	TCase *hc = tcase_create("host-client");

	tcase_add_checked_fixture(opt, setup, teardown);
	tcase_add_loop_test(opt, every_applet_answers_help_on_stdout, 0,
	    NELEM(help_cases));
	tcase_add_loop_test(opt, every_applet_answers_version, 0,
	    NELEM(version_cases));
	tcase_add_loop_test(opt, usage_errors_say_why_before_the_usage, 0,
	    NELEM(usage_cases));
	suite_add_tcase(s, opt);
	tcase_add_checked_fixture(hc, setup, teardown);
	tcase_set_timeout(hc, 60);
	tcase_add_test(hc, options_go_anywhere_before_the_double_dash);
	tcase_add_test(hc, grep_exits_like_grep);
	tcase_add_test(hc, grep_says_binary_file_matches);
	tcase_add_test(hc, os_errors_name_the_path);
	tcase_add_test(hc, dead_socket_is_replaced);
	tcase_add_test(hc, live_socket_and_other_files_are_left_alone);
	tcase_add_loop_test(hc, output_errors_fail, 0, NELEM(full_cases));
	tcase_add_loop_test(hc, signals_reach_the_worker_which_is_waited_for,
	    0, NELEM(forwarded));
	tcase_add_test(hc, worker_dies_with_its_host);
	tcase_add_test(hc, bare_worker_name_is_looked_up_in_path);
	tcase_add_loop_test(hc,
	    names_that_are_not_utf8_are_refused_before_sending, 0,
	    NELEM(not_utf8));
	tcase_add_test(hc, utf8_names_and_a_non_utf8_working_directory);
	tcase_add_test(hc, home_comes_from_etc_passwd_without_home);
	tcase_add_test(hc, binary_uses_no_nss_lookup);
	tcase_add_test(hc, make_install_and_uninstall);
	tcase_add_test(hc, demo_tells_what_each_step_shows);
	tcase_add_test(hc, man_pages_format_without_warnings);
	suite_add_tcase(s, hc);
	return s;
}
