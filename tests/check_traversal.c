/*
 * check_traversal: a corpus of hostile paths, built here, each sent as a
 * write, a read and an edit to a worker with --root and a policy. The
 * root lies in a fresh parent directory, so that anything created or
 * changed outside it shows in a snapshot of that parent; the protected
 * places inside the root (.git hooks and config, the koda db, a
 * deny_write_within_allow entry) are in the snapshot too.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char *base, *root;

/* One hostile path: the body of a JSON string, escapes and raw bytes
 * included. */
struct entry {
	char *s;
	int flags;
};

enum {
	MAY_END = 1,		/* not valid JSON text: may end the worker */
	MUST_DENY = 2,		/* a write must be policy_denied */
	MUST_WRITE = 4,		/* a write must succeed (inside the root) */
};

static struct entry *corpus;
static size_t ncorpus;

static void
add(int flags, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	ck_assert(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	corpus = realloc(corpus, (ncorpus + 1) * sizeof(*corpus));
	corpus[ncorpus++] = (struct entry){ s, flags };
}

/* pre, then unit n times, then post. */
static void
add_rep(int flags, const char *pre, const char *unit, int n,
    const char *post)
{
	size_t ul = strlen(unit), o = strlen(pre);
	char *s = malloc(o + ul * (size_t)n + strlen(post) + 1);

	memcpy(s, pre, o);
	for (int i = 0; i < n; i++, o += ul)
		memcpy(s + o, unit, ul);
	strcpy(s + o, post);
	add(flags, "%s", s);
	free(s);
}

static void
link_in_root(const char *target, const char *name)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", root, name) > 0);
	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p,
	    strerror(errno));
	free(p);
}

static void
setup(void)
{
	char *t;

	base = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", base) > 0);
	ks_putf("x outside\n", "%s/outside/f.txt", base);
	ks_putf("x secret\n", "%s/secret/key", base);
	ck_assert(asprintf(&t, "%s/home", base) > 0);
	ks_mkdirs(t);
	free(t);
	ks_putf("x in\n", "%s/dir/f.txt", root);
	ks_putf("[core]\nx\n", "%s/.git/config", root);
	ks_putf("x hook\n", "%s/.git/hooks/pre-commit", root);
	ks_putf("x db\n", "%s/.config/koda/db/keys", root);
	ks_putf("x kept\n", "%s/protected/p.txt", root);
	ks_putf("x sub\n", "%s/sub/.git/hooks/h", root);
	link_in_root("loop2", "loop1");
	link_in_root("loop1", "loop2");
	link_in_root("self", "self");
	link_in_root("/", "to_root");
	link_in_root("/etc", "to_etc");
	link_in_root("..", "to_parent");
	link_in_root(base, "to_parent_abs");
	link_in_root("nowhere", "dangling");
	ck_assert(asprintf(&t, "%s/ks-escape-dangling", base) > 0);
	link_in_root(t, "dangling_out");
	free(t);
	link_in_root("../outside/missing/ks-escape", "dangling_deep");
	link_in_root("chain2", "chain1");
	link_in_root("chain3", "chain2");
	link_in_root("../outside", "chain3");
	link_in_root("/proc/self/cwd", "to_cwd");
	link_in_root("../../..", "rel_up");
	link_in_root(".git/hooks", "to_git_hooks");
	link_in_root(".git/config", "to_git_config");
	link_in_root(".config/koda/db", "to_db");
	link_in_root("protected", "to_protected");
	ck_assert(asprintf(&t, "/proc/self/root%s", base) > 0);
	link_in_root(t, "to_proc_root");
	free(t);
}

static void
teardown(void)
{
	for (size_t i = 0; i < ncorpus; i++)
		free(corpus[i].s);
	free(corpus);
	corpus = NULL;
	ncorpus = 0;
	ks_rmtree(base);
	free(base);
	free(root);
}

