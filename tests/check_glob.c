/*
 * check_glob: patterns and expansion against answers recorded from the
 * Rust glob crate 0.3.0 (the reference's), quirks included; the bounds
 * the crate lacks (symlink loops, the read filter) against our own rules.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "glob.h"
#include "path.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *tree;

/* The tree every expansion case runs in; "@" stands for it below. */
static void
tree_setup(void)
{
	static const char *const files[] = {
		"a.c", "b.c", ".hidden", "src/main.c", "src/util.h",
		"src/.cache/tmp.c", "deep/er/est/f", "x[1]", "o/p/q", "o/p-r",
		"bad\xff",
	};

	tree = ks_tmpdir();
	for (size_t i = 0; i < NELEM(files); i++)
		ks_putf("", "%s/%s", tree, files[i]);
	ck_assert(chdir(tree) == 0);
	ck_assert(mkdir("emptydir", 0755) == 0);
	ck_assert(symlink("src", "ln_dir") == 0);
	ck_assert(symlink("a.c", "ln_file") == 0);
	ck_assert(symlink("nowhere", "dangling") == 0);
}

static void
tree_teardown(void)
{
	ks_rmtree(tree);
	free(tree);
	tree = NULL;
}

/* s with every '@' replaced by the tree's path (caller frees). */
static char *
subst(const char *s)
{
	size_t n = strlen(s) + 1, tl = strlen(tree);
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '@' ? tl : 0;
	ck_assert((o = out = malloc(n)) != NULL);
	for (; *s != '\0'; s++) {
		if (*s == '@') {
			memcpy(o, tree, tl);
			o += tl;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Expands and returns the paths one a line (caller frees); NULL and
 * err filled on an error. */
static char *
expand(const char *root, const char *pattern,
    const struct ks_path_filter *filter, struct ks_err *err)
{
	struct ks_strv sv = { 0 };
	char *r = subst(root), *out = NULL;
	size_t len = 1, at = 0;

	if (ks_glob_expand(pattern, r, filter, &sv, err) == 0) {
		for (size_t i = 0; i < sv.n; i++)
			len += strlen(sv.v[i]) + 1;
		ck_assert((out = calloc(1, len)) != NULL);
		for (size_t i = 0; i < sv.n; i++)
			at += (size_t)sprintf(out + at, "%s%s", i ? "\n" : "",
			    sv.v[i]);
	}
	ks_strv_free(&sv);
	free(r);
	return out;
}

static const struct {
	const char *pat, *text;
	bool match;
} match_cases[] = {
	{ "c?t", "cat", true },
	{ "k[!e]tteh", "kitteh", true },
	{ "d*g", "doog", true },
	{ "*", "a/b", true },		/* default options: '/' is no wall */
	{ "?", "/", true },
	{ "[]]", "]", true },
	{ "[!]]", "a", true },
	{ "[!]]", "]", false },
	{ "[a-]", "-", true },
	{ "[--0]", "/", true },
	{ "[]-a]", "^", true },
	{ "a/**/b", "a/b", true },
	{ "a/**/b", "a/x/y/b", true },
	{ "a/**/b", "a/xb", false },
	{ "**/*.c", "x.c", true },
	{ "**/*.c", "d/x.c", true },
	{ "**", "anything/at/all", true },
	{ "[é]", "é", true },
	{ "?", "é", true },		/* characters, not bytes */
	{ "??", "é", false },
	{ "[a-c]", "B", false },
	{ "*.c", ".c", true },
	{ "[z-a]", "m", false },
	{ "[!a-c]x", "dx", true },
	{ "a*b*c", "aXbYbZc", true },
	{ "*a", "bbbb", false },
	{ "", "", true },
	{ "", "a", false },
	{ "a", "A", false },
	{ "[[]", "[", true },
	{ "[?]", "?", true },
	{ "[*]x", "*x", true },
	{ "*[!.]", "a.", false },
	{ "[.]*", ".h", true },
	{ ".*", ".", true },
	{ "**/**/x", "x", true },
	{ "a[]b]c", "a]c", true },
	{ "[ab-]", "-", true },
	{ "*/x", "y/x", true },
	{ "[!/]", "/", false },
	{ "*", "\xff", false },		/* not UTF-8: never a match */
};

START_TEST(pattern_matches_as_the_crate)
{
	struct ks_glob_pat *p = NULL;
	struct ks_err err = { 0 };

	ck_assert_int_eq(ks_glob_compile(match_cases[_i].pat, &p, &err), 0);
	ck_assert_msg(ks_glob_match(p, match_cases[_i].text) ==
	    match_cases[_i].match, "%s ~ %s", match_cases[_i].pat,
	    match_cases[_i].text);
	ks_glob_free(p);
}
END_TEST

#define RECURSIVE "recursive wildcards must form a single path component"
#define WILDCARDS "wildcards are either regular `*` or recursive `**`"
#define RANGE "invalid range pattern"
#define NEAR "Pattern syntax error near position "

static const struct {
	const char *pat, *msg;
} bad_cases[] = {
	{ "a**", NEAR "0: " RECURSIVE },
	{ "**a", NEAR "2: " RECURSIVE },
	{ "***", NEAR "2: " WILDCARDS },
	{ "[", NEAR "0: " RANGE },
	{ "[!]", NEAR "0: " RANGE },
	{ "[]", NEAR "0: " RANGE },
	{ "a/[b", NEAR "2: " RANGE },
	{ "é[", NEAR "1: " RANGE },	/* positions count characters */
	{ "x/**/y**", NEAR "5: " RECURSIVE },
	{ "[!", NEAR "0: " RANGE },
	{ "a[b-", NEAR "1: " RANGE },
	{ "**/****", NEAR "5: " WILDCARDS },
};

START_TEST(bad_pattern_gets_the_crate_message)
{
	struct ks_glob_pat *p = NULL;
	struct ks_err err = { 0 };

	ck_assert_int_eq(ks_glob_compile(bad_cases[_i].pat, &p, &err),
	    -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, bad_cases[_i].msg);
}
END_TEST

/* Run with the tree as working directory; want: paths one a line. */
static const struct {
	const char *root, *pat, *want, *err;
} expand_cases[] = {
	{ "@", "*", "@/.hidden\n@/a.c\n@/b.c\n@/dangling\n@/deep\n"
	    "@/emptydir\n@/ln_dir\n@/ln_file\n@/o\n@/src\n@/x[1]", NULL },
	{ "@/", "*.c", "@/a.c\n@/b.c", NULL },
	{ "@", "**", "@/deep\n@/deep/er\n@/deep/er/est\n@/emptydir\n"
	    "@/ln_dir\n@/ln_dir/.cache\n@/o\n@/o/p\n@/src\n@/src/.cache",
	    NULL },
	{ "@", "**/", "@/deep\n@/deep/er\n@/deep/er/est\n@/emptydir\n"
	    "@/ln_dir\n@/ln_dir/.cache\n@/o\n@/o/p\n@/src\n@/src/.cache",
	    NULL },
	{ "@", "**/*.c", "@/a.c\n@/b.c\n@/ln_dir/.cache/tmp.c\n"
	    "@/ln_dir/main.c\n@/src/.cache/tmp.c\n@/src/main.c", NULL },
	{ "@", "src/*", "@/src/.cache\n@/src/main.c\n@/src/util.h", NULL },
	{ "@", "*/", "@/deep\n@/emptydir\n@/ln_dir\n@/o\n@/src", NULL },
	{ "@", "ln_dir/*", "@/ln_dir/.cache\n@/ln_dir/main.c\n"
	    "@/ln_dir/util.h", NULL },
	{ "@", "[!a-m]*", "@/.hidden\n@/o\n@/src\n@/x[1]", NULL },
	{ "@", ".*", "@/.\n@/..\n@/.hidden", NULL },
	{ "@", "src//main.c", "@/src/main.c", NULL },
	{ "@", "src/./*.h", "@/src/./util.h", NULL },
	{ "@", "x[[]1]", "@/x[1]", NULL },
	{ "@", "x[1]", "", NULL },
	{ "@", "dangling", "", NULL },	/* literal: must exist */
	{ "@", "ln_file", "@/ln_file", NULL },
	{ "@", "d*", "@/dangling\n@/deep", NULL },	/* listed: kept */
	{ "@", "o/**/*", "@/o/p\n@/o/p/q\n@/o/p-r", NULL },
	{ "@", "deep/**/*/**/f", "@/deep/er/est/f\n@/deep/er/est/f", NULL },
	{ "@", "deep/**/est/", "@/deep/er/est", NULL },
	{ "@", "deep/**", "@/deep/er\n@/deep/er/est", NULL },
	{ "@", "**/f", "@/deep/er/est/f", NULL },
	{ "@", "src/.*/*.c", "@/src/../a.c\n@/src/../b.c\n"
	    "@/src/.cache/tmp.c\n@/src/./main.c", NULL },
	{ "@", "*/..", "@/deep/..\n@/emptydir/..\n@/ln_dir/..\n@/o/..\n"
	    "@/src/..", NULL },
	{ "@", "src/.*", "@/src/.\n@/src/..\n@/src/.cache", NULL },
	{ "", "src/*.c", "src/main.c", NULL },
	{ ".", "*.c", "a.c\nb.c", NULL },
	{ ".", "src/*", "src/.cache\nsrc/main.c\nsrc/util.h", NULL },
	{ "", "", "", NULL },
	{ "@", "", "@", NULL },
	{ "@/src/..", "*.c", "@/src/../a.c\n@/src/../b.c", NULL },
	{ "@", "/nonexistent/*", "", NULL },
	{ "@", "src/main.c/", "", NULL },
	{ "@", "emptydir/", "@/emptydir", NULL },
	{ "@", "emptydir/**", "", NULL },
	{ "@", "?.c", "@/a.c\n@/b.c", NULL },
	{ "@", "[ab].c", "@/a.c\n@/b.c", NULL },
	{ "@", "src/[a-m]*.?", "@/src/main.c", NULL },
	{ "@", "**/.cache", "@/ln_dir/.cache\n@/src/.cache", NULL },
	{ "@", "/x/a**", NULL, NEAR "3: " RECURSIVE },
	{ "@", "/x/**b", NULL, NEAR "5: " RECURSIVE },
	{ "@", "/t/[/]", NULL, NEAR "0: " RANGE },	/* per component */
	{ "@", "/***", NULL, NEAR "3: " WILDCARDS },
	{ "@", "/[!]", NULL, NEAR "1: " RANGE },
};

START_TEST(expansion_matches_the_crate)
{
	struct ks_err err = { 0 };
	char *got, *want;

	got = expand(expand_cases[_i].root, expand_cases[_i].pat, NULL, &err);
	if (expand_cases[_i].want == NULL) {
		ck_assert_ptr_null(got);
		ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
		ck_assert_str_eq(err.msg, expand_cases[_i].err);
		return;
	}
	want = subst(expand_cases[_i].want);
	ck_assert_msg(got != NULL, "%s: %s", expand_cases[_i].pat, err.msg);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

START_TEST(error_position_counts_the_root)
{
	struct ks_err err = { 0 };
	char want[256];

	ck_assert_ptr_null(expand("@", "a**", NULL, &err));
	snprintf(want, sizeof(want), NEAR "%zu: " RECURSIVE, strlen(tree) + 1);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(results_are_appended_sorted_as_rust_paths)
{
	struct ks_strv sv = { 0 };
	struct ks_err err = { 0 };

	ck_assert_int_eq(ks_strv_push(&sv, "zzz", 3), 0);
	ck_assert_int_eq(ks_glob_expand("o/**/*", ".", NULL, &sv, &err), 0);
	ck_assert_uint_eq(sv.n, 4);
	ck_assert_str_eq(sv.v[0], "zzz");	/* what was there stays */
	ck_assert_str_eq(sv.v[1], "o/p");
	ck_assert_str_eq(sv.v[2], "o/p/q");	/* "o/p/q" < "o/p-r" */
	ck_assert_str_eq(sv.v[3], "o/p-r");
	ks_strv_free(&sv);
}
END_TEST

static bool
deny_substring(void *ctx, const char *path)
{
	return strstr(path, ctx) != NULL;
}

START_TEST(filter_hides_entries_and_prunes_them)
{
	struct ks_path_filter f = { .denied = deny_substring, .ctx = "/src" };
	struct ks_err err = { 0 };
	char *got, *want;

	got = expand("@", "**/*.c", &f, &err);
	want = subst("@/a.c\n@/b.c\n@/ln_dir/.cache/tmp.c\n@/ln_dir/main.c");
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* A denied directory is not entered, even when a name inside is
	 * allowed; a literal file below it is still hidden. */
	f.ctx = "/deep";
	got = expand("@", "**/f", &f, &err);
	ck_assert_str_eq(got, "");
	free(got);
	got = expand("@", "deep/er/est/f", &f, &err);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

START_TEST(symlink_loop_terminates)
{
	char *got, *want;
	struct ks_err err = { 0 };

	/* The crate never ends here: "lp/lp/lp/..." and "d/up/d/up/...". */
	ck_assert(symlink(".", "lp") == 0);
	ck_assert(symlink("..", "deep/up") == 0);
	got = expand("@", "**/f", NULL, &err);
	want = subst("@/deep/er/est/f");
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* The looping link is a directory, found but not entered again. */
	got = expand("@", "**/lp", NULL, &err);
	want = subst("@/lp");
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* Above where the `**` began, a loop goes round once. */
	got = expand("@", "deep/**", NULL, &err);
	want = subst("@/deep/er\n@/deep/er/est\n@/deep/up\n@/deep/up/deep\n"
	    "@/deep/up/emptydir\n@/deep/up/ln_dir\n@/deep/up/ln_dir/.cache\n"
	    "@/deep/up/lp\n@/deep/up/o\n@/deep/up/o/p\n@/deep/up/src\n"
	    "@/deep/up/src/.cache");
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

static char *
expand_all(void *arg)
{
	struct ks_err err = { 0 };

	(void)arg;
	return expand("@", "**", NULL, &err);
}

/* Root reads every directory: the expansion runs as uid 65534. */
START_TEST(unreadable_directory_is_left_out)
{
	char *got, *want;

	ck_assert(chmod(tree, 0755) == 0);
	ck_assert(chmod("deep/er", 0) == 0);
	got = ks_as_nobody(expand_all, NULL);
	ck_assert(chmod("deep/er", 0755) == 0);
	want = subst("@/deep\n@/deep/er\n@/emptydir\n@/ln_dir\n"
	    "@/ln_dir/.cache\n@/o\n@/o/p\n@/src\n@/src/.cache");
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

Suite *
glob_suite(void)
{
	Suite *s = suite_create("glob");
	TCase *tc;

	tc = tcase_create("pattern");
	tcase_add_loop_test(tc, pattern_matches_as_the_crate, 0,
	    NELEM(match_cases));
	tcase_add_loop_test(tc, bad_pattern_gets_the_crate_message, 0,
	    NELEM(bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("expand");
	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_loop_test(tc, expansion_matches_the_crate, 0,
	    NELEM(expand_cases));
	tcase_add_test(tc, error_position_counts_the_root);
	tcase_add_test(tc, results_are_appended_sorted_as_rust_paths);
	tcase_add_test(tc, filter_hides_entries_and_prunes_them);
	tcase_add_test(tc, symlink_loop_terminates);
	tcase_add_test(tc, unreadable_directory_is_left_out);
	suite_add_tcase(s, tc);
	return s;
}
