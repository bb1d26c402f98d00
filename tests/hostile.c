/*
 * hostile: the corpus of hostile paths that check_traversal sends to a
 * worker, and the tree they are aimed at: files outside the root, the
 * protected places inside it, and links out of it, in loops, to / and
 * /etc, to the parent and through /proc.
 */
#include "hostile.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

/* The corpus being built (ks_hostile_corpus hands it over). */
static struct ks_hostile *corpus;
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
	corpus[ncorpus++] = (struct ks_hostile){ s, flags };
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
link_in_root(const char *root, const char *target, const char *name)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", root, name) > 0);
	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p,
	    strerror(errno));
	free(p);
}

void
ks_hostile_tree(const char *base, const char *root)
{
	char *t;

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
	link_in_root(root, "loop2", "loop1");
	link_in_root(root, "loop1", "loop2");
	link_in_root(root, "self", "self");
	link_in_root(root, "/", "to_root");
	link_in_root(root, "/etc", "to_etc");
	link_in_root(root, "..", "to_parent");
	link_in_root(root, base, "to_parent_abs");
	link_in_root(root, "nowhere", "dangling");
	ck_assert(asprintf(&t, "%s/ks-escape-dangling", base) > 0);
	link_in_root(root, t, "dangling_out");
	free(t);
	link_in_root(root, "../outside/missing/ks-escape", "dangling_deep");
	link_in_root(root, "chain2", "chain1");
	link_in_root(root, "chain3", "chain2");
	link_in_root(root, "../outside", "chain3");
	link_in_root(root, "/proc/self/cwd", "to_cwd");
	link_in_root(root, "../../..", "rel_up");
	link_in_root(root, ".git/hooks", "to_git_hooks");
	link_in_root(root, ".git/config", "to_git_config");
	link_in_root(root, ".config/koda/db", "to_db");
	link_in_root(root, "protected", "to_protected");
	ck_assert(asprintf(&t, "/proc/self/root%s", base) > 0);
	link_in_root(root, t, "to_proc_root");
	free(t);
}

