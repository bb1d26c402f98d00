/*
 * check_ignore: which entries a walk passes over, against what the
 * reference's walker (ignore 0.4.18's Walk::new) yields for the same
 * trees, recorded case by case: git rules only in a work tree, the
 * precedence of the files, parents of the root, the global excludes
 * file, hidden names and the crate's quirks.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignore/ignore.h"
#include "testlib.h"
#include "walk.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct ign_case {
	const char *name;
	const char *root;		/* below the tree */
	const char *files[8];		/* "path=content", "dir/", "l=LINK:t" */
	const char *home[3];		/* ~/.gitconfig, ~/gi, git/ignore */
	const char *expect;		/* walked, sorted, a line each */
};

/* Recorded from the reference (ignore::Walk over the same trees). */
static const struct ign_case cases[] = {
	{ "gitignore_needs_a_work_tree", ".",
	    { ".gitignore=*.log\n", "a.log=", "b.txt=" },
	    { NULL, NULL, NULL },
	    "a.log\nb.txt\n" },
	{ "gitignore_inside_a_work_tree", ".",
	    { ".git/", ".gitignore=*.log\n", "a.log=", "b.txt=" },
	    { NULL, NULL, NULL },
	    "b.txt\n" },
	{ "ignore_file_without_git", ".",
	    { ".ignore=*.log\n", "a.log=", "b.txt=" },
	    { NULL, NULL, NULL },
	    "b.txt\n" },
	{ "negation_reincludes", ".",
	    { ".ignore=*.log\n!keep.log\n", "a.log=", "keep.log=" },
	    { NULL, NULL, NULL },
	    "keep.log\n" },
	{ "dir_only_rule", ".",
	    { ".ignore=build/\n", "build/x.c=", "sub/build=" },
	    { NULL, NULL, NULL },
	    "sub\nsub/build\n" },
	{ "anchored_rule", ".",
	    { ".ignore=/top.txt\n", "top.txt=", "sub/top.txt=" },
	    { NULL, NULL, NULL },
	    "sub\nsub/top.txt\n" },
	{ "hidden_skipped", ".",
	    { ".env=", ".dir/x=", "v.txt=", ".foo.=", "...=" },
	    { NULL, NULL, NULL },
	    "...\n.foo.\nv.txt\n" },
	{ "hidden_whitelisted", ".",
	    { ".ignore=!.env\n", ".env=", ".other=" },
	    { NULL, NULL, NULL },
	    ".env\n" },
	{ "info_exclude", ".",
	    { ".git/info/exclude=*.tmp\n", "a.tmp=", "b=" },
	    { NULL, NULL, NULL },
	    "b\n" },
	{ "parent_gitignore", "sub",
	    { ".git/", ".gitignore=*.c\n", "sub/x.c=", "sub/y.h=" },
	    { NULL, NULL, NULL },
	    "sub/y.h\n" },
	{ "parent_ignore_without_git", "sub",
	    { ".ignore=*.c\n", "sub/x.c=", "sub/y.h=" },
	    { NULL, NULL, NULL },
	    "sub/y.h\n" },
	{ "nested_repo_stops_outer_gitignore", ".",
	    { ".git/", ".gitignore=*.c\n", "in/.git/", "in/x.c=", "out.c=",
	      "in/y.h=" },
	    { NULL, NULL, NULL },
	    "in\nin/x.c\nin/y.h\n" },
	{ "inner_gitignore_wins", ".",
	    { ".ignore=*.c\n", "sub/.ignore=!keep.c\n", "sub/keep.c=",
	      "sub/drop.c=" },
	    { NULL, NULL, NULL },
	    "sub\nsub/keep.c\n" },
	{ "ignore_beats_gitignore", ".",
	    { ".git/", ".gitignore=!a.c\n", ".ignore=*.c\n", "a.c=", "b.h=" },
	    { NULL, NULL, NULL },
	    "b.h\n" },
	{ "crlf_and_comments", ".",
	    { ".ignore=# *.h\r\n*.c\r\n\\#x\r\n", "a.c=", "a.h=", "#x=" },
	    { NULL, NULL, NULL },
	    "a.h\n" },
	{ "trailing_space_kept_by_backslash", ".",
	    { ".ignore=a\\ \nb \n", "a =", "b=", "b =" },
	    { NULL, NULL, NULL },
	    "b \n" },
	{ "double_star", ".",
	    { ".ignore=**/deep/**\na/**/b\n", "deep/x=", "q/deep/y=", "a/b=",
	      "a/m/n/b=", "a/c=", "deep2=" },
	    { NULL, NULL, NULL },
	    "a\na/c\na/m\na/m/n\ndeep\ndeep2\nq\nq/deep\n" },
	{ "slash_inside_is_anchored", ".",
	    { ".ignore=docs/*.md\n", "docs/a.md=", "x/docs/a.md=",
	      "docs/sub/b.md=" },
	    { NULL, NULL, NULL },
	    "docs\ndocs/sub\ndocs/sub/b.md\nx\nx/docs\nx/docs/a.md\n" },
	{ "invalid_line_dropped", ".",
	    { ".ignore=[\n*.o\n{a,b\n", "a.o=", "[=", "{a,b=" },
	    { NULL, NULL, NULL },
	    "[\n{a,b\n" },
	{ "invalid_utf8_stops_the_file", ".",
	    { ".ignore=*.o\n\xff""\n*.p\n", "a.o=", "a.p=" },
	    { NULL, NULL, NULL },
	    "a.p\n" },
	{ "global_excludes_from_gitconfig", ".",
	    { ".git/", "a.c=", "b.h=", "main.c=" },
	    { "[core]\n\texcludesFile = ~/gi\n", "*.c\n!main.c\n", NULL },
	    "b.h\nmain.c\n" },
	{ "global_excludes_need_a_work_tree", ".",
	    { "a.c=", "b.h=" },
	    { "[core]\n\texcludesFile = ~/gi\n", "*.c\n", NULL },
	    "a.c\nb.h\n" },
	{ "xdg_ignore_default", ".",
	    { ".git/", "a.c=", "b.h=" },
	    { NULL, NULL, "*.h\n" },
	    "a.c\n" },
	{ "symlinks_listed_not_entered", ".",
	    { "real/x=", "ln=LINK:real", "lf=LINK:real/x" },
	    { NULL, NULL, NULL },
	    "lf\nln\nreal\nreal/x\n" },
	{ "gitfile_commondir_exclude", ".",
	    { ".git=gitdir: @/common/worktrees/w\n",
	      "common/worktrees/w/commondir=../..\n",
	      "common/info/exclude=*.x\n", "a.x=", "b.y=" },
	    { NULL, NULL, NULL },
	    "b.y\ncommon\ncommon/info\ncommon/info/exclude\ncommon/worktrees\n"
	    "common/worktrees/w\ncommon/worktrees/w/commondir\n" },
	{ "bang_alone_whitelists", ".",
	    { ".ignore=*\n!\n", "a=", ".h=" },
	    { NULL, NULL, NULL },
	    ".h\n.ignore\na\n" },
	{ "only_dir_does_not_match_symlink", ".",
	    { ".ignore=d/\n", "real/x=", "d=LINK:real" },
	    { NULL, NULL, NULL },
	    "d\nreal\nreal/x\n" },
};

