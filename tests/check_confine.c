/*
 * check_confine: the kernel confinement, attacked for real. Each test
 * runs in its own forked process (Check's default), calls the worker's
 * confinement function, then tries what a subverted worker would try.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/confine.h"
#include "../src/err.h"
#include "../src/filter.h"
#include "../src/fsops.h"
#include "testlib.h"

/* The reference's edit: the first occurrence of old. */
static int
edit1(struct ks_fs *fs, const char *path, const char *old, size_t olen,
    const char *new, size_t nlen, struct ks_err *err)
{
	struct ks_edit e = { old, new, olen, nlen, false, false };
	size_t count = 0;

	return ks_fs_edit(fs, path, &e, &count, err);
}

static char *root, *outside;
static struct ks_policy policy;
static struct ks_fs fs;

static void
setup(void)
{
	root = ks_tmpdir();
	outside = ks_tmpdir();
	ks_policy_init(&policy);
	ck_assert(ks_fs_open(&fs, &policy, root, NULL) == 0);
}

static void
teardown(void)
{
	ks_fs_close(&fs);
	ks_policy_free(&policy);
	ks_rmtree(root);
	ks_rmtree(outside);
	free(root);
	free(outside);
}

static int
kernel_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

/*
 * Runs attack in a child that confines itself first (landlock_only: the
 * Landlock step alone, to show it holds without seccomp). The child
 * exits 0 when every claim held, else with the failing line; Check's own
 * process stays unconfined. Returns the raw wait status.
 */
static int
confined(int (*attack)(int), int arg, int abi_cap, bool landlock_only)
{
	struct ks_err e;
	pid_t pid;
	int st = 0, rc;

	if ((pid = fork()) == 0) {
		rc = landlock_only ? ks_confine_landlock(&fs, abi_cap, NULL, &e) :
		    ks_confine(&fs, abi_cap, NULL, &e);
		if (rc < 0) {
			fprintf(stderr, "confine: %s\n", e.msg);
			_exit(255);
		}
		_exit(attack(arg));
	}
	ck_assert(pid > 0);
	ck_assert(waitpid(pid, &st, 0) == pid);
	return st;
}

/* The attack's claims: on failure the child exits with the line. */
#define CLAIM(c) do { if (!(c)) { fprintf(stderr, "claim failed at " \
	"%s:%d: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)

static void
expect_held(int st)
{
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "a claim failed (status %d; its line is on stderr)", st);
}

static void
expect_killed(int st)
{
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "not killed by SIGSYS: status %d", st);
}

START_TEST(filter_matches_a_fresh_libseccomp_build)
{
	scmp_filter_ctx ctx = ks_filter_new();
	unsigned char buf[65536];
	const unsigned char *have;
	size_t len;
	ssize_t n;
	int fd = memfd_create("f", 0);

	ck_assert(ctx != NULL && fd >= 0);
	ck_assert_int_eq(seccomp_export_bpf(ctx, fd), 0);
	n = pread(fd, buf, sizeof(buf), 0);
	have = ks_confine_filter(&len);
	ck_assert_int_eq((size_t)n, len);
	ck_assert_msg(memcmp(buf, have, len) == 0,
	    "the built-in filter is stale: rebuild filter.inc");
	seccomp_release(ctx);
	close(fd);
}
END_TEST

static int
try_execve(int unused)
{
	char *const argv[] = { "true", NULL };

	(void)unused;
	execve("/bin/true", argv, argv + 1);
	return __LINE__;
}

static int
try_ptrace(int unused)
{
	(void)unused;
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return __LINE__;
}

START_TEST(execve_and_ptrace_kill_the_worker)
{
	expect_killed(confined(try_execve, 0, 0, false));
	expect_killed(confined(try_ptrace, 0, 0, false));
}
END_TEST

