/*
 * check_readrace: the read rule under attack. A directory on the way to
 * the file is swapped, with renameat2(RENAME_EXCHANGE) in a loop, for a
 * symlink into a deny_read area while reads, stats, greps and globs run
 * through it; a hard link carries a denied file into the root. No reply
 * may carry a byte, a name or the size of what the policy denies.
 */
#include <check.h>
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
#include <unistd.h>
#include <linux/fs.h>

#include "lookup.h"
#include "path.h"
#include "testlib.h"

/* What the secret files hold and are called: none of it may show. */
#define SECRET_TEXT "SECRET-MARKER-7f3a9c\n"
#define SECRET_NAME "SECRET-NAME-7f3a9c"
#define PUBLIC_TEXT "public content\n"
/* The size of every secret file: a stat that shows it leaked. */
#define SECRET_SIZE 7777

static char *base, *root, *secret, *policy;
/* SECRET_TEXT as a reply's byte array shows it: "83,69,67,...". */
static char secret_bytes[256], public_bytes[256];

static void
as_bytes(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0' && s[i] != '\n'; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%d", i ? "," : "",
		    (unsigned char)s[i]);
}

/* dir/name in one of two static buffers (two may be needed at once). */
static const char *
at(const char *dir, const char *name)
{
	static char buf[4200];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static const char *
at2(const char *dir, const char *name)
{
	static char buf[4200];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* A secret file: SECRET_TEXT, padded to SECRET_SIZE bytes. */
static void
put_secret(const char *path)
{
	char buf[SECRET_SIZE];

	memset(buf, '\n', sizeof(buf));
	memcpy(buf, SECRET_TEXT, strlen(SECRET_TEXT));
	ks_put(path, buf, sizeof(buf));
}

static void
setup(void)
{
	base = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", base) > 0);
	ck_assert(asprintf(&secret, "%s/secret", base) > 0);
	ck_assert(asprintf(&policy, "{\"fs\":{\"deny_read\":[\"%s\"]}}",
	    secret) > 0);
	ks_mkdirs(root);
	ks_mkdirs(secret);
	as_bytes(secret_bytes, sizeof(secret_bytes), SECRET_TEXT);
	as_bytes(public_bytes, sizeof(public_bytes), PUBLIC_TEXT);
}

static void
teardown(void)
{
	ks_rmtree(base);
	free(base);
	free(root);
	free(secret);
	free(policy);
}

/* Exchanges a and b (a directory and a symlink) until killed. */
static pid_t
start_swapper(const char *a, const char *b)
{
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0)
		for (;;)
			syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
			    RENAME_EXCHANGE);
	return pid;
}