/* The corpus: R is the root, B its parent (the worker's cwd too). */
static void
build_corpus(void)
{
	const char *R = root, *B = base;
	char *p;

	/* `..` chains of many lengths, from the root, a directory in it,
	 * a missing directory, and relative. */
	for (int n = 1; n <= 40; n++)
		add_rep(MUST_DENY, R, "/..", n, "/ks-escape");
	for (int n = 2; n <= 21; n++) {
		ck_assert(asprintf(&p, "%s/dir", R) > 0);
		add_rep(MUST_DENY, p, "/..", n, "/ks-escape");
		free(p);
	}
	for (int n = 1; n <= 20; n++)
		add_rep(MUST_DENY, "", "../", n, "ks-escape");
	for (int n = 2; n <= 11; n++) {
		ck_assert(asprintf(&p, "%s/missing", R) > 0);
		add_rep(MUST_DENY, p, "/..", n, "/ks-escape");
		free(p);
	}
	add(MUST_DENY, "%s/missing/../../outside/ks-escape", R);
	add(MUST_DENY, "%s/missing/a/b/../../../../ks-escape", R);
	add(MUST_DENY, "%s/dir/missing/../../../ks-escape", R);
	add(MUST_WRITE, "%s/missing/../../root/m1", R);
	add(MUST_WRITE, "%s/missing/../m2", R);
	/* Doubled slashes and `/./`. */
	add(MUST_WRITE, "/%s/s1", R);
	add(MUST_WRITE, "%s//dir//s2", R);
	add(MUST_DENY, "%s///..///ks-escape", R);
	add(MUST_DENY, "%s/.//..//ks-escape", R);
	add(MUST_WRITE, "%s/./././s3", R);
	add(MUST_DENY, "%s/./../ks-escape", R);
	add(MUST_DENY, "%s/dir/./../.././ks-escape", R);
	add(0, "%s/.", R);
	add(0, "%s/./", R);
	add(0, "%s//", R);
	add(0, "%s/dir/", R);
	add(0, "%s/dir//", R);
	add(MUST_WRITE, "%s/...", R);
	add(MUST_WRITE, "%s/..../s4", R);
	add(MUST_DENY, ".//..//ks-escape");
	/* The magic links of /proc and /dev/fd. */
	add(0, "/proc/self/root%s/p1", R);
	add(MUST_DENY, "/proc/self/root%s/ks-escape", B);
	add(MUST_DENY, "/proc/self/root/etc/ks-escape");
	add(MUST_DENY, "/proc/self/root/tmp/ks-escape");
	add(MUST_DENY, "/proc/self/cwd/ks-escape");
	add(0, "/proc/self/cwd/root/p2");
	add(MUST_DENY, "/proc/self/cwd/root/../ks-escape");
	add(0, "/proc/thread-self/root%s/p3", R);
	add(0, "/proc/1/root/tmp/ks-escape");
	add(0, "/proc/self/root/proc/self/root%s/p4", R);
	add(MUST_DENY, "/proc/self/cwd/secret/key");
	for (int n = 0; n < 10; n++) {
		add(0, "/dev/fd/%d", n);
		add(0, "/dev/fd/%d/ks-escape", n);
		add(0, "/proc/self/fd/%d", n);
		add(0, "/proc/self/fd/%d/ks-escape", n);
		add(MUST_DENY, "/proc/self/fd/%d/../ks-escape", n);
	}
	add(0, "/dev/stdin");
	add(0, "/dev/stdout");
	add(0, "/dev/null");
	add(0, "/dev/zero");
	add(0, "/proc/self/mem");
	add(0, "/proc/self/environ");
	add(0, "/proc/self/exe");
	add(0, "/proc/self/cwd");
	/* Symbolic links: loops, to /, to /etc, to the parent, dangling. */
	add(0, "%s/loop1", R);
	add(0, "%s/loop1/x", R);
	add(0, "%s/self", R);
	add(0, "%s/self/x", R);
	add(MUST_DENY, "%s/to_root/tmp/ks-escape", R);
	add(MUST_DENY, "%s/to_root/etc/passwd", R);
	add(MUST_DENY, "%s/to_root/etc/ks-escape", R);
	add(MUST_DENY, "%s/to_root%s/ks-escape", R, B);
	add(0, "%s/to_root%s/l1", R, R);
	add(MUST_DENY, "%s/to_root", R);
	add(MUST_DENY, "%s/to_etc/passwd", R);
	add(MUST_DENY, "%s/to_etc/ks-escape", R);
	add(MUST_DENY, "%s/to_etc", R);
	add(MUST_DENY, "%s/to_parent/ks-escape", R);
	add(MUST_DENY, "%s/to_parent", R);
	add(0, "%s/to_parent/root/l2", R);
	add(MUST_DENY, "%s/to_parent/outside/f.txt", R);
	add(MUST_DENY, "%s/to_parent/secret/key", R);
	add(MUST_DENY, "%s/to_parent_abs/ks-escape", R);
	add(MUST_DENY, "%s/to_parent_abs/home/ks-escape", R);
	add(0, "%s/dangling", R);
	add(MUST_DENY, "%s/dangling_out", R);
	add(MUST_DENY, "%s/dangling_deep", R);
	add(MUST_DENY, "%s/chain1", R);
	add(MUST_DENY, "%s/chain1/ks-escape", R);
	add(MUST_DENY, "%s/chain1/f.txt", R);
	add(MUST_DENY, "%s/to_cwd/ks-escape", R);
	add(MUST_DENY, "%s/rel_up/tmp/ks-escape", R);
	add(MUST_DENY, "%s/to_proc_root/ks-escape", R);
	add(MUST_DENY, "%s/to_protected/p.txt", R);
	add(MUST_DENY, "%s/dir/../to_parent/../ks-escape", R);
	/* Very long paths: deep, one long name, 100 KB. */
	add_rep(0, R, "/a", 2100, "");
	add_rep(0, R, "/", 1, "");
	add_rep(0, R, "/b", 1, "");
	p = malloc(5002);
	memset(p, 'c', 5001);
	p[5001] = '\0';
	add(0, "%s/%s", R, p);
	p[300] = '\0';
	add(0, "%s/%s", R, p);
	free(p);
	add_rep(0, R, "/d", 50000, "");
	add_rep(MUST_DENY, R, "/..", 1500, "/ks-escape");
	add_rep(0, R, "/x/..", 1000, "/long1");
	add_rep(0, R, "/.", 50000, "/../ks-escape");
	add_rep(0, R, "//", 3000, "long2");
	/* NUL bytes, as JSON escapes. */
	add(0, "%s/n\\u0000x", R);
	add(0, "%s\\u0000/../ks-escape", R);
	add(0, "\\u0000");
	add(0, "%s/dir/f.txt\\u0000.png", R);
	add(0, "\\u0000%s/n2", R);
	/* Invalid UTF-8 as raw bytes, and lone surrogate escapes. */
	add(MAY_END, "%s/\xff", R);
	add(MAY_END, "%s/\xc0\xae\xc0\xae/ks-escape", R);
	add(MAY_END, "%s/\xed\xa0\x80", R);
	add(MAY_END, "%s/\xe2\x82", R);
	add(MAY_END, "\xfe\xff");
	add(MAY_END, "%s/\xf8\x88\x80\x80\x80", R);
	add(MAY_END, "%s/\\ud800", R);
	add(MAY_END, "%s/\\udfff", R);
	add(MAY_END, "\\ud800");
	add(MAY_END, "%s/\\ud800\\u002e", R);
	add(MAY_END, "%s/a\\udc00b", R);
	add(MAY_END, "%s/\\ud800\\ud800", R);
	add(MUST_WRITE, "%s/\\ud83d\\ude00", R);
	/* Escapes that spell separators and dots, and look-alikes. */
	add(MUST_DENY, "%s/\\u002e\\u002e/ks-escape", R);
	add(MUST_DENY, "%s\\/..\\/ks-escape", R);
	add(MUST_WRITE, "%s/\\u2215..\\u2215u1", R);
	add(MUST_WRITE, "%s/\\uff0e\\uff0e/u2", R);
	add(MUST_WRITE, "%s/..\\\\..\\\\u3", R);
	/* .git hooks and config, the koda db. */
	add(MUST_DENY, "%s/.git/hooks/pre-commit", R);
	add(MUST_DENY, "%s/.git/hooks/new", R);
	add(MUST_DENY, "%s/.git/hooks/../hooks/x", R);
	add(MUST_DENY, "%s/.git//hooks/x", R);
	add(MUST_DENY, "%s/.git/./hooks/x", R);
	add(MUST_DENY, "%s/.git/hooks/./x", R);
	add(MUST_DENY, "%s/.git/config", R);
	add(MUST_DENY, "%s/.git/./config", R);
	add(MUST_DENY, "%s/dir/../.git/config", R);
	add(MUST_DENY, "%s/missing/../.git/hooks/x", R);
	add(MUST_DENY, "%s/to_git_hooks/x", R);
	add(MUST_DENY, "%s/to_git_config", R);
	add(MUST_DENY, "%s/sub/.git/hooks/h", R);
	add(MUST_DENY, "%s/sub/.git/hooks/x", R);
	add(MUST_DENY, "%s/.git/hooks", R);
	add(MUST_DENY, "%s/.config/koda/db", R);
	add(MUST_DENY, "%s/.config/koda/db/keys", R);
	add(MUST_DENY, "%s/.config/koda/db/new", R);
	add(MUST_DENY, "%s/a/.config/koda/db/x", R);
	add(MUST_DENY, "%s/.config/koda/./db/x", R);
	add(MUST_DENY, "%s/.config//koda/db/x", R);
	add(MUST_DENY, "%s/.config/koda/db/../db/x", R);
	add(MUST_DENY, "%s/to_db/x", R);
	add(MUST_DENY, "%s/home/.config/koda/db/x", B);
	add(MUST_DENY, "/.config/koda/db");
	/* Critical, relative and plainly outside. */
	static const char *const plain[] = { "", ".", "..", "/", "/*", "*",
	    "~", "~/ks-escape", "ks-escape", "dir/f.txt", "./ks-escape",
	    "/ks-escape", "/tmp", "/etc", "/etc/passwd", "/etc/ks-escape",
	    "/tmp/ks-escape", "/root", "/proc", "/sys/kernel/ks-escape",
	    "/dev/ks-escape", "outside/ks-escape" };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		add(MUST_DENY, "%s", plain[i]);
	add(MUST_WRITE, "root/rel1");	/* relative: the cwd is B */
	add(MUST_DENY, "%s/*", R);
	add(MUST_DENY, "%s", B);
	add(MUST_DENY, "%s/ks-escape", B);
	add(MUST_DENY, "%s/outside/f.txt", B);
	add(MUST_DENY, "%s/secret/key", B);
	add(MUST_DENY, "%s/../secret/key", R);
	add(MUST_DENY, "%s/home/ks-escape", B);
	add(MUST_DENY, "%s/protected/p.txt", R);
	add(MUST_DENY, "%s/protected/../protected/new", R);
	add(MUST_DENY, "%s/dir/../protected/x", R);
	add(MUST_DENY, "%s/missing/../protected/y", R);
}