/* The walk a grep makes, collecting the entries it does not skip. */
struct seen {
	struct ks_ignore *ig;
	size_t skip;			/* prefix of the paths: the tree */
	char **v;
	size_t n;
};

static int
on_entry(void *ctx, const struct ks_walk_ent *e)
{
	struct seen *s = ctx;

	if (ks_ignore_skip(s->ig, e->path, e->type == DT_DIR))
		return KS_WALK_SKIP;
	ck_assert((s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v))) != NULL);
	ck_assert((s->v[s->n++] = strdup(e->path + s->skip)) != NULL);
	return KS_WALK_NEXT;
}

static int
on_enter(void *ctx, int fd, const char *path)
{
	return ks_ignore_push(((struct seen *)ctx)->ig, fd, path);
}

static void
on_leave(void *ctx)
{
	ks_ignore_pop(((struct seen *)ctx)->ig);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The walk of root, as sorted lines relative to tree (caller frees). */
static char *
walk_lines(const char *tree, const char *root)
{
	struct seen s = { NULL, strlen(tree) + 1, NULL, 0 };
	struct ks_walk_ops ops = { on_entry, on_enter, on_leave, &s };
	size_t len = 1;
	char *out;
	int fd;

	ck_assert((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	ck_assert_int_eq(ks_ignore_open(root, &s.ig), 0);
	ck_assert_int_eq(ks_walk_run(fd, root, &ops), 0);
	close(fd);
	ks_ignore_free(s.ig);
	qsort(s.v, s.n, sizeof(*s.v), str_cmp);
	for (size_t i = 0; i < s.n; i++)
		len += strlen(s.v[i]) + 1;
	ck_assert((out = malloc(len)) != NULL);
	out[0] = '\0';
	for (size_t i = 0; i < s.n; i++) {
		strcat(strcat(out, s.v[i]), "\n");
		free(s.v[i]);
	}
	free(s.v);
	return out;
}

/* Makes one "path=content" (content "@" stands for the tree). */
static void
make(const char *tree, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char *path, *content, *at;

	if (eq == NULL) {			/* a directory */
		ks_putf("", "%s/%s.keep", tree, spec);
		return;
	}
	ck_assert(asprintf(&path, "%s/%.*s", tree, (int)(eq - spec), spec) > 0);
	if (strncmp(eq + 1, "LINK:", 5) == 0) {
		ck_assert(symlink(eq + 6, path) == 0);
	} else if ((at = strchr(eq + 1, '@')) != NULL) {
		ck_assert(asprintf(&content, "%.*s%s%s", (int)(at - eq - 1),
		    eq + 1, tree, at + 1) > 0);
		ks_put(path, content, strlen(content));
		free(content);
	} else
		ks_put(path, eq + 1, strlen(eq + 1));
	free(path);
}

static void
make_home(const char *home, const char *const spec[3])
{
	static const char *const names[] = { ".gitconfig", "gi",
		".config/git/ignore" };

	for (size_t i = 0; i < 3; i++)
		if (spec[i] != NULL)
			ks_putf(spec[i], "%s/%s", home, names[i]);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
}

START_TEST(walk_skips_what_the_reference_skips)
{
	const struct ign_case *c = &cases[_i];
	char *tree = ks_tmpdir(), *home = ks_tmpdir(), *root, *got;

	for (size_t i = 0; i < NELEM(c->files) && c->files[i]; i++)
		make(tree, c->files[i]);
	/* ".keep" files stand in for empty directories: drop them. */
	for (size_t i = 0; i < NELEM(c->files) && c->files[i]; i++)
		if (strchr(c->files[i], '=') == NULL) {
			char *k;

			ck_assert(asprintf(&k, "%s/%s.keep", tree,
			    c->files[i]) > 0);
			unlink(k);
			free(k);
		}
	make_home(home, c->home);
	if (strcmp(c->root, ".") == 0)
		ck_assert((root = strdup(tree)) != NULL);
	else
		ck_assert(asprintf(&root, "%s/%s", tree, c->root) > 0);
	got = walk_lines(tree, root);
	ck_assert_msg(strcmp(got, c->expect) == 0, "%s: walked\n%s\nwant\n%s",
	    c->name, got, c->expect);
	free(got);
	free(root);
	ks_rmtree(tree);
	ks_rmtree(home);
	free(tree);
	free(home);
}
END_TEST

Suite *
ignore_suite(void)
{
	Suite *s = suite_create("ignore");
	TCase *tc = tcase_create("reference");

	tcase_add_loop_test(tc, walk_skips_what_the_reference_skips, 0,
	    NELEM(cases));
	suite_add_tcase(s, tc);
	return s;
}