static void
stop_swapper(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* How the replies of one kind of request came out. */
struct tally {
	int answered, denied, changed, other, leaked;
	char first_other[300], first_leak[300];
};

static bool
leaks(const char *reply, bool stat_reply)
{
	char size[64];

	snprintf(size, sizeof(size), "\"size\":%d,", SECRET_SIZE);
	return strstr(reply, secret_bytes) != NULL ||
	    strstr(reply, "SECRET-") != NULL ||
	    (stat_reply && strstr(reply, size) != NULL);
}

static void
count(struct tally *t, const char *reply, bool stat_reply)
{
	if (leaks(reply, stat_reply)) {
		if (t->leaked++ == 0)
			snprintf(t->first_leak, sizeof(t->first_leak), "%s",
			    reply);
	} else if (strstr(reply, "changed while it was being read")) {
		t->changed++;
	} else if (strstr(reply, "policy_denied") != NULL) {
		t->denied++;
	} else if (strstr(reply, "\"kind\":\"error\"") == NULL) {
		t->answered++;
	} else if (t->other++ == 0) {
		snprintf(t->first_other, sizeof(t->first_other), "%s", reply);
	}
}

static void
report(const char *what, const struct tally *t)
{
	printf("readrace: %s: %d answered, %d denied where the lookup "
	    "landed, %d caught as changed, %d other, %d leaked\n", what,
	    t->answered, t->denied, t->changed, t->other, t->leaked);
	if (t->other > 0)
		printf("readrace: %s: other replies, e.g. %s\n", what,
		    t->first_other);
	if (t->leaked > 0)
		printf("readrace: %s: leaked, e.g. %.200s\n", what,
		    t->first_leak);
	fflush(stdout);
}

/* Sends req (%R: the root) and tallies its reply. */
static void
attempt(struct ks_proc *p, const char *req, struct tally *t, bool stat_reply)
{
	char *r = ks_subst(req, "%R", root), *got = ks_call(p, r);

	count(t, got, stat_reply);
	free(got);
	free(r);
}

/*
 * ROOT/d is a real directory, ROOT/alt a symlink to the secret area;
 * they trade places all the time. Reads, greps and globs go through
 * ROOT/d (and the globs through ROOT/alt too).
 */
START_TEST(directory_swapped_for_a_link_never_leaks)
{
	struct tally rd = { 0 }, gr = { 0 }, gl = { 0 };
	char *d, *alt;
	struct ks_proc p;
	pid_t sw;

	ck_assert(asprintf(&d, "%s/d", root) > 0);
	ck_assert(asprintf(&alt, "%s/alt", root) > 0);
	ks_putf(PUBLIC_TEXT, "%s/f", d);
	ks_putf(PUBLIC_TEXT, "%s/public-name", d);
	put_secret(at(secret, "f"));
	ks_putf(SECRET_TEXT, "%s/" SECRET_NAME, secret);
	ck_assert(symlink(secret, alt) == 0);
	ks_spawn_root(&p, root, policy, false);
	sw = start_swapper(d, alt);
	for (int i = 0; i < 20000; i++) {
		attempt(&p, "{\"kind\":\"read\",\"path\":\"%R/d/f\"}", &rd,
		    false);
		if (i % 10 != 0)
			continue;
		attempt(&p, i % 20 == 0 ?
		    "{\"kind\":\"grep\",\"pattern\":\"MARKER|content\","
		    "\"root\":\"%R/d\"}" :
		    "{\"kind\":\"grep\",\"pattern\":\"MARKER|content\","
		    "\"root\":\"%R/d/f\"}", &gr, false);
		attempt(&p, i % 20 == 0 ?
		    "{\"kind\":\"glob\",\"pattern\":\"*/*\",\"root\":\"%R\"}" :
		    "{\"kind\":\"glob\",\"pattern\":\"d/S*\",\"root\":\"%R\"}",
		    &gl, false);
	}
	stop_swapper(sw);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	report("20000 reads of ROOT/d/f", &rd);
	report("2000 greps of ROOT/d and ROOT/d/f", &gr);
	report("2000 globs */* and d/S*", &gl);
	ck_assert_int_eq(rd.leaked + gr.leaked + gl.leaked, 0);
	ck_assert_int_eq(rd.answered + rd.denied + rd.other, 20000);
	/* The attack did run: both sides of the swap were seen. */
	ck_assert_int_gt(rd.answered, 0);
	ck_assert_int_gt(rd.denied, 0);
	free(d);
	free(alt);
}
END_TEST

/*
 * ROOT/a/b/c/file, the swap at each level in turn: a component on the
 * way becomes a link to a secret tree of the same shape. Reads and
 * stats of the file: neither its bytes nor its size may show.
 */
static const char *const levels[] = { "a", "a/b", "a/b/c" };
static const char *const below[] = { "b/c/file", "c/file", "file" };

START_TEST(intermediate_component_swapped_never_leaks)
{
	const char *lvl = levels[_i];
	struct tally rd = { 0 }, st = { 0 };
	char *comp, *alt, *tree, *sfile, what[128];
	struct ks_proc p;
	pid_t sw;

	ks_putf(PUBLIC_TEXT, "%s/a/b/c/file", root);
	ck_assert(asprintf(&comp, "%s/%s", root, lvl) > 0);
	ck_assert(asprintf(&alt, "%s-alt", comp) > 0);
	ck_assert(asprintf(&tree, "%s/level%d", secret, _i) > 0);
	ck_assert(asprintf(&sfile, "%s/%s", tree, below[_i]) > 0);
	ks_putf("", "%s/.keep", tree);
	put_secret(sfile);
	ck_assert(symlink(tree, alt) == 0);
	ks_spawn_root(&p, root, policy, false);
	sw = start_swapper(comp, alt);
	for (int i = 0; i < 2000; i++) {
		attempt(&p, "{\"kind\":\"read\",\"path\":\"%R/a/b/c/file\"}",
		    &rd, false);
		attempt(&p, "{\"kind\":\"stat\",\"path\":\"%R/a/b/c/file\"}",
		    &st, true);
	}
	stop_swapper(sw);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	snprintf(what, sizeof(what), "ROOT/%s swapped, 2000 reads", lvl);
	report(what, &rd);
	snprintf(what, sizeof(what), "ROOT/%s swapped, 2000 stats", lvl);
	report(what, &st);
	ck_assert_int_eq(rd.leaked + st.leaked, 0);
	ck_assert_int_gt(rd.answered, 0);
	ck_assert_int_gt(rd.denied + st.denied, 0);
	free(comp);
	free(alt);
	free(tree);
	free(sfile);
}
END_TEST

/*
 * A hard link made inside the root to a file in the denied area: the
 * same inode under an allowed name. Read, stat and grep refuse it; a
 * hard link between two allowed files, and one to a file in an
 * allow_read_within_deny hole, are read as usual.
 */
START_TEST(hard_link_to_a_denied_file_is_refused)
{
	char *pol, *got, *hole, req[4200];
	struct ks_proc p;

	put_secret(at(secret, "h"));
	ck_assert(asprintf(&hole, "%s/pub", secret) > 0);
	ks_putf("hole\n", "%s/x", hole);
	ks_putf("plain\n", "%s/p", root);
	ck_assert(link(at(secret, "h"), at2(root, "h")) == 0);
	ck_assert(link(at(root, "p"), at2(root, "p2")) == 0);
	ck_assert(link(at(hole, "x"), at2(root, "hx")) == 0);
	ck_assert(asprintf(&pol, "{\"fs\":{\"deny_read\":[\"%s\"],"
	    "\"allow_read_within_deny\":[\"%s\"]}}", secret, hole) > 0);
	ks_spawn_root(&p, root, pol, false);
	ks_expect(&p, root, "{\"kind\":\"read\",\"path\":\"%R/h\"}",
	    "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":"
	    "\"read denied: '%R/h' is a hard link to a read-denied file\"}");
	ks_expect(&p, root, "{\"kind\":\"stat\",\"path\":\"%R/h\"}",
	    "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":"
	    "\"read denied: '%R/h' is a hard link to a read-denied file\"}");
	ks_expect(&p, root, "{\"kind\":\"edit\",\"path\":\"%R/h\","
	    "\"old_string\":\"SECRET\",\"new_string\":\"SECRET\"}",
	    "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":"
	    "\"read denied: '%R/h' is a hard link to a read-denied file\"}");
	ks_expect(&p, root, "{\"kind\":\"grep\",\"pattern\":\"MARKER\","
	    "\"root\":\"%R\"}", "{\"kind\":\"grep\",\"matches\":[]}");
	ks_expect(&p, root, "{\"kind\":\"grep\",\"pattern\":\"MARKER\","
	    "\"root\":\"%R/h\"}", "{\"kind\":\"grep\",\"matches\":[]}");
	ks_expect(&p, root, "{\"kind\":\"read\",\"path\":\"%R/p2\"}",
	    "{\"kind\":\"read\",\"content\":[112,108,97,105,110,10]}");
	ks_expect(&p, root, "{\"kind\":\"read\",\"path\":\"%R/hx\"}",
	    "{\"kind\":\"read\",\"content\":[104,111,108,101,10]}");
	snprintf(req, sizeof(req), "{\"kind\":\"grep\",\"pattern\":"
	    "\"plain|hole\",\"root\":\"%s\"}", root);
	got = ks_call(&p, req);
	ck_assert_msg(strstr(got, "\"line\":1,\"text\":\"hole\"") != NULL &&
	    strstr(got, "\"text\":\"plain\"") != NULL, "%s", got);
	free(got);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(pol);
	free(hole);
}
END_TEST

/* An edit's answer tells whether old_string is in the file: the read
 * rule applies to it as well as the write rule. */
START_TEST(edit_of_a_read_denied_file_is_refused)
{
	char *pol;
	struct ks_proc p;

	ks_putf(SECRET_TEXT, "%s/in/key", root);
	ck_assert(asprintf(&pol, "{\"fs\":{\"deny_read\":[\"%s/in\"]}}",
	    root) > 0);
	ks_spawn_root(&p, root, pol, false);
	/* An edit answers whether old_string is there: a read. */
	ks_expect(&p, root, "{\"kind\":\"edit\",\"path\":\"%R/in/key\","
	    "\"old_string\":\"SECRET\",\"new_string\":\"SECRET\"}",
	    "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":"
	    "\"read denied: '%R/in/key' is in a read-denied path\"}");
	/* Writing there stays allowed: the read rule is about reading. */
	ks_expect(&p, root, "{\"kind\":\"write\",\"path\":\"%R/in/new\","
	    "\"content\":[49]}", "{\"kind\":\"write\",\"bytes_written\":1}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(pol);
}
END_TEST

/*
 * ks_lookup_open against the kernel: for each path of a tree with links
 * of every kind, the same error as open(2) and, for the landing, what
 * ks_path_resolve says (the string the read rule has always judged).
 */
static const char *const lookups[] = {
	"a/b/f", "lnk/f", "lnk/../f", "abs", "up/x", "up/../a/b/f",
	"a/b/f/", "a/b/f/.", "a/b/f/..", "missing/../a/b/f", "a/b/f/../f",
	"loop1", "loop1/x", "dl", "dl/x", "", ".", "..", "a/", "lnk/",
	"flink", "flink/", "a/b/./f", "./a//b/f", "a/missing/x", "fifo",
	"chain", "chain/f", "rel/b/f", "a/b/f/x", "/", "//", "a/../a/b/f",
};

static void
lookup_tree(const char *dir)
{
	char p[4200];

	ks_putf("hi\n", "%s/a/b/f", dir);
	ks_putf("s\n", "%s/sec/x", dir);
	snprintf(p, sizeof(p), "%s/lnk", dir);
	ck_assert(symlink("a/b", p) == 0);
	snprintf(p, sizeof(p), "%s/abs", dir);
	ck_assert(symlink("/etc/hostname", p) == 0);
	snprintf(p, sizeof(p), "%s/loop1", dir);
	ck_assert(symlink("loop2", p) == 0);
	snprintf(p, sizeof(p), "%s/loop2", dir);
	ck_assert(symlink("loop1", p) == 0);
	snprintf(p, sizeof(p), "%s/up", dir);
	ck_assert(symlink("a/../sec", p) == 0);
	snprintf(p, sizeof(p), "%s/dl", dir);
	ck_assert(symlink("dangling", p) == 0);
	snprintf(p, sizeof(p), "%s/flink", dir);
	ck_assert(symlink("a/b/f", p) == 0);
	snprintf(p, sizeof(p), "%s/chain", dir);
	ck_assert(symlink("lnk", p) == 0);
	snprintf(p, sizeof(p), "%s/rel", dir);
	ck_assert(symlink("./a/", p) == 0);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	ck_assert(mkfifo(p, 0600) == 0);
}

/* The lookup of path from dir agrees with the kernel; with a base at
 * dir too (the worker's root), where path is beneath it. */
static void
agree(const char *dir, const char *path, const struct ks_lookup_base *b)
{
	char *landing = NULL, *res = NULL;
	int fd, kfd, kerr, rr;

	fd = ks_lookup_open(path, b, O_RDONLY | O_NONBLOCK, KS_LOOKUP_FOLLOW,
	    &landing);
	kfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	kerr = kfd < 0 ? errno : 0;
	rr = ks_path_resolve(path, &res, NULL);
	ck_assert_msg((fd < 0 ? -fd : 0) == kerr, "%s in %s: lookup %d, "
	    "kernel %d", path, dir, fd, kerr);
	ck_assert_msg((landing == NULL) == (rr < 0), "%s: landing %s", path,
	    landing ? landing : "(none)");
	ck_assert_msg(landing == NULL || strcmp(landing, res) == 0,
	    "%s: landing %s, resolved %s", path, landing, res);
	if (fd >= 0)
		close(fd);
	if (kfd >= 0)
		close(kfd);
	free(landing);
	free(res);
}

START_TEST(lookup_agrees_with_the_kernel)
{
	char *dir = ks_tmpdir(), abs[4200], *resolved = NULL;
	struct ks_lookup_base b;

	lookup_tree(dir);
	ck_assert(ks_path_resolve(dir, &resolved, NULL) == 0);
	b = (struct ks_lookup_base){ dir, resolved, open(dir, O_PATH |
	    O_DIRECTORY | O_CLOEXEC), open("/", O_PATH | O_CLOEXEC) };
	ck_assert(chdir(dir) == 0);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		agree(dir, lookups[i], NULL);
		snprintf(abs, sizeof(abs), "%s/%s", dir, lookups[i]);
		agree(dir, abs, NULL);
		agree(dir, abs, &b);
	}
	close(b.fd);
	close(b.slash);
	free(resolved);
	ks_rmtree(dir);
	free(dir);
}
END_TEST

/* Permissions are the kernel's too: as uid 65534, a directory without
 * search right stops the lookup with EACCES, and the landing is still
 * given (a denial reads as before). */
START_TEST(lookup_permission_errors_are_the_kernels)
{
	char *dir = ks_tmpdir(), path[4200];
	int status;
	pid_t pid;

	ks_putf("x\n", "%s/closed/f", dir);
	ks_putf("y\n", "%s/open/f", dir);
	ck_assert(chmod(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/closed", dir);
	ck_assert(chmod(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/open/f", dir);
	ck_assert(chmod(path, 0600) == 0);
	if ((pid = fork()) == 0) {
		if (setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(3);
		snprintf(path, sizeof(path), "%s/closed/f", dir);
		agree(dir, path, NULL);
		snprintf(path, sizeof(path), "%s/closed/../open/f", dir);
		agree(dir, path, NULL);
		snprintf(path, sizeof(path), "%s/open/f", dir);
		agree(dir, path, NULL);
		_exit(0);
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the uid 65534 child failed (status %d)", status);
	ks_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
readrace_suite(void)
{
	Suite *s = suite_create("readrace");
	TCase *tc = tcase_create("attack");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, directory_swapped_for_a_link_never_leaks);
	tcase_add_loop_test(tc, intermediate_component_swapped_never_leaks, 0,
	    3);
	tcase_add_test(tc, hard_link_to_a_denied_file_is_refused);
	tcase_add_test(tc, edit_of_a_read_denied_file_is_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("lookup");
	tcase_add_test(tc, lookup_agrees_with_the_kernel);
	tcase_add_test(tc, lookup_permission_errors_are_the_kernels);
	suite_add_tcase(s, tc);
	return s;
}