/* The snapshot: one line per watched entry, sorted. */
static char **snap;
static size_t nsnap;

/* Outside the root, or one of the protected places inside it. */
static bool
watched(const char *path)
{
	size_t rl = strlen(root);

	if (strncmp(path, root, rl) != 0 || (path[rl] != '/' &&
	    path[rl] != '\0'))
		return true;
	return strstr(path + rl, "/.git/hooks") != NULL ||
	    strstr(path + rl, "/.git/config") != NULL ||
	    strstr(path + rl, "/.config/koda") != NULL ||
	    strncmp(path + rl, "/protected", 10) == 0 ||
	    strncmp(path + rl, "/missing", 8) == 0;
}

static int
snap_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	char extra[4200] = "";
	uint64_t h = 1469598103934665603u;
	char *data, *line;
	size_t len;
	ssize_t n;

	(void)flag;
	(void)f;
	if (!watched(path))
		return 0;
	if (S_ISREG(st->st_mode) && (data = ks_slurp(path, &len)) != NULL) {
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)data[i]) * 1099511628211u;
		snprintf(extra, sizeof(extra), "%016llx",
		    (unsigned long long)h);
		free(data);
	} else if (S_ISLNK(st->st_mode) && (n = readlink(path, extra,
	    sizeof(extra) - 1)) >= 0) {
		extra[n] = '\0';
	}
	ck_assert(asprintf(&line, "%s mode %o size %lld mtime %lld.%09ld %s",
	    path, st->st_mode, (long long)st->st_size,
	    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, extra) > 0);
	snap = realloc(snap, (nsnap + 1) * sizeof(*snap));
	snap[nsnap++] = line;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshot of base as one string; caller frees. */