static int
try_sockets(int unused)
{
	(void)unused;
	errno = 0;
	CLAIM(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM);
	CLAIM(socket(AF_UNIX, SOCK_STREAM, 0) == -1 && errno == EPERM);
	/* Not filtered, for contrast: EBADF comes from the kernel. */
	CLAIM(close(-1) == -1 && errno == EBADF);
	return 0;
}

START_TEST(new_sockets_fail_with_eperm)
{
	expect_held(confined(try_sockets, 0, 0, false));
}
END_TEST

static int
try_ioctls(int fd)
{
	/* An allowed command on a non-terminal: the kernel says ENOTTY. */
	errno = 0;
	CLAIM(syscall(SYS_ioctl, fd, (unsigned long)TCGETS, NULL) == -1 &&
	    errno == ENOTTY);
	/* The kernel reads commands as 32 bits, and so does the filter. */
	CLAIM(syscall(SYS_ioctl, fd, (unsigned long)TCGETS | (1UL << 32),
	    NULL) == -1 && errno == ENOTTY);
	/* TIOCSTI, plain or with high bits set, never reaches the kernel. */
	CLAIM(syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, "x") == -1 &&
	    errno == EPERM);
	CLAIM(syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI | (1UL << 32),
	    "x") == -1 && errno == EPERM);
	return 0;
}

START_TEST(ioctl_is_filtered_on_the_low_32_bits)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert(fd >= 0);
	expect_held(confined(try_ioctls, fd, 0, false));
	close(fd);
}
END_TEST

static int
try_status(int unused)
{
	char *st = ks_slurp("/proc/self/status", NULL);

	(void)unused;
	CLAIM(st != NULL);
	CLAIM(strstr(st, "NoNewPrivs:\t1") != NULL);
	CLAIM(strstr(st, "Seccomp:\t2") != NULL);
	free(st);
	return 0;
}

START_TEST(no_new_privs_and_seccomp_show_in_status)
{
	expect_held(confined(try_status, 0, 0, false));
}
END_TEST

/* Raw open outside the root, with no application check in the way. */
static int
try_writes(int unused)
{
	char *out, *in;
	struct ks_err e;
	int fd;

	(void)unused;
	CLAIM(asprintf(&out, "%s/escaped", outside) > 0);
	CLAIM(asprintf(&in, "%s/sub/inside.txt", root) > 0);
	errno = 0;
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CLAIM(fd < 0 && errno == EACCES);
	CLAIM(mkdir(out, 0755) < 0 && errno == EACCES);
	/* Inside, the atomic write works, new file and replace. */
	CLAIM(ks_fs_write(&fs, in, (const unsigned char *)"ok", 2, &e) == 0);
	CLAIM(ks_fs_write(&fs, in, (const unsigned char *)"again", 5,
	    &e) == 0);
	free(out);
	free(in);
	return 0;
}

START_TEST(landlock_confines_writes_at_every_abi)
{
	int abi = kernel_abi();
	char name[64];

	snprintf(name, sizeof(name), "landlock_writes_abi_%d", _i);
	if (abi == 0) {
		ks_skip(name, "no Landlock on this kernel");
		return;
	}
	if (_i > abi) {
		ks_skip(name, "the kernel's Landlock ABI is lower");
		return;
	}
	/* Landlock alone holds the line, and so does the whole sequence. */
	expect_held(confined(try_writes, 0, _i, true));
	expect_held(confined(try_writes, 0, _i, false));
}
END_TEST

static int
try_connect(int s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	errno = 0;
	CLAIM(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno == EACCES);
	CLAIM(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno == EACCES);
	return 0;
}

START_TEST(landlock_closes_tcp)
{
	int s;

	if (kernel_abi() < 4) {
		ks_skip("landlock_closes_tcp", "Landlock ABI < 4: no network "
		    "rules");
		return;
	}
	/* Made before confinement: seccomp forbids new sockets anyway. */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(s >= 0);
	expect_held(confined(try_connect, s, 0, true));
	close(s);
}
END_TEST

