/*
 * check_attack: the worker binary under attack: a symlink swapped in a
 * loop while writes run, SIGKILL in the middle of large writes, the read
 * rule, the git-config rule, and permissions as an unprivileged user.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "testlib.h"

static char *base, *root, *outside;

static void
setup(void)
{
	base = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", base) > 0);
	ck_assert(asprintf(&outside, "%s/outside", base) > 0);
	ks_mkdirs(root);
	ks_mkdirs(outside);
}

static void
teardown(void)
{
	ks_rmtree(base);
	free(base);
	free(root);
	free(outside);
}

/* Entries in dir, "." and ".." aside. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Flips ROOT/d between a real directory and a symlink to outside, with
 * atomic exchanges, until killed. */
static void
swapper(void)
{
	char d[4200], alt[4200];

	snprintf(d, sizeof(d), "%s/d", root);
	snprintf(alt, sizeof(alt), "%s/alt", root);
	for (;;)
		syscall(SYS_renameat2, AT_FDCWD, d, AT_FDCWD, alt,
		    RENAME_EXCHANGE);
}

START_TEST(symlink_swapped_during_writes_never_escapes)
{
	struct ks_proc p;
	char *dir, *link, req[8400], *got;
	int ok = 0, denied = 0, changed = 0, other = 0;
	char first_other[300] = "";
	pid_t sw;

	ck_assert(asprintf(&dir, "%s/d", root) > 0);
	ck_assert(asprintf(&link, "%s/alt", root) > 0);
	ks_mkdirs(dir);
	ck_assert(symlink(outside, link) == 0);
	ks_spawn_root(&p, root, NULL, false);
	if ((sw = fork()) == 0)
		swapper();
	for (int i = 0; i < 4000; i++) {
		snprintf(req, sizeof(req), "{\"kind\":\"write\",\"path\":"
		    "\"%s/d/f%d\",\"content\":[120]}", root, i);
		got = ks_call(&p, req);
		if (strstr(got, "\"bytes_written\"") != NULL)
			ok++;
		else if (strstr(got, "changed while it was being written"))
			changed++;
		else if (strstr(got, "policy_denied") != NULL)
			denied++;
		else if (other++ == 0)
			snprintf(first_other, sizeof(first_other), "%s", got);
		free(got);
	}
	kill(sw, SIGKILL);
	waitpid(sw, NULL, 0);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	printf("race: 4000 writes while swapping: %d written inside, %d "
	    "denied at the check, %d caught at the open, %d other\n", ok,
	    denied, changed, other);
	if (other > 0)
		printf("race: other replies, e.g. %s\n", first_other);
	ck_assert_msg(count_entries(outside) == 0, "a write escaped the root");
	ck_assert_int_eq(ok + denied + changed + other, 4000);
	free(dir);
	free(link);
}
END_TEST

/* A write request of n bytes, all equal to v. */
static char *
big_write(const char *path, size_t n, int v, size_t *len)
{
	size_t cap = strlen(path) + n * 4 + 64, o;
	char *s = malloc(cap);

	o = (size_t)snprintf(s, cap, "{\"kind\":\"write\",\"path\":\"%s\","
	    "\"content\":[", path);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s%d", i ? "," : "", v);
	o += (size_t)snprintf(s + o, cap - o, "]}");
	*len = o;
	return s;
}

static bool
all_bytes(const char *s, size_t n, size_t want, char v)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != v)
			return false;
	return true;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes n bytes of v to path through a worker and waits for the reply;
 * returns the seconds the request took. */
static double
write_whole(const char *path, size_t n, char v)
{
	struct ks_proc p;
	size_t len;
	char *req = big_write(path, n, v, &len), *got;
	double t;

	ks_spawn_root(&p, root, NULL, false);
	t = now();
	ks_send(&p, req, len);
	got = ks_recv(&p, NULL);
	t = now() - t;
	ck_assert_msg(got != NULL && strstr(got, "bytes_written") != NULL,
	    "write failed: %s", got ? got : "(no reply)");
	free(got);
	ks_finish(&p);
	free(p.errtext);
	free(req);
	return t;
}