static char *
snapshot(void)
{
	size_t n = 0;
	char *s;

	ck_assert(nftw(base, snap_one, 32, FTW_PHYS) == 0);
	qsort(snap, nsnap, sizeof(*snap), cmp_str);
	for (size_t i = 0; i < nsnap; i++)
		n += strlen(snap[i]) + 1;
	s = calloc(1, n + 1);
	for (size_t i = 0; i < nsnap; i++) {
		strcat(s, snap[i]);
		strcat(s, "\n");
		free(snap[i]);
	}
	free(snap);
	snap = NULL;
	nsnap = 0;
	return s;
}

/* Places outside base that a write could reach. */
static const char *const far[] = { "/ks-escape", "/tmp/ks-escape",
    "/etc/ks-escape", "/dev/ks-escape", "/sys/kernel/ks-escape" };

/* Marks this process's descriptors above stderr close-on-exec (the
 * test runner's own among them), so that the worker's /dev/fd holds
 * only its own and the counts are the same on every run. */
static void
no_inherited_fds(void)
{
	int fl;

	for (int fd = 3; fd < 1024; fd++)
		if ((fl = fcntl(fd, F_GETFD)) >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void
spawn(struct ks_proc *p)
{
	const char *argv[] = { "--root", root, NULL };
	char *env[3];

	ck_assert(asprintf(&env[0], "KODA_FS_WORKER_POLICY={\"fs\":"
	    "{\"deny_read\":[\"%s/secret\"],\"deny_write_within_allow\":"
	    "[\"%s/protected\"]}}", base, root) > 0);
	ck_assert(asprintf(&env[1], "HOME=%s/home", base) > 0);
	env[2] = NULL;
	ks_spawn(p, argv, (const char *const *)env, false);
	free(env[0]);
	free(env[1]);
}

enum { OP_WRITE, OP_READ, OP_EDIT };
enum { C_OK, C_DENIED, C_IO, C_PROTOCOL };
static const char *const ops[] = { "write", "read", "edit" };

/* Replies that break the rules, printed as they come. */
static int violations;

static void
violation(const struct entry *e, int op, const char *why, const char *got)
{
	if (violations++ < 40)
		printf("traversal: VIOLATION: %s %.200s%s: %s: %.300s\n",
		    ops[op], e->s, strlen(e->s) > 200 ? "..." : "", why, got);
	fflush(stdout);
}

/* Classifies a reply to op on entry e; anything but a clean error with
 * a known code or a correct success is a violation. */
static int
classify(const struct entry *e, int op, const char *got)
{
	json_t *o = json_loads(got, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	    NULL), *c, *v;
	const char *kind = NULL, *code = NULL;
	size_t i;
	int r = -1;

	if (json_is_object(o)) {
		kind = json_string_value(json_object_get(o, "kind"));
		code = json_string_value(json_object_get(o, "code"));
	}
	if (kind != NULL && strcmp(kind, "error") == 0 && code != NULL &&
	    json_is_string(json_object_get(o, "message"))) {
		r = strcmp(code, "policy_denied") == 0 ? C_DENIED :
		    strcmp(code, "io") == 0 ? C_IO :
		    strcmp(code, "protocol") == 0 && (e->flags & MAY_END) ?
		    C_PROTOCOL : -1;
	} else if (op == OP_WRITE) {
		r = strcmp(got, "{\"kind\":\"write\",\"bytes_written\":1}") ==
		    0 ? C_OK : -1;
	} else if (op == OP_EDIT) {
		r = strcmp(got, "{\"kind\":\"edit\",\"replacements\":1}") == 0 ?
		    C_OK : -1;
	} else if (kind != NULL && strcmp(kind, "read") == 0 &&
	    json_is_array(c = json_object_get(o, "content"))) {
		r = C_OK;
		json_array_foreach(c, i, v)
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 255)
				r = -1;
	}
	json_decref(o);
	if (r < 0) {
		violation(e, op, "not a clean reply", got);
		return C_IO;	/* counted somewhere; the run goes on */
	}
	if (op == OP_WRITE && (e->flags & MUST_DENY) && r != C_DENIED)
		violation(e, op, "want policy_denied", got);
	if (op == OP_WRITE && (e->flags & MUST_WRITE) && r != C_OK)
		violation(e, op, "want success", got);
	/* The secret and the db are never read, however they are named. */
	if (op == OP_READ && r == C_OK && (strstr(e->s, "secret") != NULL ||
	    strstr(e->s, "db") != NULL))
		violation(e, op, "read a denied file", got);
	return r;
}

/* The request for op on e (write "x"; edit "x" to "y"); its length. */
static size_t
request(const struct entry *e, int op, char **req)
{
	int n = op == OP_WRITE ? asprintf(req, "{\"kind\":\"write\",\"path\":"
	    "\"%s\",\"content\":[120]}", e->s) : op == OP_READ ?
	    asprintf(req, "{\"kind\":\"read\",\"path\":\"%s\"}", e->s) :
	    asprintf(req, "{\"kind\":\"edit\",\"path\":\"%s\",\"old_string\":"
	    "\"x\",\"new_string\":\"y\"}", e->s);

	ck_assert(n > 0);
	return (size_t)n;
}

START_TEST(hostile_paths_never_escape_the_root)
{
	int counts[3][4] = { { 0 } }, restarts = 0, st;
	char *before, *after, *req, *got;
	struct ks_proc p;
	size_t len;

	build_corpus();
	ck_assert_int_ge(ncorpus, 200);
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
		ck_assert_msg(access(far[i], F_OK) != 0, "%s exists already",
		    far[i]);
	/* The worker's working directory is the root's parent: relative
	 * paths and /proc/self/cwd land where the snapshot looks. */
	ck_assert(chdir(base) == 0);
	no_inherited_fds();
	before = snapshot();
	spawn(&p);
	for (size_t i = 0; i < ncorpus; i++) {
		for (int op = OP_WRITE; op <= OP_EDIT; op++) {
			len = request(&corpus[i], op, &req);
			ks_send(&p, req, len);
			got = ks_recv(&p, NULL);
			free(req);
			ck_assert_msg(got != NULL || (corpus[i].flags &
			    MAY_END), "%s %.200s: the worker ended", ops[op],
			    corpus[i].s);
			int r = got != NULL ? classify(&corpus[i], op, got) :
			    C_PROTOCOL;

			counts[op][r]++;
			free(got);
			if (r != C_PROTOCOL)
				continue;
			/* A protocol error ends the worker: status 1, then a
			 * fresh one for the next request. */
			ck_assert(ks_recv(&p, NULL) == NULL);
			st = ks_finish(&p);
			ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
			    "%.200s: status %d", corpus[i].s, st);
			free(p.errtext);
			spawn(&p);
			restarts++;
		}
	}
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	after = snapshot();
	ck_assert_msg(violations == 0, "%d replies broke the rules (printed "
	    "above)", violations);
	ck_assert_msg(strcmp(before, after) == 0, "outside the root, before:\n"
	    "%s\nafter:\n%s", before, after);
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
		ck_assert_msg(access(far[i], F_OK) != 0, "%s was created",
		    far[i]);
	printf("traversal: %zu hostile paths, each written, read and edited "
	    "(%d worker restarts after protocol errors)\n", ncorpus, restarts);
	for (int op = OP_WRITE; op <= OP_EDIT; op++)
		printf("traversal: %-5s %3d allowed, %3d denied, %3d io, "
		    "%2d protocol\n", ops[op], counts[op][C_OK],
		    counts[op][C_DENIED], counts[op][C_IO],
		    counts[op][C_PROTOCOL]);
	free(before);
	free(after);
}
END_TEST

Suite *
traversal_suite(void)
{
	Suite *s = suite_create("traversal");
	TCase *tc = tcase_create("corpus");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hostile_paths_never_escape_the_root);
	suite_add_tcase(s, tc);
	return s;
}