static int
try_legacy(int unused)
{
	char *out;
	int fd;

	(void)unused;
	CLAIM(asprintf(&out, "%s/free", outside) > 0);
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CLAIM(fd >= 0);
	close(fd);
	free(out);
	return 0;
}

START_TEST(legacy_mode_restricts_no_writes)
{
	ks_fs_close(&fs);
	ck_assert(ks_fs_open(&fs, &policy, NULL, NULL) == 0);
	expect_held(confined(try_legacy, 0, 0, false));
}
END_TEST

static int
try_limits(int unused)
{
	struct rlimit rl;
	int n = 0;

	(void)unused;
	CLAIM(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 32);
	CLAIM(getrlimit(RLIMIT_CPU, &rl) == 0 && rl.rlim_max == 100);
	while (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
		n++;
	CLAIM(errno == EMFILE && n < 32);
	return 0;
}

START_TEST(resource_limits_come_from_the_policy)
{
	policy.max_open_fds = (struct ks_limit){ true, 32 };
	policy.cpu_time_secs = (struct ks_limit){ true, 100 };
	expect_held(confined(try_limits, 0, 0, false));
}
END_TEST

/* Without openat2 (old kernels, valgrind) writes walk component by
 * component and still refuse links. */
static int
try_without_openat2(int unused)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	char *in, *via;
	struct ks_err e;

	(void)unused;
	CLAIM(ctx != NULL && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(openat2), 0) == 0 && seccomp_load(ctx) == 0);
	CLAIM(asprintf(&in, "%s/new/dir/f.txt", root) > 0);
	CLAIM(ks_fs_write(&fs, in, (const unsigned char *)"one", 3, &e) == 0);
	CLAIM(ks_fs_write(&fs, in, (const unsigned char *)"two", 3, &e) == 0);
	CLAIM(edit1(&fs, in, "two", 3, "three", 5, &e) == 0);
	/* A link inside the root is followed by the check, not the open. */
	CLAIM(asprintf(&via, "%s/ln/dir/g.txt", root) > 0);
	CLAIM(ks_fs_write(&fs, via, (const unsigned char *)"g", 1, &e) == 0);
	free(in);
	free(via);
	seccomp_release(ctx);
	return 0;
}

START_TEST(writes_work_without_openat2)
{
	char *p, *got;

	/* Made before confinement: Landlock allows no links to be made. */
	ck_assert(asprintf(&p, "%s/ln", root) > 0 && symlink("new", p) == 0);
	free(p);
	expect_held(confined(try_without_openat2, 0, 0, true));
	ck_assert(asprintf(&p, "%s/new/dir/f.txt", root) > 0);
	got = ks_slurp(p, NULL);
	ck_assert_str_eq(got, "three");
	free(got);
	free(p);
	ck_assert(asprintf(&p, "%s/new/dir/g.txt", root) > 0);
	got = ks_slurp(p, NULL);
	ck_assert_str_eq(got, "g");
	free(got);
	free(p);
}
END_TEST

Suite *
confine_suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc = tcase_create("attacks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, filter_matches_a_fresh_libseccomp_build);
	tcase_add_test(tc, execve_and_ptrace_kill_the_worker);
	tcase_add_test(tc, new_sockets_fail_with_eperm);
	tcase_add_test(tc, ioctl_is_filtered_on_the_low_32_bits);
	tcase_add_test(tc, no_new_privs_and_seccomp_show_in_status);
	tcase_add_loop_test(tc, landlock_confines_writes_at_every_abi, 1, 8);
	tcase_add_test(tc, landlock_closes_tcp);
	tcase_add_test(tc, legacy_mode_restricts_no_writes);
	tcase_add_test(tc, resource_limits_come_from_the_policy);
	tcase_add_test(tc, writes_work_without_openat2);
	suite_add_tcase(s, tc);
	return s;
}
