/*
 * check_path: Rust's path order and "beneath", lexical helpers, and
 * resolution and symlink chains on a real mkdtemp tree.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "path.h"
#include "testlib.h"

Suite *path_suite(void);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *a, *b;
	int sign;
} cmps[] = {
	{ "a/b", "a-c", -1 },
	{ "a-c", "a/b", 1 },
	{ "/x", "x", -1 },		/* RootDir < Normal */
	{ "a//b", "a/b", 0 },
	{ "a/./b", "a/b", 0 },
	{ "./a", "a", -1 },		/* CurDir < Normal */
	{ "../a", "./a", 1 },		/* ParentDir > CurDir */
	{ "..", "a", -1 },		/* ParentDir < Normal */
	{ "a/", "a", 0 },
	{ "/a/b/.", "/a/b", 0 },
	{ "/", "/a", -1 },
	{ "a", "a/b", -1 },
	{ "a/b/c", "a/b", 1 },
	{ "a/..", "a", 1 },
	{ "abc", "abd", -1 },
	{ "ab", "abc", -1 },
	{ "/a/\xC3\xA9", "/a/z", 1 },	/* bytewise, unsigned */
	{ "", ".", -1 },
	{ "", "", 0 },
	/* A shared prefix is skipped up to its last '/'. */
	{ "./a/x", "./a/y", -1 },
	{ "/d/s/./b", "/d/s/b", 0 },
	{ "/d/s//b", "/d/s/b", 0 },
	{ "d/..", "d/.", 1 },
	{ "d/.x", "d/./x", -1 },
	{ "/t/k/a.c", "/t/k/a", 1 },
	{ "/t/k/a/b", "/t/k/a.c", -1 },
};

START_TEST(cmp_orders_paths_as_rust_does)
{
	int c = ks_path_cmp(cmps[_i].a, cmps[_i].b);

	ck_assert_msg((c > 0) - (c < 0) == cmps[_i].sign, "'%s' vs '%s': %d",
	    cmps[_i].a, cmps[_i].b, c);
}
END_TEST

static const struct {
	const char *path, *base;
	bool yes;
} beneaths[] = {
	{ "/a/bc", "/a/b", false },
	{ "/ab", "/a", false },
	{ "/a/b/c", "/a/b", true },
	{ "/a/b", "/a/b", true },
	{ "/a/b/", "/a/b", true },
	{ "/a/b", "/a/b/", true },
	{ "/a", "/a/b", false },
	{ "/anything/at/all", "/", true },
	{ "/", "/", true },
	{ "relative", "/", false },
	{ "/a", "a", false },
	{ "/a//b/./c", "/a/b", true },
	{ "/a/b/../c", "/a/b", true },	/* lexical, as Rust */
	{ "a/b", "a", true },
};

START_TEST(beneath_compares_whole_components)
{
	ck_assert_msg(ks_path_beneath(beneaths[_i].path, beneaths[_i].base) ==
	    beneaths[_i].yes, "'%s' beneath '%s'", beneaths[_i].path,
	    beneaths[_i].base);
}
END_TEST

static const struct {
	const char *path, *seq;
	bool yes;
} comps[] = {
	{ "/home/u/.config/koda/db/x", ".config/koda/db", true },
	{ "/home/u/.config/koda/db", ".config/koda/db", true },
	{ ".config/koda/db", ".config/koda/db", true },
	{ "/var/lib/koda-db-backups", ".config/koda/db", false },
	{ "/home/u/.config/koda/agents", ".config/koda/db", false },
	{ "/home/u/.config/koda", ".config/koda/db", false },
	{ "/x/.config/.config/koda/db", ".config/koda/db", true },
	{ "/x/.config/koda/.config/koda/db/y", ".config/koda/db", true },
	{ "/x/.config//koda/./db", ".config/koda/db", true },
	{ "/x/.config/koda/dbx", ".config/koda/db", false },
	{ "/x/a.config/koda/db", ".config/koda/db", false },
	{ "/r/.git/config", ".git/config", true },
	{ "/r/.git/configx", ".git/config", false },
	{ "/r/.git/hooks/pre-commit", ".git/hooks", true },
};