/* The corpus: R is the root, B its parent (the worker's cwd too). */
static void
build(const char *R, const char *B)
{
	char *p;

	/* `..` chains of many lengths, from the root, a directory in it,
	 * a missing directory, and relative. */
	for (int n = 1; n <= 40; n++)
		add_rep(KS_MUST_DENY, R, "/..", n, "/ks-escape");
	for (int n = 2; n <= 21; n++) {
		ck_assert(asprintf(&p, "%s/dir", R) > 0);
		add_rep(KS_MUST_DENY, p, "/..", n, "/ks-escape");
		free(p);
	}
	for (int n = 1; n <= 20; n++)
		add_rep(KS_MUST_DENY, "", "../", n, "ks-escape");
	for (int n = 2; n <= 11; n++) {
		ck_assert(asprintf(&p, "%s/missing", R) > 0);
		add_rep(KS_MUST_DENY, p, "/..", n, "/ks-escape");
		free(p);
	}
	add(KS_MUST_DENY, "%s/missing/../../outside/ks-escape", R);
	add(KS_MUST_DENY, "%s/missing/a/b/../../../../ks-escape", R);
	add(KS_MUST_DENY, "%s/dir/missing/../../../ks-escape", R);
	add(KS_MUST_WRITE, "%s/missing/../../root/m1", R);
	add(KS_MUST_WRITE, "%s/missing/../m2", R);
	/* Doubled slashes and `/./`. */
	add(KS_MUST_WRITE, "/%s/s1", R);
	add(KS_MUST_WRITE, "%s//dir//s2", R);
	add(KS_MUST_DENY, "%s///..///ks-escape", R);
	add(KS_MUST_DENY, "%s/.//..//ks-escape", R);
	add(KS_MUST_WRITE, "%s/./././s3", R);
	add(KS_MUST_DENY, "%s/./../ks-escape", R);
	add(KS_MUST_DENY, "%s/dir/./../.././ks-escape", R);
	add(0, "%s/.", R);
	add(0, "%s/./", R);
	add(0, "%s//", R);
	add(0, "%s/dir/", R);
	add(0, "%s/dir//", R);
	add(KS_MUST_WRITE, "%s/...", R);
	add(KS_MUST_WRITE, "%s/..../s4", R);
	add(KS_MUST_DENY, ".//..//ks-escape");
	/* The magic links of /proc and /dev/fd. */
	add(0, "/proc/self/root%s/p1", R);
	add(KS_MUST_DENY, "/proc/self/root%s/ks-escape", B);
	add(KS_MUST_DENY, "/proc/self/root/etc/ks-escape");
	add(KS_MUST_DENY, "/proc/self/root/tmp/ks-escape");
	add(KS_MUST_DENY, "/proc/self/cwd/ks-escape");
	add(0, "/proc/self/cwd/root/p2");
	add(KS_MUST_DENY, "/proc/self/cwd/root/../ks-escape");
	add(0, "/proc/thread-self/root%s/p3", R);
	add(0, "/proc/1/root/tmp/ks-escape");
	add(0, "/proc/self/root/proc/self/root%s/p4", R);
	add(KS_MUST_DENY, "/proc/self/cwd/secret/key");
	for (int n = 0; n < 10; n++) {
		add(0, "/dev/fd/%d", n);
		add(0, "/dev/fd/%d/ks-escape", n);
		add(0, "/proc/self/fd/%d", n);
		add(0, "/proc/self/fd/%d/ks-escape", n);
		add(KS_MUST_DENY, "/proc/self/fd/%d/../ks-escape", n);
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
	add(KS_MUST_DENY, "%s/to_root/tmp/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_root/etc/passwd", R);
	add(KS_MUST_DENY, "%s/to_root/etc/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_root%s/ks-escape", R, B);
	add(0, "%s/to_root%s/l1", R, R);
	add(KS_MUST_DENY, "%s/to_root", R);
	add(KS_MUST_DENY, "%s/to_etc/passwd", R);
	add(KS_MUST_DENY, "%s/to_etc/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_etc", R);
	add(KS_MUST_DENY, "%s/to_parent/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_parent", R);
	add(0, "%s/to_parent/root/l2", R);
	add(KS_MUST_DENY, "%s/to_parent/outside/f.txt", R);
	add(KS_MUST_DENY, "%s/to_parent/secret/key", R);
	add(KS_MUST_DENY, "%s/to_parent_abs/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_parent_abs/home/ks-escape", R);
	add(0, "%s/dangling", R);
	add(KS_MUST_DENY, "%s/dangling_out", R);
	add(KS_MUST_DENY, "%s/dangling_deep", R);
	add(KS_MUST_DENY, "%s/chain1", R);
	add(KS_MUST_DENY, "%s/chain1/ks-escape", R);
	add(KS_MUST_DENY, "%s/chain1/f.txt", R);
	add(KS_MUST_DENY, "%s/to_cwd/ks-escape", R);
	add(KS_MUST_DENY, "%s/rel_up/tmp/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_proc_root/ks-escape", R);
	add(KS_MUST_DENY, "%s/to_protected/p.txt", R);
	add(KS_MUST_DENY, "%s/dir/../to_parent/../ks-escape", R);
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
	add_rep(KS_MUST_DENY, R, "/..", 1500, "/ks-escape");
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
	add(KS_MAY_END, "%s/\xff", R);
	add(KS_MAY_END, "%s/\xc0\xae\xc0\xae/ks-escape", R);
	add(KS_MAY_END, "%s/\xed\xa0\x80", R);
	add(KS_MAY_END, "%s/\xe2\x82", R);
	add(KS_MAY_END, "\xfe\xff");
	add(KS_MAY_END, "%s/\xf8\x88\x80\x80\x80", R);
	add(KS_MAY_END, "%s/\\ud800", R);
	add(KS_MAY_END, "%s/\\udfff", R);
	add(KS_MAY_END, "\\ud800");
	add(KS_MAY_END, "%s/\\ud800\\u002e", R);
	add(KS_MAY_END, "%s/a\\udc00b", R);
	add(KS_MAY_END, "%s/\\ud800\\ud800", R);
	add(KS_MUST_WRITE, "%s/\\ud83d\\ude00", R);
	/* Escapes that spell separators and dots, and look-alikes. */
	add(KS_MUST_DENY, "%s/\\u002e\\u002e/ks-escape", R);
	add(KS_MUST_DENY, "%s\\/..\\/ks-escape", R);
	add(KS_MUST_WRITE, "%s/\\u2215..\\u2215u1", R);
	add(KS_MUST_WRITE, "%s/\\uff0e\\uff0e/u2", R);
	add(KS_MUST_WRITE, "%s/..\\\\..\\\\u3", R);
	/* .git hooks and config, the koda db. */
	add(KS_MUST_DENY, "%s/.git/hooks/pre-commit", R);
	add(KS_MUST_DENY, "%s/.git/hooks/new", R);
	add(KS_MUST_DENY, "%s/.git/hooks/../hooks/x", R);
	add(KS_MUST_DENY, "%s/.git//hooks/x", R);
	add(KS_MUST_DENY, "%s/.git/./hooks/x", R);
	add(KS_MUST_DENY, "%s/.git/hooks/./x", R);
	add(KS_MUST_DENY, "%s/.git/config", R);
	add(KS_MUST_DENY, "%s/.git/./config", R);
	add(KS_MUST_DENY, "%s/dir/../.git/config", R);
	add(KS_MUST_DENY, "%s/missing/../.git/hooks/x", R);
	add(KS_MUST_DENY, "%s/to_git_hooks/x", R);
	add(KS_MUST_DENY, "%s/to_git_config", R);
	add(KS_MUST_DENY, "%s/sub/.git/hooks/h", R);
	add(KS_MUST_DENY, "%s/sub/.git/hooks/x", R);
	add(KS_MUST_DENY, "%s/.git/hooks", R);
	add(KS_MUST_DENY, "%s/.config/koda/db", R);
	add(KS_MUST_DENY, "%s/.config/koda/db/keys", R);
	add(KS_MUST_DENY, "%s/.config/koda/db/new", R);
	add(KS_MUST_DENY, "%s/a/.config/koda/db/x", R);
	add(KS_MUST_DENY, "%s/.config/koda/./db/x", R);
	add(KS_MUST_DENY, "%s/.config//koda/db/x", R);
	add(KS_MUST_DENY, "%s/.config/koda/db/../db/x", R);
	add(KS_MUST_DENY, "%s/to_db/x", R);
	add(KS_MUST_DENY, "%s/home/.config/koda/db/x", B);
	add(KS_MUST_DENY, "/.config/koda/db");
	/* Critical, relative and plainly outside. */
	static const char *const plain[] = { "", ".", "..", "/", "/*", "*",
	    "~", "~/ks-escape", "ks-escape", "dir/f.txt", "./ks-escape",
	    "/ks-escape", "/tmp", "/etc", "/etc/passwd", "/etc/ks-escape",
	    "/tmp/ks-escape", "/root", "/proc", "/sys/kernel/ks-escape",
	    "/dev/ks-escape", "outside/ks-escape" };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		add(KS_MUST_DENY, "%s", plain[i]);
	add(KS_MUST_WRITE, "root/rel1");	/* relative: the cwd is B */
	add(KS_MUST_DENY, "%s/*", R);
	add(KS_MUST_DENY, "%s", B);
	add(KS_MUST_DENY, "%s/ks-escape", B);
	add(KS_MUST_DENY, "%s/outside/f.txt", B);
	add(KS_MUST_DENY, "%s/secret/key", B);
	add(KS_MUST_DENY, "%s/../secret/key", R);
	add(KS_MUST_DENY, "%s/home/ks-escape", B);
	add(KS_MUST_DENY, "%s/protected/p.txt", R);
	add(KS_MUST_DENY, "%s/protected/../protected/new", R);
	add(KS_MUST_DENY, "%s/dir/../protected/x", R);
	add(KS_MUST_DENY, "%s/missing/../protected/y", R);
}

struct ks_hostile *
ks_hostile_corpus(const char *root, const char *base, size_t *n)
{
	struct ks_hostile *c;

	build(root, base);
	c = corpus;
	*n = ncorpus;
	corpus = NULL;
	ncorpus = 0;
	return c;
}

void
ks_hostile_free(struct ks_hostile *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].s);
	free(c);
}
