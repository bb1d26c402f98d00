/*
 * check_traversal: a corpus of hostile paths (hostile.c), each sent as a
 * write, a read and an edit to a worker with --root and a policy. The
 * root lies in a fresh parent directory, so that anything created or
 * changed outside it shows in a snapshot of that parent; the protected
 * places inside the root (.git hooks and config, the koda db, a
 * deny_write_within_allow entry) are in the snapshot too.
 */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile.h"
#include "testlib.h"

static char *base, *root;

static struct ks_hostile *corpus;
static size_t ncorpus;

static void
setup(void)
{
	base = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", base) > 0);
	ks_hostile_tree(base, root);
}

static void
teardown(void)
{
	ks_hostile_free(corpus, ncorpus);
	corpus = NULL;
	ncorpus = 0;
	ks_rmtree(base);
	free(base);
	free(root);
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
violation(const struct ks_hostile *e, int op, const char *why, const char *got)
{
	if (violations++ < 40)
		printf("traversal: VIOLATION: %s %.200s%s: %s: %.300s\n",
		    ops[op], e->s, strlen(e->s) > 200 ? "..." : "", why, got);
	fflush(stdout);
}

/* Classifies a reply to op on entry e; anything but a clean error with
 * a known code or a correct success is a violation. */
static int
classify(const struct ks_hostile *e, int op, const char *got)
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
		    strcmp(code, "protocol") == 0 && (e->flags & KS_MAY_END) ?
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
	if (op == OP_WRITE && (e->flags & KS_MUST_DENY) && r != C_DENIED)
		violation(e, op, "want policy_denied", got);
	if (op == OP_WRITE && (e->flags & KS_MUST_WRITE) && r != C_OK)
		violation(e, op, "want success", got);
	/* The secret and the db are never read, however they are named. */
	if (op == OP_READ && r == C_OK && (strstr(e->s, "secret") != NULL ||
	    strstr(e->s, "db") != NULL))
		violation(e, op, "read a denied file", got);
	return r;
}

/* The request for op on e (write "x"; edit "x" to "y"); its length. */
static size_t
request(const struct ks_hostile *e, int op, char **req)
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

	corpus = ks_hostile_corpus(root, base, &ncorpus);
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
			    KS_MAY_END), "%s %.200s: the worker ended", ops[op],
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