START_TEST(has_components_finds_a_consecutive_run)
{
	ck_assert_msg(ks_path_has_components(comps[_i].path, comps[_i].seq) ==
	    comps[_i].yes, "'%s' has '%s'", comps[_i].path, comps[_i].seq);
}
END_TEST

static const struct {
	const char *a, *b;
	bool yes;
} equals[] = {
	{ "/a/b", "/a//b/", true },
	{ "/a/./b", "/a/b", true },
	{ "/a/b", "/a/b/c", false },
	{ "a", "/a", false },
	{ "/a/../b", "/b", false },
	{ "/", "//", true },
};

START_TEST(equal_compares_components)
{
	ck_assert_msg(ks_path_equal(equals[_i].a, equals[_i].b) ==
	    equals[_i].yes, "'%s' == '%s'", equals[_i].a, equals[_i].b);
}
END_TEST

static const struct {
	const char *path;
	bool yes;
} root_children[] = {
	{ "/usr", true }, { "/usr/", true }, { "//usr", true },
	{ "/./usr", true }, { "/", false }, { "/usr/local", false },
	{ "usr", false }, { "", false },
};

START_TEST(root_child_is_a_direct_child_of_slash)
{
	ck_assert_msg(ks_path_is_root_child(root_children[_i].path) ==
	    root_children[_i].yes, "'%s'", root_children[_i].path);
}
END_TEST

static const struct {
	const char *in, *out;
} norms[] = {
	{ "/a/b/../c", "/a/c" }, { "/a/./b//", "/a/b" }, { "/..", "/" },
	{ "/", "/" }, { "/a/b/../../..", "/" }, { "//a", "/a" },
	{ "/a/../../b", "/b" }, { "/a/b/c", "/a/b/c" },
};

START_TEST(normalize_applies_dot_and_dotdot_lexically)
{
	char *got = ks_path_normalize(norms[_i].in);

	ck_assert_str_eq(got, norms[_i].out);
	free(got);
}
END_TEST

static const struct {
	const char *dir, *name, *out;
} joins[] = {
	{ "/a", "b", "/a/b" }, { "/a/", "b", "/a/b" }, { "/a", "/b", "/b" },
	{ "", "b", "b" }, { "a", "b/c", "a/b/c" }, { "/", "x", "/x" },
	{ "/a", "../b", "/a/../b" }, { "/a", "", "/a/" },
};

START_TEST(join_is_rust_path_join)
{
	char *got = ks_path_join(joins[_i].dir, joins[_i].name);

	ck_assert_str_eq(got, joins[_i].out);
	free(got);
}
END_TEST

/* The fixture tree, its real path (no symlinks in it), and its parent. */
static char *root, *parent;

static void
link_at(const char *target, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s", path);
}

static void
tree_setup(void)
{
	char *tmp = ks_tmpdir(), name[16], next[16], abs[PATH_MAX];

	root = realpath(tmp, NULL);
	free(tmp);
	parent = strdup(root);
	*strrchr(parent, '/') = '\0';
	ks_putf("x", "%s/d/f", root);
	ks_putf("x", "%s/d/sub/g", root);
	ks_putf("x", "%s/f2", root);
	link_at("d", "ld");
	snprintf(abs, sizeof(abs), "%s/d/f", root);
	link_at(abs, "al");
	link_at("../f2", "d/up");
	link_at("d/sub", "lsub");
	link_at("loop2", "loop1");
	link_at("loop1", "loop2");
	link_at("self", "self");
	link_at("nowhere/x", "dl");
	link_at("l2", "l1");
	link_at("d/f", "l2");
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(next, sizeof(next), "c%d", i + 1);
		link_at(i == 11 ? "d/f" : next, name);
	}
}

