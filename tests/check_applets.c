/*
 * check_applets: the applets as tools people already know (issue 14), on
 * the built binary: one option parser with a reason before the usage,
 * -h/--help and --version everywhere, options anywhere before "--",
 * output errors, no NSS lookup in the static binary, make
 * install/uninstall, the demo and the manual pages. What host-client and
 * its worker do as processes is check_hostcli's.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clilib.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifndef VERSION
#define VERSION "unknown"
#endif

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

	ks_cli_expect(argv, NULL, 0, "koda-sandbox " VERSION "\n", "");
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
	ks_putf("dash\n", "%s/--json", ks_cli_root);
	ck_assert(chdir(ks_cli_root) == 0);
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "ping",
	    "--root", "%R", NULL }, NULL, 0, "pong\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "client", "--root=%R",
	    "ping", NULL }, NULL, 0, "pong\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--ro",
	    "%R", "stat", "%R/a.txt", "--js", NULL }, NULL, 0,
	    "{\"kind\":\"stat\",\"size\":6,\"is_dir\":false,"
	    "\"is_symlink\":false}\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "--root",
	    "%R", "read", "--", "--json", NULL }, NULL, 0, "dash\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "host-client", "read",
	    "%R/a.txt", "--max-bytes=3", NULL }, NULL, 0, "hel", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "policy-check",
	    "--root", "%R", "write", "./a", "--json", NULL }, NULL, 0,
	    "{\"path\":\"./a\",\"op\":\"write\",\"allowed\":true,"
	    "\"reason\":null}\n", "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "policy-check",
	    "--ro=%R", "write", "-", "--null", NULL }, "/etc/x", 1,
	    "/etc/x: write denied: '/etc/x' is outside writable root '%R'\n",
	    "");
	ks_cli_expect((const char *[]){ "koda-sandbox", "policy-check",
	    "--root", "%R", "--", "write", "-x", NULL }, NULL, 1,
	    "-x: write denied: '-x' is outside writable root '%R'\n", "");
	ks_cli_expect((const char *[]){ "koda-fs-worker", "--so=%R/s",
	    "--root=/nonexistent/r", NULL }, NULL, 1, "",
	    "worker: --root /nonexistent/r: No such file or directory "
	    "(os error 2)\n");
	ck_assert_int_eq(ks_cli_sockets_left(), 0);
}
END_TEST

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
		av[n] = filled[n] = ks_cli_fill(argv[n]);
	av[n] = NULL;
	ck_assert(nul >= 0 && pipe2(e, O_CLOEXEC) == 0 &&
	    pipe2(i, O_CLOEXEC) == 0);
	ck_assert(write(i[1], in, strlen(in)) == (ssize_t)strlen(in));
	close(i[1]);
	pid = ks_cli_start(av, i[0], nul, e[1]);
	close(nul);
	close(i[0]);
	close(e[1]);
	*err = ks_drain(e[0]);
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

	ks_cli_drop_legacy_warning(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == full_cases[_i].code,
	    "%s: status %d; stderr %s", full_cases[_i].argv[1], st, err);
	ck_assert_str_eq(err, full_cases[_i].err);
	free(err);
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
	ck_assert(asprintf(&inst, "install DESTDIR=%s/d PREFIX=/usr",
	    ks_cli_tmp) > 0);
	ck_assert(asprintf(&uninst, "uninstall DESTDIR=%s/d PREFIX=/usr",
	    ks_cli_tmp) > 0);
	ck_assert(asprintf(&bin, "%s/d/usr/bin", ks_cli_tmp) > 0);
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
		snprintf(path, sizeof(path), "%s/d/usr/share/man/%s",
		    ks_cli_tmp, pages[i]);
		ck_assert_msg(stat(path, &st) == 0 && (st.st_mode & 0777) ==
		    0644, "%s", path);
	}
	snprintf(path, sizeof(path), "%s/koda-fs-worker", bin);
	ks_cli_expect((const char *[]){ path, "--version", NULL }, NULL, 0,
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
		snprintf(path, sizeof(path), "%s/d/usr/share/man/%s",
		    ks_cli_tmp, pages[i]);
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
	TCase *cmd = tcase_create("commands");

	tcase_add_checked_fixture(opt, ks_cli_setup, ks_cli_teardown);
	tcase_add_loop_test(opt, every_applet_answers_help_on_stdout, 0,
	    NELEM(help_cases));
	tcase_add_loop_test(opt, every_applet_answers_version, 0,
	    NELEM(version_cases));
	tcase_add_loop_test(opt, usage_errors_say_why_before_the_usage, 0,
	    NELEM(usage_cases));
	suite_add_tcase(s, opt);
	tcase_add_checked_fixture(cmd, ks_cli_setup, ks_cli_teardown);
	tcase_set_timeout(cmd, 60);
	tcase_add_test(cmd, options_go_anywhere_before_the_double_dash);
	tcase_add_loop_test(cmd, output_errors_fail, 0, NELEM(full_cases));
	tcase_add_test(cmd, binary_uses_no_nss_lookup);
	tcase_add_test(cmd, make_install_and_uninstall);
	tcase_add_test(cmd, demo_tells_what_each_step_shows);
	tcase_add_test(cmd, man_pages_format_without_warnings);
	suite_add_tcase(s, cmd);
	return s;
}