START_TEST(sigkill_mid_write_leaves_old_or_new)
{
	const size_t n = 300000;	/* 3 bytes each: the frame holds it */
	int olds = 0, news = 0;
	struct ks_proc p;
	char *path, *req, *got;
	size_t len, glen;
	double full;

	ck_assert(asprintf(&path, "%s/big.bin", root) > 0);
	full = write_whole(path, n, '9');
	for (int k = 0; k < 40; k++) {
		char oldv = (char)('0' + k % 9), newv = (char)(oldv + 1);

		write_whole(path, n, oldv);
		/* The kill point sweeps the whole request, and a bit past. */
		ks_spawn_root(&p, root, NULL, false);
		req = big_write(path, n, newv, &len);
		double t0 = now();
		ks_send(&p, req, len);
		while (now() - t0 < full * 1.2 * k / 40)
			;
		kill(p.pid, SIGKILL);
		ks_finish(&p);
		free(p.errtext);
		free(req);
		got = ks_slurp(path, &glen);
		ck_assert(got != NULL);
		if (all_bytes(got, glen, n, oldv))
			olds++;
		else if (all_bytes(got, glen, n, newv))
			news++;
		else
			ck_abort_msg("round %d: a half-written file (%zu bytes)",
			    k, glen);
		free(got);
	}
	printf("atomicity: 40 writes of %zu bytes killed across %.1f ms: %d "
	    "left the old file, %d the new one, none half-written\n", n,
	    full * 1e3, olds, news);
	free(path);
}
END_TEST

/* s with every %R replaced by the tree's root; caller frees. */
static char *
fill(const char *s)
{
	return ks_subst(s, "%R", root);
}

struct exchange {
	const char *req, *reply;
};

/* Runs a table of exchanges against a worker on root under policy. */
static void
session(const char *policy, const struct exchange *x, size_t n, bool drop)
{
	struct ks_proc p;
	char *pol = policy ? fill(policy) : NULL;

	ks_spawn_root(&p, root, pol, drop);
	for (size_t i = 0; i < n; i++)
		ks_expect(&p, root, x[i].req, x[i].reply);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(pol);
}

#define DENIED(what) "{\"kind\":\"error\",\"code\":\"policy_denied\"," \
	"\"message\":\"" what "\"}"

static const struct exchange read_rule[] = {
	{ "{\"kind\":\"read\",\"path\":\"%R/secret/key\"}",
	  DENIED("read denied: '%R/secret/key' is in a read-denied path") },
	{ "{\"kind\":\"read\",\"path\":\"%R/secret/public/ok\"}",
	  "{\"kind\":\"read\",\"content\":[111,107]}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/link\"}",
	  DENIED("read denied: '%R/link' is in a read-denied path") },
	{ "{\"kind\":\"read\",\"path\":\"%R/x/../secret/key\"}",
	  DENIED("read denied: '%R/x/../secret/key' is in a read-denied path") },
	{ "{\"kind\":\"stat\",\"path\":\"%R/secret/key\"}",
	  DENIED("read denied: '%R/secret/key' is in a read-denied path") },
	{ "{\"kind\":\"read\",\"path\":\"%R/.config/koda/db/keys\"}",
	  DENIED("read denied: '%R/.config/koda/db/keys' is a fully-protected "
	  "path") },
	{ "{\"kind\":\"glob\",\"pattern\":\"**/*\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[\"%R/.config\",\"%R/.config/koda\","
	  "\"%R/plain.txt\",\"%R/secret/public\",\"%R/secret/public/ok\","
	  "\"%R/x\"]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"*\",\"root\":\"%R/secret\"}",
	  DENIED("read denied: '%R/secret' is in a read-denied path") },
	{ "{\"kind\":\"grep\",\"pattern\":\"o\",\"root\":\"%R\"}",
	  "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/plain.txt\",\"line\":1,"
	  "\"text\":\"open\"},{\"path\":\"%R/secret/public/ok\",\"line\":1,"
	  "\"text\":\"ok\"}]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"o\",\"root\":\"%R/secret/key\"}",
	  DENIED("read denied: '%R/secret/key' is in a read-denied path") },
};

START_TEST(read_rule_covers_read_stat_glob_grep)
{
	char *l;

	ks_putf("top secret", "%s/secret/key", root);
	ks_putf("ok", "%s/secret/public/ok", root);
	ks_putf("open", "%s/plain.txt", root);
	ks_putf("db", "%s/.config/koda/db/keys", root);
	ks_mkdirs(l = fill("%R/x"));
	free(l);
	ck_assert(asprintf(&l, "%s/link", root) > 0);
	ck_assert(symlink("secret/key", l) == 0);
	free(l);
	session("{\"fs\":{\"deny_read\":[\"%R/secret\"],"
	    "\"allow_read_within_deny\":[\"%R/secret/public\"]}}", read_rule,
	    sizeof(read_rule) / sizeof(read_rule[0]), false);
}
END_TEST