static void
tree_teardown(void)
{
	ks_rmtree(root);
	free(root);
	free(parent);
}

/* tmpl with {R} replaced by the root and {P} by its parent. */
static char *
subst(const char *tmpl)
{
	char *out = malloc(strlen(tmpl) + 2 * PATH_MAX), *o = out;

	while (*tmpl != '\0') {
		if (strncmp(tmpl, "{R}", 3) == 0 ||
		    strncmp(tmpl, "{P}", 3) == 0) {
			o = stpcpy(o, tmpl[1] == 'R' ? root : parent);
			tmpl += 3;
		} else {
			*o++ = *tmpl++;
		}
	}
	*o = '\0';
	return out;
}

static const struct {
	const char *in, *out;
} resolves[] = {
	{ "{R}/d/f", "{R}/d/f" },			/* plain file */
	{ "{R}/./d//f", "{R}/d/f" },
	{ "{R}/d/missing/x", "{R}/d/missing/x" },	/* missing tail */
	{ "{R}/missing/../../outside/f", "{P}/outside/f" },
	{ "{R}/missing/./y/../z", "{R}/missing/z" },
	{ "{R}/ld/missing/x", "{R}/d/missing/x" },	/* via a dir link */
	{ "{R}/ld/f", "{R}/d/f" },
	{ "{R}/d/up", "{R}/f2" },			/* relative link */
	{ "{R}/al", "{R}/d/f" },			/* absolute link */
	{ "{R}/lsub/../f", "{R}/d/f" },		/* .. after a link */
	{ "{R}/dl", "{R}/nowhere/x" },		/* dangling link */
	{ "{R}/l1", "{R}/d/f" },
	{ "{R}/c0", "{R}/d/f" },			/* 12 links */
	{ "/", "/" },
	{ "/..", "/" },
};

START_TEST(resolve_lands_where_the_kernel_would)
{
	struct ks_err err;
	char *in = subst(resolves[_i].in), *want = subst(resolves[_i].out);
	char *got = NULL;

	ck_assert_msg(ks_path_resolve(in, &got, &err) == 0, "%s: %s", in,
	    err.msg);
	ck_assert_str_eq(got, want);
	free(got);
	free(in);
	free(want);
}
END_TEST

START_TEST(resolve_of_a_symlink_loop_is_eloop)
{
	static const char *const loops[] = { "{R}/loop1", "{R}/self",
	    "{R}/loop2/x" };
	struct ks_err err;
	char *in = subst(loops[_i]), *got = NULL;

	ck_assert_int_eq(ks_path_resolve(in, &got, &err), -ELOOP);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(err.code, KS_CODE_IO);
	ck_assert_str_eq(err.msg,
	    "Too many levels of symbolic links (os error 40)");
	free(in);
}
END_TEST

START_TEST(resolve_takes_a_relative_path_from_the_working_directory)
{
	struct ks_err err;
	char *got = NULL, *want = subst("{R}/d/f"), *want2 = subst("{R}/x");

	ck_assert_int_eq(chdir(root), 0);
	ck_assert_int_eq(ks_path_resolve("ld/f", &got, &err), 0);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_int_eq(ks_path_resolve("x", &got, &err), 0);
	ck_assert_str_eq(got, want2);
	free(got);
	ck_assert_int_eq(ks_path_resolve("", &got, &err), 0);
	ck_assert_str_eq(got, root);
	free(got);
	free(want);
	free(want2);
}
END_TEST