static const struct exchange git_off[] = {
	{ "{\"kind\":\"write\",\"path\":\"%R/.git/config\",\"content\":[120]}",
	  DENIED("write denied: '%R/.git/config' is a git config path "
	  "(allow_git_config is off)") },
	{ "{\"kind\":\"write\",\"path\":\"%R/.git/hooks/pre-commit\","
	  "\"content\":[120]}",
	  DENIED("write denied: '%R/.git/hooks/pre-commit' is a git config "
	  "path (allow_git_config is off)") },
	{ "{\"kind\":\"edit\",\"path\":\"%R/cfg\",\"old_string\":\"a\","
	  "\"new_string\":\"b\"}",
	  DENIED("write denied: '%R/cfg' is a git config path "
	  "(allow_git_config is off)") },
	{ "{\"kind\":\"write\",\"path\":\"%R/.git/HEAD\",\"content\":[120]}",
	  "{\"kind\":\"write\",\"bytes_written\":1}" },
};

static const struct exchange git_on[] = {
	{ "{\"kind\":\"write\",\"path\":\"%R/.git/config\",\"content\":[120]}",
	  "{\"kind\":\"write\",\"bytes_written\":1}" },
	{ "{\"kind\":\"write\",\"path\":\"%R/.git/hooks/pre-commit\","
	  "\"content\":[120]}", "{\"kind\":\"write\",\"bytes_written\":1}" },
};

START_TEST(git_config_is_protected_unless_allowed)
{
	char *l;

	ks_putf("[core]\na\n", "%s/.git/config", root);
	ck_assert(asprintf(&l, "%s/cfg", root) > 0);
	ck_assert(symlink(".git/config", l) == 0);
	free(l);
	session(NULL, git_off, sizeof(git_off) / sizeof(git_off[0]), false);
	session("{\"fs\":{\"allow_git_config\":true}}", git_on,
	    sizeof(git_on) / sizeof(git_on[0]), false);
}
END_TEST

#define IO(what) "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"" what "\"}"

static const struct exchange unprivileged[] = {
	{ "{\"kind\":\"write\",\"path\":\"%R/locked/f\",\"content\":[120]}",
	  IO("Permission denied (os error 13)") },
	{ "{\"kind\":\"read\",\"path\":\"%R/private.txt\"}",
	  IO("Permission denied (os error 13)") },
	{ "{\"kind\":\"write\",\"path\":\"%R/open/f\",\"content\":[120]}",
	  "{\"kind\":\"write\",\"bytes_written\":1}" },
};

START_TEST(permission_denied_as_an_unprivileged_user)
{
	char *p;

	/* root ignores permissions: the worker runs as 65534, from a copy
	 * of the binary it may execute wherever the build tree lies. */
	ck_assert(chmod(base, 0755) == 0 && chmod(root, 0755) == 0);
	ks_bin_for_nobody(base);
	ks_mkdirs(p = fill("%R/locked"));
	free(p);
	ks_mkdirs(p = fill("%R/open"));
	ck_assert(chown(p, 65534, 65534) == 0);
	free(p);
	ks_putf("mine", "%s/private.txt", root);
	ck_assert(chmod(p = fill("%R/private.txt"), 0600) == 0);
	free(p);
	session(NULL, unprivileged, sizeof(unprivileged) /
	    sizeof(unprivileged[0]), true);
}
END_TEST

/* The filter is in before the first request is read: a worker waiting
 * for its first frame already shows it. */
START_TEST(worker_is_confined_before_the_first_request)
{
	struct ks_proc p;
	char path[64], *st = NULL;

	ks_spawn_root(&p, root, NULL, false);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)p.pid);
	for (int i = 0; i < 500; i++) {
		free(st);
		st = ks_slurp(path, NULL);
		if (st != NULL && strstr(st, "Seccomp:\t2") != NULL)
			break;
		usleep(2000);
	}
	ck_assert_msg(st != NULL && strstr(st, "Seccomp:\t2") != NULL &&
	    strstr(st, "NoNewPrivs:\t1") != NULL, "status: %s", st);
	free(st);
	free(ks_call(&p, "{\"kind\":\"ping\"}"));
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

Suite *
attack_suite(void)
{
	Suite *s = suite_create("attack");
	TCase *tc = tcase_create("attacks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, symlink_swapped_during_writes_never_escapes);
	tcase_add_test(tc, sigkill_mid_write_leaves_old_or_new);
	tcase_add_test(tc, read_rule_covers_read_stat_glob_grep);
	tcase_add_test(tc, git_config_is_protected_unless_allowed);
	tcase_add_test(tc, permission_denied_as_an_unprivileged_user);
	tcase_add_test(tc, worker_is_confined_before_the_first_request);
	suite_add_tcase(s, tc);
	return s;
}