/* Expected chains: entries separated by '|'. */
static const struct {
	const char *path;
	unsigned depth;
	const char *chain;
} chains[] = {
	{ "{R}/d/f", 8, "{R}/d/f" },			/* no link */
	{ "{R}/missing", 8, "{R}/missing" },
	{ "{R}/l1", 8, "{R}/l1|{R}/l2|{R}/d/f" },
	{ "{R}/d/up", 8, "{R}/d/up|{R}/d/../f2" },	/* not normalised */
	{ "{R}/al", 8, "{R}/al|{R}/d/f" },
	{ "{R}/dl", 8, "{R}/dl|{R}/nowhere/x" },
	{ "{R}/loop1", 8, "{R}/loop1|{R}/loop2" },	/* a cycle stops */
	{ "{R}/self", 8, "{R}/self" },
	{ "{R}/l1", 1, "{R}/l1|{R}/l2" },
	{ "{R}/l1", 0, "{R}/l1" },
	{ "{R}/c0", 8, "{R}/c0|{R}/c1|{R}/c2|{R}/c3|{R}/c4|{R}/c5|{R}/c6|"
	    "{R}/c7|{R}/c8" },
	{ "{R}/c0", 40, "{R}/c0|{R}/c1|{R}/c2|{R}/c3|{R}/c4|{R}/c5|{R}/c6|"
	    "{R}/c7|{R}/c8|{R}/c9|{R}/c10|{R}/c11|{R}/d/f" },
	{ "{R}/ld/up", 8, "{R}/ld/up|{R}/ld/../f2" },
};

START_TEST(chain_lists_hops_as_parent_joined_targets)
{
	struct ks_strv sv = { 0 };
	char *path = subst(chains[_i].path), *want = subst(chains[_i].chain);
	char *tok, *save = NULL;
	size_t n = 0;

	ck_assert_int_eq(ks_path_chain(path, chains[_i].depth, &sv), 0);
	for (tok = strtok_r(want, "|", &save); tok != NULL;
	    tok = strtok_r(NULL, "|", &save), n++) {
		ck_assert_msg(n < sv.n, "chain too short: %zu", sv.n);
		ck_assert_str_eq(sv.v[n], tok);
	}
	ck_assert_uint_eq(sv.n, n);
	ks_strv_free(&sv);
	free(path);
	free(want);
}
END_TEST

START_TEST(chain_appends_to_what_out_holds)
{
	struct ks_strv sv = { 0 };
	char *l1 = subst("{R}/l1");

	ck_assert_int_eq(ks_strv_push(&sv, "first", 5), 0);
	ck_assert_int_eq(ks_path_chain(l1, 8, &sv), 0);
	ck_assert_uint_eq(sv.n, 4);
	ck_assert_str_eq(sv.v[0], "first");
	ck_assert_str_eq(sv.v[1], l1);
	ks_strv_free(&sv);
	free(l1);
}
END_TEST

Suite *
path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *lex = tcase_create("lexical"), *fs = tcase_create("tree");

	tcase_add_loop_test(lex, cmp_orders_paths_as_rust_does, 0,
	    NELEM(cmps));
	tcase_add_loop_test(lex, beneath_compares_whole_components, 0,
	    NELEM(beneaths));
	tcase_add_loop_test(lex, has_components_finds_a_consecutive_run, 0,
	    NELEM(comps));
	tcase_add_loop_test(lex, equal_compares_components, 0, NELEM(equals));
	tcase_add_loop_test(lex, root_child_is_a_direct_child_of_slash, 0,
	    NELEM(root_children));
	tcase_add_loop_test(lex, normalize_applies_dot_and_dotdot_lexically,
	    0, NELEM(norms));
	tcase_add_loop_test(lex, join_is_rust_path_join, 0, NELEM(joins));
	suite_add_tcase(s, lex);

	tcase_add_checked_fixture(fs, tree_setup, tree_teardown);
	tcase_add_loop_test(fs, resolve_lands_where_the_kernel_would, 0,
	    NELEM(resolves));
	tcase_add_loop_test(fs, resolve_of_a_symlink_loop_is_eloop, 0, 3);
	tcase_add_test(fs,
	    resolve_takes_a_relative_path_from_the_working_directory);
	tcase_add_loop_test(fs, chain_lists_hops_as_parent_joined_targets, 0,
	    NELEM(chains));
	tcase_add_test(fs, chain_appends_to_what_out_holds);
	suite_add_tcase(s, fs);
	return s;
}
